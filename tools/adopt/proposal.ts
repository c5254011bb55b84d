import { freeRoleValue, freeScopeValue, identifierUriOf } from "../../config/adoption";
import { configKey } from "../../config/validate";
import { InputError } from "../cli";
import type { GraphApplication, GraphAppRole, GraphPermissionScope } from "./graph";
import type { Observation, ObservedApp } from "./observe";

/** A stack entry as written in the stack file: only what adopt reads of it. */
export interface WrittenEntry {
  name?: unknown;
  displayName?: unknown;
  path?: unknown;
  formerNames?: unknown;
  appRole?: unknown;
  scope?: unknown;
  tokenVersion?: unknown;
  kind?: unknown;
  apis?: unknown;
  credential?: unknown;
  secrets?: unknown;
  secretRotatedOn?: unknown;
  existing?: { objectId?: unknown };
}

/** One stack entry adopt writes: into an entry of the stack (`target`) or as a new one. */
export interface EntryPlan {
  section: "apis" | "clients";
  name: string;
  /** The index of the stack entry it merges into; undefined: a new entry, appended. */
  target?: number;
  /** The keys adopt sets; the other keys of an entry it merges into stay as written. */
  values: Record<string, unknown>;
  /** What adopt found and decided, one line each; a line starting with `! ` breaks a client unless acted on. */
  report: string[];
  /** `API My-APIM-API (client id …)`, and where it goes. */
  heading: string;
}

export interface ProposalInput {
  observation: Observation;
  /** The stack's entries as written. */
  written: { apis: WrittenEntry[]; clients: WrittenEntry[] };
  /** The suffix the program appends to the names of the registrations it makes (nameSuffix, else the stack name). */
  nameSuffix: string;
  /** Display names that exist in the tenant among the program's would-be names (`My-APIM-API-dev`). */
  registeredNames: ReadonlySet<string>;
  /** --path and --backend-url, in order, for the APIs that need a new entry. */
  newApis: { path?: string; backendUrl?: string }[];
  /** The day the program's own secret for an adopted client is issued. */
  today: string;
  /** The object id adopt signed in as (the token's `oid`). */
  signedInAs: string;
}

/** A display name as a catalogue name: lowercase letters, digits and single hyphens, starting with a letter. */
function slugOf(displayName: string): string {
  const slug = displayName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const lettered = /^[a-z]/.test(slug) ? slug : `app-${slug}`;
  return lettered.slice(0, 32).replace(/-+$/, "") || "app";
}

function unused(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base.slice(0, 32 - `-${n}`.length).replace(/-+$/, "")}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

const sameId = (a: string | undefined | null, b: string | undefined | null) =>
  a !== undefined && a !== null && b !== undefined && b !== null && a.toLowerCase() === b.toLowerCase();

const strings = (value: unknown): string[] =>
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
function entryFor(
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
function where(
  section: "apis" | "clients",
  target: { index?: number; why: string },
  name: string,
  count: number,
): string {
  const key = `${configKey([section, target.index ?? count])} (${name})`;
  return target.index === undefined ? `${key}, a new entry: ${target.why}` : `${key}, ${target.why}`;
}

/** The API's service principal as the existing block records it. */
const principalOf = (app: ObservedApp) =>
  app.servicePrincipal
    ? {
        servicePrincipal: {
          objectId: app.servicePrincipal.id,
          ...(app.servicePrincipalOwners.length > 0 ? { owners: app.servicePrincipalOwners } : {}),
        },
      }
    : {};

function ownershipLine(app: ObservedApp, signedInAs: string): string[] {
  if (app.applicationOwners.some((owner) => sameId(owner, signedInAs))) return [];
  return [
    `adopt signed in as ${signedInAs}, which does not own this app registration: a deployer with Application.ReadWrite.OwnedBy may update only what it owns (403 otherwise), so make the deployer an owner first: az ad app owner add --id ${app.application.appId} --owner-object-id <deployer object id>`,
  ];
}

const scopeLabel = (scope: GraphPermissionScope) =>
  `scope ${scope.value} (id ${scope.id}, ${scope.type === "Admin" ? "admins only" : "admins and users"}${scope.isEnabled ? "" : ", disabled"})`;
const roleLabel = (role: GraphAppRole) =>
  `app role ${role.value} (id ${role.id}, for ${role.allowedMemberTypes.join(" and ")}${role.isEnabled ? "" : ", disabled"})`;

interface ApiDecision {
  plan: EntryPlan;
  app: ObservedApp;
  roleId?: string;
  appRole: string;
  scope: string;
}

/** The token version an app issues (null is v1), and the line that says so. */
function tokenVersionOf(application: GraphApplication, written: WrittenEntry | undefined) {
  const version = application.api?.requestedAccessTokenVersion ?? null;
  const tokenVersion = version === 2 ? 2 : 1;
  const aud = tokenVersion === 1 ? identifierUriOf(application.appId) : application.appId;
  const changed =
    written?.tokenVersion !== undefined && written.tokenVersion !== tokenVersion
      ? ` (the stack file said ${String(written.tokenVersion)}, which would change every token's audience and issuer)`
      : "";
  const line = `token version: requestedAccessTokenVersion is ${version === null ? "null" : version}, so it issues v${tokenVersion} tokens (aud ${aud}); tokenVersion: ${tokenVersion} keeps them${changed}`;
  return { tokenVersion, line } as const;
}

/** The identifier URI the program keeps or adds, and the others, which stay: a `!` where v1 callers use one. */
function identifierUriLines(application: GraphApplication, tokenVersion: 1 | 2): { kept: boolean; lines: string[] } {
  const uri = identifierUriOf(application.appId);
  const uris = application.identifierUris ?? [];
  const others = uris
    .filter((each) => each !== uri)
    .map((other) =>
      tokenVersion === 1
        ? `! identifier URI ${other} stays on the app, unmanaged; a client that requests ${other}/.default gets tokens with aud ${other}, which the program's policy refuses: have it request ${uri}/.default`
        : `identifier URI ${other} stays on the app, unmanaged (v2 tokens carry the client id as aud whichever URI is requested)`,
    );
  const kept = uris.includes(uri);
  return {
    kept,
    lines: [kept ? `identifier URI ${uri}: kept` : `identifier URI ${uri}: added (the program's audience)`, ...others],
  };
}

/**
 * The role and scope the entry manages: the ones of its values when they exist, else the role most assigned and the
 * enabled admins-only scope; a value the program adds avoids every value the app has (Graph refuses duplicates), so a
 * role beside the guide's scope `access_as_app` becomes `access_as_application`.
 */
function roleAndScopeOf(app: ObservedApp, written: WrittenEntry | undefined, observation: Observation) {
  const { application } = app;
  const scopes = application.api?.oauth2PermissionScopes ?? [];
  const roles = application.appRoles ?? [];
  const values = [...scopes, ...roles].flatMap((each) => (each.value ? [each.value] : []));
  const taken = (value: string, also: string[] = []) =>
    [...values, ...also].some((each) => each.toLowerCase() === value.toLowerCase());
  const wantedRole = typeof written?.appRole === "string" ? written.appRole : "access_as_app";
  const wantedScope = typeof written?.scope === "string" ? written.scope : "access_as_user";
  const appRoles = roles.filter((role) => role.allowedMemberTypes.includes("Application") && role.value);
  const assigned = (role: GraphAppRole) =>
    observation.assignments.filter(
      (each) => sameId(each.resourceId, app.servicePrincipal?.id) && sameId(each.appRoleId, role.id),
    ).length;
  const role =
    appRoles.find((each) => each.value === wantedRole) ??
    [...appRoles].sort((a, b) => Number(b.isEnabled) - Number(a.isEnabled) || assigned(b) - assigned(a))[0];
  const candidates = scopes.filter((each) => each.value && each.value !== role?.value);
  const scope =
    candidates.find((each) => each.value === wantedScope) ??
    [...candidates].sort(
      (a, b) => Number(b.isEnabled) - Number(a.isEnabled) || Number(b.type === "Admin") - Number(a.type === "Admin"),
    )[0];
  const appRole = role?.value ?? (taken(wantedRole) ? freeRoleValue(values) : wantedRole);
  const scopeValue =
    scope?.value ?? (taken(wantedScope, [appRole]) ? freeScopeValue([...values, appRole]) : wantedScope);

  const lines = [
    scope
      ? `${scopeLabel(scope)}: kept with its id and managed (scope: ${scopeValue})`
      : `scope ${scopeValue}: added (admins only)`,
  ];
  if (role) lines.push(`${roleLabel(role)}: kept with its id and managed (appRole: ${appRole})`);
  else {
    lines.push(
      `app role ${appRole}: added, for applications; client-credentials tokens carry it in roles and the policy requires it`,
    );
    if (scope && scope.value?.toLowerCase() === wantedRole.toLowerCase()) {
      // The guide's mistake: its "application permission" is a scope, and scopes never reach an app-only token.
      lines.push(
        `the guide made ${scope.value} a scope, which a client-credentials token never carries; the role clients need cannot take the same value (an app's roles and scopes share one namespace: "It contains duplicate value"), so the scope keeps ${scope.value} for whoever uses it and the role is ${appRole}`,
      );
    }
  }
  for (const other of [...scopes, ...roles].filter((each) => each !== scope && each !== role)) {
    lines.push(`${"allowedMemberTypes" in other ? roleLabel(other) : scopeLabel(other)}: stays on the app, unmanaged`);
  }
  return { role, scope, appRole, scopeValue, lines };
}

/** The API's service principal: whether it requires assignment already, and assignments this adoption leaves alone. */
function principalLines(app: ObservedApp, observation: Observation): string[] {
  const principal = app.servicePrincipal;
  if (!principal) {
    return [
      "no service principal: the program creates it (no token could be issued for this API until now: AADSTS500011)",
    ];
  }
  const lines = [
    `service principal ${principal.id}: assignment required ${principal.appRoleAssignmentRequired ? "already" : "from now on (it was not)"}`,
  ];
  const others = observation.assignments.filter(
    (assignment) =>
      sameId(assignment.resourceId, principal.id) &&
      !observation.clients.some((client) => sameId(client.servicePrincipal?.id, assignment.principalId)),
  );
  if (others.length > 0) {
    const names = [...new Set(others.map((assignment) => assignment.principalDisplayName ?? assignment.principalId))];
    lines.push(
      `${others.length} app role assignment(s) to principals not adopted here (${names.join(", ")}): they stay as they are`,
    );
  }
  return lines;
}

/**
 * A listed client that signs users in and is linked to the API makes it an API users call; the users and groups
 * assigned to it stay assigned, as its assignedPrincipals.
 */
function usersOf(app: ObservedApp, observation: Observation): { values: Record<string, unknown>; lines: string[] } {
  const userClients = observation.clients.filter(
    (client) => kindOf(client.application).kind !== "daemon" && isLinked(linkOf(client, app, observation)),
  );
  if (userClients.length === 0) return { values: {}, lines: [] };
  const assignees = [
    ...new Set(
      observation.assignments
        .filter(
          (each) =>
            sameId(each.resourceId, app.servicePrincipal?.id) &&
            (each.principalType === "User" || each.principalType === "Group"),
        )
        .map((each) => each.principalId),
    ),
  ];
  const names = userClients.map((client) => client.application.displayName).join(", ");
  return {
    values: { callers: ["applications", "users"], ...(assignees.length > 0 ? { assignedPrincipals: assignees } : {}) },
    lines: [
      `callers: applications and users, since ${names} signs users in to it${assignees.length > 0 ? "; the users and groups assigned to it stay assigned (assignedPrincipals)" : "; nobody is assigned yet: list users or groups in assignedPrincipals"}`,
    ],
  };
}

function proposeApi(
  app: ObservedApp,
  input: ProposalInput,
  taken: { names: Set<string>; paths: Set<string> },
  fresh: { count: number },
): ApiDecision {
  const { application } = app;
  const { target, written, name } = entryFor("apis", application, input, taken.names);
  const { tokenVersion, line: versionLine } = tokenVersionOf(application, written);
  const uri = identifierUriLines(application, tokenVersion);
  const { role, scope, appRole, scopeValue, lines: permissionLines } = roleAndScopeOf(app, written, input.observation);
  const users = usersOf(app, input.observation);
  const report = [
    versionLine,
    ...uri.lines,
    ...permissionLines,
    ...principalLines(app, input.observation),
    ...ownershipLine(app, input.signedInAs),
    ...users.lines,
  ];

  const values: Record<string, unknown> = {};
  const newIndex = input.written.apis.length + fresh.count;
  if (!written) {
    const extra = input.newApis[fresh.count];
    fresh.count += 1;
    if (!extra?.backendUrl) {
      throw new InputError(
        `--api ${app.argument}: needs a new stack entry (${target.why}), and an API entry needs the backend APIM forwards to: give --backend-url <url> once per new API, in the order of --api (--path too, default ${slugOf(application.displayName ?? "")}).`,
      );
    }
    const path = unused(extra.path ?? name, taken.paths);
    taken.paths.add(path.toLowerCase());
    Object.assign(values, { name, displayName: application.displayName, path, backendUrl: extra.backendUrl });
  }
  Object.assign(values, {
    appRole,
    scope: scopeValue,
    tokenVersion,
    ...users.values,
    existing: {
      objectId: application.id,
      clientId: application.appId,
      ...principalOf(app),
      ...(uri.kept ? { identifierUri: identifierUriOf(application.appId) } : {}),
      ...(scope ? { scope: { id: scope.id, value: scope.value } } : {}),
      ...(role ? { appRole: { id: role.id, value: role.value } } : {}),
    },
  });
  return {
    app,
    appRole,
    scope: scopeValue,
    ...(role ? { roleId: role.id } : {}),
    plan: {
      section: "apis",
      name,
      ...(target.index === undefined ? {} : { target: target.index }),
      values,
      report,
      heading: `API ${application.displayName} (client id ${application.appId}, object id ${application.id}) → ${where("apis", target, name, newIndex)}`,
    },
  };
}

/** What links a client to an API in the tenant: its permission list entry, app role assignments, delegated consent. */
function linkOf(client: ObservedApp, api: ObservedApp, observation: Observation) {
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

const isLinked = (link: ReturnType<typeof linkOf>) =>
  link.listed !== undefined || link.assignments.length > 0 || link.delegated !== undefined;

type Kind = "daemon" | "web" | "spa" | "native";

/** The client kind an app's platforms say: the first platform with redirect URIs, else a daemon. */
function kindOf(application: GraphApplication): { kind: Kind; redirectUris: string[]; others: string[] } {
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

function proposeClient(
  client: ObservedApp,
  apis: ApiDecision[],
  input: ProposalInput,
  taken: Set<string>,
  fresh: { count: number },
): EntryPlan {
  const { application } = client;
  const { target, written, name } = entryFor("clients", application, input, taken);
  const report: string[] = [];
  const { kind, redirectUris, others } = kindOf(application);
  report.push(
    kind === "daemon"
      ? "kind: daemon (no redirect URIs: it calls with its own identity, client credentials)"
      : `kind: ${kind}, redirect URIs ${redirectUris.join(", ")}: kept`,
  );
  for (const other of others) report.push(`its ${other} redirect URIs stay on the app, unmanaged`);
  const version = application.api?.requestedAccessTokenVersion ?? null;
  if (version !== 2) {
    report.push(
      `requestedAccessTokenVersion ${version === null ? "null" : version} becomes 2, the provider's default: it decides only tokens issued for this app as an API, not the tokens it requests`,
    );
  }

  const secrets = application.passwordCredentials ?? [];
  for (const secret of secrets) {
    report.push(
      `secret "${secret.displayName ?? ""}" (key id ${secret.keyId}${secret.hint ? `, starts ${secret.hint}` : ""}, ends ${secret.endDateTime?.slice(0, 10) ?? "never"}): made in the portal; it keeps working and the program never manages or deletes it`,
    );
  }
  for (const certificate of application.keyCredentials ?? []) {
    report.push(`certificate ${certificate.displayName ?? certificate.keyId}: stays, unmanaged`);
  }
  const userFacing = kind !== "daemon";
  const keepsCredential = [written?.credential, written?.secrets, written?.secretRotatedOn].some(
    (key) => key !== undefined,
  );
  const newSecret = !keepsCredential && kind !== "spa" && kind !== "native";
  if (newSecret) {
    report.push(
      `the program adds its own secret, rotated ${input.today}, beside ${secrets.length > 0 ? "the portal's" : "none"}; once every caller uses it (pulumi stack output --show-secrets), delete the portal's in the portal or with az ad app credential delete --id ${application.appId} --key-id <key id>`,
    );
  }

  const granted = new Set(strings(written?.apis));
  const grants: Record<string, unknown>[] = [];
  for (const api of apis) {
    const { listed, assignments, delegated } = linkOf(client, api.app, input.observation);
    const managedAssignment =
      !userFacing && api.roleId
        ? assignments.find((assignment) => sameId(assignment.appRoleId, api.roleId))
        : undefined;
    const apiName = api.plan.name;
    if (!isLinked({ listed, assignments, delegated })) {
      if (!granted.has(apiName) && api.app.servicePrincipal && !api.app.servicePrincipal.appRoleAssignmentRequired) {
        report.push(
          `! has no permission or consent on ${apiName}, whose principal does not require assignment today, so it may be getting tokens for it: from now on it requires assignment and these token requests fail (AADSTS501051) unless ${apiName} is in this client's apis`,
        );
      }
      continue;
    }
    granted.add(apiName);
    const parts = [
      listed
        ? `its API permissions list ${apiName} (${listed.resourceAccess.map((access) => `${access.type} ${access.id}`).join(", ")}): the entry is kept and lists the program's ${userFacing ? "scope" : "app role"}`
        : `its API permissions do not list ${apiName}: the entry is added`,
      userFacing
        ? delegated
          ? `admin consent (delegated, scp "${delegated.scope}"): kept, for ${api.scope}`
          : `no admin consent for ${api.scope} yet: the program grants it`
        : managedAssignment
          ? `admin consent (app role assignment of ${api.appRole}): kept`
          : `no admin consent of ${api.appRole} yet: the program grants it (app role assignment)`,
    ];
    report.push(`grant of ${apiName}: ${parts.join("; ")}`);
    for (const assignment of assignments.filter((each) => each !== managedAssignment)) {
      report.push(`app role assignment of role ${assignment.appRoleId} on ${apiName}: stays, unmanaged`);
    }
    if (delegated && !userFacing) {
      report.push(
        `its delegated consent on ${apiName} (scp "${delegated.scope}") stays as it is, unmanaged: a client-credentials token never carries scp`,
      );
    }
    grants.push({
      api: apiName,
      ...(listed ? { permissionListed: true } : {}),
      ...(managedAssignment ? { appRoleAssignmentId: managedAssignment.id } : {}),
      ...(delegated && userFacing ? { delegatedPermissionGrantId: delegated.id } : {}),
    });
  }
  report.push(...ownershipLine(client, input.signedInAs));

  const values: Record<string, unknown> = {};
  const newIndex = input.written.clients.length + fresh.count;
  if (!written) {
    Object.assign(values, { name, displayName: application.displayName });
    fresh.count += 1;
  }
  Object.assign(values, {
    // daemon is the default: written only where the entry says otherwise.
    ...(userFacing || written?.kind !== undefined ? { kind } : {}),
    ...(userFacing ? { redirectUris } : {}),
    ...(newSecret ? { credential: "secret", secretRotatedOn: input.today } : {}),
    apis: [...granted],
    existing: {
      objectId: application.id,
      clientId: application.appId,
      ...principalOf(client),
      ...(userFacing && redirectUris.length > 0 ? { redirectUris } : {}),
      ...(grants.length > 0 ? { grants } : {}),
    },
  });
  return {
    section: "clients",
    name,
    ...(target.index === undefined ? {} : { target: target.index }),
    values,
    report,
    heading: `Client ${application.displayName} (client id ${application.appId}, object id ${application.id}) → ${where("clients", target, name, newIndex)}`,
  };
}

/** Names and paths in use by a section's entries, current and former. */
function namesOf(entries: WrittenEntry[]): Set<string> {
  return new Set(
    entries.flatMap((entry) =>
      [entry.name, ...strings(entry.formerNames)].filter((name): name is string => typeof name === "string"),
    ),
  );
}

/**
 * The stack entries that adopt the observed apps, with what was found and decided for each: observed token version,
 * identifier URI, role and scope (a role beside the guide's scope gets a value of its own), redirect URIs, the grants
 * between them and the `existing` blocks. Entries of the stack with the same display name are merged into, unless the
 * program's own registration for one exists (then the stack is deployed and a new entry is made).
 */
export function propose(input: ProposalInput): EntryPlan[] {
  const apiTaken = {
    names: namesOf(input.written.apis),
    paths: new Set(
      input.written.apis.flatMap((entry) => (typeof entry.path === "string" ? [entry.path.toLowerCase()] : [])),
    ),
  };
  const fresh = { count: 0 };
  const apis = input.observation.apis.map((app) => proposeApi(app, input, apiTaken, fresh));
  const clientNames = namesOf(input.written.clients);
  const freshClients = { count: 0 };
  const clients = input.observation.clients.map((client) =>
    proposeClient(client, apis, input, clientNames, freshClients),
  );
  const newApiCount = apis.filter((api) => api.plan.target === undefined).length;
  if (input.newApis.length > newApiCount) {
    throw new InputError(
      `--backend-url or --path is given ${input.newApis.length} times, but ${newApiCount} API(s) need a new stack entry; give one per new API, in the order of --api.`,
    );
  }
  return [...apis.map((api) => api.plan), ...clients];
}
