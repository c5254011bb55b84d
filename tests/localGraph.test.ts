// Microsoft Graph on the local tenant, called the way the azuread provider calls it (local/graph.ts names each call's
// source), with Entra's rules and the caller's permissions. What this cannot prove: that Entra answers with these
// exact words where the sources quoted in local/directory.ts are forum reports rather than Microsoft's reference.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphPermissions } from "../local/graph";
import { requestWithCa } from "../local/http";
import { type Answer, graphCaller, graphClient, startTestTenant, tenantToken } from "./support/localTenant";

const graphAppId = "00000003-0000-0000-c000-000000000000";
const deployerPermissions = [
  "Application.ReadWrite.OwnedBy",
  "AppRoleAssignment.ReadWrite.All",
  "Application.Read.All",
] as const;

/** Graph's 403, exactly: code, message, and the innerError's three keys. */
function expectInsufficientPrivileges(answer: Answer) {
  expect(answer.status).toBe(403);
  expect(answer.body).toEqual({
    error: {
      code: "Authorization_RequestDenied",
      message: "Insufficient privileges to complete the operation.",
      innerError: {
        date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
        "request-id": expect.stringMatching(/^[0-9a-f-]{36}$/),
        "client-request-id": expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    },
  });
}

const role = (id: string, value: string, allowedMemberTypes = ["Application"], isEnabled = true) => ({
  id,
  allowedMemberTypes,
  description: `${value} role`,
  displayName: value,
  isEnabled,
  value,
});
const scope = (id: string, value: string, isEnabled = true) => ({
  id,
  adminConsentDescription: `${value} scope`,
  adminConsentDisplayName: value,
  isEnabled,
  type: "Admin",
  value,
});

describe("the azuread provider's calls, as a deployer with bootstrap's permissions", () => {
  let local: Awaited<ReturnType<typeof startTestTenant>>;
  let deployer: ReturnType<typeof graphCaller>;
  let asDeployer: ReturnType<typeof graphClient>;
  let asAdmin: ReturnType<typeof graphClient>;

  beforeAll(async () => {
    local = await startTestTenant();
    deployer = graphCaller(local.tenant.directory, "deployer", [...deployerPermissions]);
    asDeployer = graphClient(local.tenant, local.ca, deployer);
    asAdmin = graphClient(local.tenant, local.ca);
  });
  afterAll(async () => local?.close());

  const v1 = () => `${local.tenant.endpoints.graph}/v1.0/$metadata#`;

  it("creates an application (201, Graph's entity), makes the caller its owner, and merges PATCHes of api", async () => {
    const created = await asDeployer("POST", "/v1.0/applications", {
      "@odata.type": "#microsoft.graph.application",
      displayName: "orders-api",
      signInAudience: "AzureADMyOrg",
      api: { requestedAccessTokenVersion: 2 },
    });
    expect(created.status).toBe(201);
    expect(created.body["@odata.context"]).toBe(`${v1()}applications/$entity`);
    const id = created.body.id as string;
    const appId = created.body.appId as string;

    const owners = await asDeployer("GET", `/v1.0/applications/${id}/owners`);
    expect(owners.body["@odata.context"]).toBe(`${v1()}directoryObjects`);
    expect(owners.body.value?.map((owner) => [owner["@odata.type"], owner.id])).toEqual([
      ["#microsoft.graph.servicePrincipal", deployer.objectId],
    ]);

    expect((await asDeployer("PATCH", `/v1.0/applications/${id}`, { identifierUris: [`api://${appId}`] })).status).toBe(
      204,
    );
    const scopes = {
      api: { oauth2PermissionScopes: [scope("0d0e0000-0000-4000-8000-000000000002", "access_as_user")] },
    };
    expect((await asDeployer("PATCH", `/v1.0/applications/${id}`, scopes)).status).toBe(204);
    const read = await asDeployer("GET", `/v1.0/applications/${id}`);
    expect(read.body.identifierUris).toEqual([`api://${appId}`]);
    // The scope's PATCH named only api.oauth2PermissionScopes: the token version it did not name stays.
    expect(read.body.api).toMatchObject({
      requestedAccessTokenVersion: 2,
      oauth2PermissionScopes: [expect.objectContaining({ value: "access_as_user" })],
    });
  });

  it("creates a service principal with the caller bound as owner, then removes the caller: later writes get 403", async () => {
    const app = await asDeployer("POST", "/v1.0/applications", { displayName: "reporting" });
    const appId = app.body.appId as string;
    const existing = await asDeployer(
      "GET",
      `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${appId}'`)}`,
    );
    expect(existing.body).toEqual({ "@odata.context": `${v1()}servicePrincipals`, value: [] });

    const sp = await asDeployer("POST", "/v1.0/servicePrincipals", {
      appId,
      appRoleAssignmentRequired: false,
      description: "TERRAFORM_UPDATE_x",
      tags: [],
      "owners@odata.bind": [`${local.tenant.endpoints.graph}/v1.0/directoryObjects/${deployer.objectId}`],
    });
    expect(sp.status).toBe(201);
    const spId = sp.body.id as string;
    expect((await asDeployer("PATCH", `/v1.0/servicePrincipals/${spId}`, { description: null })).status).toBe(204);
    // service_principal_resource.go: "If the calling principal was not included in configuration, remove it now".
    expect(
      (await asDeployer("DELETE", `/v1.0/servicePrincipals/${spId}/owners/${deployer.objectId}/$ref`)).status,
    ).toBe(204);

    expectInsufficientPrivileges(
      await asDeployer("PATCH", `/v1.0/servicePrincipals/${spId}`, { appRoleAssignmentRequired: true }),
    );
    expectInsufficientPrivileges(await asDeployer("DELETE", `/v1.0/servicePrincipals/${spId}`));
    // The application stays its own: the deployer still owns it.
    expect((await asDeployer("PATCH", `/v1.0/applications/${app.body.id}`, { notes: "still mine" })).status).toBe(204);
  });

  it("keeps the caller an owner when `owners` lists it, so updates and deletes succeed", async () => {
    const app = await asDeployer("POST", "/v1.0/applications", { displayName: "kept" });
    const sp = await asDeployer("POST", "/v1.0/servicePrincipals", {
      appId: app.body.appId,
      "owners@odata.bind": [`${local.tenant.endpoints.graph}/v1.0/directoryObjects/${deployer.objectId}`],
    });
    const spId = sp.body.id as string;
    expect(
      (await asDeployer("PATCH", `/v1.0/servicePrincipals/${spId}`, { appRoleAssignmentRequired: true })).status,
    ).toBe(204);
    expect((await asDeployer("DELETE", `/v1.0/servicePrincipals/${spId}`)).status).toBe(204);
    expect((await asDeployer("GET", `/v1.0/servicePrincipals/${spId}`)).status).toBe(404);
  });

  it("refuses Application.ReadWrite.OwnedBy on an application someone else owns, with Graph's 403", async () => {
    const theirs = await asAdmin("POST", "/v1.0/applications", { displayName: "made-by-hand" });
    expectInsufficientPrivileges(
      await asDeployer("PATCH", `/v1.0/applications/${theirs.body.id}`, { notes: "mine now" }),
    );
    expectInsufficientPrivileges(await asDeployer("POST", `/v1.0/applications/${theirs.body.id}/addPassword`, {}));
    expectInsufficientPrivileges(await asDeployer("DELETE", `/v1.0/applications/${theirs.body.id}`));
    // Reading is allowed: OwnedBy lists and reads every application (Graph permissions reference).
    expect((await asDeployer("GET", `/v1.0/applications/${theirs.body.id}`)).status).toBe(200);
  });

  it("grants an app role (admin consent) with AppRoleAssignment.ReadWrite.All, and only with it", async () => {
    const api = await asDeployer("POST", "/v1.0/applications", {
      displayName: "assign-api",
      appRoles: [role("0d0e0000-0000-4000-8000-0000000000a1", "access_as_app")],
    });
    const apiSp = await asDeployer("POST", "/v1.0/servicePrincipals", { appId: api.body.appId });
    const client = await asDeployer("POST", "/v1.0/applications", { displayName: "assign-client" });
    const clientSp = await asDeployer("POST", "/v1.0/servicePrincipals", { appId: client.body.appId });
    const resourceId = apiSp.body.id as string;
    const assignment = { principalId: clientSp.body.id, resourceId, appRoleId: "0d0e0000-0000-4000-8000-0000000000a1" };

    const granted = await asDeployer("POST", `/v1.0/servicePrincipals/${resourceId}/appRoleAssignedTo`, assignment);
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({
      "@odata.context": `${v1()}servicePrincipals('${resourceId}')/appRoleAssignedTo/$entity`,
      principalType: "ServicePrincipal",
      principalId: clientSp.body.id,
      resourceId,
      resourceDisplayName: "assign-api",
    });
    const again = await asDeployer("POST", `/v1.0/servicePrincipals/${resourceId}/appRoleAssignedTo`, assignment);
    expect([again.status, (again.body.error as { message: string }).message]).toEqual([
      400,
      "Permission being assigned already exists on the object",
    ]);
    const path = `/v1.0/servicePrincipals/${resourceId}/appRoleAssignedTo/${granted.body.id}`;
    expect((await asDeployer("GET", path)).body.appRoleId).toBe(assignment.appRoleId);

    const withoutAssignments = graphCaller(local.tenant.directory, "no-consent", [
      "Application.ReadWrite.OwnedBy",
      "Application.Read.All",
    ]);
    const asLimited = graphClient(local.tenant, local.ca, withoutAssignments);
    expectInsufficientPrivileges(await asLimited("DELETE", path));
    expectInsufficientPrivileges(
      await asLimited("POST", `/v1.0/servicePrincipals/${resourceId}/appRoleAssignedTo`, assignment),
    );
    // The pair Graph documents: without Application.Read.All (or Directory.Read.All), OwnedBy does not do.
    const withoutReadAll = graphCaller(local.tenant.directory, "no-read-all", [
      "Application.ReadWrite.OwnedBy",
      "AppRoleAssignment.ReadWrite.All",
    ]);
    expectInsufficientPrivileges(
      await graphClient(local.tenant, local.ca, withoutReadAll)(
        "POST",
        `/v1.0/servicePrincipals/${resourceId}/appRoleAssignedTo`,
        assignment,
      ),
    );
    expect((await asDeployer("DELETE", path)).status).toBe(204);
    expect((await asDeployer("GET", path)).status).toBe(404);
  });

  it("grants delegated consent only with DelegatedPermissionGrant.ReadWrite.All", async () => {
    const apiSp = local.tenant.directory.servicePrincipalByAppId(graphAppId);
    const clientSp = local.tenant.directory.servicePrincipal(deployer.objectId);
    const grant = { clientId: clientSp?.id, consentType: "AllPrincipals", resourceId: apiSp?.id, scope: "User.Read" };
    expectInsufficientPrivileges(await asDeployer("POST", "/v1.0/oauth2PermissionGrants", grant));
    const created = await asAdmin("POST", "/v1.0/oauth2PermissionGrants", grant);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      "@odata.context": `${v1()}oauth2PermissionGrants/$entity`,
      principalId: null,
      scope: "User.Read",
    });
    expect(
      (await asAdmin("PATCH", `/v1.0/oauth2PermissionGrants/${created.body.id}`, { scope: "User.Read openid" })).status,
    ).toBe(204);
    expect((await asAdmin("GET", `/v1.0/oauth2PermissionGrants/${created.body.id}`)).body.scope).toBe(
      "User.Read openid",
    );
    expect((await asAdmin("DELETE", `/v1.0/oauth2PermissionGrants/${created.body.id}`)).status).toBe(204);
  });

  it("answers the look-ups: $filter by appId and displayName, startswith, (appId='…'), $select, and beta's samlMetadataUrl", async () => {
    const graphSp = local.tenant.directory.servicePrincipalByAppId(graphAppId);
    const byAppId = await asDeployer(
      "GET",
      `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${graphAppId}'`)}`,
    );
    expect(byAppId.body.value?.map((sp) => sp.id)).toEqual([graphSp?.id]);
    expect(byAppId.body.value?.[0]?.appRoles).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          value: "AppRoleAssignment.ReadWrite.All",
          id: graphPermissions["AppRoleAssignment.ReadWrite.All"],
        }),
      ]),
    );
    const byName = await asDeployer(
      "GET",
      `/v1.0/applications?$filter=${encodeURIComponent("displayName eq 'ORDERS-API'")}&$select=displayName,appId`,
    );
    expect(byName.body.value).toEqual([{ displayName: "orders-api", appId: expect.any(String) }]);
    const prefixed = await asDeployer(
      "GET",
      `/v1.0/applications?$filter=${encodeURIComponent("startswith(displayName,'assign-')")}`,
    );
    expect(prefixed.body.value?.map((app) => app.displayName).sort()).toEqual(["assign-api", "assign-client"]);
    const appId = byName.body.value?.[0]?.appId as string;
    expect((await asDeployer("GET", `/v1.0/applications(appId='${appId}')`)).body.displayName).toBe("orders-api");
    const beta = await asDeployer("GET", `/beta/servicePrincipals/${graphSp?.id}?$select=samlMetadataUrl`);
    expect(beta.body).toEqual({
      "@odata.context": `${local.tenant.endpoints.graph}/beta/$metadata#servicePrincipals/$entity`,
      samlMetadataUrl: null,
    });
    const unsupported = await asDeployer("GET", `/v1.0/applications?$filter=${encodeURIComponent("notes eq 'x'")}`);
    expect([unsupported.status, (unsupported.body.error as { code: string }).code]).toEqual([
      400,
      "Request_UnsupportedQuery",
    ]);
  });

  it("soft-deletes an application with its service principal; deletedItems restores or purges it", async () => {
    const app = await asAdmin("POST", "/v1.0/applications", {
      displayName: "to-delete",
      identifierUris: ["api://to-delete"],
    });
    const sp = await asAdmin("POST", "/v1.0/servicePrincipals", { appId: app.body.appId });
    expect((await asAdmin("DELETE", `/v1.0/applications/${app.body.id}`)).status).toBe(204);
    const gone = await asAdmin("GET", `/v1.0/applications/${app.body.id}`);
    expect([gone.status, (gone.body.error as { code: string }).code]).toEqual([404, "Request_ResourceNotFound"]);
    expect((await asAdmin("GET", `/v1.0/servicePrincipals/${sp.body.id}`)).status).toBe(404);
    const deleted = await asAdmin("GET", "/v1.0/directory/deletedItems/microsoft.graph.application");
    expect(deleted.body.value?.map((item) => item.id)).toContain(app.body.id);
    expect((await asAdmin("POST", `/v1.0/directory/deletedItems/${app.body.id}/restore`)).status).toBe(200);
    expect((await asAdmin("GET", `/v1.0/applications/${app.body.id}`)).body.identifierUris).toEqual([
      "api://to-delete",
    ]);
    expect((await asAdmin("DELETE", `/v1.0/directory/deletedItems/${sp.body.id}`)).status).toBe(204);
    expect((await asAdmin("GET", `/v1.0/directory/deletedItems/${sp.body.id}`)).status).toBe(404);
  });

  it("asks for a token: no bearer, or a token for another audience, is 401", async () => {
    const arm = await tenantToken(local.tenant, local.ca, local.tenant.admin, local.tenant.endpoints.arm);
    const withArmToken = await requestWithCa(`${local.tenant.endpoints.graph}/v1.0/applications`, {
      ca: local.ca,
      headers: { authorization: `Bearer ${arm.body.access_token}` },
    });
    expect(withArmToken.status).toBe(401);
    expect(JSON.parse(withArmToken.text).error).toMatchObject({
      code: "InvalidAuthenticationToken",
      message: "Access token validation failure. Invalid audience.",
    });
    const anonymous = await requestWithCa(`${local.tenant.endpoints.graph}/v1.0/applications`, { ca: local.ca });
    expect([anonymous.status, JSON.parse(anonymous.text).error.message]).toEqual([401, "Access token is empty."]);
  });
});

describe("Entra's rules on applications and assignments", () => {
  let local: Awaited<ReturnType<typeof startTestTenant>>;
  let graph: ReturnType<typeof graphClient>;

  beforeAll(async () => {
    local = await startTestTenant();
    graph = graphClient(local.tenant, local.ca);
  });
  afterAll(async () => local?.close());

  const errorOf = (answer: Answer) => ({
    status: answer.status,
    ...(answer.body.error as { code: string; message: string }),
  });

  it("keeps identifier URIs unique in the tenant", async () => {
    expect(
      (await graph("POST", "/v1.0/applications", { displayName: "a", identifierUris: ["api://shared"] })).status,
    ).toBe(201);
    const second = await graph("POST", "/v1.0/applications", { displayName: "b", identifierUris: ["api://SHARED"] });
    expect(errorOf(second)).toMatchObject({
      status: 400,
      code: "Request_BadRequest",
      message: "Another object with the same value for property identifierUris already exists.",
      details: [expect.objectContaining({ code: "ObjectConflict", target: "identifierUris" })],
    });
    const other = await graph("POST", "/v1.0/applications", { displayName: "c" });
    const patched = await graph("PATCH", `/v1.0/applications/${other.body.id}`, { identifierUris: ["api://shared"] });
    expect(errorOf(patched).status).toBe(400);
  });

  it("refuses an app role and a scope with one value: 'It contains duplicate value'", async () => {
    const app = await graph("POST", "/v1.0/applications", {
      displayName: "guide-api",
      api: { oauth2PermissionScopes: [scope("5c0be000-0000-4000-8000-000000000001", "access_as_app")] },
    });
    const clash = await graph("PATCH", `/v1.0/applications/${app.body.id}`, {
      appRoles: [role("5c0be000-0000-4000-8000-000000000002", "access_as_app")],
    });
    expect(errorOf(clash)).toMatchObject({
      status: 400,
      code: "Request_BadRequest",
      message: "It contains duplicate value.",
    });
    const other = await graph("PATCH", `/v1.0/applications/${app.body.id}`, {
      appRoles: [role("5c0be000-0000-4000-8000-000000000002", "access_as_app_role")],
    });
    expect(other.status).toBe(204);
  });

  it("removes an enabled role only after a PATCH that disables it", async () => {
    const app = await graph("POST", "/v1.0/applications", {
      displayName: "roles",
      appRoles: [
        role("7a1e0000-0000-4000-8000-000000000001", "reader"),
        role("7a1e0000-0000-4000-8000-000000000002", "writer"),
      ],
    });
    const path = `/v1.0/applications/${app.body.id}`;
    const removed = await graph("PATCH", path, { appRoles: [role("7a1e0000-0000-4000-8000-000000000001", "reader")] });
    expect(errorOf(removed)).toMatchObject({
      status: 400,
      code: "CannotDeleteOrUpdateEnabledEntitlement",
      message: "Permission (scope or role) cannot be deleted or updated unless disabled first.",
    });
    const renamed = await graph("PATCH", path, {
      appRoles: [
        role("7a1e0000-0000-4000-8000-000000000001", "reader"),
        role("7a1e0000-0000-4000-8000-000000000002", "editor"),
      ],
    });
    expect(errorOf(renamed).code).toBe("CannotDeleteOrUpdateEnabledEntitlement");
    const disabled = await graph("PATCH", path, {
      appRoles: [
        role("7a1e0000-0000-4000-8000-000000000001", "reader"),
        role("7a1e0000-0000-4000-8000-000000000002", "writer", ["Application"], false),
      ],
    });
    expect(disabled.status).toBe(204);
    expect(
      (await graph("PATCH", path, { appRoles: [role("7a1e0000-0000-4000-8000-000000000001", "reader")] })).status,
    ).toBe(204);
    expect((await graph("GET", path)).body.appRoles).toEqual([expect.objectContaining({ value: "reader" })]);
  });

  it("assigns users and security groups only a role that allows users", async () => {
    const app = await graph("POST", "/v1.0/applications", {
      displayName: "user-api",
      appRoles: [
        role("05e70000-0000-4000-8000-000000000001", "access_as_app"),
        role("05e70000-0000-4000-8000-000000000002", "signed_in_user", ["User"]),
      ],
    });
    const sp = await graph("POST", "/v1.0/servicePrincipals", {
      appId: app.body.appId,
      appRoleAssignmentRequired: true,
    });
    const user = await graph("POST", "/v1.0/users", {
      displayName: "Ana",
      userPrincipalName: "ana@contoso.example",
      accountEnabled: true,
    });
    const assign = (principalId: unknown, appRoleId: string) =>
      graph("POST", `/v1.0/servicePrincipals/${sp.body.id}/appRoleAssignedTo`, {
        principalId,
        resourceId: sp.body.id,
        appRoleId,
      });

    const appRoleToUser = await assign(user.body.id, "05e70000-0000-4000-8000-000000000001");
    expect(errorOf(appRoleToUser).status).toBe(400);
    expect(errorOf(appRoleToUser).message).toMatch(/allows Application/);
    expect((await assign(user.body.id, "00000000-0000-0000-0000-000000000000")).status).toBe(400);
    const toUser = await assign(user.body.id, "05e70000-0000-4000-8000-000000000002");
    expect([toUser.status, toUser.body.principalType]).toEqual([201, "User"]);

    const distribution = await graph("POST", "/v1.0/groups", {
      displayName: "mail",
      mailEnabled: true,
      mailNickname: "mail",
      securityEnabled: false,
    });
    expect(errorOf(await assign(distribution.body.id, "05e70000-0000-4000-8000-000000000002")).message).toBe(
      "Only security-enabled groups can be assigned to an application.",
    );
    const security = await graph("POST", "/v1.0/groups", {
      displayName: "team",
      mailEnabled: false,
      mailNickname: "team",
      securityEnabled: true,
    });
    expect((await assign(security.body.id, "05e70000-0000-4000-8000-000000000002")).body.principalType).toBe("Group");
  });

  it("refuses a property the local tenant does not model, naming it", async () => {
    const answer = await graph("POST", "/v1.0/applications", { displayName: "x", samlMetadataUrl: "https://example" });
    expect(errorOf(answer)).toMatchObject({
      status: 400,
      message:
        "Property 'samlMetadataUrl' does not exist as a declared property or extension property of 'microsoft.graph.application' in the local tenant.",
    });
  });
});

describe("replication delay: a new object is invisible to other endpoints for a while", () => {
  let local: Awaited<ReturnType<typeof startTestTenant>>;
  let graph: ReturnType<typeof graphClient>;
  // The tenant's clock stands still unless a test moves it: nothing here depends on how fast the machine is.
  const start = Date.now();
  let offset = 0;

  beforeAll(async () => {
    local = await startTestTenant({ replicationDelaySeconds: 5, now: () => start + offset });
    graph = graphClient(local.tenant, local.ca);
  });
  afterAll(async () => local?.close());

  it("a service principal for a new application waits for it; Graph itself reads its own write at once", async () => {
    const app = await graph("POST", "/v1.0/applications", { displayName: "new-app" });
    expect((await graph("GET", `/v1.0/applications/${app.body.id}`)).status).toBe(200);
    const early = await graph("POST", "/v1.0/servicePrincipals", { appId: app.body.appId });
    expect([early.status, (early.body.error as { message: string }).message]).toEqual([
      400,
      `The appId '${app.body.appId}' of the service principal does not reference a valid application object.`,
    ]);
    offset += 5000;
    expect((await graph("POST", "/v1.0/servicePrincipals", { appId: app.body.appId })).status).toBe(201);
  });

  it("an assignment of a role just added is 'Permission being assigned was not found' until the role replicates", async () => {
    const app = await graph("POST", "/v1.0/applications", { displayName: "replicating-api" });
    offset += 5000;
    const sp = await graph("POST", "/v1.0/servicePrincipals", { appId: app.body.appId });
    offset += 5000;
    await graph("PATCH", `/v1.0/applications/${app.body.id}`, {
      appRoles: [role("9e9e0000-0000-4000-8000-000000000001", "access_as_app")],
    });
    const assignment = {
      principalId: local.tenant.admin.servicePrincipalId,
      resourceId: sp.body.id,
      appRoleId: "9e9e0000-0000-4000-8000-000000000001",
    };
    const early = await graph("POST", `/v1.0/servicePrincipals/${sp.body.id}/appRoleAssignedTo`, assignment);
    expect([early.status, (early.body.error as { message: string }).message]).toEqual([
      400,
      `Permission being assigned was not found on application '${app.body.appId}'.`,
    ]);
    offset += 5000;
    expect((await graph("POST", `/v1.0/servicePrincipals/${sp.body.id}/appRoleAssignedTo`, assignment)).status).toBe(
      201,
    );
  });

  it("the token endpoint does not know a new client until it replicates (AADSTS700016)", async () => {
    const client = { clientId: "c11e0000-0000-4000-8000-00000000a7e0", clientSecret: "late-secret" };
    local.tenant.directory.seed({
      applications: [
        { application: { appId: client.clientId, displayName: "late-client" }, secrets: [client.clientSecret] },
      ],
      servicePrincipals: [{ id: "5e000000-0000-4000-8000-00000000a7e0", appId: client.clientId }],
    });
    const early = await tenantToken(local.tenant, local.ca, client, local.tenant.endpoints.graph);
    expect([early.status, early.body.error_codes]).toEqual([400, [700016]]);
    offset += 5000;
    const later = await tenantToken(local.tenant, local.ca, client, local.tenant.endpoints.graph);
    expect(later.status).toBe(200);
  });
});

// Two answers the azuread provider compares with what it sent: read back otherwise, every preview after `up` would
// show a change (and the password's end date, a replace-on-change input, would replace the secret on every `up`).
describe("what Graph reads back as posted", () => {
  let local: Awaited<ReturnType<typeof startTestTenant>>;
  let graph: ReturnType<typeof graphClient>;

  beforeAll(async () => {
    local = await startTestTenant({ now: () => Date.parse("2026-11-23T09:30:00Z") });
    graph = graphClient(local.tenant, local.ca);
  });
  afterAll(async () => local?.close());

  it("a service principal posted with empty SAML settings reads back null; a relay state reads back", async () => {
    const plain = await graph("POST", "/v1.0/applications", { displayName: "no-saml" });
    const created = await graph("POST", "/v1.0/servicePrincipals", {
      appId: plain.body.appId,
      samlSingleSignOnSettings: {},
    });
    expect(created.body.samlSingleSignOnSettings).toBeNull();
    expect((await graph("GET", `/v1.0/servicePrincipals/${created.body.id}`)).body.samlSingleSignOnSettings).toBeNull();

    await graph("PATCH", `/v1.0/servicePrincipals/${created.body.id}`, {
      samlSingleSignOnSettings: { relayState: "https://relay.example.com" },
    });
    expect((await graph("GET", `/v1.0/servicePrincipals/${created.body.id}`)).body.samlSingleSignOnSettings).toEqual({
      relayState: "https://relay.example.com",
    });
    await graph("PATCH", `/v1.0/servicePrincipals/${created.body.id}`, { samlSingleSignOnSettings: {} });
    expect((await graph("GET", `/v1.0/servicePrincipals/${created.body.id}`)).body.samlSingleSignOnSettings).toBeNull();
  });

  it("a password's dates read back as posted, whole seconds without a fraction; a default start has none either", async () => {
    const app = await graph("POST", "/v1.0/applications", { displayName: "dated-secret" });
    const added = await graph("POST", `/v1.0/applications/${app.body.id}/addPassword`, {
      passwordCredential: {
        displayName: "rotated",
        startDateTime: "2026-11-23T00:00:00Z",
        endDateTime: "2027-05-22T00:00:00Z",
      },
    });
    expect([added.body.startDateTime, added.body.endDateTime]).toEqual([
      "2026-11-23T00:00:00Z",
      "2027-05-22T00:00:00Z",
    ]);
    const undated = await graph("POST", `/v1.0/applications/${app.body.id}/addPassword`, {
      passwordCredential: { displayName: "undated" },
    });
    expect([undated.body.startDateTime, undated.body.endDateTime]).toEqual([
      "2026-11-23T09:30:00Z",
      "2028-11-23T09:30:00Z",
    ]);

    const read = await graph("GET", `/v1.0/applications/${app.body.id}`);
    const dates = (read.body.passwordCredentials as { startDateTime: string; endDateTime: string }[]).map(
      (credential) => [credential.startDateTime, credential.endDateTime],
    );
    expect(dates).toEqual([
      ["2026-11-23T00:00:00Z", "2027-05-22T00:00:00Z"],
      ["2026-11-23T09:30:00Z", "2028-11-23T09:30:00Z"],
    ]);
  });
});
