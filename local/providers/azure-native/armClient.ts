import { reveal } from "./values";

/** What ARM answered: its status and JSON body (undefined when empty). */
export interface ArmAnswer {
  status: number;
  body: Record<string, unknown> | undefined;
}

/** Authenticated access to one subscription's ARM endpoint. */
export interface ArmConnection {
  subscriptionId: string;
  /** `path` is an ARM id or collection path with its query (api-version). */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ArmAnswer>;
}

/** The provider's settings: `azure-native:<key>` config, else the environment variable the real provider reads. */
export interface ProviderSettings {
  metadataHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
}

const settingSources: Record<keyof ProviderSettings, string> = {
  metadataHost: "ARM_METADATA_HOSTNAME",
  tenantId: "ARM_TENANT_ID",
  clientId: "ARM_CLIENT_ID",
  clientSecret: "ARM_CLIENT_SECRET",
  subscriptionId: "ARM_SUBSCRIPTION_ID",
};

/**
 * The settings from Configure's arguments and the environment, as the real provider takes them (provider config
 * first). Every one is required: this provider serves only a local tenant, so it never falls back to Azure's public
 * cloud or to another credential.
 */
export function providerSettings(config: Record<string, unknown>, env: NodeJS.ProcessEnv): ProviderSettings {
  const missing: string[] = [];
  const settings = Object.fromEntries(
    Object.entries(settingSources).map(([key, variable]) => {
      const value = reveal(config[key]) ?? env[variable];
      if (typeof value !== "string" || value === "") missing.push(`azure-native:${key} (or ${variable})`);
      return [key, typeof value === "string" ? value : ""];
    }),
  ) as unknown as ProviderSettings;
  if (missing.length > 0) {
    throw new Error(
      `The local azure-native provider needs ${missing.join(", ")}; it deploys only to a local tenant (npm run local sets them).`,
    );
  }
  return settings;
}

/** The cloud endpoints a metadata host names (the 2022-09-01 metadata document). */
export interface CloudEndpoints {
  loginEndpoint: string;
  resourceManager: string;
  /** The audience tokens for ARM are requested for. */
  resourceManagerAudience: string;
}

type Fetch = typeof fetch;

/**
 * Reads `https://<host>/metadata/endpoints?api-version=2022-09-01`, as the real providers do: an array of clouds (the
 * one whose resourceManager is on the metadata host, else the only one) or a single cloud.
 */
export async function discoverEndpoints(metadataHost: string, fetchImpl: Fetch = fetch): Promise<CloudEndpoints> {
  const url = `https://${metadataHost}/metadata/endpoints?api-version=2022-09-01`;
  const response = await fetchImpl(url, { headers: { accept: "application/json" }, redirect: "error" });
  if (!response.ok) throw new Error(`The metadata document ${url} answered HTTP ${response.status}.`);
  const document = (await response.json()) as unknown;
  type Cloud = { resourceManager?: string; authentication?: { loginEndpoint?: string; audiences?: string[] } };
  const clouds = (Array.isArray(document) ? document : [document]) as Cloud[];
  const cloud =
    clouds.find((candidate) => candidate.resourceManager && new URL(candidate.resourceManager).host === metadataHost) ??
    (clouds.length === 1 ? clouds[0] : undefined);
  const loginEndpoint = cloud?.authentication?.loginEndpoint;
  const resourceManager = cloud?.resourceManager;
  const audience = cloud?.authentication?.audiences?.[0];
  if (!loginEndpoint || !resourceManager || !audience) {
    throw new Error(
      `The metadata document ${url} names no cloud with authentication.loginEndpoint, authentication.audiences and resourceManager.`,
    );
  }
  return {
    loginEndpoint: loginEndpoint.replace(/\/+$/, ""),
    resourceManager: resourceManager.replace(/\/+$/, ""),
    resourceManagerAudience: audience,
  };
}

/** `<audience>/.default`, as Azure's SDKs form the scope (`https://management.core.windows.net//.default`). */
export const armScope = (audience: string) => `${audience}/.default`;

/** A client-credentials token source for ARM, renewed five minutes before it expires. */
export function clientCredentials(settings: ProviderSettings, endpoints: CloudEndpoints, fetchImpl: Fetch = fetch) {
  let cached: { token: string; renewAt: number } | undefined;
  return async (): Promise<string> => {
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const tokenUrl = `${endpoints.loginEndpoint}/${settings.tenantId}/oauth2/v2.0/token`;
    const response = await fetchImpl(tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: settings.clientId,
        client_secret: settings.clientSecret,
        scope: armScope(endpoints.resourceManagerAudience),
      }),
    });
    const answer = (await response.json()) as {
      access_token?: string;
      expires_in?: number;
      error_description?: string;
    };
    if (!response.ok || !answer.access_token) {
      throw new Error(
        `Getting a token for ARM from ${tokenUrl} failed: ${answer.error_description ?? `HTTP ${response.status}`}`,
      );
    }
    cached = {
      token: answer.access_token,
      renewAt: Date.now() + Math.max(0, (answer.expires_in ?? 3600) - 300) * 1000,
    };
    return cached.token;
  };
}

/** ARM at a base URL with a bearer token from `token()`. */
export function armConnection(
  baseUrl: string,
  subscriptionId: string,
  token: () => Promise<string>,
  fetchImpl: Fetch = fetch,
): ArmConnection {
  return {
    subscriptionId,
    async request(method, path, body, headers = {}) {
      const response = await fetchImpl(`${baseUrl.replace(/\/+$/, "")}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await token()}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
    },
  };
}

/** Discovery, credentials and ARM for the provider's settings. */
export async function connect(settings: ProviderSettings, fetchImpl: Fetch = fetch): Promise<ArmConnection> {
  const endpoints = await discoverEndpoints(settings.metadataHost, fetchImpl);
  return armConnection(
    endpoints.resourceManager,
    settings.subscriptionId,
    clientCredentials(settings, endpoints, fetchImpl),
    fetchImpl,
  );
}

/** An ARM error answer as the real provider words it: `Status=<n> Code="<code>" Message="<message>"`. */
export function armFailure(method: string, path: string, answer: ArmAnswer): Error {
  const error = (answer.body?.error ?? {}) as {
    code?: string;
    message?: string;
    details?: { target?: string; message?: string }[];
  };
  const details = (error.details ?? []).map(
    (detail) => ` ${detail.target ? `${detail.target}: ` : ""}${detail.message ?? ""}`,
  );
  return new Error(
    `${method} ${path.split("?")[0]}: Status=${answer.status} Code="${error.code ?? "Unknown"}" Message="${error.message ?? ""}"${details.join(";")}`,
  );
}
