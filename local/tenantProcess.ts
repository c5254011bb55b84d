// The local tenant as a background process (`npm run local -- start | stop`, and `up` when it is not running): one
// process per .local root, found again through its pid file.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { CliIo } from "../tools/cli";
import { describeLatency, type Latency } from "./latency";
import { defaultSettings, localTenantPaths, type PidFile, type TenantSettings } from "./server";

export type TenantPaths = ReturnType<typeof localTenantPaths>;

export const notRunning = "The local tenant is not running. Start it with: npm run local -- start";

/** The running tenant's pid file, or undefined (a stale file, whose process is gone, is removed). */
export function runningTenant(paths: TenantPaths): PidFile | undefined {
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

/** The settings of the last start (kept in .local/tenant/settings.json), else the defaults. */
export function savedSettings(paths: TenantPaths): TenantSettings {
  return {
    ...defaultSettings,
    ...(existsSync(paths.settings)
      ? (JSON.parse(readFileSync(paths.settings, "utf8")) as Partial<TenantSettings>)
      : {}),
  };
}

/**
 * Starts the tenant in the background with the saved settings changed by `changes` (kept for later starts), and waits
 * until it listens. A tenant already running is left as it is. Undefined, after saying why on io.err, when it did
 * not start: a taken port, or whatever its log says.
 */
export async function startTenantProcess(
  paths: TenantPaths,
  changes: Partial<TenantSettings>,
  io: CliIo,
  timeoutMs: number,
): Promise<PidFile | undefined> {
  const settings: TenantSettings = { ...savedSettings(paths), ...changes };
  const already = runningTenant(paths);
  if (already) {
    io.out(`The local tenant is already running at ${already.endpoints.login} (pid ${already.pid}).`);
    return already;
  }
  mkdirSync(paths.tenant, { recursive: true, mode: 0o700 });
  writeFileSync(paths.settings, `${JSON.stringify(settings, null, 2)}\n`);

  const log = openSync(paths.log, "w");
  // One process, Node with tsx's loader, rather than tsx's command line, which would keep a second Node process
  // (about 50 MB) alive only to wait for the first.
  const tsxLoader = pathToFileURL(require.resolve("tsx")).href;
  const child = spawn(process.execPath, ["--import", tsxLoader, join(__dirname, "server.ts"), "--root", paths.root], {
    detached: true,
    stdio: ["ignore", log, log],
    cwd: join(__dirname, ".."),
  });
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
    return undefined;
  }
  child.unref();
  io.out(`The local tenant runs at ${started.endpoints.login} (pid ${started.pid}).`);
  io.out(describeTenant(started, settings.replicationDelaySeconds, settings.latency).join("\n"));
  return started;
}

/** The addresses a person needs, one a line. */
export function describeTenant(running: PidFile, replicationDelaySeconds?: number, latency?: Latency): string[] {
  const { endpoints } = running;
  const delays = describeLatency(latency);
  return [
    `  login (authority host)  ${endpoints.login}`,
    `  Microsoft Graph         ${endpoints.graph}`,
    `  Azure Resource Manager  ${endpoints.arm}`,
    `  APIM gateway            ${endpoints.login}/gateway/<service name>/<API path>`,
    `  metadata host           ${endpoints.metadataHost}`,
    `  trust its CA            SSL_CERT_FILE=${running.caFile} NODE_EXTRA_CA_CERTS=${running.caFile}`,
    ...(replicationDelaySeconds ? [`  replication delay       ${replicationDelaySeconds} s`] : []),
    ...(delays ? [`  latency                 ${delays}`] : []),
  ];
}

/** Stops the tenant (SIGTERM: it saves its directory first); the exit status `stop` answers. */
export async function stopTenantProcess(paths: TenantPaths, io: CliIo): Promise<number> {
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
