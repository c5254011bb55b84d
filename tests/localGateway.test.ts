// The local gateway (local/gateway.ts) serving what was deployed through the local ARM: the API's path, its
// operations and exactly its stored policy, judged by the project's evaluator with tokens from the Entra stand-in.
// What this cannot prove: that APIM's own gateway behaves the same; the evaluator follows APIM's documentation.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenProfile } from "../entra/tokenProfile";
import { localGatewayUrl } from "../local/gateway";
import { defaultPolicyTemplatePath, renderApiPolicy } from "../policies/renderPolicy";
import { type EntraStandIn, startEntraStandIn } from "./support/entraStandIn";
import {
  type ArmFixture,
  type LocalGatewayFixture,
  servicePath,
  startArmFixture,
  startLocalGateway,
  tenantId,
} from "./support/localArm";

const client = { clientId: "c11e0000-aaaa-4bbb-8ccc-000000000002", secret: "client-secret" };
const role = { id: "0d0e0000-0000-4000-8000-000000000001", value: "access_as_app" };
const apiClientId = "a91e0000-aaaa-4bbb-8ccc-000000000010";
/** The API's registration as Entra holds it: v2 tokens, the one app role assigned to the client. */
const ordersApi = {
  clientId: apiClientId,
  identifierUri: `api://${apiClientId}`,
  tokenVersion: 2 as const,
  appRoleAssignmentRequired: true,
  roles: [role],
};

let entra: EntraStandIn;
let arm: ArmFixture;
let gateway: LocalGatewayFixture;
const apiPath = `${servicePath()}/apis/orders`;

function policyRequiring(appRole: string): string {
  const profile = tokenProfile({
    authorityHost: entra.authorityHost,
    tenantId,
    apiClientId: ordersApi.clientId,
    tokenVersion: 2,
  });
  const check = { validation: "validate-jwt" as const, profile, tenantId, appRole, clockSkewSeconds: 60 };
  return renderApiPolicy(check, readFileSync(defaultPolicyTemplatePath, "utf8"));
}

async function deployPolicy(value: string) {
  expect(
    (await arm.call("PUT", `${apiPath}/policies/policy`, { body: { properties: { format: "rawxml", value } } })).status,
  ).toBeLessThan(300);
}

async function accessToken(): Promise<string> {
  const response = await fetch(`${entra.authorityHost}/${tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: client.clientId,
      client_secret: client.secret,
      scope: `${ordersApi.identifierUri}/.default`,
    }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

const call = async (path: string, authorization?: string, method = "GET") => {
  const response = await fetch(`${localGatewayUrl(gateway.url, "apim-contoso-dev")}${path}`, {
    method,
    headers: authorization ? { authorization } : {},
  });
  return { status: response.status, body: (await response.json()) as unknown };
};

beforeAll(async () => {
  entra = await startEntraStandIn({
    tenantId,
    clients: [client],
    apis: [ordersApi],
    assignments: [
      { clientId: client.clientId, apiClientId: ordersApi.clientId, roleId: "0d0e0000-0000-4000-8000-000000000001" },
    ],
    tokenLifetimeSeconds: 600,
  });
  arm = await startArmFixture();
  gateway = await startLocalGateway(arm, entra.authorityHost);
  await arm.call(
    "PUT",
    "/subscriptions/5b0c0000-1111-4222-8333-444455556666/resourceGroups/rg-apim-dev?api-version=2021-04-01",
    {
      body: { location: "westeurope" },
    },
  );
  await arm.call("PUT", servicePath(), {
    body: {
      location: "westeurope",
      sku: { name: "Developer", capacity: 1 },
      properties: { publisherName: "C", publisherEmail: "c@c.example" },
    },
  });
  await arm.call("PUT", apiPath, {
    body: {
      properties: {
        path: "orders",
        serviceUrl: "https://orders.example",
        protocols: ["https"],
        subscriptionRequired: false,
      },
    },
  });
  for (const method of ["GET", "POST"]) {
    await arm.call("PUT", `${apiPath}/operations/${method.toLowerCase()}-any`, {
      body: { properties: { displayName: `${method} /*`, method, urlTemplate: "/*" } },
    });
  }
  await deployPolicy(policyRequiring("access_as_app"));
});

afterAll(async () => {
  await Promise.all([entra?.close(), arm?.close(), gateway?.close()]);
});

describe("the local gateway", () => {
  it("relays a request with a good token to the echo backend", async () => {
    const before = gateway.echo.requests;
    expect(await call("/orders/items/42?expand=lines", `Bearer ${await accessToken()}`)).toEqual({
      status: 200,
      body: { method: "GET", path: "/items/42?expand=lines" },
    });
    expect(gateway.echo.requests).toBe(before + 1);
  });

  it("answers 401 to a forged token and to none, with the policy's message, before the backend", async () => {
    const before = gateway.echo.requests;
    const [head, payload, signature] = (await accessToken()).split(".");
    const claims = JSON.parse(Buffer.from(payload as string, "base64url").toString()) as Record<string, unknown>;
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, roles: ["admin"] })).toString("base64url")}.${signature}`;
    expect(await call("/orders/items", `Bearer ${forged}`)).toEqual({
      status: 401,
      body: { statusCode: 401, message: "Unauthorized" },
    });
    expect(await call("/orders/items")).toEqual({ status: 401, body: { statusCode: 401, message: "Unauthorized" } });
    expect(gateway.echo.requests).toBe(before);
  });

  it("answers 404 outside every deployed API and to a method no operation has", async () => {
    const token = `Bearer ${await accessToken()}`;
    expect(await call("/billing/items", token)).toEqual({
      status: 404,
      body: { statusCode: 404, message: "Resource not found" },
    });
    expect(await call("/orders/items", token, "DELETE")).toEqual({
      status: 404,
      body: { statusCode: 404, message: "Resource not found" },
    });
  });

  it("enforces the policy deployed now: a redeployed policy applies to the next request", async () => {
    await deployPolicy(policyRequiring("orders.admin"));
    try {
      expect((await call("/orders/items", `Bearer ${await accessToken()}`)).status).toBe(401);
    } finally {
      await deployPolicy(policyRequiring("access_as_app"));
    }
    expect((await call("/orders/items", `Bearer ${await accessToken()}`)).status).toBe(200);
  });

  it("forwards every request of an API without a token check, as APIM does, and refuses to guess at one it cannot read", async () => {
    await deployPolicy("<policies><inbound><base /></inbound></policies>");
    try {
      expect((await call("/orders/items")).status).toBe(200);
      await deployPolicy(
        `<policies><inbound><choose><when condition="@(true)"><validate-jwt header-name="Authorization" /></when></choose></inbound></policies>`,
      );
      const answer = await call("/orders/items");
      expect(answer.status).toBe(500);
      expect(answer.body).toMatchObject({
        message: expect.stringMatching(/^The local gateway cannot enforce this API's policy: /),
      });
    } finally {
      await deployPolicy(policyRequiring("access_as_app"));
    }
  });

  it("asks for a subscription key before any policy when the API requires one, as APIM does by default", async () => {
    await arm.call("PATCH", apiPath, { body: { properties: { subscriptionRequired: true } } });
    try {
      expect(await call("/orders/items", `Bearer ${await accessToken()}`)).toEqual({
        status: 401,
        body: {
          statusCode: 401,
          message:
            "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.",
        },
      });
    } finally {
      await arm.call("PATCH", apiPath, { body: { properties: { subscriptionRequired: false } } });
    }
    expect((await call("/orders/items", `Bearer ${await accessToken()}`)).status).toBe(200);
  });
});
