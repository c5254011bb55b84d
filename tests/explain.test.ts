import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ExplainIo, runExplain, stackPolicyResolver, usage } from "../tools/explain";
import { runPlan } from "../tools/plan";
import { tokenProfile } from "../entra/tokenProfile";
import { defaultPolicyTemplatePath, renderApiPolicy } from "../policies/renderPolicy";
import type { ClientLimits } from "../policies/clientLimits";
import { evaluate, guideConfig } from "./support/evaluate";

const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const apiId = "6e1a1d1c-aaaa-4bbb-8ccc-000000000001";
const clientId = "c11e0000-aaaa-4bbb-8ccc-000000000002";
const v2Issuer = `https://login.microsoftonline.com/${tid}/v2.0`;
const now = "2026-01-15T12:00:00.000Z";
const nowSeconds = Date.parse(now) / 1000;

const policyXml = `<policies>
  <inbound>
    <base />
    <validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized" clock-skew="60">
      <openid-config url="https://login.microsoftonline.com/${tid}/v2.0/.well-known/openid-configuration" />
      <audiences><audience>${apiId}</audience></audiences>
      <required-claims><claim name="roles" match="any"><value>access_as_app</value></claim></required-claims>
    </validate-jwt>
  </inbound>
</policies>`;

let dir: string;
let files: Record<"policy" | "token" | "v1Token" | "openIdConfig" | "jwks" | "noCheck", string>;
let token: string;
/** Signs claims with the key the JWKS file publishes. */
let sign: (claims: JWTPayload) => Promise<string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "explain-"));
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  sign = (claims: JWTPayload) =>
    new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: "k1" }).sign(privateKey);
  const claims = {
    aud: apiId,
    iss: v2Issuer,
    azp: clientId,
    ver: "2.0",
    tid,
    roles: ["access_as_app"],
    iat: nowSeconds - 60,
    nbf: nowSeconds - 60,
    exp: nowSeconds + 3540,
  };
  token = await sign(claims);
  files = {
    policy: join(dir, "policy.xml"),
    token: join(dir, "token.jwt"),
    v1Token: join(dir, "v1.jwt"),
    openIdConfig: join(dir, "openid-configuration.json"),
    jwks: join(dir, "keys.json"),
    noCheck: join(dir, "no-check.xml"),
  };
  const { azp: _azp, ...v1Base } = claims;
  await Promise.all([
    writeFile(files.policy, policyXml),
    writeFile(files.token, `${token}\n`),
    writeFile(
      files.v1Token,
      await sign({ ...v1Base, iss: `https://sts.windows.net/${tid}/`, appid: clientId, ver: "1.0" }),
    ),
    writeFile(files.openIdConfig, JSON.stringify({ issuer: v2Issuer, jwks_uri: "https://unused.invalid/keys" })),
    writeFile(files.jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", use: "sig" }] })),
    writeFile(files.noCheck, "<policies><inbound><base /></inbound></policies>"),
  ]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], extra: Partial<ExplainIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runExplain(argv, { out: (text) => out.push(text), err: (text) => err.push(text), ...extra });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const offline = () => ["--openid-config", files.openIdConfig, "--jwks", files.jwks, "--now", now];

describe("explain", () => {
  it("accepts a good token offline, printing its key claims, and exits 0", async () => {
    const result = await run(["--policy", files.policy, "--token", `@${files.token}`, ...offline()]);
    expect(result).toEqual({
      code: 0,
      out: [
        "ACCEPT",
        `  iss: ${v2Issuer}`,
        `  aud: ${apiId}`,
        `  azp: ${clientId}`,
        "  roles: access_as_app",
        "  ver: 2.0",
        `  tid: ${tid}`,
        "  nbf: 2026-01-15T11:59:00.000Z",
        "  exp: 2026-01-15T12:59:00.000Z",
      ].join("\n"),
      err: "",
    });
  });

  it("takes the token inline, with or without a Bearer prefix", async () => {
    expect((await run(["--policy", files.policy, "--token", token, ...offline()])).code).toBe(0);
    expect((await run(["--policy", files.policy, "--token", `Bearer ${token}`, ...offline()])).code).toBe(0);
  });

  it("rejects a v1 token under the v2 metadata's issuer, ends with setting tokenVersion, and exits 1", async () => {
    const result = await run(["--policy", files.policy, "--token", `@${files.v1Token}`, ...offline()]);
    expect(result).toEqual({
      code: 1,
      out: [
        `REJECT: issuer: issuer https://sts.windows.net/${tid}/ is a v1 issuer; this policy accepts ${v2Issuer} — the API app's token version and the policy disagree`,
        "  fix: set the API's apis[].tokenVersion to 2 (the version this policy checks) and run pulumi up, so its app registration issues v2 tokens; then request a new token",
      ].join("\n"),
      err: "",
    });
  });

  it("judges expiry at --now, and ends with requesting a new token or rotating an expired secret", async () => {
    const later = ["--openid-config", files.openIdConfig, "--jwks", files.jwks, "--now", "2026-01-15T14:00:00Z"];
    const result = await run(["--policy", files.policy, "--token", token, ...later]);
    expect(result.code).toBe(1);
    expect(result.out).toBe(
      [
        "REJECT: expiry: the token expired at 2026-01-15T12:59:00.000Z, 3660 s before 2026-01-15T14:00:00.000Z (clock skew allowed: 60 s)",
        "  fix: request a new token; if Entra ID refuses the client's secret as expired (AADSTS7000222), rotate it: add an entry with today's date to the client's clients[].secrets, run pulumi up and give the client the new clientSecret",
      ].join("\n"),
    );
  });

  it.each([
    {
      name: "a token for another API ends with the scope that names this one",
      claims: { aud: "00000003-0000-0000-c000-000000000000" },
      out: [
        `REJECT: audience: audience 00000003-0000-0000-c000-000000000000 is not one this policy accepts (${apiId}): the token was requested for another API`,
        `  fix: request the token with scope api://${apiId}/.default`,
      ],
    },
    {
      name: "a token without the API's role ends with granting the client the API",
      claims: { roles: ["reader"] },
      out: [
        "REJECT: claim:roles: the token's roles (reader) do not include access_as_app: the client has no app role assignment for that role on the API",
        "  fix: grant the client this API: add the API's name to the client's clients[].apis, run pulumi up, then request a new token",
      ],
    },
    {
      name: "an unsigned token has no fix to give: the reason is all",
      unsigned: true,
      claims: {},
      out: ["REJECT: signature: the token is unsigned (alg none) and the policy requires signed tokens"],
    },
  ])("$name", async ({ claims, unsigned, out }) => {
    const valid = { aud: apiId, iss: v2Issuer, azp: clientId, roles: ["access_as_app"], exp: nowSeconds + 60 };
    const signed = await sign({ ...valid, ...claims });
    const noSignature = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${signed.split(".")[1]}.`;
    expect(await run(["--policy", files.policy, "--token", unsigned ? noSignature : signed, ...offline()])).toEqual({
      code: 1,
      out: out.join("\n"),
      err: "",
    });
  });

  it("resolves --stack/--api through the injected resolver", async () => {
    const asked: string[] = [];
    const resolveStackPolicy = async (stack: string, api: string) => {
      asked.push(`${stack}/${api}`);
      return policyXml;
    };
    const result = await run(["--stack", "dev", "--api", "orders", "--token", token, ...offline()], {
      resolveStackPolicy,
    });
    expect(result.code).toBe(0);
    expect(asked).toEqual(["dev/orders"]);
  });

  it("reads the deployed stack's policy with `pulumi stack output` by default", async () => {
    const calls: string[][] = [];
    const outputs = {
      authorityHost: "https://login.microsoftonline.com",
      tenantId: tid,
      gatewayUrl: "https://apim-x.azure-api.net",
      clients: {},
      apis: {
        orders: {
          clientId: apiId,
          identifierUri: `api://${apiId}`,
          appRole: "access_as_app",
          appRoleId: "00000000-0000-5000-8000-000000000000",
          tokenVersion: 2,
          url: "https://apim-x.azure-api.net/orders",
          policy: policyXml,
          tokenRequest: "curl …",
          apiCall: "curl …",
        },
      },
    };
    const resolve = stackPolicyResolver(async (file, args) => {
      calls.push([file, ...args]);
      return { stdout: JSON.stringify(outputs), stderr: "" };
    });
    expect(await resolve("prod", "orders")).toBe(policyXml);
    expect(calls).toEqual([["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", "prod"]]);
    await expect(resolve("prod", "invoices")).rejects.toThrow('stack prod has no API "invoices"; its APIs: orders');
  });

  it("prints help and exits 0", async () => {
    expect(await run(["--help"])).toEqual({ code: 0, out: usage, err: "" });
  });

  it.each([
    { argv: () => ["--policy", files.policy], error: "error: --token is required", withUsage: true },
    {
      argv: () => ["--token", token],
      error: "error: --policy, --plan with --api, or --stack with --api is required",
      withUsage: true,
    },
    {
      argv: () => ["--policy", files.policy, "--token", token, "--bogus"],
      error: "error: Unknown option '--bogus'",
      withUsage: true,
    },
    {
      argv: () => ["--policy", files.policy, "--stack", "dev", "--api", "orders", "--token", token],
      error: "error: give one of --policy, --plan with --api, or --stack with --api",
      withUsage: true,
    },
    {
      argv: () => ["--stack", "dev", "--token", token],
      error: "error: --stack needs --api <name>",
      withUsage: true,
    },
    {
      argv: () => ["--stack", "dev", "--api", "orders", "--token", token],
      error:
        "error: --stack/--api cannot be resolved here (no stack policy resolver is wired in); use --plan <plan.json> --api <name> or --policy <file>",
      withUsage: true,
    },
    {
      argv: () => ["--plan", files.policy, "--token", token],
      error: "error: --plan needs --api <name>",
      withUsage: true,
    },
    {
      argv: () => ["--api", "orders", "--token", token],
      error: "error: --api needs --plan <plan.json> or --stack <stack>",
      withUsage: true,
    },
    {
      argv: () => ["--policy", files.policy, "--token", token, "--now", "yesterday"],
      error: "error: --now yesterday is not an ISO-8601 date and time",
      withUsage: true,
    },
    {
      argv: () => ["--policy", "/nonexistent-explain-dir/policy.xml", "--token", token],
      error: "error: --policy /nonexistent-explain-dir/policy.xml cannot be read (ENOENT)",
      withUsage: false,
    },
    {
      argv: () => ["--policy", files.noCheck, "--token", token],
      error: "error: policy's <inbound> section has no <validate-jwt> or <validate-azure-ad-token> element",
      withUsage: false,
    },
    {
      argv: () => ["--policy", files.policy, "--token", token, "--jwks", "/dev/null"],
      error: "error: --jwks /dev/null is not JSON",
      withUsage: false,
    },
  ])("exits 2 with '$error'", async ({ argv, error, withUsage }) => {
    const result = await run(argv());
    expect(result.code).toBe(2);
    expect(result.out).toBe("");
    expect(result.err).toBe(withUsage ? `${error}\n${usage}` : error);
  });

  it("reads the policy from the JSON of npm run plan with --plan and --api", async () => {
    const planFile = join(dir, "plan.json");
    const io = { out: () => undefined, err: () => undefined };
    const config = guideConfig({ tenantId: tid });
    expect(await runPlan(["--json", planFile], { ...io, evaluate: (stack) => evaluate(config, stack) })).toBe(0);
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    const planned = await new SignJWT({
      aud: "mock-orders-app-client-id",
      iss: v2Issuer,
      azp: "mock-reporting-app-client-id",
      roles: ["access_as_app"],
      nbf: nowSeconds - 60,
      exp: nowSeconds + 3540,
    })
      .setProtectedHeader({ alg: "RS256", kid: "p1" })
      .sign(privateKey);
    const jwks = join(dir, "plan-keys.json");
    await writeFile(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "p1" }] }));
    const keys = ["--openid-config", files.openIdConfig, "--jwks", jwks, "--now", now];

    const accepted = await run(["--plan", planFile, "--api", "orders", "--token", planned, ...keys]);
    expect(accepted.code).toBe(0);
    expect(accepted.out).toContain("  aud: mock-orders-app-client-id");
    const unknown = await run(["--plan", planFile, "--api", "invoices", "--token", planned, ...keys]);
    expect(unknown).toEqual({
      code: 2,
      out: "",
      err: `error: --plan ${planFile} has no API "invoices"; its APIs: orders`,
    });
    expect(await run(["--plan", files.policy, "--api", "orders", "--token", planned, ...keys])).toEqual({
      code: 2,
      out: "",
      err: `error: --plan ${files.policy} is not JSON`,
    });
  });

  it("exits 2, not REJECT, when the policy's metadata cannot be fetched, and says to pass --jwks", async () => {
    const metadata = `https://login.microsoftonline.com/${tid}/v2.0/.well-known/openid-configuration`;
    const result = await run(["--policy", files.policy, "--token", token, "--now", now], {
      fetchDocument: async (url) => {
        throw new Error(`getaddrinfo ENOTFOUND for ${url}`);
      },
    });
    expect(result).toEqual({
      code: 2,
      out: "",
      err: `error: the token was not judged: the openid-config ${metadata} could not be loaded (getaddrinfo ENOTFOUND for ${metadata}), so no signing keys are known. Offline or behind a proxy, pass the keys with --jwks <file> (and the metadata with --openid-config <file> when the policy takes its issuers from it).`,
    });
  });

  it("judges offline with --jwks alone when the policy lists its issuers", async () => {
    const withIssuers = join(dir, "with-issuers.xml");
    await writeFile(
      withIssuers,
      policyXml.replace("<audiences>", `<issuers><issuer>${v2Issuer}</issuer></issuers><audiences>`),
    );
    const fetchDocument = async (url: string) => {
      throw new Error(`no network in this test: ${url}`);
    };
    const result = await run(["--policy", withIssuers, "--token", token, "--jwks", files.jwks, "--now", now], {
      fetchDocument,
    });
    expect(result.code).toBe(0);
  });

  it("accepts a token whose kid no published key has when a published key verifies it, and says so", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    const jwks = join(dir, "renamed-kid.json");
    await writeFile(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "published" }] }));
    const claims = { aud: apiId, iss: v2Issuer, roles: ["access_as_app"], nbf: nowSeconds - 60, exp: nowSeconds + 60 };
    const unknownKid = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "unlisted" }).sign(privateKey);
    const result = await run([
      "--policy",
      files.policy,
      "--token",
      unknownKid,
      "--openid-config",
      files.openIdConfig,
      "--jwks",
      jwks,
      "--now",
      now,
    ]);
    expect(result.code).toBe(0);
    expect(result.out.split("\n").slice(0, 2)).toEqual([
      "ACCEPT",
      `  note: kid unlisted was not found in the keys from the given JWKS, but key published verifies the signature; APIM tries every signing key when no kid matches, so this is accepted`,
    ]);
  });

  describe("with the program's policy", () => {
    const rendered = async (name: string, limits?: ClientLimits) => {
      const file = join(dir, name);
      const profile = tokenProfile({
        authorityHost: "https://login.microsoftonline.com",
        tenantId: tid,
        apiClientId: apiId,
        tokenVersion: 2,
      });
      const check = { validation: "validate-jwt" as const, profile, tenantId: tid, appRole: "access_as_app" };
      const template = readFileSync(defaultPolicyTemplatePath, "utf8");
      await writeFile(
        file,
        renderApiPolicy({ ...check, clockSkewSeconds: 60, ...(limits ? { limits } : {}) }, template),
      );
      return file;
    };

    it("names the WWW-Authenticate header the gateway answers a rejected token with", async () => {
      const result = await run([
        "--policy",
        await rendered("challenge.xml"),
        "--token",
        `@${files.v1Token}`,
        ...offline(),
      ]);
      expect(result.code).toBe(1);
      expect(result.out.split("\n")).toEqual([
        `REJECT: issuer: issuer https://sts.windows.net/${tid}/ is a v1 issuer; this policy accepts ${v2Issuer} — the API app's token version and the policy disagree`,
        "  fix: set the API's apis[].tokenVersion to 2 (the version this policy checks) and run pulumi up, so its app registration issues v2 tokens; then request a new token",
        `  WWW-Authenticate: Bearer error="invalid_token", scope="api://${apiId}/.default"`,
      ]);
    });

    it("names the limits that apply to the accepted token's client: its own, or every client's", async () => {
      const everyClient = { callsPerMinute: 100 };
      const own = await rendered("own-limits.xml", {
        everyClient,
        clients: [{ clientId, limits: { callsPerMinute: 5, callsPerDay: 50 } }],
      });
      const accepted = await run(["--policy", own, "--token", token, ...offline()]);
      expect(accepted.code).toBe(0);
      expect(accepted.out.split("\n").at(-1)).toBe(
        `  limits: 5 calls per minute, 50 calls per day for client ${clientId} (its own; 429 or 403 with Retry-After beyond)`,
      );
      const others = await rendered("other-limits.xml", {
        everyClient,
        clients: [{ clientId: "c11e0000-aaaa-4bbb-8ccc-00000000000f", limits: { callsPerDay: 1 } }],
      });
      expect((await run(["--policy", others, "--token", token, ...offline()])).out.split("\n").at(-1)).toBe(
        `  limits: 100 calls per minute for client ${clientId} (every client's; 429 or 403 with Retry-After beyond)`,
      );
    });

    it("still judges the token when it cannot read the policy's limits, and says so", async () => {
      const own = await rendered("hand-edited.xml", { everyClient: { callsPerMinute: 100 } });
      await writeFile(own, readFileSync(own, "utf8").replace('renewal-period="60"', 'renewal-period="600"'));
      const accepted = await run(["--policy", own, "--token", token, ...offline()]);
      expect(accepted.code).toBe(0);
      expect(accepted.out.split("\n").at(-1)).toBe(
        '  limits: not evaluated: policy\'s <rate-limit-by-key> has renewal-period="600"; APIM allows 1 to 300 seconds',
      );
    });
  });

  it("names explain's own offline options, not --outputs, when the pulumi CLI is missing", async () => {
    const resolve = stackPolicyResolver(async () => {
      throw Object.assign(new Error("spawn pulumi ENOENT"), { code: "ENOENT" });
    });
    const failure = (await resolve("dev", "orders").catch((error: unknown) => error)) as Error;
    expect(failure.message).toContain("--plan <plan.json> --api <name>");
    expect(failure.message).not.toContain("--outputs");
  });
});
