import { RunError } from "@pulumi/pulumi";
import type { z } from "zod";
import { adoptionNamesCollision, adoptionProblems } from "./adoption";
import { clientKindProblems, portalCallbackUri, userAssignmentProblems } from "./clientKinds";
import { clientLimitProblems, tierProblems } from "./clientLimits";
import { addDays } from "./clock";
import { managedIdentityProblems } from "./managedIdentity";
import { originalName } from "../components/renames";
import { issuerWithoutStraySlash } from "../entra/federatedIssuers";
import { readOpenApiDocument } from "./openApi";
import {
  type ApiEntry,
  type ApimSettings,
  type ClientEntry,
  defaultSecretLifetimeDays,
  isGuid,
  catalogueSchema,
  type CatalogueSettings,
  isPublicClient,
  nameSuffixMaxLength,
  nameSuffixPattern,
  nameSuffixRule,
  withDefaultCredentials,
} from "./schema";
import { closestKey } from "./suggest";

export const projectName = "apim-entra-auth";

/** A client secret with its lifetime filled in. */
export interface ClientSecretConfig {
  rotatedOn: string;
  lifetimeDays: number;
}

/** A validated client: `secrets` holds the list form or the shorthand alike, oldest first. */
export type ClientConfig = Omit<ClientEntry, "secrets"> & { secrets: ClientSecretConfig[] };

/** The validated catalogue of one stack: every value here has passed every check. */
export interface Catalogue {
  stackName: string;
  /** The date the checks were made against (see config/clock.ts); only warnings use it, never a resource input. */
  today: string;
  tenantId?: string;
  authorityHost: string;
  nameSuffix: string;
  protect: boolean;
  apim: ApimSettings;
  apis: ApiEntry[];
  clients: ClientConfig[];
}

/** A client's secrets, list form or shorthand, oldest first; empty unless the credential is `secret`. */
function secretsOf(client: ClientEntry): ClientSecretConfig[] {
  if (client.credential !== "secret") return [];
  const entries =
    client.secrets ??
    (client.secretRotatedOn ? [{ rotatedOn: client.secretRotatedOn, lifetimeDays: client.secretLifetimeDays }] : []);
  return entries
    .map((entry) => ({ rotatedOn: entry.rotatedOn, lifetimeDays: entry.lifetimeDays ?? defaultSecretLifetimeDays }))
    .sort((a, b) => a.rotatedOn.localeCompare(b.rotatedOn));
}

/**
 * Thrown before any resource is registered; `problems` holds one line per bad key. A RunError, so that
 * `pulumi preview` prints the message alone, without a stack trace. Given the config the problems are about,
 * every list entry they name is named by its `name` too: `apim-entra-auth:apis[1] (inventory).path`.
 */
export class ConfigError extends RunError {
  readonly problems: string[];
  constructor(
    readonly stackName: string,
    problems: string[],
    config?: unknown,
  ) {
    const named = problems.map((problem) => nameEntries(problem, config));
    super(`Invalid configuration for stack "${stackName}":\n${named.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = named;
    this.name = "ConfigError";
  }
}

/** Adds each `apis[i]` / `clients[i]` entry's name after its index, unless the problem is that very name. */
function nameEntries(problem: string, config: unknown): string {
  return problem.replace(
    new RegExp(`(${projectName}:(apis|clients)\\[(\\d+)\\])(?! \\(|\\.name:)`, "g"),
    (key: string, _prefix: string, section: string, index: string) => {
      const name = valueAt(config, [section, Number(index), "name"]);
      return typeof name === "string" && name !== "" ? `${key} (${name})` : key;
    },
  );
}

type Path = readonly PropertyKey[];

/** `["apis", 0, "name"]` → `apim-entra-auth:apis[0].name`: the key as a user writes it in a stack file. */
export function configKey(path: Path, namespace = projectName): string {
  const [top, ...rest] = path;
  const tail = rest.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`)).join("");
  return `${namespace}:${String(top ?? "")}${tail}`;
}

/** The required keys a misspelt key stands for, as `configKey` paths: their "is required" would only repeat it. */
function misspeltRequiredKeys(issues: readonly z.core.$ZodIssue[]): Set<string> {
  return new Set(
    issues.flatMap((issue) => {
      if (issue.code !== "unrecognized_keys") return [];
      const allowed = allowedKeysAt(issue.path, catalogueSchema);
      return issue.keys.flatMap((key) => {
        const near = closestKey(key, allowed);
        return near ? [configKey([...issue.path, near])] : [];
      });
    }),
  );
}

/** One line per zod issue, naming the key as written in a stack file of the project `namespace`. */
export function describeIssue(
  issue: z.core.$ZodIssue,
  raw: Record<string, unknown>,
  root: { shape: Record<string, unknown> } = catalogueSchema,
  namespace = projectName,
): string {
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(issue.path, root);
    return issue.keys
      .map((key) => {
        const near = closestKey(key, allowed);
        const hint = near ? ` — did you mean "${near}"?` : ".";
        return `${configKey([...issue.path, key], namespace)}: unknown key${hint} Allowed keys: ${allowed.join(", ")}.`;
      })
      .join("\n  - ");
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return `${configKey(issue.path, namespace)}: is required (expected ${issue.expected}).`;
  }
  const input = valueAt(raw, issue.path);
  if (issue.code === "invalid_type" && issue.expected === "array" && input && typeof input === "object") {
    const [key = "name", value] = Object.entries(input)[0] ?? [];
    const example = `- ${key}: ${typeof value === "string" ? value : "…"}`;
    return `${configKey(issue.path, namespace)}: is written as a map but must be a list: start each item with \`- \` (e.g. \`${example}\`).`;
  }
  const shown = issue.message.includes("is not allowed") ? "" : ` (got ${JSON.stringify(valueAt(raw, issue.path))})`;
  return `${configKey(issue.path, namespace)}: ${issue.message}${shown}`;
}

function valueAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (node, key) => (node && typeof node === "object" ? (node as Record<PropertyKey, unknown>)[key] : undefined),
    root,
  );
}

function allowedKeysAt(path: Path, root: { shape: Record<string, unknown> }): string[] {
  const [top] = path;
  const shape = root.shape;
  const section = shape[top as keyof typeof shape];
  if (path.length === 0) return Object.keys(shape);
  let node: unknown = section;
  for (const part of path.slice(1)) {
    node = unwrap(node);
    if (typeof part === "number") node = (node as { element?: unknown }).element;
    else {
      const container = node as { shape?: Record<string, unknown>; valueType?: unknown };
      node = container.shape ? container.shape[String(part)] : container.valueType;
    }
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

/** The end of a sentence about an unknown name: ` — did you mean "orders"?` when one of `names` is close, else ".". */
export function endWithSuggestion(value: string, names: readonly string[]): string {
  const near = closestKey(value, names);
  return near ? ` — did you mean "${near}"?` : ".";
}

function duplicates(values: string[]): string[] {
  return [...new Set(values.filter((value, index) => values.indexOf(value) !== index))];
}

/** The problems of one client's secrets: form, count, uniqueness, and dates against `today`. */
function secretProblems(client: ClientEntry, index: number, today: string): string[] {
  const problems: string[] = [];
  const usesShorthand = client.secretRotatedOn !== undefined || client.secretLifetimeDays !== undefined;
  if (client.credential !== "secret") {
    if (client.secrets) {
      problems.push(
        `${configKey(["clients", index, "secrets"])}: only applies to credential "secret" (this client has "${client.credential}"); remove it.`,
      );
    }
    return problems;
  }
  if (client.secrets && usesShorthand) {
    return [
      `${configKey(["clients", index, "secrets"])}: is given together with secretRotatedOn/secretLifetimeDays; use one form: move the shorthand into the list as { rotatedOn, lifetimeDays }, or remove the list.`,
    ];
  }
  if (!client.secrets && client.secretRotatedOn === undefined) {
    return [
      `${configKey(["clients", index, "secretRotatedOn"])}: is required with credential "secret": the date (YYYY-MM-DD) the secret is issued (or list one or two in secrets); change it to rotate the secret.`,
    ];
  }
  if (client.secrets && (client.secrets.length === 0 || client.secrets.length > 2)) {
    return [
      `${configKey(["clients", index, "secrets"])}: ${client.secrets.length} entries is not allowed; list one secret, or two during a rotation (the current one and the next), and remove the older entry once every consumer uses the newer.`,
    ];
  }
  for (const date of duplicates((client.secrets ?? []).map((secret) => secret.rotatedOn))) {
    problems.push(
      `${configKey(["clients", index, "secrets"])}: the rotatedOn "${date}" is used by more than one entry; each secret needs a date of its own (it names the secret).`,
    );
  }
  const secrets = secretsOf(client);
  const valid = secrets.filter((secret) => addDays(secret.rotatedOn, secret.lifetimeDays) > today);
  const keyOf = (rotatedOn: string) =>
    client.secrets
      ? configKey([
          "clients",
          index,
          "secrets",
          client.secrets.findIndex((s) => s.rotatedOn === rotatedOn),
          "rotatedOn",
        ])
      : configKey(["clients", index, "secretRotatedOn"]);
  for (const secret of secrets) {
    const endDate = addDays(secret.rotatedOn, secret.lifetimeDays);
    if (secret.rotatedOn > today) {
      // A later date would move the end date past the lifetime the config states: the secret would outlive it.
      problems.push(
        `${keyOf(secret.rotatedOn)}: "${secret.rotatedOn}" is in the future (today is ${today}); use the day the secret is issued, at the latest today, so it expires after its lifetime and not later.`,
      );
    } else if (endDate <= today) {
      // Entra refuses a credential whose end date has passed (terraform-provider-azuread #201), so refuse it first.
      const other = valid.find((candidate) => candidate.rotatedOn !== secret.rotatedOn);
      const fix = other
        ? `remove this entry: the secret rotated ${other.rotatedOn} is still valid`
        : `rotate: add an entry with today's date (${today}) to secrets, move consumers to it, then remove this one`;
      problems.push(
        `${keyOf(secret.rotatedOn)}: the secret issued "${secret.rotatedOn}" expired on ${endDate} (lifetime ${secret.lifetimeDays} days, today is ${today}); ${fix}.`,
      );
    }
  }
  return problems;
}

/** The problems of one client's federated credentials that Entra would only report at creation or exchange. */
function federatedProblems(client: ClientEntry, index: number): string[] {
  const problems: string[] = [];
  const credentials = client.federatedCredentials ?? [];
  for (const name of duplicates(credentials.map((credential) => credential.name))) {
    problems.push(
      `${configKey(["clients", index, "federatedCredentials"])}: the name "${name}" is used more than once.`,
    );
  }
  credentials.forEach((credential, position) => {
    const key = configKey(["clients", index, "federatedCredentials", position]);
    const first = credentials.findIndex((c) => c.issuer === credential.issuer && c.subject === credential.subject);
    if (first !== position) {
      // Entra allows one credential per issuer and subject on an app (federated-credential-configuration-considerations).
      problems.push(
        `${key}: issuer "${credential.issuer}" and subject "${credential.subject}" are already used by federatedCredentials[${first}]; Entra allows each issuer and subject pair once per app: remove one.`,
      );
    }
    const issuer = issuerWithoutStraySlash(credential.issuer);
    if (issuer) {
      problems.push(
        `${key}.issuer: "${credential.issuer}" is not allowed; its tokens carry the issuer "${issuer}" and Entra compares issuers exactly: use "${issuer}".`,
      );
    }
  });
  return problems;
}

/** The developer portal's clients: dedicated on protected stacks, and a client marked `portal` is used for nothing else. */
function portalProblems(settings: CatalogueSettings): string[] {
  const problems: string[] = [];
  const servers = settings.apis.flatMap((api, index) =>
    api.authorizationServer?.enabled
      ? [{ api: api.name, apiId: originalName(api), index, client: api.authorizationServer.client }]
      : [],
  );
  for (const server of servers) {
    const client = settings.clients.find((entry) => entry.name === server.client);
    const key = configKey(["apis", server.index, "authorizationServer", "client"]);
    if (settings.protect && client && client.portal !== true) {
      problems.push(
        `${key}: "${server.client}" is not marked portal: true; with protect: true the developer portal needs a client of its own, because APIM holds its secret and the test console hands out its tokens without asking for credentials: add a client with portal: true, granted only "${server.api}", and name it here.`,
      );
    }
    if (settings.protect && client?.kind === "daemon") {
      // APIM "Security considerations" for OAuth 2.0: a client-credentials portal hands every visitor an app token.
      const callback = portalCallbackUri(settings.apim.serviceName, server.apiId);
      problems.push(
        `${key}: "${server.client}" is a daemon, so the developer portal's test console would hand every visitor its app token without asking who they are; with protect: true the portal must sign developers in: set kind: web on "${server.client}", add ${callback} to its redirectUris, add "users" to ${configKey(["apis", server.index, "callers"])} and the developers' users or groups to its assignedPrincipals; or set authorizationServer.enabled: false.`,
      );
    }
  }
  settings.clients.forEach((client, index) => {
    if (client.portal !== true) return;
    const naming = servers.filter((server) => server.client === client.name);
    if (naming.length === 0) {
      problems.push(
        `${configKey(["clients", index, "portal"])}: "${client.name}" is marked as the portal's client, but no API's authorizationServer names it; name it there or remove portal: true.`,
      );
      return;
    }
    if (naming.length > 1) {
      problems.push(
        `${configKey(["clients", index, "portal"])}: "${client.name}" is named by the authorizationServer of ${naming.map((server) => `"${server.api}"`).join(" and ")}; a portal client is used for nothing else, so give each API's portal a client of its own.`,
      );
      return;
    }
    const portalApi = naming[0]?.api;
    client.apis.forEach((apiName, position) => {
      if (apiName === portalApi) return;
      problems.push(
        `${configKey(["clients", index, "apis", position])}: "${apiName}" is not allowed; "${client.name}" is the portal's client for "${portalApi}" and is used for nothing else: grant "${apiName}" to another client.`,
      );
    });
  });
  return problems;
}

/** Checks that span entries: names, references between APIs and clients, and tier limits. */
function crossChecks(settings: CatalogueSettings, today: string, stack: string): string[] {
  const problems: string[] = [];
  const apiNames = settings.apis.map((api) => api.name);
  const clientNames = settings.clients.map((client) => client.name);
  const clientsByName = new Map(settings.clients.map((client) => [client.name, client]));

  for (const name of duplicates(apiNames)) {
    problems.push(`${configKey(["apis"])}: the name "${name}" is used by more than one API; names must be unique.`);
  }
  const paths = settings.apis.map((api) => api.path.toLowerCase());
  settings.apis.forEach((api, index) => {
    const first = paths.indexOf(api.path.toLowerCase());
    if (first === index) return;
    problems.push(
      `${configKey(["apis", index, "path"])}: "${api.path}" is already the path of ${configKey(["apis", first])}; APIM paths must be unique (letter case aside).`,
    );
  });
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
  // Every later check finds entries by name: with a name used twice it would judge the wrong entry.
  if (duplicates(apiNames).length > 0 || duplicates(clientNames).length > 0) return problems;

  settings.apis.forEach((api, index) => {
    // An adopted role or scope that takes the other's value is refused by adoptionProblems, with the adopter's fix.
    if (api.appRole.toLowerCase() === api.scope.toLowerCase() && !adoptionNamesCollision(api)) {
      problems.push(
        `${configKey(["apis", index, "scope"])}: "${api.scope}" equals the appRole value; an app's roles and scopes share one namespace, so give them different values (e.g. appRole "access_as_app", scope "access_as_user").`,
      );
    }
    const grantedClients = settings.clients.filter((client) => client.apis.includes(api.name));
    const openApi = api.openApiFile ? readOpenApiDocument(api.openApiFile) : undefined;
    if (openApi && "problem" in openApi) {
      problems.push(`${configKey(["apis", index, "openApiFile"])}: ${openApi.problem}`);
    }
    api.allowedClients?.forEach((allowed, position) => {
      if (!isGuid(allowed) && !clientsByName.has(allowed)) {
        problems.push(
          `${configKey(["apis", index, "allowedClients", position])}: "${allowed}" is neither a client in ${configKey(["clients"])} (${clientNames.join(", ") || "none declared"}) nor a client id GUID${endWithSuggestion(allowed, clientNames)}`,
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
          `${configKey(["apis", index, "authorizationServer", "client"])}: "${server.client}" is not a client in ${configKey(["clients"])} (${clientNames.join(", ") || "none declared"})${endWithSuggestion(server.client, clientNames)}`,
        );
      } else if (client.credential !== "secret") {
        // APIM's OAuth 2.0 server stores a client secret for either flow it is given here.
        const flow = client.kind === "web" ? "authorization-code sign-in" : "client-credentials flow";
        problems.push(
          `${configKey(["apis", index, "authorizationServer", "client"])}: "${server.client}" has credential "${client.credential}"; the developer portal's ${flow} needs a client with credential "secret".`,
        );
      } else if (!client.apis.includes(api.name)) {
        const carried = client.kind === "web" ? "the scope" : "the role";
        problems.push(
          `${configKey(["apis", index, "authorizationServer", "client"])}: "${server.client}" is not granted "${api.name}"; add "${api.name}" to its apis so its tokens carry ${carried}.`,
        );
      }
      if (settings.apim.create?.sku === "Consumption") problems.push(consumptionPortalProblem(index, "create"));
    }
  });

  settings.clients.forEach((client, index) => {
    client.apis.forEach((apiName, position) => {
      if (!apiNames.includes(apiName)) {
        problems.push(
          `${configKey(["clients", index, "apis", position])}: "${apiName}" is not an API in ${configKey(["apis"])} (${apiNames.join(", ")})${endWithSuggestion(apiName, apiNames)}`,
        );
      }
    });
    client.apis.forEach((apiName, position) => {
      const apiIndex = settings.apis.findIndex((api) => api.name === apiName);
      const allowed = settings.apis[apiIndex]?.allowedClients;
      if (allowed && !allowed.includes(client.name)) {
        problems.push(
          `${configKey(["clients", index, "apis", position])}: "${apiName}" accepts only the clients in ${configKey(["apis", apiIndex, "allowedClients"])} (${allowed.join(", ")}), so "${client.name}" would get a token the gateway refuses; add "${client.name}" there or remove the grant.`,
        );
      }
    });
    for (const apiName of duplicates(client.apis)) {
      problems.push(`${configKey(["clients", index, "apis"])}: "${apiName}" is listed more than once.`);
    }
    // A spa or native client's credential keys are refused for its kind alone (clientKindProblems), a managed
    // identity's too (managedIdentityProblems).
    if (isPublicClient(client.kind) || client.kind === "managedIdentity") return;
    problems.push(...secretProblems(client, index, today));
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
    problems.push(...federatedProblems(client, index));
  });
  problems.push(...portalProblems(settings));
  problems.push(...managedIdentityProblems(settings, settings.nameSuffix ?? stack));

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
  problems.push(...userAssignmentProblems(settings));
  problems.push(...adoptionProblems(settings));
  problems.push(...clientLimitProblems(settings));
  return problems;
}

function consumptionPortalProblem(apiIndex: number, service: "create" | string): string {
  const where =
    service === "create"
      ? `choose another sku in ${configKey(["apim", "create", "sku"])}`
      : `the existing service ${service} is on it`;
  return `${configKey(["apis", apiIndex, "authorizationServer"])}: the Consumption tier has no developer portal, so it has no OAuth 2.0 authorization servers (${where}); set enabled: false.`;
}

/**
 * Stops when the existing service found by lookup is on a tier without what an API asks for: the portal's
 * authorization server (not on Consumption) or the policies its client limits need.
 */
export function assertServiceTier(config: Catalogue, skuName: string): void {
  const remedy = `the existing service ${config.apim.serviceName} is on it`;
  const problems = config.apis.flatMap((api, index) => [
    ...(skuName === "Consumption" && api.authorizationServer?.enabled
      ? [consumptionPortalProblem(index, config.apim.serviceName)]
      : []),
    ...tierProblems(api, index, skuName, remedy),
  ]);
  if (problems.length > 0) throw new ConfigError(config.stackName, problems, config);
}

/** Why the stack's name cannot be the default nameSuffix, with a suffix to set instead; none when it can. */
function stackNameSuffixProblems(stack: string): string[] {
  if (nameSuffixPattern.test(stack)) return [];
  const length = [...stack].length;
  const refused = [...new Set(stack.replace(/[A-Za-z0-9-]/g, ""))].map((character) => JSON.stringify(character));
  const listed = refused.length > 1 ? `${refused.slice(0, -1).join(", ")} and ${refused.at(-1)}` : refused[0];
  const faults = [
    ...(listed ? [`${listed} ${refused.length === 1 ? "is" : "are"} not allowed`] : []),
    ...(length > nameSuffixMaxLength ? [`it has ${length} characters`] : []),
  ];
  const suggestion = stack
    .replace(/[^A-Za-z0-9-]+/g, "-")
    .slice(0, nameSuffixMaxLength)
    .replace(/^-+|-+$/g, "");
  const example = suggestion ? `, e.g. "${suggestion}"` : "";
  return [
    `${configKey(["nameSuffix"])}: is not set, so it would be the stack name "${stack}", which is not a valid nameSuffix (${faults.join("; ")}); it takes ${nameSuffixRule}, so set ${configKey(["nameSuffix"])}${example}.`,
  ];
}

/**
 * Validates a stack's raw configuration (as read from Pulumi config) and fills in defaults. `today`
 * (`YYYY-MM-DD`) is the date secrets are checked against. Throws {@link ConfigError} naming every bad key, its
 * value and the allowed form.
 */
export function validateCatalogue(raw: Record<string, unknown>, stack: string, today: string): Catalogue {
  // First: a stack name that cannot be the default suffix is the one problem a new stack may have before any edit.
  const stackName = raw.nameSuffix === undefined ? stackNameSuffixProblems(stack) : [];
  const parsed = catalogueSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const misspelt = misspeltRequiredKeys(parsed.error.issues);
    const issues = parsed.error.issues.filter(
      (issue) => !(issue.code === "invalid_type" && issue.input === undefined && misspelt.has(configKey(issue.path))),
    );
    throw new ConfigError(stack, [...stackName, ...issues.map((issue) => describeIssue(issue, raw))], raw);
  }
  const settings = withDefaultCredentials(parsed.data);
  const problems = [...stackName, ...crossChecks(settings, today, stack)];
  if (problems.length > 0) throw new ConfigError(stack, problems, raw);
  const { nameSuffix, authorityHost, clients, ...rest } = settings;
  return {
    ...rest,
    clients: clients.map((client) => ({ ...client, secrets: secretsOf(client) })),
    stackName: stack,
    today,
    authorityHost: authorityHost.replace(/\/+$/, ""),
    nameSuffix: nameSuffix ?? stack,
  };
}
