import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { isLoopbackHost } from "../entra/loopback";
import { evaluateToken } from "../tools/gateway/evaluateToken";
import { loadDocument, type SigningMaterial } from "../tools/gateway/keys";
import { readTokenCheck } from "../policies/readTokenCheck";

const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const otherTid = "0b1c2d3e-0000-4000-8000-000000000001";
const apiId = "6e1a1d1c-aaaa-4bbb-8ccc-000000000001";
const clientId = "c11e0000-aaaa-4bbb-8ccc-000000000002";
const otherClientId = "c11e0000-aaaa-4bbb-8ccc-000000000003";
const v2Issuer = `https://login.microsoftonline.com/${tid}/v2.0`;
const v1Issuer = `https://sts.windows.net/${tid}/`;
const v2Metadata = `https://login.microsoftonline.com/${tid}/v2.0/.well-known/openid-configuration`;
const v1Metadata = `https://login.microsoftonline.com/${tid}/.well-known/openid-configuration`;
const now = new Date("2026-01-15T12:00:00.000Z");
const nowSeconds = now.getTime() / 1000;
const kid = "key-1";

// The fixes a rejection carries, word for word: what `explain` prints after the reason.
const grant =
  "grant the client this API: add the API's name to the client's clients[].apis, run pulumi up, then request a new token";
const tokenVersion = (version: 1 | 2) =>
  `set the API's apis[].tokenVersion to ${version} (the version this policy checks) and run pulumi up, so its app registration issues v${version} tokens; then request a new token`;
const resend =
  "send the access_token value of Entra ID's token response exactly as it was issued, not the whole response";

let signingKey: CryptoKey;
let otherKey: CryptoKey;
let publicJwk: JWK;
let keys: SigningMaterial;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  const other = await generateKeyPair("RS256");
  signingKey = pair.privateKey;
  otherKey = other.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid, use: "sig" };
  keys = {
    openIdConfigs: {
      [v2Metadata]: { issuer: v2Issuer, jwks_uri: `https://login.microsoftonline.com/${tid}/discovery/v2.0/keys` },
      [v1Metadata]: { issuer: v1Issuer, jwks_uri: `https://login.microsoftonline.com/${tid}/discovery/keys` },
    },
    jwks: { keys: [publicJwk] },
  };
});

const offline = async (url: string): Promise<never> => {
  throw new Error(`no network in this test: ${url}`);
};

interface PolicyOptions {
  metadata?: string;
  audiences?: string[];
  issuers?: string[] | null;
  claims?: string;
  attributes?: string;
}

function policy(options: PolicyOptions = {}): string {
  const issuers = options.issuers === undefined ? [v2Issuer] : options.issuers;
  const audiences = options.audiences ?? [apiId];
  return `<policies>
  <inbound>
    <base />
    <validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized" ${options.attributes ?? 'clock-skew="60"'}>
      <openid-config url="${options.metadata ?? v2Metadata}" />
      <audiences>${audiences.map((aud) => `<audience>${aud}</audience>`).join("")}</audiences>
      ${issuers ? `<issuers>${issuers.map((iss) => `<issuer>${iss}</issuer>`).join("")}</issuers>` : ""}
      <required-claims>
        ${options.claims ?? '<claim name="roles" match="any"><value>access_as_app</value></claim>'}
      </required-claims>
    </validate-jwt>
  </inbound>
  <backend><base /></backend>
</policies>`;
}

function v2Claims(changes: JWTPayload = {}): JWTPayload {
  return {
    aud: apiId,
    iss: v2Issuer,
    azp: clientId,
    azpacr: "1",
    ver: "2.0",
    tid,
    roles: ["access_as_app"],
    iat: nowSeconds - 300,
    nbf: nowSeconds - 300,
    exp: nowSeconds + 3300,
    ...changes,
  };
}

function v1Claims(changes: JWTPayload = {}): JWTPayload {
  const { azp: _azp, azpacr: _azpacr, ...rest } = v2Claims();
  return { ...rest, aud: `api://${apiId}`, iss: v1Issuer, appid: clientId, appidacr: "1", ver: "1.0", ...changes };
}

function without(claims: JWTPayload, name: string): JWTPayload {
  const { [name]: _removed, ...rest } = claims;
  return rest;
}

async function sign(
  claims: JWTPayload,
  options: { key?: CryptoKey; kid?: string; alg?: string } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? "RS256", typ: "JWT", kid: options.kid ?? kid })
    .sign(options.key ?? signingKey);
}

async function judge(policyXml: string, authorizationHeader: string | undefined) {
  return evaluateToken({
    spec: readTokenCheck(policyXml),
    ...(authorizationHeader === undefined ? {} : { authorizationHeader }),
    now,
    keys,
    fetchDocument: offline,
  });
}

const bearer = async (claims: JWTPayload, options?: Parameters<typeof sign>[1]) =>
  `Bearer ${await sign(claims, options)}`;

describe("evaluateToken with validate-jwt", () => {
  it("accepts a v2 client-credentials token that matches the policy, returning its claims", async () => {
    const verdict = await judge(policy(), await bearer(v2Claims()));
    expect(verdict).toEqual({ accepted: true, claims: v2Claims() });
  });

  it("accepts a v1 token under a v1 policy", async () => {
    const v1Policy = policy({ metadata: v1Metadata, audiences: [`api://${apiId}`], issuers: [v1Issuer] });
    expect((await judge(v1Policy, await bearer(v1Claims()))).accepted).toBe(true);
  });

  const expired = nowSeconds - 3600;
  const cases: {
    name: string;
    header: () => Promise<string | undefined>;
    policy?: string;
    check: string;
    reason: string;
    fix?: string;
  }[] = [
    {
      name: "no Authorization header",
      header: async () => undefined,
      check: "header",
      reason: "the request has no Authorization header: the client sent no token",
      fix: 'send the token as "Authorization: Bearer <token>"',
    },
    {
      name: "another scheme",
      header: async () => `Basic ${await sign(v2Claims())}`,
      check: "scheme",
      reason: "the Authorization header uses the Basic scheme; this policy requires Bearer",
      fix: 'send the token as "Authorization: Bearer <token>"',
    },
    {
      name: "a bare token without a scheme",
      header: () => sign(v2Claims()),
      check: "scheme",
      reason: 'the Authorization header has no scheme; this policy requires "Bearer <token>"',
      fix: 'send the token as "Authorization: Bearer <token>"',
    },
    {
      name: "a token signed with another key under the same kid",
      header: () => bearer(v2Claims(), { key: otherKey }),
      check: "signature",
      reason:
        "the token's signature does not verify with signing key key-1 from the given JWKS: the token was altered after it was issued, or signed with another key",
      fix: resend,
    },
    {
      name: "a token whose payload was altered",
      header: async () => {
        const [head, , signature] = (await sign(v2Claims())).split(".");
        const forged = Buffer.from(JSON.stringify(v2Claims({ roles: ["admin"] }))).toString("base64url");
        return `Bearer ${head}.${forged}.${signature}`;
      },
      check: "signature",
      reason:
        "the token's signature does not verify with signing key key-1 from the given JWKS: the token was altered after it was issued, or signed with another key",
      fix: resend,
    },
    {
      name: "a kid the issuer does not publish, signed by a key it does not publish either",
      header: () => bearer(v2Claims(), { key: otherKey, kid: "rotated-away" }),
      check: "signature",
      reason:
        "kid rotated-away was not found in the keys from the given JWKS, and none of its 1 signing keys verifies the signature: the token was issued by another tenant or authority, or its keys were rotated",
      fix: "request a new token from the tenant and authority this policy trusts: use the token endpoint the stack exports (clients.<name>.tokenEndpoint)",
    },
    {
      name: "something that is not a JWT",
      header: async () => "Bearer not-a-jwt",
      check: "signature",
      reason: "the token is not a JWT: expected three base64url parts separated by dots",
      fix: resend,
    },
    {
      name: "an expired token",
      header: () => bearer(v2Claims({ exp: expired })),
      check: "expiry",
      reason:
        "the token expired at 2026-01-15T11:00:00.000Z, 3600 s before 2026-01-15T12:00:00.000Z (clock skew allowed: 60 s)",
      fix: "request a new token; if Entra ID refuses the client's secret as expired (AADSTS7000222), rotate it: add an entry with today's date to the client's clients[].secrets, run pulumi up and give the client the new clientSecret",
    },
    {
      name: "a token without exp",
      header: () => bearer(without(v2Claims(), "exp")),
      check: "expiry",
      reason: "the token has no exp claim and the policy requires an expiration time",
    },
    {
      name: "a token not valid yet",
      header: () => bearer(v2Claims({ nbf: nowSeconds + 600 })),
      check: "not-before",
      reason:
        "the token is not valid before 2026-01-15T12:10:00.000Z, 600 s after 2026-01-15T12:00:00.000Z (clock skew allowed: 60 s): the issuer's or this machine's clock is off",
      fix: "set the clock right (NTP) on the machine whose clock is off, then retry",
    },
    {
      name: "a token for another API",
      header: () => bearer(v2Claims({ aud: "00000003-0000-0000-c000-000000000000" })),
      check: "audience",
      reason: `audience 00000003-0000-0000-c000-000000000000 is not one this policy accepts (${apiId}): the token was requested for another API`,
      fix: `request the token with scope api://${apiId}/.default`,
    },
    {
      name: "a v1 audience (api://X) under a policy that accepts X",
      header: () => bearer(v2Claims({ aud: `api://${apiId}` })),
      check: "audience",
      reason: `audience api://${apiId} is the identifier URI of API ${apiId}, as in v1 tokens; this policy accepts ${apiId} — the API app's token version and the policy disagree`,
      fix: tokenVersion(2),
    },
    {
      name: "a v2 audience (X) under a policy that accepts api://X",
      header: () => bearer(v2Claims()),
      policy: policy({ audiences: [`api://${apiId}`] }),
      check: "audience",
      reason: `audience ${apiId} is the client id of API api://${apiId}, as in v2 tokens; this policy accepts api://${apiId} — the API app's token version and the policy disagree`,
      fix: tokenVersion(1),
    },
    {
      name: "a v1 token under a v2 policy",
      header: () => bearer(v1Claims({ aud: apiId })),
      check: "issuer",
      reason: `issuer https://sts.windows.net/${tid}/ is a v1 issuer; this policy accepts https://login.microsoftonline.com/${tid}/v2.0 — the API app's token version and the policy disagree`,
      fix: tokenVersion(2),
    },
    {
      name: "a v2 token under a v1 policy",
      header: () => bearer(v2Claims({ aud: `api://${apiId}` })),
      policy: policy({ metadata: v1Metadata, audiences: [`api://${apiId}`], issuers: [v1Issuer] }),
      check: "issuer",
      reason: `issuer https://login.microsoftonline.com/${tid}/v2.0 is a v2 issuer; this policy accepts https://sts.windows.net/${tid}/ — the API app's token version and the policy disagree`,
      fix: tokenVersion(1),
    },
    {
      name: "a token from another tenant",
      header: () => bearer(v2Claims({ iss: `https://login.microsoftonline.com/${otherTid}/v2.0` })),
      check: "issuer",
      reason: `issuer https://login.microsoftonline.com/${otherTid}/v2.0 belongs to tenant ${otherTid}; this policy accepts ${v2Issuer} — the token was issued by another tenant`,
      fix: `request the token from tenant ${tid}: use the token endpoint the stack exports (clients.<name>.tokenEndpoint)`,
    },
    {
      name: "a token without roles",
      header: () => bearer(without(v2Claims(), "roles")),
      check: "claim:roles",
      reason:
        "the token has no roles claim: the client was not granted an application permission (app role assignment) on the API",
      fix: grant,
    },
    {
      name: "a token with another role",
      header: () => bearer(v2Claims({ roles: ["reader"] })),
      check: "claim:roles",
      reason:
        "the token's roles (reader) do not include access_as_app: the client has no app role assignment for that role on the API",
      fix: grant,
    },
    {
      name: "a client that is not on the azp allow-list",
      header: () => bearer(v2Claims({ azp: otherClientId })),
      policy: policy({ claims: `<claim name="azp" match="any"><value>${clientId}</value></claim>` }),
      check: "claim:azp",
      reason: `the token's azp ${otherClientId} is not one of the allowed clients (${clientId}): this client application is not on the policy's allow-list`,
      fix: "allow the client: add its name or client id to the API's apis[].allowedClients and run pulumi up",
    },
    {
      name: "a v1 token (appid) under an azp allow-list",
      header: () => bearer(v1Claims({ aud: apiId, iss: v2Issuer })),
      policy: policy({ claims: `<claim name="azp" match="any"><value>${clientId}</value></claim>` }),
      check: "claim:azp",
      reason:
        "the token has no azp claim but an appid claim, as v1 tokens do — the API app's token version and the policy disagree",
      fix: tokenVersion(2),
    },
    {
      name: "an app-only token under a policy that requires a delegated scope",
      header: () => bearer(v2Claims()),
      policy: policy({ claims: '<claim name="scp" match="any"><value>access_as_user</value></claim>' }),
      check: "claim:scp",
      reason:
        "the token has no scp claim: it is an application's (client-credentials) token, which never carries delegated scopes, and this policy accepts only signed-in users' tokens",
      fix: "call the API with a signed-in user's token (from a spa, web or native client), or add \"applications\" to the API's apis[].callers and run pulumi up",
    },
  ];

  it.each(cases)("rejects $name at the $check check", async ({ header, policy: policyXml, check, reason, fix }) => {
    expect(await judge(policyXml ?? policy(), await header())).toEqual({ accepted: false, check, reason, fix });
  });

  it("rejects an HS256 token even when its secret would verify", async () => {
    const secret = new TextEncoder().encode("a-shared-secret-of-at-least-32-bytes!!");
    const token = await new SignJWT(v2Claims()).setProtectedHeader({ alg: "HS256", kid }).sign(secret);
    expect(await judge(policy(), `Bearer ${token}`)).toEqual({
      accepted: false,
      check: "signature",
      reason:
        "the token is signed with HS256, a shared-secret algorithm Entra ID never uses for access tokens; the policy accepts only PS256, RS256, RS512 signatures",
    });
  });

  const unsignedToken = () => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    return `${part({ alg: "none", typ: "JWT" })}.${part(v2Claims())}.`;
  };

  it("rejects an unsigned token", async () => {
    expect(await judge(policy(), `Bearer ${unsignedToken()}`)).toEqual({
      accepted: false,
      check: "signature",
      reason: "the token is unsigned (alg none) and the policy requires signed tokens",
    });
  });

  it("accepts an unsigned token only where require-signed-tokens is false", async () => {
    const lax = policy({ attributes: 'require-signed-tokens="false"' });
    expect((await judge(lax, `Bearer ${unsignedToken()}`)).accepted).toBe(true);
  });

  it("accepts PS256 and RS512 signatures", async () => {
    for (const alg of ["PS256", "RS512"]) {
      const pair = await generateKeyPair(alg);
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: alg };
      const token = await sign(v2Claims(), { alg, key: pair.privateKey, kid: alg });
      const verdict = await evaluateToken({
        spec: readTokenCheck(policy()),
        authorizationHeader: `Bearer ${token}`,
        now,
        keys: { ...keys, jwks: { keys: [publicJwk, jwk] } },
        fetchDocument: offline,
      });
      expect(verdict.accepted).toBe(true);
    }
  });
});

describe("required claims: match and separator", () => {
  const scp = (match: string, values: string[], separator = "") =>
    policy({
      claims: `<claim name="scp" match="${match}"${separator ? ` separator="${separator}"` : ""}>${values
        .map((value) => `<value>${value}</value>`)
        .join("")}</claim>`,
    });

  it.each([
    { match: "all", values: ["orders.read", "orders.write"], scp: "orders.read orders.write profile", accepted: true },
    { match: "any", values: ["orders.write", "admin"], scp: "orders.read orders.write", accepted: true },
    { match: "any", values: ["admin", "owner"], scp: "orders.read orders.write", accepted: false },
  ])("match=$match of $values against scp '$scp' with separator ' ' → accepted $accepted", async (row) => {
    const verdict = await judge(scp(row.match, row.values, " "), await bearer(v2Claims({ scp: row.scp })));
    expect(verdict.accepted).toBe(row.accepted);
  });

  it("names the missing values under match=all", async () => {
    const verdict = await judge(
      scp("all", ["orders.read", "orders.write"], " "),
      await bearer(v2Claims({ scp: "orders.read profile" })),
    );
    expect(verdict).toEqual({
      accepted: false,
      check: "claim:scp",
      reason:
        "the token's scp claim (orders.read, profile) lacks orders.write; the policy requires all of orders.read, orders.write",
      fix: grant,
    });
  });

  it("explains a space-separated claim read without a separator", async () => {
    const verdict = await judge(scp("any", ["orders.read"]), await bearer(v2Claims({ scp: "orders.read profile" })));
    expect(verdict).toEqual({
      accepted: false,
      check: "claim:scp",
      reason:
        'the token\'s scp claim "orders.read profile" holds several space-separated values; the policy\'s <claim> needs separator=" " to match them one by one',
      fix: 'add separator=" " to the policy\'s <claim name="scp">',
    });
  });

  it("applies match=all and match=any to an array claim", async () => {
    const roles = await bearer(v2Claims({ roles: ["access_as_app", "reader"] }));
    const rolePolicy = (match: string) =>
      policy({ claims: `<claim name="roles" match="${match}"><value>reader</value><value>writer</value></claim>` });
    expect((await judge(rolePolicy("any"), roles)).accepted).toBe(true);
    expect(await judge(rolePolicy("all"), roles)).toEqual({
      accepted: false,
      check: "claim:roles",
      reason:
        "the token's roles (access_as_app, reader) do not include writer: the client has no app role assignment for that role on the API",
      fix: grant,
    });
  });

  it("defaults to match=all", async () => {
    const spec = readTokenCheck(policy({ claims: '<claim name="roles"><value>a</value></claim>' }));
    expect(spec.requiredClaims).toEqual([{ name: "roles", match: "all", values: ["a"] }]);
  });
});

describe("clock skew boundaries", () => {
  it.each([
    { skew: 60, exp: nowSeconds - 60, accepted: true },
    { skew: 60, exp: nowSeconds - 61, accepted: false },
    { skew: 0, exp: nowSeconds, accepted: true },
    { skew: 0, exp: nowSeconds - 1, accepted: false },
  ])("exp = now $exp with clock-skew $skew → accepted $accepted", async ({ skew, exp, accepted }) => {
    const verdict = await judge(policy({ attributes: `clock-skew="${skew}"` }), await bearer(v2Claims({ exp })));
    expect(verdict.accepted).toBe(accepted);
    if (!verdict.accepted) expect(verdict.check).toBe("expiry");
  });

  it.each([
    { skew: 60, nbf: nowSeconds + 60, accepted: true },
    { skew: 60, nbf: nowSeconds + 61, accepted: false },
    { skew: 0, nbf: nowSeconds, accepted: true },
    { skew: 0, nbf: nowSeconds + 1, accepted: false },
  ])("nbf = $nbf with clock-skew $skew → accepted $accepted", async ({ skew, nbf, accepted }) => {
    const verdict = await judge(policy({ attributes: `clock-skew="${skew}"` }), await bearer(v2Claims({ nbf })));
    expect(verdict.accepted).toBe(accepted);
    if (!verdict.accepted) expect(verdict.check).toBe("not-before");
  });

  it("applies APIM's default clock skew of 0 when the attribute is absent", async () => {
    const spec = readTokenCheck(policy({ attributes: "" }));
    expect(spec).toMatchObject({ clockSkewSeconds: 0, requireExpirationTime: true, requireSignedTokens: true });
  });
});

describe("a policy without <issuers>", () => {
  const fetchFrom = (documents: Record<string, unknown>, fetched: string[]) => async (url: string) => {
    fetched.push(url);
    if (!(url in documents)) throw new Error(`HTTP 404 for ${url}`);
    return documents[url];
  };

  it("takes the issuer and keys from the openid-config document it fetches", async () => {
    const fetched: string[] = [];
    const jwksUri = `https://login.microsoftonline.com/${tid}/discovery/v2.0/keys`;
    const fetchDocument = fetchFrom(
      { [v2Metadata]: { issuer: v2Issuer, jwks_uri: jwksUri }, [jwksUri]: { keys: [publicJwk] } },
      fetched,
    );
    const spec = readTokenCheck(policy({ issuers: null }));
    const accept = await evaluateToken({
      spec,
      authorizationHeader: await bearer(v2Claims()),
      now,
      keys: {},
      fetchDocument,
    });
    expect(accept.accepted).toBe(true);
    expect(fetched).toEqual([v2Metadata, jwksUri]);

    const reject = await evaluateToken({
      spec,
      authorizationHeader: await bearer(v1Claims({ aud: apiId })),
      now,
      keys: {},
      fetchDocument,
    });
    expect(reject).toEqual({
      accepted: false,
      check: "issuer",
      reason: `issuer https://sts.windows.net/${tid}/ is a v1 issuer; this policy accepts https://login.microsoftonline.com/${tid}/v2.0 — the API app's token version and the policy disagree`,
      fix: tokenVersion(2),
    });
  });

  it("says the keys were unavailable, not that the token is bad, when the document cannot be loaded", async () => {
    const verdict = await evaluateToken({
      spec: readTokenCheck(policy({ issuers: null })),
      authorizationHeader: await bearer(v2Claims()),
      now,
      keys: {},
      fetchDocument: fetchFrom({}, []),
    });
    expect(verdict).toEqual({
      accepted: false,
      check: "signature",
      reason: `the openid-config ${v2Metadata} could not be loaded (HTTP 404 for ${v2Metadata}), so no signing keys are known`,
      keysUnavailable: true,
    });
  });

  it("refuses to fetch key material over plain http from a non-loopback host", async () => {
    const verdict = await evaluateToken({
      spec: readTokenCheck(
        policy({ issuers: null, metadata: "http://login.example.test/.well-known/openid-configuration" }),
      ),
      authorizationHeader: await bearer(v2Claims()),
      now,
      keys: {},
    });
    expect(verdict).toMatchObject({ accepted: false, check: "signature" });
    expect(verdict.accepted ? "" : verdict.reason).toContain(
      "refusing to fetch http://login.example.test/.well-known/openid-configuration: only https, or http on a loopback host, is allowed",
    );
    await expect(loadDocument("ftp://127.0.0.1/x")).rejects.toThrow(/refusing to fetch/);
  });

  it.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["localhost", true],
    ["[::1]", true],
    ["128.0.0.1", false],
    ["127.0.0.1.example.com", false],
    ["localhost.example.com", false],
  ] as const)("treats %s as loopback: %s", (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe("a kid that matches no published key", () => {
  // Microsoft.IdentityModel, which APIM's validate-jwt uses, tries every issuer signing key when no kid matches
  // (TryAllIssuerSigningKeys, on by default; AzureAD/azure-activedirectory-identitymodel-extensions-for-dotnet
  // issue #891 and PR #1399). What this cannot prove: that a given APIM build keeps that default.
  it("is accepted when a published key verifies the signature, with a note naming the kid and the key", async () => {
    const verdict = await judge(policy(), await bearer(v2Claims(), { kid: "renamed-key" }));
    expect(verdict).toEqual({
      accepted: true,
      claims: v2Claims(),
      notes: [
        "kid renamed-key was not found in the keys from the given JWKS, but key key-1 verifies the signature; APIM tries every signing key when no kid matches, so this is accepted",
      ],
    });
  });

  it("is accepted without a note when the kid is published", async () => {
    expect(await judge(policy(), await bearer(v2Claims()))).toEqual({ accepted: true, claims: v2Claims() });
  });

  it("does not let a key under another kid excuse a published kid's failed signature", async () => {
    const otherPublic = { ...publicJwk, kid: "key-2" };
    const verdict = await evaluateToken({
      spec: readTokenCheck(policy()),
      authorizationHeader: await bearer(v2Claims(), { key: otherKey }),
      now,
      keys: { ...keys, jwks: { keys: [publicJwk, otherPublic] } },
      fetchDocument: offline,
    });
    expect(verdict).toMatchObject({ accepted: false, check: "signature" });
  });
});

describe("evaluateToken with validate-azure-ad-token", () => {
  const aadPolicy = (audiences = [apiId, `api://${apiId}`]) => `<policies><inbound><base />
    <validate-azure-ad-token tenant-id="${tid}" header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized">
      <client-application-ids><application-id>${clientId}</application-id></client-application-ids>
      <audiences>${audiences.map((aud) => `<audience>${aud}</audience>`).join("")}</audiences>
      <required-claims><claim name="roles" match="any"><value>access_as_app</value></claim></required-claims>
    </validate-azure-ad-token></inbound></policies>`;
  const aadKeys = () => ({ openIdConfigs: { [v2Metadata]: { issuer: v2Issuer } }, jwks: keys.jwks });

  const judgeAad = async (policyXml: string, claims: JWTPayload) =>
    evaluateToken({
      spec: readTokenCheck(policyXml),
      authorizationHeader: await bearer(claims),
      now,
      keys: aadKeys(),
      fetchDocument: offline,
    });

  it("accepts the tenant's v1 and v2 tokens from a listed client", async () => {
    expect((await judgeAad(aadPolicy(), v2Claims())).accepted).toBe(true);
    expect((await judgeAad(aadPolicy(), v1Claims())).accepted).toBe(true);
  });

  it("rejects a client that is not in client-application-ids, by azp or appid", async () => {
    for (const claims of [v2Claims({ azp: otherClientId }), v1Claims({ appid: otherClientId })]) {
      expect(await judgeAad(aadPolicy(), claims)).toEqual({
        accepted: false,
        check: "client-application",
        reason: `client ${otherClientId} is not one of the policy's client-application-ids (${clientId}): this client application is not allowed to call the API`,
        fix: `${grant}; an API with apis[].allowedClients lists the client there too`,
      });
    }
  });

  it("rejects another tenant's issuer", async () => {
    const foreign = `https://sts.windows.net/${otherTid}/`;
    expect(await judgeAad(aadPolicy(), v1Claims({ iss: foreign }))).toEqual({
      accepted: false,
      check: "issuer",
      reason: `issuer ${foreign} belongs to tenant ${otherTid}; this policy accepts https://sts.windows.net/${tid}/ or ${v2Issuer} — the token was issued by another tenant`,
      fix: `request the token from tenant ${tid}: use the token endpoint the stack exports (clients.<name>.tokenEndpoint)`,
    });
  });

  it("checks audiences and required claims", async () => {
    expect(await judgeAad(aadPolicy([apiId]), v1Claims())).toMatchObject({ accepted: false, check: "audience" });
    expect(await judgeAad(aadPolicy(), without(v2Claims(), "roles"))).toMatchObject({
      accepted: false,
      check: "claim:roles",
    });
  });
});

describe("readTokenCheck", () => {
  it("reads a validate-jwt policy with APIM's defaults applied", () => {
    const spec = readTokenCheck(
      `<policies><inbound><base /><validate-jwt query-parameter-name="access_token"><issuer-signing-keys><key n="abc" e="AQAB" /></issuer-signing-keys></validate-jwt></inbound></policies>`,
    );
    expect(spec).toEqual({
      kind: "validate-jwt",
      tokenSource: { kind: "query", name: "access_token" },
      failedValidationHttpCode: 401,
      audiences: [],
      requiredClaims: [],
      requireExpirationTime: true,
      requireSignedTokens: true,
      clockSkewSeconds: 0,
      openIdConfigUrls: [],
      issuerSigningKeys: [{ kind: "rsa", n: "abc", e: "AQAB" }],
      issuers: [],
    });
  });

  it.each([
    ["<policies><inbound>", /^policy XML is not well-formed: /],
    ["<policies><inbound><base /></inbound></policies>", /has no <validate-jwt> or <validate-azure-ad-token> element$/],
    [
      "<policies><outbound><validate-jwt header-name='Authorization' /></outbound></policies>",
      /has no <inbound> section/,
    ],
    ["<policies><inbound><validate-jwt /></inbound></policies>", /names none of header-name/],
    [
      "<policies><inbound><validate-jwt header-name='Authorization' clock-skew='soon' /></inbound></policies>",
      /clock-skew="soon" is not a whole number/,
    ],
    [
      "<policies><inbound><validate-azure-ad-token tenant-id='t' /></inbound></policies>",
      /needs at least one <client-application-ids>/,
    ],
    [
      "<policies><inbound><validate-jwt header-name='Authorization'><audiences><audience>{{api-id}}</audience></audiences></validate-jwt></inbound></policies>",
      /named value \{\{api-id\}\}/,
    ],
  ])("rejects %s", (xml, message) => {
    expect(() => readTokenCheck(xml)).toThrow(message);
  });
});
