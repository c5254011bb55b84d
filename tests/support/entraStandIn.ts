import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, type GenerateKeyPairResult, type JSONWebKeySet } from "jose";
import { defaultAccessRoleId, Directory, localUser, type SeedObjects } from "../../local/directory";
import { listenBounded, requestUrl, sendJson } from "../../local/http";
import { type SigningKey, tokenService } from "../../local/tokens";

// A thin use of the local tenant's Entra ID (local/tokens.ts) for loopback tests: the options describe what the
// directory holds, in the few words tests need; they are seeded into a local/directory.ts Directory, which the token
// endpoint reads exactly as the local tenant does. Plain HTTP on 127.0.0.1, no state on disk.

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

/** What the directory holds: clients and APIs with their service principals, and the grants between them. */
export interface StandInDirectory {
  clients: StandInClient[];
  apis: StandInApi[];
  assignments: StandInAssignment[];
  delegatedGrants?: StandInDelegatedGrant[];
  /** Users (or, in Entra, their groups) an administrator assigned to an API's enterprise application. */
  userAssignments?: { userObjectId: string; apiClientId: string }[];
}

export interface EntraStandInOptions extends StandInDirectory {
  tenantId: string;
  /** Seconds a new object stays invisible to the token endpoint, as while Entra replicates; see advanceClock. */
  replicationDelaySeconds?: number;
  tokenLifetimeSeconds?: number;
  /** The published keys (JWKS) of external issuers, as Entra would fetch them from each issuer's metadata. */
  trustedIssuers?: Record<string, JSONWebKeySet>;
  /** The RS256 key pair the tenant signs with (default: a fresh one), for tests that also sign tokens themselves. */
  signingKey?: GenerateKeyPairResult;
  /** Default: {@link defaultTestUser}. */
  user?: StandInUser;
}

/** The local tenant's sign-in user, in the stand-in's words. */
export const defaultTestUser: StandInUser = {
  objectId: localUser.id,
  username: localUser.userPrincipalName,
  name: localUser.displayName,
};

export interface EntraStandIn {
  /** `http://127.0.0.1:<port>`, used where Entra's `https://login.microsoftonline.com` would be. */
  authorityHost: string;
  /** The RS256 signing key's kid, as published in the JWKS. */
  kid: string;
  /** The service principal object id (`oid`, `sub`) of each seeded client and API, by client id. */
  readonly servicePrincipalIds: Record<string, string>;
  /** The directory the token endpoint reads: change it to change what Entra holds. */
  directory: Directory;
  /** Adds clients, APIs and grants to the directory, e.g. what the evaluated program registered. */
  seed(objects: Partial<StandInDirectory>): void;
  /** Moves the tenant's clock forward (replication, expiry) without waiting. */
  advanceClock(milliseconds: number): void;
  /** Every request served so far. */
  readonly requests: number;
  /** Token endpoint requests served so far. */
  readonly tokenRequests: number;
  /** The test user signs in on the device-code page with this user code, as a person would in a browser. */
  signInWithUserCode(userCode: string): void;
  close(): Promise<void>;
}

/** Starts the local tenant's token endpoint on loopback over a directory seeded from `options`. */
export async function startEntraStandIn(options: EntraStandInOptions): Promise<EntraStandIn> {
  let offset = 0;
  const directory = new Directory(undefined, {
    now: () => Date.now() + offset,
    replicationDelaySeconds: options.replicationDelaySeconds,
  });
  const user = options.user ?? defaultTestUser;
  directory.seed({ users: [{ id: user.objectId, userPrincipalName: user.username, displayName: user.name }] });
  seedStandInDirectory(directory, options);

  const signingKey = await standInSigningKey(options.signingKey);
  let authorityHost = "";
  const tokens = tokenService({
    directory,
    signingKey,
    authorityHost: () => authorityHost,
    tenantIds: [options.tenantId],
    tokenLifetimeSeconds: options.tokenLifetimeSeconds,
    issuerKeys: async (issuer) => options.trustedIssuers?.[issuer],
  });
  const counters = { requests: 0, tokenRequests: 0 };
  const server = await listenBounded(async (request, response) => {
    counters.requests += 1;
    if (request.method === "POST" && requestUrl(request).pathname.endsWith("/oauth2/v2.0/token"))
      counters.tokenRequests += 1;
    if (!(await tokens.handle(request, response))) sendJson(response, 404, { error: "not_found" });
  });
  authorityHost = server.url;

  return {
    authorityHost,
    kid: signingKey.publicJwk.kid,
    get servicePrincipalIds() {
      return Object.fromEntries(directory.servicePrincipals().map((sp) => [sp.appId, sp.id]));
    },
    directory,
    seed: (objects) => seedStandInDirectory(directory, { clients: [], apis: [], assignments: [], ...objects }),
    advanceClock: (milliseconds) => {
      offset += milliseconds;
    },
    get requests() {
      return counters.requests;
    },
    get tokenRequests() {
      return counters.tokenRequests;
    },
    signInWithUserCode: (userCode) => tokens.approveDeviceCode(userCode),
    close: server.close,
  };
}

/** Each client and API as an application with its service principal, then the grants between them. */
function seedStandInDirectory(directory: Directory, objects: StandInDirectory): void {
  const applications: SeedObjects["applications"] = [
    ...objects.clients.map((client) => ({
      application: {
        appId: client.clientId,
        displayName: client.displayName ?? null,
        isFallbackPublicClient: client.publicClient ? true : null,
        ...(client.publicClient
          ? { publicClient: { redirectUris: client.redirectUris ?? [] } }
          : { web: webPlatform(client.redirectUris ?? []) }),
      },
      federatedIdentityCredentials: (client.federatedCredentials ?? []).map((credential, index) => ({
        id: randomUUID(),
        name: `credential-${index}`,
        description: null,
        ...credential,
      })),
      secrets: client.secret === undefined ? [] : [client.secret],
    })),
    ...objects.apis.map((api) => ({
      application: {
        appId: api.clientId,
        displayName: api.displayName ?? null,
        identifierUris: [api.identifierUri],
        appRoles: api.roles.map((role) => ({
          ...role,
          allowedMemberTypes: ["Application"],
          description: null,
          displayName: null,
          isEnabled: true,
          origin: "Application",
        })),
        api: {
          acceptMappedClaims: null,
          knownClientApplications: [],
          preAuthorizedApplications: [],
          requestedAccessTokenVersion: api.tokenVersion,
          oauth2PermissionScopes: (api.scopes ?? []).map((scope) => ({
            ...scope,
            adminConsentDescription: null,
            adminConsentDisplayName: null,
            isEnabled: true,
            type: "Admin",
            userConsentDescription: null,
            userConsentDisplayName: null,
          })),
        },
      },
    })),
  ];
  const required = new Map(objects.apis.map((api) => [api.clientId, api.appRoleAssignmentRequired]));
  directory.seed({
    applications,
    servicePrincipals: applications.map(({ application }) => ({
      id: randomUUID(),
      appId: application.appId,
      appRoleAssignmentRequired: required.get(application.appId) ?? false,
    })),
  });

  const principalOf = (clientId: string) => {
    const principal = directory.servicePrincipalByAppId(clientId);
    if (!principal) throw new Error(`the stand-in directory holds no service principal for client id ${clientId}`);
    return principal.id;
  };
  directory.seed({
    appRoleAssignments: [
      ...objects.assignments.map((assignment) => ({
        principalId: principalOf(assignment.clientId),
        resourceId: principalOf(assignment.apiClientId),
        appRoleId: assignment.roleId,
        principalType: "ServicePrincipal" as const,
      })),
      // An administrator's assignment without a specific role: Entra's default access.
      ...(objects.userAssignments ?? []).map((assignment) => ({
        principalId: assignment.userObjectId,
        resourceId: principalOf(assignment.apiClientId),
        appRoleId: defaultAccessRoleId,
        principalType: "User" as const,
      })),
    ],
    oauth2PermissionGrants: (objects.delegatedGrants ?? []).map((grant) => ({
      clientId: principalOf(grant.clientId),
      resourceId: principalOf(grant.apiClientId),
      scope: grant.scopes.join(" "),
    })),
  });
}

function webPlatform(redirectUris: string[]) {
  return {
    homePageUrl: null,
    logoutUrl: null,
    redirectUris,
    implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
    redirectUriSettings: [],
  };
}

async function standInSigningKey(keys: GenerateKeyPairResult | undefined): Promise<SigningKey> {
  const { privateKey, publicKey } = keys ?? (await generateKeyPair("RS256", { modulusLength: 2048 }));
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid: randomUUID(), use: "sig" } };
}
