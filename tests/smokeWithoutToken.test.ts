// smoke where no token can be had (user-facing clients, a federated client without an assertion): it must pass a
// deployment that works and fail one whose gateway or metadata does not, without any token. The stand-ins play Entra's
// metadata and the APIM gateway judging with the evaluated program's own policy. What this cannot prove: that real
// Entra publishes the same documents, or that real APIM answers 401 the same way (only a deployment shows that).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MockEvaluation } from "../tools/preview/mockEngine";
import { runSmoke, type SmokeIo } from "../tools/smoke";
import { assertionSources } from "../tools/token";
import { type EntraStandIn, type EntraStandInOptions, startEntraStandIn } from "./support/entraStandIn";
import { evaluate, guideApi, guideClient, guideConfig } from "./support/evaluate";
import { type RunningStandIn, startBackendStandIn, startGatewayStandIn } from "./support/gatewayStandIn";
import { entraDirectoryOf } from "./support/stackDirectory";

const tenantId = guideConfig().tenantId as string;
const webClient = guideClient({
  name: "portal",
  displayName: "Orders-Web",
  kind: "web",
  redirectUris: ["https://orders.example.com/signin-oidc"],
});
const spaClient = {
  name: "browser",
  displayName: "Orders-SPA",
  kind: "spa",
  credential: "none",
  redirectUris: ["https://orders.example.com/"],
  apis: ["orders"],
};
const pipelineClient = {
  name: "pipeline",
  displayName: "Pipeline",
  credential: "federated",
  federatedCredentials: [
    { name: "prod", issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/orders:ref:main" },
  ],
  apis: ["orders"],
};

function capture(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: SmokeIo = {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    env,
    sleep: async () => undefined,
  };
  return { io, out, err, all: () => [...out, ...err].join("\n") };
}

/** The table's data rows as [check, expected, actual, result], split on the aligned columns. */
const rowsOf = (out: string[]) =>
  out
    .join("\n")
    .split("\n")
    .filter((line) => /\s(pass|FAIL|SKIP)$/.test(line))
    .map((line) => line.split(/\s{2,}/));

describe("smoke without a token", () => {
  let entra: EntraStandIn;
  let backend: RunningStandIn;
  let gateway: RunningStandIn;
  let openGateway: RunningStandIn;
  let evaluation: MockEvaluation;
  let dir: string;
  let policy: string;
  /** The stack's outputs with its API at `gatewayUrl` and only the named clients, written to a file. */
  let outputsFile: (clients: string[], gatewayUrl?: string, editPolicy?: (xml: string) => string) => Promise<string>;

  beforeAll(async () => {
    const directory: EntraStandInOptions = { tenantId, clients: [], apis: [], assignments: [] };
    entra = await startEntraStandIn(directory);
    evaluation = await evaluate(
      guideConfig({
        authorityHost: entra.authorityHost,
        apis: [guideApi({ callers: ["applications", "users"], scope: "access_as_user" })],
        clients: [guideClient(), webClient, spaClient, pipelineClient],
      }),
    );
    const deployed = entraDirectoryOf(evaluation);
    entra.seed(deployed);
    const api = (evaluation.outputs as { apis: { orders: { url: string; policy: string } } }).apis.orders;
    policy = api.policy;
    backend = await startBackendStandIn();
    gateway = await startGatewayStandIn({ apis: [{ path: "orders", policyXml: policy, backendUrl: backend.url }] });
    // A gateway with no token check at all: it relays everything.
    openGateway = await startBackendStandIn();
    dir = await mkdtemp(join(tmpdir(), "smoke-without-token-"));
    let count = 0;
    outputsFile = async (clients, gatewayUrl = gateway.url, editPolicy = (xml) => xml) => {
      const outputs = structuredClone(evaluation.outputs) as {
        clients: Record<string, unknown>;
        apis: { orders: { url: string; policy: string } };
      };
      outputs.clients = Object.fromEntries(Object.entries(outputs.clients).filter(([name]) => clients.includes(name)));
      outputs.apis.orders.url = `${gatewayUrl}/orders`;
      outputs.apis.orders.policy = editPolicy(outputs.apis.orders.policy);
      const file = join(dir, `outputs-${(count += 1)}.json`);
      await writeFile(file, JSON.stringify(outputs), { mode: 0o600 });
      return file;
    };
  });

  afterAll(async () => {
    await Promise.all([entra?.close(), backend?.close(), gateway?.close(), openGateway?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("passes a stack whose clients are all user-facing, checking each API without a token, and says so", async () => {
    const { io, out, all } = capture();

    const status = await runSmoke(["--outputs", await outputsFile(["portal", "browser"])], io);

    expect(status, all()).toBe(0);
    expect(out[0]).toBe(
      "smoke: every client of the stack is user-facing (portal: web, browser: spa): their tokens are a signed-in user's, which smoke cannot get unattended; get one with npm run token -- --client <name> --auth-code (or --device-code) and judge it with npm run explain.",
    );
    expect(out[1]).toBe(
      "smoke: checking without a token; the token path (Entra issuing a token the gateway accepts) is not checked.",
    );
    expect(out[2]).toBe(`smoke: API orders at ${gateway.url}/orders/`);
    const issuer = `${entra.authorityHost}/${tenantId}/v2.0`;
    const scope = `scope="api://${(evaluation.outputs as { apis: { orders: { clientId: string } } }).apis.orders.clientId}/.default"`;
    expect(rowsOf(out)).toEqual([
      ["metadata issuer", issuer, issuer, "pass"],
      ["metadata signing keys", "at least 1", `1 from ${entra.authorityHost}/${tenantId}/discovery/v2.0/keys`, "pass"],
      ["GET without token", "401", `401 Bearer ${scope}`, "pass"],
      ["GET with forged token", "401", `401 Bearer error="invalid_token", ${scope}`, "pass"],
    ]);
    expect(out.at(-1)).toBe("4 of 4 checks passed, without a token");
  });

  it.each([
    [
      "browser",
      "client browser is a spa client: its tokens are a signed-in user's, which smoke cannot get unattended; get a user's token from the single-page app and judge it with npm run explain",
    ],
    [
      "portal",
      "client portal is a web client: its tokens are a signed-in user's, which smoke cannot get unattended; get the user's token with npm run token -- --client portal --auth-code and judge it with npm run explain",
    ],
    [
      "pipeline",
      `client pipeline signs in with a federated credential and no client assertion was given (${assertionSources}), so it gets no token here`,
    ],
  ])("passes with --client %s, which gets no token here, and says why", async (client, reason) => {
    const { io, out, all } = capture();
    const before = entra.tokenRequests;

    const status = await runSmoke(["--outputs", await outputsFile(["reporting", client]), "--client", client], io);

    expect(status, all()).toBe(0);
    expect(out[0]).toBe(`smoke: ${reason}.`);
    expect(rowsOf(out).map((row) => row[4 - 1])).toEqual(["pass", "pass", "pass", "pass"]);
    expect(entra.tokenRequests).toBe(before);
  });

  it("fails when the gateway lets requests through without checking a token", async () => {
    const { io, out } = capture();

    const status = await runSmoke(["--outputs", await outputsFile(["portal", "browser"], openGateway.url)], io);

    expect(status).toBe(1);
    expect(rowsOf(out).slice(2)).toEqual([
      ["GET without token", "401", "200", "FAIL"],
      ["GET with forged token", "401", "200", "FAIL"],
    ]);
    expect(out.at(-1)).toBe("2 of 4 checks passed, without a token");
  });

  it("fails when the deployed policy pins an issuer the metadata does not publish", async () => {
    const { io, out } = capture();
    const issuer = `${entra.authorityHost}/${tenantId}/v2.0`;
    const wrongIssuer = (xml: string) =>
      xml.replaceAll(`<issuer>${issuer}</issuer>`, "<issuer>https://sts.windows.net/x/</issuer>");
    expect(wrongIssuer(policy)).not.toBe(policy);

    const status = await runSmoke(["--outputs", await outputsFile(["browser"], gateway.url, wrongIssuer)], io);

    expect(status).toBe(1);
    expect(rowsOf(out)[0]).toEqual(["metadata issuer", "https://sts.windows.net/x/", issuer, "FAIL"]);
  });

  it("still takes the token path for a daemon client with a secret", async () => {
    const { io, out, all } = capture();

    const status = await runSmoke(
      ["--outputs", await outputsFile(["reporting", "browser"]), "--client", "reporting"],
      io,
    );

    expect(status, all()).toBe(0);
    expect(all()).not.toContain("without a token");
    expect(out[0]).toBe(`smoke: client reporting → API orders (v2 tokens) at ${gateway.url}/orders/`);
    expect(out.at(-1)).toBe("9 of 9 checks passed");
  });

  it("asks which client when the stack has a daemon client among several, as before", async () => {
    const { io, err } = capture();

    expect(await runSmoke(["--outputs", await outputsFile(["reporting", "browser"])], io)).toBe(2);
    expect(err[0]).toBe("error: the stack has 2 clients (reporting, browser); choose one with --client <name>");
  });
});
