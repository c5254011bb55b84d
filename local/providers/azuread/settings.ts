import { reveal } from "./properties";

/** How this provider reaches the tenant: the real provider's settings it honours. */
export interface ProviderSettings {
  metadataHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/**
 * The provider's configuration as the real one resolves it: the stack's `azuread:*` config, else the environment
 * variable terraform-provider-azuread internal/provider/provider.go names for it. Only what a local tenant needs is
 * honoured; anything pointing elsewhere is refused before a request is made.
 */
export function resolveSettings(config: Record<string, unknown>, env: NodeJS.ProcessEnv): ProviderSettings {
  const value = (key: string, variable: string) => {
    const configured = reveal(config[key]);
    return typeof configured === "string" && configured !== "" ? configured : (env[variable] ?? "");
  };
  const settings = {
    metadataHost: value("metadataHost", "ARM_METADATA_HOSTNAME"),
    tenantId: value("tenantId", "ARM_TENANT_ID"),
    clientId: value("clientId", "ARM_CLIENT_ID"),
    clientSecret: value("clientSecret", "ARM_CLIENT_SECRET"),
  };
  if (!settings.metadataHost) {
    throw new Error(
      "azuread (local tenant provider): no metadata host. Set azuread:metadataHost or ARM_METADATA_HOSTNAME to the " +
        "local tenant's <host>:<port>; this provider never talks to a public cloud.",
    );
  }
  const missing = [
    ["tenantId", "ARM_TENANT_ID"],
    ["clientId", "ARM_CLIENT_ID"],
    ["clientSecret", "ARM_CLIENT_SECRET"],
  ].filter(([key]) => !settings[key as keyof ProviderSettings]);
  if (missing.length > 0) {
    throw new Error(
      `azuread (local tenant provider): authenticates with a client secret only; missing ${missing
        .map(([key, variable]) => `azuread:${key} (or ${variable})`)
        .join(", ")}.`,
    );
  }
  return settings;
}

/** Configure's variables (`azuread:config:<key>`) and args, as one map of keys; args win. */
export function configFromRequest(
  variables: Map<string, string>,
  args: Record<string, unknown>,
): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, value] of variables) {
    const name = key.startsWith("azuread:config:") ? key.slice("azuread:config:".length) : key;
    config[name] = value;
  }
  return { ...config, ...args };
}
