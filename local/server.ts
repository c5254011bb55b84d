import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { type CryptoKey, importJWK, type JWK } from "jose";
import { Directory, type DirectoryState, emptyDirectoryState, firstPartyApps, localUser } from "./directory";
import { graphAppRoles, graphHandler, graphPermissions, sendGraphError } from "./graph";
import { armRoutes } from "./arm";
import { ensureRoleAssignment, ensureSubscription, ownerRoleId } from "./armSeed";
import { ArmStore } from "./armStore";
import { deployedApis, gatewayHandler, gatewayMount, localGatewayUrl, startEchoBackend } from "./gateway";
import { listenBounded, requestUrl, requestWithCa, sendJson } from "./http";
import { ensureTls } from "./tls";
import { today } from "../config/clock";
import { generateSigningKey, type SigningKey, tokenService, type TokenService } from "./tokens";
import { directoryIdentities, managedIdentityEndpoint } from "./managedIdentityEndpoint";
import { type Latency, noLatency, serviceDelays, type Sleep } from "./latency";

/** Where the local tenant keeps its state: `.local/` at the project root (git-ignored). */
export const defaultLocalRoot = join(__dirname, "..", ".local");

export function localTenantPaths(root = defaultLocalRoot) {
  const tenant = join(root, "tenant");
  return {
    root,
    tls: join(root, "tls"),
    /** The CA certificate: SSL_CERT_FILE for Go, NODE_EXTRA_CA_CERTS for Node. */
    caFile: join(root, "tls", "ca.pem"),
    tenant,
    state: join(tenant, "state.json"),
    signingKey: join(tenant, "signing-key.json"),
    admin: join(tenant, "admin.json"),
    settings: join(tenant, "settings.json"),
    pid: join(tenant, "tenant.pid.json"),
    log: join(tenant, "tenant.log"),
  };
}

/** The settings a person chooses with `start`, kept for the next start. */
export interface TenantSettings {
  port: number;
  replicationDelaySeconds: number;
  /** What each Graph and ARM request waits (ms) before it is answered, as Azure's round trip would. */
  latency: Latency;
}

/** 8443: the usual alternative HTTPS port; `start --port` chooses another and keeps it. */
export const defaultSettings: TenantSettings = { port: 8443, replicationDelaySeconds: 0, latency: noLatency };

/** The administrator application's credentials, written to .local/tenant/admin.json on first start. */
export interface AdminCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  servicePrincipalId: string;
}

/** The tenant's public addresses, as the metadata document names them. */
export interface TenantEndpoints {
  /** `https://127.0.0.1:<port>`: the login endpoint, and the authority host stacks name. */
  login: string;
  /** Microsoft Graph: the endpoint and resource id (`microsoftGraphResourceId`). */
  graph: string;
  /** Azure Resource Manager: the endpoint and resource id (`resourceManager`). */
  arm: string;
  /** What `metadataHost` / ARM_METADATA_HOSTNAME name: `127.0.0.1:<port>`. */
  metadataHost: string;
}

export function tenantEndpoints(port: number): TenantEndpoints {
  const login = `https://127.0.0.1:${port}`;
  return { login, graph: `${login}/graph`, arm: `${login}/arm`, metadataHost: `127.0.0.1:${port}` };
}

/** What a mounted module gets from the tenant. */
export interface TenantContext {
  directory: Directory;
  /** The tenant's CA certificate (PEM), for a module that calls the tenant itself. */
  ca: string;
  endpoints: TenantEndpoints;
  admin: AdminCredentials;
  /**
   * Verifies a token's signature and lifetime (this tenant issued it, it has not expired) and returns its claims;
   * throws otherwise. The audience is the caller's to check, e.g. ARM's against {@link TenantEndpoints.arm}.
   */
  verifyToken(token: string): Promise<Record<string, unknown>>;
  /** Signs claims with the tenant's key (a token only the tenant's own services issue). */
  signToken(claims: Record<string, unknown>): Promise<string>;
  /** Verifies the request's bearer token for Graph or ARM; the claims, or a 401 with Graph's reason. */
  authenticate(
    request: IncomingMessage,
    audience: "graph" | "arm",
  ): Promise<{ claims: Record<string, unknown> } | { status: 401; message: string }>;
}

/** A handler for every request under a path prefix; `path` is what follows the prefix. */
export type MountedHandler = (request: IncomingMessage, response: ServerResponse, path: string) => Promise<void>;

/** Another module's routes under a prefix, e.g. `/arm` (local/arm.ts) or `/gateway` (local/gateway.ts). */
export type Mount = (context: TenantContext) => { prefix: string; handler: MountedHandler };

export interface TenantOptions {
  root?: string;
  port?: number;
  replicationDelaySeconds?: number;
  /** Default none. */
  latency?: Latency;
  /** How a delayed request waits; a test observes the delays through it. Default a timer. */
  sleep?: Sleep;
  /** Routes of other modules; Graph (`/graph`), Entra (`/<tenant>/…`) and the metadata document are the tenant's own. */
  mounts?: Mount[];
  now?: () => number;
}

export interface RunningTenant {
  endpoints: TenantEndpoints;
  directory: Directory;
  tokens: TokenService;
  admin: AdminCredentials;
  caFile: string;
  close(): Promise<void>;
}

/**
 * Starts the local tenant on 127.0.0.1 over HTTPS, on one port: Entra ID at the root (`/<tenant>/oauth2/v2.0/token`
 * and the rest), Microsoft Graph under `/graph`, the cloud metadata document at `/metadata/endpoints`, and mounted
 * modules (ARM, the gateway) under their prefixes. Graph and ARM tokens are told apart by their audience: each
 * service's resource id is its own URL. The directory, signing key and administrator are kept under `root`.
 */
export async function startTenant(options: TenantOptions = {}): Promise<RunningTenant> {
  const paths = localTenantPaths(options.root);
  mkdirSync(paths.tenant, { recursive: true, mode: 0o700 });
  const tls = ensureTls(paths.tls);
  const persist = debouncedWriter(paths.state);
  const directory = new Directory(readJson<DirectoryState>(paths.state) ?? emptyDirectoryState(), {
    now: options.now,
    persist: persist.write,
  });
  const signingKey = await loadSigningKey(paths.signingKey);
  const admin = ensureAdministrator(directory, paths.admin);
  directory.setReplicationDelay(options.replicationDelaySeconds ?? 0);

  let endpoints = tenantEndpoints(options.port ?? 0);
  const tokens = tokenService({
    directory,
    signingKey,
    authorityHost: () => endpoints.login,
    firstPartyResources: () => ({
      [endpoints.graph]: firstPartyApps.microsoftGraph.appId,
      [endpoints.arm]: firstPartyApps.azureResourceManager.appId,
    }),
  });
  const authenticate: TenantContext["authenticate"] = async (request, audience) => {
    const header = request.headers.authorization ?? "";
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) return { status: 401, message: "Access token is empty." };
    const resource = audience === "graph" ? endpoints.graph : endpoints.arm;
    const verified = await tokens.verify(token, [resource, `${resource}/`]);
    if ("failure" in verified) return { status: 401, message: `Access token validation failure. ${verified.failure}` };
    return verified;
  };
  const context: TenantContext = {
    directory,
    ca: tls.caPem,
    admin,
    authenticate,
    signToken: (claims) => tokens.sign(claims),
    verifyToken: async (token) => {
      const verified = await tokens.verify(token);
      if ("failure" in verified) throw new Error(verified.failure);
      return verified.claims;
    },
    get endpoints() {
      return endpoints;
    },
  };
  const graph = graphHandler({
    directory,
    get baseUrl() {
      return endpoints.graph;
    },
    authenticate: async (request) => {
      const outcome = await authenticate(request, "graph");
      if ("status" in outcome) return outcome;
      const { oid, roles, scp } = outcome.claims as { oid?: string; roles?: string[]; scp?: string };
      return { objectId: oid ?? "", permissions: [...(roles ?? []), ...(scp ?? "").split(" ").filter(Boolean)] };
    },
  });

  const delays = serviceDelays(options.latency ?? noLatency, options.sleep);
  const mounts = new Map<string, MountedHandler>([["/graph", delays.wrap("/graph", graph)]]);

  const server = await listenBounded(
    async (request, response) => {
      const path = requestUrl(request).pathname;
      if (path === "/metadata/endpoints") return sendJson(response, 200, metadataDocument(endpoints));
      if (path === "/local/status") {
        return sendJson(response, 200, {
          pid: process.pid,
          endpoints,
          counts: directory.counts(),
          residentBytes: process.memoryUsage().rss,
          time: directory.time(),
          latency: delays.latency,
          requests: delays.requests,
          mostRequestsInFlight: delays.inFlight.most,
        });
      }
      for (const [prefix, handler] of mounts) {
        if (path === prefix || path.startsWith(`${prefix}/`))
          return handler(request, response, path.slice(prefix.length));
      }
      if (await tokens.handle(request, response)) return;
      sendGraphError(response, { status: 404, code: "NotFound", message: `No local tenant service answers ${path}.` });
    },
    // The engine with unbounded parallelism (PULUMI_PARALLEL) keeps a connection open per request in flight: 64, the
    // stand-ins' bound, dropped a 4 APIs × 20 clients up's connections (npm run bench, BENCH_SCALE_VARIANTS=unbounded).
    { port: options.port ?? 0, tls: { cert: tls.cert, key: tls.key }, maxConnections: tenantConnections },
  );
  endpoints = tenantEndpoints(server.port);
  // Mounted once the port is known: a module may take the tenant's addresses as they are (ARM's audience).
  for (const mount of options.mounts ?? []) {
    const { prefix, handler } = mount(context);
    mounts.set(prefix, delays.wrap(prefix, handler));
  }

  return {
    get endpoints() {
      return endpoints;
    },
    directory,
    tokens,
    admin,
    caFile: tls.caFile,
    close: async () => {
      await server.close();
      persist.flush();
    },
  };
}

/** Connections the tenant keeps open at once: Azure drops none of a deployment's; the file descriptors allow it. */
export const tenantConnections = 4096;

/**
 * The cloud metadata document (`GET /metadata/endpoints?api-version=2022-09-01`): the single-cloud object that
 * go-azure-sdk's sdk/internal/metadata client parses. It needs `name`, `resourceManager`, `microsoftGraphResourceId`
 * and `authentication.loginEndpoint` (environments/from_endpoint.go); Graph's endpoint is its resource id.
 */
export function metadataDocument(endpoints: TenantEndpoints) {
  return {
    portal: endpoints.login,
    authentication: {
      loginEndpoint: endpoints.login,
      audiences: [endpoints.arm],
      tenant: "common",
      identityProvider: "AAD",
    },
    media: "",
    graphAudience: "",
    graph: "",
    name: "AzureLocalTenant",
    suffixes: {
      azureDataLakeStoreFileSystem: "",
      acrLoginServer: "",
      sqlServerHostname: "",
      azureDataLakeAnalyticsCatalogAndJob: "",
      keyVaultDns: "",
      storage: "",
      azureFrontDoorEndpointSuffix: "",
      storageSyncEndpointSuffix: "",
      mhsmDns: "",
      mysqlServerEndpoint: "",
      postgresqlServerEndpoint: "",
      mariadbServerEndpoint: "",
      synapseAnalytics: "",
      attestationEndpoint: "",
    },
    batch: "",
    resourceManager: endpoints.arm,
    vmImageAliasDoc: "",
    activeDirectoryDataLake: "",
    sqlManagement: "",
    microsoftGraphResourceId: endpoints.graph,
    appInsightsResourceId: "",
    appInsightsTelemetryChannelResourceId: "",
    attestationResourceId: "",
    synapseAnalyticsResourceId: "",
    logAnalyticsResourceId: "",
    ossrDbmsResourceId: "",
    gallery: "",
  };
}

/**
 * The tenant's administrator: an application granted every Graph permission the tenant enforces, made on first
 * start; its secret is made again when missing or expired. `npm run local -- rest` and `up` act as it.
 */
function ensureAdministrator(directory: Directory, file: string): AdminCredentials {
  const graph = directory.ensureFirstPartyServicePrincipal(
    firstPartyApps.microsoftGraph.appId,
    firstPartyApps.microsoftGraph.displayName,
    graphAppRoles(),
  );
  directory.ensureFirstPartyServicePrincipal(
    firstPartyApps.azureResourceManager.appId,
    firstPartyApps.azureResourceManager.displayName,
    [],
  );
  if (directory.users().length === 0) directory.createUser(localUser);

  const saved = readJson<AdminCredentials>(file);
  let application = saved && directory.applicationByAppId(saved.clientId);
  if (!application) application = directory.createApplication({ displayName: "Local tenant administrator" });
  const principal =
    directory.servicePrincipalByAppId(application.appId) ??
    directory.createServicePrincipal({ appId: application.appId });
  for (const appRoleId of Object.values(graphPermissions)) {
    const held = directory
      .appRoleAssignments()
      .some((assignment) => assignment.principalId === principal.id && assignment.appRoleId === appRoleId);
    if (!held)
      directory.createAppRoleAssignment(graph.id, { principalId: principal.id, resourceId: graph.id, appRoleId });
  }
  if (
    saved &&
    saved.clientId === application.appId &&
    directory.checkSecret(saved.clientId, saved.clientSecret, directory.time()) === "valid"
  ) {
    return saved;
  }
  const password = directory.addPassword(application.id, {
    passwordCredential: { displayName: "local administrator" },
  });
  const admin: AdminCredentials = {
    tenantId: saved?.tenantId ?? localTenantId,
    clientId: application.appId,
    clientSecret: password.secretText,
    servicePrincipalId: principal.id,
  };
  writeFileSync(file, `${JSON.stringify(admin, null, 2)}\n`, { mode: 0o600 });
  return admin;
}

/** The tenant id `rest` and the administrator use; stacks may name any other GUID and get tokens for it. */
export const localTenantId = "10ca1000-0000-4000-8000-00000000c0de";

async function loadSigningKey(file: string): Promise<SigningKey> {
  const saved = readJson<{ privateJwk: JWK; publicJwk: JWK & { kid: string } }>(file);
  if (saved)
    return { privateKey: (await importJWK(saved.privateJwk, "RS256")) as CryptoKey, publicJwk: saved.publicJwk };
  const key = await generateSigningKey();
  writeFileSync(file, JSON.stringify({ privateJwk: key.privateJwk, publicJwk: key.publicJwk }), { mode: 0o600 });
  return key;
}

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : undefined;
}

/** Writes the state at most once per tick of changes, atomically (a rename), and at once on flush. */
function debouncedWriter(file: string) {
  let pending: (() => DirectoryState) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!pending) return;
    writeFileSync(`${file}.tmp`, JSON.stringify(pending()), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    pending = undefined;
  };
  return {
    write: (snapshot: () => DirectoryState) => {
      pending = snapshot;
      timer ??= setTimeout(flush, 50);
    },
    flush,
  };
}

/** The local subscription ARM holds; the administrator is its Owner. */
export const localSubscriptionId = "10ca1000-5b5c-4000-8000-00000000a5b5";

/**
 * ARM (local/arm.ts) under `/arm` over `store`: the local subscription, owned by the administrator, answering tokens
 * whose audience is {@link TenantEndpoints.arm}.
 */
export function armMount(store: ArmStore): Mount {
  return (context) => {
    ensureSubscription(store, { subscriptionId: localSubscriptionId, tenantId: context.admin.tenantId });
    ensureRoleAssignment(
      store,
      {
        subscriptionId: localSubscriptionId,
        scope: `/subscriptions/${localSubscriptionId}`,
        principalId: context.admin.servicePrincipalId,
        roleId: ownerRoleId,
      },
      new Date(context.directory.time()),
    );
    const routes = armRoutes(store, {
      verifyToken: (token) => context.verifyToken(token),
      now: () => new Date(context.directory.time()),
      audiences: [context.endpoints.arm, `${context.endpoints.arm}/`],
      gatewayUrlOf: (serviceName) => localGatewayUrl(context.endpoints.login, serviceName),
      mount: "/arm",
      // Azure creates a user-assigned identity's service principal with the identity, and deletes it with it.
      managedIdentities: {
        create: (identity) => {
          const sp = context.directory.createManagedIdentityServicePrincipal(identity);
          return { clientId: sp.appId, principalId: sp.id };
        },
        delete: ({ principalId }) => {
          if (context.directory.servicePrincipal(principalId)) context.directory.deleteServicePrincipal(principalId);
        },
      },
    });
    return {
      prefix: "/arm",
      handler: async (request, response, path) => {
        if (!(await routes(request, response))) {
          sendJson(response, 404, { error: { code: "NotFound", message: `No ARM route answers /arm${path}.` } });
        }
      },
    };
  };
}

/** The value of IDENTITY_HEADER for the local tenant's identity endpoint: it stands for the secret a host rotates. */
export const localIdentityHeader = "local-tenant";

/**
 * The identity endpoint an Azure host gives its code (local/managedIdentityEndpoint.ts) for the directory's managed
 * identities: App Service's shape under `/msi` (IDENTITY_ENDPOINT=<login>/msi/token, IDENTITY_HEADER=
 * {@link localIdentityHeader}) and IMDS's at `/metadata/identity/oauth2/token`.
 */
export function managedIdentityMounts(): Mount[] {
  const mountAt =
    (prefix: string): Mount =>
    (context) => {
      const handle = managedIdentityEndpoint({
        directory: directoryIdentities(context.directory, context.admin.tenantId),
        authorityHost: () => context.endpoints.login,
        sign: (claims) => context.signToken(claims),
        identityHeader: localIdentityHeader,
        now: () => context.directory.time() / 1000,
      });
      return {
        prefix,
        handler: async (request, response) => {
          if (!(await handle(request, response))) sendJson(response, 404, { error: "not_found" });
        },
      };
    };
  return [mountAt("/msi"), mountAt("/metadata/identity")];
}

/**
 * The gateway (local/gateway.ts) under `/gateway`: every API `store` holds, with its deployed policy, forwarding to
 * the echo backend at `echoUrl`. It reads openid-config from this tenant, trusting the tenant's CA.
 */
export function gatewayMountOver(store: ArmStore, echoUrl: string): Mount {
  return (context) => {
    const handle = gatewayHandler({
      apis: () => deployedApis(store, echoUrl),
      now: () => new Date(context.directory.time()),
      authorityHost: context.endpoints.login,
      mount: gatewayMount,
      fetchDocument: async (url) => JSON.parse((await requestWithCa(url, { ca: context.ca })).text) as unknown,
    });
    return {
      prefix: gatewayMount,
      handler: async (request, response) => {
        if (!(await handle(request, response)))
          sendJson(response, 404, { statusCode: 404, message: "Resource not found" });
      },
    };
  };
}

/**
 * The process `npm run local -- start` runs in the background (`server.ts --root <dir>`): serve until SIGTERM, then
 * save and leave. It writes the pid file once listening; on a taken port it says so on stderr (`EADDRINUSE <port>`).
 */
async function serve(argv: string[]): Promise<void> {
  const rootIndex = argv.indexOf("--root");
  const paths = localTenantPaths(rootIndex >= 0 ? argv[rootIndex + 1] : undefined);
  const settings = { ...defaultSettings, ...readJson<Partial<TenantSettings>>(paths.settings) };
  const arm = ArmStore.open(join(paths.tenant, "arm.json"));
  const echo = await startEchoBackend();
  let tenant: RunningTenant;
  try {
    tenant = await startTenant({
      root: paths.root,
      now: tenantClock(process.env),
      port: settings.port,
      replicationDelaySeconds: settings.replicationDelaySeconds,
      latency: settings.latency,
      mounts: [armMount(arm), gatewayMountOver(arm, echo.url), ...managedIdentityMounts()],
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    process.stderr.write(code === "EADDRINUSE" ? `EADDRINUSE ${settings.port}\n` : `${String(error)}\n`);
    process.exit(1);
  }
  const running: PidFile = { pid: process.pid, endpoints: tenant.endpoints, caFile: tenant.caFile };
  writeFileSync(paths.pid, JSON.stringify(running), { mode: 0o600 });
  const stop = async () => {
    await Promise.all([tenant.close(), echo.close()]);
    rmSync(paths.pid, { force: true });
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
}

/**
 * The tenant's clock: the wall clock, moved by whole days to the day APIM_ENTRA_AUTH_TODAY pins for the program
 * (config/clock.ts), so that a pinned run and the tenant agree on which secrets are valid; tokens, the gateway and
 * ARM all read it. Unpinned, the wall clock itself.
 */
export function tenantClock(env: NodeJS.ProcessEnv, wallClock: () => number = Date.now): () => number {
  const day = (date: string) => Date.parse(`${date}T00:00:00Z`);
  const offset = day(today(env, new Date(wallClock()))) - day(new Date(wallClock()).toISOString().slice(0, 10));
  return offset === 0 ? wallClock : () => wallClock() + offset;
}

/** What the running tenant's pid file says. */
export interface PidFile {
  pid: number;
  endpoints: TenantEndpoints;
  caFile: string;
}

if (require.main === module) void serve(process.argv.slice(2));
