import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { explainAadsts } from "../tools/sign-in/clientCredentials";
import type { MockEvaluation } from "../tools/preview/mockEngine";
import { parseStackOutputs, type StackOutputs } from "../tools/sign-in/stackOutputs";
import { runSmoke } from "../tools/smoke";
import { runToken, type TokenIo } from "../tools/token";
import { type EntraStandIn, type EntraStandInOptions, startEntraStandIn } from "./support/entraStandIn";
import { evaluate, guideApi, guideClient, guideConfig } from "./support/evaluate";
import { type RunningStandIn, startBackendStandIn, startGatewayStandIn } from "./support/gatewayStandIn";
import { entraDirectoryOf } from "./support/stackDirectory";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const delays: number[] = [];
  const io: TokenIo = {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    env: {},
    sleep: async (ms) => {
      delays.push(ms);
    },
  };
  return { io, out, err, delays, all: () => [...out, ...err].join("\n") };
}

/** The smoke table's data rows as [check, result], read from the aligned columns. */
function tableRows(out: string[]): { line: string; result: string }[] {
  const lines = out.join("\n").split("\n");
  const header = lines.findIndex((line) => /^check\s+expected\s+actual\s+result$/.test(line));
  expect(header).toBeGreaterThanOrEqual(0);
  return lines
    .slice(header + 1)
    .filter((line) => !/checks passed$/.test(line))
    .map((line) => ({ line, result: line.trim().split(/\s+/).at(-1) ?? "" }));
}

const tenantId = guideConfig().tenantId as string;

const pipelineIssuer = "https://token.pipeline.example";
const pipelineSubject = "repo:contoso/orders:environment:dev";

/** A secretless client: Entra trusts the pipeline's own tokens for one exact subject. No secret keys at all. */
const pipelineClient = Object.fromEntries(
  Object.entries(
    guideClient({
      name: "pipeline",
      displayName: "Pipeline",
      credential: "federated",
      federatedCredentials: [{ name: "dev", issuer: pipelineIssuer, subject: pipelineSubject }],
    }),
  ).filter(([key]) => !key.startsWith("secret")),
);

describe.each([1, 2] as const)("token version %i, from the evaluated program to the gateway", (tokenVersion) => {
  const directory: EntraStandInOptions = {
    tenantId,
    clients: [],
    apis: [],
    assignments: [],
    tokenLifetimeSeconds: 600,
  };
  const perTest: { close(): Promise<void> }[] = [];
  let entra: EntraStandIn;
  let backend: RunningStandIn & { readonly requests: number };
  let gateway: RunningStandIn;
  let evaluation: MockEvaluation;
  let outputs: StackOutputs;
  let dir: string;
  let outputsFile: string;
  let reportingSecret: string;
  let signAssertion: (claims: JWTPayload) => Promise<string>;
  let writeAssertion: (name: string, claims: JWTPayload) => Promise<{ path: string; assertion: string }>;

  beforeAll(async () => {
    const pipelineKeys = await generateKeyPair("RS256");
    const pipelineKid = "pipeline-key-1";
    directory.trustedIssuers = {
      [pipelineIssuer]: { keys: [{ ...(await exportJWK(pipelineKeys.publicKey)), kid: pipelineKid, use: "sig" }] },
    };
    signAssertion = (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: pipelineKid })
        .sign(pipelineKeys.privateKey);
    writeAssertion = async (name, claims) => {
      const assertion = await signAssertion(claims);
      const path = join(dir, name);
      await writeFile(path, `${assertion}\n`, { mode: 0o600 });
      return { path, assertion };
    };

    entra = await startEntraStandIn(directory);
    evaluation = await evaluate(
      guideConfig({
        authorityHost: entra.authorityHost,
        apis: [guideApi({ tokenVersion })],
        clients: [guideClient(), guideClient({ name: "intruder", displayName: "Intruder", apis: [] }), pipelineClient],
      }),
    );
    const deployed = entraDirectoryOf(evaluation);
    entra.seed(deployed);
    directory.clients.push(...deployed.clients);
    directory.apis.push(...deployed.apis);
    directory.assignments.push(...deployed.assignments);

    outputs = parseStackOutputs(evaluation.outputs);
    const orders = outputs.apis.orders as StackOutputs["apis"][string];
    const path = new URL(orders.url).pathname.replace(/^\/+/, "");
    backend = await startBackendStandIn();
    gateway = await startGatewayStandIn({ apis: [{ path, policyXml: orders.policy, backendUrl: backend.url }] });
    const deployedOutputs = structuredClone(evaluation.outputs) as { apis: { orders: { url: string } } };
    deployedOutputs.apis.orders.url = `${gateway.url}/orders`;
    dir = await mkdtemp(join(tmpdir(), "e2e-"));
    outputsFile = join(dir, "outputs.json");
    await writeFile(outputsFile, JSON.stringify(deployedOutputs), { mode: 0o600 });
    reportingSecret = outputs.clients.reporting?.clientSecret as string;
    expect(reportingSecret).toBeTruthy();
  });

  afterEach(async () => {
    await Promise.all(perTest.splice(0).map((server) => server.close()));
  });

  afterAll(async () => {
    await Promise.all([entra?.close(), backend?.close(), gateway?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("fills the stand-in from what the program registered: assignment required, the role assigned to reporting and pipeline", () => {
    const apiClientId = outputs.apis.orders?.clientId;
    expect(directory.apis).toEqual([
      expect.objectContaining({ clientId: apiClientId, tokenVersion, appRoleAssignmentRequired: true }),
    ]);
    expect(directory.assignments).toEqual([
      { clientId: outputs.clients.reporting?.clientId, apiClientId, roleId: outputs.apis.orders?.appRoleId },
      { clientId: outputs.clients.pipeline?.clientId, apiClientId, roleId: outputs.apis.orders?.appRoleId },
    ]);
  });

  it("fills the stand-in with the pipeline's federated credential and no secret, the others with a secret only", () => {
    expect(outputs.clients.pipeline?.credential).toBe("federated");
    expect(directory.clients).toEqual([
      { clientId: outputs.clients.reporting?.clientId, secret: reportingSecret, displayName: "reporting" },
      {
        clientId: outputs.clients.intruder?.clientId,
        secret: outputs.clients.intruder?.clientSecret,
        displayName: "intruder",
      },
      {
        clientId: outputs.clients.pipeline?.clientId,
        federatedCredentials: [
          { issuer: pipelineIssuer, subject: pipelineSubject, audiences: ["api://AzureADTokenExchange"] },
        ],
        displayName: "pipeline",
      },
    ]);
  });

  it("smoke: the granted client's token has the API's claims and only it gets through the gateway", async () => {
    const { io, out, all } = capture();
    const before = backend.requests;

    const status = await runSmoke(["--outputs", outputsFile, "--client", "reporting"], io);

    expect(status, all()).toBe(0);
    const rows = tableRows(out);
    expect(rows).toHaveLength(9);
    expect(rows.map((row) => row.result)).toEqual(Array(9).fill("pass"));
    const apiClientId = outputs.apis.orders?.clientId as string;
    const clientId = outputs.clients.reporting?.clientId as string;
    const expected =
      tokenVersion === 1
        ? {
            ver: "1.0",
            aud: `api://${apiClientId}`,
            iss: `https://sts.windows.net/${tenantId}/`,
            clientIdClaim: "appid",
          }
        : { ver: "2.0", aud: apiClientId, iss: `${entra.authorityHost}/${tenantId}/v2.0`, clientIdClaim: "azp" };
    const row = (check: string) => rows.find((candidate) => candidate.line.startsWith(`${check} `))?.line ?? "";
    expect(row("token ver").split(/\s+/)).toEqual(["token", "ver", expected.ver, expected.ver, "pass"]);
    expect(row("token aud").split(/\s+/)).toEqual(["token", "aud", expected.aud, expected.aud, "pass"]);
    expect(row("token iss").split(/\s+/)).toEqual(["token", "iss", expected.iss, expected.iss, "pass"]);
    expect(row(`token ${expected.clientIdClaim}`).split(/\s+/)).toEqual([
      "token",
      expected.clientIdClaim,
      clientId,
      clientId,
      "pass",
    ]);
    expect(row("token roles").split(/\s+/)).toEqual([
      "token",
      "roles",
      "contains",
      "access_as_app",
      "access_as_app",
      "pass",
    ]);
    // A refused call shows the WWW-Authenticate header: the scope to request, and invalid_token when a token was sent.
    const scope = `scope="api://${apiClientId}/.default"`;
    expect(row("GET without token").split(/\s+/)).toEqual([
      "GET",
      "without",
      "token",
      "401",
      "401",
      "Bearer",
      scope,
      "pass",
    ]);
    expect(row("GET with tampered token").split(/\s+/)).toEqual([
      "GET",
      "with",
      "tampered",
      "token",
      "401",
      "401",
      "Bearer",
      'error="invalid_token",',
      scope,
      "pass",
    ]);
    expect(row("GET with token").split(/\s+/)).toEqual(["GET", "with", "token", "not", "401/403", "200", "pass"]);
    expect(out.at(-1)).toBe("9 of 9 checks passed");
    expect(backend.requests - before).toBe(1);
    expect(all()).not.toContain(reportingSecret);
  });

  it("token: a client without the app role assignment is refused by Entra (AADSTS501051)", async () => {
    const { io, out, err, all } = capture();
    const scope = outputs.clients.reporting?.scopes.orders as string;
    expect(scope).toBe(`api://${outputs.apis.orders?.clientId}/.default`);

    const status = await runToken(["--outputs", outputsFile, "--client", "intruder", "--scope", scope], io);

    expect(status).toBe(1);
    expect(out).toEqual([]);
    // Retried as long as a new grant could be replicating, then final.
    expect(err.at(-1)).toBe(`error: ${explainAadsts(501051, undefined)} (AADSTS501051; gave up after 6 attempts)`);
    expect(err[0]).toContain("not assigned a role on the API");
    expect(all()).not.toContain(outputs.clients.intruder?.clientSecret as string);
  });

  it("smoke: for the ungranted client the token check fails and the API checks are skipped", async () => {
    const { io, out } = capture();
    const before = backend.requests;

    const status = await runSmoke(["--outputs", outputsFile, "--client", "intruder", "--api", "orders"], io);

    expect(status).toBe(1);
    const rows = tableRows(out);
    expect(rows).toHaveLength(9);
    expect(rows[0]?.line).toMatch(
      /^token issued\s+access token\s+.*not assigned a role.*\(AADSTS501051; gave up after 6 attempts\)\s+FAIL$/,
    );
    expect(rows.slice(1).map((row) => row.result)).toEqual(Array(8).fill("SKIP"));
    expect(out.at(-1)).toBe("0 of 9 checks passed");
    expect(backend.requests).toBe(before);
  });

  it("defence in depth: were assignment not required, the gateway still refuses the intruder's role-less token", async () => {
    const api = directory.apis[0] as EntraStandInOptions["apis"][number];
    const apiPrincipal = entra.servicePrincipalIds[api.clientId] as string;
    entra.directory.updateServicePrincipal(apiPrincipal, { appRoleAssignmentRequired: false });
    try {
      const { io, out } = capture();
      const before = backend.requests;

      const status = await runSmoke(["--outputs", outputsFile, "--client", "intruder", "--api", "orders"], io);

      expect(status).toBe(1);
      const rows = tableRows(out);
      const row = (check: string) => rows.find((candidate) => candidate.line.startsWith(`${check} `));
      expect(row("token issued")?.result).toBe("pass");
      expect(row("token roles")?.result).toBe("FAIL");
      expect(row("GET with token")?.line.split(/\s+/)).toEqual([
        "GET",
        "with",
        "token",
        "not",
        "401/403",
        "401",
        "Bearer",
        'error="invalid_token",',
        `scope="api://${outputs.apis.orders?.clientId}/.default"`,
        "(Unauthorized)",
        "FAIL",
      ]);
      expect(backend.requests).toBe(before);
    } finally {
      entra.directory.updateServicePrincipal(apiPrincipal, { appRoleAssignmentRequired: true });
    }
  });

  it("token: retries while the new client replicates, with the backoff delays, then prints the token", async () => {
    const lagging = await startEntraStandIn({
      ...entraDirectoryOf(evaluation),
      tenantId,
      replicationDelaySeconds: 5,
    });
    perTest.push(lagging);
    const { io, out, err, delays, all } = capture();
    // The token tool's backoff lets the tenant's clock run: 2 s and 4 s pass, and the client replicates after 5.
    const recordDelay = io.sleep;
    io.sleep = async (ms) => {
      await recordDelay?.(ms);
      lagging.advanceClock(ms);
    };

    const status = await runToken(
      ["--outputs", outputsFile, "--client", "reporting", "--authority", lagging.authorityHost],
      io,
    );

    expect(status, all()).toBe(0);
    expect(delays).toEqual([2000, 4000]);
    expect(lagging.tokenRequests).toBe(3);
    const sentence = explainAadsts(700016, undefined);
    expect(err).toEqual([
      `attempt 2 of 6 in 2 s: AADSTS700016 ${sentence}`,
      `attempt 3 of 6 in 4 s: AADSTS700016 ${sentence}`,
    ]);
    expect(out).toHaveLength(1);
    const claims = decodeJwt(out[0] as string);
    expect(claims.roles).toEqual(["access_as_app"]);
    expect(claims.ver).toBe(tokenVersion === 1 ? "1.0" : "2.0");
    expect(all()).not.toContain(reportingSecret);
  });

  describe("the secretless client, with a client assertion from the pipeline's issuer", () => {
    const pipelineClaims = (changes: JWTPayload = {}): JWTPayload => {
      const now = Math.floor(Date.now() / 1000);
      return {
        iss: pipelineIssuer,
        sub: pipelineSubject,
        aud: "api://AzureADTokenExchange",
        iat: now,
        nbf: now,
        exp: now + 300,
        ...changes,
      };
    };

    it("smoke: passes every check with CLIENT_ASSERTION_FILE, and never prints the assertion", async () => {
      const { path, assertion } = await writeAssertion("pipeline.jwt", pipelineClaims());
      const { io, out, all } = capture();
      io.env = { CLIENT_ASSERTION_FILE: path };
      const before = backend.requests;

      const status = await runSmoke(["--outputs", outputsFile, "--client", "pipeline"], io);

      expect(status, all()).toBe(0);
      const rows = tableRows(out);
      expect(rows.map((row) => row.result)).toEqual(Array(9).fill("pass"));
      const clientId = outputs.clients.pipeline?.clientId as string;
      const clientIdClaim = tokenVersion === 1 ? "appid" : "azp";
      const row = rows.find((candidate) => candidate.line.startsWith(`token ${clientIdClaim} `));
      expect(row?.line.split(/\s+/)).toEqual(["token", clientIdClaim, clientId, clientId, "pass"]);
      expect(out.at(-1)).toBe("9 of 9 checks passed");
      expect(backend.requests - before).toBe(1);
      expect(all()).not.toContain(assertion);
    });

    it("token: the access token says the client authenticated with an assertion, not a secret", async () => {
      const { path } = await writeAssertion("pipeline-decode.jwt", pipelineClaims());
      const { io, out, all } = capture();

      const status = await runToken(
        ["--outputs", outputsFile, "--client", "pipeline", "--client-assertion-file", path, "--decode"],
        io,
      );

      expect(status, all()).toBe(0);
      const { claims } = JSON.parse(out[0] as string) as { claims: JWTPayload };
      const clientId = outputs.clients.pipeline?.clientId;
      expect(claims.roles).toEqual(["access_as_app"]);
      if (tokenVersion === 1) {
        expect([claims.appid, claims.appidacr, claims.azp, claims.azpacr]).toEqual([
          clientId,
          "2",
          undefined,
          undefined,
        ]);
      } else {
        expect([claims.azp, claims.azpacr, claims.appid, claims.appidacr]).toEqual([
          clientId,
          "2",
          undefined,
          undefined,
        ]);
      }
    });

    it("token: an assertion for another subject is refused (AADSTS700213) after the bounded retries", async () => {
      const subject = "repo:contoso/orders:environment:prod";
      const { path, assertion } = await writeAssertion("other-subject.jwt", pipelineClaims({ sub: subject }));
      const { io, out, err, delays, all } = capture();
      io.env = { CLIENT_ASSERTION_FILE: path };
      const before = entra.tokenRequests;

      const status = await runToken(["--outputs", outputsFile, "--client", "pipeline"], io);

      expect(status).toBe(1);
      expect(out).toEqual([]);
      const sentence = explainAadsts(700213, undefined);
      expect(sentence).toBe(explainAadsts(70021, undefined));
      expect(sentence).toMatch(
        /^No federated identity credential on the app matches the assertion's issuer and subject/,
      );
      expect(delays).toEqual([2000, 4000, 8000, 16000, 30000]);
      expect(entra.tokenRequests - before).toBe(6);
      expect(err).toEqual([
        ...delays.map((ms, index) => `attempt ${index + 2} of 6 in ${ms / 1000} s: AADSTS700213 ${sentence}`),
        `error: ${sentence} (AADSTS700213; gave up after 6 attempts)`,
      ]);
      expect(all()).not.toContain(assertion);
    });

    it("token: an expired assertion is refused at once (AADSTS700024)", async () => {
      const now = Math.floor(Date.now() / 1000);
      const expired = pipelineClaims({ iat: now - 900, nbf: now - 900, exp: now - 300 });
      const { path, assertion } = await writeAssertion("expired.jwt", expired);
      const { io, out, err, delays, all } = capture();
      io.env = { CLIENT_ASSERTION_FILE: path };
      const before = entra.tokenRequests;

      const status = await runToken(["--outputs", outputsFile, "--client", "pipeline"], io);

      expect(status).toBe(1);
      expect(out).toEqual([]);
      expect(err).toEqual([`error: ${explainAadsts(700024, undefined)} (AADSTS700024)`]);
      expect(err[0]).toContain("not within its valid time range");
      expect(delays).toEqual([]);
      expect(entra.tokenRequests - before).toBe(1);
      expect(all()).not.toContain(assertion);
    });
  });
});
