// The gateway's guarantee as the project's own test: tokens an attacker can make, sent through the gateway stand-in
// with the policy the program renders, for token versions 1 and 2 and for validate-azure-ad-token. Each forgery must
// get 401; the valid controls 200. The reason column is the evaluator's own verdict on the same request (the gateway
// answers every failure with the same message). What this cannot prove: APIM's own token library; the stand-in
// evaluates the policy as APIM documents it (tools/gateway/evaluateToken.ts).
import { createHmac } from "node:crypto";
import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluateToken } from "../tools/gateway/evaluateToken";
import { loadDocument } from "../tools/gateway/keys";
import { readTokenCheck } from "../policies/readTokenCheck";
import { parseStackOutputs } from "../tools/sign-in/stackOutputs";
import { type EntraStandIn, startEntraStandIn } from "./support/entraStandIn";
import { evaluate, guideApi, guideClient, guideConfig } from "./support/evaluate";
import { type RunningStandIn, startBackendStandIn, startGatewayStandIn } from "./support/gatewayStandIn";

const tenantId = guideConfig().tenantId as string;
const otherTenantId = "99999999-8888-7777-6666-555555555555";
/** The gateway's clock: tokens are judged at this instant, whatever today is. */
const now = new Date("2026-11-25T12:00:00Z");
const nowSeconds = Math.floor(now.getTime() / 1000);
const graphAppId = "00000003-0000-0000-c000-000000000000";

const base64url = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

interface Variant {
  label: string;
  tokenVersion: 1 | 2;
  validation: "validate-jwt" | "validate-azure-ad-token";
}

interface Case {
  name: string;
  /** The Authorization header to send; undefined sends none. */
  header: () => Promise<string | undefined>;
  expected: 200 | 401;
}

interface Row {
  case: string;
  expected: number;
  got: number;
  reason: string;
}

const variants: Variant[] = [
  { label: "v2 validate-jwt", tokenVersion: 2, validation: "validate-jwt" },
  { label: "v1 validate-jwt", tokenVersion: 1, validation: "validate-jwt" },
  { label: "v2 validate-azure-ad-token", tokenVersion: 2, validation: "validate-azure-ad-token" },
];

const allRows: (Row & { variant: string })[] = [];

describe.each(variants)("forged tokens through the gateway: $label", (variant) => {
  let entra: EntraStandIn;
  let gateway: RunningStandIn;
  let backend: RunningStandIn;
  let cases: Case[];
  let policyXml: string;
  const rows: Row[] = [];

  beforeAll(async () => {
    const tenantKey = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true });
    const attackerKey = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true });
    entra = await startEntraStandIn({ tenantId, clients: [], apis: [], assignments: [], signingKey: tenantKey });
    const evaluation = await evaluate(
      guideConfig({
        authorityHost: entra.authorityHost,
        apis: [
          guideApi({
            tokenVersion: variant.tokenVersion,
            validation: variant.validation,
            allowedClients: ["reporting"],
          }),
          guideApi({ name: "billing", path: "billing", appRole: "billing_app", tokenVersion: variant.tokenVersion }),
        ],
        clients: [
          guideClient({ apis: ["orders", "billing"] }),
          // The config refuses to grant orders to a client its allowedClients excludes, so the intruder is granted
          // billing only. Its forged token still carries orders' role: what an app role assignment made in Entra
          // directly (portal, Graph), outside this config, would give it. allowedClients is what must stop it.
          guideClient({ name: "intruder", displayName: "Intruder", apis: ["billing"] }),
        ],
      }),
    );
    const outputs = parseStackOutputs(evaluation.outputs);
    const orders = outputs.apis.orders as (typeof outputs.apis)[string];
    const billing = outputs.apis.billing as (typeof outputs.apis)[string];
    const reporting = outputs.clients.reporting?.clientId as string;
    const intruder = outputs.clients.intruder?.clientId as string;
    policyXml = orders.policy;
    backend = await startBackendStandIn();
    gateway = await startGatewayStandIn({
      apis: [{ path: "orders", policyXml, backendUrl: backend.url }],
      now: () => now,
      authorityHost: entra.authorityHost,
    });

    const v2Issuer = (tenant: string) => `${entra.authorityHost}/${tenant}/v2.0`;
    const v1Issuer = (tenant: string) => `https://sts.windows.net/${tenant}/`;
    const audienceOf = (clientId: string, version: 1 | 2) => (version === 2 ? clientId : `api://${clientId}`);
    const other = variant.tokenVersion === 2 ? 1 : 2;
    const issuerOf = (version: 1 | 2, tenant = tenantId) => (version === 2 ? v2Issuer(tenant) : v1Issuer(tenant));
    const clientClaim = variant.tokenVersion === 2 ? "azp" : "appid";

    /** What Entra would issue to `reporting` for this API now; `changes` set (or, with undefined, drop) claims. */
    const claims = (changes: JWTPayload = {}): JWTPayload => {
      const valid: JWTPayload = {
        aud: audienceOf(orders.clientId, variant.tokenVersion),
        iss: issuerOf(variant.tokenVersion),
        [clientClaim]: reporting,
        roles: ["access_as_app"],
        tid: tenantId,
        ver: variant.tokenVersion === 2 ? "2.0" : "1.0",
        iat: nowSeconds - 60,
        nbf: nowSeconds - 60,
        exp: nowSeconds + 3600,
        ...changes,
      };
      return Object.fromEntries(Object.entries(valid).filter(([, value]) => value !== undefined));
    };
    const signed = (payload: JWTPayload, header: Record<string, unknown> = {}, key = tenantKey.privateKey) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: entra.kid, ...header } as never)
        .sign(key);
    const bearer = async (token: Promise<string> | string) => `Bearer ${await token}`;
    const withClaims = (changes: JWTPayload) => () => bearer(signed(claims(changes)));
    const attackerJwk = await exportJWK(attackerKey.publicKey);
    const valid = () => signed(claims());

    cases = [
      { name: "valid token (control)", header: () => bearer(valid()), expected: 200 },
      {
        name: "valid token, scheme in lower case (control)",
        header: async () => `bearer ${await valid()}`,
        expected: 200,
      },
      { name: "no Authorization header", header: async () => undefined, expected: 401 },
      { name: "wrong scheme (Basic)", header: async () => `Basic ${await valid()}`, expected: 401 },
      { name: "empty bearer", header: async () => "Bearer ", expected: 401 },
      {
        name: "alg none, no signature",
        header: async () => `Bearer ${base64url({ alg: "none", typ: "JWT" })}.${base64url(claims())}.`,
        expected: 401,
      },
      {
        name: "HS256 signed with the tenant's public key",
        header: async () => {
          const secret = await exportSPKI(tenantKey.publicKey);
          const input = `${base64url({ alg: "HS256", typ: "JWT", kid: entra.kid })}.${base64url(claims())}`;
          return `Bearer ${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
        },
        expected: 401,
      },
      {
        name: "attacker key, unknown kid",
        header: () => bearer(signed(claims(), { kid: "attacker-key" }, attackerKey.privateKey)),
        expected: 401,
      },
      {
        name: "attacker key reusing the real kid",
        header: () => bearer(signed(claims(), {}, attackerKey.privateKey)),
        expected: 401,
      },
      {
        name: "attacker key embedded as jwk header",
        header: () => bearer(signed(claims(), { kid: undefined, jwk: attackerJwk }, attackerKey.privateKey)),
        expected: 401,
      },
      {
        name: "attacker key behind a jku header",
        header: () => bearer(signed(claims(), { jku: "https://attacker.example/keys" }, attackerKey.privateKey)),
        expected: 401,
      },
      {
        name: "attacker certificate behind an x5u header",
        header: () => bearer(signed(claims(), { x5u: "https://attacker.example/cert.pem" }, attackerKey.privateKey)),
        expected: 401,
      },
      {
        name: "one payload byte flipped",
        header: async () => {
          const [head, payload, signature] = (await valid()).split(".") as [string, string, string];
          const bytes = Buffer.from(payload, "base64url");
          bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0x01;
          return `Bearer ${head}.${bytes.toString("base64url")}.${signature}`;
        },
        expected: 401,
      },
      {
        name: "signature truncated",
        header: async () => `Bearer ${(await valid()).slice(0, -10)}`,
        expected: 401,
      },
      {
        name: "expired an hour ago",
        header: withClaims({ nbf: nowSeconds - 7200, exp: nowSeconds - 3600 }),
        expected: 401,
      },
      { name: "not valid for another hour", header: withClaims({ nbf: nowSeconds + 3600 }), expected: 401 },
      { name: "no exp", header: withClaims({ exp: undefined }), expected: 401 },
      {
        name: "another API's audience",
        header: withClaims({ aud: audienceOf(billing.clientId, variant.tokenVersion) }),
        expected: 401,
      },
      { name: "Graph's audience (app id)", header: withClaims({ aud: graphAppId }), expected: 401 },
      { name: "Graph's audience (URL)", header: withClaims({ aud: "https://graph.microsoft.com" }), expected: 401 },
      {
        name: `the v${other} audience of this API`,
        header: withClaims({ aud: audienceOf(orders.clientId, other) }),
        expected: 401,
      },
      {
        // validate-azure-ad-token accepts both issuers of its tenant by design (APIM resolves them from tenant-id).
        name: `the v${other} issuer of this tenant`,
        header: withClaims({ iss: issuerOf(other), ver: other === 2 ? "2.0" : "1.0" }),
        expected: variant.validation === "validate-azure-ad-token" ? 200 : 401,
      },
      {
        name: "another tenant's issuer",
        header: withClaims({ iss: issuerOf(variant.tokenVersion, otherTenantId), tid: otherTenantId }),
        expected: 401,
      },
      {
        name: "the common issuer",
        header: withClaims({ iss: issuerOf(variant.tokenVersion, "common") }),
        expected: 401,
      },
      { name: "the organizations issuer", header: withClaims({ iss: v2Issuer("organizations") }), expected: 401 },
      { name: "no roles claim", header: withClaims({ roles: undefined }), expected: 401 },
      { name: "another API's role", header: withClaims({ roles: ["billing_app"] }), expected: 401 },
      { name: "roles as a string", header: withClaims({ roles: "billing_app" }), expected: 401 },
      {
        name: "delegated token: scp only",
        header: withClaims({ roles: undefined, scp: "access_as_user access_as_app" }),
        expected: 401,
      },
      {
        name: "a client off the allow-list holding the role",
        header: withClaims({ [clientClaim]: intruder }),
        expected: 401,
      },
      {
        name: "malformed: two segments",
        header: async () => `Bearer ${base64url({ alg: "RS256" })}.${base64url(claims())}`,
        expected: 401,
      },
      {
        name: "malformed: four segments",
        header: async () => `Bearer ${await valid()}.${base64url("x")}`,
        expected: 401,
      },
      { name: "malformed: not base64url", header: async () => "Bearer !!!.???.***", expected: 401 },
      {
        name: "malformed: header is not JSON",
        header: async () => `Bearer ${base64url("not json")}.${base64url(claims())}.c2ln`,
        expected: 401,
      },
      {
        name: "oversized: 8 KB of claims on a real signature",
        header: async () => {
          const [head, , signature] = (await valid()).split(".") as [string, string, string];
          return `Bearer ${head}.${base64url(claims({ padding: "x".repeat(8 * 1024) }))}.${signature}`;
        },
        expected: 401,
      },
    ];
  }, 60_000);

  afterAll(async () => {
    await Promise.all([gateway?.close(), backend?.close(), entra?.close()]);
    allRows.push(...rows.map((row) => ({ ...row, variant: variant.label })));
  });

  it("every forgery gets 401 and every valid control 200", async () => {
    const spec = readTokenCheck(policyXml);
    for (const testCase of cases) {
      const header = await testCase.header();
      const response = await fetch(`${gateway.url}/orders/items`, {
        headers: header === undefined ? {} : { authorization: header },
      });
      await response.arrayBuffer();
      const verdict = await evaluateToken({
        spec,
        ...(header === undefined ? {} : { authorizationHeader: header }),
        now,
        keys: {},
        fetchDocument: loadDocument,
        authorityHost: entra.authorityHost,
      });
      rows.push({
        case: testCase.name,
        expected: testCase.expected,
        got: response.status,
        reason: verdict.accepted ? "accepted" : `${verdict.check}: ${verdict.reason}`,
      });
    }
    const table = [
      `${variant.label}: ${rows.length} cases`,
      `${"case".padEnd(48)} expected  got  reason`,
      ...rows.map(
        (row) =>
          `${row.case.padEnd(48)} ${String(row.expected).padEnd(9)} ${String(row.got).padEnd(4)} ${row.expected === row.got ? "" : "MISMATCH "}${row.reason}`,
      ),
    ];
    console.log(table.join("\n"));
    expect(rows.filter((row) => row.expected !== row.got)).toEqual([]);
    expect(rows.filter((row) => row.expected === 401).length).toBeGreaterThanOrEqual(30);
  }, 60_000);
});

afterAll(() => {
  const forgeries = allRows.filter((row) => row.expected === 401);
  console.log(
    `forged-token matrix: ${allRows.length} requests, ${forgeries.length} forgeries (${forgeries.filter((row) => row.got === 401).length} refused), ${allRows.length - forgeries.length} valid controls (${allRows.filter((row) => row.expected === 200 && row.got === 200).length} accepted)`,
  );
});
