// The local tenant's Entra ID for the providers: the cloud metadata document go-azure-sdk reads, and the tokens the
// azuread provider and our ARM get for Graph and ARM, whose audiences tell them apart. The app-only, delegated and
// federated flows for APIs are exercised through the stand-in (tests/standIns.test.ts, userFlows, e2e), which is
// the same token service over a seeded directory.
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphPermissions } from "../local/graph";
import { requestWithCa } from "../local/http";
import { startTestTenant, tenantToken } from "./support/localTenant";

const stackTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";

describe("the local tenant's Entra ID for the providers", () => {
  let local: Awaited<ReturnType<typeof startTestTenant>>;
  const start = Date.now();
  let offset = 0;

  beforeAll(async () => {
    local = await startTestTenant({ now: () => start + offset });
  });
  afterAll(async () => local?.close());

  it("publishes the metadata document go-azure-sdk requires: name, resourceManager, microsoftGraphResourceId, loginEndpoint", async () => {
    const answer = await requestWithCa(`${local.tenant.endpoints.login}/metadata/endpoints?api-version=2022-09-01`, {
      ca: local.ca,
    });
    const document = JSON.parse(answer.text);
    const { login, graph, arm } = local.tenant.endpoints;
    expect(answer.status).toBe(200);
    expect(document).toMatchObject({
      name: "AzureLocalTenant",
      resourceManager: arm,
      microsoftGraphResourceId: graph,
      authentication: { loginEndpoint: login, audiences: [arm], tenant: "common", identityProvider: "AAD" },
    });
    expect(new Set([login, graph, arm]).size).toBe(3);
    expect(local.tenant.endpoints.metadataHost).toBe(new URL(login).host);
  });

  it("gives the administrator a v1 Graph token for any tenant a stack names: aud Graph, roles its Graph permissions, oid its principal", async () => {
    const answer = await tenantToken(
      local.tenant,
      local.ca,
      local.tenant.admin,
      local.tenant.endpoints.graph,
      stackTenant,
    );
    expect(answer.status).toBe(200);
    const claims = decodeJwt(answer.body.access_token as string);
    expect(claims).toEqual({
      aud: local.tenant.endpoints.graph,
      iss: `https://sts.windows.net/${stackTenant}/`,
      appid: local.tenant.admin.clientId,
      appidacr: "1",
      ver: "1.0",
      tid: stackTenant,
      oid: local.tenant.admin.servicePrincipalId,
      sub: local.tenant.admin.servicePrincipalId,
      roles: expect.any(Array),
      iat: Math.floor((start + offset) / 1000),
      nbf: Math.floor((start + offset) / 1000),
      exp: Math.floor((start + offset) / 1000) + 3600,
    });
    expect([...(claims.roles as string[])].sort()).toEqual(Object.keys(graphPermissions).sort());
  });

  it("gives an ARM token whose audience is ARM's, without Graph's roles", async () => {
    const answer = await tenantToken(local.tenant, local.ca, local.tenant.admin, local.tenant.endpoints.arm);
    const claims = decodeJwt(answer.body.access_token as string);
    expect([claims.aud, claims.roles, claims.oid]).toEqual([
      local.tenant.endpoints.arm,
      undefined,
      local.tenant.admin.servicePrincipalId,
    ]);
    const verified = await local.tenant.tokens.verify(answer.body.access_token as string, [
      local.tenant.endpoints.graph,
    ]);
    expect(verified).toEqual({ failure: "Invalid audience." });
  });

  it("has Graph refuse its token once expired, in Graph's words", async () => {
    const answer = await tenantToken(local.tenant, local.ca, local.tenant.admin, local.tenant.endpoints.graph);
    offset = 3601_000;
    try {
      const verified = await local.tenant.tokens.verify(answer.body.access_token as string, [
        local.tenant.endpoints.graph,
      ]);
      expect(verified).toEqual({ failure: "Lifetime validation failed, the token is expired." });
    } finally {
      offset = 0;
    }
  });

  it("answers each tenant's OpenID metadata per version, and an unknown tenant name with AADSTS90002", async () => {
    const { login } = local.tenant.endpoints;
    const v2 = JSON.parse(
      (await requestWithCa(`${login}/${stackTenant}/v2.0/.well-known/openid-configuration`, { ca: local.ca })).text,
    );
    const v1 = JSON.parse(
      (await requestWithCa(`${login}/${stackTenant}/.well-known/openid-configuration`, { ca: local.ca })).text,
    );
    expect([v2.issuer, v2.token_endpoint, v2.jwks_uri]).toEqual([
      `${login}/${stackTenant}/v2.0`,
      `${login}/${stackTenant}/oauth2/v2.0/token`,
      `${login}/${stackTenant}/discovery/v2.0/keys`,
    ]);
    expect(v1.issuer).toBe(`https://sts.windows.net/${stackTenant}/`);
    const keys = JSON.parse((await requestWithCa(v2.jwks_uri, { ca: local.ca })).text);
    expect(keys.keys.map((key: { kid: string }) => key.kid)).toEqual([expect.any(String)]);
    const contoso = await requestWithCa(`${login}/contoso.example/v2.0/.well-known/openid-configuration`, {
      ca: local.ca,
    });
    expect([contoso.status, JSON.parse(contoso.text).error_codes]).toEqual([400, [90002]]);
  });

  it("honours a password's dates: the administrator's secret stops working after its end date (AADSTS7000222)", async () => {
    offset = 3 * 365 * 86_400_000;
    try {
      const answer = await tenantToken(local.tenant, local.ca, local.tenant.admin, local.tenant.endpoints.graph);
      expect([answer.status, answer.body.error, answer.body.error_codes]).toEqual([401, "invalid_client", [7000222]]);
      expect(answer.body.error_description).toMatch(
        new RegExp(
          `^AADSTS7000222: The provided client secret keys for app '${local.tenant.admin.clientId}' are expired\\.`,
        ),
      );
    } finally {
      offset = 0;
    }
  });
});

describe("a restart of the local tenant", () => {
  it("keeps the directory, the signing key and the administrator: a token from before still verifies", async () => {
    const first = await startTestTenant();
    const token = await tenantToken(first.tenant, first.ca, first.tenant.admin, first.tenant.endpoints.graph);
    const app = first.tenant.directory.createApplication({ displayName: "kept-across-restarts" });
    await first.close(true);

    const second = await startTestTenant({ root: first.root });
    try {
      expect(second.tenant.admin).toEqual(first.tenant.admin);
      expect(second.tenant.directory.application(app.id)?.displayName).toBe("kept-across-restarts");
      // The port may differ between starts; the key and the token's claims do not.
      const claims = decodeJwt(token.body.access_token as string);
      const verified = await second.tenant.tokens.verify(token.body.access_token as string, [claims.aud as string]);
      expect(verified).toMatchObject({ claims: { oid: first.tenant.admin.servicePrincipalId } });
    } finally {
      await second.close();
    }
  });
});

describe("device code sign-in on the local tenant's page", () => {
  it("a person enters the user code at /devicelogin and the client's next poll gets the user's token", async () => {
    const local = await startTestTenant();
    try {
      const { directory, endpoints } = local.tenant;
      const api = directory.createApplication({
        displayName: "device-api",
        identifierUris: ["api://device-api"],
        api: {
          requestedAccessTokenVersion: 2,
          oauth2PermissionScopes: [
            { id: "d0d0d0d0-0000-4000-8000-000000000001", isEnabled: true, type: "Admin", value: "access_as_user" },
          ],
        },
      });
      const apiSp = directory.createServicePrincipal({ appId: api.appId });
      const desktop = directory.createApplication({ displayName: "desktop", isFallbackPublicClient: true });
      const desktopSp = directory.createServicePrincipal({ appId: desktop.appId });
      directory.createOAuth2PermissionGrant({
        clientId: desktopSp.id,
        consentType: "AllPrincipals",
        resourceId: apiSp.id,
        scope: "access_as_user",
      });
      const form = (fields: Record<string, string>) => ({
        method: "POST",
        ca: local.ca,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
      });
      const authority = `${endpoints.login}/${stackTenant}/oauth2/v2.0`;
      const code = JSON.parse(
        (
          await requestWithCa(
            `${authority}/devicecode`,
            form({ client_id: desktop.appId, scope: "api://device-api/access_as_user" }),
          )
        ).text,
      );
      expect(code.verification_uri).toBe(`${endpoints.login}/devicelogin`);
      const poll = () =>
        requestWithCa(
          `${authority}/token`,
          form({
            grant_type: "urn:ietf:params:oauth:grant-type:device_code",
            client_id: desktop.appId,
            device_code: code.device_code,
          }),
        );
      expect(JSON.parse((await poll()).text).error_codes).toEqual([70016]);
      const page = await requestWithCa(code.verification_uri, form({ user_code: code.user_code }));
      expect([page.status, page.text]).toEqual([200, expect.stringContaining("You have signed in.")]);
      const claims = decodeJwt(JSON.parse((await poll()).text).access_token);
      expect([claims.aud, claims.scp, claims.oid, claims.azp]).toEqual([
        api.appId,
        "access_as_user",
        "0a11ce00-0000-4000-8000-00000000a11c",
        desktop.appId,
      ]);
      const unknown = await requestWithCa(code.verification_uri, form({ user_code: "NOSUCHCODE" }));
      expect(unknown.status).toBe(400);
    } finally {
      await local.close();
    }
  });
});
