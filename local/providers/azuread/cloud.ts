import { decodeJwt } from "jose";
import type { Clock } from "./clock";
import { networkFailure, type Transport } from "./graphClient";

/** What the provider takes from the cloud metadata document. */
export interface CloudEndpoints {
  name: string;
  loginEndpoint: string;
  /** The Graph resource id, which go-azure-sdk also uses as Graph's endpoint. */
  microsoftGraph: string;
  resourceManager: string;
}

/**
 * go-azure-sdk sdk/environments/from_endpoint.go + sdk/internal/metadata/client.go: GET
 * `https://<host>/metadata/endpoints?api-version=2022-09-01` (one cloud object), refused without a name, a
 * resource manager or a Graph resource id; resource ids lose their trailing slash.
 */
export async function discoverCloud(metadataHost: string, transport: Transport): Promise<CloudEndpoints> {
  const endpoint = `https://${metadataHost}`;
  const uri = `${endpoint}/metadata/endpoints?api-version=2022-09-01`;
  let response: Response;
  try {
    response = await transport(uri);
  } catch (error) {
    throw new Error(`retrieving metadata from endpoint "${endpoint}": performing request: ${networkFailure(error)}`, {
      cause: error,
    });
  }
  if (response.status !== 200) {
    throw new Error(
      `retrieving metadata from endpoint "${endpoint}": performing request: expected 200 OK but got ${response.status}`,
    );
  }
  const metadata = (await response.json()) as {
    name?: string;
    resourceManager?: string;
    microsoftGraphResourceId?: string;
    authentication?: { loginEndpoint?: string };
  };
  if (!metadata.name) throw new Error("retrieving metadata from endpoint: `name` was nil");
  if (!metadata.resourceManager) {
    throw new Error("retrieving metadata from endpoint: no `resourceManagerEndpoint` was returned");
  }
  if (!metadata.microsoftGraphResourceId) {
    throw new Error("retrieving metdata from endpoint: no `microsoftGraphResourceId` was returned");
  }
  const loginEndpoint = metadata.authentication?.loginEndpoint;
  if (!loginEndpoint) throw new Error("no `authorization` configuration was found for this environment");
  return {
    name: metadata.name,
    // Not trimmed: go-azure-sdk joins it as `%s/%s/oauth2/v2.0/token`, so a trailing slash reaches the tenant as "//".
    loginEndpoint,
    microsoftGraph: metadata.microsoftGraphResourceId.replace(/\/+$/, ""),
    resourceManager: metadata.resourceManager,
  };
}

export interface ClientSecretCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/**
 * go-azure-sdk sdk/auth/client_secret_authorizer.go behind a CachedAuthorizer: client credentials at
 * `<loginEndpoint>/<tenant>/oauth2/v2.0/token` with scope `<graph>/.default`, the token reused until 10 s before it
 * expires (golang.org/x/oauth2 `expiryDelta`).
 */
export class ClientSecretAuthorizer {
  private cached?: { accessToken: string; expiresAt: number };

  constructor(
    private readonly cloud: CloudEndpoints,
    private readonly credentials: ClientSecretCredentials,
    private readonly transport: Transport,
    private readonly clock: Clock,
  ) {}

  async token(): Promise<string> {
    if (this.cached && this.cached.expiresAt - 10_000 > this.clock.now()) return this.cached.accessToken;
    const tenant = this.credentials.tenantId || "common";
    const response = await this.transport(`${this.cloud.loginEndpoint}/${tenant}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: this.credentials.clientId,
        client_secret: this.credentials.clientSecret,
        grant_type: "client_credentials",
        scope: `${this.cloud.microsoftGraph}/.default`,
      }).toString(),
    });
    const text = await response.text();
    if (response.status < 200 || response.status > 299) {
      throw new Error(`clientCredentialsToken: received HTTP status ${response.status} with response: ${text}`);
    }
    const body = JSON.parse(text) as { access_token?: string; expires_in?: number | string };
    const seconds = Number(body.expires_in ?? 0);
    this.cached = {
      accessToken: body.access_token ?? "",
      expiresAt: seconds > 0 ? this.clock.now() + seconds * 1000 : Number.POSITIVE_INFINITY,
    };
    return this.cached.accessToken;
  }
}

/** The access token's claims the provider uses (go-azure-sdk sdk/claims). */
export interface TokenClaims {
  oid?: string;
  tid?: string;
  appid?: string;
  azp?: string;
  scp?: string;
}

export function claimsOf(accessToken: string): TokenClaims {
  try {
    return decodeJwt(accessToken) as TokenClaims;
  } catch (error) {
    throw new Error(`unable to parse claims in access token: ${String(error)}`, { cause: error });
  }
}
