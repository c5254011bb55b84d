// What the engine tier's tests of this repository's component package share: the local engine installed, a
// temporary PULUMI_HOME and file backend, and the local tenant's own azuread and azure-native providers in its plugin
// cache at the versions the package's SDK dependencies request (the CLI starts them when it loads the package).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  installEngine,
  installLocalProvider,
  projectRoot,
  runPulumi,
  type RunPulumiOptions,
  sdkProviderVersion,
} from "../../local/engine";

export interface CommandRun {
  code: number;
  /** stdout and stderr together, for messages. */
  output: string;
  stdout: string;
}

export interface ComponentPackageWorkspace {
  tempDir: string;
  cli: RunPulumiOptions;
  /** `pulumi --non-interactive <args>` in `cwd`. */
  pulumi(cwd: string, ...args: string[]): Promise<CommandRun>;
  /** The same, failing with the CLI's output unless it exits 0. */
  pulumiOk(cwd: string, ...args: string[]): Promise<CommandRun>;
  /** A folder in the workspace holding nothing, as a Python, Go or YAML user's folder has no tsconfig.json. */
  emptyFolder(name: string): string;
  /**
   * `pulumi package gen-sdk <this repository> --language <language> --out <out>`, run from a folder without a
   * tsconfig.json; returns <out>/<language>, where the SDK lands.
   */
  generateSdk(language: "python" | "go" | "nodejs", out: string): Promise<string>;
  close(): void;
}

export async function componentPackageWorkspace(prefix: string): Promise<ComponentPackageWorkspace> {
  await installEngine({ log: () => undefined });
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const cli: RunPulumiOptions = {
    pulumiHome: path.join(tempDir, "pulumi-home"),
    backendDir: path.join(tempDir, "state"),
  };
  const localProviders = { azuread: "azuread/main.ts", "azure-native": "azure-native/index.ts" };
  for (const [name, entry] of Object.entries(localProviders)) {
    const entryFile = path.join(projectRoot, "local", "providers", entry);
    await installLocalProvider(name, sdkProviderVersion(`@pulumi/${name}`), entryFile, cli);
  }

  const pulumi = async (cwd: string, ...args: string[]) => {
    const run = await runPulumi(["--non-interactive", ...args], { ...cli, cwd });
    return { code: run.code, stdout: run.stdout, output: run.stdout + run.stderr };
  };
  const pulumiOk = async (cwd: string, ...args: string[]) => {
    const run = await pulumi(cwd, ...args);
    if (run.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${run.code} in ${cwd}:\n${run.output}`);
    return run;
  };
  const emptyFolder = (name: string) => {
    const folder = path.join(tempDir, name);
    fs.mkdirSync(folder, { recursive: true });
    return folder;
  };
  return {
    tempDir,
    cli,
    pulumi,
    pulumiOk,
    emptyFolder,
    async generateSdk(language, out) {
      // One language a call: the CLI's --language takes one name or "all" (which wants the .NET and Java hosts too);
      // a list such as python,go,nodejs is read as one language's name.
      const args = ["package", "gen-sdk", projectRoot, "--language", language, "--out", out];
      const generated = await pulumiOk(emptyFolder("gen-sdk"), ...args);
      const sdk = path.join(out, language);
      if (!generated.output.includes(`SDK has been written to ${sdk}`)) {
        throw new Error(`pulumi ${args.join(" ")} did not say it wrote ${sdk}:\n${generated.output}`);
      }
      return sdk;
    },
    close: () => fs.rmSync(tempDir, { recursive: true, force: true }),
  };
}

/**
 * examples/<language> copied into a folder of the workspace, its `packages:` entry naming this checkout as
 * `pulumi package add <path>` would, and `edit` applied to its program file.
 */
function copyExample(
  workspace: ComponentPackageWorkspace,
  language: "python" | "go" | "yaml",
  folder: string,
  edit: (source: string) => string,
): string {
  const program = workspace.emptyFolder(folder);
  fs.cpSync(path.join(projectRoot, "examples", language), program, { recursive: true });
  const projectFile = path.join(program, "Pulumi.yaml");
  const project = fs.readFileSync(projectFile, "utf8");
  if (!project.includes("apim-entra-auth: ../..")) throw new Error(`examples/${language}/Pulumi.yaml names no ../..`);
  fs.writeFileSync(projectFile, project.replace("apim-entra-auth: ../..", `apim-entra-auth: ${projectRoot}`));
  const programFile = path.join(program, { python: "__main__.py", go: "main.go", yaml: "Pulumi.yaml" }[language]);
  fs.writeFileSync(programFile, edit(fs.readFileSync(programFile, "utf8")));
  return program;
}

/**
 * examples/python with its virtual environment (venv, as its Pulumi.yaml names): the generated SDK, pulumi from PyPI
 * and mypy, installed with pip as `pulumi package add` has the Python host do.
 */
export async function pythonExample(
  workspace: ComponentPackageWorkspace,
  folder: string,
  edit: (source: string) => string = (source) => source,
): Promise<{ program: string; python: string }> {
  const program = copyExample(workspace, "python", folder, edit);
  const sdk = await workspace.generateSdk("python", path.join(program, "sdks", "apim-entra-auth"));
  await runOk("python3", ["-m", "venv", "venv"], { cwd: program });
  const python = path.join(program, "venv", "bin", "python");
  const requirements = path.join(__dirname, "fixtures", "python", "requirements.txt");
  await runOk(python, ["-m", "pip", "install", "--quiet", "-r", requirements, sdk], { cwd: program });
  return { program, python };
}

/**
 * examples/go with the generated Go SDK where its go.mod's replace directive names it. The generator writes no
 * go.mod; `pulumi package add` has the Go host make the SDK a module the program's go.mod replaces, so this writes
 * that module's go.mod, with the module path and Pulumi Go SDK the example's go.mod names.
 */
export async function goExample(
  workspace: ComponentPackageWorkspace,
  folder: string,
  edit: (source: string) => string = (source) => source,
): Promise<{ program: string }> {
  const program = copyExample(workspace, "go", folder, edit);
  const sdk = await workspace.generateSdk("go", path.join(program, "sdks", "apim-entra-auth"));
  const goMod = fs.readFileSync(path.join(program, "go.mod"), "utf8");
  const replaced = /^replace (\S+) => \.\/(\S+)$/m.exec(goMod);
  const pulumiSdk = /^\s*github\.com\/pulumi\/pulumi\/sdk\/v3 (v\S+)/m.exec(goMod)?.[1];
  if (!replaced?.[1] || !replaced[2] || !pulumiSdk) {
    throw new Error("examples/go/go.mod must replace the SDK's module with a folder and require the Pulumi Go SDK");
  }
  const sdkModule = path.join(program, replaced[2]);
  if (!sdkModule.startsWith(sdk)) throw new Error(`examples/go/go.mod replaces with ${sdkModule}, not under ${sdk}`);
  fs.writeFileSync(
    path.join(sdkModule, "go.mod"),
    `module ${replaced[1]}\n\ngo 1.26.6\n\nrequire github.com/pulumi/pulumi/sdk/v3 ${pulumiSdk}\n`,
  );
  return { program };
}

/** examples/yaml, its `packages:` entry naming this checkout, with `edit` applied to its Pulumi.yaml. */
export function yamlExample(
  workspace: ComponentPackageWorkspace,
  folder: string,
  edit: (source: string) => string = (source) => source,
): { program: string } {
  return { program: copyExample(workspace, "yaml", folder, edit) };
}

/** Runs a command (no shell), resolving with its exit code and output; never rejects on a non-zero exit. */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") reject(error);
        else resolve({ code: error ? Number(error.code) : 0, stdout, output: stdout + stderr });
      },
    );
  });
}

export async function runOk(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.code} in ${options.cwd}:\n${result.output}`);
  }
  return result;
}
