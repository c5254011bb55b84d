import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { renderPlanMarkdown } from "../tools/lib/planReport";
import { readStackConfig, stackNames } from "../tools/lib/stackFiles";
import { planPath, projectDir, runPlan } from "../tools/plan";
import { evaluate, guideConfig } from "./support/evaluate";

/** Evaluates a stack from its stack file the way `npm run plan` does, with a fresh module registry. */
const evaluateStackFile = (stack: string, dir = projectDir) => {
  const { config, secretKeys } = readStackConfig(dir, stack);
  return evaluate(config, stack, undefined, secretKeys);
};

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

describe("checked-in plans", () => {
  it.each(stackNames(projectDir))("plans/%s.md matches what the program would create now", async (stack) => {
    const current = renderPlanMarkdown(await evaluateStackFile(stack));
    const file = planPath(stack);
    const checkedIn = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    if (checkedIn !== current) {
      expect.fail(`plans/${stack}.md is stale; refresh it with:  npm run plan -- --stack ${stack} --write`);
    }
  });
});

describe("npm run plan", () => {
  it("prints the dev stack by default, with the legend, the tree and the rendered policy", async () => {
    const { out, io } = capture();
    const code = await runPlan([], { ...io, evaluate: (stack) => evaluateStackFile(stack) });
    expect(code).toBe(0);
    const text = out.join("\n");
    expect(text).toContain("# Plan of stack `dev`");
    expect(text).toContain("nothing was deployed and no Azure API was called");
    expect(text).toContain("- identifierUri: `api://mock-orders-app-client-id` ← orders-app.clientId");
    expect(text).toContain("- principalObjectId: `mock-reporting-sp-object-id` ← reporting-sp.objectId");
    expect(text).toContain("- clientSecret: `[secret]` ← reporting-secret-2026-11-23.value");
    expect(text).toContain("<audience>mock-orders-app-client-id</audience>");
    expect(text).not.toContain("mock-reporting-secret-2026-11-23-value");
  });

  it("writes the same data as JSON with every secret redacted", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), "plan.json");
    const code = await runPlan(["--json", file], { ...capture().io, evaluate: (stack) => evaluateStackFile(stack) });
    expect(code).toBe(0);
    const text = fs.readFileSync(file, "utf8");
    const data = JSON.parse(text);
    expect(Object.keys(data)).toEqual(["stack", "resources", "outputs", "policies"]);
    expect(data.stack).toBe("dev");
    expect(Object.keys(data.resources[1])).toEqual(["urn", "type", "name", "parent", "inputs"]);
    expect(data.outputs.clients.reporting.clientSecret).toBe("[secret]");
    const server = data.resources.find((r: { name: string }) => r.name === "orders-authorization-server");
    expect(server.inputs.clientSecret).toBe("[secret]");
    expect(data.policies.orders).toBe(data.outputs.apis.orders.policy);
    expect(text).not.toContain("mock-reporting-secret-2026-11-23-value");
  });

  it("prints the loader's error and exits 1 on a bad config", async () => {
    const { out, err, io } = capture();
    const bad = guideConfig({ tenantId: "common" });
    const code = await runPlan(["--stack", "broken"], { ...io, evaluate: (stack) => evaluate(bad, stack) });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain(`apim-entra-auth:tenantId: "common" is not allowed`);
  });

  it("says which stacks exist when the stack file is missing", async () => {
    const { err, io } = capture();
    expect(await runPlan(["--stack", "nope"], { ...io, evaluate: (stack) => evaluateStackFile(stack) })).toBe(1);
    expect(err.join("\n")).toContain("No Pulumi.nope.yaml");
    expect(err.join("\n")).toContain("stacks with a file: dev");
  });

  it("exits 2 on an unknown flag", async () => {
    const { err, io } = capture();
    expect(await runPlan(["--stak", "dev"], io)).toBe(2);
    expect(err.join("\n")).toContain("usage: plan");
  });
});

describe("stack files", () => {
  const project = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-"));
    fs.copyFileSync(path.join(projectDir, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    return dir;
  };

  it("take defaults from Pulumi.yaml, namespaced keys from the stack file and ignore other namespaces", () => {
    const dir = project();
    fs.writeFileSync(
      path.join(dir, "Pulumi.qa.yaml"),
      "config:\n  azure-native:location: westeurope\n  apim-entra-auth:nameSuffix: qa1\n  protect: true\n",
    );
    expect(readStackConfig(dir, "qa")).toEqual({
      config: { authorityHost: "https://login.microsoftonline.com", protect: true, nameSuffix: "qa1" },
      secretKeys: [],
    });
  });

  it("never decrypt secure values: they show as [secret], and the plan shows them so", async () => {
    const dir = project();
    const devYaml = fs.readFileSync(path.join(projectDir, "Pulumi.dev.yaml"), "utf8");
    fs.writeFileSync(
      path.join(dir, "Pulumi.sec.yaml"),
      devYaml.replace("displayName: My-Client-App", "displayName:\n        secure: v1:c2VjcmV0LWRpc3BsYXk="),
    );
    const { config, secretKeys } = readStackConfig(dir, "sec");
    expect(secretKeys).toEqual(["clients"]);
    expect((config.clients as { displayName: string }[])[0]?.displayName).toBe("[secret]");
    const text = renderPlanMarkdown(await evaluateStackFile("sec", dir));
    expect(text).toContain("- displayName: `[secret]-sec`");
    expect(text).not.toContain("c2VjcmV0");
  });
});
