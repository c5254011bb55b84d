// The engine tier's first test: the real Pulumi CLI with our Node.js language host (local/engine) runs a TypeScript
// program whose one resource comes from a Node.js provider of ours installed in the plugin cache, and a TypeScript
// policy pack (the component package's schema and SDKs: sdks.test.ts). State, plugins and the provider's "cloud" live
// in a temporary folder. What it cannot prove: anything about Entra ID or APIM; the fixture provider stands in for the local azuread
// and azure-native providers only as far as how the CLI finds and runs them.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  engineBinDir,
  engineVersion,
  installEngine,
  installLocalProvider,
  projectRoot,
  runPulumi,
  type RunPulumiOptions,
  sdkProviderVersion,
} from "../../local/engine";

const fixtures = path.join(__dirname, "fixtures");
const greetingProvider = path.join(fixtures, "program", "greeting", "provider.ts");
const policyPack = path.join(fixtures, "policy-pack");

let tempDir: string;
let programDir: string;
let worldDir: string;
let cli: RunPulumiOptions;

async function pulumi(...args: string[]) {
  const run = await runPulumi(["--non-interactive", ...args], { ...cli, cwd: programDir });
  return { ...run, output: run.stdout + run.stderr };
}

async function pulumiOk(...args: string[]) {
  const run = await pulumi(...args);
  if (run.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${run.code}:\n${run.output}`);
  return run;
}

const greetingsInTheWorld = () =>
  fs.readdirSync(worldDir).map((file) => JSON.parse(fs.readFileSync(path.join(worldDir, file), "utf8")) as unknown);

beforeAll(async () => {
  await installEngine({ log: () => undefined });
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-tier-"));
  programDir = path.join(tempDir, "program");
  worldDir = path.join(tempDir, "world");
  fs.mkdirSync(worldDir);
  fs.cpSync(path.join(fixtures, "program"), programDir, { recursive: true });
  // The program's node_modules: the project's @pulumi/pulumi and @types/node, and the fixture SDK as an installed
  // package would be, which is how the language host's GetRequiredPackages finds the greeting provider's version.
  // (Linked to the repository's copy: the official host skips a link to a folder it has already walked.)
  const installed = (name: string, target = path.join(projectRoot, "node_modules", name)) => {
    fs.mkdirSync(path.dirname(path.join(programDir, "node_modules", name)), { recursive: true });
    fs.symlinkSync(target, path.join(programDir, "node_modules", name));
  };
  installed("@pulumi/pulumi");
  installed("@types/node");
  installed("@pulumi/greeting", path.join(fixtures, "program", "greeting"));

  cli = {
    pulumiHome: path.join(tempDir, "pulumi-home"),
    backendDir: path.join(tempDir, "state"),
    baseEnv: { ...process.env, GREETING_WORLD_DIR: worldDir },
  };
  await installLocalProvider("greeting", sdkProviderVersion("@pulumi/greeting", programDir), greetingProvider, cli);
  await pulumiOk("stack", "init", "test");
  await pulumiOk("config", "set", "who", "world");
  await pulumiOk("config", "set", "--secret", "token", "s3cret");
});

afterAll(() => {
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
});

describe("the local engine's install", () => {
  it("is cached: a second install builds nothing and names the same CLI", async () => {
    const lines: string[] = [];
    const first = await installEngine({ log: (line) => lines.push(line) });
    const second = await installEngine({ log: (line) => lines.push(line) });
    expect(["cached", "official"]).toContain(second.source);
    expect(second.cli).toBe(first.cli);
    expect(lines.some((line) => line.startsWith("Building"))).toBe(false);
  });

  it("pins the CLI, our language host and @pulumi/pulumi to one release", async () => {
    const sdk = JSON.parse(
      fs.readFileSync(path.join(projectRoot, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8"),
    ) as { version: string };
    expect(sdk.version).toBe(engineVersion());
    const host = path.join(engineBinDir(), "pulumi-language-nodejs");
    // An official CLI on PATH brings its own host, whatever its release.
    if (!fs.existsSync(host)) return;
    expect(execFileSync(host, ["-version"], { encoding: "utf8" }).trim()).toBe(`v${engineVersion()}`);
    expect((await pulumiOk("version")).stdout.trim()).toBe(`v${engineVersion()}`);
  });
});

describe("a TypeScript program with one of our Node.js providers", () => {
  it("runs on the project's Node.js and needs the provider its installed SDK names (pulumi about)", async () => {
    const about = JSON.parse((await pulumiOk("about", "--json")).stdout) as {
      plugins: { name: string; version: string; kind: string }[];
      runtime: { language: string; version: string };
    };
    const greetingVersion = sdkProviderVersion("@pulumi/greeting", programDir);
    expect(about.plugins).toContainEqual({ name: "greeting", version: greetingVersion, kind: "resource" });
    const nodeDevDependency = JSON.parse(
      fs.readFileSync(path.join(projectRoot, "node_modules", "node", "package.json"), "utf8"),
    ) as { version: string };
    expect(about.runtime).toMatchObject({ language: "nodejs", version: `v${nodeDevDependency.version}` });
  });

  it("is deployed by pulumi up, through the provider the SDK's version names", async () => {
    await pulumiOk("up", "--yes", "--skip-preview");
    expect(greetingsInTheWorld()).toEqual([{ name: "world", message: "Hello, world!" }]);

    const outputs = JSON.parse((await pulumiOk("stack", "output", "--json")).stdout) as Record<string, unknown>;
    expect(outputs).toEqual({ message: "Hello, world!", stack: "test", token: "[secret]" });
    const revealed = JSON.parse((await pulumiOk("stack", "output", "--json", "--show-secrets")).stdout) as {
      token: string;
    };
    expect(revealed.token).toBe("s3cret");
  });

  it("previews no changes when nothing changed, and a change when the config did", async () => {
    await pulumiOk("preview", "--expect-no-changes");

    await pulumiOk("config", "set", "who", "moon");
    const changed = await pulumi("preview", "--expect-no-changes", "--diff");
    expect(changed.code).not.toBe(0);
    expect(changed.output).toContain("greeting:index:Greeting");

    await pulumiOk("up", "--yes", "--skip-preview");
    expect(greetingsInTheWorld()).toEqual([{ name: "moon", message: "Hello, moon!" }]);
  });

  it("refreshes: a greeting deleted outside Pulumi leaves the state, and up creates it again", async () => {
    for (const file of fs.readdirSync(worldDir)) fs.rmSync(path.join(worldDir, file));
    await pulumiOk("refresh", "--yes", "--skip-preview");
    const state = JSON.parse((await pulumiOk("stack", "export")).stdout) as {
      deployment: { resources?: { type: string }[] };
    };
    expect(state.deployment.resources?.map((resource) => resource.type)).not.toContain("greeting:index:Greeting");

    await pulumiOk("up", "--yes", "--skip-preview");
    expect(greetingsInTheWorld()).toEqual([{ name: "moon", message: "Hello, moon!" }]);
  });

  it("fails a preview that violates a mandatory policy of a TypeScript policy pack, and passes one that does not", async () => {
    // The pack lives outside the program's folder: the host must run it in its own folder, where @pulumi/policy
    // reads the pack's version from the pack's package.json (the program's names none).
    await pulumiOk("preview", "--policy-pack", policyPack);

    await pulumiOk("config", "set", "who", "Mallory");
    const violating = await pulumi("preview", "--policy-pack", policyPack);
    expect(violating.code).not.toBe(0);
    expect(violating.output).toContain("no-greeting-for-mallory");
    expect(violating.output).toContain("The greeting names Mallory.");
    await pulumiOk("config", "set", "who", "moon");
  });

  it("is destroyed by pulumi destroy, which deletes the greeting", async () => {
    await pulumiOk("destroy", "--yes", "--skip-preview");
    expect(greetingsInTheWorld()).toEqual([]);
    const state = JSON.parse((await pulumiOk("stack", "export")).stdout) as {
      deployment: { resources?: unknown[] };
    };
    expect(state.deployment.resources ?? []).toEqual([]);
  });
});

describe("pulumi import", () => {
  it("adopts a greeting made outside Pulumi, with the inputs the provider reads back", async () => {
    fs.writeFileSync(
      path.join(worldDir, "made-by-hand.json"),
      JSON.stringify({ name: "hand", message: "Hello, hand!" }),
    );
    // Without code generation: that needs the provider's schema and the language host's GenerateProgram, which
    // neither the fixture provider nor our host has.
    await pulumiOk(
      "import",
      "greeting:index:Greeting",
      "adopted",
      "made-by-hand",
      "--yes",
      "--protect=false",
      "--generate-code=false",
    );
    const state = JSON.parse((await pulumiOk("stack", "export")).stdout) as {
      deployment: { resources: { type: string; id?: string; inputs?: unknown; outputs?: unknown }[] };
    };
    expect(state.deployment.resources.filter((resource) => resource.type === "greeting:index:Greeting")).toEqual([
      expect.objectContaining({
        id: "made-by-hand",
        inputs: { name: "hand" },
        outputs: { name: "hand", message: "Hello, hand!" },
      }),
    ]);
  });
});
