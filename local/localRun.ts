// The commands on a local stack: `up` (everything from a clean clone to a passing smoke test), `destroy`, `smoke`,
// `drift` and the CLI itself (`pulumi <args…>`), all in the shadow project with the tenant's environment.
import { parseArgs } from "node:util";
import { ConfigError, projectName } from "../config/validate";
import { projectNameOf } from "../tools/preview/stackFiles";
import { parseStackOutputs } from "../tools/sign-in/stackOutputs";
import { installEngine, projectRoot, runPulumi, type RunPulumiOptions } from "./engine";
import {
  checkStackFile,
  ensureExistingService,
  localAuthorityHost,
  localPulumi,
  localSmoke,
  localTool,
  type LocalStackOptions,
  prepareShadowProject,
} from "./localStack";
import { localSubscriptionId, type PidFile } from "./server";
import { notRunning, runningTenant, startTenantProcess } from "./tenantProcess";

export interface LocalRunOptions extends LocalStackOptions {
  /** How long `up` waits for a tenant it starts to listen. */
  startTimeoutMs: number;
}

/**
 * `npm run local -- up`: the stack file checked (the program's own message, before anything is made), the CLI
 * installed (cached), the tenant started if it is not running, the providers and the existing APIM service put in
 * place, then the real `pulumi up --yes --refresh` of the stack file as it is, and the smoke test through the local
 * gateway.
 */
export async function localUp(stack: string, options: LocalRunOptions): Promise<number> {
  const { io, paths } = options;
  const projectDir = options.projectDir ?? projectRoot;
  // Another program (one that uses the component, such as examples/yaml) holds its catalogue in its own code: only
  // this program's stack file can be checked before the CLI runs, and names the APIM service to put in place.
  const ours = projectNameOf(projectDir) === projectName;
  let catalogue: ReturnType<typeof checkStackFile> | undefined;
  try {
    if (ours) catalogue = checkStackFile(projectDir, stack, localAuthorityHost(paths));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return 1;
  }
  await installEngine({ log: io.out });
  const running = runningTenant(paths) ?? (await startTenantProcess(paths, {}, io, options.startTimeoutMs));
  if (!running) return 1;

  const { cli, leftOut } = await prepareShadowProject(options, running, stack);
  if (leftOut[stack]?.length) {
    io.out(`Local run: the tenant's settings replace ${leftOut[stack].join(", ")} of Pulumi.${stack}.yaml.`);
  }
  if (!catalogue) {
    io.out(
      `Local run of ${projectNameOf(projectDir)}: an APIM service it names as existing must be in the local subscription (npm run local -- rest PUT arm:/subscriptions/${localSubscriptionId}/resourceGroups/<group>/providers/Microsoft.ApiManagement/service/<name>?api-version=2024-05-01 --body …).`,
    );
  } else if ((await ensureExistingService(paths, running, catalogue.apim)) === "created") {
    const { serviceName, resourceGroupName } = catalogue.apim;
    io.out(
      `Created the APIM service ${serviceName} (Developer tier) in resource group ${resourceGroupName} of the local subscription: the stack names it as existing.`,
    );
  }
  const selected = await localPulumi(["stack", "select", "--create", "--non-interactive", stack], cli, io);
  if (selected.code !== 0) return selected.code;
  // --refresh: every resource read back first, so an edit made outside the program (drift) is put back.
  const up = await localPulumi(["up", "--yes", "--refresh", "--non-interactive", "--stack", stack], cli, io);
  if (up.code !== 0) {
    io.err(`error: pulumi up of stack ${stack} failed (exit ${up.code}); the smoke test did not run.`);
    return up.code;
  }
  return (await smokeEachClient(stack, cli, io)) ? 0 : 1;
}

/**
 * The smoke test once for each client and API it is granted (smoke takes one pair at a time), or once for the stack
 * when no client is granted any; whether every run passed. Smoke checks a user-facing or federated client without a
 * token, as it does against Azure.
 */
async function smokeEachClient(stack: string, cli: RunPulumiOptions, io: LocalRunOptions["io"]): Promise<boolean> {
  // Read quietly: the outputs hold the clients' secrets.
  const read = await runPulumi(["stack", "output", "--json", "--show-secrets", "--stack", stack], {
    ...cli,
    stdio: "pipe",
  });
  if (read.code !== 0) {
    io.err(`error: the outputs of stack ${stack} could not be read: ${read.stderr.trim()}`);
    return false;
  }
  const outputs = parseStackOutputs(read.stdout, `stack ${stack}`);
  const pairs = Object.entries(outputs.clients).flatMap(([client, { scopes }]) =>
    Object.keys(scopes).map((api) => ["--client", client, "--api", api]),
  );
  let passed = true;
  for (const pair of pairs.length > 0 ? pairs : [[]]) {
    if ((await localSmoke(["--stack", stack, ...pair], cli, io)).code !== 0) passed = false;
  }
  return passed;
}

/** `npm run local -- destroy`: the real `pulumi destroy --yes` of the local stack. */
export async function localDestroy(stack: string, options: LocalRunOptions): Promise<number> {
  const running = requireTenant(options);
  if (!running) return 1;
  const { cli } = await prepareShadowProject(options, running);
  return (await localPulumi(["destroy", "--yes", "--non-interactive", "--stack", stack], cli, options.io)).code;
}

/** `npm run local -- smoke`: tools/smoke.ts against the local stack's outputs and the local gateway. */
export async function localSmokeCommand(args: string[], options: LocalRunOptions): Promise<number> {
  const running = requireTenant(options);
  if (!running) return 1;
  const { cli } = await prepareShadowProject(options, running);
  return (await localSmoke(args, cli, options.io)).code;
}

/**
 * `npm run local -- drift`: tools/drift.ts against the local stack, as the pipelines run it against Azure: a refreshed
 * preview through the tenant's Graph and ARM, then the smoke test through the local gateway.
 */
export async function localDriftCommand(args: string[], options: LocalRunOptions): Promise<number> {
  const running = requireTenant(options);
  if (!running) return 1;
  const { cli } = await prepareShadowProject(options, running);
  return (await localTool("drift", args, cli, options.io)).code;
}

/** Commands whose program or providers call the tenant. */
const tenantCommands = new Set(["up", "update", "preview", "refresh", "destroy", "import", "watch"]);

/**
 * `npm run local -- pulumi <args…>`: the CLI in the shadow project, so a command that writes the stack file writes
 * the local copy; commands that run the program or the providers want the tenant running.
 */
export async function localPulumiCommand(args: string[], options: LocalRunOptions): Promise<number> {
  const command = args.find((arg) => !arg.startsWith("-"));
  const running = command && tenantCommands.has(command) ? requireTenant(options) : runningTenant(options.paths);
  if (command && tenantCommands.has(command) && !running) return 1;
  // The stack named (a program without a stack file of its own gets its copy with the tenant's settings too).
  const { values } = parseArgs({ args, options: { stack: { type: "string", short: "s" } }, strict: false });
  const stack = typeof values.stack === "string" ? values.stack : undefined;
  const { cli } = await prepareShadowProject(options, running, stack);
  return (await localPulumi(args, cli, options.io)).code;
}

function requireTenant(options: LocalRunOptions): PidFile | undefined {
  const running = runningTenant(options.paths);
  if (!running) options.io.err(notRunning);
  return running;
}
