import * as fs from "node:fs";
import { RunError } from "@pulumi/pulumi";
import type { z } from "zod";
import { clientKindProblems } from "./clientKinds";
import { type ApiEntry, type ApimSettings, type ClientEntry, isGuid, stackSettings } from "./schema";

export const projectName = "apim-entra-auth";

/** The validated catalogue of one stack: every value here has passed every check. */
export interface StackConfig {
  stackName: string;
  tenantId?: string;
  authorityHost: string;
  nameSuffix: string;
  protect: boolean;
  apim: ApimSettings;
  apis: ApiEntry[];
  clients: ClientEntry[];
}

/**
 * Thrown before any resource is registered; `problems` holds one line per bad key. A RunError, so that
 * `pulumi preview` prints the message alone, without a stack trace.
 */
export class ConfigError extends RunError {
  constructor(
    readonly stackName: string,
    readonly problems: string[],
  ) {
    super(`Invalid configuration for stack "${stackName}":\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Path = readonly PropertyKey[];

/** `["apis", 0, "name"]` → `apim-entra-auth:apis[0].name`: the key as a user writes it in a stack file. */
export function configKey(path: Path): string {
  const [top, ...rest] = path;
  const tail = rest.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`)).join("");
  return `${projectName}:${String(top ?? "")}${tail}`;
}

function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(issue.path);
    return issue.keys
      .map((key) => {
        const near = allowed.find((candidate) => candidate.toLowerCase() === key.toLowerCase());
        const hint = near ? ` — did you mean "${near}"?` : ".";
        return `${configKey([...issue.path, key])}: unknown key${hint} Allowed keys: ${allowed.join(", ")}.`;
      })
      .join("\n  - ");
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return `${configKey(issue.path)}: is required (expected ${issue.expected}).`;
  }
  const shown = issue.message.includes("is not allowed") ? "" : ` (got ${JSON.stringify(valueAt(raw, issue.path))})`;
  return `${configKey(issue.path)}: ${issue.message}${shown}`;
}

function valueAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (node, key) => (node && typeof node === "object" ? (node as Record<PropertyKey, unknown>)[key] : undefined),
    root,
  );
}

function allowedKeysAt(path: Path): string[] {
  const [top] = path;
  const shape = stackSettings.shape;
  const section = shape[top as keyof typeof shape];
  if (path.length === 0) return Object.keys(shape);
  let node: unknown = section;
  for (const part of path.slice(1)) {
    node = unwrap(node);
    if (typeof part === "number") node = (node as { element?: unknown }).element;
    else node = (node as { shape?: Record<string, unknown> }).shape?.[String(part)];
  }
  const object = unwrap(node) as { shape?: Record<string, unknown> } | undefined;
  return Object.keys(object?.shape ?? {});
}

function unwrap(node: unknown): unknown {
  let current = node as { unwrap?: () => unknown; element?: unknown; shape?: unknown } | undefined;
  while (current && !current.shape && !current.element && typeof current.unwrap === "function") {
    current = current.unwrap() as typeof current;
  }
  return current;
}

function duplicates(values: string[]): string[] {
  return [...new Set(values.filter((value, index) => values.indexOf(value) !== index))];
}

/** Checks that span entries: names, references between APIs and clients, and tier limits. */
function crossChecks(settings: z.output<typeof stackSettings>): string[] {
  const problems: string[] = [];
  const apiNames = settings.apis.map((api) => api.name);
  const clientNames = settings.clients.map((client) => client.name);
  const clientsByName = new Map(settings.clients.map((client) => [client.name, client]));

  for (const name of duplicates(apiNames)) {
    problems.push(`${configKey(["apis"])}: the name "${name}" is used by more than one API; names must be unique.`);
  }
  for (const path of duplicates(settings.apis.map((api) => api.path.toLowerCase()))) {
    problems.push(
      `${configKey(["apis"])}: the path "${path}" is used by more than one API; APIM paths must be unique.`,
    );
  }
  for (const [section, entries] of [
    ["apis", settings.apis],
    ["clients", settings.clients],
  ] as const) {
    const current = entries.map((entry) => entry.name);
    const former = entries.flatMap((entry) => entry.formerNames ?? []);
    entries.forEach((entry, index) => {
      for (const formerName of entry.formerNames ?? []) {
        if (formerName === entry.name || current.includes(formerName)) {
          problems.push(
            `${configKey([section, index, "formerNames"])}: "${formerName}" is a current name; list only names no entry uses now.`,
          );
        }
      }
    });
    for (const name of duplicates(former)) {
      problems.push(`${configKey([section])}: the former name "${name}" is listed by more than one entry.`);
    }
  }
  for (const name of duplicates(clientNames)) {
    problems.push(
      `${configKey(["clients"])}: the name "${name}" is used by more than one client; names must be unique.`,
    );
  }

  settings.apis.forEach((api, index) => {
    if (api.appRole.toLowerCase() === api.scope.toLowerCase()) {
      problems.push(
        `${configKey(["apis", index, "scope"])}: "${api.scope}" equals the appRole value; an app's roles and scopes share one namespace, so give them different values (e.g. appRole "access_as_app", scope "access_as_user").`,
      );
    }
    const grantedClients = settings.clients.filter((client) => client.apis.includes(api.name));
    if (api.openApiFile && !fs.existsSync(api.openApiFile)) {
      problems.push(
        `${configKey(["apis", index, "openApiFile"])}: "${api.openApiFile}" does not exist; give a path relative to the project directory (${process.cwd()}).`,
      );
    }
    api.allowedClients?.forEach((allowed, position) => {
      if (!isGuid(allowed) && !clientsByName.has(allowed)) {
        problems.push(
          `${configKey(["apis", index, "allowedClients", position])}: "${allowed}" is neither a client in ${configKey(["clients"])} (${clientNames.join(", ") || "none declared"}) nor a client id GUID.`,
        );
      }
    });
    if (api.validation === "validate-azure-ad-token" && !api.allowedClients?.length && grantedClients.length === 0) {
      problems.push(
        `${configKey(["apis", index, "validation"])}: "validate-azure-ad-token" needs client application ids; grant the API to a client or set allowedClients.`,
      );
    }
    const server = api.authorizationServer;
    if (server?.enabled) {
      const client = clientsByName.get(server.client);
      if (!client) {
        problems.push(
          `${configKey(["apis", index, "authorizationServer", "client"])}: "${server.client}" is not a client in ${configKey(["clients"])} (${clientNames.join(", ") || "none declared"}).`,
        );
      } else if (client.credential !== "secret") {
        problems.push(
          `${configKey(["apis", index, "authorizationServer", "client"])}: "${server.client}" has credential "${client.credential}"; the developer portal's client-credentials flow needs a client with credential "secret".`,
        );
      } else if (!client.apis.includes(api.name)) {
        problems.push(
          `${configKey(["apis", index, "authorizationServer", "client"])}: "${server.client}" is not granted "${api.name}"; add "${api.name}" to its apis so its tokens carry the role.`,
        );
      }
      if (settings.apim.create?.sku === "Consumption") problems.push(consumptionPortalProblem(index, "create"));
    }
  });

  settings.clients.forEach((client, index) => {
    client.apis.forEach((apiName, position) => {
      if (!apiNames.includes(apiName)) {
        problems.push(
          `${configKey(["clients", index, "apis", position])}: "${apiName}" is not an API in ${configKey(["apis"])} (${apiNames.join(", ")}).`,
        );
      }
    });
    for (const apiName of duplicates(client.apis)) {
      problems.push(`${configKey(["clients", index, "apis"])}: "${apiName}" is listed more than once.`);
    }
    if (client.credential === "secret" && !client.secretRotatedOn) {
      problems.push(
        `${configKey(["clients", index, "secretRotatedOn"])}: is required with credential "secret": the date (YYYY-MM-DD) the secret is issued; change it to rotate the secret.`,
      );
    }
    if (client.credential !== "secret" && client.secretRotatedOn) {
      problems.push(
        `${configKey(["clients", index, "secretRotatedOn"])}: only applies to credential "secret" (this client has "${client.credential}"); remove it.`,
      );
    }
    if (client.credential === "federated" && !client.federatedCredentials?.length) {
      problems.push(
        `${configKey(["clients", index, "federatedCredentials"])}: is required with credential "federated": a list of { name, issuer, subject }.`,
      );
    }
    if (client.credential !== "federated" && client.federatedCredentials?.length) {
      problems.push(
        `${configKey(["clients", index, "federatedCredentials"])}: only applies to credential "federated" (this client has "${client.credential}"); remove it or change credential.`,
      );
    }
    for (const name of duplicates((client.federatedCredentials ?? []).map((credential) => credential.name))) {
      problems.push(
        `${configKey(["clients", index, "federatedCredentials"])}: the name "${name}" is used more than once.`,
      );
    }
  });

  const create = settings.apim.create;
  if (create?.sku === "Consumption" && (create.capacity ?? 0) !== 0) {
    problems.push(
      `${configKey(["apim", "create", "capacity"])}: ${create.capacity} is not allowed; the Consumption tier needs capacity 0.`,
    );
  }
  if (create && create.sku !== "Consumption" && create.capacity === 0) {
    problems.push(
      `${configKey(["apim", "create", "capacity"])}: 0 is not allowed; the ${create.sku} tier needs capacity 1 or more.`,
    );
  }
  problems.push(...clientKindProblems(settings));
  return problems;
}

function consumptionPortalProblem(apiIndex: number, service: "create" | string): string {
  const where =
    service === "create"
      ? `choose another sku in ${configKey(["apim", "create", "sku"])}`
      : `the existing service ${service} is on it`;
  return `${configKey(["apis", apiIndex, "authorizationServer"])}: the Consumption tier has no developer portal, so it has no OAuth 2.0 authorization servers (${where}); set enabled: false.`;
}

/** Stops when an API asks for the portal's authorization server on a Consumption service found by lookup. */
export function assertPortalTier(config: StackConfig, skuName: string): void {
  if (skuName !== "Consumption") return;
  const problems = config.apis.flatMap((api, index) =>
    api.authorizationServer?.enabled ? [consumptionPortalProblem(index, config.apim.serviceName)] : [],
  );
  if (problems.length > 0) throw new ConfigError(config.stackName, problems);
}

/**
 * Validates a stack's raw configuration (as read from Pulumi config) and fills in defaults.
 * Throws {@link ConfigError} naming every bad key, its value and the allowed form.
 */
export function validateStackConfig(raw: Record<string, unknown>, stack: string): StackConfig {
  const parsed = stackSettings.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(
      stack,
      parsed.error.issues.map((issue) => describeIssue(issue, raw)),
    );
  }
  const problems = crossChecks(parsed.data);
  if (problems.length > 0) throw new ConfigError(stack, problems);
  const { nameSuffix, authorityHost, ...rest } = parsed.data;
  return {
    ...rest,
    stackName: stack,
    authorityHost: authorityHost.replace(/\/+$/, ""),
    nameSuffix: nameSuffix ?? stack,
  };
}
