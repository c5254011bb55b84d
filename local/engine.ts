// The real Pulumi engine for the local tenant: the Pulumi CLI and a Node.js language host built from the Go module
// (local/engine) into .local/engine/v<version>/bin, cached; and the environment every local CLI run gets, so that
// nothing reaches Pulumi Cloud, get.pulumi.com or the user's own ~/.pulumi.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

export const projectRoot = path.resolve(__dirname, "..");
export const localDir = path.join(projectRoot, ".local");
const engineModuleDir = path.join(__dirname, "engine");

/** The Pulumi release local/engine/go.mod pins, which is also the release of @pulumi/pulumi in package.json. */
export function engineVersion(): string {
  const goMod = fs.readFileSync(path.join(engineModuleDir, "go.mod"), "utf8");
  const pinned = /^\s*github\.com\/pulumi\/pulumi\/pkg\/v3 v(\d+\.\d+\.\d+)\b/m.exec(goMod);
  if (!pinned)
    throw new Error(`${path.join(engineModuleDir, "go.mod")} does not require github.com/pulumi/pulumi/pkg/v3`);
  return pinned[1] as string;
}

export function engineBinDir(version = engineVersion()): string {
  return path.join(localDir, "engine", `v${version}`, "bin");
}

interface EngineBinary {
  name: string;
  description: string;
  /** The Go module it is built in, relative to local/engine: the CLI and our Node.js host share the engine's. */
  moduleDir: string;
  goPackage: string;
  /** The module (in moduleDir's go.mod) whose version the binary reports, and the variable that holds it. */
  versionOf: { module: string; variable: string };
  /** What the binary is built from, besides its module's go.mod and go.sum (relative to local/engine). */
  sourceDir?: string;
  /** Files of moduleDir installed beside the binary, which it runs from its own folder. */
  companions?: string[];
}

const pulumiSdkVersion = {
  module: "github.com/pulumi/pulumi/sdk/v3",
  variable: "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version",
};

// The Python and Go hosts are the official ones: the proxy serves their modules only at pseudo-versions of
// pulumi/pulumi's history, the newest from 2025-08-06, which build against pkg/v3 and sdk/v3 v3.188.0 (their own
// go.mod pins those). They report that pseudo-version. The YAML host is pulumi-yaml's tagged release.
const officialHost = (language: string, path: string, description: string): EngineBinary => ({
  name: `pulumi-language-${language}`,
  description,
  moduleDir: `hosts/${language}`,
  goPackage: path,
  versionOf: { module: path, variable: pulumiSdkVersion.variable },
});

const engineBinaries: EngineBinary[] = [
  {
    name: "pulumi",
    description: "the Pulumi CLI (minutes the first time: Go downloads and compiles its modules)",
    moduleDir: ".",
    goPackage: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
    versionOf: pulumiSdkVersion,
  },
  {
    name: "pulumi-language-nodejs",
    description: "the Node.js language host (ours)",
    moduleDir: ".",
    goPackage: "./cmd/pulumi-language-nodejs",
    versionOf: pulumiSdkVersion,
    sourceDir: "cmd/pulumi-language-nodejs",
  },
  {
    ...officialHost(
      "python",
      "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3",
      "the Python language host (the official one)",
    ),
    // The official host runs programs through this shim, which Pulumi ships beside it but not in its Go module.
    companions: ["pulumi-language-python-exec"],
  },
  officialHost(
    "go",
    "github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3",
    "the Go language host (the official one)",
  ),
  {
    name: "pulumi-language-yaml",
    description: "the YAML language host (pulumi-yaml's)",
    moduleDir: "hosts/yaml",
    goPackage: "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml",
    versionOf: {
      module: "github.com/pulumi/pulumi-yaml",
      variable: "github.com/pulumi/pulumi-yaml/pkg/version.Version",
    },
  },
];

export interface InstallOptions {
  /** Progress lines; default stdout. */
  log?: (line: string) => void;
  /** Build even when an official `pulumi` is on PATH. */
  build?: boolean;
}

export interface InstalledEngine {
  /** The `pulumi` every local run uses. */
  cli: string;
  /** official: the user's own CLI, which brings its own language hosts; cached: nothing to do; built: built now. */
  source: "official" | "cached" | "built";
}

/**
 * `npm run local -- install`: the Pulumi CLI and our Node.js language host, built with Go from the Go module proxy
 * into .local/engine/v<version>/bin. A binary is rebuilt only when what it is built from changed (the stamp beside
 * it), so a second install does nothing. A user with the official CLI on PATH gets nothing built.
 */
export async function installEngine(options: InstallOptions = {}): Promise<InstalledEngine> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const version = engineVersion();
  const binDir = engineBinDir(version);

  const official = findOnPath("pulumi", process.env.PATH, [binDir]);
  if (official && !options.build) {
    const reported = await capture(official, ["version"]);
    log(
      `Using the Pulumi CLI on PATH (${official}, ${reported.stdout.trim() || "version unknown"}); it brings its ` +
        `own language hosts, so nothing is built. The project's @pulumi/pulumi is ${version}.`,
    );
    return { cli: official, source: "official" };
  }

  const stale = engineBinaries.filter((binary) => !isCurrent(binDir, binary));
  if (stale.length === 0) {
    log(`The Pulumi CLI v${version} and its language hosts are installed (cached in ${binDir}).`);
    return { cli: path.join(binDir, "pulumi"), source: "cached" };
  }

  await requireGo(version);
  fs.mkdirSync(binDir, { recursive: true });
  for (const binary of stale) {
    const binaryVersion = moduleVersion(path.join(engineModuleDir, binary.moduleDir), binary.versionOf.module);
    log(`Building ${binary.description} ${binaryVersion} with Go into ${binDir}...`);
    const started = Date.now();
    await goBuild(binary, binDir, log);
    log(`Built ${binary.name} in ${formatDuration(Date.now() - started)}.`);
  }
  return { cli: path.join(binDir, "pulumi"), source: "built" };
}

function sourceHash(binary: EngineBinary): string {
  const files = ["go.mod", "go.sum", ...(binary.companions ?? [])].map((file) => path.join(binary.moduleDir, file));
  if (binary.sourceDir) {
    const dir = path.join(engineModuleDir, binary.sourceDir);
    for (const file of fs.readdirSync(dir).sort()) files.push(path.join(binary.sourceDir, file));
  }
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(fs.readFileSync(path.join(engineModuleDir, file)));
  }
  return hash.digest("hex");
}

const stampOf = (binDir: string, binary: EngineBinary) => path.join(binDir, `.${binary.name}.sha256`);

function isCurrent(binDir: string, binary: EngineBinary): boolean {
  const installed = [binary.name, ...(binary.companions ?? [])];
  if (!installed.every((file) => fs.existsSync(path.join(binDir, file)))) return false;
  try {
    return fs.readFileSync(stampOf(binDir, binary), "utf8") === sourceHash(binary);
  } catch {
    return false;
  }
}

async function requireGo(version: string): Promise<void> {
  const go = await capture("go", ["env", "GOVERSION"]).catch(() => undefined);
  if (!go || go.code !== 0) {
    throw new Error(
      `Go is not on PATH. The local engine builds the Pulumi CLI v${version} and its Node.js language host from ` +
        "the Go module proxy with Go 1.26.6 or later: install Go (https://go.dev/doc/install) and run " +
        "`npm run local -- install` again. Or install the official Pulumi CLI " +
        "(https://www.pulumi.com/docs/iac/download-install/) and put it on PATH: then nothing is built.",
    );
  }
}

async function goBuild(binary: EngineBinary, binDir: string, log: (line: string) => void) {
  const moduleDir = path.join(engineModuleDir, binary.moduleDir);
  for (const companion of binary.companions ?? []) {
    fs.copyFileSync(path.join(moduleDir, companion), path.join(binDir, companion));
    fs.chmodSync(path.join(binDir, companion), 0o755);
  }
  // Built beside the target and renamed, so an interrupted build never leaves a binary that looks installed.
  const partial = path.join(binDir, `.${binary.name}.${process.pid}.partial`);
  const ldflags = `-X ${binary.versionOf.variable}=${moduleVersion(moduleDir, binary.versionOf.module)}`;
  const built = await capture("go", ["build", "-o", partial, "-ldflags", ldflags, binary.goPackage], {
    cwd: moduleDir,
    onStderrLine: log,
  });
  if (built.code !== 0) {
    fs.rmSync(partial, { force: true });
    throw new Error(`go build of ${binary.name} failed (exit ${built.code}) in ${moduleDir}:\n${built.stderr}`);
  }
  fs.renameSync(partial, path.join(binDir, binary.name));
  fs.writeFileSync(stampOf(binDir, binary), sourceHash(binary));
}

/** The version of `module` that the go.mod in moduleDir requires, e.g. v3.276.0. */
function moduleVersion(moduleDir: string, module: string): string {
  const goMod = fs.readFileSync(path.join(moduleDir, "go.mod"), "utf8");
  const escaped = module.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const required = new RegExp(`^\\s*${escaped} (v\\S+)`, "m").exec(goMod);
  if (!required) throw new Error(`${path.join(moduleDir, "go.mod")} does not require ${module}`);
  return required[1] as string;
}

export interface EngineEnvironmentOptions {
  /** The tenant's CA certificate (PEM), trusted by Go providers (SSL_CERT_FILE) and Node.js (NODE_EXTRA_CA_CERTS). */
  caCertFile?: string;
  /** Plugins and CLI settings; default .local/pulumi-home. */
  pulumiHome?: string;
  /** The file backend's folder; default .local/state. */
  backendDir?: string;
  /** The environment to extend; default process.env. */
  baseEnv?: NodeJS.ProcessEnv;
}

/** Not a secret: it encrypts the secrets of stacks that exist only in .local/state, against a loopback tenant. */
export const localPassphrase = "apim-entra-auth local tenant (not a secret)";

/** The environment of every local CLI run. */
export function engineEnvironment(options: EngineEnvironmentOptions = {}): NodeJS.ProcessEnv {
  const base = options.baseEnv ?? process.env;
  const pulumiHome = options.pulumiHome ?? path.join(localDir, "pulumi-home");
  const backendDir = options.backendDir ?? path.join(localDir, "state");
  fs.mkdirSync(pulumiHome, { recursive: true });
  fs.mkdirSync(backendDir, { recursive: true });

  const binDir = engineBinDir();
  const pathEntries = [nodeBinDir()];
  if (fs.existsSync(path.join(binDir, "pulumi"))) pathEntries.push(binDir);
  if (base.PATH) pathEntries.push(base.PATH);

  const env: NodeJS.ProcessEnv = {
    ...base,
    PATH: pathEntries.join(path.delimiter),
    PULUMI_HOME: pulumiHome,
    PULUMI_BACKEND_URL: pathToFileURL(backendDir).href,
    PULUMI_CONFIG_PASSPHRASE: localPassphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // Providers come from PULUMI_HOME's plugin cache only: a pulumi-resource-azuread on the user's PATH would
    // otherwise replace the local provider. Language hosts are still found beside the pulumi binary.
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
  };
  // A passphrase file would win over the local passphrase.
  delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
  if (options.caCertFile) {
    env.SSL_CERT_FILE = options.caCertFile;
    env.NODE_EXTRA_CA_CERTS = options.caCertFile;
  }
  return env;
}

/** The folder of the project's Node.js 22 (the `node` devDependency), which programs and providers run on. */
function nodeBinDir(): string {
  const linked = path.join(projectRoot, "node_modules", ".bin", "node");
  return fs.existsSync(linked) ? path.dirname(fs.realpathSync(linked)) : path.dirname(process.execPath);
}

function nodeExecutable(): string {
  return path.join(nodeBinDir(), "node");
}

/** The CLI local runs use: ours if built, else the official one on PATH. */
export function pulumiExecutable(): string {
  const ours = path.join(engineBinDir(), "pulumi");
  if (fs.existsSync(ours)) return ours;
  const official = findOnPath("pulumi", process.env.PATH);
  if (official) return official;
  throw new Error("The Pulumi CLI is not installed: run `npm run local -- install` (or install the official CLI).");
}

export interface RunPulumiOptions extends EngineEnvironmentOptions {
  cwd?: string;
  /** inherit: the CLI talks to the terminal; pipe (default): output is captured and returned. */
  stdio?: "inherit" | "pipe";
}

export interface PulumiRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run local -- pulumi <args…>`: the CLI with {@link engineEnvironment}. */
export function runPulumi(args: string[], options: RunPulumiOptions = {}): Promise<PulumiRun> {
  return capture(pulumiExecutable(), args, {
    cwd: options.cwd ?? projectRoot,
    env: engineEnvironment(options),
    inherit: options.stdio === "inherit",
  });
}

/**
 * The plugin version an installed provider SDK (e.g. @pulumi/azuread) asks the engine for, without a leading v: the
 * version its package.json names under "pulumi", else its own.
 */
export function sdkProviderVersion(sdkPackage: string, programDir = projectRoot): string {
  const manifestPath = path.join(programDir, "node_modules", sdkPackage, "package.json");
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as {
    version?: string;
    pulumi?: { version?: string };
  };
  const version = manifest.pulumi?.version ?? manifest.version;
  if (!version) throw new Error(`${manifestPath} names no version`);
  return version.replace(/^v/, "");
}

/**
 * Installs one of our Node.js providers as plugin `pulumi-resource-<name>` v<version> in PULUMI_HOME's plugin cache
 * (`pulumi plugin install --file`), where the CLI looks for the version a program's SDK requests. The plugin is a
 * shell wrapper that runs `entryFile` (TypeScript, a `@pulumi/pulumi/provider` main) on the project's Node.js with
 * tsx, so the provider runs from source. Installing what is already installed does nothing.
 */
export async function installLocalProvider(
  name: string,
  version: string,
  entryFile: string,
  options: EngineEnvironmentOptions = {},
): Promise<"installed" | "cached"> {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new Error(`provider name "${name}" must be lowercase letters, digits and dashes (a Pulumi package name)`);
  }
  const plainVersion = version.replace(/^v/, "");
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(plainVersion)) {
    throw new Error(`provider ${name}: version "${version}" must be semver, e.g. 6.9.1`);
  }
  const entry = path.resolve(entryFile);
  if (!fs.existsSync(entry)) throw new Error(`provider ${name}: entry file ${entry} does not exist`);

  const executable = `pulumi-resource-${name}`;
  const tsxLoader = pathToFileURL(require.resolve("tsx", { paths: [projectRoot] })).href;
  const wrapper = [
    "#!/bin/sh",
    `# ${executable} v${plainVersion}: the local tenant's own provider, run from source (local/engine.ts).`,
    `exec ${shellQuote(nodeExecutable())} --import ${shellQuote(tsxLoader)} ${shellQuote(entry)} "$@"`,
    "",
  ].join("\n");

  const pulumiHome = options.pulumiHome ?? path.join(localDir, "pulumi-home");
  const installed = path.join(pulumiHome, "plugins", `resource-${name}-v${plainVersion}`, executable);
  if (fs.existsSync(installed) && fs.readFileSync(installed, "utf8") === wrapper) return "cached";

  const staged = path.join(localDir, "providers", `${name}-v${plainVersion}`, executable);
  fs.mkdirSync(path.dirname(staged), { recursive: true });
  fs.writeFileSync(staged, wrapper, { mode: 0o755 });
  const run = await runPulumi(
    ["plugin", "install", "resource", name, plainVersion, "--file", staged, "--reinstall"],
    options,
  );
  if (run.code !== 0) {
    throw new Error(`pulumi plugin install of ${executable} v${plainVersion} failed:\n${run.stderr}${run.stdout}`);
  }
  return "installed";
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function findOnPath(name: string, searchPath: string | undefined, excludedDirs: string[] = []): string | undefined {
  for (const dir of (searchPath ?? "").split(path.delimiter)) {
    if (!dir || excludedDirs.some((excluded) => path.resolve(excluded) === path.resolve(dir))) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface CaptureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  inherit?: boolean;
  onStderrLine?: (line: string) => void;
}

/** Runs a command; its output captured (or on the terminal with `inherit`) and its exit status. */
export function capture(command: string, args: string[], options: CaptureOptions = {}): Promise<PulumiRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: options.inherit ? "inherit" : ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let partialLine = "";
    child.stdout?.on("data", (chunk) => (stdout += String(chunk)));
    child.stderr?.on("data", (chunk) => {
      stderr += String(chunk);
      if (!options.onStderrLine) return;
      const lines = (partialLine + String(chunk)).split("\n");
      partialLine = lines.pop() ?? "";
      for (const line of lines) options.onStderrLine(line);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (partialLine && options.onStderrLine) options.onStderrLine(partialLine);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}
