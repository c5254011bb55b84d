import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type EntraStandIn, type EntraStandInOptions, startEntraStandIn } from "./support/entraStandIn";
import { type RunningStandIn, startBackendStandIn, startGatewayStandIn } from "./support/gatewayStandIn";

const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const app = { clientId: "c11e0000-aaaa-4bbb-8ccc-000000000002", secret: "app-secret", displayName: "orders-client" };
const stranger = { clientId: "c11e0000-aaaa-4bbb-8ccc-000000000003", secret: "stranger-secret" };
const v2Api = {
  clientId: "a91e0000-aaaa-4bbb-8ccc-000000000010",
  identifierUri: "api://a91e0000-aaaa-4bbb-8ccc-000000000010",
  tokenVersion: 2 as const,
  appRoleAssignmentRequired: true,
  roles: [
    { id: "0d0e0000-0000-4000-8000-000000000001", value: "access_as_app" },
    { id: "0d0e0000-0000-4000-8000-000000000002", value: "reader" },
  ],
  displayName: "orders-api",
};
const v1Api = {
  clientId: "a91e0000-aaaa-4bbb-8ccc-000000000011",
  identifierUri: "api://a91e0000-aaaa-4bbb-8ccc-000000000011",
  tokenVersion: 1 as const,
  appRoleAssignmentRequired: false,
  roles: [{ id: "0d0e0000-0000-4000-8000-000000000003", value: "access_as_app" }],
};
const options: EntraStandInOptions = {
  tenantId: tid,
  clients: [app, stranger],
  apis: [v2Api, v1Api],
  assignments: [
    { clientId: app.clientId, apiClientId: v2Api.clientId, roleId: "0d0e0000-0000-4000-8000-000000000001" },
    { clientId: app.clientId, apiClientId: v1Api.clientId, roleId: "0d0e0000-0000-4000-8000-000000000003" },
  ],
  tokenLifetimeSeconds: 600,
};

interface TokenRequest {
  client?: { clientId: string; secret?: string };
  scope?: string;
  grantType?: string;
}

async function requestToken(entra: EntraStandIn, request: TokenRequest = {}) {
  const client = request.client ?? app;
  const form = new URLSearchParams({
    grant_type: request.grantType ?? "client_credentials",
    client_id: client.clientId,
    ...(client.secret ? { client_secret: client.secret } : {}),
    scope: request.scope ?? `${v2Api.identifierUri}/.default`,
  });
  const response = await fetch(`${entra.authorityHost}/${tid}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function accessToken(entra: EntraStandIn, request: TokenRequest = {}): Promise<string> {
  const { status, body } = await requestToken(entra, request);
  if (status !== 200) throw new Error(`token request failed: ${JSON.stringify(body)}`);
  return body.access_token as string;
}

let entra: EntraStandIn;
const perTest: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  entra = await startEntraStandIn(options);
});

afterEach(async () => {
  await Promise.all(perTest.splice(0).map((server) => server.close()));
});

afterAll(async () => {
  await entra.close();
});

describe("Entra stand-in", () => {
  it("publishes v2 and v1 metadata whose issuers are Entra's, and the JWKS that verifies its tokens", async () => {
    const v2 = (await (await fetch(`${entra.authorityHost}/${tid}/v2.0/.well-known/openid-configuration`)).json()) as {
      issuer: string;
      jwks_uri: string;
      token_endpoint: string;
    };
    const v1 = (await (await fetch(`${entra.authorityHost}/${tid}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
    };
    expect(v2.issuer).toBe(`${entra.authorityHost}/${tid}/v2.0`);
    expect(v2.token_endpoint).toBe(`${entra.authorityHost}/${tid}/oauth2/v2.0/token`);
    expect(v1.issuer).toBe(`https://sts.windows.net/${tid}/`);
    const jwks = (await (await fetch(v2.jwks_uri)).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(await accessToken(entra), createLocalJWKSet(jwks), { algorithms: ["RS256"] });
    expect(payload.aud).toBe(v2Api.clientId);
  });

  it("issues a v2 token with exactly Entra's v2 app-only claims", async () => {
    const token = await accessToken(entra);
    expect(decodeProtectedHeader(token)).toEqual({ typ: "JWT", alg: "RS256", kid: entra.kid });
    const claims = decodeJwt(token);
    const oid = entra.servicePrincipalIds[app.clientId];
    expect(claims).toEqual({
      aud: v2Api.clientId,
      iss: `${entra.authorityHost}/${tid}/v2.0`,
      azp: app.clientId,
      azpacr: "1",
      ver: "2.0",
      tid,
      oid,
      sub: oid,
      roles: ["access_as_app"],
      iat: claims.iat,
      nbf: claims.iat,
      exp: (claims.iat as number) + 600,
    });
    expect(Math.abs((claims.iat as number) - Date.now() / 1000)).toBeLessThan(5);
  });

  it("issues a v1 token whose aud is the identifier URI the client asked for", async () => {
    const claims = decodeJwt(await accessToken(entra, { scope: `${v1Api.identifierUri}/.default` }));
    const oid = entra.servicePrincipalIds[app.clientId];
    expect(claims).toEqual({
      aud: v1Api.identifierUri,
      iss: `https://sts.windows.net/${tid}/`,
      appid: app.clientId,
      appidacr: "1",
      ver: "1.0",
      tid,
      oid,
      sub: oid,
      roles: ["access_as_app"],
      iat: claims.iat,
      nbf: claims.iat,
      exp: (claims.iat as number) + 600,
    });
    const byClientId = decodeJwt(await accessToken(entra, { scope: `${v1Api.clientId}/.default` }));
    expect(byClientId.aud).toBe(v1Api.clientId);
  });

  it("issues a token without a roles claim to an unassigned client when assignment is not required", async () => {
    const claims = decodeJwt(await accessToken(entra, { client: stranger, scope: `${v1Api.identifierUri}/.default` }));
    expect(claims.appid).toBe(stranger.clientId);
    expect(claims).not.toHaveProperty("roles");
  });

  it.each([
    {
      name: "an unknown client",
      request: { client: { clientId: "c11e0000-0000-4000-8000-00000000dead", secret: "x" } },
      status: 400,
      error: "unauthorized_client",
      code: 700016,
    },
    {
      name: "a wrong secret",
      request: { client: { ...app, secret: "wrong" } },
      status: 401,
      error: "invalid_client",
      code: 7000215,
    },
    {
      name: "a scope without /.default",
      request: { scope: `${v2Api.identifierUri}/access_as_app` },
      status: 400,
      error: "invalid_scope",
      code: 1002012,
    },
    {
      name: "an unknown resource",
      request: { scope: "api://not-registered/.default" },
      status: 400,
      error: "invalid_resource",
      code: 500011,
    },
    {
      name: "an unassigned client where assignment is required",
      request: { client: stranger },
      status: 400,
      error: "invalid_grant",
      code: 501051,
    },
    {
      name: "the password grant",
      request: { grantType: "password" },
      status: 400,
      error: "unsupported_grant_type",
      code: 70003,
    },
  ])("answers $name with AADSTS$code", async ({ request, status, error, code }) => {
    const response = await requestToken(entra, request);
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error, error_codes: [code] });
    expect(response.body.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
    expect(response.body).not.toHaveProperty("access_token");
  });

  it("names the client and API in AADSTS501051, as Entra does", async () => {
    const { body } = await requestToken(entra, { client: stranger });
    expect(body.error_description).toMatch(
      new RegExp(
        `^AADSTS501051: Application '${stranger.clientId}'\\(${stranger.clientId}\\) is not assigned to a role for the application '${v2Api.identifierUri}'\\(orders-api\\)\\.`,
      ),
    );
  });

  it("answers AADSTS700016 until the new client has replicated, then issues its token", async () => {
    const slow = await startEntraStandIn({ ...options, replicationDelaySeconds: 5 });
    perTest.push(slow);
    const first = await requestToken(slow);
    slow.advanceClock(2000);
    const second = await requestToken(slow);
    slow.advanceClock(3000);
    const third = await requestToken(slow);
    expect([first.status, second.status, third.status]).toEqual([400, 400, 200]);
    expect(first.body.error_codes).toEqual([700016]);
    expect(second.body.error_codes).toEqual([700016]);
    expect(decodeJwt(third.body.access_token as string).roles).toEqual(["access_as_app"]);
    expect(slow.tokenRequests).toBe(3);
    expect(slow.requests).toBe(3);
  });
});

describe("Entra stand-in, federated credentials", () => {
  const issuer = "https://token.pipeline.example";
  const subject = "repo:contoso/orders:environment:dev";
  const pipeline = {
    clientId: "c11e0000-aaaa-4bbb-8ccc-000000000004",
    federatedCredentials: [{ issuer, subject, audiences: ["api://AzureADTokenExchange"] }],
  };
  let federated: EntraStandIn;
  let sign: (claims?: JWTPayload, key?: "issuer" | "stranger", kid?: string) => Promise<string>;

  beforeAll(async () => {
    const issuerKeys = await generateKeyPair("RS256");
    const strangerKeys = await generateKeyPair("RS256");
    sign = (claims = {}, key = "issuer", kid = "issuer-key") => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: issuer,
        sub: subject,
        aud: "api://AzureADTokenExchange",
        iat: now,
        exp: now + 300,
        ...claims,
      })
        .setProtectedHeader({ alg: "RS256", typ: "JWT", kid })
        .sign((key === "issuer" ? issuerKeys : strangerKeys).privateKey);
    };
    federated = await startEntraStandIn({
      ...options,
      clients: [app, pipeline],
      assignments: [
        ...options.assignments,
        { clientId: pipeline.clientId, apiClientId: v2Api.clientId, roleId: "0d0e0000-0000-4000-8000-000000000001" },
      ],
      trustedIssuers: { [issuer]: { keys: [{ ...(await exportJWK(issuerKeys.publicKey)), kid: "issuer-key" }] } },
    });
  });

  afterAll(async () => {
    await federated?.close();
  });

  const exchange = async (
    assertion: string,
    assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
  ) => {
    const response = await fetch(`${federated.authorityHost}/${tid}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: pipeline.clientId,
        client_assertion_type: assertionType,
        client_assertion: assertion,
        scope: `${v2Api.identifierUri}/.default`,
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it("issues the same app-only token as for a secret, with azpacr 2 for the assertion", async () => {
    const { status, body } = await exchange(await sign());
    expect(status).toBe(200);
    const claims = decodeJwt(body.access_token as string);
    const oid = federated.servicePrincipalIds[pipeline.clientId];
    expect(claims).toEqual({
      aud: v2Api.clientId,
      iss: `${federated.authorityHost}/${tid}/v2.0`,
      azp: pipeline.clientId,
      azpacr: "2",
      ver: "2.0",
      tid,
      oid,
      sub: oid,
      roles: ["access_as_app"],
      iat: claims.iat,
      nbf: claims.iat,
      exp: (claims.iat as number) + 600,
    });
  });

  it.each([
    ["an issuer no credential names", () => sign({ iss: "https://token.other.example" }), 400, 700211],
    ["a key the issuer does not publish", () => sign({}, "stranger", "stranger-key"), 401, 7000272],
    ["a signature the issuer's key does not verify", () => sign({}, "stranger"), 401, 700027],
    ["an expired assertion", () => sign({ exp: Math.floor(Date.now() / 1000) - 60 }), 401, 700024],
    ["an assertion not valid yet", () => sign({ nbf: Math.floor(Date.now() / 1000) + 600 }), 401, 700024],
    ["another subject", () => sign({ sub: "repo:contoso/orders:environment:prod" }), 400, 700213],
    ["a subject differing only in case", () => sign({ sub: subject.toUpperCase() }), 400, 700213],
    ["another audience", () => sign({ aud: "api://something-else" }), 400, 700212],
    ["a malformed assertion", async () => "not.a.jwt", 401, 50027],
  ])("refuses %s", async (_case, assertion, status, code) => {
    const { status: actual, body } = await exchange(await assertion());
    expect([actual, body.error_codes]).toEqual([status, [code]]);
    expect(body).not.toHaveProperty("access_token");
  });

  it("words the refusals as Entra does", async () => {
    const other = await exchange(await sign({ sub: "repo:contoso/orders:environment:prod" }));
    expect(other.body.error).toBe("invalid_request");
    expect(other.body.error_description).toMatch(
      /^AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:contoso\/orders:environment:prod'\. Please note that the matching is done using a case-sensitive comparison\. Check your federated identity credential Subject, Audience and Issuer against the presented assertion\. /,
    );
    const expired = await exchange(await sign({ exp: 1_700_000_000 }));
    expect(expired.body.error).toBe("invalid_client");
    expect(expired.body.error_description).toMatch(
      /^AADSTS700024: Client assertion is not within its valid time range\. Current time: \S+Z, assertion valid from 1970-01-01T00:00:00\.000Z, expiry time of assertion 2023-11-14T22:13:20\.000Z\. /,
    );
  });

  it("requires the jwt-bearer assertion type", async () => {
    const { status, body } = await exchange(await sign(), "urn:example:other");
    expect([status, body.error_codes]).toEqual([400, [900144]]);
  });
});

describe("gateway stand-in", () => {
  let backend: RunningStandIn & { readonly requests: number };
  let gateway: RunningStandIn;

  beforeAll(async () => {
    backend = await startBackendStandIn();
    const policyXml = `<policies>
  <inbound>
    <base />
    <validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized" require-expiration-time="true" require-signed-tokens="true" clock-skew="60">
      <openid-config url="${entra.authorityHost}/${tid}/v2.0/.well-known/openid-configuration" />
      <audiences><audience>${v2Api.clientId}</audience></audiences>
      <issuers><issuer>${entra.authorityHost}/${tid}/v2.0</issuer></issuers>
      <required-claims><claim name="roles" match="any"><value>access_as_app</value></claim></required-claims>
    </validate-jwt>
  </inbound>
  <backend><base /></backend>
</policies>`;
    gateway = await startGatewayStandIn({ apis: [{ path: "orders", policyXml, backendUrl: `${backend.url}/api` }] });
  });

  afterAll(async () => {
    await Promise.all([gateway?.close(), backend?.close()]);
  });

  const call = async (path: string, authorization?: string) => {
    const response = await fetch(`${gateway.url}${path}`, {
      headers: authorization ? { authorization } : {},
    });
    return { status: response.status, body: await response.json() };
  };

  it("answers 401 with the policy's generic message when there is no token", async () => {
    const before = backend.requests;
    expect(await call("/orders/items")).toEqual({ status: 401, body: { statusCode: 401, message: "Unauthorized" } });
    expect(backend.requests).toBe(before);
  });

  it("answers 401 to a tampered token without revealing why", async () => {
    const [head, payload, signature] = (await accessToken(entra)).split(".");
    const claims = JSON.parse(Buffer.from(payload as string, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, roles: ["access_as_app", "admin"] })).toString("base64url");
    const response = await call("/orders/items", `Bearer ${head}.${forged}.${signature}`);
    expect(response).toEqual({ status: 401, body: { statusCode: 401, message: "Unauthorized" } });
    expect(JSON.stringify(response.body)).not.toMatch(/signature|issuer|audience|role/i);
  });

  it("answers 401 to a token of the other version without revealing why", async () => {
    const v1Token = await accessToken(entra, { scope: `${v1Api.identifierUri}/.default` });
    expect(await call("/orders/items", `Bearer ${v1Token}`)).toEqual({
      status: 401,
      body: { statusCode: 401, message: "Unauthorized" },
    });
  });

  it("relays a request with a good token to the backend", async () => {
    const before = backend.requests;
    const response = await call("/orders/items/42?expand=lines", `Bearer ${await accessToken(entra)}`);
    expect(response).toEqual({ status: 200, body: { method: "GET", path: "/api/items/42?expand=lines" } });
    expect(backend.requests).toBe(before + 1);
  });

  it("answers 404 outside any API's path", async () => {
    expect(await call("/ordersx/items")).toEqual({
      status: 404,
      body: { statusCode: 404, message: "Resource not found" },
    });
  });
});
