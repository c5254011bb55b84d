// Bad input to EntraProtectedApis from a YAML, Python or Go program, through the real Pulumi CLI and the official
// YAML, Python and Go language hosts: a bad value reaches the component, which refuses it with the same message a
// TypeScript program gets, naming the argument, before it registers anything; a misspelt argument never reaches it,
// since each language's own checks (the YAML host's schema type check, Python's and Go's compilers through the
// generated SDK, see sdks.test.ts) refuse it first. No tenant is needed: nothing gets as far as a provider. What it
// cannot prove: a deployment of these programs (that needs the local tenant).
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ComponentPackageWorkspace,
  componentPackageWorkspace,
  goExample,
  pythonExample,
  yamlExample,
} from "./componentPackageWorkspace";

let workspace: ComponentPackageWorkspace;

beforeAll(async () => {
  workspace = await componentPackageWorkspace("component-input-");
});

afterAll(() => workspace?.close());

const badPath = [
  'Invalid arguments for EntraProtectedApis "catalogue":',
  `  - apis[0] (orders).path: "/orders" is not allowed; use a URL path of 1–400 characters without a leading or trailing slash`,
];

/**
 * `pulumi preview` and `pulumi up` in the program fail with `messages`, and the stack then holds no resource but
 * Pulumi's own (the stack, and the component package's provider that refused): nothing of Entra ID or APIM.
 */
async function refusedBeforeRegistration(program: string, messages: string[]) {
  // A stack of its own: the examples share a project name, and the workspace one file backend.
  await workspace.pulumiOk(program, "stack", "init", path.basename(program));
  const preview = await workspace.pulumi(program, "preview");
  expect(preview.code).not.toBe(0);
  for (const message of messages) expect(preview.output).toContain(message);

  const up = await workspace.pulumi(program, "up", "--yes", "--skip-preview");
  expect(up.code).not.toBe(0);
  for (const message of messages) expect(up.output).toContain(message);
  const state = JSON.parse((await workspace.pulumiOk(program, "stack", "export")).stdout) as {
    deployment: { resources?: { type: string }[] };
  };
  const registered = (state.deployment.resources ?? []).map((resource) => resource.type);
  expect(registered).toContain("pulumi:pulumi:Stack");
  expect(registered.filter((type) => !type.startsWith("pulumi:"))).toEqual([]);
}

describe("a YAML program (the official YAML host)", () => {
  it("with a bad path is refused by the component, naming the argument, before anything is registered", async () => {
    const { program } = yamlExample(workspace, "yaml-bad-path", (source) =>
      source.replace("          path: orders\n", "          path: /orders\n"),
    );
    await refusedBeforeRegistration(program, badPath);
  });

  it("with a misspelt argument is refused by the YAML host's type check against the schema, naming the key", async () => {
    const { program } = yamlExample(workspace, "yaml-misspelt", (source) =>
      source.replace("          secretRotatedOn:", "          secretRotatedOnn:"),
    );
    await refusedBeforeRegistration(program, [
      "Property secretRotatedOnn does not exist on 'apim-entra-auth:index:ClientSpec'",
      "Existing properties are: secretRotatedOn,",
    ]);
  });
});

describe("a Python program (the official Python host, our program runner)", () => {
  it("with a bad path is refused by the component, naming the argument, before anything is registered", async () => {
    const { program } = await pythonExample(workspace, "python-bad-path", (source) =>
      source.replace('path="orders"', 'path="/orders"'),
    );
    await refusedBeforeRegistration(program, badPath);
  });
});

describe("a Go program (the official Go host)", () => {
  it("with a bad path is refused by the component, naming the argument, before anything is registered", async () => {
    const { program } = await goExample(workspace, "go-bad-path", (source) =>
      source.replace('Path:         "orders"', 'Path:         "/orders"'),
    );
    await refusedBeforeRegistration(program, badPath);
  });
});
