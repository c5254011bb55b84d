import { validate as isUuid } from "uuid";
import {
  finding,
  type GuardResource,
  type GuardRule,
  isAppRegistration,
  isUnknown,
  ResourceGraph,
  stringList,
  types,
} from "./model";

const dayMs = 24 * 60 * 60 * 1000;

/** Without assignment required, any app in the tenant gets a token for the API (without `roles`). */
export const apiServicePrincipalRequiresAssignment: GuardRule = {
  name: "api-sp-assignment-required",
  level: "mandatory",
  description: "An API's service principal requires app role assignment.",
  check(resources) {
    const graph = new ResourceGraph(resources);
    const apiApps = new Set(graph.apiApps());
    return graph
      .ofType(types.servicePrincipal)
      .filter((sp) => {
        const app = graph.appOf(sp);
        const assignedTo = graph.fedBy(sp, "resourceObjectId", types.appRoleAssignment).length > 0;
        return (app && apiApps.has(app)) || assignedTo;
      })
      .filter((sp) => !isUnknown(sp.inputs.appRoleAssignmentRequired) && sp.inputs.appRoleAssignmentRequired !== true)
      .map((sp) =>
        finding(
          this,
          sp,
          "set appRoleAssignmentRequired: true, or every app in the tenant can get a token for this API",
        ),
      );
  },
};

/** azuread's signInAudience defaults to AzureADMyOrg, so an absent value is single-tenant. */
export const singleTenantApps: GuardRule = {
  name: "single-tenant-app",
  level: "mandatory",
  description: "Every app registration is single-tenant (signInAudience AzureADMyOrg).",
  check(resources) {
    return resources
      .filter(isAppRegistration)
      .filter((app) => {
        const audience = app.inputs.signInAudience;
        return audience !== undefined && !isUnknown(audience) && audience !== "AzureADMyOrg";
      })
      .map((app) =>
        finding(
          this,
          app,
          `signInAudience is ${JSON.stringify(app.inputs.signInAudience)}; set AzureADMyOrg so only this tenant's identities get tokens`,
        ),
      );
  },
};

function passwordLifetimeProblem(password: GuardResource, maxDays: number): string | undefined {
  const { endDate, rotateWhenChanged } = password.inputs;
  // Under a preview a new password's start is only known once Entra creates it; the rotation day stands in.
  const startDate = isUnknown(password.inputs.startDate) ? undefined : password.inputs.startDate;
  if ([endDate, rotateWhenChanged].some(isUnknown)) return undefined;
  const rotatedOn = (rotateWhenChanged as Record<string, unknown> | undefined)?.rotatedOn;
  if (isUnknown(rotatedOn)) return undefined;
  if (typeof endDate !== "string") {
    return `no endDate: Entra picks one; set endDate to at most ${maxDays} days after the rotation day`;
  }
  const start = typeof startDate === "string" ? startDate : typeof rotatedOn === "string" ? rotatedOn : undefined;
  if (start === undefined) {
    return "no start: set rotateWhenChanged.rotatedOn (or startDate) so the lifetime can be checked";
  }
  const [startMs, endMs] = [Date.parse(start), Date.parse(endDate)];
  if (Number.isNaN(startMs) || Number.isNaN(endMs)) return `start ${start} or end ${endDate} is not a date`;
  const days = (endMs - startMs) / dayMs;
  if (days > maxDays) {
    return `lives ${days} days (${start} → ${endDate}); at most ${maxDays}: move endDate or lower secretLifetimeDays`;
  }
  if (days <= 0) return `ends (${endDate}) before it starts (${start})`;
  return undefined;
}

export const secretMaxLifetime: GuardRule = {
  name: "secret-max-lifetime",
  level: "mandatory",
  description: "A client password ends at most the configured maximum lifetime after its start.",
  reads: ["maxSecretLifetimeDays"],
  check(resources, options) {
    return resources
      .filter((resource) => resource.type === types.password)
      .flatMap((password) => {
        const problem = passwordLifetimeProblem(password, options.maxSecretLifetimeDays);
        return problem ? [finding(this, password, problem)] : [];
      });
  },
};

/** Inline redirect URIs of an app (azuread.Application's web, public client and SPA platforms). */
function inlineRedirectUris(app: GuardResource): string[] {
  return ["web", "publicClient", "singlePageApplication"].flatMap((platform) => {
    const settings = app.inputs[platform];
    return settings && typeof settings === "object"
      ? stringList((settings as Record<string, unknown>).redirectUris)
      : [];
  });
}

export const daemonWithoutRedirects: GuardRule = {
  name: "daemon-no-redirect-uris",
  level: "mandatory",
  description:
    "A daemon client (its service principal holds an app role assignment, it has no delegated permission) has no redirect URIs.",
  check(resources) {
    const graph = new ResourceGraph(resources);
    return graph.daemonApps().flatMap((app) => {
      const separate = graph.fedBy(app, "applicationId", types.redirectUris);
      const inline = inlineRedirectUris(app);
      if (separate.length === 0 && inline.length === 0) return [];
      const where = [...separate.map((uris) => `${uris.name}`), ...inline].join(", ");
      return [
        finding(
          this,
          app,
          `daemon client has redirect URIs (${where}); remove them: an app-only client never receives an authorization code, and a redirect URI lets it be used for user sign-in`,
        ),
      ];
    });
  },
};

/** Every id Entra keeps for a role or scope, with where it sits. */
function roleAndScopeIds(resource: GuardResource): [string, unknown][] {
  switch (resource.type) {
    case types.appRole:
      return [["roleId", resource.inputs.roleId]];
    case types.permissionScope:
      return [["scopeId", resource.inputs.scopeId]];
    case types.application: {
      const roles = Array.isArray(resource.inputs.appRoles) ? resource.inputs.appRoles : [];
      const api = (resource.inputs.api ?? {}) as Record<string, unknown>;
      const scopes = Array.isArray(api.oauth2PermissionScopes) ? api.oauth2PermissionScopes : [];
      return [
        ...roles.map((role, i): [string, unknown] => [`appRoles[${i}].id`, (role as Record<string, unknown>).id]),
        ...scopes.map((scope, i): [string, unknown] => [
          `api.oauth2PermissionScopes[${i}].id`,
          (scope as Record<string, unknown>).id,
        ]),
      ];
    }
    default:
      return [];
  }
}

export const roleAndScopeIdsAreUuids: GuardRule = {
  name: "role-and-scope-ids-are-uuids",
  level: "mandatory",
  description: "App role and scope ids are UUIDs.",
  check(resources) {
    return resources.flatMap((resource) =>
      roleAndScopeIds(resource)
        .filter(([, id]) => !isUnknown(id) && (typeof id !== "string" || !isUuid(id)))
        .map(([key, id]) =>
          finding(
            this,
            resource,
            `${key} ${JSON.stringify(id)} is not a UUID; Entra requires one — derive it deterministically (entra/stableIds.ts) so it never changes`,
          ),
        ),
    );
  },
};
