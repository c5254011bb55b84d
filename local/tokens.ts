import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  compactVerify,
  type CryptoKey,
  createLocalJWKSet,
  decodeJwt,
  errors,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";
import { tenantAuthority, tokenProfile } from "../entra/tokenProfile";
import type { Application, Directory, ServicePrincipalView, User } from "./directory";
import { sameId } from "./directory";
import { BodyTooLarge, type ClientResponse, readBody, requestUrl, requestWithCa, sendJson } from "./http";

// Entra ID's token service over the local directory: OpenID metadata and signing keys per token version, and the
// token endpoint (client credentials with a secret or a federated client assertion, device code, authorization code
// with PKCE) for any tenant GUID. A token holds only what the directory holds, as a replica sees it.

/** The RS256 key the tenant signs with, and its public half as published in the JWKS. */
export interface SigningKey {
  privateKey: CryptoKey;
  publicJwk: JWK & { kid: string };
}

export async function generateSigningKey(): Promise<SigningKey & { privateJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true });
  const kid = randomUUID();
  return {
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, use: "sig" },
    privateJwk: { ...(await exportJWK(privateKey)), kid },
  };
}

export interface TokenServiceOptions {
  directory: Directory;
  signingKey: SigningKey;
  /** The login endpoint, e.g. `https://127.0.0.1:8443`: where tenants' metadata and endpoints are published. */
  authorityHost: () => string;
  /**
   * Resources registered outside this tenant (Microsoft Graph, Azure Resource Manager): their resource URIs, as the
   * metadata document names them, to the application id whose service principal this tenant holds.
   */
  firstPartyResources?: () => Record<string, string>;
  /** Only these tenants exist (default: any GUID). */
  tenantIds?: string[];
  /** Default 3600. */
  tokenLifetimeSeconds?: number;
  /**
   * The signing keys an external issuer publishes, as Entra fetches them from the issuer's OpenID metadata to check
   * a federated credential's assertion. Default: fetched from `<issuer>/.well-known/openid-configuration`.
   */
  issuerKeys?: (issuer: string) => Promise<JSONWebKeySet | undefined>;
}

interface EntraError {
  status: 400 | 401;
  error: string;
  code: number;
  description: string;
}

/** The one user who signs in where Entra would show a sign-in page: the named user, or the directory's first. */
export type SignIn = (hint: string | null) => User | undefined;

export interface TokenService {
  /** Answers a request under the login endpoint; false when the path is not Entra's. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  /** The user (default: the first in the directory) signs in on the device-code page with this user code. */
  approveDeviceCode(userCode: string, userId?: string): void;
  /** Signs claims with the tenant's key, as every token it issues is (the managed-identity endpoint's too). */
  sign(claims: JWTPayload): Promise<string>;
  /** Verifies a token this tenant issued (for one of `audiences`, when given); the claims, or why not. */
  verify(token: string, audiences?: string[]): Promise<{ claims: JWTPayload } | { failure: string }>;
}

const deviceCodeGrantType = "urn:ietf:params:oauth:grant-type:device_code";
const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function tokenService(options: TokenServiceOptions): TokenService {
  const { directory, signingKey } = options;
  const kid = signingKey.publicJwk.kid;
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const issuerKeys = options.issuerKeys ?? discoverIssuerKeys;
  const deviceCodes = new Map<string, { clientId: string; scope: string; userCode: string; userId?: string }>();
  const authorizationCodes = new Map<
    string,
    { clientId: string; scope: string; redirectUri: string; challenge: string; method: string; userId: string }
  >();
  const signIn: SignIn = (hint) => (hint ? directory.user(hint) : undefined) ?? directory.users()[0];

  const metadata = (tenantId: string, version: 1 | 2) => {
    const authority = tenantAuthority(tenantId, options.authorityHost());
    const v = version === 2 ? "v2.0/" : "";
    return {
      // The issuer per version is the program's own token fact (entra/tokenProfile.ts).
      issuer: tokenProfile({ authorityHost: options.authorityHost(), tenantId, apiClientId: "", tokenVersion: version })
        .issuer,
      jwks_uri: `${authority}/discovery/${v}keys`,
      token_endpoint: `${authority}/oauth2/${v}token`,
      authorization_endpoint: `${authority}/oauth2/${v}authorize`,
      ...(version === 2 ? { device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode` } : {}),
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported:
        version === 2
          ? ["code", "id_token", "code id_token", "id_token token"]
          : ["code", "id_token", "code id_token", "token id_token", "token"],
      subject_types_supported: ["pairwise"],
      tenant_region_scope: "EU",
    };
  };

  const sign = (claims: JWTPayload) =>
    new SignJWT(claims).setProtectedHeader({ typ: "JWT", alg: "RS256", kid }).sign(signingKey.privateKey);

  const unknownClient = (tenantId: string, clientId: string): EntraError => ({
    status: 400,
    error: "unauthorized_client",
    code: 700016,
    description: `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  });

  const resourceNotFound = (tenantId: string, resource: string): EntraError => ({
    status: 400,
    error: "invalid_resource",
    code: 500011,
    description: `The resource principal named ${resource} was not found in the tenant named ${tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  });

  /** The calling application and its service principal, as a replica sees them. */
  const client = (tenantId: string, clientId: string): { app: Application; sp: ServicePrincipalView } | EntraError => {
    const app = directory.applicationByAppId(clientId, "replicated");
    if (!app) return unknownClient(tenantId, clientId);
    const sp = directory.servicePrincipalByAppId(clientId, "replicated");
    if (!sp) {
      return invalidClient(
        7000229,
        `The client application ${clientId} is missing service principal in the tenant ${tenantId}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119`,
      );
    }
    return { app, sp };
  };

  /** The API a scope's resource names: an identifier URI or client id of an application here, or a first-party URI. */
  const resourceOf = (
    tenantId: string,
    resource: string,
  ): { sp: ServicePrincipalView; app?: Application; tokenVersion: 1 | 2 } | EntraError => {
    const firstParty = Object.entries(options.firstPartyResources?.() ?? {}).find(
      ([uri]) => uri.replace(/\/+$/, "") === resource.replace(/\/+$/, ""),
    );
    if (firstParty) {
      const sp = directory.servicePrincipalByAppId(firstParty[1], "replicated");
      // Microsoft's APIs issue v1 tokens: their applications leave requestedAccessTokenVersion null.
      return sp ? { sp, tokenVersion: 1 } : resourceNotFound(tenantId, resource);
    }
    const app = directory
      .applications("replicated")
      .find((candidate) => candidate.identifierUris.includes(resource) || sameId(candidate.appId, resource));
    const sp = app && directory.servicePrincipalByAppId(app.appId, "replicated");
    if (!app || !sp) return resourceNotFound(tenantId, resource);
    return { sp, app, tokenVersion: app.api.requestedAccessTokenVersion === 2 ? 2 : 1 };
  };

  /** The claims every access token of this API carries, per its token version (entra/tokenProfile.ts). */
  const tokenClaims = (
    tenantId: string,
    api: { sp: ServicePrincipalView; tokenVersion: 1 | 2 },
    resource: string,
    clientId: string,
    acr: string,
    subject: Record<string, unknown>,
  ): JWTPayload => {
    const profile = tokenProfile({
      authorityHost: options.authorityHost(),
      tenantId,
      apiClientId: api.sp.appId,
      tokenVersion: api.tokenVersion,
    });
    const iat = Math.floor(directory.time() / 1000);
    return {
      // v2 tokens name the API by its client id whatever the request named; v1 tokens name the resource as requested.
      aud: api.tokenVersion === 2 ? profile.audience : resource,
      iss: profile.issuer,
      [profile.clientIdClaim]: clientId,
      [`${profile.clientIdClaim}acr`]: acr,
      ver: profile.ver,
      tid: tenantId,
      ...subject,
      iat,
      nbf: iat,
      exp: iat + lifetime,
    };
  };

  const clientCredentialsToken = async (tenantId: string, form: URLSearchParams): Promise<EntraError | object> => {
    const clientId = form.get("client_id") ?? "";
    const caller = client(tenantId, clientId);
    if ("status" in caller) return caller;
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    if (assertion) {
      const credentials = directory.federatedIdentityCredentials(caller.app.id, "replicated");
      const refused = await federatedRefusal(
        credentials,
        issuerKeys,
        form.get("client_assertion_type"),
        assertion,
        directory.time(),
      );
      if (refused) return refused;
    } else if (!secret) {
      return invalidClient(
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    } else {
      const checked = directory.checkSecret(clientId, secret, directory.time());
      if (checked === "wrong") {
        return invalidClient(
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        );
      }
      if (checked === "expired") {
        return invalidClient(
          7000222,
          `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
        );
      }
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
    const api = resourceOf(tenantId, resource);
    if ("status" in api) return api;
    const assigned = directory
      .appRoleAssignments("replicated")
      .filter((assignment) => sameId(assignment.principalId, caller.sp.id) && sameId(assignment.resourceId, api.sp.id));
    if (api.sp.appRoleAssignmentRequired && assigned.length === 0) {
      return invalidGrant(
        501051,
        `Application '${clientId}'(${caller.app.displayName ?? clientId}) is not assigned to a role for the application '${api.app?.identifierUris[0] ?? resource}'(${api.sp.displayName ?? api.sp.appId}).`,
      );
    }
    const roles = rolesOf(
      api.sp.id,
      assigned.map((assignment) => assignment.appRoleId),
    );
    const claims = tokenClaims(tenantId, api, resource, clientId, acr, {
      oid: caller.sp.id,
      sub: caller.sp.id,
      ...(roles.length > 0 ? { roles } : {}),
    });
    return { token_type: "Bearer", expires_in: lifetime, ext_expires_in: lifetime, access_token: await sign(claims) };
  };

  /** The values of the enabled roles with these ids, as a replica sees the resource's roles. */
  const rolesOf = (resourceSpId: string, roleIds: string[]): string[] =>
    directory
      .appRolesOf(resourceSpId, "replicated")
      .filter((role) => role.isEnabled && role.value && roleIds.some((id) => sameId(id, role.id)))
      .map((role) => role.value as string);

  const deviceCodeResponse = async (tenantId: string, form: URLSearchParams): Promise<EntraError | object> => {
    const clientId = form.get("client_id") ?? "";
    const caller = client(tenantId, clientId);
    if ("status" in caller) return caller;
    // Device code is a public client flow: only with "Allow public client flows" (isFallbackPublicClient).
    if (caller.app.isFallbackPublicClient !== true) {
      return {
        status: 400,
        error: "invalid_client",
        code: 7000218,
        description: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      };
    }
    const deviceCode = randomBytes(24).toString("base64url");
    const userCode = randomBytes(6).toString("hex").toUpperCase().slice(0, 9);
    deviceCodes.set(deviceCode, { clientId, scope: form.get("scope") ?? "", userCode });
    const verificationUri = `${options.authorityHost()}/devicelogin`;
    return {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      expires_in: 900,
      interval: 5,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
    };
  };

  const authorize = (tenantId: string, query: URLSearchParams, response: ServerResponse): void => {
    const clientId = query.get("client_id") ?? "";
    const caller = client(tenantId, clientId);
    if ("status" in caller) return sendEntraError(response, caller, options.authorityHost());
    const redirectUri = query.get("redirect_uri") ?? "";
    if (!platformOf(caller.app, redirectUri)) {
      // Entra shows this on its own page: a redirect URI it does not know never receives anything.
      return sendEntraError(
        response,
        invalidRequest(
          50011,
          `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
        ),
        options.authorityHost(),
      );
    }
    const back = new URL(redirectUri);
    const state = query.get("state");
    if (state !== null) back.searchParams.set("state", state);
    const challenge = query.get("code_challenge") ?? "";
    const user = signIn(query.get("login_hint"));
    if (query.get("response_type") !== "code") {
      back.searchParams.set("error", "unsupported_response_type");
      back.searchParams.set(
        "error_description",
        "AADSTS700054: response_type 'token' or 'id_token' is not enabled for the application.",
      );
    } else if (isPublic(caller.app, redirectUri) && challenge === "") {
      back.searchParams.set("error", "invalid_request");
      back.searchParams.set(
        "error_description",
        "AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption.",
      );
    } else if (!user) {
      back.searchParams.set("error", "access_denied");
      back.searchParams.set("error_description", "AADSTS50034: The user account does not exist in the directory.");
    } else {
      const code = randomBytes(24).toString("base64url");
      authorizationCodes.set(code, {
        clientId,
        scope: query.get("scope") ?? "",
        redirectUri,
        challenge,
        method: query.get("code_challenge_method") ?? "plain",
        userId: user.id,
      });
      back.searchParams.set("code", code);
    }
    response.writeHead(302, { location: back.toString() });
    response.end();
  };

  const delegatedTokenResponse = async (
    tenantId: string,
    form: URLSearchParams,
    grantType: string,
  ): Promise<EntraError | object> => {
    const clientId = form.get("client_id") ?? "";
    const caller = client(tenantId, clientId);
    if ("status" in caller) return caller;
    let scope: string;
    let userId: string | undefined;
    let acr = "0";
    if (grantType === deviceCodeGrantType) {
      const pending = deviceCodes.get(form.get("device_code") ?? "");
      if (!pending || pending.clientId !== clientId) {
        return invalidGrant(70000, "The provided value for the input parameter 'device_code' is not valid.");
      }
      if (!pending.userId) {
        return {
          status: 400,
          error: "authorization_pending",
          code: 70016,
          description: "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        };
      }
      deviceCodes.delete(form.get("device_code") ?? "");
      ({ scope, userId } = pending);
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
      // A code sent to a web redirect URI is redeemed by a confidential client, with its secret.
      if (!isPublic(caller.app, issued.redirectUri)) {
        const secret = form.get("client_secret");
        if (!secret) {
          return invalidClient(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
          );
        }
        if (directory.checkSecret(clientId, secret, directory.time()) !== "valid") {
          return invalidClient(7000215, "Invalid client secret provided.");
        }
        acr = "1";
      }
      ({ scope, userId } = issued);
    }
    const user = userId ? directory.user(userId) : undefined;
    if (!user) return invalidGrant(50034, "The user account does not exist in the directory.");
    return delegatedToken(tenantId, caller, user, scope, acr);
  };

  const delegatedToken = async (
    tenantId: string,
    caller: { app: Application; sp: ServicePrincipalView },
    user: User,
    scope: string,
    acr: string,
  ): Promise<EntraError | object> => {
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
    const api = resourceOf(tenantId, resource);
    if ("status" in api) return api;
    // Assignment required on the API's service principal applies to users too ("Restrict your Microsoft Entra app to
    // a set of users"), directly or through a security group they are a direct member of (no nesting).
    const principals = [
      user.id,
      ...directory
        .groupsOf(user.id)
        .filter((group) => group.securityEnabled)
        .map((group) => group.id),
    ];
    const assigned = directory
      .appRoleAssignments("replicated")
      .filter(
        (assignment) =>
          sameId(assignment.resourceId, api.sp.id) && principals.some((id) => sameId(id, assignment.principalId)),
      );
    if (api.sp.appRoleAssignmentRequired && assigned.length === 0) {
      const name = api.sp.displayName ?? api.sp.appId;
      return invalidGrant(
        50105,
        `Your administrator has configured the application ${name} ('${api.sp.appId}') to block users unless they are specifically granted ('assigned') access to the application. The signed in user '${user.userPrincipalName}' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator.`,
      );
    }
    const values = requested.map((item) => item.slice(resource.length + 1));
    const granted = directory
      .oauth2PermissionGrants("replicated")
      .filter(
        (grant) =>
          sameId(grant.clientId, caller.sp.id) &&
          sameId(grant.resourceId, api.sp.id) &&
          (grant.consentType === "AllPrincipals" || sameId(grant.principalId ?? "", user.id)),
      )
      .flatMap((grant) => grant.scope.split(" ").filter(Boolean));
    const exposed = directory
      .scopesOf(api.sp.id, "replicated")
      .filter((item) => item.isEnabled && item.value)
      .map((item) => item.value as string);
    const scp = values.includes(".default") ? granted.filter((value) => exposed.includes(value)) : values;
    if (scp.length === 0 || scp.some((value) => !granted.includes(value) || !exposed.includes(value))) {
      return invalidGrant(
        65001,
        `The user or administrator has not consented to use the application with ID '${caller.app.appId}' named '${caller.app.displayName ?? caller.app.appId}'. Send an interactive authorization request for this user and resource.`,
      );
    }
    const roles = rolesOf(
      api.sp.id,
      assigned.map((assignment) => assignment.appRoleId),
    );
    const names =
      api.tokenVersion === 2
        ? { preferred_username: user.userPrincipalName }
        : { upn: user.userPrincipalName, unique_name: user.userPrincipalName };
    const claims = tokenClaims(tenantId, api, resource, caller.app.appId, acr, {
      oid: user.id,
      sub: user.id,
      name: user.displayName,
      ...names,
      scp: scp.join(" "),
      ...(roles.length > 0 ? { roles } : {}),
    });
    return {
      token_type: "Bearer",
      scope: scp.map((value) => `${resource}/${value}`).join(" "),
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: await sign(claims),
    };
  };

  const tokenResponse = async (tenantId: string, request: IncomingMessage): Promise<EntraError | object> => {
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
      return delegatedTokenResponse(tenantId, form, grantType);
    }
    if (grantType !== "client_credentials") {
      return {
        status: 400,
        error: "unsupported_grant_type",
        code: 70003,
        description: `The app requested an unsupported grant type '${grantType}'.`,
      };
    }
    return clientCredentialsToken(tenantId, form);
  };

  const devicePage = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method === "POST") {
      const form = new URLSearchParams((await readBody(request, 4096)).toString("utf8"));
      try {
        service.approveDeviceCode(form.get("user_code") ?? "", form.get("login_hint") ?? undefined);
      } catch (error) {
        return sendHtml(response, 400, `<p>${escapeHtml(String((error as Error).message))}</p>`);
      }
      return sendHtml(response, 200, "<p>You have signed in. You may now close this window.</p>");
    }
    sendHtml(
      response,
      200,
      `<form method="post"><label>Code <input name="user_code" autofocus></label> <label>User (optional) <input name="login_hint"></label> <button>Sign in</button></form>`,
    );
  };

  const service: TokenService = {
    async handle(request, response) {
      const path = requestUrl(request).pathname;
      if (path === "/devicelogin") {
        await devicePage(request, response);
        return true;
      }
      const match = /^\/(?<tenant>[^/]+)(?<rest>\/.*)$/.exec(path);
      const tenantId = match?.groups?.tenant ?? "";
      const route = `${request.method} ${match?.groups?.rest ?? ""}`;
      const known = [
        "GET /v2.0/.well-known/openid-configuration",
        "GET /.well-known/openid-configuration",
        "GET /discovery/v2.0/keys",
        "GET /discovery/keys",
        "POST /oauth2/v2.0/devicecode",
        "GET /oauth2/v2.0/authorize",
        "POST /oauth2/v2.0/token",
      ];
      if (!match || !known.includes(route)) return false;
      if (!guid.test(tenantId) || (options.tenantIds && !options.tenantIds.some((id) => sameId(id, tenantId)))) {
        sendEntraError(
          response,
          invalidRequest(
            90002,
            `Tenant '${tenantId}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
          ),
          options.authorityHost(),
        );
        return true;
      }
      const answer = async (outcome: Promise<EntraError | object>) => {
        const result = await outcome;
        if ("status" in result && "code" in result)
          sendEntraError(response, result as EntraError, options.authorityHost());
        else sendJson(response, 200, result);
      };
      switch (route) {
        case "GET /v2.0/.well-known/openid-configuration":
          sendJson(response, 200, metadata(tenantId, 2));
          break;
        case "GET /.well-known/openid-configuration":
          sendJson(response, 200, metadata(tenantId, 1));
          break;
        case "GET /discovery/v2.0/keys":
        case "GET /discovery/keys":
          sendJson(response, 200, { keys: [signingKey.publicJwk] });
          break;
        case "POST /oauth2/v2.0/devicecode": {
          const form = new URLSearchParams((await readBody(request, 64 * 1024)).toString("utf8"));
          await answer(deviceCodeResponse(tenantId, form));
          break;
        }
        case "GET /oauth2/v2.0/authorize":
          authorize(tenantId, requestUrl(request).searchParams, response);
          break;
        default:
          await answer(tokenResponse(tenantId, request));
      }
      return true;
    },

    approveDeviceCode(userCode, userId) {
      const pending = [...deviceCodes.values()].find((entry) => entry.userCode === userCode);
      if (!pending) throw new Error(`no device sign-in is waiting for user code ${userCode}`);
      const user = signIn(userId ?? null);
      if (!user)
        throw new Error(userId ? `no user ${userId} in the directory` : "the directory holds no user to sign in");
      pending.userId = user.id;
    },

    sign,

    async verify(token, audiences) {
      try {
        const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [signingKey.publicJwk] }), {
          algorithms: ["RS256"],
          audience: audiences,
          currentDate: new Date(directory.time()),
        });
        return { claims: payload };
      } catch (error) {
        return {
          failure: graphValidationFailure(error),
        };
      }
    },
  };
  return service;
}

/** Microsoft Graph's words for a token it refuses ("Access token validation failure. …"). */
function graphValidationFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "Lifetime validation failed, the token is expired.";
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === "aud") return "Invalid audience.";
  if (error instanceof errors.JWTClaimValidationFailed) return `Invalid ${error.claim}.`;
  return "Invalid signature.";
}

/** The platform a redirect URI is registered on, or undefined when the application does not list it. */
function platformOf(app: Application, redirectUri: string): "web" | "spa" | "publicClient" | undefined {
  if (app.web.redirectUris.some((registered) => sameRedirectUri(registered, redirectUri))) return "web";
  if (app.spa.redirectUris.some((registered) => sameRedirectUri(registered, redirectUri))) return "spa";
  if (app.publicClient.redirectUris.some((registered) => sameRedirectUri(registered, redirectUri)))
    return "publicClient";
  return undefined;
}

/** A public client signs users in without a credential: SPA and mobile/desktop redirect URIs, or public client flows. */
function isPublic(app: Application, redirectUri: string): boolean {
  const platform = platformOf(app, redirectUri);
  return (
    platform === "spa" || platform === "publicClient" || (platform === undefined && app.isFallbackPublicClient === true)
  );
}

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
 * Why Entra would refuse a client assertion for an application with these federated credentials, or undefined if it
 * accepts it. Uses the split codes Entra returns today rather than the older catch-all AADSTS70021: 700211 issuer,
 * 700213 subject, 700212 audience, 7000272 signing key not published by the issuer, 700027 bad signature, 700024
 * outside its valid time range.
 */
async function federatedRefusal(
  credentials: { issuer: string; subject: string; audiences: string[] }[],
  issuerKeys: (issuer: string) => Promise<JSONWebKeySet | undefined>,
  assertionType: string | null,
  assertion: string,
  nowMs: number,
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
  const byIssuer = credentials.filter((credential) => credential.issuer === issuer);
  if (byIssuer.length === 0) return noMatch(700211, "issuer", issuer);

  try {
    await compactVerify(assertion, createLocalJWKSet((await issuerKeys(issuer)) ?? { keys: [] }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return invalidClient(700027, "Client assertion failed signature validation.");
    }
    return invalidClient(
      7000272,
      `The certificate with identifier used to sign the federated credential could not be found in the metadata of identity provider ${issuer}. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.`,
    );
  }

  const now = nowMs / 1000;
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

/** An issuer's published keys, found as Entra finds them: its OpenID metadata's jwks_uri. */
async function discoverIssuerKeys(issuer: string): Promise<JSONWebKeySet | undefined> {
  try {
    const configuration = (await (
      await fetch(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(5000),
      })
    ).json()) as { jwks_uri?: string };
    if (!configuration.jwks_uri) return undefined;
    return (await (await fetch(configuration.jwks_uri, { signal: AbortSignal.timeout(5000) })).json()) as JSONWebKeySet;
  } catch {
    return undefined;
  }
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

function sendHtml(response: ServerResponse, status: number, body: string): void {
  const html = `<!doctype html><title>Local tenant sign-in</title>${body}`;
  response.writeHead(status, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(html) });
  response.end(html);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A client-credentials token request to a local tenant, as the providers and `rest` make it (trusting `ca`). */
export function requestClientToken(request: {
  login: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  resource: string;
  ca: string;
}): Promise<ClientResponse> {
  return requestWithCa(`${request.login}/${request.tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    ca: request.ca,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: request.clientId,
      client_secret: request.clientSecret,
      scope: `${request.resource}/.default`,
    }).toString(),
  });
}
