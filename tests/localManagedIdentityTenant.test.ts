// The local tenant's managed identities, end to end in one process over HTTPS: ARM creates a user-assigned identity and
// the directory its service principal (type ManagedIdentity), Graph shows it as the program's lookup reads it, an app
// role assignment grants it an API, and the tenant's identity endpoint (App Service's shape) issues its token, signed
// with the tenant's key. What this cannot prove: Azure's own host endpoint beyond its documentation; the Azure Identity
// library against it runs in tests/managedIdentityEndpoint.test.ts (this process cannot trust the tenant's CA for it).
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestWithCa } from "../local/http";
import { ArmStore } from "../local/armStore";
import { armMount, localIdentityHeader, localSubscriptionId, managedIdentityMounts } from "../local/server";
import { graphClient, startTestTenant, tenantToken } from "./support/localTenant";

type Local = Awaited<ReturnType<typeof startTestTenant>>;
let local: Local;
let arm: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Record<string, unknown> }>;
const roleId = "a11e0000-0000-4000-8000-000000000001";
const group = `/subscriptions/${localSubscriptionId}/resourceGroups/rg-workers`;
const identityPath = (name: string) => `${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
let api: { appId: string; spId: string };

beforeAll(async () => {
  local = await startTestTenant({ mounts: [armMount(ArmStore.open()), ...managedIdentityMounts()] });
  const { tenant, ca } = local;
  const token = (await tenantToken(tenant, ca, tenant.admin, tenant.endpoints.arm)).body.access_token as string;
  arm = async (method, path, body) => {
    const answer = await requestWithCa(`${tenant.endpoints.arm}${path}`, {
      method,
      ca,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: answer.status, body: answer.text ? JSON.parse(answer.text) : {} };
  };
  expect((await arm("PUT", `${group}?api-version=2021-04-01`, { location: "westeurope" })).status).toBe(201);
  const { directory } = tenant;
  const app = directory.createApplication({
    displayName: "orders",
    api: { requestedAccessTokenVersion: 2 },
    appRoles: [
      {
        id: roleId,
        value: "access_as_app",
        allowedMemberTypes: ["Application"],
        isEnabled: true,
        displayName: "Call orders",
        description: "Call orders as an application",
      },
    ],
  });
  directory.updateApplication(app.id, { identifierUris: [`api://${app.appId}`] });
  const sp = directory.createServicePrincipal({ appId: app.appId, appRoleAssignmentRequired: true });
  api = { appId: app.appId, spId: sp.id };
});
afterAll(async () => {
  await local?.close();
});

/** The identity's token from the tenant's App Service-shaped endpoint. */
async function identityToken(clientId: string) {
  const query = new URLSearchParams({
    "api-version": "2019-08-01",
    resource: `api://${api.appId}`,
    client_id: clientId,
  });
  const answer = await requestWithCa(`${local.tenant.endpoints.login}/msi/token?${query}`, {
    ca: local.ca,
    headers: { "x-identity-header": localIdentityHeader },
  });
  return { status: answer.status, body: JSON.parse(answer.text) as Record<string, string> };
}

describe("a user-assigned identity on the local tenant", () => {
  it("gets its service principal from ARM, a token once granted, and none before; deleting it deletes the principal", async () => {
    const created = await arm("PUT", `${identityPath("worker")}?api-version=2023-01-31`, { location: "westeurope" });
    expect(created.status).toBe(201);
    const { principalId, clientId, tenantId } = created.body.properties as {
      principalId: string;
      clientId: string;
      tenantId: string;
    };
    expect(tenantId).toBe(local.tenant.admin.tenantId);

    const graph = graphClient(local.tenant, local.ca);
    const principal = await graph("GET", `/v1.0/servicePrincipals/${principalId}`);
    expect(principal.body).toMatchObject({
      id: principalId,
      appId: clientId,
      displayName: "worker",
      servicePrincipalType: "ManagedIdentity",
      alternativeNames: ["isExplicit=True", identityPath("worker")],
    });

    const refused = await identityToken(clientId);
    expect(refused).toEqual({
      status: 400,
      body: {
        error: "invalid_grant",
        error_description: `AADSTS501051: Application '${clientId}'(worker) is not assigned to a role for the application 'api://${api.appId}'(orders).`,
      },
    });

    local.tenant.directory.createAppRoleAssignment(api.spId, { principalId, resourceId: api.spId, appRoleId: roleId });
    const issued = await identityToken(clientId);
    expect(issued.status).toBe(200);
    expect(issued.body.client_id).toBe(clientId);
    const claims = decodeJwt(issued.body.access_token as string);
    expect(claims).toMatchObject({
      aud: api.appId,
      iss: `${local.tenant.endpoints.login}/${tenantId}/v2.0`,
      ver: "2.0",
      azp: clientId,
      oid: principalId,
      sub: principalId,
      idtyp: "app",
      roles: ["access_as_app"],
      tid: tenantId,
    });
    expect(await local.tenant.tokens.verify(issued.body.access_token as string, [api.appId])).toMatchObject({
      claims: { oid: principalId },
    });

    expect((await arm("DELETE", `${identityPath("worker")}?api-version=2023-01-31`)).status).toBe(200);
    expect(local.tenant.directory.servicePrincipal(principalId)).toBeUndefined();
  });

  it("is no client-credentials client: it has no application to authenticate as", async () => {
    const created = await arm("PUT", `${identityPath("other")}?api-version=2023-01-31`, { location: "westeurope" });
    const { clientId } = created.body.properties as { clientId: string };
    const answer = await tenantToken(
      local.tenant,
      local.ca,
      { clientId, clientSecret: "anything" },
      `api://${api.appId}`,
    );
    expect([answer.status, (answer.body.error_codes as number[])[0]]).toEqual([400, 700016]);
  });
});
