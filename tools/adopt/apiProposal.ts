import { freeRoleValue, freeScopeValue, identifierUriOf } from "../../config/adoption";
import { InputError } from "../cli";
import {
  entryFor,
  isLinked,
  kindOf,
  linkOf,
  ownershipLine,
  principalOf,
  sameId,
  slugOf,
  unused,
  where,
} from "./entries";
import type { GraphApplication, GraphAppRole, GraphPermissionScope } from "./graph";
import type { Observation, ObservedApp } from "./observe";
import type { EntryPlan, ProposalInput, WrittenEntry } from "./proposal";

const scopeLabel = (scope: GraphPermissionScope) =>
  `scope ${scope.value} (id ${scope.id}, ${scope.type === "Admin" ? "admins only" : "admins and users"}${scope.isEnabled ? "" : ", disabled"})`;
const roleLabel = (role: GraphAppRole) =>
  `app role ${role.value} (id ${role.id}, for ${role.allowedMemberTypes.join(" and ")}${role.isEnabled ? "" : ", disabled"})`;

/** What the client proposals need of an API's: its entry, and the role and scope it manages. */
export interface ApiDecision {
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

/**
 * An API's stack entry: the observed token version, the identifier URI, the role and scope it manages (with their ids
 * where they exist), who calls it, and the existing block; a new entry needs --backend-url.
 */
export function proposeApi(
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
