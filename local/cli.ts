import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { type CliIo, errorText, reportInputError, runIfMain, UsageError } from "../tools/cli";
import { callAsAdministrator } from "./adminClient";
import { installEngine } from "./engine";
import { requestWithCa } from "./http";
import type { Deployer } from "./localStack";
import { localAdopt } from "./localAdopt";
import {
  localDestroy,
  localDriftCommand,
  localPulumiCommand,
  type LocalRunOptions,
  localSmokeCommand,
  localUp,
} from "./localRun";
import { type Latency, parseLatency } from "./latency";
import { localTenantPaths, type TenantSettings } from "./server";
import {
  describeTenant,
  notRunning,
  runningTenant,
  savedSettings,
  startTenantProcess,
  stopTenantProcess,
  type TenantPaths,
} from "./tenantProcess";

export const usage = `Usage: npm run local -- [--project <folder>] <command>

  --project <folder>
                 run up, destroy, smoke, drift, pulumi or adopt on another program's stacks (one that uses the
                 component, e.g. examples/yaml) instead of this repository's; its shadow is .local/projects/<name>

  install [--build]
                 build the Pulumi CLI and its language hosts into .local/engine (cached; nothing is
                 built when the official pulumi is on PATH, unless --build)
  up [--stack <s>]
                 deploy a stack file as it is to the local tenant (default dev) with the real pulumi up, then
                 run the smoke test through the local gateway; installs the CLI and starts the tenant if needed
  destroy [--stack <s>]
                 pulumi destroy of the local stack (default dev)
  smoke [--stack <s>] [--client <c>] [smoke flags...]
                 npm run smoke against the local stack's outputs and the local gateway
  drift [--stack <s>] [--client <c>] [--api <a>]
                 npm run drift against the local stack: a refreshed pulumi preview through the tenant's Graph
                 and ARM (what changed outside the program), then the smoke test; exit 1 on drift
  pulumi <args...>
                 the Pulumi CLI on the local stacks (file backend, plugins and a copy of each stack file under
                 .local/; your Pulumi.<stack>.yaml is never written), e.g. pulumi preview --stack dev or
                 pulumi stack output --show-secrets
  start [--port <n>] [--replication-delay <seconds>] [--latency graph=<ms>,arm=<ms>]
                 start the local tenant in the background (once; a second start says where it runs);
                 --latency delays each Graph / ARM request as Azure's round trip would (kept for later starts;
                 graph=0,arm=0 turns it off)
  stop           stop it; its directory stays in .local/ for the next start
  status         its process, addresses and what its directory holds
  adopt --stack <s> [--api <app>]… [--client <app>]… [adopt's flags…]
                 npm run adopt against the local tenant's Graph, signed in as the deployer; --write merges the
                 entries into your Pulumi.<stack>.yaml (with the local tenant's ids: use a copy, or restore it after)
  rest <GET|POST|PATCH|PUT|DELETE> <graph:/v1.0/…|arm:/subscriptions/…> [--body <json>]
                 call the tenant's Microsoft Graph or ARM as its administrator, like az rest`;

export interface LocalOptions {
  /** Default: .local/ at the project root. */
  root?: string;
  /** How long `start` waits for the process to listen. Default 60 s. */
  startTimeoutMs?: number;
  /** The project whose stack files local runs deploy. Default: this repository. */
  projectDir?: string;
  /** inherit (default): the CLI and smoke write to the terminal; pipe: their output goes to io once they end. */
  stdio?: "inherit" | "pipe";
  /** Who the providers deploy as. Default: the tenant's administrator. */
  deployer?: Deployer;
}

/** `npm run local -- <command>`; the exit status. Each command parses its own arguments. */
export async function runLocal(argv: string[], io: CliIo, options: LocalOptions = {}): Promise<number> {
  let projectDir = options.projectDir;
  if (argv[0] === "--project") {
    try {
      projectDir = otherProject(argv[1]);
    } catch (error) {
      if (error instanceof UsageError) return reportInputError(io, error, usage);
      throw error;
    }
    argv = argv.slice(2);
  }
  const [command, ...args] = argv;
  if (command === undefined || command === "--help" || command === "-h") {
    io.out(usage);
    return command === undefined ? 2 : 0;
  }
  const paths = localTenantPaths(options.root);
  const run: LocalRunOptions = {
    paths,
    io,
    projectDir,
    stdio: options.stdio ?? "inherit",
    deployer: options.deployer,
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
  };
  try {
    switch (command) {
      case "install": {
        const { values } = commandArgs(args, { build: { type: "boolean" } });
        await installEngine({ log: io.out, build: values.build });
        return 0;
      }
      case "pulumi":
        return await localPulumiCommand(args, run);
      case "up":
        return await localUp(commandArgs(args, stackOption).values.stack ?? "dev", run);
      case "destroy":
        return await localDestroy(commandArgs(args, stackOption).values.stack ?? "dev", run);
      case "smoke":
        return await localSmokeCommand(withDevStack(args), run);
      case "drift":
        return await localDriftCommand(withDevStack(args), run);
      case "adopt":
        // adopt's own flags pass through, and it judges them.
        return await localAdopt(args, run);
      case "start": {
        const { values } = commandArgs(args, {
          port: { type: "string" },
          "replication-delay": { type: "string" },
          latency: { type: "string" },
        });
        const changes: Partial<TenantSettings> = {};
        if (values.port !== undefined) changes.port = wholeNumber("--port", values.port, 0, 65535);
        if (values["replication-delay"] !== undefined) {
          changes.replicationDelaySeconds = wholeNumber("--replication-delay", values["replication-delay"], 0, 3600);
        }
        if (values.latency !== undefined) changes.latency = latencyFlag(values.latency);
        return (await startTenantProcess(paths, changes, io, run.startTimeoutMs)) ? 0 : 1;
      }
      case "stop":
        commandArgs(args, {});
        return await stopTenantProcess(paths, io);
      case "status":
        commandArgs(args, {});
        return await status(paths, io);
      case "rest": {
        const { values, positionals } = commandArgs(args, { body: { type: "string" } }, true);
        return await rest(paths, positionals, values.body, io);
      }
      default:
        throw new UsageError(
          `unknown command "${command}": use install, up, destroy, smoke, drift, pulumi, adopt, start, stop, status or rest`,
        );
    }
  } catch (error) {
    if (error instanceof UsageError) return reportInputError(io, error, usage);
    io.err(`error: ${errorText(error)}`);
    return 1;
  }
}

/**
 * `--project <dir>`: another program's folder (one that uses the component, such as examples/yaml), relative to where
 * npm was run (INIT_CWD); it must hold a Pulumi.yaml.
 */
function otherProject(dir: string | undefined): string {
  if (dir === undefined || dir.startsWith("-")) {
    throw new UsageError("--project needs a folder: --project <folder with a Pulumi.yaml> <command>");
  }
  const resolved = path.resolve(process.env.INIT_CWD ?? process.cwd(), dir);
  if (!existsSync(path.join(resolved, "Pulumi.yaml"))) {
    throw new UsageError(`--project ${dir}: ${resolved} holds no Pulumi.yaml; name a Pulumi project's folder`);
  }
  return resolved;
}

const stackOption = { stack: { type: "string", short: "s" } } as const;

/** A tool's own flags pass through, and the tool judges them; the stack defaults to dev, as for up. */
function withDevStack(args: string[]): string[] {
  const { values } = parseArgs({ args, options: stackOption, strict: false, allowPositionals: true });
  return values.stack === undefined ? ["--stack", "dev", ...args] : args;
}

/** A command's flags (and, where it takes them, positionals); a bad flag is a {@link UsageError}. */
function commandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: T,
  positionals = false,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: positionals });
  } catch (error) {
    throw new UsageError(errorText(error));
  }
}

async function status(paths: TenantPaths, io: CliIo): Promise<number> {
  const running = runningTenant(paths);
  if (!running) {
    io.err(notRunning);
    return 1;
  }
  const ca = readFileSync(running.caFile, "utf8");
  const answer = await requestWithCa(`${running.endpoints.login}/local/status`, { ca });
  const report = JSON.parse(answer.text) as {
    counts: Record<string, number>;
    residentBytes: number;
    time: number;
    latency?: Latency;
  };
  const settings = savedSettings(paths);
  io.out(
    `The local tenant runs at ${running.endpoints.login} (pid ${running.pid}, ${Math.round(report.residentBytes / 2 ** 20)} MB resident).`,
  );
  io.out(describeTenant(running, settings.replicationDelaySeconds, report.latency).join("\n"));
  if (Math.abs(report.time - Date.now()) > 12 * 3600_000) {
    io.out(`  clock                   ${new Date(report.time).toISOString()} (APIM_ENTRA_AUTH_TODAY pinned its day)`);
  }
  io.out("  directory");
  for (const [kind, count] of Object.entries(report.counts)) io.out(`    ${kind.padEnd(24)}${count}`);
  return 0;
}

const methods = ["GET", "POST", "PATCH", "PUT", "DELETE"];

/** `rest`: the administrator's token for Graph or ARM, then the call; the answer's body on stdout. */
async function rest(paths: TenantPaths, args: string[], body: string | undefined, io: CliIo): Promise<number> {
  const [method = "", target = "", ...extra] = args;
  if (!methods.includes(method.toUpperCase())) {
    throw new UsageError(`rest: the method must be one of ${methods.join(", ")}, not "${method}"`);
  }
  const match = /^(graph|arm):(\/.*)$/.exec(target);
  if (!match) {
    throw new UsageError(`rest: the target must be graph:/v1.0/… or arm:/subscriptions/…, not "${target}"`);
  }
  if (extra.length > 0)
    throw new UsageError(`rest: unexpected "${extra.join(" ")}" (the body goes in --body '<json>')`);
  if (body !== undefined) {
    try {
      JSON.parse(body);
    } catch (error) {
      throw new UsageError(`rest: --body must be JSON: ${errorText(error)}`);
    }
  }
  const running = runningTenant(paths);
  if (!running) {
    io.err(notRunning);
    return 1;
  }
  const answer = await callAsAdministrator(paths, running, {
    method: method.toUpperCase(),
    service: match[1] as "graph" | "arm",
    path: match[2] as string,
    body,
  });
  if (answer.text !== "") {
    let printed = answer.text;
    try {
      printed = JSON.stringify(JSON.parse(answer.text), null, 2);
    } catch {
      // not JSON: print as it came
    }
    io.out(printed);
  }
  if (answer.status >= 400) {
    io.err(`error: ${method.toUpperCase()} ${target} answered ${answer.status}`);
    return 1;
  }
  return 0;
}

function latencyFlag(value: string): Latency {
  try {
    return parseLatency("--latency", value);
  } catch (error) {
    throw new UsageError(errorText(error));
  }
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not "${value}"`);
  }
  return number;
}

runIfMain(module, runLocal, 1);
