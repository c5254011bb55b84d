// `pulumi package add` of this repository as a user runs it: from a clone checked out at a release tag, into a
// TypeScript program, with the real Pulumi CLI and our Node.js language host (its GeneratePackage and Link). The
// clone is made from the repository's committed HEAD, tagged in a temporary bare copy (never in this repository).
// What it cannot prove: the same by URL. The CLI fetches a package by URL only over https, and v3.276.0 then records
// a source whose host has a port as a local path and stops (a nil dereference in `package add`) after generating and
// linking the SDK; a loopback Git server has a port, github.com has none. Nor Python or Go programs: the official
// Python and Go hosts the proxy serves (2025-08) speak an older Link request than this CLI sends, so there the SDK is
// installed as sdks.test.ts does; the YAML host (pulumi-yaml v1.25.0) implements no Link.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../local/engine";
import { type ComponentPackageWorkspace, componentPackageWorkspace, runOk } from "./componentPackageWorkspace";

let workspace: ComponentPackageWorkspace;
let version: string;
let clone: string;
let program: string;

beforeAll(async () => {
  workspace = await componentPackageWorkspace("component-add-");
  const bare = path.join(workspace.tempDir, "apim-entra-auth.git");
  await runOk("git", ["clone", "--quiet", "--bare", projectRoot, bare], { cwd: workspace.tempDir });
  version = (
    JSON.parse((await runOk("git", ["show", "HEAD:package.json"], { cwd: bare })).stdout) as { version: string }
  ).version;
  await runOk("git", ["tag", "--annotate", `v${version}`, "--message", `v${version}`, "HEAD"], { cwd: bare });
  clone = path.join(workspace.tempDir, "apim-entra-auth");
  await runOk("git", ["clone", "--quiet", "--branch", `v${version}`, bare, clone], { cwd: workspace.tempDir });

  program = workspace.emptyFolder("typescript-program");
  fs.writeFileSync(
    path.join(program, "Pulumi.yaml"),
    "name: add-example\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
  );
  const sdk = JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const pinned = (name: string, from: Record<string, string>) => ({ [name]: from[name] as string });
  fs.writeFileSync(
    path.join(program, "package.json"),
    JSON.stringify({
      name: "add-example",
      private: true,
      dependencies: pinned("@pulumi/pulumi", sdk.dependencies),
      devDependencies: { ...pinned("@types/node", sdk.devDependencies), ...pinned("typescript", sdk.devDependencies) },
    }),
  );
  await runOk("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: program });
});

afterAll(() => workspace?.close());

describe("pulumi package add <clone at a release tag>, in a TypeScript program", () => {
  it("installs the package's dependencies, generates the SDK at the tag's version, links it and records the package", async () => {
    const added = await workspace.pulumiOk(program, "package", "add", clone);
    expect(added.output).toContain(`Installing dependencies in ${clone}`);
    expect(added.output).toContain('import * as apimEntraAuth from "@pulumi/apim-entra-auth";');
    expect(added.output).toContain("Added package apim-entra-auth");

    const project = parse(fs.readFileSync(path.join(program, "Pulumi.yaml"), "utf8")) as { packages?: unknown };
    expect(project.packages).toEqual({ "apim-entra-auth": clone });
    const manifest = JSON.parse(fs.readFileSync(path.join(program, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies["@pulumi/apim-entra-auth"]).toBe("file:sdks/apim-entra-auth");
    const sdk = JSON.parse(
      fs.readFileSync(path.join(program, "node_modules", "@pulumi", "apim-entra-auth", "package.json"), "utf8"),
    ) as { version: string; pulumi: { name: string; version: string } };
    expect(sdk.version).toBe(version);
    expect(sdk.pulumi).toMatchObject({ name: "apim-entra-auth", version });
  });

  it("lets the program use the component through the installed SDK (tsc)", async () => {
    fs.writeFileSync(
      path.join(program, "index.ts"),
      [
        'import * as apimEntraAuth from "@pulumi/apim-entra-auth";',
        "",
        'const catalogue = new apimEntraAuth.EntraProtectedApis("catalogue", {',
        '  apim: { resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" },',
        '  apis: [{ name: "orders", displayName: "My-APIM-API", path: "orders", backendUrl: "https://orders.dev.example.com" }],',
        "});",
        "export const gatewayUrl = catalogue.gatewayUrl;",
        "",
      ].join("\n"),
    );
    const tsc = path.join(program, "node_modules", "typescript", "bin", "tsc");
    const options = ["--noEmit", "--strict", "--module", "nodenext", "--types", "node", "index.ts"];
    await runOk(process.execPath, [tsc, ...options], { cwd: program });
  });
});
