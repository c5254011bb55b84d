/** The access-token format the API app asks Entra ID for (`requestedAccessTokenVersion`). */
export type TokenVersion = 1 | 2;

export interface TokenProfileArgs {
  /** Authority host without a trailing slash, e.g. `https://login.microsoftonline.com`. */
  authorityHost: string;
  /** Tenant GUID. */
  tenantId: string;
  /** The API app registration's client (application) id. */
  apiClientId: string;
  /** The API app's pinned token version. */
  tokenVersion: TokenVersion;
}

/** What a token for the API looks like, and where its signing keys and issuer are published. */
export interface TokenProfile {
  tokenVersion: TokenVersion;
  /** The `ver` claim. */
  ver: "1.0" | "2.0";
  /** The `aud` claim of a client-credentials token requested with {@link TokenProfile.scope}. */
  audience: string;
  /** The `iss` claim. */
  issuer: string;
  /** The OpenID metadata document whose `issuer` matches {@link TokenProfile.issuer}. */
  metadataUrl: string;
  /** The claim that names the calling client: `azp` in v2 tokens, `appid` in v1 tokens. */
  clientIdClaim: "azp" | "appid";
  /** The identifier URI the API app exposes. */
  identifierUri: string;
  /** The scope a client-credentials request names: all admin-consented application permissions. */
  scope: string;
  /** The v2.0 token endpoint; the API's token version, not the endpoint, decides the token format. */
  tokenEndpoint: string;
}

/** The public cloud's authority: the config's default, and the one validate-azure-ad-token always uses. */
export const publicCloudAuthorityHost = "https://login.microsoftonline.com";

const v1IssuerHosts: Record<string, string> = {
  "https://login.partner.microsoftonline.cn": "https://sts.chinacloudapi.cn",
};

/**
 * The audience Entra requires of a federated identity credential, per cloud (entra-docs
 * workload-id/workload-identity-federation-config-app-trust-managed-identity.md): the public cloud's by default,
 * including loopback stand-ins and hosts this table does not know.
 */
const tokenExchangeAudiences: Record<string, string> = {
  "https://login.microsoftonline.us": "api://AzureADTokenExchangeUSGov",
  "https://login.chinacloudapi.cn": "api://AzureADTokenExchangeChina",
  "https://login.partner.microsoftonline.cn": "api://AzureADTokenExchangeChina",
};

/** The `aud` a federated credential expects of the client assertion, derived from the authority host. */
export function federatedCredentialAudience(authorityHost: string): string {
  return tokenExchangeAudiences[authorityHost.replace(/\/+$/, "").toLowerCase()] ?? "api://AzureADTokenExchange";
}

/** `<authority>/<tenant>`: where a tenant issues v2 tokens and publishes its metadata and OAuth 2.0 endpoints. */
export function tenantAuthority(tenantId: string, authorityHost = publicCloudAuthorityHost): string {
  return `${authorityHost.replace(/\/+$/, "")}/${tenantId}`;
}

/** The v2.0 token endpoint of a tenant; every client-credentials request goes there. */
export function tokenEndpoint(authorityHost: string, tenantId: string): string {
  return `${tenantAuthority(tenantId, authorityHost)}/oauth2/v2.0/token`;
}

/**
 * The authority host a tenant's v2.0 token endpoint names ({@link tokenEndpoint} read backwards), or undefined for a
 * URL of another form: where a program that uses the component but exports no authorityHost has its clients sign in.
 */
export function authorityHostOfTokenEndpoint(endpoint: string | undefined, tenantId: string): string | undefined {
  const tail = `/${tenantId}/oauth2/v2.0/token`;
  return endpoint?.endsWith(tail) ? endpoint.slice(0, -tail.length) : undefined;
}

/** The v2.0 authorization endpoint of a tenant, where a user signs in (the developer portal's OAuth server). */
export function authorizeEndpoint(authorityHost: string, tenantId: string): string {
  return `${tenantAuthority(tenantId, authorityHost)}/oauth2/v2.0/authorize`;
}

/**
 * Derives audience, issuer, metadata URL and client-id claim from the API app's token version:
 * the one place these four values are decided, so the policy and the token always agree.
 */
export function tokenProfile(args: TokenProfileArgs): TokenProfile {
  const authority = args.authorityHost.replace(/\/+$/, "");
  const tenantBase = tenantAuthority(args.tenantId, authority);
  const identifierUri = `api://${args.apiClientId}`;
  const common = {
    identifierUri,
    scope: `${identifierUri}/.default`,
    tokenEndpoint: tokenEndpoint(authority, args.tenantId),
  };
  if (args.tokenVersion === 1) {
    const v1IssuerHost = v1IssuerHosts[authority] ?? "https://sts.windows.net";
    return {
      ...common,
      tokenVersion: 1,
      ver: "1.0",
      audience: identifierUri,
      issuer: `${v1IssuerHost}/${args.tenantId}/`,
      metadataUrl: `${tenantBase}/.well-known/openid-configuration`,
      clientIdClaim: "appid",
    };
  }
  return {
    ...common,
    tokenVersion: 2,
    ver: "2.0",
    audience: args.apiClientId,
    issuer: `${tenantBase}/v2.0`,
    metadataUrl: `${tenantBase}/v2.0/.well-known/openid-configuration`,
    clientIdClaim: "azp",
  };
}

/**
 * What a managed identity asks its Azure host for: the API's identifier URI as `resource` on the host's token endpoint
 * (IMDS `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=…`, entra-docs
 * managed-identities-azure-resources/how-to-use-vm-token.md; App Service's `IDENTITY_ENDPOINT?api-version=2019-08-01&
 * resource=…`, azure-docs app-service/overview-managed-identity.md), or the scope `<uri>/.default` that Azure Identity's
 * `getToken` takes and turns into that resource by removing `/.default` (@azure/identity ManagedIdentityCredential,
 * `mapScopesToResource`). The identifier URI, not the client id, so that a v1 token's `aud` is the URI the policy checks
 * (access-token-claims-reference.md, `aud`: in v1 tokens "the client ID or the resource URI used in the request").
 */
export function managedIdentityRequest(profile: TokenProfile): { resource: string; scope: string } {
  return { resource: profile.identifierUri, scope: profile.scope };
}

/** The claims that decide a gateway's verdict on an app-only token: a daemon's or a managed identity's. */
export interface AppOnlyClaims {
  aud: string;
  iss: string;
  ver: TokenProfile["ver"];
  /** `appid` (v1) or `azp` (v2): the client id. */
  clientIdClaim: TokenProfile["clientIdClaim"];
  clientId: string;
  /** The caller's service principal object id (also `sub` in an app-only token). */
  oid: string;
  idtyp: "app";
  /** The values of the API's app roles assigned to the caller's service principal; absent when none is. */
  roles?: string[];
}

/**
 * The claims of an app-only token for the API, the same for a daemon's client credentials and a managed identity's
 * token; facts from Microsoft Learn (entra-docs identity-platform and managed-identities-azure-resources):
 * - a managed identity's token is an app-only access token issued for its service principal, "suitable for use as a
 *   bearer token in service-to-service calls requiring client credentials" (how-to-use-vm-token.md, Overview);
 * - its version, and with it `aud`, `iss` and the client-id claim, follows the API app's `requestedAccessTokenVersion`
 *   (`accessTokenAcceptedVersion`) whatever endpoint issues it: "The Microsoft identity platform supports issuing any
 *   token version from any version endpoint" (access-tokens.md, Token ownership); IMDS's `resource=` form is v1's;
 * - `appid` (v1) or `azp` (v2) is the client id, which "can also represent a service principal object", as a managed
 *   identity's client id does (access-token-claims-reference.md);
 * - `oid` is "the verified identity of the user or service principal": the identity's principal id;
 * - `roles` are the permissions the requesting application "has been given permission to call": its app role
 *   assignments, for client credentials "in place of user scopes" (access-token-claims-reference.md);
 * - `idtyp` is `app` in an app-only token, "the most accurate way for an API to determine if a token is an app token
 *   or an app+user token" (optional-claims-reference.md).
 * So the policy, `explain` and the allow-list judge a managed identity exactly as an app-only client, by its client id.
 */
export function appOnlyClaims(
  profile: TokenProfile,
  caller: { clientId: string; principalId: string; roles: string[] },
): AppOnlyClaims {
  return {
    aud: profile.audience,
    iss: profile.issuer,
    ver: profile.ver,
    clientIdClaim: profile.clientIdClaim,
    clientId: caller.clientId,
    oid: caller.principalId,
    idtyp: "app",
    ...(caller.roles.length > 0 ? { roles: caller.roles } : {}),
  };
}
