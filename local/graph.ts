/**
 * Microsoft Graph over the local directory: exactly the calls the real azuread provider makes for the resources and
 * look-ups this program and bootstrap/ use (hashicorp/terraform-provider-azuread through go-azure-sdk's msgraph
 * clients, base `<microsoftGraphResourceId>/v1.0`), plus what a person or script does by hand for adoption and drift.
 *
 * | method | path | query | who calls it |
 * | --- | --- | --- | --- |
 * | POST | /v1.0/applications | | application_registration_resource.go Create |
 * | GET | /v1.0/applications/{id} | | every applications/*_resource.go Read, and before each sub-resource PATCH |
 * | PATCH | /v1.0/applications/{id} | | application_registration (Update), _identifier_uri, _app_role, _permission_scope, _api_access, _redirect_uris, _fallback_public_client (Create/Update/Delete), applications.go (disable roles/scopes first) |
 * | DELETE | /v1.0/applications/{id} | | application_registration_resource.go Delete (then GET until 404) |
 * | POST | /v1.0/applications/{id}/addPassword | | application_password_resource.go Create |
 * | POST | /v1.0/applications/{id}/removePassword | | application_password_resource.go Delete |
 * | POST | /v1.0/applications/{id}/federatedIdentityCredentials | | application_federated_identity_credential_resource.go Create |
 * | GET, PATCH, DELETE | /v1.0/applications/{id}/federatedIdentityCredentials/{credentialId} | | same file: Read, Update, Delete |
 * | GET | /v1.0/applications | $filter=appId eq '…', displayName eq '…', startswith(displayName,'…') | applications.go (by display name); adoption by hand |
 * | GET | /v1.0/applications(appId='…') | | adoption by hand |
 * | GET, POST, DELETE | /v1.0/applications/{id}/owners[/$ref, /{ownerId}/$ref] | | adoption by hand (make the deployer an owner) |
 * | GET | /v1.0/servicePrincipals | $filter=appId eq '…' | service_principal_resource.go Create (exists?); service_principal_data_source.go (azuread.getServicePrincipal by client id); clients/client.go when a token has no oid |
 * | GET | /v1.0/servicePrincipals | $filter=displayName eq '…' | service_principal_data_source.go by display name |
 * | POST | /v1.0/servicePrincipals | | service_principal_resource.go Create, `owners@odata.bind` naming the caller |
 * | GET | /v1.0/servicePrincipals/{id} | | service_principal_resource.go Read; app_role_assignment_resource.go and service_principal_delegated_permission_grant_resource.go Create (exists?) |
 * | GET | /beta/servicePrincipals/{id} | $select=samlMetadataUrl | service_principal_resource.go Read; service_principal_data_source.go |
 * | PATCH | /v1.0/servicePrincipals/{id} | | service_principal_resource.go Create (description, proves replication) and Update |
 * | DELETE | /v1.0/servicePrincipals/{id} | | service_principal_resource.go Delete |
 * | GET | /v1.0/servicePrincipals/{id}/owners | | service_principal_resource.go Read, Update |
 * | POST | /v1.0/servicePrincipals/{id}/owners/$ref | | service_principal_resource.go Create (owners over 20), Update |
 * | DELETE | /v1.0/servicePrincipals/{id}/owners/{ownerId}/$ref | | service_principal_resource.go Create (removes the caller unless `owners` lists it), Update |
 * | GET | /v1.0/servicePrincipals(appId='…') | | adoption by hand |
 * | POST | /v1.0/servicePrincipals/{id}/appRoleAssignedTo | | app_role_assignment_resource.go Create |
 * | GET, DELETE | /v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignmentId} | | app_role_assignment_resource.go Read, Delete |
 * | GET | /v1.0/servicePrincipals/{id}/appRoleAssignedTo, /appRoleAssignments | | adoption and drift by hand |
 * | POST | /v1.0/oauth2PermissionGrants | | service_principal_delegated_permission_grant_resource.go Create |
 * | GET, PATCH, DELETE | /v1.0/oauth2PermissionGrants/{id} | | same file: Read, Update, Delete |
 * | GET | /v1.0/oauth2PermissionGrants | $filter=clientId eq '…', resourceId eq '…' | adoption and drift by hand |
 * | GET, POST | /v1.0/users, /v1.0/users/{id or UPN} | $filter=userPrincipalName eq '…' | seeding users by hand |
 * | GET, POST | /v1.0/groups, /v1.0/groups/{id}, /v1.0/groups/{id}/members[/$ref] | $filter=displayName eq '…' | seeding groups by hand |
 * | GET, DELETE | /v1.0/directory/deletedItems/microsoft.graph.{application,servicePrincipal}, /v1.0/directory/deletedItems/{id} | | inspecting and purging soft deletes by hand |
 * | POST | /v1.0/directory/deletedItems/{id}/restore | | restoring by hand |
 *
 * azuread.getClientConfig makes no call: it reads the configured tenant and the token's `oid`.
 * Not modelled: paging (every list is one page), `$top`, `$count`, `$expand`, `$orderby`, and delegated (user)
 * callers' directory roles: a caller's permissions are its token's `roles` (and `scp`) only.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { BodyTooLarge, readBody, requestUrl, sendJson } from "./http";
import { type AppRole, type Directory, DirectoryError, referencedId, sameId } from "./directory";

/** The Microsoft Graph application permissions (app roles) the local tenant enforces, by their real ids. */
export const graphPermissions = {
  "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
  "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
  "Application.ReadWrite.OwnedBy": "18a4783c-866b-4cc7-a460-3d5e5662c884",
  "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
  "DelegatedPermissionGrant.ReadWrite.All": "8e8e4742-1d95-4f68-9d56-6ee75648c72a",
  "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
  "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
  "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
  "Group.ReadWrite.All": "62a82d76-70ea-41e2-9197-370581804d09",
  "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
  "User.ReadWrite.All": "741f803b-c850-494e-b5df-cde7c675a1ca",
} as const;

export type GraphPermission = keyof typeof graphPermissions;

/** Microsoft Graph's service principal's app roles, as every tenant holds them (for the permissions above). */
export function graphAppRoles(): AppRole[] {
  return Object.entries(graphPermissions).map(([value, id]) => ({
    id,
    allowedMemberTypes: ["Application"],
    description: value,
    displayName: value,
    isEnabled: true,
    origin: "Application",
    value,
  }));
}

/** Who calls Graph, from the verified bearer token. */
export interface GraphCaller {
  /** The caller's object id (`oid`): a service principal, or a user for delegated tokens. */
  objectId: string;
  /** Granted permissions: the token's `roles` (application permissions) and `scp` (delegated). */
  permissions: string[];
}

export type Authenticate = (request: IncomingMessage) => Promise<GraphCaller | { status: 401; message: string }>;

export interface GraphOptions {
  directory: Directory;
  authenticate: Authenticate;
  /** Graph's public base, e.g. `https://127.0.0.1:8443/graph` (the metadata's microsoftGraphResourceId). */
  baseUrl: string;
}

// Permissions per kind of access, from each Graph API reference page's permission table (least privileged first).
const readApplications: GraphPermission[] = [
  "Application.Read.All",
  "Application.ReadWrite.OwnedBy",
  "Application.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
];
/** Reading every application, not only those the caller owns: what OwnedBy cannot stand in for. */
const readAllApplications = readApplications.filter((permission) => permission !== "Application.ReadWrite.OwnedBy");
const readAssignments: GraphPermission[] = [...readApplications, "AppRoleAssignment.ReadWrite.All"];
const readGrants: GraphPermission[] = [
  "DelegatedPermissionGrant.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
];
const readUsers: GraphPermission[] = [
  "User.Read.All",
  "User.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
];
const readGroups: GraphPermission[] = [
  "Group.Read.All",
  "Group.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
];

type Route = {
  method: string;
  pattern: RegExp;
  handle: (context: RouteContext) => Promise<void> | void;
};

interface RouteContext {
  request: IncomingMessage;
  response: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  caller: GraphCaller;
  version: "v1.0" | "beta";
  body(): Promise<unknown>;
}

class GraphRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const forbidden = () =>
  new GraphRefusal(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");

/** A handler for everything under the Graph prefix: `/v1.0/...` and `/beta/...`. */
export function graphHandler(options: GraphOptions) {
  const { directory } = options;
  const context = (version: string) => `${options.baseUrl}/${version}/$metadata#`;

  const require = (caller: GraphCaller, anyOf: GraphPermission[]) => {
    if (!anyOf.some((permission) => caller.permissions.includes(permission))) throw forbidden();
  };
  /** Writes to an application or service principal: Application.ReadWrite.All, or OwnedBy on what the caller owns. */
  const requireWrite = (caller: GraphCaller, owners: () => string[]) => {
    if (caller.permissions.includes("Application.ReadWrite.All")) return;
    if (
      caller.permissions.includes("Application.ReadWrite.OwnedBy") &&
      owners().some((id) => sameId(id, caller.objectId))
    )
      return;
    throw forbidden();
  };
  const ownersOfApplication = (id: string) => () => directory.applicationOwners(id);
  const ownersOfServicePrincipal = (id: string) => () => directory.servicePrincipalOwners(id);

  const entity = (ctx: RouteContext, status: number, contextPath: string, value: object) =>
    sendJson(
      ctx.response,
      status,
      select({ "@odata.context": `${context(ctx.version)}${contextPath}`, ...value }, ctx.query),
    );
  const collection = (ctx: RouteContext, contextPath: string, values: object[]) =>
    sendJson(ctx.response, 200, {
      "@odata.context": `${context(ctx.version)}${contextPath}`,
      value: values.map((value) => select(value, ctx.query)),
    });
  const noContent = (ctx: RouteContext) => {
    ctx.response.writeHead(204);
    ctx.response.end();
  };
  const found = <T>(value: T | undefined, id: string): T => {
    if (value === undefined) {
      throw new DirectoryError(
        404,
        "Request_ResourceNotFound",
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    return value;
  };
  const directoryObjects = (ids: string[]) =>
    ids.flatMap((id) => {
      const object = directory.directoryObject(id);
      return object ? [{ "@odata.type": `#microsoft.graph.${object.type}`, ...(object.object as object) }] : [];
    });
  const refBody = async (ctx: RouteContext) => {
    const body = (await ctx.body()) as { "@odata.id"?: unknown };
    if (typeof body?.["@odata.id"] !== "string") {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        "The request body must name the object in '@odata.id'.",
        "@odata.id",
      );
    }
    return referencedId(body["@odata.id"]);
  };
  const applicationId = (ctx: RouteContext) => {
    const key = ctx.params.id ?? "";
    return key.startsWith("appId=") ? found(directory.applicationByAppId(unquote(key.slice(6))), key).id : key;
  };
  const servicePrincipalId = (ctx: RouteContext) => {
    const key = ctx.params.id ?? "";
    return key.startsWith("appId=") ? found(directory.servicePrincipalByAppId(unquote(key.slice(6))), key).id : key;
  };
  const beta = (ctx: RouteContext, value: object) =>
    ctx.version === "beta" ? { samlMetadataUrl: null, ...value } : value;

  // `/applications(appId='…')` arrives rewritten as `/applications/appId='…'` (see below).
  const id = "/(?<id>[^/]+)";
  /** GET owners, POST owners/$ref, DELETE owners/{id}/$ref: the same three calls on applications and principals. */
  const ownerRoutes = (kind: "application" | "servicePrincipal"): Route[] => {
    const keyOf = kind === "application" ? applicationId : servicePrincipalId;
    const ownersOf = (key: string) =>
      kind === "application" ? directory.applicationOwners(key) : directory.servicePrincipalOwners(key);
    const owners = `^/${kind}s${id}/owners`;
    return [
      {
        method: "GET",
        pattern: new RegExp(`${owners}$`),
        handle: (ctx) => {
          require(ctx.caller, readApplications);
          collection(ctx, "directoryObjects", directoryObjects(ownersOf(keyOf(ctx))));
        },
      },
      {
        method: "POST",
        pattern: new RegExp(`${owners}/\\$ref$`),
        handle: async (ctx) => {
          const key = keyOf(ctx);
          requireWrite(ctx.caller, () => ownersOf(key));
          directory.addOwner(kind, key, await refBody(ctx));
          noContent(ctx);
        },
      },
      {
        method: "DELETE",
        pattern: new RegExp(`${owners}/(?<owner>[^/]+)/\\$ref$`),
        handle: (ctx) => {
          const key = keyOf(ctx);
          requireWrite(ctx.caller, () => ownersOf(key));
          directory.removeOwner(kind, key, ctx.params.owner ?? "");
          noContent(ctx);
        },
      },
    ];
  };

  const routes: Route[] = [
    // ---- applications
    {
      method: "GET",
      pattern: /^\/applications$/,
      handle: (ctx) => {
        require(ctx.caller, readApplications);
        collection(ctx, "applications", filtered(directory.applications(), ctx.query, "application"));
      },
    },
    {
      method: "POST",
      pattern: /^\/applications$/,
      handle: async (ctx) => {
        require(ctx.caller, ["Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"]);
        // Graph makes an application-only caller an owner of what it creates; OwnedBy relies on it.
        const created = directory.createApplication(await ctx.body(), ctx.caller.objectId);
        entity(ctx, 201, "applications/$entity", created);
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^/applications${id}$`),
      handle: (ctx) => {
        require(ctx.caller, readApplications);
        const key = applicationId(ctx);
        entity(ctx, 200, "applications/$entity", beta(ctx, found(directory.application(key), key)));
      },
    },
    {
      method: "PATCH",
      pattern: new RegExp(`^/applications${id}$`),
      handle: async (ctx) => {
        const key = applicationId(ctx);
        requireWrite(ctx.caller, ownersOfApplication(key));
        directory.updateApplication(key, await ctx.body());
        noContent(ctx);
      },
    },
    {
      method: "DELETE",
      pattern: new RegExp(`^/applications${id}$`),
      handle: (ctx) => {
        const key = applicationId(ctx);
        requireWrite(ctx.caller, ownersOfApplication(key));
        directory.deleteApplication(key);
        noContent(ctx);
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/applications${id}/addPassword$`),
      handle: async (ctx) => {
        const key = applicationId(ctx);
        requireWrite(ctx.caller, ownersOfApplication(key));
        entity(ctx, 200, "microsoft.graph.passwordCredential", directory.addPassword(key, await ctx.body()));
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/applications${id}/removePassword$`),
      handle: async (ctx) => {
        const key = applicationId(ctx);
        requireWrite(ctx.caller, ownersOfApplication(key));
        directory.removePassword(key, await ctx.body());
        noContent(ctx);
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^/applications${id}/federatedIdentityCredentials$`),
      handle: (ctx) => {
        require(ctx.caller, readApplications);
        const key = applicationId(ctx);
        collection(
          ctx,
          `applications('${key}')/federatedIdentityCredentials`,
          directory.federatedIdentityCredentials(key),
        );
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/applications${id}/federatedIdentityCredentials$`),
      handle: async (ctx) => {
        const key = applicationId(ctx);
        requireWrite(ctx.caller, ownersOfApplication(key));
        const created = directory.createFederatedIdentityCredential(key, await ctx.body());
        entity(ctx, 201, `applications('${key}')/federatedIdentityCredentials/$entity`, created);
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^/applications${id}/federatedIdentityCredentials/(?<credential>[^/]+)$`),
      handle: (ctx) => {
        require(ctx.caller, readApplications);
        const key = applicationId(ctx);
        const credentialId = ctx.params.credential ?? "";
        const credential = directory
          .federatedIdentityCredentials(key)
          .find((candidate) => sameId(candidate.id, credentialId));
        entity(
          ctx,
          200,
          `applications('${key}')/federatedIdentityCredentials/$entity`,
          found(credential, credentialId),
        );
      },
    },
    {
      method: "PATCH",
      pattern: new RegExp(`^/applications${id}/federatedIdentityCredentials/(?<credential>[^/]+)$`),
      handle: async (ctx) => {
        const key = applicationId(ctx);
        requireWrite(ctx.caller, ownersOfApplication(key));
        directory.updateFederatedIdentityCredential(key, ctx.params.credential ?? "", await ctx.body());
        noContent(ctx);
      },
    },
    {
      method: "DELETE",
      pattern: new RegExp(`^/applications${id}/federatedIdentityCredentials/(?<credential>[^/]+)$`),
      handle: (ctx) => {
        const key = applicationId(ctx);
        requireWrite(ctx.caller, ownersOfApplication(key));
        directory.deleteFederatedIdentityCredential(key, ctx.params.credential ?? "");
        noContent(ctx);
      },
    },
    ...ownerRoutes("application"),
    // ---- service principals
    {
      method: "GET",
      pattern: /^\/servicePrincipals$/,
      handle: (ctx) => {
        require(ctx.caller, readApplications);
        collection(ctx, "servicePrincipals", filtered(directory.servicePrincipals(), ctx.query, "servicePrincipal"));
      },
    },
    {
      method: "POST",
      pattern: /^\/servicePrincipals$/,
      handle: async (ctx) => {
        require(ctx.caller, ["Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"]);
        entity(ctx, 201, "servicePrincipals/$entity", directory.createServicePrincipal(await ctx.body()));
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^/servicePrincipals${id}$`),
      handle: (ctx) => {
        require(ctx.caller, readApplications);
        const key = servicePrincipalId(ctx);
        entity(ctx, 200, "servicePrincipals/$entity", beta(ctx, found(directory.servicePrincipal(key), key)));
      },
    },
    {
      method: "PATCH",
      pattern: new RegExp(`^/servicePrincipals${id}$`),
      handle: async (ctx) => {
        const key = servicePrincipalId(ctx);
        requireWrite(ctx.caller, ownersOfServicePrincipal(key));
        directory.updateServicePrincipal(key, await ctx.body());
        noContent(ctx);
      },
    },
    {
      method: "DELETE",
      pattern: new RegExp(`^/servicePrincipals${id}$`),
      handle: (ctx) => {
        const key = servicePrincipalId(ctx);
        requireWrite(ctx.caller, ownersOfServicePrincipal(key));
        directory.deleteServicePrincipal(key);
        noContent(ctx);
      },
    },
    ...ownerRoutes("servicePrincipal"),
    // ---- app role assignments: Graph's least privileged pair is AppRoleAssignment.ReadWrite.All with
    // Application.Read.All ("Grant an appRoleAssignment for a service principal")
    {
      method: "GET",
      pattern: new RegExp(`^/servicePrincipals${id}/(?<relation>appRoleAssignedTo|appRoleAssignments)$`),
      handle: (ctx) => {
        require(ctx.caller, readAssignments);
        const key = servicePrincipalId(ctx);
        found(directory.servicePrincipal(key), key);
        const to = ctx.params.relation === "appRoleAssignedTo";
        const assignments = directory
          .appRoleAssignments()
          .filter((assignment) => sameId(to ? assignment.resourceId : assignment.principalId, key));
        collection(
          ctx,
          `servicePrincipals('${key}')/${ctx.params.relation}`,
          filtered(assignments, ctx.query, "appRoleAssignment"),
        );
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/servicePrincipals${id}/appRoleAssignedTo$`),
      handle: async (ctx) => {
        // Graph's pairs are AppRoleAssignment.ReadWrite.All with Application.Read.All or Directory.Read.All
        // (learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto, Permissions): OwnedBy is not in
        // them, and microsoftgraph/microsoft-graph-docs#12833 reports 403 without Application.Read.All.
        require(ctx.caller, ["AppRoleAssignment.ReadWrite.All"]);
        require(ctx.caller, readAllApplications);
        const key = servicePrincipalId(ctx);
        const created = directory.createAppRoleAssignment(key, await ctx.body());
        entity(ctx, 201, `servicePrincipals('${key}')/appRoleAssignedTo/$entity`, created);
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^/servicePrincipals${id}/appRoleAssignedTo/(?<assignment>[^/]+)$`),
      handle: (ctx) => {
        require(ctx.caller, readAssignments);
        const key = servicePrincipalId(ctx);
        const assignmentId = ctx.params.assignment ?? "";
        const assignment = directory
          .appRoleAssignments()
          .find((candidate) => sameId(candidate.resourceId, key) && candidate.id === assignmentId);
        entity(ctx, 200, `servicePrincipals('${key}')/appRoleAssignedTo/$entity`, found(assignment, assignmentId));
      },
    },
    {
      method: "DELETE",
      pattern: new RegExp(`^/servicePrincipals${id}/appRoleAssignedTo/(?<assignment>[^/]+)$`),
      handle: (ctx) => {
        require(ctx.caller, ["AppRoleAssignment.ReadWrite.All"]);
        directory.deleteAppRoleAssignment(servicePrincipalId(ctx), ctx.params.assignment ?? "");
        noContent(ctx);
      },
    },
    // ---- delegated permission grants (admin consent for users)
    {
      method: "GET",
      pattern: /^\/oauth2PermissionGrants$/,
      handle: (ctx) => {
        require(ctx.caller, readGrants);
        collection(
          ctx,
          "oauth2PermissionGrants",
          filtered(directory.oauth2PermissionGrants(), ctx.query, "oAuth2PermissionGrant"),
        );
      },
    },
    {
      method: "POST",
      pattern: /^\/oauth2PermissionGrants$/,
      handle: async (ctx) => {
        require(ctx.caller, ["DelegatedPermissionGrant.ReadWrite.All"]);
        entity(ctx, 201, "oauth2PermissionGrants/$entity", directory.createOAuth2PermissionGrant(await ctx.body()));
      },
    },
    {
      method: "GET",
      pattern: /^\/oauth2PermissionGrants\/(?<id>[^/]+)$/,
      handle: (ctx) => {
        require(ctx.caller, readGrants);
        const grantId = ctx.params.id ?? "";
        const grant = directory.oauth2PermissionGrants().find((candidate) => candidate.id === grantId);
        entity(ctx, 200, "oauth2PermissionGrants/$entity", found(grant, grantId));
      },
    },
    {
      method: "PATCH",
      pattern: /^\/oauth2PermissionGrants\/(?<id>[^/]+)$/,
      handle: async (ctx) => {
        require(ctx.caller, ["DelegatedPermissionGrant.ReadWrite.All"]);
        directory.updateOAuth2PermissionGrant(ctx.params.id ?? "", await ctx.body());
        noContent(ctx);
      },
    },
    {
      method: "DELETE",
      pattern: /^\/oauth2PermissionGrants\/(?<id>[^/]+)$/,
      handle: (ctx) => {
        require(ctx.caller, ["DelegatedPermissionGrant.ReadWrite.All"]);
        directory.deleteOAuth2PermissionGrant(ctx.params.id ?? "");
        noContent(ctx);
      },
    },
    // ---- users and groups
    {
      method: "GET",
      pattern: /^\/users$/,
      handle: (ctx) => {
        require(ctx.caller, readUsers);
        collection(ctx, "users", filtered(directory.users(), ctx.query, "user"));
      },
    },
    {
      method: "POST",
      pattern: /^\/users$/,
      handle: async (ctx) => {
        require(ctx.caller, ["User.ReadWrite.All", "Directory.ReadWrite.All"]);
        entity(ctx, 201, "users/$entity", directory.createUser(await ctx.body()));
      },
    },
    {
      method: "GET",
      pattern: /^\/users\/(?<id>[^/]+)$/,
      handle: (ctx) => {
        require(ctx.caller, readUsers);
        const key = decodeURIComponent(ctx.params.id ?? "");
        entity(ctx, 200, "users/$entity", found(directory.user(key), key));
      },
    },
    {
      method: "GET",
      pattern: /^\/groups$/,
      handle: (ctx) => {
        require(ctx.caller, readGroups);
        collection(ctx, "groups", filtered(directory.groups(), ctx.query, "group"));
      },
    },
    {
      method: "POST",
      pattern: /^\/groups$/,
      handle: async (ctx) => {
        require(ctx.caller, ["Group.ReadWrite.All", "Directory.ReadWrite.All"]);
        entity(ctx, 201, "groups/$entity", directory.createGroup(await ctx.body()));
      },
    },
    {
      method: "GET",
      pattern: /^\/groups\/(?<id>[^/]+)$/,
      handle: (ctx) => {
        require(ctx.caller, readGroups);
        const key = ctx.params.id ?? "";
        entity(ctx, 200, "groups/$entity", found(directory.group(key), key));
      },
    },
    {
      method: "GET",
      pattern: /^\/groups\/(?<id>[^/]+)\/members$/,
      handle: (ctx) => {
        require(ctx.caller, readGroups);
        collection(ctx, "directoryObjects", directoryObjects(directory.groupMembers(ctx.params.id ?? "")));
      },
    },
    {
      method: "POST",
      pattern: /^\/groups\/(?<id>[^/]+)\/members\/\$ref$/,
      handle: async (ctx) => {
        require(ctx.caller, ["Group.ReadWrite.All", "Directory.ReadWrite.All"]);
        directory.addGroupMember(ctx.params.id ?? "", await refBody(ctx));
        noContent(ctx);
      },
    },
    // ---- soft-deleted applications and service principals
    {
      method: "GET",
      pattern: /^\/directory\/deletedItems\/microsoft\.graph\.(?<kind>application|servicePrincipal)$/,
      handle: (ctx) => {
        require(ctx.caller, readApplications);
        const kind = ctx.params.kind as "application" | "servicePrincipal";
        collection(ctx, `${kind}s`, directory.deletedItems(kind) as object[]);
      },
    },
    {
      method: "GET",
      pattern: /^\/directory\/deletedItems\/(?<id>[^/]+)$/,
      handle: (ctx) => {
        require(ctx.caller, readApplications);
        const key = ctx.params.id ?? "";
        const item = [...directory.deletedItems("application"), ...directory.deletedItems("servicePrincipal")].find(
          (candidate) => sameId((candidate as { id: string }).id, key),
        );
        entity(ctx, 200, "directoryObjects/$entity", found(item as object | undefined, key));
      },
    },
    {
      method: "POST",
      pattern: /^\/directory\/deletedItems\/(?<id>[^/]+)\/restore$/,
      handle: (ctx) => {
        require(ctx.caller, ["Application.ReadWrite.All"]);
        entity(ctx, 200, "directoryObjects/$entity", directory.restoreDeletedItem(ctx.params.id ?? "") as object);
      },
    },
    {
      method: "DELETE",
      pattern: /^\/directory\/deletedItems\/(?<id>[^/]+)$/,
      handle: (ctx) => {
        require(ctx.caller, ["Application.ReadWrite.All"]);
        directory.purgeDeletedItem(ctx.params.id ?? "");
        noContent(ctx);
      },
    },
  ];

  return async (request: IncomingMessage, response: ServerResponse, path: string): Promise<void> => {
    const url = requestUrl(request);
    const [, version, ...rest] = path.split("/");
    const resourcePath = `/${rest.join("/")}`
      .replace(/%27/gi, "'")
      .replace(/%28/gi, "(")
      .replace(/%29/gi, ")")
      .replace(/^\/(applications|servicePrincipals)\((appId='[^']*')\)/, "/$1/$2");
    const clientRequestId = request.headers["client-request-id"]?.toString() ?? randomUUID();
    try {
      if (version !== "v1.0" && version !== "beta") {
        throw new GraphRefusal(400, "BadRequest", `Invalid version: ${version ?? ""}`);
      }
      const route = routes.find(
        (candidate) => candidate.method === request.method && candidate.pattern.test(resourcePath),
      );
      if (!route) {
        const known = routes.some((candidate) => candidate.pattern.test(resourcePath));
        throw known
          ? new GraphRefusal(405, "Request_BadRequest", `Specified HTTP method is not allowed for the request uri.`)
          : new GraphRefusal(400, "BadRequest", `Resource not found for the segment '${rest[0] ?? ""}'.`);
      }
      const authenticated = await options.authenticate(request);
      if ("status" in authenticated) throw new GraphRefusal(401, "InvalidAuthenticationToken", authenticated.message);
      const params = Object.fromEntries(
        Object.entries(route.pattern.exec(resourcePath)?.groups ?? {}).map(([key, value]) => [
          key,
          decodeURIComponent(value),
        ]),
      );
      await route.handle({
        request,
        response,
        params,
        query: url.searchParams,
        caller: authenticated,
        version,
        body: async () => {
          const text = (await readBody(request)).toString("utf8");
          try {
            return text === "" ? {} : JSON.parse(text);
          } catch {
            throw new GraphRefusal(
              400,
              "BadRequest",
              "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
            );
          }
        },
      });
    } catch (error) {
      if (response.headersSent) throw error;
      const failure =
        error instanceof GraphRefusal || error instanceof DirectoryError
          ? error
          : error instanceof BodyTooLarge
            ? new GraphRefusal(413, "Request_EntityTooLarge", "The request body is too large.")
            : error instanceof FilterError
              ? new GraphRefusal(400, "Request_UnsupportedQuery", error.message)
              : undefined;
      if (!failure) throw error;
      sendGraphError(response, failure, clientRequestId);
    }
  };
}

/** Graph's error body: `{ error: { code, message, [details], innerError: { date, request-id, client-request-id } } }`. */
export function sendGraphError(
  response: ServerResponse,
  failure: { status: number; code: string; message: string; target?: string; detailCode?: string },
  clientRequestId: string = randomUUID(),
): void {
  const requestId = randomUUID();
  sendJson(
    response,
    failure.status,
    {
      error: {
        code: failure.code,
        message: failure.message,
        ...(failure.target
          ? {
              details: [{ code: failure.detailCode ?? failure.code, message: failure.message, target: failure.target }],
            }
          : {}),
        innerError: {
          date: new Date().toISOString().slice(0, 19),
          "request-id": requestId,
          "client-request-id": clientRequestId,
        },
      },
    },
    { "request-id": requestId, "client-request-id": clientRequestId },
  );
}

// ---- $filter and $select -------------------------------------------------------------------------------------

class FilterError extends Error {}

const filterable: Record<string, string[]> = {
  application: ["appId", "displayName", "id"],
  servicePrincipal: ["appId", "displayName", "id"],
  appRoleAssignment: ["principalId", "resourceId", "appRoleId"],
  oAuth2PermissionGrant: ["clientId", "resourceId", "consentType", "principalId"],
  user: ["id", "displayName", "userPrincipalName"],
  group: ["id", "displayName", "securityEnabled"],
};

type Clause = { property: string; operator: "eq" | "startswith"; value: string | boolean | null };

/**
 * The `$filter` forms Graph clients use here: `p eq 'v'` (also `true`, `false`, `null`), `startswith(p,'v')`, joined
 * by `and`. Strings compare case-insensitively, as Graph's directory queries do.
 */
export function parseFilter(filter: string): Clause[] {
  const clauses: Clause[] = [];
  const literal = String.raw`'((?:[^']|'')*)'|(true|false|null)`;
  const comparison = new RegExp(String.raw`^\s*([A-Za-z]+)\s+eq\s+(?:${literal})\s*`);
  const startsWith = new RegExp(String.raw`^\s*startswith\(\s*([A-Za-z]+)\s*,\s*'((?:[^']|'')*)'\s*\)\s*`, "i");
  let rest = filter;
  for (;;) {
    const eq = comparison.exec(rest);
    const starts = eq ? null : startsWith.exec(rest);
    if (eq) {
      const raw = eq[2] !== undefined ? eq[2].replace(/''/g, "'") : eq[3] === "null" ? null : eq[3] === "true";
      clauses.push({ property: eq[1] as string, operator: "eq", value: raw });
      rest = rest.slice(eq[0].length);
    } else if (starts) {
      clauses.push({
        property: starts[1] as string,
        operator: "startswith",
        value: (starts[2] as string).replace(/''/g, "'"),
      });
      rest = rest.slice(starts[0].length);
    } else {
      throw new FilterError(
        `Invalid filter clause: the local tenant understands "property eq 'value'" and "startswith(property,'value')" joined by "and", not: ${rest}`,
      );
    }
    if (rest.trim() === "") return clauses;
    const and = /^and\s+/i.exec(rest);
    if (!and) throw new FilterError(`Invalid filter clause: expected "and" before: ${rest}`);
    rest = rest.slice(and[0].length);
  }
}

function filtered<T extends object>(items: T[], query: URLSearchParams, type: string): T[] {
  const filter = query.get("$filter");
  if (!filter) return items;
  const clauses = parseFilter(filter);
  for (const clause of clauses) {
    if (!(filterable[type] ?? []).includes(clause.property)) {
      throw new FilterError(
        `Unsupported or invalid query filter clause specified for property '${clause.property}' of resource '${type}'.`,
      );
    }
  }
  return items.filter((item) =>
    clauses.every(({ property, operator, value }) => {
      const actual = (item as Record<string, unknown>)[property];
      if (typeof actual === "string" && typeof value === "string") {
        return operator === "eq"
          ? actual.toLowerCase() === value.toLowerCase()
          : actual.toLowerCase().startsWith(value.toLowerCase());
      }
      return operator === "eq" && actual === value;
    }),
  );
}

/** `$select=a,b`: only those properties (and the OData annotations), as Graph answers. */
function select<T extends object>(value: T, query: URLSearchParams): object {
  const fields = query.get("$select");
  if (!fields) return value;
  const wanted = new Set(fields.split(",").map((field) => field.trim()));
  return Object.fromEntries(Object.entries(value).filter(([key]) => key.startsWith("@odata.") || wanted.has(key)));
}

function unquote(value: string): string {
  return value.replace(/^'|'$/g, "").replace(/''/g, "'");
}
