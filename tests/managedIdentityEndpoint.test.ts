// End to end on loopback, per token version: the program's managed identities and grants (evaluated under the mock
// engine) seed the identity endpoint of local/managedIdentityEndpoint.ts, Azure Identity's DefaultAzureCredential gets
// its token there as it would on App Service (IDENTITY_ENDPOINT and IDENTITY_HEADER), and the gateway enforces the
// program's own policy with the stand-in tenant's keys. The granted identity gets 200; the one not granted gets no token
// (AADSTS501051, which names it), as Entra answers when the API requires assignment. What this cannot prove: Azure's own
// host endpoints and Entra's issuance beyond what their documentation says, nor the hours a host caches a token.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DefaultAzureCredential } from "@azure/identity";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BoundedServer, listenBounded } from "../local/http";
import {
  type LocalManagedIdentity,
  type ManagedIdentityDirectory,
  managedIdentityEndpoint,
} from "../local/managedIdentityEndpoint";
import { runExplain } from "../tools/explain";
import type { MockEvaluation } from "../tools/preview/mockEngine";
import { parseStackOutputs } from "../tools/sign-in/stackOutputs";
import { type EntraStandIn, startEntraStandIn } from "./support/entraStandIn";
import { evaluate, guideApi, guideConfig } from "./support/evaluate";
import { type RunningStandIn, startBackendStandIn, startGatewayStandIn } from "./support/gatewayStandIn";

const tenantId = guideConfig().tenantId as string;
const identityHeader = "local-identity-header";

// One tenant and one identity endpoint for both token versions: Azure Identity (MSAL Node) keeps the managed-identity
// source it found, and the tokens it got, for the whole process, so each version's identities have names of their own.
let entra: EntraStandIn;
let endpoint: BoundedServer;
let current: ManagedIdentityDirectory | undefined;
const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };

beforeAll(async () => {
  const signingKey = await generateKeyPair("RS256", { modulusLength: 2048 });
  entra = await startEntraStandIn({ tenantId, clients: [], apis: [], assignments: [], signingKey });
  const handle = managedIdentityEndpoint({
    directory: {
      tenantId,
      identities: () => current?.identities() ?? [],
      resource: (resource) => current?.resource(resource),
    },
    authorityHost: () => entra.authorityHost,
    sign: (claims) =>
      new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: entra.kid }).sign(signingKey.privateKey),
    identityHeader,
    now: () => Date.now() / 1000,
  });
  endpoint = await listenBounded(async (request, response) => {
    if (!(await handle(request, response))) response.writeHead(404).end();
  });
  process.env.IDENTITY_ENDPOINT = `${endpoint.url}/msi/token`;
  process.env.IDENTITY_HEADER = identityHeader;
});

afterAll(async () => {
  for (const [name, value] of [
    ["IDENTITY_ENDPOINT", saved.endpoint],
    ["IDENTITY_HEADER", saved.header],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await Promise.all([entra?.close(), endpoint?.close()]);
});

/**
 * The directory the deployed program leaves for its managed identities: each identity's principal and client id from
 * the outputs, and the roles its AppRoleAssignments give it on each API's service principal. Only what the program
 * registered: an identity it did not grant has no role.
 */
function directoryOf(evaluation: MockEvaluation): ManagedIdentityDirectory {
  const outputs = parseStackOutputs(evaluation.outputs);
  const raw = evaluation.outputs.clients as Record<string, { principalId?: string; identityResourceId?: string }>;
  const identities: LocalManagedIdentity[] = Object.entries(outputs.clients)
    .filter(([, client]) => client.kind === "managedIdentity")
    .map(([name, client]) => ({
      clientId: client.clientId,
      principalId: String(raw[name]?.principalId),
      displayName: name,
      ...(raw[name]?.identityResourceId ? { resourceId: raw[name]?.identityResourceId } : {}),
    }));
  const of = (type: string) => evaluation.resources.filter((resource) => resource.type === type);
  const principals = of("azuread:index/servicePrincipal:ServicePrincipal");
  const assignments = of("azuread:index/appRoleAssignment:AppRoleAssignment");
  return {
    tenantId,
    identities: () => identities,
    resource: (resource) => {
      const found = Object.entries(outputs.apis).find(
        ([, api]) => api.identifierUri === resource || api.clientId === resource,
      );
      if (!found) return undefined;
      const [name, api] = found;
      const principal = principals.find((sp) => sp.inputs.clientId === api.clientId);
      return {
        clientId: api.clientId,
        identifierUri: api.identifierUri,
        displayName: name,
        tokenVersion: api.tokenVersion,
        appRoleAssignmentRequired: principal?.inputs.appRoleAssignmentRequired === true,
        rolesOf: (principalId) =>
          assignments.some(
            (assignment) =>
              assignment.inputs.principalObjectId === principalId &&
              assignment.inputs.resourceObjectId === principal?.state.objectId &&
              assignment.inputs.appRoleId === api.appRoleId,
          )
            ? [api.appRole]
            : [],
      };
    },
  };
}

describe.each([1, 2] as const)("token version %i: a managed identity's token through the gateway", (tokenVersion) => {
  let backend: RunningStandIn;
  let gateway: RunningStandIn;
  let dir: string;
  let worker: { clientId: string; scopes: Record<string, string> };
  let idle: { clientId: string; scopes: Record<string, string> };
  const workerName = `worker-v${tokenVersion}`;
  const idleName = `idle-v${tokenVersion}`;
  const idlePrincipal = `1d1e0000-0000-4000-8000-00000000000${tokenVersion}`;

  beforeAll(async () => {
    const evaluation = await evaluate(
      guideConfig({
        authorityHost: entra.authorityHost,
        apis: [guideApi({ tokenVersion, callers: ["applications"] })],
        clients: [
          {
            name: workerName,
            displayName: "Orders worker",
            kind: "managedIdentity",
            identity: { resourceGroupName: "rg-workers", location: "westeurope" },
            apis: ["orders"],
          },
          // An existing identity the stack knows but grants nothing.
          { name: idleName, displayName: "Idle site", kind: "managedIdentity", principalId: idlePrincipal },
        ],
      }),
    );
    const outputs = parseStackOutputs(evaluation.outputs);
    worker = outputs.clients[workerName] as typeof worker;
    idle = outputs.clients[idleName] as typeof idle;
    current = directoryOf(evaluation);
    const orders = outputs.apis.orders as { url: string; policy: string };
    backend = await startBackendStandIn();
    gateway = await startGatewayStandIn({
      apis: [
        { path: new URL(orders.url).pathname.replace(/^\/+/, ""), policyXml: orders.policy, backendUrl: backend.url },
      ],
    });
    dir = await mkdtemp(join(tmpdir(), "managed-identity-e2e-"));
    await writeFile(join(dir, "policy.xml"), orders.policy);
  });

  afterAll(async () => {
    await Promise.all([backend?.close(), gateway?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the granted identity gets its token with DefaultAzureCredential and 200 through the gateway", async () => {
    const credential = new DefaultAzureCredential({ managedIdentityClientId: worker.clientId });
    const { token } = await credential.getToken(worker.scopes.orders as string);
    const answer = await fetch(`${gateway.url}/orders/`, { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(200);
  });

  it("the identity not granted gets no token: AADSTS501051 names it", async () => {
    const credential = new DefaultAzureCredential({ managedIdentityClientId: idle.clientId });
    await expect(credential.getToken("api://mock-orders-app-client-id/.default")).rejects.toThrow(
      `AADSTS501051: Application '${idle.clientId}'(${idleName}) is not assigned to a role for the application 'api://mock-orders-app-client-id'(orders).`,
    );
  });

  it("explain names the identity's token by its client id, principal and idtyp", async () => {
    const credential = new DefaultAzureCredential({ managedIdentityClientId: worker.clientId });
    const { token } = await credential.getToken(worker.scopes.orders as string);
    const metadataPath =
      tokenVersion === 2 ? "v2.0/.well-known/openid-configuration" : ".well-known/openid-configuration";
    const document = (await (await fetch(`${entra.authorityHost}/${tenantId}/${metadataPath}`)).json()) as {
      jwks_uri: string;
    };
    await writeFile(join(dir, "openid.json"), JSON.stringify(document));
    await writeFile(join(dir, "keys.json"), JSON.stringify(await (await fetch(document.jwks_uri)).json()));
    const lines: string[] = [];
    const status = await runExplain(
      [
        "--policy",
        join(dir, "policy.xml"),
        "--token",
        token,
        "--openid-config",
        join(dir, "openid.json"),
        "--jwks",
        join(dir, "keys.json"),
      ],
      { out: (text) => lines.push(text), err: (text) => lines.push(text) },
    );
    expect([status, lines.join("\n").split("\n")]).toEqual([
      0,
      expect.arrayContaining([
        "ACCEPT",
        `  ${tokenVersion === 2 ? "azp" : "appid"}: ${worker.clientId}`,
        "  idtyp: app",
        `  oid: mock-${workerName}-identity-principal-id`,
        "  roles: access_as_app",
      ]),
    ]);
  });
});

describe("the endpoint's two documented shapes", () => {
  const clientId = "mock-worker-v2-identity-client-id";
  const resource = encodeURIComponent("api://mock-orders-app-client-id");
  const get = async (path: string, headers: Record<string, string>) => {
    const answer = await fetch(`${endpoint.url}${path}`, { headers });
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
  };

  it("IMDS: Metadata: true and api-version 2018-02-01, answering expires_in, expires_on and not_before", async () => {
    const path = `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${resource}&client_id=${clientId}`;
    const { status, body } = await get(path, { metadata: "true" });
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(
      ["access_token", "expires_in", "expires_on", "not_before", "refresh_token", "resource", "token_type"].sort(),
    );
    expect([body.expires_in, body.resource, body.token_type, body.refresh_token]).toEqual([
      "3600",
      "api://mock-orders-app-client-id",
      "Bearer",
      "",
    ]);
    expect(await get(path, {})).toEqual({
      status: 400,
      body: { error: "bad_request_102", error_description: "Required metadata header not specified" },
    });
  });

  it("App Service: refuses a request without IDENTITY_HEADER, and an identity the host does not run", async () => {
    const path = (id: string) => `/msi/token?api-version=2019-08-01&resource=${resource}&client_id=${id}`;
    expect((await get(path(clientId), {})).status).toBe(401);
    expect(await get(path("c0ffee00-0000-4000-8000-000000000000"), { "x-identity-header": identityHeader })).toEqual({
      status: 400,
      body: {
        error: "invalid_request",
        error_description: "No managed identity on this host has client_id c0ffee00-0000-4000-8000-000000000000.",
      },
    });
    const { status, body } = await get(path(clientId), { "x-identity-header": identityHeader });
    expect([status, body.client_id, body.token_type]).toEqual([200, clientId, "Bearer"]);
  });
});
