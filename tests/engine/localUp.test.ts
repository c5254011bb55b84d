// npm run local -- up of the committed Pulumi.dev.yaml (and Pulumi.prod.yaml) as it is: the real Pulumi CLI (built by
// npm run local -- install) with our Node.js language host runs index.ts, our azuread and azure-native providers
// create the stack in the local tenant's directory and ARM, and the smoke test calls the API through the local
// gateway, which enforces the policy up deployed. The tenant, its state and the CLI's plugins and state live in a
// temporary .local root, on a port the system chooses. What this cannot prove: that Microsoft's azuread and
// azure-native providers, Entra ID, Graph and APIM behave as ours do (local/providers/*, local/graph.ts, local/arm.ts
// and local/gateway.ts follow their documented behaviour); only the engine, the CLI and the program are the real thing.
import * as fs from "node:fs";
import * as path from "node:path";
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../local/engine";
import { localSubscriptionId } from "../../local/server";
import { parseStackOutputs, type StackOutputs } from "../../tools/sign-in/stackOutputs";
import { createAssignedGroups } from "./support/assignedGroups";
import { callApi, clientToken, type LocalSession, startLocalSession } from "./support/localSession";

const stackFile = path.join(projectRoot, "Pulumi.dev.yaml");
const stackFileBytes = fs.readFileSync(stackFile);

let session: LocalSession;
let outputs: StackOutputs;
let directoryBefore: Record<string, number>;

const localOk = (...argv: string[]) => session.localOk(argv);
const rest = (method: string, target: string, body?: unknown) => session.rest(method, target, body);

/** What the tenant's directory holds, by kind, as `npm run local -- status` lists it. */
async function directoryCounts(): Promise<Record<string, number>> {
  const { out } = await localOk("status");
  const lines = out.split("\n").slice(out.split("\n").indexOf("  directory") + 1);
  return Object.fromEntries(
    lines.map((line) => line.trim().split(/\s+/)).map(([kind, count]) => [kind, Number(count)]),
  );
}

/** The reporting client's token for `scope`, which the tenant must issue. */
async function reportingToken(clientId: string, clientSecret: string, scope: string): Promise<string> {
  const tokenEndpoint = outputs.clients.reporting?.tokenEndpoint as string;
  const answer = await clientToken(session, { tokenEndpoint, clientId, clientSecret }, scope);
  if ("refused" in answer) throw new Error(`no token for ${scope}: ${answer.refused}`);
  return answer.token;
}

const serviceId = `/subscriptions/${localSubscriptionId}/resourceGroups/rg-apim-dev/providers/Microsoft.ApiManagement/service/apim-contoso-dev`;

beforeAll(async () => {
  session = await startLocalSession();
  directoryBefore = await directoryCounts();
});

afterAll(async () => {
  await session?.close();
});

describe("npm run local -- up of the dev stack", () => {
  it("deploys Pulumi.dev.yaml as it is with the real engine, and the smoke test passes through the local gateway", async () => {
    const up = await localOk("up");
    expect(up.out).toContain("Created the APIM service apim-contoso-dev (Developer tier)");
    expect(up.out).toMatch(/\+ 24 created/);
    expect(up.out).toMatch(/^GET with token\s+not 401\/403\s+200\s+pass$/m);
    expect(up.out).toContain("9 of 9 checks passed");
    // The CLI wrote its encryptionsalt into the shadow project's copy, not into the project's stack file.
    expect(fs.readFileSync(stackFile)).toEqual(stackFileBytes);
    expect(fs.readFileSync(path.join(session.root, "project", "Pulumi.dev.yaml"), "utf8")).toMatch(
      /^encryptionsalt: v1:/m,
    );
  });

  it("names local addresses in the stack's outputs, and the catalogue as the stack file has it", async () => {
    outputs = parseStackOutputs((await localOk("pulumi", "stack", "output", "--json", "--show-secrets")).out);
    const tenantId = outputs.tenantId as string;
    const login = session.login;
    expect(outputs.authorityHost).toBe(login);
    expect(outputs.gatewayUrl).toBe(`${login}/gateway/apim-contoso-dev`);
    expect(outputs.apis.orders).toMatchObject({
      url: `${login}/gateway/apim-contoso-dev/orders`,
      appRole: "access_as_app",
      tokenVersion: 2,
    });
    expect(outputs.clients.reporting).toMatchObject({
      tokenEndpoint: `${login}/${tenantId}/oauth2/v2.0/token`,
      credential: "secret",
      scopes: { orders: `${outputs.apis.orders?.identifierUri}/.default` },
      secretEndDate: "2027-05-22T00:00:00Z",
    });
  });

  it("refuses at the local gateway a forged token and the client's token for another API; lets its token through", async () => {
    const reporting = outputs.clients.reporting as StackOutputs["clients"][string];
    const api = outputs.apis.orders as StackOutputs["apis"][string];
    const genuine = await reportingToken(
      reporting.clientId,
      reporting.clientSecret ?? "",
      `${api.identifierUri}/.default`,
    );
    expect(await callApi(session, api.url, genuine)).toBe(200);

    // Every claim the policy requires, under the tenant's key id, signed with a key of our own.
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await new SignJWT(decodeJwt(genuine))
      .setProtectedHeader(decodeProtectedHeader(genuine) as { alg: string })
      .sign(privateKey);
    expect(await callApi(session, api.url, forged)).toBe(401);

    // A token the tenant really issued to the same client, for Microsoft Graph.
    const graph = await reportingToken(
      reporting.clientId,
      reporting.clientSecret ?? "",
      `${session.login}/graph/.default`,
    );
    expect(decodeJwt(graph).aud).not.toBe(api.clientId);
    expect(await callApi(session, api.url, graph)).toBe(401);
  });

  it("previews no changes after up, and a refresh finds none in the directory or ARM either", async () => {
    await localOk("pulumi", "preview", "--expect-no-changes", "--stack", "dev");
    await localOk("pulumi", "refresh", "--yes", "--expect-no-changes", "--stack", "dev");
  });

  it("is destroyed: the directory holds what it held before up, ARM no API of the stack; the stack file untouched", async () => {
    const destroyed = await localOk("destroy");
    expect(destroyed.out).toMatch(/- 24 deleted/);
    expect(await directoryCounts()).toEqual({ ...directoryBefore, deletedItems: expect.any(Number) });
    for (const appId of [outputs.clients.reporting?.clientId, outputs.apis.orders?.clientId]) {
      expect((await rest("GET", `graph:/v1.0/applications(appId='${appId}')`)).code).toBe(1);
      expect((await rest("GET", `graph:/v1.0/servicePrincipals(appId='${appId}')`)).code).toBe(1);
    }
    const apis = await rest("GET", `arm:${serviceId}/apis?api-version=2024-05-01`);
    expect(apis.body.value).toEqual([]);
    const servers = await rest("GET", `arm:${serviceId}/authorizationServers?api-version=2024-05-01`);
    expect(servers.body.value).toEqual([]);
    expect(fs.readFileSync(stackFile)).toEqual(stackFileBytes);
  });
});

describe("a stack with several clients (Pulumi.prod.yaml as it is)", () => {
  it("deploys, and the smoke test runs for each client and API it is granted, without a token where smoke needs a person", async () => {
    const prodFile = path.join(projectRoot, "Pulumi.prod.yaml");
    const prodBytes = fs.readFileSync(prodFile);
    await createAssignedGroups(session, "prod");

    const up = await localOk("up", "--stack", "prod");
    const smokeRuns = up.out.split("\n").filter((line) => /checks passed/.test(line));
    expect(smokeRuns).toEqual([
      "4 of 4 checks passed, without a token",
      "4 of 4 checks passed, without a token",
      "9 of 9 checks passed",
    ]);
    expect(up.out).toContain("smoke: client orders-portal is a web client");
    expect(up.out).toContain("smoke: client pipeline signs in with a federated credential");
    expect(up.out).toContain("smoke: client reporting → API orders (v2 tokens)");
    expect(fs.readFileSync(prodFile)).toEqual(prodBytes);
  });
});
