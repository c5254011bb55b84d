import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  compactVerify,
  createLocalJWKSet,
  decodeJwt,
  errors,
  exportJWK,
  generateKeyPair,
  type GenerateKeyPairResult,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";
import { BodyTooLarge, listenBounded, readBody, sendJson } from "../../local/boundedServer";

export interface StandInFederatedCredential {
  issuer: string;
  subject: string;
  audiences: string[];
}

export interface StandInClient {
  clientId: string;
  secret?: string;
  /** Trusts tokens whose iss and sub equal one credential's exactly and whose aud holds one of its audiences. */
  federatedCredentials?: StandInFederatedCredential[];
  displayName?: string;
  /** A public client (spa, native): signs users in without a credential. */
  publicClient?: boolean;
  /** Where the authorization endpoint may send a code; for loopback URIs the port is ignored, as Entra does. */
  redirectUris?: string[];
}

export interface StandInApi {
  clientId: string;
  identifierUri: string;
  tokenVersion: 1 | 2;
  appRoleAssignmentRequired: boolean;
  roles: { id: string; value: string }[];
  /** Delegated scopes the API exposes. */
  scopes?: { id: string; value: string }[];
  displayName?: string;
}

/** Tenant-wide admin consent (a delegated permission grant) of an API's scopes to a client. */
export interface StandInDelegatedGrant {
  clientId: string;
  apiClientId: string;
  scopes: string[];
}

/** The one user who signs in, without a password, wherever Entra would show a sign-in page. */
export interface StandInUser {
  objectId: string;
  username: string;
  name: string;
}

export interface StandInAssignment {
  clientId: string;
  apiClientId: string;
  roleId: string;
}

export interface EntraStandInOptions {
  tenantId: string;
  clients: StandInClient[];
  apis: StandInApi[];
  assignments: StandInAssignment[];
  /** The first N token requests fail with AADSTS700016, as while new objects replicate. */
  replicationDelayResponses?: number;
  tokenLifetimeSeconds?: number;
  /** The published keys (JWKS) of external issuers, as Entra would fetch them from each issuer's metadata. */
  trustedIssuers?: Record<string, JSONWebKeySet>;
  /** The RS256 key pair the tenant signs with (default: a fresh one), for tests that also sign tokens themselves. */
  signingKey?: GenerateKeyPairResult;
  delegatedGrants?: StandInDelegatedGrant[];
  /** Default: {@link defaultTestUser}. */
  user?: StandInUser;
  /** Users (or, in Entra, their groups) an administrator assigned to an API's enterprise application. */
  userAssignments?: { userObjectId: string; apiClientId: string }[];
}

export const defaultTestUser: StandInUser = {
  objectId: "0a11ce00-0000-4000-8000-00000000a11c",
  username: "test.user@contoso.example",
  name: "Test User",
};

export interface EntraStandIn {
  /** `http://127.0.0.1:<port>`, used where Entra's `https://login.microsoftonline.com` would be. */
  authorityHost: string;
  /** The RS256 signing key's kid, as published in the JWKS. */
  kid: string;
  /** The service principal object id (`oid`, `sub`) of each client. */
  servicePrincipalIds: Record<string, string>;
  /** Every request served so far. */
  readonly requests: number;
  /** Token endpoint requests served so far. */
  readonly tokenRequests: number;
  /** The test user signs in on the device-code page with this user code, as a person would in a browser. */
  signInWithUserCode(userCode: string): void;
  close(): Promise<void>;
}

interface EntraError {
  status: 400 | 401;
  error: string;
  code: number;
  description: string;
}

/** A local imitation of Entra ID's metadata, JWKS and client-credentials token endpoint, for one tenant. */
export async function startEntraStandIn(options: EntraStandInOptions): Promise<EntraStandIn> {
  const { tenantId } = options;
  const { privateKey, publicKey } = options.signingKey ?? (await generateKeyPair("RS256", { modulusLength: 2048 }));
  const kid = randomUUID();
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, use: "sig" };
  const servicePrincipalIds = Object.fromEntries(options.clients.map((client) => [client.clientId, randomUUID()]));
  const counters = { requests: 0, tokenRequests: 0 };
  let authorityHost = "";

  const metadata = (version: 1 | 2) => {
    const tenantAuthority = `${authorityHost}/${tenantId}`;
    return version === 2
      ? {
          issuer: `${tenantAuthority}/v2.0`,
          jwks_uri: `${tenantAuthority}/discovery/v2.0/keys`,
          token_endpoint: `${tenantAuthority}/oauth2/v2.0/token`,
          authorization_endpoint: `${tenantAuthority}/oauth2/v2.0/authorize`,
          token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
          id_token_signing_alg_values_supported: ["RS256"],
          response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
          subject_types_supported: ["pairwise"],
          tenant_region_scope: "EU",
        }
      : {
          issuer: `https://sts.windows.net/${tenantId}/`,
          jwks_uri: `${tenantAuthority}/discovery/keys`,
          token_endpoint: `${tenantAuthority}/oauth2/token`,
          authorization_endpoint: `${tenantAuthority}/oauth2/authorize`,
          token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
          id_token_signing_alg_values_supported: ["RS256"],
          response_types_supported: ["code", "id_token", "code id_token", "token id_token", "token"],
          subject_types_supported: ["pairwise"],
          tenant_region_scope: "EU",
        };
  };

  const routes: Record<string, (request: IncomingMessage, response: ServerResponse) => Promise<void>> = {
    [`GET /${tenantId}/v2.0/.well-known/openid-configuration`]: async (_req, res) => sendJson(res, 200, metadata(2)),
    [`GET /${tenantId}/.well-known/openid-configuration`]: async (_req, res) => sendJson(res, 200, metadata(1)),
    [`GET /${tenantId}/discovery/v2.0/keys`]: async (_req, res) => sendJson(res, 200, { keys: [publicJwk] }),
    [`GET /${tenantId}/discovery/keys`]: async (_req, res) => sendJson(res, 200, { keys: [publicJwk] }),
    [`POST /${tenantId}/oauth2/v2.0/devicecode`]: async (req, res) => {
      const outcome = await deviceCodeResponse(req);
      if ("status" in outcome) sendEntraError(res, outcome, authorityHost);
      else sendJson(res, 200, outcome);
    },
    [`GET /${tenantId}/oauth2/v2.0/authorize`]: async (req, res) => authorize(req, res),
    [`POST /${tenantId}/oauth2/v2.0/token`]: async (req, res) => {
      counters.tokenRequests += 1;
      const outcome = await tokenResponse(req, counters.tokenRequests);
      if ("status" in outcome) sendEntraError(res, outcome, authorityHost);
      else sendJson(res, 200, outcome);
    },
  };

  const tokenResponse = async (request: IncomingMessage, attempt: number): Promise<EntraError | object> => {
    let form: URLSearchParams;
    try {
      form = new URLSearchParams((await readBody(request, 64 * 1024)).toString("utf8"));
    } catch (error) {
      if (error instanceof BodyTooLarge) return invalidRequest(900144, "The request body is too large.");
      throw error;
    }
    if (!(request.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      return invalidRequest(900144, "The request body must contain the following parameter: 'grant_type'.");
    }
    const grantType = form.get("grant_type");
    if (!grantType)
      return invalidRequest(900144, "The request body must contain the following parameter: 'grant_type'.");
    if (grantType === "authorization_code" || grantType === deviceCodeGrantType) {
      return delegatedTokenResponse(form, grantType);
    }
    if (grantType !== "client_credentials") {
      return {
        status: 400,
        error: "unsupported_grant_type",
        code: 70003,
        description: `The app requested an unsupported grant type '${grantType}'.`,
      };
    }
    const clientId = form.get("client_id") ?? "";
    const client = options.clients.find((candidate) => candidate.clientId === clientId);
    if (!client || attempt <= (options.replicationDelayResponses ?? 0)) return unknownClient(clientId);
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    if (assertion) {
      const refused = await federatedRefusal(
        client,
        options.trustedIssuers ?? {},
        form.get("client_assertion_type"),
        assertion,
      );
      if (refused) return refused;
    } else if (!secret) {
      return {
        status: 401,
        error: "invalid_client",
        code: 7000218,
        description: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      };
    } else if (client.secret === undefined || secret !== client.secret) {
      return {
        status: 401,
        error: "invalid_client",
        code: 7000215,
        description: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      };
    }
    // Entra's authentication context class: "1" client secret, "2" certificate or assertion.
    const acr = assertion ? "2" : "1";
    const scope = form.get("scope");
    if (!scope) return invalidRequest(900144, "The request body must contain the following parameter: 'scope'.");
    if (!scope.endsWith("/.default") || /\s/.test(scope)) {
      return {
        status: 400,
        error: "invalid_scope",
        code: 1002012,
        description: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      };
    }
    const resource = scope.slice(0, -"/.default".length);
    const api = options.apis.find(
      (candidate) => candidate.identifierUri === resource || candidate.clientId === resource,
    );
    if (!api) return resourceNotFound(resource);
    const roleIds = options.assignments
      .filter((assignment) => assignment.clientId === clientId && assignment.apiClientId === api.clientId)
      .map((assignment) => assignment.roleId);
    if (api.appRoleAssignmentRequired && roleIds.length === 0) {
      return invalidGrant(
        501051,
        `Application '${clientId}'(${client.displayName ?? clientId}) is not assigned to a role for the application '${api.identifierUri}'(${api.displayName ?? api.clientId}).`,
      );
    }
    const roles = api.roles.filter((role) => roleIds.includes(role.id)).map((role) => role.value);
    const lifetime = options.tokenLifetimeSeconds ?? 3600;
    const accessToken = await new SignJWT(tokenClaims(api, resource, clientId, roles, lifetime, acr))
      .setProtectedHeader({ typ: "JWT", alg: "RS256", kid })
      .sign(privateKey);
    return { token_type: "Bearer", expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken };
  };

  const user = options.user ?? defaultTestUser;
  const deviceCodes = new Map<string, { clientId: string; scope: string; userCode: string; signedIn: boolean }>();
  const authorizationCodes = new Map<
    string,
    { clientId: string; scope: string; redirectUri: string; challenge: string; method: string }
  >();

  const deviceCodeResponse = async (request: IncomingMessage): Promise<EntraError | object> => {
    const form = new URLSearchParams((await readBody(request, 64 * 1024)).toString("utf8"));
    const client = options.clients.find((candidate) => candidate.clientId === form.get("client_id"));
    if (!client) return unknownClient(form.get("client_id") ?? "");
    if (!client.publicClient) {
      return {
        status: 400,
        error: "invalid_client",
        code: 7000218,
        description: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      };
    }
    const scope = form.get("scope") ?? "";
    const deviceCode = randomBytes(24).toString("base64url");
    const userCode = randomBytes(6).toString("hex").toUpperCase().slice(0, 9);
    deviceCodes.set(deviceCode, { clientId: client.clientId, scope, userCode, signedIn: false });
    const verificationUri = `${authorityHost}/devicelogin`;
    return {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      expires_in: 900,
      interval: 5,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
    };
  };

  const authorize = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const query = new URL(request.url ?? "/", "http://stand-in").searchParams;
    const client = options.clients.find((candidate) => candidate.clientId === query.get("client_id"));
    if (!client) return sendEntraError(response, unknownClient(query.get("client_id") ?? ""), authorityHost);
    const redirectUri = query.get("redirect_uri") ?? "";
    if (!(client.redirectUris ?? []).some((registered) => sameRedirectUri(registered, redirectUri))) {
      // Entra shows this on its own page: a redirect URI it does not know never receives anything.
      return sendEntraError(
        response,
        invalidRequest(
          50011,
          `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${client.clientId}'.`,
        ),
        authorityHost,
      );
    }
    const back = new URL(redirectUri);
    const state = query.get("state");
    if (state !== null) back.searchParams.set("state", state);
    const challenge = query.get("code_challenge") ?? "";
    const method = query.get("code_challenge_method") ?? "plain";
    if (query.get("response_type") !== "code") {
      back.searchParams.set("error", "unsupported_response_type");
      back.searchParams.set(
        "error_description",
        "AADSTS700054: response_type 'token' or 'id_token' is not enabled for the application.",
      );
    } else if (client.publicClient && challenge === "") {
      back.searchParams.set("error", "invalid_request");
      back.searchParams.set(
        "error_description",
        "AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption.",
      );
    } else {
      const code = randomBytes(24).toString("base64url");
      authorizationCodes.set(code, {
        clientId: client.clientId,
        scope: query.get("scope") ?? "",
        redirectUri,
        challenge,
        method,
      });
      back.searchParams.set("code", code);
    }
    response.writeHead(302, { location: back.toString() });
    response.end();
  };

  const delegatedTokenResponse = async (form: URLSearchParams, grantType: string): Promise<EntraError | object> => {
    const clientId = form.get("client_id") ?? "";
    const client = options.clients.find((candidate) => candidate.clientId === clientId);
    if (!client) return unknownClient(clientId);
    let scope: string;
    if (grantType === deviceCodeGrantType) {
      const pending = deviceCodes.get(form.get("device_code") ?? "");
      if (!pending || pending.clientId !== clientId) {
        return invalidGrant(70000, "The provided value for the input parameter 'device_code' is not valid.");
      }
      if (!pending.signedIn) {
        return {
          status: 400,
          error: "authorization_pending",
          code: 70016,
          description: "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        };
      }
      deviceCodes.delete(form.get("device_code") ?? "");
      scope = pending.scope;
    } else {
      const code = form.get("code") ?? "";
      const issued = authorizationCodes.get(code);
      authorizationCodes.delete(code);
      if (!issued || issued.clientId !== clientId || issued.redirectUri !== form.get("redirect_uri")) {
        return invalidGrant(
          70000,
          "The provided authorization code or refresh token has expired or is invalid, or was issued to another client or redirect URI.",
        );
      }
      const verifier = form.get("code_verifier") ?? "";
      const expected = issued.method === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
      if (issued.challenge !== "" && expected !== issued.challenge) {
        return invalidGrant(
          501481,
          "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        );
      }
      if (!client.publicClient) {
        const secret = form.get("client_secret");
        if (!secret) {
          return invalidClient(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
          );
        }
        if (secret !== client.secret) {
          return invalidClient(7000215, "Invalid client secret provided.");
        }
      }
      scope = issued.scope;
    }
    return delegatedToken(client, scope);
  };

  const delegatedToken = async (client: StandInClient, scope: string): Promise<EntraError | object> => {
    const oidcScopes = ["openid", "profile", "offline_access", "email"];
    const requested = scope.split(/\s+/).filter((item) => item !== "" && !oidcScopes.includes(item));
    const resources = new Set(requested.map((item) => item.slice(0, item.lastIndexOf("/"))));
    const [resource] = resources;
    if (resources.size !== 1 || resource === undefined) {
      return {
        status: 400,
        error: "invalid_scope",
        code: 70011,
        description: `The provided value for the input parameter 'scope' is not valid. Name the scopes of one API: ${scope}`,
      };
    }
    const api = options.apis.find(
      (candidate) => candidate.identifierUri === resource || candidate.clientId === resource,
    );
    if (!api) return resourceNotFound(resource);
    // Assignment required on the API's service principal applies to users too ("Restrict your Microsoft Entra app to
    // a set of users": unassigned users cannot obtain an access token for it).
    const assigned = (options.userAssignments ?? []).some(
      (assignment) => assignment.apiClientId === api.clientId && assignment.userObjectId === user.objectId,
    );
    if (api.appRoleAssignmentRequired && !assigned) {
      return invalidGrant(
        50105,
        `Your administrator has configured the application ${api.displayName ?? api.clientId} ('${api.clientId}') to block users unless they are specifically granted ('assigned') access to the application. The signed in user '${user.username}' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator.`,
      );
    }
    const values = requested.map((item) => item.slice(resource.length + 1));
    const granted = (options.delegatedGrants ?? [])
      .filter((grant) => grant.clientId === client.clientId && grant.apiClientId === api.clientId)
      .flatMap((grant) => grant.scopes);
    const exposed = (api.scopes ?? []).map((item) => item.value);
    const scp = values.includes(".default") ? granted.filter((value) => exposed.includes(value)) : values;
    if (scp.length === 0 || scp.some((value) => !granted.includes(value) || !exposed.includes(value))) {
      return invalidGrant(
        65001,
        `The user or administrator has not consented to use the application with ID '${client.clientId}' named '${client.displayName ?? client.clientId}'. Send an interactive authorization request for this user and resource.`,
      );
    }
    const lifetime = options.tokenLifetimeSeconds ?? 3600;
    const iat = Math.floor(Date.now() / 1000);
    const acr = client.publicClient ? "0" : "1";
    const common = {
      tid: tenantId,
      oid: user.objectId,
      sub: user.objectId,
      name: user.name,
      scp: scp.join(" "),
      iat,
      nbf: iat,
      exp: iat + lifetime,
    };
    const claims: JWTPayload =
      api.tokenVersion === 2
        ? {
            aud: api.clientId,
            iss: `${authorityHost}/${tenantId}/v2.0`,
            azp: client.clientId,
            azpacr: acr,
            preferred_username: user.username,
            ver: "2.0",
            ...common,
          }
        : {
            aud: resource,
            iss: `https://sts.windows.net/${tenantId}/`,
            appid: client.clientId,
            appidacr: acr,
            upn: user.username,
            unique_name: user.username,
            ver: "1.0",
            ...common,
          };
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ typ: "JWT", alg: "RS256", kid })
      .sign(privateKey);
    return {
      token_type: "Bearer",
      scope: scp.map((value) => `${resource}/${value}`).join(" "),
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
    };
  };

  const unknownClient = (clientId: string): EntraError => ({
    status: 400,
    error: "unauthorized_client",
    code: 700016,
    description: `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  });

  const resourceNotFound = (resource: string): EntraError => ({
    status: 400,
    error: "invalid_resource",
    code: 500011,
    description: `The resource principal named ${resource} was not found in the tenant named ${tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  });

  const tokenClaims = (
    api: StandInApi,
    resource: string,
    clientId: string,
    roles: string[],
    lifetime: number,
    acr: "1" | "2",
  ): JWTPayload => {
    const iat = Math.floor(Date.now() / 1000);
    // Clients added to the options after start get their service principal on first use.
    servicePrincipalIds[clientId] ??= randomUUID();
    const oid = servicePrincipalIds[clientId];
    const common = {
      tid: tenantId,
      oid,
      sub: oid,
      ...(roles.length > 0 ? { roles } : {}),
      iat,
      nbf: iat,
      exp: iat + lifetime,
    };
    return api.tokenVersion === 2
      ? {
          aud: api.clientId,
          iss: `${authorityHost}/${tenantId}/v2.0`,
          azp: clientId,
          azpacr: acr,
          ver: "2.0",
          ...common,
        }
      : {
          aud: resource,
          iss: `https://sts.windows.net/${tenantId}/`,
          appid: clientId,
          appidacr: acr,
          ver: "1.0",
          ...common,
        };
  };

  const server = await listenBounded(async (request, response) => {
    counters.requests += 1;
    const path = new URL(request.url ?? "/", "http://stand-in").pathname;
    const route = routes[`${request.method} ${path}`];
    if (route) return route(request, response);
    const tenant = path.split("/")[1];
    if (tenant && tenant !== tenantId && !tenant.startsWith(".")) {
      return sendEntraError(
        response,
        invalidRequest(
          90002,
          `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
        ),
        authorityHost,
      );
    }
    sendJson(response, 404, { error: "not_found" });
  });
  authorityHost = server.url;

  return {
    authorityHost,
    kid,
    servicePrincipalIds,
    get requests() {
      return counters.requests;
    },
    get tokenRequests() {
      return counters.tokenRequests;
    },
    signInWithUserCode(userCode: string) {
      const pending = [...deviceCodes.values()].find((entry) => entry.userCode === userCode);
      if (!pending) throw new Error(`no device sign-in is waiting for user code ${userCode}`);
      pending.signedIn = true;
    },
    close: server.close,
  };
}

const deviceCodeGrantType = "urn:ietf:params:oauth:grant-type:device_code";

/**
 * Entra's matching of a redirect URI: exact, except that for http loopback URIs the port is ignored (Entra
 * "Redirect URI (reply URL) outline and restrictions", localhost exceptions, after RFC 8252 §7.3).
 */
function sameRedirectUri(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  try {
    const [a, b] = [new URL(registered), new URL(requested)];
    const loopback = (url: URL) => url.protocol === "http:" && ["localhost", "127.0.0.1"].includes(url.hostname);
    return (
      loopback(a) && loopback(b) && a.hostname === b.hostname && a.pathname === b.pathname && a.search === b.search
    );
  } catch {
    return false;
  }
}

const federationDocs = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

/**
 * Why Entra would refuse a client assertion for this client, or undefined if it accepts it. Uses the split codes
 * Entra returns today rather than the older catch-all AADSTS70021: 700211 issuer, 700213 subject, 700212 audience,
 * 7000272 signing key not published by the issuer, 700027 bad signature, 700024 outside its valid time range.
 */
async function federatedRefusal(
  client: StandInClient,
  trustedIssuers: Record<string, JSONWebKeySet>,
  assertionType: string | null,
  assertion: string,
): Promise<EntraError | undefined> {
  if (assertionType !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
    return invalidRequest(900144, "The request body must contain the following parameter: 'client_assertion_type'.");
  }
  let claims: JWTPayload;
  try {
    claims = decodeJwt(assertion);
  } catch {
    return invalidClient(50027, "JWT token is invalid or malformed.");
  }
  const noMatch = (code: number, what: string, value: unknown): EntraError =>
    invalidRequest(
      code,
      `No matching federated identity record found for presented assertion ${what} '${String(value)}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${federationDocs}`,
    );
  const issuer = String(claims.iss);
  const byIssuer = (client.federatedCredentials ?? []).filter((credential) => credential.issuer === issuer);
  if (byIssuer.length === 0) return noMatch(700211, "issuer", issuer);

  try {
    await compactVerify(assertion, createLocalJWKSet(trustedIssuers[issuer] ?? { keys: [] }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return invalidClient(700027, "Client assertion failed signature validation.");
    }
    return invalidClient(
      7000272,
      `The certificate with identifier used to sign the federated credential could not be found in the metadata of identity provider ${issuer}. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.`,
    );
  }

  const now = Date.now() / 1000;
  const notBefore = typeof claims.nbf === "number" ? claims.nbf : 0;
  if (typeof claims.exp !== "number" || claims.exp <= now || notBefore > now) {
    const at = (seconds: number) => new Date(seconds * 1000).toISOString();
    return invalidClient(
      700024,
      `Client assertion is not within its valid time range. Current time: ${at(now)}, assertion valid from ${at(notBefore)}, expiry time of assertion ${typeof claims.exp === "number" ? at(claims.exp) : "(none)"}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
    );
  }

  const bySubject = byIssuer.filter((credential) => credential.subject === claims.sub);
  if (bySubject.length === 0) return noMatch(700213, "subject", claims.sub);
  const audiences = typeof claims.aud === "string" ? [claims.aud] : (claims.aud ?? []);
  if (!bySubject.some((credential) => credential.audiences.some((audience) => audiences.includes(audience)))) {
    return noMatch(700212, "audience", audiences.join(", "));
  }
  return undefined;
}

function invalidClient(code: number, description: string): EntraError {
  return { status: 401, error: "invalid_client", code, description };
}

function invalidGrant(code: number, description: string): EntraError {
  return { status: 400, error: "invalid_grant", code, description };
}

function invalidRequest(code: number, description: string): EntraError {
  return { status: 400, error: "invalid_request", code, description };
}

function sendEntraError(response: ServerResponse, failure: EntraError, authorityHost: string): void {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = `${new Date().toISOString().replace("T", " ").slice(0, 19)}Z`;
  sendJson(response, failure.status, {
    error: failure.error,
    error_description: `AADSTS${failure.code}: ${failure.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [failure.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${authorityHost}/error?code=${failure.code}`,
  });
}
