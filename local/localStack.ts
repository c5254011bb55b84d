// A local run of one of the project's stacks: the stack file checked by the program's own rules, the CLI, the tenant,
// our two providers at the versions the SDKs request, the APIM service the stack names as existing, and the shadow
// project (local/shadowProject.ts) the CLI runs in, with an environment that points the providers at the tenant. A
// local run changes where things live, never the catalogue.
import * as fs from "node:fs";
import * as path from "node:path";
import { today } from "../config/clock";
import { ConfigError, projectName, validateCatalogue, type Catalogue } from "../config/validate";
import type { CliIo } from "../tools/cli";
import { projectNameOf, readStackFileConfig, stackFileOf } from "../tools/preview/stackFiles";
import { administrator, callAsAdministrator } from "./adminClient";
import { armTypes, apimApiVersion } from "./armResources";
import {
  capture,
  engineEnvironment,
  installLocalProvider,
  projectRoot,
  type PulumiRun,
  runPulumi,
  type RunPulumiOptions,
  sdkProviderVersion,
} from "./engine";
import { localSubscriptionId, type PidFile, tenantEndpoints } from "./server";
import { writeShadowProject } from "./shadowProject";
import { runningTenant, savedSettings, type TenantPaths } from "./tenantProcess";

/** Who the providers deploy as: the tenant's administrator unless a test names a narrower deployer. */
export interface Deployer {
  clientId: string;
  clientSecret: string;
}

export interface LocalStackOptions {
  paths: TenantPaths;
  /** The project whose stack files are deployed; the repository (tests name a folder of their own). */
  projectDir?: string;
  io: CliIo;
  /** inherit: the CLI and smoke talk to the terminal; pipe: their output goes to io when they end. */
  stdio: "inherit" | "pipe";
  deployer?: Deployer;
}

/**
 * Where a local run keeps what is not the tenant's: the shadow project, plugins and CLI settings, the state. This
 * program's shadow is .local/project; another program's (one that uses the component) .local/projects/<its name>, so
 * two projects' stack copies, and the salts the CLI writes into them, never mix.
 */
export function localRunPaths(paths: TenantPaths, projectDir = projectRoot) {
  const name = projectNameOf(projectDir);
  return {
    project: name === projectName ? path.join(paths.root, "project") : path.join(paths.root, "projects", name),
    pulumiHome: path.join(paths.root, "pulumi-home"),
    backend: path.join(paths.root, "state"),
  };
}

/** Our providers, registered under the names the program's SDKs ask the engine for. */
const localProviders = { azuread: "azuread/main.ts", "azure-native": "azure-native/index.ts" } as const;

/**
 * The stack's catalogue as the program would read it on the tenant (its authority host replaced), checked by the
 * program's own rules as of today: a ConfigError carries the program's message. A secure value cannot be decrypted
 * here: it was encrypted for the stack's own backend.
 */
export function checkStackFile(projectDir: string, stack: string, authorityHost: string): Catalogue {
  const file = stackFileOf(projectDir, stack);
  const { config, secretKeys } = readStackFileConfig(projectDir, stack);
  if (secretKeys.length > 0) {
    throw new ConfigError(stack, [
      `${path.basename(file)}: ${secretKeys.join(", ")} hold secure values encrypted for the stack's own backend, which a local run cannot decrypt; give the local run a stack file without them.`,
    ]);
  }
  return validateCatalogue({ ...config, authorityHost }, stack, today());
}

/** The authority host the stack will name: the running tenant's, else the one the next start will listen on. */
export function localAuthorityHost(paths: TenantPaths, running = runningTenant(paths)): string {
  return running?.endpoints.login ?? tenantEndpoints(savedSettings(paths).port).login;
}

/**
 * The CLI's options for a local run: plugins, settings and state under the .local root, the tenant's CA trusted,
 * and the providers pointed at the tenant (ARM_METADATA_HOSTNAME) as the deployer. The caller's own ARM_* variables
 * (a real tenant's credentials, say) are left out.
 */
export function localCliOptions(options: LocalStackOptions, running: PidFile | undefined): RunPulumiOptions {
  const runPaths = localRunPaths(options.paths, options.projectDir);
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ARM_")));
  const admin = fs.existsSync(options.paths.admin) ? administrator(options.paths) : undefined;
  const deployer = options.deployer ?? admin;
  if (running && deployer && admin) {
    Object.assign(baseEnv, {
      ARM_METADATA_HOSTNAME: running.endpoints.metadataHost,
      ARM_TENANT_ID: admin.tenantId,
      ARM_CLIENT_ID: deployer.clientId,
      ARM_CLIENT_SECRET: deployer.clientSecret,
      ARM_SUBSCRIPTION_ID: localSubscriptionId,
    });
  }
  return {
    cwd: runPaths.project,
    pulumiHome: runPaths.pulumiHome,
    backendDir: runPaths.backend,
    caCertFile: running?.caFile ?? options.paths.caFile,
    baseEnv,
    stdio: options.stdio,
  };
}

/**
 * Everything a CLI run on a local stack needs but the tenant itself: our providers installed (cached) and the shadow
 * project written for the tenant's address, with a copy for `stack` even when the project has no file for it. Says
 * which of the stack files' settings the tenant's replace.
 */
export async function prepareShadowProject(options: LocalStackOptions, running: PidFile | undefined, stack?: string) {
  const projectDir = options.projectDir ?? projectRoot;
  const shadow = writeShadowProject(
    projectDir,
    localRunPaths(options.paths, projectDir).project,
    localAuthorityHost(options.paths, running),
    stack === undefined ? [] : [stack],
  );
  const cli = localCliOptions(options, running);
  for (const [name, entry] of Object.entries(localProviders)) {
    const entryFile = path.join(projectRoot, "local", "providers", entry);
    await installLocalProvider(name, sdkProviderVersion(`@pulumi/${name}`), entryFile, cli);
  }
  return { cli, leftOut: shadow.leftOut };
}

/**
 * The APIM service a stack names as existing, there as a Developer tier service (with its resource group) in the
 * local subscription, as a person would have made it in the portal; made through ARM as the administrator. A service
 * that is there is left as it is; a stack that creates its service gets nothing.
 */
export async function ensureExistingService(
  paths: TenantPaths,
  running: PidFile,
  apim: Catalogue["apim"],
): Promise<"created" | "exists" | "stack creates it"> {
  if (apim.create) return "stack creates it";
  const group = `/subscriptions/${localSubscriptionId}/resourceGroups/${apim.resourceGroupName}`;
  const service = `${group}/providers/${armTypes.service}/${apim.serviceName}`;
  const arm = async (method: string, id: string, apiVersion: string, body?: unknown) => {
    const answer = await callAsAdministrator(paths, running, {
      method,
      service: "arm",
      path: `${id}?api-version=${apiVersion}`,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (answer.status >= 400 && !(method === "GET" && answer.status === 404)) {
      throw new Error(`${method} ${id} on the local ARM answered ${answer.status}: ${answer.text}`);
    }
    return answer.status;
  };
  if ((await arm("GET", service, apimApiVersion)) === 200) return "exists";
  const location = "westeurope";
  if ((await arm("GET", group, groupApiVersion)) === 404) await arm("PUT", group, groupApiVersion, { location });
  await arm("PUT", service, apimApiVersion, {
    location,
    sku: { name: "Developer", capacity: 1 },
    properties: { publisherName: "Local tenant", publisherEmail: "apim@local.invalid" },
  });
  return "created";
}
const groupApiVersion = "2021-04-01";

/** A CLI run on the local stacks: in the shadow project, with output to the terminal or to io. */
export async function localPulumi(args: string[], cli: RunPulumiOptions, io: CliIo): Promise<PulumiRun> {
  const run = await runPulumi(args, cli);
  relay(run, io);
  return run;
}

/**
 * A tool of tools/ (`smoke`, `drift`) on a local stack: in its own process, which trusts the tenant's CA from its
 * start (NODE_EXTRA_CA_CERTS) and runs the CLI in the shadow project (the stack's outputs, drift's preview).
 */
export async function localTool(
  tool: "smoke" | "drift",
  args: string[],
  cli: RunPulumiOptions,
  io: CliIo,
): Promise<PulumiRun> {
  const tsx = require.resolve("tsx/cli", { paths: [projectRoot] });
  const run = await capture(process.execPath, [tsx, path.join(projectRoot, "tools", `${tool}.ts`), ...args], {
    cwd: cli.cwd,
    env: engineEnvironment(cli),
    inherit: cli.stdio === "inherit",
  });
  relay(run, io);
  return run;
}

/** `npm run smoke` on a local stack. */
export const localSmoke = (args: string[], cli: RunPulumiOptions, io: CliIo) => localTool("smoke", args, cli, io);

function relay(run: PulumiRun, io: CliIo): void {
  if (run.stdout.trim()) io.out(run.stdout.trimEnd());
  if (run.stderr.trim()) io.err(run.stderr.trimEnd());
}
