import type { DiffResource } from "./planDiff";

/** What a catalogue entry is to the callers: a client, an API, or the grant of one to the other. */
export type Role = "client" | "api" | "grant";

export interface Entry {
  role: Role;
  /** The entry's catalogue name (`reporting`, `orders`, `reporting--orders`). */
  name: string;
}

/** A client's grant on an API: the app role (a daemon's `roles`) or the delegated scope (a user's `scp`). */
export interface Grant {
  client: string;
  api: string;
  delegated: boolean;
}

const roleOfComponent: Record<string, Role> = {
  "apim-entra-auth:identity:ClientRegistration": "client",
  "apim-entra-auth:identity:ApiRegistration": "api",
  "apim-entra-auth:gateway:ProtectedApi": "api",
  "apim-entra-auth:identity:ApiAccessGrant": "grant",
  "apim-entra-auth:identity:DelegatedAccessGrant": "grant",
  "apim-entra-auth:identity:ManagedIdentityClient": "client",
  "apim-entra-auth:identity:ManagedIdentityGrant": "grant",
};

/** A managed identity's grant has no permission list: its component's name, `<client>--<api>`, says who is granted. */
const managedIdentityGrant = "apim-entra-auth:identity:ManagedIdentityGrant";
const grantParties = (name: string) => {
  const [client, api] = name.split("--");
  return { client, api };
};

const apiAccess = "azuread:index/applicationApiAccess:ApplicationApiAccess";

/** One side of a plan diff read back as the catalogue it was planned from: who owns what, and who is granted what. */
export interface PlanEntries {
  /** Every entry, once, in plan order. */
  entries: Entry[];
  /** The entry a resource belongs to: its own component's, or its nearest ancestor's. */
  entryOf(urn: string): Entry | undefined;
  /** The components of an entry (an API has two: its registration and its gateway half). */
  componentsOf(entry: Entry): DiffResource[];
  /** The resources that belong to an entry, components included, in plan order. */
  resourcesOf(entry: Entry): DiffResource[];
  /** The client and the API whose resources feed a resource's inputs (a grant's two sides). */
  partiesOf(resource: DiffResource): { client?: string; api?: string };
  /**
   * Every grant, read from the permission lists (ApplicationApiAccess) and the registrations feeding them; undefined
   * when the side was planned by a program that did not record which resources feed which inputs.
   */
  grants: Grant[] | undefined;
}

export function readPlanEntries(resources: DiffResource[]): PlanEntries {
  const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
  const entryOf = (urn: string): Entry | undefined => {
    for (let resource = byUrn.get(urn); resource; resource = resource.parent ? byUrn.get(resource.parent) : undefined) {
      const role = roleOfComponent[resource.type];
      if (role) return { role, name: resource.name };
    }
    return undefined;
  };
  const sameEntry = (entry: Entry) => (resource: DiffResource) => {
    const owner = entryOf(resource.urn);
    return owner?.role === entry.role && owner.name === entry.name;
  };
  const partiesOf = (resource: DiffResource) => {
    const owner = resource.parent ? byUrn.get(resource.parent) : undefined;
    // An existing managed identity's principal is a literal, fed by no resource: its grant's name names it.
    const parties: { client?: string; api?: string } =
      owner?.type === managedIdentityGrant ? grantParties(owner.name) : {};
    for (const urn of Object.values(resource.inputSources ?? {}).flat()) {
      const entry = entryOf(urn);
      if (entry?.role === "client") parties.client = entry.name;
      if (entry?.role === "api") parties.api = entry.name;
    }
    return parties;
  };
  const grants = [
    ...resources
      .filter((resource) => resource.type === apiAccess)
      .map((resource): Grant | undefined => {
        const { client, api } = partiesOf(resource);
        return client && api ? { client, api, delegated: "scopeIds" in resource.inputs } : undefined;
      }),
    ...resources
      .filter((resource) => resource.type === managedIdentityGrant)
      .map((resource): Grant => ({ ...(grantParties(resource.name) as Omit<Grant, "delegated">), delegated: false })),
  ];
  const entries = new Map<string, Entry>();
  for (const resource of resources) {
    const role = roleOfComponent[resource.type];
    if (role) entries.set(`${role}:${resource.name}`, { role, name: resource.name });
  }
  return {
    entries: [...entries.values()],
    entryOf,
    componentsOf: (entry) =>
      resources.filter((resource) => roleOfComponent[resource.type] && sameEntry(entry)(resource)),
    resourcesOf: (entry) => resources.filter(sameEntry(entry)),
    partiesOf,
    grants: grants.every((grant) => grant !== undefined) ? grants : undefined,
  };
}
