// The local tenant's ARM (local/arm.ts) over HTTP on loopback: resource round trips, ARM's error shapes and its
// role-based access. What this cannot prove: that Azure words every error the same way (the messages follow ARM's
// and APIM's documented answers where they are known) or validates bodies as fully as APIM does; the provider's
// Check enforces the API Management REST spec's constraints before anything reaches ARM.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArmPath } from "../local/armIds";
import { apimPolicyCopy } from "../local/armResources";
import { ensureApimService, ensureRoleAssignment } from "../local/armSeed";
import { ArmStore } from "../local/armStore";
import {
  adminId,
  type ArmFixture,
  armNow,
  groupPath,
  servicePath,
  startArmFixture,
  subscriptionId,
  tenantId,
} from "./support/localArm";

let arm: ArmFixture;
beforeAll(async () => {
  arm = await startArmFixture();
});
afterAll(async () => {
  await arm?.close();
});

const serviceBody = {
  location: "westeurope",
  sku: { name: "Developer", capacity: 1 },
  properties: { publisherName: "Contoso", publisherEmail: "apim@contoso.example" },
};
const deployer = "de000000-0000-4000-8000-000000000002";
const apimServiceContributor = "312a565d-c81f-4fd8-895a-4e21e48d571c";
const reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const policyXml = `<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n`;

async function createService(group: string, service: string) {
  expect(
    (await arm.call("PUT", `${groupPath(group)}?api-version=2021-04-01`, { body: { location: "westeurope" } })).status,
  ).toBe(201);
  expect((await arm.call("PUT", servicePath(service, group), { body: serviceBody })).status).toBe(201);
}

describe("ARM's request checks", () => {
  it("requires an api-version", async () => {
    const answer = await arm.call("GET", `${groupPath()}?api-version=`);
    expect([answer.status, answer.body]).toEqual([
      400,
      {
        error: {
          code: "MissingApiVersionParameter",
          message: "The api-version query parameter (?api-version=) is required for all requests.",
        },
      },
    ]);
  });

  it("answers 401 without a token, with a token for another audience and with a forged token", async () => {
    expect((await arm.call("GET", servicePath(), { token: null })).body).toEqual({
      error: { code: "AuthenticationFailed", message: "Authentication failed. The 'Authorization' header is missing." },
    });
    const graphToken = await arm.token({ aud: "https://graph.microsoft.com" });
    const wrongAudience = await arm.call("GET", servicePath(), { token: graphToken });
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.body).toEqual({
      error: {
        code: "InvalidAuthenticationTokenAudience",
        message:
          "The access token has been obtained for wrong audience or resource 'https://graph.microsoft.com'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
      },
    });
    const [head, payload, signature] = (await arm.token()).split(".");
    const claims = JSON.parse(Buffer.from(payload as string, "base64url").toString()) as Record<string, unknown>;
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, oid: deployer })).toString("base64url")}.${signature}`;
    const answer = await arm.call("GET", servicePath(), { token: forged });
    expect([answer.status, answer.body]).toEqual([
      401,
      { error: { code: "InvalidAuthenticationToken", message: "The access token is invalid." } },
    ]);
  });

  it("refuses a token of another tenant for the subscription", async () => {
    const answer = await arm.call("GET", groupPath(), {
      token: await arm.token({ tid: "0ther000-0000-4000-8000-000000000000" }),
    });
    expect(answer.status).toBe(401);
    expect((answer.body?.error as { code: string }).code).toBe("InvalidAuthenticationTokenTenant");
  });

  it("answers 404 for an unknown subscription and for missing resources, in ARM's words", async () => {
    const other = "00000000-0000-4000-8000-00000000beef";
    expect((await arm.call("GET", `/subscriptions/${other}/resourceGroups/rg?api-version=2021-04-01`)).body).toEqual({
      error: { code: "SubscriptionNotFound", message: `The subscription '${other}' could not be found.` },
    });
    expect((await arm.call("GET", servicePath("apim-missing", "rg-missing"))).body).toEqual({
      error: { code: "ResourceGroupNotFound", message: "Resource group 'rg-missing' could not be found." },
    });
    await arm.call("PUT", `${groupPath("rg-empty")}?api-version=2021-04-01`, { body: { location: "westeurope" } });
    const missingService = await arm.call("PUT", `${servicePath("apim-missing", "rg-empty")}/apis/orders`, {
      body: { properties: { path: "orders" } },
    });
    expect([missingService.status, missingService.body]).toEqual([
      404,
      {
        error: {
          code: "ResourceNotFound",
          message:
            "The Resource 'Microsoft.ApiManagement/service/apim-missing' under resource group 'rg-empty' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        },
      },
    ]);
  });

  it("serves API Management at api-version 2024-05-01 only", async () => {
    const answer = await arm.call("GET", `${servicePath()}?api-version=2022-08-01`);
    expect([answer.status, (answer.body?.error as { code: string }).code]).toEqual([400, "NoRegisteredProviderFound"]);
  });
});

describe("resource round trips", () => {
  beforeAll(() => createService("rg-apim-dev", "apim-contoso-dev"));

  it("creates an APIM service that has succeeded, with its gateway URL, and finds it again", async () => {
    const answer = await arm.call("GET", servicePath());
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      id: servicePath(),
      name: "apim-contoso-dev",
      type: "Microsoft.ApiManagement/service",
      location: "westeurope",
      sku: { name: "Developer", capacity: 1 },
      properties: {
        publisherName: "Contoso",
        provisioningState: "Succeeded",
        createdAtUtc: armNow.toISOString(),
        gatewayUrl: "https://127.0.0.1:8443/gateway/apim-contoso-dev",
      },
    });
    expect(answer.headers.get("etag")).toMatch(/^"[0-9a-f-]{36}"$/);
  });

  it("finds a resource whatever the casing of its path, and answers with the casing it was created with", async () => {
    const answer = await arm.call(
      "GET",
      servicePath().toLowerCase().replace("microsoft.apimanagement", "MICROSOFT.APIMANAGEMENT"),
    );
    expect(answer.body?.id).toBe(servicePath());
  });

  it("creates, updates, reads and deletes an API with its operation and policy", async () => {
    const apiPath = `${servicePath()}/apis/orders`;
    const created = await arm.call("PUT", apiPath, {
      body: {
        properties: {
          displayName: "Orders",
          path: "orders",
          serviceUrl: "https://orders.example",
          protocols: ["https"],
          subscriptionRequired: false,
        },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: apiPath,
      type: "Microsoft.ApiManagement/service/apis",
      name: "orders",
      properties: {
        apiRevision: "1",
        subscriptionRequired: false,
        subscriptionKeyParameterNames: { header: "Ocp-Apim-Subscription-Key", query: "subscription-key" },
        displayName: "Orders",
        path: "orders",
        serviceUrl: "https://orders.example",
        protocols: ["https"],
        isCurrent: true,
        provisioningState: "Succeeded",
      },
    });
    const updated = await arm.call("PUT", apiPath, {
      body: { properties: { displayName: "Orders v2", path: "orders" } },
    });
    expect([updated.status, (updated.body?.properties as { displayName: string }).displayName]).toEqual([
      200,
      "Orders v2",
    ]);

    const operation = await arm.call("PUT", `${apiPath}/operations/get-any`, {
      body: { properties: { displayName: "GET /*", method: "GET", urlTemplate: "/*" } },
    });
    expect(operation.status).toBe(201);
    const policy = await arm.call("PUT", `${apiPath}/policies/policy`, {
      body: { properties: { format: "rawxml", value: policyXml } },
    });
    expect(policy.status).toBe(201);
    // APIM answers with its own re-serialised copy, never with the format: only the store keeps what was sent.
    expect(policy.body?.properties).toEqual({
      value: "<policies>\r\n\t<inbound>\r\n\t\t<base />\r\n\t</inbound>\r\n</policies>\r\n",
    });
    expect(arm.store.get(`${apiPath}/policies/policy`)?.body.properties).toEqual({
      format: "rawxml",
      value: policyXml,
    });
    expect((await arm.call("GET", `${apiPath}/operations`)).body?.value).toEqual([
      {
        id: `${apiPath}/operations/get-any`,
        type: "Microsoft.ApiManagement/service/apis/operations",
        name: "get-any",
        properties: { templateParameters: [], responses: [], displayName: "GET /*", method: "GET", urlTemplate: "/*" },
      },
    ]);

    expect((await arm.call("DELETE", apiPath)).status).toBe(200);
    expect((await arm.call("GET", `${apiPath}/policies/policy`)).body).toEqual({
      error: { code: "ResourceNotFound", message: "Api not found." },
    });
    expect((await arm.call("DELETE", apiPath)).status).toBe(204);
  });

  it("refuses a second API on the same path and an operation whose template parameters are not declared", async () => {
    await arm.call("PUT", `${servicePath()}/apis/billing`, { body: { properties: { path: "billing" } } });
    const clash = await arm.call("PUT", `${servicePath()}/apis/billing2`, {
      body: { properties: { path: "Billing/" } },
    });
    expect([clash.status, clash.body]).toEqual([
      400,
      {
        error: {
          code: "ValidationError",
          message: "One or more fields contain incorrect values:",
          details: [
            {
              code: "ValidationError",
              target: "path",
              message: "Cannot create API with path 'Billing': it is used by API 'billing'.",
            },
          ],
        },
      },
    ]);
    const operation = await arm.call("PUT", `${servicePath()}/apis/billing/operations/get-invoice`, {
      body: { properties: { displayName: "Get invoice", method: "GET", urlTemplate: "/invoices/{id}" } },
    });
    expect((operation.body?.error as { details: unknown }).details).toEqual([
      {
        code: "ValidationError",
        target: "templateParameters",
        message: "All template parameters used in the UriTemplate must be defined in the Operation",
      },
    ]);
  });

  it("imports operations from an inline OpenAPI document", async () => {
    const value = readFileSync("tests/fixtures/orders.openapi.yaml", "utf8");
    const apiPath = `${servicePath()}/apis/imported`;
    expect(
      (await arm.call("PUT", apiPath, { body: { properties: { path: "imported", format: "openapi", value } } })).status,
    ).toBe(201);
    const operations = (await arm.call("GET", `${apiPath}/operations`)).body?.value as {
      name: string;
      properties: unknown;
    }[];
    expect(operations.map((op) => [op.name, op.properties])).toContainEqual([
      "getorder",
      {
        templateParameters: [{ name: "id", type: "string", required: true, values: [] }],
        responses: [],
        displayName: "getOrder",
        method: "GET",
        urlTemplate: "/orders/{id}",
      },
    ]);
  });

  it("keeps an authorization server's secret out of GET and returns it from listSecrets", async () => {
    const serverPath = `${servicePath()}/authorizationServers/orders-entra`;
    const properties = {
      displayName: "Orders (Entra ID)",
      clientRegistrationEndpoint: "http://localhost",
      authorizationEndpoint: `https://login.example/${tenantId}/oauth2/v2.0/authorize`,
      tokenEndpoint: `https://login.example/${tenantId}/oauth2/v2.0/token`,
      grantTypes: ["clientCredentials"],
      clientId: "c11e0000-aaaa-4bbb-8ccc-000000000002",
      clientSecret: "portal-secret",
    };
    expect((await arm.call("PUT", serverPath, { body: { properties } })).status).toBe(201);
    const { clientSecret: _secret, ...visible } = properties;
    expect((await arm.call("GET", serverPath)).body?.properties).toEqual(visible);
    expect((await arm.call("POST", `${serverPath}/listSecrets`)).body).toEqual({
      clientSecret: "portal-secret",
      resourceOwnerUsername: null,
      resourceOwnerPassword: null,
    });
    const missingServer = await arm.call("PUT", `${servicePath()}/apis/portal`, {
      body: {
        properties: {
          path: "portal",
          authenticationSettings: { oAuth2AuthenticationSettings: [{ authorizationServerId: "nope" }] },
        },
      },
    });
    expect((missingServer.body?.error as { details: unknown }).details).toEqual([
      { code: "ValidationError", target: "authorizationServerId", message: "Authorization server 'nope' not found." },
    ]);
  });

  it("deletes a service with everything in it", async () => {
    await createService("rg-apim-gone", "apim-gone");
    await arm.call("PUT", `${servicePath("apim-gone", "rg-apim-gone")}/apis/a`, {
      body: { properties: { path: "a" } },
    });
    expect((await arm.call("DELETE", servicePath("apim-gone", "rg-apim-gone"))).status).toBe(200);
    expect(arm.store.ofType("Microsoft.ApiManagement/service/apis").map((api) => api.id)).not.toContain(
      `${servicePath("apim-gone", "rg-apim-gone")}/apis/a`,
    );
  });
});

describe("role-based access", () => {
  const scope = servicePath("apim-rbac", "rg-rbac");
  const assign = (principalId: string, roleId: string) =>
    ensureRoleAssignment(arm.store, { subscriptionId, scope, principalId, roleId }, armNow);

  beforeAll(async () => {
    await createService("rg-rbac", "apim-rbac");
    assign(deployer, apimServiceContributor);
  });

  it("lets API Management Service Contributor manage APIs of its service but not assign roles", async () => {
    const token = await arm.token({ oid: deployer });
    expect(
      (await arm.call("PUT", `${scope}/apis/orders`, { body: { properties: { path: "orders" } }, token })).status,
    ).toBe(201);
    const roleAssignment = `${scope}/providers/Microsoft.Authorization/roleAssignments/3f1e0000-0000-4000-8000-000000000001?api-version=2022-04-01`;
    const refused = await arm.call("PUT", roleAssignment, {
      body: {
        properties: {
          principalId: deployer,
          roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${reader}`,
        },
      },
      token,
    });
    expect([refused.status, refused.body]).toEqual([
      403,
      {
        error: {
          code: "AuthorizationFailed",
          message: `The client '${deployer}' with object id '${deployer}' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write' over scope '${scope}/providers/Microsoft.Authorization/roleAssignments/3f1e0000-0000-4000-8000-000000000001' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
        },
      },
    ]);
    const elsewhere = await arm.call("GET", servicePath(), { token });
    expect([elsewhere.status, (elsewhere.body?.error as { code: string }).code]).toEqual([403, "AuthorizationFailed"]);
  });

  it("lets Reader read but not write", async () => {
    const readerId = "4e000000-0000-4000-8000-000000000003";
    assign(readerId, reader);
    const token = await arm.token({ oid: readerId });
    expect((await arm.call("GET", scope, { token })).status).toBe(200);
    expect(
      (await arm.call("PUT", `${scope}/apis/reader`, { body: { properties: { path: "reader" } }, token })).status,
    ).toBe(403);
  });

  it("creates role assignments with a GUID name, once per principal, role and scope, and serves the built-in roles", async () => {
    const path = (name: string) =>
      `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`;
    const body = {
      properties: {
        principalId: "77000000-0000-4000-8000-000000000007",
        principalType: "ServicePrincipal",
        roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${reader}`,
      },
    };
    expect((await arm.call("PUT", path("not-a-guid"), { body })).body).toEqual({
      error: {
        code: "InvalidRoleAssignmentId",
        message: "The role assignment ID 'not-a-guid' is not valid. The role assignment ID must be a GUID.",
      },
    });
    const created = await arm.call("PUT", path("aa000000-0000-4000-8000-00000000000a"), { body });
    expect(created.status).toBe(201);
    expect(created.body?.properties).toMatchObject({
      roleDefinitionId: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${reader}`,
      principalType: "ServicePrincipal",
      scope,
      createdBy: adminId,
    });
    expect((await arm.call("PUT", path("bb000000-0000-4000-8000-00000000000b"), { body })).body).toEqual({
      error: { code: "RoleAssignmentExists", message: "The role assignment already exists." },
    });
    const moved = { properties: { ...body.properties, principalId: deployer } };
    expect((await arm.call("PUT", path("aa000000-0000-4000-8000-00000000000a"), { body: moved })).body).toEqual({
      error: {
        code: "RoleAssignmentUpdateNotPermitted",
        message: "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
      },
    });
    const definition = await arm.call(
      "GET",
      `${scope}/providers/Microsoft.Authorization/roleDefinitions/${apimServiceContributor}?api-version=2022-05-01-preview`,
    );
    expect(definition.body).toMatchObject({
      id: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${apimServiceContributor}`,
      name: apimServiceContributor,
      properties: { roleName: "API Management Service Contributor", type: "BuiltInRole" },
    });
  });
});

describe("the store", () => {
  it("creates a service the stack names as existing once, as a Developer tier service with its resource group", () => {
    const store = ArmStore.open();
    const seed = { subscriptionId, resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" };
    expect(ensureApimService(store, seed, armNow)).toEqual({ id: servicePath(), created: true });
    expect(ensureApimService(store, seed, armNow)).toEqual({ id: servicePath(), created: false });
    expect(store.get(servicePath())?.body.sku).toEqual({ name: "Developer", capacity: 1 });
    expect(store.get(groupPath())?.body).toEqual({ location: "westeurope" });
  });

  it("survives a restart from its file, readable by its owner only", () => {
    const dir = mkdtempSync(join(tmpdir(), "arm-store-"));
    try {
      const file = join(dir, "arm.json");
      ensureApimService(ArmStore.open(file), { subscriptionId, resourceGroupName: "rg", serviceName: "apim" }, armNow);
      expect(ArmStore.open(file).get(servicePath("apim", "rg"))?.type).toBe("Microsoft.ApiManagement/service");
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads ARM paths: resources, collections, actions and extension resources", () => {
    expect(parseArmPath(`${servicePath()}/apis/orders/policies/policy`)).toEqual({
      subscriptionId,
      resourceGroup: "rg-apim-dev",
      type: "Microsoft.ApiManagement/service/apis/policies",
      name: "policy",
      id: `${servicePath()}/apis/orders/policies/policy`,
      parentId: `${servicePath()}/apis/orders`,
    });
    expect(parseArmPath(`${servicePath()}/authorizationservers/x/listSecrets`)).toMatchObject({
      type: "Microsoft.ApiManagement/service/authorizationServers",
      name: "x",
      action: "listSecrets",
    });
    expect(parseArmPath(`${servicePath()}/apis`)).toMatchObject({
      type: "Microsoft.ApiManagement/service/apis",
      id: `${servicePath()}/apis`,
      parentId: servicePath(),
    });
    expect(
      parseArmPath(`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleAssignments/g`),
    ).toMatchObject({
      type: "Microsoft.Authorization/roleAssignments",
      parentId: `/subscriptions/${subscriptionId}`,
    });
    expect(parseArmPath("/tenants/x")).toBeUndefined();
  });

  it("re-serialises a policy the way APIM answers it: CRLF line ends and tab indentation", () => {
    expect(apimPolicyCopy("<a>\n  <b>\n     <c/>\n  </b>\n</a>")).toBe("<a>\r\n\t<b>\r\n\t\t <c/>\r\n\t</b>\r\n</a>");
  });
});
