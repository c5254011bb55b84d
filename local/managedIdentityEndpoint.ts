import type { IncomingMessage, ServerResponse } from "node:http";
import type { JWTPayload } from "jose";
import { type Directory, sameId } from "./directory";
import { sendJson } from "./http";
import { appOnlyClaims, tokenProfile } from "../entra/tokenProfile";

// The token endpoint an Azure host gives the code it runs, for the managed identities in the local directory. Two
// documented shapes over one handler:
// - App Service's (azure-docs app-service/overview-managed-identity.md, "Using the REST protocol"): GET
//   `$IDENTITY_ENDPOINT?resource=<uri>&api-version=2019-08-01[&client_id|principal_id|object_id|mi_res_id=…]` with the
//   header `X-IDENTITY-HEADER: $IDENTITY_HEADER`; `expires_on` in seconds, and the identity's `client_id`. Azure
//   Identity's ManagedIdentityCredential (through MSAL Node's AppService source) uses it whenever IDENTITY_ENDPOINT and
//   IDENTITY_HEADER are set, so DefaultAzureCredential can be pointed here with two environment variables.
// - IMDS's (entra-docs managed-identities-azure-resources/how-to-use-vm-token.md): GET
//   `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=<uri>[&client_id|object_id|msi_res_id=…]` with
//   `Metadata: true`, answering `expires_in`, `expires_on` and `not_before` as strings; for curl and scripts.

/** A managed identity as the directory holds it: its service principal and, for a user-assigned one, its resource. */
export interface LocalManagedIdentity {
  clientId: string;
  principalId: string;
  displayName: string;
  /** The ARM id of a user-assigned identity (the service principal's alternative name). */
  resourceId?: string;
}

/** An API a managed identity may ask a token for, as the directory holds it. */
export interface LocalResource {
  /** The API app's client id and identifier URI. */
  clientId: string;
  identifierUri: string;
  displayName: string;
  tokenVersion: 1 | 2;
  /** Whether its service principal requires an app role assignment before Entra issues a token. */
  appRoleAssignmentRequired: boolean;
  /** The values of its enabled app roles assigned to a principal. */
  rolesOf(principalId: string): string[];
}

/** What the endpoint reads from the directory. The local tenant's directory implements it; tests seed it. */
export interface ManagedIdentityDirectory {
  tenantId: string;
  /** The identities the host runs: a request without an id gets the one system-assigned identity, if any. */
  identities(): LocalManagedIdentity[];
  /** The API an identifier URI or client id names. */
  resource(resource: string): LocalResource | undefined;
}

export interface ManagedIdentityEndpointOptions {
  directory: ManagedIdentityDirectory;
  /** The login endpoint the issuer names, as in every other token of the tenant. */
  authorityHost: () => string;
  /** Signs the claims with the tenant's key. */
  sign: (claims: JWTPayload) => Promise<string>;
  /** The App Service shape's secret header value (IDENTITY_HEADER). */
  identityHeader: string;
  /** Seconds since the epoch. */
  now: () => number;
  /** Default 3600. */
  tokenLifetimeSeconds?: number;
  /** The path of the App Service shape (IDENTITY_ENDPOINT's path); default `/msi/token`. */
  appServicePath?: string;
}

export const imdsTokenPath = "/metadata/identity/oauth2/token";

interface Refusal {
  status: number;
  error: string;
  description: string;
}

type Shape = "appService" | "imds";

/** The handler: answers the two paths and returns false for any other. */
export function managedIdentityEndpoint(options: ManagedIdentityEndpointOptions) {
  const appServicePath = options.appServicePath ?? "/msi/token";
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const shape: Shape | undefined =
      url.pathname === appServicePath ? "appService" : url.pathname === imdsTokenPath ? "imds" : undefined;
    if (!shape) return false;
    const answer = await tokenFor(shape, request, url.searchParams);
    if ("status" in answer) {
      sendJson(response, answer.status, { error: answer.error, error_description: answer.description });
    } else {
      sendJson(response, 200, answer);
    }
    return true;
  };

  async function tokenFor(shape: Shape, request: IncomingMessage, query: URLSearchParams) {
    if (request.method !== "GET") return refusal(405, "invalid_request", "Only GET is supported.");
    const headerRefusal = checkHeader(shape, request);
    if (headerRefusal) return headerRefusal;
    const version = query.get("api-version");
    const expected = shape === "imds" ? "2018-02-01" : "2019-08-01";
    if (!version || version < expected) {
      return refusal(400, "invalid_request", `api-version ${version ?? "(none)"} is not supported; use ${expected}.`);
    }
    const resource = query.get("resource");
    if (!resource) return refusal(400, "invalid_request", "Required query variable 'resource' is missing.");
    const identity = identityOf(shape, query);
    if ("status" in identity) return identity;
    const api = options.directory.resource(resource.replace(/\/+$/, ""));
    if (!api) {
      return refusal(
        400,
        "invalid_resource",
        `AADSTS500011: The resource principal named ${resource} was not found in the tenant named ${options.directory.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      );
    }
    const roles = api.rolesOf(identity.principalId);
    // Entra issues no token to a principal without an assignment when the API requires one (AADSTS501051).
    if (api.appRoleAssignmentRequired && roles.length === 0) {
      return refusal(
        400,
        "invalid_grant",
        `AADSTS501051: Application '${identity.clientId}'(${identity.displayName}) is not assigned to a role for the application '${api.identifierUri}'(${api.displayName}).`,
      );
    }
    const profile = tokenProfile({
      authorityHost: options.authorityHost(),
      tenantId: options.directory.tenantId,
      apiClientId: api.clientId,
      tokenVersion: api.tokenVersion,
    });
    const { clientIdClaim, clientId, ...claims } = appOnlyClaims(profile, { ...identity, roles });
    const issuedAt = Math.floor(options.now());
    const expiresOn = issuedAt + lifetime;
    const accessToken = await options.sign({
      ...claims,
      // A v1 token names the resource as requested (access-token-claims-reference.md, aud); v2 the client id.
      aud: api.tokenVersion === 1 ? resource : claims.aud,
      [clientIdClaim]: clientId,
      sub: identity.principalId,
      tid: options.directory.tenantId,
      iat: issuedAt,
      nbf: issuedAt,
      exp: expiresOn,
    });
    const common = { access_token: accessToken, expires_on: String(expiresOn), resource, token_type: "Bearer" };
    return shape === "appService"
      ? { ...common, client_id: identity.clientId }
      : { ...common, refresh_token: "", expires_in: String(lifetime), not_before: String(issuedAt) };
  }

  function checkHeader(shape: Shape, request: IncomingMessage): Refusal | undefined {
    if (shape === "imds") {
      return request.headers.metadata === "true"
        ? undefined
        : refusal(400, "bad_request_102", "Required metadata header not specified");
    }
    return request.headers["x-identity-header"] === options.identityHeader
      ? undefined
      : refusal(
          401,
          "unauthorized_client",
          "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.",
        );
  }

  /** The identity a request names by one of its ids, else the host's only identity. */
  function identityOf(shape: Shape, query: URLSearchParams): LocalManagedIdentity | Refusal {
    const resourceIdKey = shape === "imds" ? "msi_res_id" : "mi_res_id";
    const given = [
      ["client_id", (identity: LocalManagedIdentity) => identity.clientId],
      ["principal_id", (identity: LocalManagedIdentity) => identity.principalId],
      ["object_id", (identity: LocalManagedIdentity) => identity.principalId],
      [resourceIdKey, (identity: LocalManagedIdentity) => identity.resourceId ?? ""],
    ] as const;
    const named = given.filter(([key]) => query.get(key));
    if (named.length > 1) {
      return refusal(400, "invalid_request", `Give one of ${given.map(([key]) => key).join(", ")}, not several.`);
    }
    const identities = options.directory.identities();
    const [key, idOf] = named[0] ?? [];
    const found =
      key && idOf
        ? identities.filter((identity) => idOf(identity).toLowerCase() === (query.get(key) ?? "").toLowerCase())
        : identities.filter((identity) => identity.resourceId === undefined);
    if (found.length !== 1) {
      return refusal(
        400,
        "invalid_request",
        key
          ? `No managed identity on this host has ${key} ${query.get(key) ?? ""}.`
          : "No system-assigned managed identity on this host: name a user-assigned one with client_id.",
      );
    }
    return found[0] as LocalManagedIdentity;
  }
}

function refusal(status: number, error: string, description: string): Refusal {
  return { status, error, description };
}

/**
 * The local tenant's directory as the endpoint reads it, as a replica sees it: its managed identities' service
 * principals, and the API an identifier URI or client id names with the values of the enabled roles assigned to a
 * principal on it (local/tokens.ts reads client credentials the same way).
 */
export function directoryIdentities(directory: Directory, tenantId: string): ManagedIdentityDirectory {
  return {
    tenantId,
    identities: () =>
      directory.managedIdentities("replicated").map((sp) => ({
        clientId: sp.appId,
        principalId: sp.id,
        displayName: sp.displayName ?? sp.appId,
        ...(sp.alternativeNames[1] ? { resourceId: sp.alternativeNames[1] } : {}),
      })),
    resource: (resource) => {
      const app = directory
        .applications("replicated")
        .find((candidate) => candidate.identifierUris.includes(resource) || sameId(candidate.appId, resource));
      const sp = app && directory.servicePrincipalByAppId(app.appId, "replicated");
      if (!app || !sp) return undefined;
      return {
        clientId: app.appId,
        identifierUri: app.identifierUris[0] ?? `api://${app.appId}`,
        displayName: sp.displayName ?? app.appId,
        tokenVersion: app.api.requestedAccessTokenVersion === 2 ? 2 : 1,
        appRoleAssignmentRequired: sp.appRoleAssignmentRequired,
        rolesOf: (principalId) => {
          const assigned = directory
            .appRoleAssignments("replicated")
            .filter((assignment) => sameId(assignment.principalId, principalId) && sameId(assignment.resourceId, sp.id))
            .map((assignment) => assignment.appRoleId);
          return directory
            .appRolesOf(sp.id, "replicated")
            .filter((role) => role.isEnabled && role.value && assigned.some((id) => sameId(id, role.id)))
            .map((role) => role.value as string);
        },
      };
    },
  };
}
