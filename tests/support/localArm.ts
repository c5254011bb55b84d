import { generateKeyPair, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { type ArmOptions, armRoutes } from "../../local/arm";
import { ensureRoleAssignment, ensureSubscription, ownerRoleId } from "../../local/armSeed";
import { ArmStore } from "../../local/armStore";
import { type BoundedServer, listenBounded } from "../../local/http";
import { armConnection } from "../../local/providers/azure-native/armClient";
import { AzureNativeProvider } from "../../local/providers/azure-native/provider";
import { deployedApis, gatewayHandler, gatewayMount, localGatewayUrl, startEchoBackend } from "../../local/gateway";

export const subscriptionId = "5b0c0000-1111-4222-8333-444455556666";
export const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
export const adminId = "ad000000-0000-4000-8000-000000000001";
export const armNow = new Date("2026-11-23T10:00:00Z");
export const gatewayUrlOf = (serviceName: string) => localGatewayUrl("https://127.0.0.1:8443", serviceName);

export interface ArmAnswer {
  status: number;
  body: Record<string, unknown> | undefined;
  headers: Headers;
}

export interface ArmFixture {
  store: ArmStore;
  /** `http://127.0.0.1:<port>`: ARM's root. */
  url: string;
  /** A token for ARM as the principal with this object id (default: the subscription's Owner). */
  token(claims?: JWTPayload): Promise<string>;
  /** Calls ARM; `token: null` sends none. The api-version is added unless the path has one. */
  call(method: string, path: string, options?: { body?: unknown; token?: string | null }): Promise<ArmAnswer>;
  close(): Promise<void>;
}

/**
 * The local ARM over an in-memory store on a loopback port, with a subscription whose Owner is `adminId`. Tokens are
 * signed by a key of this fixture and verified against it: what local/tokens.ts will verify is not exercised here.
 */
export async function startArmFixture(
  store: ArmStore = ArmStore.open(),
  options: Pick<ArmOptions, "managedIdentities"> = {},
): Promise<ArmFixture> {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const issuer = `https://sts.windows.net/${tenantId}/`;
  ensureSubscription(store, { subscriptionId, tenantId });
  ensureRoleAssignment(
    store,
    { subscriptionId, scope: `/subscriptions/${subscriptionId}`, principalId: adminId, roleId: ownerRoleId },
    armNow,
  );
  const routes = armRoutes(store, {
    verifyToken: async (token) => (await jwtVerify(token, publicKey, { issuer })).payload,
    gatewayUrlOf,
    now: () => armNow,
    ...options,
  });
  const server = await listenBounded(async (request, response) => {
    if (!(await routes(request, response))) {
      response.writeHead(404).end();
    }
  });
  const token = (claims: JWTPayload = {}) =>
    new SignJWT({ aud: "https://management.core.windows.net/", tid: tenantId, oid: adminId, ...claims })
      .setProtectedHeader({ alg: "RS256", typ: "JWT" })
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(privateKey);
  const call: ArmFixture["call"] = async (method, path, options = {}) => {
    const bearer = options.token === undefined ? await token() : options.token;
    const separator = path.includes("?") ? "&" : "?";
    const withVersion = /[?&]api-version=/.test(path) ? path : `${path}${separator}api-version=2024-05-01`;
    const response = await fetch(`${server.url}${withVersion}`, {
      method,
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
      headers: response.headers,
    };
  };
  return { store, url: server.url, token, call, close: server.close };
}

export const groupPath = (group = "rg-apim-dev") => `/subscriptions/${subscriptionId}/resourceGroups/${group}`;
export const servicePath = (service = "apim-contoso-dev", group = "rg-apim-dev") =>
  `${groupPath(group)}/providers/Microsoft.ApiManagement/service/${service}`;

/**
 * Our azure-native provider, configured as a local run configures it, whose connection is this fixture's ARM with
 * a token for `oid` (discovery and credentials are tested on their own).
 */
export function providerFor(arm: ArmFixture, oid: string = adminId): AzureNativeProvider {
  const provider = new AzureNativeProvider({
    version: "3.28.0",
    connect: async () => armConnection(arm.url, subscriptionId, () => arm.token({ oid })),
    newGuid: () => "9a000000-0000-4000-8000-000000000009",
  });
  provider.configure({ metadataHost: "127.0.0.1:1", tenantId, clientId: "c", clientSecret: "s", subscriptionId });
  return provider;
}

export interface LocalGatewayFixture {
  /** The gateway's root; a service's APIs are under {@link localGatewayUrl}. */
  url: string;
  echo: BoundedServer & { readonly requests: number };
  close(): Promise<void>;
}

/** The local gateway mounted as the tenant mounts it, serving what the fixture's ARM holds, backed by an echo. */
export async function startLocalGateway(arm: ArmFixture, authorityHost: string): Promise<LocalGatewayFixture> {
  const echo = await startEchoBackend();
  const handle = gatewayHandler({ apis: () => deployedApis(arm.store, echo.url), authorityHost, mount: gatewayMount });
  const server = await listenBounded(async (request, response) => {
    if (!(await handle(request, response))) response.writeHead(418).end();
  });
  return { url: server.url, echo, close: async () => void (await Promise.all([server.close(), echo.close()])) };
}
