import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { type CliIo, errorText, reportInputError, runIfMain, UsageError } from "../tools/cli";
import { installEngine, runPulumi } from "./engine";
import { requestWithCa } from "./http";
import { requestClientToken } from "./tokens";
import { type AdminCredentials, defaultSettings, localTenantPaths, type PidFile, type TenantSettings } from "./server";

export const usage = `Usage: npm run local -- <command>

  install [--build]
                 build the Pulumi CLI and its language hosts into .local/engine (cached; nothing is
                 built when the official pulumi is on PATH, unless --build)
  pulumi <args...>
                 the Pulumi CLI with the local environment (file backend and plugins under .local/)
  start [--port <n>] [--replication-delay <seconds>]
                 start the local tenant in the background (once; a second start says where it runs)
  stop           stop it; its directory stays in .local/ for the next start
  status         its process, addresses and what its directory holds
  rest <GET|POST|PATCH|PUT|DELETE> <graph:/v1.0/…|arm:/subscriptions/…> [--body <json>]
                 call the tenant's Microsoft Graph or ARM as its administrator, like az rest`;

export interface LocalOptions {
  /** Default: .local/ at the project root. */
  root?: string;
  /** How long `start` waits for the process to listen. Default 60 s. */
  startTimeoutMs?: number;
}

/** `npm run local -- <command>`; the exit status. Each command parses its own arguments. */
export async function runLocal(argv: string[], io: CliIo, options: LocalOptions = {}): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === "--help" || command === "-h") {
    io.out(usage);
    return command === undefined ? 2 : 0;
  }
  const paths = localTenantPaths(options.root);
  try {
    switch (command) {
      case "install": {
        const { values } = commandArgs(args, { build: { type: "boolean" } });
        await installEngine({ log: io.out, build: values.build });
        return 0;
      }
      case "pulumi":
        return (await runPulumi(args, { stdio: "inherit" })).code;
      case "start": {
        const { values } = commandArgs(args, { port: { type: "string" }, "replication-delay": { type: "string" } });
        return await start(paths, values, io, options.startTimeoutMs ?? 60_000);
      }
      case "stop":
        commandArgs(args, {});
        return await stop(paths, io);
      case "status":
        commandArgs(args, {});
        return await status(paths, io);
      case "rest": {
        const { values, positionals } = commandArgs(args, { body: { type: "string" } }, true);
        return await rest(paths, positionals, values.body, io);
      }
      default:
        throw new UsageError(`unknown command "${command}": use install, pulumi, start, stop, status or rest`);
    }
  } catch (error) {
    if (error instanceof UsageError) return reportInputError(io, error, usage);
    io.err(`error: ${errorText(error)}`);
    return 1;
  }
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

type Paths = ReturnType<typeof localTenantPaths>;

const notRunning = "The local tenant is not running. Start it with: npm run local -- start";

/** The running tenant's pid file, or undefined (a stale file, whose process is gone, is removed). */
export function runningTenant(paths: Paths): PidFile | undefined {
  if (!existsSync(paths.pid)) return undefined;
  const running = JSON.parse(readFileSync(paths.pid, "utf8")) as PidFile;
  try {
    process.kill(running.pid, 0);
    return running;
  } catch {
    rmSync(paths.pid, { force: true });
    return undefined;
  }
}

async function start(
  paths: Paths,
  values: { port?: string; "replication-delay"?: string },
  io: CliIo,
  timeoutMs: number,
): Promise<number> {
  const settings: TenantSettings = {
    ...defaultSettings,
    ...(existsSync(paths.settings)
      ? (JSON.parse(readFileSync(paths.settings, "utf8")) as Partial<TenantSettings>)
      : {}),
  };
  if (values.port !== undefined) settings.port = wholeNumber("--port", values.port, 0, 65535);
  if (values["replication-delay"] !== undefined) {
    settings.replicationDelaySeconds = wholeNumber("--replication-delay", values["replication-delay"], 0, 3600);
  }
  const already = runningTenant(paths);
  if (already) {
    io.out(`The local tenant is already running at ${already.endpoints.login} (pid ${already.pid}).`);
    return 0;
  }
  mkdirSync(paths.tenant, { recursive: true, mode: 0o700 });
  writeFileSync(paths.settings, `${JSON.stringify(settings, null, 2)}\n`);

  const log = openSync(paths.log, "w");
  const child = spawn(
    process.execPath,
    [require.resolve("tsx/cli"), join(__dirname, "server.ts"), "--root", paths.root],
    { detached: true, stdio: ["ignore", log, log], cwd: join(__dirname, "..") },
  );
  closeSync(log);
  let exitCode: number | null = null;
  child.on("exit", (code) => {
    exitCode = code ?? 1;
  });
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(paths.pid) && exitCode === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const started = existsSync(paths.pid) ? runningTenant(paths) : undefined;
  if (!started) {
    if (exitCode === null) child.kill();
    const output = existsSync(paths.log) ? readFileSync(paths.log, "utf8").trim() : "";
    if (/EADDRINUSE/.test(output)) {
      io.err(
        `error: port ${settings.port} on 127.0.0.1 is taken by another program. Choose another: npm run local -- start --port <n> (the tenant keeps it for later starts; stacks name it in metadataHost).`,
      );
    } else {
      io.err(
        `error: the local tenant did not start${exitCode === null ? ` within ${timeoutMs / 1000} s` : ""}. Its log (${paths.log}):\n${output}`,
      );
    }
    return 1;
  }
  child.unref();
  io.out(`The local tenant runs at ${started.endpoints.login} (pid ${started.pid}).`);
  io.out(describe(started, settings.replicationDelaySeconds).join("\n"));
  return 0;
}

function describe(running: PidFile, replicationDelaySeconds?: number): string[] {
  const { endpoints } = running;
  return [
    `  login (authority host)  ${endpoints.login}`,
    `  Microsoft Graph         ${endpoints.graph}`,
    `  Azure Resource Manager  ${endpoints.arm}`,
    `  APIM gateway            ${endpoints.login}/gateway/<service name>/<API path>`,
    `  metadata host           ${endpoints.metadataHost}`,
    `  trust its CA            SSL_CERT_FILE=${running.caFile} NODE_EXTRA_CA_CERTS=${running.caFile}`,
    ...(replicationDelaySeconds ? [`  replication delay       ${replicationDelaySeconds} s`] : []),
  ];
}

async function stop(paths: Paths, io: CliIo): Promise<number> {
  const running = runningTenant(paths);
  if (!running) {
    io.out("The local tenant is not running.");
    return 0;
  }
  process.kill(running.pid, "SIGTERM");
  for (let waited = 0; waited < 30_000 && runningTenant(paths); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (runningTenant(paths)) {
    io.err(`error: the local tenant (pid ${running.pid}) did not stop within 30 s; end it with: kill ${running.pid}`);
    return 1;
  }
  io.out(`Stopped the local tenant (pid ${running.pid}); its directory stays in ${paths.tenant}.`);
  return 0;
}

async function status(paths: Paths, io: CliIo): Promise<number> {
  const running = runningTenant(paths);
  if (!running) {
    io.err(notRunning);
    return 1;
  }
  const ca = readFileSync(running.caFile, "utf8");
  const answer = await requestWithCa(`${running.endpoints.login}/local/status`, { ca });
  const report = JSON.parse(answer.text) as { counts: Record<string, number>; residentBytes: number };
  const settings = existsSync(paths.settings)
    ? (JSON.parse(readFileSync(paths.settings, "utf8")) as TenantSettings)
    : defaultSettings;
  io.out(
    `The local tenant runs at ${running.endpoints.login} (pid ${running.pid}, ${Math.round(report.residentBytes / 2 ** 20)} MB resident).`,
  );
  io.out(describe(running, settings.replicationDelaySeconds).join("\n"));
  io.out("  directory");
  for (const [kind, count] of Object.entries(report.counts)) io.out(`    ${kind.padEnd(24)}${count}`);
  return 0;
}

const methods = ["GET", "POST", "PATCH", "PUT", "DELETE"];

/** `rest`: the administrator's token for Graph or ARM, then the call; the answer's body on stdout. */
async function rest(paths: Paths, args: string[], body: string | undefined, io: CliIo): Promise<number> {
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
  const ca = readFileSync(running.caFile, "utf8");
  const admin = JSON.parse(readFileSync(paths.admin, "utf8")) as AdminCredentials;
  const service = match[1] === "graph" ? running.endpoints.graph : running.endpoints.arm;
  const token = await requestClientToken({ login: running.endpoints.login, ...admin, resource: service, ca });
  const { access_token: accessToken } = JSON.parse(token.text) as { access_token?: string };
  if (!accessToken) {
    io.err(`error: the tenant refused the administrator a token: ${token.text}`);
    return 1;
  }
  const answer = await requestWithCa(`${service}${match[2]}`, {
    method: method.toUpperCase(),
    ca,
    headers: {
      authorization: `Bearer ${accessToken}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
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

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not "${value}"`);
  }
  return number;
}

runIfMain(module, runLocal, 1);
