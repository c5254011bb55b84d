import type { DiffResource } from "./planDiff";
import type { Entry, PlanEntries } from "./planEntries";

/** What the base side of a diff knows about its catalogue, and which of its entries the working tree keeps. */
export interface BreakageContext {
  base: PlanEntries;
  /** Whether a base entry is still in the working tree's plan (matched by URN or alias). */
  stays(entry: Entry): boolean;
  /** The working tree's side, for what it grants (the clients an update leaves working). */
  head?: PlanEntries;
}

type Verb = "deleted" | "replaced";

/** `a`, `a and b`, `a, b and c`, sorted. */
export function list(names: string[]): string {
  const sorted = [...new Set(names)].sort();
  return sorted.length <= 1 ? (sorted[0] ?? "") : `${sorted.slice(0, -1).join(", ")} and ${sorted.at(-1)}`;
}

/** The clients granted something, by name; `what` is what they are granted (`orders`, `orders' app role`). */
export function grantedClients(clients: string[] | undefined, what: string): string {
  if (clients === undefined) return `every client granted ${what}`;
  if (clients.length === 0) return `no client of this stack (none is granted ${what})`;
  return `${new Set(clients).size === 1 ? "client" : "clients"} ${list(clients)} (granted ${what})`;
}

const typeOf = {
  registration: "azuread:index/applicationRegistration:ApplicationRegistration",
  servicePrincipal: "azuread:index/servicePrincipal:ServicePrincipal",
  password: "azuread:index/applicationPassword:ApplicationPassword",
  federated: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
  identifierUri: "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri",
  appRole: "azuread:index/applicationAppRole:ApplicationAppRole",
  scope: "azuread:index/applicationPermissionScope:ApplicationPermissionScope",
  assignment: "azuread:index/appRoleAssignment:AppRoleAssignment",
  delegatedConsent: "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
  api: "azure-native:apimanagement:Api",
  managedIdentity: "azure-native:managedidentity:UserAssignedIdentity",
} as const;

/** A password's rotation day (`rotateWhenChanged.rotatedOn`); a program before two-slot rotation set none. */
const rotatedOn = (password: DiffResource): string | undefined => {
  const rotation = password.inputs.rotateWhenChanged as { rotatedOn?: unknown } | undefined;
  return typeof rotation?.rotatedOn === "string" ? rotation.rotatedOn : undefined;
};

/** The client's newest secret: the latest rotation day, else the latest end date. */
const newestOf = (passwords: DiffResource[]) => {
  const order = (password: DiffResource) => rotatedOn(password) ?? String(password.inputs.endDate ?? "");
  return passwords.reduce((a, b) => (order(b) > order(a) ? b : a));
};

/**
 * Who breaks when a base resource is deleted or replaced, and how, in one sentence; undefined when no caller does.
 * A client's resources break that client's callers (named with the APIs it is granted); an API's identity or APIM
 * API breaks every client granted the API (its role or scope: the clients granted that kind); a revoked grant or
 * user assignment breaks that client or principal. Grants are read from the base side: they are what callers hold.
 */
export function whoBreaks(resource: DiffResource, verb: Verb, context: BreakageContext): string | undefined {
  const { base, stays } = context;
  const entry = base.entryOf(resource.urn);
  if (!entry) return undefined;
  const grants = base.grants;
  if (entry.role === "client") {
    const apis = grants?.filter((grant) => grant.client === entry.name).map((grant) => grant.api);
    const callers = `breaks client ${entry.name}'s callers${apis === undefined ? "" : apis.length === 0 ? " (granted no API)" : ` (granted ${list(apis)})`}`;
    switch (resource.type) {
      case typeOf.registration:
        return `${callers}: its app registration is ${verb}, so their token requests fail (AADSTS700016)`;
      case typeOf.managedIdentity:
        return `${callers}: its managed identity is ${verb}, so the code running as it gets a new client id and principal, with no grant until it is granted again, or no token at all`;
      case typeOf.servicePrincipal:
        return `${callers}: its service principal is ${verb} with its admin consent, so they get no token until it is granted again`;
      case typeOf.password: {
        const passwords = base.resourcesOf(entry).filter((other) => other.type === typeOf.password);
        if (newestOf(passwords).urn !== resource.urn || !stays(entry)) return undefined;
        const day = rotatedOn(resource);
        return `${callers}: the secret in use (the newest${day ? `, rotated ${day}` : ""}) is ${verb}, so their token requests fail (AADSTS7000215) until they have the new clientSecret; rotate in two changes: add the new secret, then remove this one`;
      }
      case typeOf.federated: {
        // A replaced credential comes back with the same issuer and subject: only a delete leaves a workload out.
        if (verb !== "deleted" || !stays(entry)) return undefined;
        const { issuer, subject } = resource.inputs;
        return `${callers}: the federated credential for ${String(issuer)} subject ${String(subject)} is deleted, so that workload's token requests fail (AADSTS700211 or 700213)`;
      }
    }
    return undefined;
  }
  if (entry.role === "api") {
    const granted = grants?.filter((grant) => grant.api === entry.name);
    const clients = granted?.map((grant) => grant.client);
    const every = grantedClients(clients, entry.name);
    switch (resource.type) {
      case typeOf.registration:
        return `breaks ${every}: its app registration is ${verb}, so the audience and the scope api://<id>/.default change`;
      case typeOf.identifierUri:
        return `breaks ${every}: its identifier URI is ${verb}, so token requests for it get AADSTS500011`;
      case typeOf.servicePrincipal:
        return `breaks ${every}: its service principal is ${verb} with every admin consent, so they get no token until granted again`;
      case typeOf.api:
        return `breaks ${every}: its gateway URL stops answering while the API is ${verb}, and changes if its path does`;
      case typeOf.scope: {
        const users = granted?.filter((grant) => grant.delegated).map((grant) => grant.client);
        if (users?.length === 0) return undefined;
        return `breaks ${grantedClients(users, `the delegated scope of ${entry.name}`)}: the scope is ${verb}, so users' tokens lose it from scp`;
      }
      case typeOf.appRole: {
        if ((resource.inputs.allowedMemberTypes as unknown[] | undefined)?.includes("User")) {
          const assigned = base
            .resourcesOf(entry)
            .filter((other) => other.inputSources?.appRoleId?.includes(resource.urn));
          if (assigned.length === 0) return undefined;
          const whom = assigned.length === 1 ? "user or group" : "users or groups";
          return `breaks the ${assigned.length} ${whom} assigned to ${entry.name}: the role is ${verb} with its assignments, so their sign-in is refused (AADSTS50105)`;
        }
        const daemons = granted?.filter((grant) => !grant.delegated).map((grant) => grant.client);
        if (daemons?.length === 0) return undefined;
        return `breaks ${grantedClients(daemons, `the app role of ${entry.name}`)}: the role is ${verb} with its assignments, so tokens lose it from roles`;
      }
      case typeOf.assignment: {
        if (verb !== "deleted" || !stays(entry)) return undefined;
        const principal = String(resource.inputs.principalObjectId);
        return `breaks user or group ${principal}'s sign-in to ${entry.name}: the assignment is removed, so it is refused (AADSTS50105)`;
      }
    }
    return undefined;
  }
  // A grant's consent, revoked while its client and API stay.
  if (verb !== "deleted" || (resource.type !== typeOf.assignment && resource.type !== typeOf.delegatedConsent)) {
    return undefined;
  }
  const { client, api } = base.partiesOf(resource);
  if (!client || !api || !stays({ role: "client", name: client }) || !stays({ role: "api", name: api }))
    return undefined;
  return resource.type === typeOf.assignment
    ? `breaks client ${client}'s calls to ${api}: the grant is revoked, so its next token request for ${api} is refused (AADSTS501051)`
    : `breaks client ${client}'s calls to ${api}: the grant is revoked, so its users get no token for ${api} until it is granted again`;
}

/**
 * Who breaks when a base resource is updated in place, in one sentence; undefined when no caller does. An API's service
 * principal that starts requiring assignment refuses every app not assigned (adopting a registration made by hand
 * does this); a role or scope whose value changes leaves the tokens callers hold with the old value, which the policy
 * stops accepting at once.
 */
export function whoBreaksUpdate(
  before: DiffResource,
  after: DiffResource,
  keys: string[],
  context: BreakageContext,
): string | undefined {
  const entry = context.base.entryOf(before.urn);
  if (entry?.role !== "api") return undefined;
  const granted = context.base.grants?.filter((grant) => grant.api === entry.name);
  if (
    before.type === typeOf.servicePrincipal &&
    keys.includes("appRoleAssignmentRequired") &&
    before.inputs.appRoleAssignmentRequired !== true &&
    after.inputs.appRoleAssignmentRequired === true
  ) {
    const assigned = [
      ...new Set((context.head?.grants ?? []).filter((grant) => grant.api === entry.name).map((grant) => grant.client)),
    ];
    const kept =
      assigned.length === 0
        ? ""
        : `; ${assigned.length === 1 ? `client ${list(assigned)} is` : `clients ${list(assigned)} are`} assigned in the same update, and may be refused until its assignment exists`;
    return `breaks every app that gets tokens for ${entry.name} without being assigned to it: its service principal requires assignment from now on, so their token requests are refused (AADSTS501051)${kept}; first add every other app that calls ${entry.name} to this stack, granted (one made by hand: npm run adopt -- --client <its client id>)`;
  }
  if (!keys.includes("value") || (before.type !== typeOf.appRole && before.type !== typeOf.scope)) return undefined;
  const [from, to] = [before.inputs.value, after.inputs.value].map((value) => JSON.stringify(value));
  if (before.type === typeOf.scope) {
    const users = granted?.filter((grant) => grant.delegated).map((grant) => grant.client);
    if (users?.length === 0) return undefined;
    return `breaks ${grantedClients(users, `the delegated scope of ${entry.name}`)}: the scope's value changes from ${from} to ${to}, and the tokens their users hold carry ${from} in scp, which the gateway refuses, until they are issued again`;
  }
  if ((before.inputs.allowedMemberTypes as unknown[] | undefined)?.includes("User")) return undefined;
  const daemons = granted?.filter((grant) => !grant.delegated).map((grant) => grant.client);
  if (daemons?.length === 0) return undefined;
  return `breaks ${grantedClients(daemons, `the app role of ${entry.name}`)}: the role's value changes from ${from} to ${to}, and the tokens they hold carry ${from} in roles, which the gateway refuses, until they are issued again`;
}
