import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { type TokenVersion, tokenProfile } from "../entra/tokenProfile";
import { defaultPolicyTemplatePath, renderApiPolicy, type TokenCheck } from "../policies/renderPolicy";
import type { Caller } from "../policies/tokenCheck";
import { runExplain } from "../tools/explain";
import { evaluateToken } from "../tools/gateway/evaluateToken";
import { type SigningMaterial } from "../tools/gateway/keys";
import { readTokenCheck } from "../policies/readTokenCheck";

// What this cannot prove: that APIM evaluates the <choose> condition as its policy-expressions reference documents
// (AsJwt returning null for a non-JWT, Claims keyed by claim name). The reader accepts only the renderer's exact
// condition and the evaluator applies that documented meaning; a deployed gateway is the final judge.

const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const apiClientId = "6e1a1d1c-aaaa-4bbb-8ccc-000000000001";
const clientId = "c11e0000-aaaa-4bbb-8ccc-000000000002";
const userOid = "0a11ce00-aaaa-4bbb-8ccc-000000000009";
const authorityHost = "https://login.microsoftonline.com";
const now = new Date("2026-01-15T12:00:00.000Z");
const nowSeconds = now.getTime() / 1000;
const template = readFileSync(defaultPolicyTemplatePath, "utf8");
/** The policy's inbound section: its on-error has a choose of its own, for the 401's WWW-Authenticate header. */
const inboundOf = (policy: string) => policy.slice(policy.indexOf("<inbound>"), policy.indexOf("</inbound>"));

let signingKey: CryptoKey;
let keys: SigningMaterial;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  signingKey = pair.privateKey;
  const issuerDocument = (version: TokenVersion) => {
    const profile = profileFor(version);
    return [profile.metadataUrl, { issuer: profile.issuer, jwks_uri: `${authorityHost}/${tid}/keys` }] as const;
  };
  keys = {
    openIdConfigs: Object.fromEntries([issuerDocument(1), issuerDocument(2)]),
    jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k1", use: "sig" }] },
  };
});

function profileFor(tokenVersion: TokenVersion) {
  return tokenProfile({ authorityHost, tenantId: tid, apiClientId, tokenVersion });
}

function check(
  validation: TokenCheck["validation"],
  tokenVersion: TokenVersion,
  callers?: readonly Caller[],
): TokenCheck {
  return {
    validation,
    profile: profileFor(tokenVersion),
    tenantId: tid,
    appRole: "access_as_app",
    scope: "access_as_user",
    clockSkewSeconds: 60,
    allowedClientIds: [clientId],
    ...(callers ? { callers } : {}),
  };
}

/** The token Entra issues for the API: an application's (roles) or a signed-in user's (scp), v1 or v2. */
function tokenClaims(tokenVersion: TokenVersion, extra: JWTPayload): JWTPayload {
  const profile = profileFor(tokenVersion);
  const common = {
    tid,
    oid: userOid,
    sub: userOid,
    iat: nowSeconds - 60,
    nbf: nowSeconds - 60,
    exp: nowSeconds + 3000,
  };
  const client = tokenVersion === 2 ? { azp: clientId, azpacr: "0" } : { appid: clientId, appidacr: "0" };
  return { aud: profile.audience, iss: profile.issuer, ver: profile.ver, ...client, ...common, ...extra };
}

const tokens = {
  roles: { roles: ["access_as_app"] },
  scp: { scp: "openid access_as_user profile", name: "Test User" },
  both: { roles: ["access_as_app"], scp: "access_as_user" },
  neither: {},
} as const;
type TokenKind = keyof typeof tokens;

async function signed(tokenVersion: TokenVersion, extra: JWTPayload): Promise<string> {
  return new SignJWT(tokenClaims(tokenVersion, extra))
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: "k1" })
    .sign(signingKey);
}

async function judge(policyXml: string, tokenVersion: TokenVersion, kind: TokenKind | JWTPayload) {
  const extra = typeof kind === "string" ? tokens[kind] : kind;
  const jwt = await signed(tokenVersion, extra);
  return evaluateToken({
    spec: readTokenCheck(policyXml),
    authorizationHeader: `Bearer ${jwt}`,
    now,
    keys,
    authorityHost,
    fetchDocument: async (url) => {
      throw new Error(`no network in this test: ${url}`);
    },
  });
}

const neitherReason =
  "the token has neither an scp claim (a signed-in user's delegated token) nor a roles claim (an application's token): the client was granted neither the API's delegated scope nor its application permission";
const appTokenToUsersOnly =
  "the token has no scp claim: it is an application's (client-credentials) token, which never carries delegated scopes, and this policy accepts only signed-in users' tokens";
const noRoles =
  "the token has no roles claim: the client was not granted an application permission (app role assignment) on the API";
const grant =
  "grant the client this API: add the API's name to the client's clients[].apis, run pulumi up, then request a new token";
const askAsUser =
  "call the API with a signed-in user's token (from a spa, web or native client), or add \"applications\" to the API's apis[].callers and run pulumi up";

// Expected verdict per callers and token: undefined accepts, otherwise [check, reason, fix].
type Rejected = [check: string, reason: string, fix: string];
const expectations: { callers: readonly Caller[]; verdicts: Record<TokenKind, Rejected | undefined> }[] = [
  {
    callers: ["applications"],
    verdicts: {
      roles: undefined,
      scp: ["claim:roles", noRoles, grant],
      both: undefined,
      neither: ["claim:roles", noRoles, grant],
    },
  },
  {
    callers: ["users"],
    verdicts: {
      roles: ["claim:scp", appTokenToUsersOnly, askAsUser],
      scp: undefined,
      both: undefined,
      neither: ["claim:scp", appTokenToUsersOnly, askAsUser],
    },
  },
  {
    callers: ["applications", "users"],
    verdicts: { roles: undefined, scp: undefined, both: undefined, neither: ["claim:roles", neitherReason, grant] },
  },
];

describe.each(["validate-jwt", "validate-azure-ad-token"] as const)("%s", (validation) => {
  describe.each([1, 2] as const)("token version %i", (tokenVersion) => {
    describe.each(expectations)("callers $callers", ({ callers, verdicts }) => {
      it.each(Object.keys(tokens) as TokenKind[])("judges a token with %s", async (kind) => {
        const policy = renderApiPolicy(check(validation, tokenVersion, callers), template);
        const verdict = await judge(policy, tokenVersion, kind);
        const expected = verdicts[kind];
        if (expected === undefined) {
          expect(verdict.accepted).toBe(true);
        } else {
          expect(verdict).toEqual({ accepted: false, check: expected[0], reason: expected[1], fix: expected[2] });
        }
      });
    });

    it("judges a token that has scp as a user's token even when it also has the app role", async () => {
      const policy = renderApiPolicy(check(validation, tokenVersion, ["applications", "users"]), template);
      const verdict = await judge(policy, tokenVersion, { roles: ["access_as_app"], scp: "openid profile" });
      expect(verdict).toEqual({
        accepted: false,
        check: "claim:scp",
        reason:
          "the token has scp, so it is judged as a user's token: the token's scp claim (openid, profile) lacks access_as_user; the policy requires one of access_as_user",
        fix: grant,
      });
    });
  });
});

describe("validate-jwt's client allow-list applies to users too", () => {
  it.each([1, 2] as const)("refuses a v%i user token from a client not on the list", async (tokenVersion) => {
    const policy = renderApiPolicy(check("validate-jwt", tokenVersion, ["applications", "users"]), template);
    const other = "c11e0000-aaaa-4bbb-8ccc-00000000000f";
    const clientClaim = tokenVersion === 2 ? { azp: other } : { appid: other };
    const verdict = await judge(policy, tokenVersion, { ...tokens.scp, ...clientClaim });
    expect(verdict).toMatchObject({ accepted: false, check: `claim:${tokenVersion === 2 ? "azp" : "appid"}` });
  });
});

describe("rendering the callers", () => {
  it.each(["validate-jwt", "validate-azure-ad-token"] as const)(
    "%s: callers [applications] renders exactly what no callers rendered before",
    (validation) => {
      const before = renderApiPolicy(check(validation, 2), template);
      expect(renderApiPolicy(check(validation, 2, ["applications"]), template)).toBe(before);
      expect(inboundOf(before)).not.toContain("choose");
      expect(before).not.toContain("scp");
    },
  );

  it("users and applications: one fixed condition chooses the user check, otherwise the application check", () => {
    const policy = renderApiPolicy(check("validate-azure-ad-token", 2, ["applications", "users"]), template);
    expect(policy.split("\n").slice(3, 36)).toEqual([
      "    <choose>",
      "      <when condition=\"@(context.Request.Headers.GetValueOrDefault(&quot;Authorization&quot;, &quot;&quot;).Split(' ').Last().AsJwt()?.Claims.ContainsKey(&quot;scp&quot;) == true)\">",
      '        <validate-azure-ad-token tenant-id="72f988bf-86f1-41af-91ab-2d7cd011db47" header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized">',
      "          <client-application-ids>",
      "            <application-id>c11e0000-aaaa-4bbb-8ccc-000000000002</application-id>",
      "          </client-application-ids>",
      "          <audiences>",
      "            <audience>6e1a1d1c-aaaa-4bbb-8ccc-000000000001</audience>",
      "          </audiences>",
      "          <required-claims>",
      '            <claim name="scp" match="any" separator=" ">',
      "              <value>access_as_user</value>",
      "            </claim>",
      "          </required-claims>",
      "        </validate-azure-ad-token>",
      "      </when>",
      "      <otherwise>",
      '        <validate-azure-ad-token tenant-id="72f988bf-86f1-41af-91ab-2d7cd011db47" header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized">',
      "          <client-application-ids>",
      "            <application-id>c11e0000-aaaa-4bbb-8ccc-000000000002</application-id>",
      "          </client-application-ids>",
      "          <audiences>",
      "            <audience>6e1a1d1c-aaaa-4bbb-8ccc-000000000001</audience>",
      "          </audiences>",
      "          <required-claims>",
      '            <claim name="roles" match="any">',
      "              <value>access_as_app</value>",
      "            </claim>",
      "          </required-claims>",
      "        </validate-azure-ad-token>",
      "      </otherwise>",
      "    </choose>",
      "  </inbound>",
    ]);
  });

  it("users only: the single check requires the scope in scp, split on spaces", () => {
    const policy = renderApiPolicy(check("validate-jwt", 1, ["users"]), template);
    expect(inboundOf(policy)).not.toContain("choose");
    expect(policy).toContain(
      '<claim name="scp" match="any" separator=" ">\n          <value>access_as_user</value>\n        </claim>',
    );
    expect(policy).not.toContain('name="roles"');
  });

  it.each([
    { scope: "@(context.Variables)", problem: 'starts with "@"' },
    { scope: "{{secret}}", problem: 'contains "{{"' },
    { scope: undefined, problem: "must be a non-empty string" },
  ])("refuses a scope that would reach APIM as more than text: $problem", ({ scope, problem }) => {
    const bad = { ...check("validate-jwt", 2, ["users"]), scope } as TokenCheck;
    expect(() => renderApiPolicy(bad, template)).toThrow(problem);
  });

  it.each([[[]], [["admins"]]])("refuses callers %j", (callers) => {
    const bad = { ...check("validate-jwt", 2), callers } as unknown as TokenCheck;
    expect(() => renderApiPolicy(bad, template)).toThrow(
      `TokenCheck.callers must list "applications" and/or "users", got ${JSON.stringify(callers)}`,
    );
  });
});

describe("reading the choice back", () => {
  const both = () => renderApiPolicy(check("validate-jwt", 2, ["applications", "users"]), template);

  it("reads both branches, and the claims they share", () => {
    const spec = readTokenCheck(both());
    expect(spec.callerChoice).toEqual({
      users: [
        { name: "scp", match: "any", separator: " ", values: ["access_as_user"] },
        { name: "azp", match: "any", values: [clientId] },
      ],
      applications: [
        { name: "roles", match: "any", values: ["access_as_app"] },
        { name: "azp", match: "any", values: [clientId] },
      ],
    });
    expect(spec.requiredClaims).toEqual([{ name: "azp", match: "any", values: [clientId] }]);
  });

  it.each([
    {
      name: "another condition",
      edit: (xml: string) => xml.replace("ContainsKey(&quot;scp&quot;)", "ContainsKey(&quot;roles&quot;)"),
      problem: "has the condition",
    },
    {
      name: "branches that differ in more than their claims",
      edit: (xml: string) => xml.replace('clock-skew="60"', 'clock-skew="600"'),
      problem: "chooses between checks that differ in more than their required claims",
    },
    {
      name: "another policy beside a check",
      edit: (xml: string) => xml.replace("<otherwise>", '<otherwise>\n<set-variable name="x" value="y" />'),
      problem: "has a <otherwise> that holds more than the token check",
    },
  ])("refuses a choice with $name", ({ edit, problem }) => {
    expect(() => readTokenCheck(edit(both()))).toThrow(problem);
  });
});

describe("npm run explain on a policy for users and applications", () => {
  it.each([
    { kind: "scp" as const, code: 0, first: "ACCEPT" },
    { kind: "neither" as const, code: 1, first: `REJECT: claim:roles: ${neitherReason}` },
  ])("a v2 token with $kind: exit $code", async ({ kind, code, first }) => {
    const dir = await mkdtemp(join(tmpdir(), "explain-callers-"));
    try {
      const policy = join(dir, "policy.xml");
      const jwks = join(dir, "jwks.json");
      await writeFile(policy, renderApiPolicy(check("validate-jwt", 2, ["applications", "users"]), template));
      await writeFile(jwks, JSON.stringify(keys.jwks));
      const out: string[] = [];
      const argv = ["--policy", policy, "--jwks", jwks, "--now", now.toISOString()];
      const issuerDocument = join(dir, "openid.json");
      await writeFile(issuerDocument, JSON.stringify({ issuer: profileFor(2).issuer, jwks_uri: "unused" }));
      argv.push("--openid-config", issuerDocument, "--token", await signed(2, tokens[kind]));
      expect(await runExplain(argv, { out: (text) => out.push(text), err: (text) => out.push(text) })).toBe(code);
      expect(out[0]?.split("\n")[0]).toBe(first);
      if (code === 0) expect(out[0]).toContain("  scp: openid access_as_user profile");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
