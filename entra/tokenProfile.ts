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
