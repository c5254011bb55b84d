import { configKey } from "../../config/validate";
import type { GraphApplication } from "./graph";
import type { Observation, ObservedApp } from "./observe";
import type { ProposalInput } from "./proposal";

// Where adopt puts an app in the stack file, and what links the apps it reads: shared by the API and client proposals.

/** A display name as a catalogue name: lowercase letters, digits and single hyphens, starting with a letter. */
export function slugOf(displayName: string): string {
  const slug = displayName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const lettered = /^[a-z]/.test(slug) ? slug : `app-${slug}`;
  return lettered.slice(0, 32).replace(/-+$/, "") || "app";
}

export function unused(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base.slice(0, 32 - `-${n}`.length).replace(/-+$/, "")}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

export const sameId = (a: string | undefined | null, b: string | undefined | null) =>
  a !== undefined && a !== null && b !== undefined && b !== null && a.toLowerCase() === b.toLowerCase();

export const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];

/** The stack entry an app goes into: the one adopting it already, else one of its display name the program has not made. */
function targetOf(
  section: "apis" | "clients",
  app: GraphApplication,
  input: ProposalInput,
): { index?: number; why: string } {
  const entries = input.written[section];
  const adopting = entries.findIndex(
    (entry) => typeof entry.existing?.objectId === "string" && sameId(entry.existing.objectId, app.id),
  );
  if (adopting >= 0) return { index: adopting, why: "which adopts it already" };
  const named = entries.findIndex((entry) => !entry.existing && entry.displayName === app.displayName);
  if (named < 0) return { why: "no entry has its display name" };
  const made = input.nameSuffix ? `${app.displayName}-${input.nameSuffix}` : undefined;
  if (made && input.registeredNames.has(made)) {
    // Adopting into that entry would import the hand-made app where the program's own is: Pulumi would replace it.
    return {
      why: `${configKey([section, named])} has its display name, but the program's own registration "${made}" exists for it, so the stack is deployed and that entry keeps it`,
    };
  }
  return { index: named, why: "the entry of its display name" };
}

/** The entry an app goes into, as written when it exists, and its catalogue name (a new one is kept from `taken`). */
export function entryFor(
  section: "apis" | "clients",
  application: GraphApplication,
  input: ProposalInput,
  taken: Set<string>,
) {
  const target = targetOf(section, application, input);
  const written = target.index === undefined ? undefined : input.written[section][target.index];
  const name =
    typeof written?.name === "string"
      ? written.name
      : unused(slugOf(application.displayName ?? application.appId), taken);
  taken.add(name);
  return { target, written, name };
}

/** Where an entry goes, and why there: `apim-entra-auth:apis[0] (orders), the entry of its display name`. */
export function where(
  section: "apis" | "clients",
  target: { index?: number; why: string },
  name: string,
  count: number,
): string {
  const key = `${configKey([section, target.index ?? count])} (${name})`;
  return target.index === undefined ? `${key}, a new entry: ${target.why}` : `${key}, ${target.why}`;
}

/** The API's service principal as the existing block records it. */
export const principalOf = (app: ObservedApp) =>
  app.servicePrincipal
    ? {
        servicePrincipal: {
          objectId: app.servicePrincipal.id,
          ...(app.servicePrincipalOwners.length > 0 ? { owners: app.servicePrincipalOwners } : {}),
        },
      }
    : {};

export function ownershipLine(app: ObservedApp, signedInAs: string): string[] {
  if (app.applicationOwners.some((owner) => sameId(owner, signedInAs))) return [];
  return [
    `adopt signed in as ${signedInAs}, which does not own this app registration: a deployer with Application.ReadWrite.OwnedBy may update only what it owns (403 otherwise), so make the deployer an owner first: az ad app owner add --id ${app.application.appId} --owner-object-id <deployer object id>`,
  ];
}

/** What links a client to an API in the tenant: its permission list entry, app role assignments, delegated consent. */
export function linkOf(client: ObservedApp, api: ObservedApp, observation: Observation) {
  const clientPrincipal = client.servicePrincipal?.id;
  const apiPrincipal = api.servicePrincipal?.id;
  const between = (principal: string, resource: string) =>
    sameId(principal, clientPrincipal) && sameId(resource, apiPrincipal);
  return {
    listed: (client.application.requiredResourceAccess ?? []).find((entry) =>
      sameId(entry.resourceAppId, api.application.appId),
    ),
    assignments: observation.assignments.filter((assignment) => between(assignment.principalId, assignment.resourceId)),
    delegated: observation.delegatedGrants.find(
      (grant) => between(grant.clientId, grant.resourceId) && grant.consentType === "AllPrincipals",
    ),
  };
}

export const isLinked = (link: ReturnType<typeof linkOf>) =>
  link.listed !== undefined || link.assignments.length > 0 || link.delegated !== undefined;

export type Kind = "daemon" | "web" | "spa" | "native";

/** The client kind an app's platforms say: the first platform with redirect URIs, else a daemon. */
export function kindOf(application: GraphApplication): { kind: Kind; redirectUris: string[]; others: string[] } {
  const platforms: [Kind, string[] | undefined][] = [
    ["web", application.web?.redirectUris],
    ["spa", application.spa?.redirectUris],
    ["native", application.publicClient?.redirectUris],
  ];
  const used = platforms.filter(([, uris]) => (uris ?? []).length > 0);
  const [first] = used;
  return first
    ? { kind: first[0], redirectUris: first[1] ?? [], others: used.slice(1).map(([kind]) => kind) }
    : { kind: "daemon", redirectUris: [], others: [] };
}
