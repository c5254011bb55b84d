import type { CatalogueSettings as Settings } from "./schema";
import { configKey } from "./validate";

/** The first of `candidates` that none of `taken` uses (compared without case, as Graph does), else the last numbered. */
function freeValue(candidates: readonly string[], taken: readonly string[]): string {
  const used = new Set(taken.map((value) => value.toLowerCase()));
  const free = candidates.find((candidate) => !used.has(candidate.toLowerCase()));
  if (free) return free;
  const last = candidates[candidates.length - 1] as string;
  for (let n = 2; ; n++) if (!used.has(`${last}_${n}`)) return `${last}_${n}`;
}

/**
 * An app role value that none of `taken` (the app's scope and role values) uses: `access_as_app`, else
 * `access_as_application`, else the latter numbered. What `npm run adopt` proposes for an app whose scope took the
 * program's default role value (the guide's mistake), and what the refusal of such a config suggests.
 */
export const freeRoleValue = (taken: readonly string[]) => freeValue(["access_as_app", "access_as_application"], taken);

/** A scope value that none of `taken` uses: `access_as_user`, else numbered. */
export const freeScopeValue = (taken: readonly string[]) => freeValue(["access_as_user"], taken);

/** The identifier URI the program gives an API: the v1 audience its policy checks (entra/tokenProfile.ts). */
export const identifierUriOf = (clientId: string) => `api://${clientId}`;

type Kind = "application" | "clientId" | "servicePrincipal";

const kindNames: Record<Kind, string> = {
  application: "an app registration's object id",
  clientId: "an application (client) id",
  servicePrincipal: "a service principal's object id",
};

/** Every id an `existing` block names, with what it is and where: the ground for the same-object and wrong-kind checks. */
function adoptedIds(settings: Settings): { id: string; kind: Kind; key: string }[] {
  const sections = [
    ["apis", settings.apis],
    ["clients", settings.clients],
  ] as const;
  return sections.flatMap(([section, entries]) =>
    entries.flatMap((entry, index) => {
      const existing = entry.existing;
      if (!existing) return [];
      const key = (...path: string[]) => configKey([section, index, "existing", ...path]);
      return [
        { id: existing.objectId, kind: "application" as const, key: key("objectId") },
        { id: existing.clientId, kind: "clientId" as const, key: key("clientId") },
        ...(existing.servicePrincipal
          ? [
              {
                id: existing.servicePrincipal.objectId,
                kind: "servicePrincipal" as const,
                key: key("servicePrincipal", "objectId"),
              },
            ]
          : []),
      ];
    }),
  );
}

/** One object adopted twice, or one id given as two kinds of id (an object id where a client id belongs, …). */
function sameObjectProblems(settings: Settings): string[] {
  const seen = new Map<string, { kind: Kind; key: string }>();
  const problems: string[] = [];
  for (const { id, kind, key } of adoptedIds(settings)) {
    const first = seen.get(id.toLowerCase());
    if (!first) {
      seen.set(id.toLowerCase(), { kind, key });
      continue;
    }
    problems.push(
      first.kind === kind
        ? `${key}: "${id}" is already ${first.key}; two entries cannot adopt the same ${kindNames[kind].replace(/^an? /, "")}: keep one entry for it and remove the other's existing block.`
        : `${key}: "${id}" is ${kindNames[first.kind]} (${first.key}), and ${kindNames[kind]} is another id; copy each id from its own field (Graph, or the portal's Overview page).`,
    );
  }
  return problems;
}

/** The API entries' adoption problems: the identifier URI, and role and scope values that would collide. */
function apiProblems(settings: Settings): string[] {
  const problems: string[] = [];
  settings.apis.forEach((api, index) => {
    const existing = api.existing;
    if (!existing) return;
    const key = (...path: (string | number)[]) => configKey(["apis", index, ...path]);
    const uri = identifierUriOf(existing.clientId);
    if (existing.identifierUri !== undefined && existing.identifierUri !== uri) {
      problems.push(
        `${key("existing", "identifierUri")}: "${existing.identifierUri}" is not allowed; the program's identifier URI is ${uri} (the v1 audience its policy checks), so only that URI is adopted: remove the key, and the program adds ${uri} beside the app's other URIs, which stay as they are.`,
      );
    }
    if (existing.scope && existing.appRole && existing.scope.id.toLowerCase() === existing.appRole.id.toLowerCase()) {
      problems.push(
        `${key("existing", "appRole", "id")}: "${existing.appRole.id}" is also the id of ${key("existing", "scope")}; the program manages a role and a scope as two objects, so adopt one of them and leave the other out.`,
      );
    }
    const scopeValue = existing.scope?.value.toLowerCase();
    if (scopeValue !== undefined && api.appRole.toLowerCase() === scopeValue) {
      // The guide's mistake: its scope took access_as_app, the program's default role value.
      const suggestion = freeRoleValue([existing.scope?.value ?? "", api.scope]);
      problems.push(
        `${key("appRole")}: "${api.appRole}" is the value of the API's existing scope (${key("existing", "scope")}); an app's roles and scopes share one namespace, so Entra refuses the role ("It contains duplicate value"): keep the scope and its consents, and give the role another value: appRole: ${suggestion}.`,
      );
    }
    const roleValue = existing.appRole?.value.toLowerCase();
    if (roleValue !== undefined && api.scope.toLowerCase() === roleValue) {
      problems.push(
        `${key("scope")}: "${api.scope}" is the value of the API's existing app role (${key("existing", "appRole")}); an app's roles and scopes share one namespace, so Entra refuses the scope ("It contains duplicate value"): keep the role and its assignments, and give the scope another value (e.g. scope: access_as_user).`,
      );
    }
  });
  return problems;
}

/** The client entries' adoption problems: redirect URIs and existing grants that cannot be what the entry makes. */
function clientProblems(settings: Settings): string[] {
  const problems: string[] = [];
  const apis = new Map(settings.apis.map((api) => [api.name, api]));
  settings.clients.forEach((client, index) => {
    const existing = client.existing;
    if (!existing) return;
    const key = (...path: (string | number)[]) => configKey(["clients", index, ...path]);
    if (existing.redirectUris?.length && client.kind === "daemon") {
      problems.push(
        `${key("existing", "redirectUris")}: a daemon signs no user in, so the program manages no redirect URIs for it; remove the key (the URIs stay on the app, unmanaged) or set kind to web, spa or native.`,
      );
    }
    const grants = existing.grants ?? [];
    grants.forEach((grant, position) => {
      const at = (...path: string[]) => key("existing", "grants", position, ...path);
      if (grants.findIndex((other) => other.api === grant.api) !== position) {
        problems.push(`${at("api")}: "${grant.api}" is listed more than once.`);
        return;
      }
      if (!client.apis.includes(grant.api)) {
        problems.push(
          `${at("api")}: "${grant.api}" is not in ${key("apis")} (${client.apis.join(", ") || "none"}); an existing grant is adopted by the grant the entry makes: add "${grant.api}" to apis, or remove this entry.`,
        );
        return;
      }
      const api = apis.get(grant.api);
      if (!api?.existing) {
        problems.push(
          `${at("api")}: "${grant.api}" adopts no registration (it has no existing block), so no grant to it can exist yet: remove this entry.`,
        );
        return;
      }
      const bothPrincipals = existing.servicePrincipal && api.existing.servicePrincipal;
      if (grant.appRoleAssignmentId !== undefined) {
        if (client.kind !== "daemon") {
          problems.push(
            `${at("appRoleAssignmentId")}: a ${client.kind} client is granted the delegated scope, not the app role, so an app role assignment is not its grant: use delegatedPermissionGrantId, or remove the key (the assignment stays, unmanaged).`,
          );
        } else if (!api.existing.appRole) {
          problems.push(
            `${at("appRoleAssignmentId")}: the assignment can only be of an app role that exists, and "${grant.api}" adopts none (${configKey(["apis", settings.apis.indexOf(api), "existing", "appRole"])}): adopt the role it assigns, or remove the key.`,
          );
        } else if (!bothPrincipals) {
          problems.push(
            `${at("appRoleAssignmentId")}: an assignment is made between two service principals, and ${existing.servicePrincipal ? `"${grant.api}"` : "this client"} adopts none (existing.servicePrincipal): add it, or remove the key.`,
          );
        }
      }
      if (grant.delegatedPermissionGrantId !== undefined) {
        if (client.kind === "daemon") {
          problems.push(
            `${at("delegatedPermissionGrantId")}: a daemon is granted the app role, not the delegated scope, so its delegated grant is left as it is (a daemon's token never carries scp): remove the key.`,
          );
        } else if (!bothPrincipals) {
          problems.push(
            `${at("delegatedPermissionGrantId")}: a delegated grant is made between two service principals, and ${existing.servicePrincipal ? `"${grant.api}"` : "this client"} adopts none (existing.servicePrincipal): add it, or remove the key.`,
          );
        }
      }
    });
  });
  return problems;
}

/**
 * Cross-key rules of `apis[].existing` and `clients[].existing`, the registrations made by hand that entries adopt: one
 * object per entry and each id of its kind, as far as config alone can tell; the program's identifier URI; role and
 * scope values that Entra would refuse beside the adopted ones; grants that exist between adopted entries only.
 */
export function adoptionProblems(settings: Settings): string[] {
  return [...sameObjectProblems(settings), ...apiProblems(settings), ...clientProblems(settings)];
}

/** Whether the generic role-equals-scope check would only repeat, with the wrong fix, what adoption says. */
export const adoptionNamesCollision = (api: Settings["apis"][number]) =>
  api.existing?.scope?.value.toLowerCase() === api.appRole.toLowerCase() ||
  api.existing?.appRole?.value.toLowerCase() === api.scope.toLowerCase();
