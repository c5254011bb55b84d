// This repository's component package through the real Pulumi CLI, as a user of another language meets it: its
// schema (`pulumi package get-schema`), and the SDKs `pulumi package gen-sdk` writes for Python, Go and Node.js, each
// compiled or type-checked with a program that uses it. The Python SDK comes from the official Python language host,
// the Go SDK from the official Go host (both at the Go module proxy's newest pseudo-version), the Node.js SDK from
// our host's GeneratePackage (pkg/v3's generator at the CLI's release). What it cannot prove: that the programs
// deploy (that needs the local tenant), or how the hosts Pulumi ships with a newer CLI generate.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../local/engine";
import { packageSchema } from "../../tools/schema";
import {
  type ComponentPackageWorkspace,
  componentPackageWorkspace,
  goExample,
  pythonExample,
  run,
  runOk,
} from "./componentPackageWorkspace";

let workspace: ComponentPackageWorkspace;
/** A folder with nothing in it, like a Python, Go or YAML project's: no tsconfig.json, no package.json. */
let consumer: string;

beforeAll(async () => {
  workspace = await componentPackageWorkspace("component-sdks-");
  consumer = workspace.emptyFolder("consumer");
});

afterAll(() => workspace?.close());

describe("the component package's schema", () => {
  it("is what npm run schema prints, served to a folder without a tsconfig.json", async () => {
    // From another folder, as `pulumi package add` runs: at this repository's root the CLI refuses a folder holding
    // both Pulumi.yaml and PulumiPlugin.yaml ("detected both PulumiPlugin.yaml and Pulumi.yaml"). With no
    // tsconfig.json where the CLI runs, @pulumi/pulumi's run-plugin type-checks the package with ts-node's defaults
    // (strict off): the package failed to compile there (TS2322, `pulumi.output(undefined)` is Output<any> without
    // strictNullChecks) until its empty outputs were typed.
    const schema = await workspace.pulumiOk(consumer, "package", "get-schema", projectRoot);

    // The CLI reads the schema into Pulumi's package schema format and writes that back: the SDK analyser's
    // `optional` flags, which the format lacks (optionality is in the required lists), an empty dependencies list and
    // an object type's empty required list (`required,omitempty` in pkg/v3 codegen/schema ObjectTypeSpec) drop out,
    // and an empty config appears. Everything else must be the same.
    const droppedByTheCli = (key: string, value: unknown) =>
      (key === "optional" && typeof value === "boolean") ||
      (key === "required" && Array.isArray(value) && value.length === 0);
    const { dependencies, ...fromSdk } = JSON.parse(JSON.stringify(await packageSchema()), (key, value: unknown) =>
      droppedByTheCli(key, value) ? undefined : value,
    ) as Record<string, unknown>;
    expect(dependencies).toEqual([]);
    expect(JSON.parse(schema.stdout)).toEqual({ ...fromSdk, config: {} });
  });
});

describe("the Python SDK", () => {
  let program: string;
  let python: string;

  beforeAll(async () => {
    ({ program, python } = await pythonExample(workspace, "python-program"));
  });

  it("installs into a virtual environment with pulumi from PyPI, and the example program type-checks and imports it", async () => {
    const checked = await run(python, ["-m", "mypy", "--strict", "__main__.py"], { cwd: program });
    expect(checked.output).toContain("Success: no issues found in 1 source file");
    expect(checked.code).toBe(0);

    const imported = await runOk(
      python,
      ["-c", "import pulumi_apim_entra_auth as p; print(p.EntraProtectedApis.__module__, p.ClientSpecArgs.__name__)"],
      { cwd: program },
    );
    expect(imported.stdout.trim()).toBe("pulumi_apim_entra_auth.entra_protected_apis ClientSpecArgs");
  });

  it("types the component's arguments: mypy refuses a misspelt one", async () => {
    const source = fs.readFileSync(path.join(program, "__main__.py"), "utf8");
    expect(source).toContain('display_name="My-Client-App"');
    fs.writeFileSync(
      path.join(program, "misspelt.py"),
      source.replace('display_name="My-Client-App"', 'display_nmae="My-Client-App"'),
    );
    const checked = await run(python, ["-m", "mypy", "--strict", "misspelt.py"], { cwd: program });
    expect(checked.code).not.toBe(0);
    expect(checked.output).toContain('Unexpected keyword argument "display_nmae" for "ClientSpecArgs"');
  });
});

describe("the Go SDK", () => {
  let program: string;

  beforeAll(async () => {
    ({ program } = await goExample(workspace, "go-program"));
  });

  it("builds (go build) with the example program that uses it", async () => {
    await runOk("go", ["build", "-o", path.join(program, "example"), "."], { cwd: program });
    expect(fs.statSync(path.join(program, "example")).isFile()).toBe(true);
  });

  it("types the component's arguments: go vet refuses a misspelt field", async () => {
    const source = fs.readFileSync(path.join(program, "main.go"), "utf8");
    expect(source).toContain('DisplayName:     "My-Client-App"');
    const misspelt = workspace.emptyFolder("go-misspelt");
    fs.cpSync(program, misspelt, { recursive: true });
    fs.writeFileSync(path.join(misspelt, "main.go"), source.replace("DisplayName:     ", "DisplayNmae:     "));
    const vetted = await run("go", ["vet", "."], { cwd: misspelt });
    expect(vetted.code).not.toBe(0);
    expect(vetted.output).toContain("unknown field DisplayNmae in struct literal of type apimentraauth.ClientSpecArgs");
  });
});

describe("the Node.js SDK", () => {
  let program: string;
  const usesTheSdk = (displayNameKey: string) =>
    [
      'import * as apimEntraAuth from "./sdks/apim-entra-auth/nodejs";',
      "",
      'const catalogue = new apimEntraAuth.EntraProtectedApis("catalogue", {',
      '  apim: { resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" },',
      '  apis: [{ name: "orders", displayName: "My-APIM-API", path: "orders", backendUrl: "https://orders.dev.example.com" }],',
      `  clients: [{ name: "reporting", ${displayNameKey}: "My-Client-App", secretRotatedOn: "2026-11-23", apis: ["orders"] }],`,
      "});",
      "export const gatewayUrl = catalogue.gatewayUrl;",
      "",
    ].join("\n");

  beforeAll(async () => {
    program = workspace.emptyFolder("nodejs-program");
    await workspace.generateSdk("nodejs", path.join(program, "sdks", "apim-entra-auth"));
    // The SDK's and the program's dependencies, as npm would install them: the project's own copies.
    for (const name of ["@pulumi/pulumi", "@types/node"]) {
      fs.mkdirSync(path.dirname(path.join(program, "node_modules", name)), { recursive: true });
      fs.symlinkSync(path.join(projectRoot, "node_modules", name), path.join(program, "node_modules", name));
    }
    fs.writeFileSync(
      path.join(program, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, target: "ES2022", module: "nodenext", types: ["node"], noEmit: true },
        files: ["index.ts"],
      }),
    );
  });

  const tsc = path.join(projectRoot, "node_modules", "typescript", "bin", "tsc");

  it("type-checks (tsc, with its own tsconfig.json), and so does a program that uses it", async () => {
    const sdk = path.join(program, "sdks", "apim-entra-auth", "nodejs");
    await runOk(process.execPath, [tsc, "-p", path.join(sdk, "tsconfig.json"), "--noEmit"], { cwd: sdk });

    fs.writeFileSync(path.join(program, "index.ts"), usesTheSdk("displayName"));
    await runOk(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: program });
  });

  it("types the component's arguments: tsc refuses a misspelt one", async () => {
    fs.writeFileSync(path.join(program, "index.ts"), usesTheSdk("displayNmae"));
    const checked = await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: program });
    expect(checked.code).not.toBe(0);
    expect(checked.output).toContain("'displayNmae' does not exist in type 'ClientSpecArgs'");
  });
});
