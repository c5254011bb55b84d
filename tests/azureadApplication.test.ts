import { describe, expect, it } from "vitest";
import { applicationRole, configuredProvider, tokens, urnOf } from "./support/azureadHarness";

// The local azuread provider's application resources against a temporary in-process Graph
// (tests/support/fakeGraph.ts). What this cannot prove: Graph's own answers; only the calls the provider makes and how
// it maps them to ids, inputs and outputs.

const roleId = "3b1f4e2a-1111-4c4c-8d8d-000000000001";
const userRoleId = "3b1f4e2a-1111-4c4c-8d8d-000000000002";
const scopeId = "3b1f4e2a-1111-4c4c-8d8d-000000000003";

async function apiApplication() {
  const h = await configuredProvider();
  const app = await h.create(tokens.application, "api-app", {
    displayName: "orders-dev",
    signInAudience: "AzureADMyOrg",
    requestedAccessTokenVersion: 1,
  });
  return { h, app, objectId: app.outs.objectId as string };
}

describe("ApplicationRegistration (application_registration_resource.go)", () => {
  it("POSTs every argument, ids the result /applications/<object id> and outputs the defaults the schema computes", async () => {
    const h = await configuredProvider();
    const start = h.graph.calls.length;
    const app = await h.create(tokens.application, "client-app", { displayName: "portal-dev" });

    const objectId = app.outs.objectId as string;
    expect(app.id).toBe(`/applications/${objectId}`);
    expect(h.callsSince(start)).toEqual(["POST /v1.0/applications", `GET /v1.0/applications/${objectId}`]);
    expect(h.graph.calls[start]!.body).toEqual({
      displayName: "portal-dev",
      description: null,
      groupMembershipClaims: null,
      notes: null,
      serviceManagementReference: null,
      signInAudience: "AzureADMyOrg",
      api: { requestedAccessTokenVersion: 2 },
      info: { marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
      web: {
        homePageUrl: null,
        logoutUrl: null,
        implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
      },
      "@odata.type": "#microsoft.graph.application",
    });
    expect(app.outs).toMatchObject({
      displayName: "portal-dev",
      clientId: h.graph.application(objectId).appId,
      objectId,
      signInAudience: "AzureADMyOrg",
      requestedAccessTokenVersion: 2,
      implicitAccessTokenIssuanceEnabled: false,
      disabledByMicrosoft: "",
    });
  });

  it("updates in place with a PATCH of what changed only", async () => {
    const { h, app, objectId } = await apiApplication();
    const urn = urnOf(tokens.application, "api-app");
    const news = (await h.provider.check(urn, {}, { displayName: "orders-dev", requestedAccessTokenVersion: 2 }))
      .inputs;

    expect(await h.provider.diff(app.id, urn, app.outs, news)).toMatchObject({ changes: true, replaces: [] });
    const start = h.graph.calls.length;
    const updated = await h.provider.update(app.id, urn, app.outs, news);

    expect(h.graph.calls[start]).toMatchObject({
      method: "PATCH",
      path: `/v1.0/applications/${objectId}`,
      body: { api: { requestedAccessTokenVersion: 2 }, "@odata.type": "#microsoft.graph.application" },
    });
    expect(updated.outs.requestedAccessTokenVersion).toBe(2);
  });
});

describe("the split application resources", () => {
  it("adds the identifier URI under an id that carries it in base64, and removes it by a PATCH without it", async () => {
    const { h, app, objectId } = await apiApplication();
    const uri = `api://${app.outs.clientId}`;
    const created = await h.create(tokens.identifierUri, "api-uri", { applicationId: app.id, identifierUri: uri });

    expect(created.id).toBe(`/applications/${objectId}/identifierUris/${Buffer.from(uri).toString("base64")}`);
    expect(h.graph.application(objectId).identifierUris).toEqual([uri]);
    await expect(
      h.create(tokens.identifierUri, "api-uri-2", { applicationId: app.id, identifierUri: uri }),
    ).rejects.toThrow(`a resource with the ID "${created.id}" already exists - to be managed via Terraform`);

    await h.provider.delete(created.id, urnOf(tokens.identifierUri, "api-uri"), created.outs);
    expect(h.graph.application(objectId).identifierUris).toEqual([]);
  });

  it("adds a role and a scope by PATCHing the whole list back, with the ids the provider writes", async () => {
    const { h, app, objectId } = await apiApplication();
    h.graph.application(objectId).appRoles = [
      {
        id: userRoleId,
        value: "users",
        isEnabled: true,
        allowedMemberTypes: ["User"],
        displayName: "U",
        description: "U",
      },
    ];
    const start = h.graph.calls.length;
    const role = await h.create(tokens.appRole, "api-role", {
      applicationId: app.id,
      roleId,
      value: "access_as_app",
      allowedMemberTypes: ["Application"],
      displayName: "Call as an application",
      description: "Daemons call the API",
    });
    const scopeInputs = {
      applicationId: app.id,
      scopeId,
      value: "access_as_user",
      type: "Admin",
      adminConsentDisplayName: "Access",
      adminConsentDescription: "Admins only",
    };
    const scope = await h.create(tokens.scope, "api-scope", scopeInputs);

    expect(role.id).toBe(`/applications/${objectId}/appRoles/${roleId}`);
    expect(scope.id).toBe(`/applications/${objectId}/permissionScopes/${scopeId}`);
    const [rolePatch] = h.graph.calls.slice(start).filter((call) => call.method === "PATCH");
    expect(rolePatch!.body).toEqual({
      id: objectId,
      appRoles: [
        {
          allowedMemberTypes: ["User"],
          description: "U",
          displayName: "U",
          id: userRoleId,
          isEnabled: true,
          value: "users",
        },
        {
          id: roleId,
          isEnabled: true,
          allowedMemberTypes: ["Application"],
          description: "Daemons call the API",
          displayName: "Call as an application",
          value: "access_as_app",
        },
      ],
      "@odata.type": "#microsoft.graph.application",
    });
    expect(scope.outs).toEqual({ ...scopeInputs, userConsentDescription: "", userConsentDisplayName: "" });
  });

  it("disables a role, waits until Graph shows it disabled, and only then removes it", async () => {
    const { h, app, objectId } = await apiApplication();
    const role = await h.create(tokens.appRole, "api-role", applicationRole(app.id, roleId));
    const start = h.graph.calls.length;

    await h.provider.delete(role.id, urnOf(tokens.appRole, "api-role"), role.outs);

    const patches = h.graph.calls.slice(start).filter((call) => call.method === "PATCH");
    expect(patches.map((call) => (call.body as { appRoles: { isEnabled: boolean }[] }).appRoles)).toEqual([
      [expect.objectContaining({ id: roleId, isEnabled: false })],
      [],
    ]);
    expect(h.graph.application(objectId).appRoles).toEqual([]);
  });

  it("changes a scope in place by disabling it first, since Graph refuses to change an enabled one", async () => {
    const { h, app, objectId } = await apiApplication();
    const urn = urnOf(tokens.scope, "api-scope");
    const inputs = {
      applicationId: app.id,
      scopeId,
      value: "access_as_user",
      adminConsentDisplayName: "Access",
      adminConsentDescription: "Admins only",
    };
    const scope = await h.create(tokens.scope, "api-scope", inputs);
    const news = (await h.provider.check(urn, {}, { ...inputs, adminConsentDescription: "Administrators only" }))
      .inputs;

    const updated = await h.provider.update(scope.id, urn, scope.outs, news);

    expect(updated.outs.adminConsentDescription).toBe("Administrators only");
    const scopes = (h.graph.application(objectId).api as { oauth2PermissionScopes: unknown[] }).oauth2PermissionScopes;
    expect(scopes).toEqual([expect.objectContaining({ id: scopeId, isEnabled: true, type: "User" })]);
  });

  it("keeps the permission list entry and the redirect URIs as sets, and the public client flag", async () => {
    const { h, app, objectId } = await apiApplication();
    const apiClientId = "c0ffee00-0000-4000-8000-000000000000";
    const access = await h.create(tokens.apiAccess, "client-permission", {
      applicationId: app.id,
      apiClientId,
      roleIds: [roleId],
      scopeIds: [scopeId],
    });
    const redirects = await h.create(tokens.redirectUris, "client-redirects", {
      applicationId: app.id,
      type: "PublicClient",
      redirectUris: ["http://localhost"],
    });
    const fallback = await h.create(tokens.fallbackPublicClient, "client-public", {
      applicationId: app.id,
      enabled: true,
    });

    expect(access.id).toBe(`/applications/${objectId}/apiAccess/${apiClientId}`);
    expect(h.graph.application(objectId).requiredResourceAccess).toEqual([
      {
        resourceAppId: apiClientId,
        resourceAccess: [
          { id: roleId, type: "Role" },
          { id: scopeId, type: "Scope" },
        ],
      },
    ]);
    expect(redirects.id).toBe(`/applications/${objectId}/redirectUris/PublicClient`);
    expect(redirects.outs.redirectUris).toEqual(["http://localhost"]);
    expect(fallback.id).toBe(`/applications/${objectId}/fallbackPublicClient`);
    expect(fallback.outs.enabled).toBe(true);

    await h.provider.delete(fallback.id, urnOf(tokens.fallbackPublicClient, "client-public"), fallback.outs);
    expect(h.graph.application(objectId).isFallbackPublicClient).toBeNull();
  });
});

describe("ApplicationPassword and ApplicationFederatedIdentityCredential", () => {
  it("adds a password with its fixed end date, waits for five sightings, and outputs the value as a secret", async () => {
    const { h, app, objectId } = await apiApplication();
    const start = h.graph.calls.length;
    const password = await h.create(tokens.password, "client-secret-2026-11-01", {
      applicationId: app.id,
      displayName: "rotated 2026-11-01",
      endDate: "2027-05-01T00:00:00Z",
      rotateWhenChanged: { rotatedOn: "2026-11-01" },
    });

    const keyId = password.outs.keyId as string;
    expect(password.id).toBe(`${objectId}/password/${keyId}`);
    expect(h.callsSince(start)).toEqual([
      `GET /v1.0/applications/${objectId}`,
      `POST /v1.0/applications/${objectId}/addPassword`,
      ...Array(5).fill(`GET /v1.0/applications/${objectId}`),
      `GET /v1.0/applications/${objectId}`,
    ]);
    expect(h.graph.calls[start + 1]!.body).toEqual({
      passwordCredential: { displayName: "rotated 2026-11-01", endDateTime: "2027-05-01T00:00:00Z" },
    });
    expect(password.outs.value).toEqual({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: `secret-${keyId}`,
    });
    expect(password.outs).toMatchObject({
      endDate: "2027-05-01T00:00:00Z",
      displayName: "rotated 2026-11-01",
      rotateWhenChanged: { rotatedOn: "2026-11-01" },
    });
    expect(h.clock.sleeps).toEqual([1000, 1000, 1000, 1000]);
  });

  it("adds a federated credential under <object id>/federatedIdentityCredential/<id> after it replicates", async () => {
    const { h, app, objectId } = await apiApplication();
    const credentialPath = `/v1.0/applications/${objectId}/federatedIdentityCredentials`;
    // Not yet visible on the first read, as while it replicates.
    h.graph.inject((call) => call.method === "GET" && call.path.startsWith(`${credentialPath}/`), {
      status: 404,
      body: { error: { code: "Request_ResourceNotFound", message: "not yet" } },
    });
    const credential = await h.create(tokens.federatedCredential, "deployer-federated-main", {
      applicationId: app.id,
      displayName: "main",
      issuer: "https://token.actions.githubusercontent.com",
      subject: "repo:contoso/apis:environment:dev",
      audiences: ["api://AzureADTokenExchange"],
    });

    const credentialId = credential.outs.credentialId as string;
    expect(credential.id).toBe(`${objectId}/federatedIdentityCredential/${credentialId}`);
    expect(h.graph.calls.filter((call) => call.method === "POST").at(-1)!.body).toEqual({
      audiences: ["api://AzureADTokenExchange"],
      description: "",
      issuer: "https://token.actions.githubusercontent.com",
      name: "main",
      subject: "repo:contoso/apis:environment:dev",
      "@odata.type": "#microsoft.graph.federatedIdentityCredential",
    });
    expect(
      h.graph.calls.filter((call) => call.method === "GET" && call.path === `${credentialPath}/${credentialId}`),
    ).toHaveLength(7);
  });
});
