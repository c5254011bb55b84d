// The pipelines' shape, checked offline with the formats' own parsers: GitHub's @actions/workflow-parser (the schema
// and model GitHub's tooling uses) and the yaml package for azure-pipelines.yml, for which no Azure DevOps parser is
// published. Their steps are run in tests/pipelineSteps.test.ts. What this cannot prove: that GitHub issues the OIDC
// subject the bootstrap trusts, that Entra accepts it, that the environments' reviewers are configured, or that the
// actions' inputs behave as their READMEs say.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { WorkflowTemplate } from "@actions/workflow-parser";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { stackNames } from "../tools/preview/stackFiles";
import { projectDir } from "../tools/plan";
import { loadWorkflow as parseWithGitHub, workflowFiles, workflowsDir } from "./support/pipelineSteps";

type Step = { name?: string; uses?: string; run?: string; id?: string; with?: Record<string, unknown>; if?: string };
type JobYaml = {
  needs?: string[];
  permissions?: Record<string, string>;
  environment?: string;
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  strategy?: { matrix?: { stack?: unknown }; "max-parallel"?: number; "fail-fast"?: boolean };
  env?: Record<string, string>;
  steps: Step[];
};
type WorkflowYaml = {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, JobYaml>;
};

/** Parses a workflow with GitHub's parser (failing on any schema error) and reads the same file as plain YAML. */
async function loadWorkflow(file: string): Promise<{ template: WorkflowTemplate; yaml: WorkflowYaml }> {
  const template = await parseWithGitHub(file);
  return { template, yaml: parse(fs.readFileSync(path.join(workflowsDir, file), "utf8")) as WorkflowYaml };
}

/** The index of the first step whose run command or action contains `text`; fails the test when none does. */
function stepIndex(job: JobYaml, text: string): number {
  const index = job.steps.findIndex((step) => `${step.run ?? ""}${step.uses ?? ""}`.includes(text));
  if (index < 0) expect.fail(`no step runs or uses ${text}`);
  return index;
}

/** Every string in a parsed YAML document. */
const stringsIn = (value: unknown): string[] =>
  typeof value === "string"
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(stringsIn)
      : value && typeof value === "object"
        ? Object.values(value).flatMap(stringsIn)
        : [];

/** What the workflow's stack-listing step writes to $GITHUB_OUTPUT when run, for real, in `dir`. */
function listedStacks(job: JobYaml, dir: string): string[] {
  const list = job.steps.find((step) => step.id === "list");
  if (!list?.run) expect.fail("no step with id list");
  const output = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gh-output-")), "output");
  execFileSync("bash", ["-e", "-c", list.run], { cwd: dir, env: { ...process.env, GITHUB_OUTPUT: output } });
  const line = fs.readFileSync(output, "utf8").trim();
  expect(line.startsWith("stacks=")).toBe(true);
  return JSON.parse(line.slice("stacks=".length));
}

/** dev first, prod last, the rest in name order: the promotion order the deploy walks. */
const promotionOrder = (stacks: string[]) => [
  ...stacks.filter((stack) => stack === "dev"),
  ...stacks.filter((stack) => stack !== "dev" && stack !== "prod").sort(),
  ...stacks.filter((stack) => stack === "prod"),
];

describe("every workflow", () => {
  it("finds the three workflows", () => {
    expect(workflowFiles.sort()).toEqual(["drift.yml", "main.yml", "pull-request.yml"]);
  });

  it.each(workflowFiles)("%s parses with GitHub's workflow parser without errors", async (file) => {
    const { template } = await loadWorkflow(file);
    expect(template.jobs.length).toBeGreaterThan(0);
  });

  it.each(workflowFiles)("%s references no secret but GITHUB_TOKEN", async (file) => {
    const { yaml } = await loadWorkflow(file);
    const secrets = stringsIn(yaml).flatMap((text) => [...text.matchAll(/\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)/g)]);
    expect(secrets.map((match) => match[1]).filter((name) => name !== "GITHUB_TOKEN")).toEqual([]);
  });

  it.each(workflowFiles)("%s pins every action to a major version or a commit SHA", async (file) => {
    const { yaml } = await loadWorkflow(file);
    const uses = Object.values(yaml.jobs).flatMap((job) => job.steps.flatMap((step) => (step.uses ? [step.uses] : [])));
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@(v\d+|[0-9a-f]{40})$/);
  });

  it.each(workflowFiles)(
    "%s grants only contents: read at the top and id-token: write only where Azure is signed in to",
    async (file) => {
      const { yaml } = await loadWorkflow(file);
      expect(yaml.permissions).toEqual({ contents: "read" });
      for (const job of Object.values(yaml.jobs)) {
        const signsIn = job.steps.some((step) => step.uses?.startsWith("azure/login@"));
        expect(job.permissions?.["id-token"] === "write").toBe(signsIn);
      }
    },
  );
});

describe("the pull-request workflow", () => {
  it("runs on pull requests to main", async () => {
    const { template, yaml } = await loadWorkflow("pull-request.yml");
    expect(Object.keys(template.events)).toEqual(["pull_request"]);
    expect(template.events.pull_request?.branches).toEqual(["main"]);
    expect(Object.keys(yaml.on)).toEqual(["pull_request"]);
  });

  it("installs, tests and guards before any preview", async () => {
    const { template, yaml } = await loadWorkflow("pull-request.yml");
    const test = yaml.jobs.test as JobYaml;
    expect(stepIndex(test, "npm ci")).toBeLessThan(stepIndex(test, "npm test"));
    expect(stepIndex(test, "npm test")).toBeLessThan(stepIndex(test, "npm run guard"));
    const preview = template.jobs.find((job) => job.id.value === "preview");
    expect(preview?.needs?.map((need) => need.value).sort()).toEqual(["stacks", "test"]);
  });

  it("previews each stack as the preview identity by OIDC, and comments the preview and the plan diff", async () => {
    const { yaml } = await loadWorkflow("pull-request.yml");
    const preview = yaml.jobs.preview as JobYaml;
    expect(preview.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
    expect(preview.strategy?.matrix?.stack).toBe("${{ fromJSON(needs.stacks.outputs.stacks) }}");
    expect(preview.concurrency?.group).toContain("${{ matrix.stack }}");
    expect(preview.env).toMatchObject({
      ARM_USE_OIDC: "true",
      ARM_CLIENT_ID: "${{ vars.AZURE_PREVIEW_CLIENT_ID }}",
      ARM_TENANT_ID: "${{ vars.AZURE_TENANT_ID }}",
      ARM_SUBSCRIPTION_ID: "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    });
    const login = preview.steps[stepIndex(preview, "azure/login@")];
    expect(login?.with).toEqual({
      "client-id": "${{ vars.AZURE_PREVIEW_CLIENT_ID }}",
      "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
      "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    });
    const order = [
      "azure/login@",
      "plan -- --base",
      "pulumi preview --diff",
      "actions/upload-artifact@",
      "tools/pipeline/previewComment.ts",
      "actions/github-script@",
    ].map((text) => stepIndex(preview, text));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const build = preview.steps[stepIndex(preview, "tools/pipeline/previewComment.ts")];
    expect(build?.run).toContain("--plan-diff plan-diff.md --preview preview.txt");
    const comment = preview.steps[stepIndex(preview, "actions/github-script@")];
    expect(comment?.if).toBe("always()");
    expect(String(comment?.with?.script)).toContain('readFileSync("comment.md"');
  });

  it("covers every committed stack file: its matrix comes from the files, listed by the workflow itself", async () => {
    const { yaml } = await loadWorkflow("pull-request.yml");
    const committed = stackNames(projectDir);
    expect(committed.length).toBeGreaterThan(0);
    expect(listedStacks(yaml.jobs.stacks as JobYaml, projectDir)).toEqual(promotionOrder(committed));
  });
});

describe("the main workflow", () => {
  it("runs on pushes to main (and by hand)", async () => {
    const { template } = await loadWorkflow("main.yml");
    expect(Object.keys(template.events).sort()).toEqual(["push", "workflow_dispatch"]);
    expect(template.events.push?.branches).toEqual(["main"]);
  });

  it("deploys each stack in its own GitHub environment, one at a time, after the tests", async () => {
    const { template, yaml } = await loadWorkflow("main.yml");
    const deploy = yaml.jobs.deploy as JobYaml;
    expect(
      template.jobs
        .find((job) => job.id.value === "deploy")
        ?.needs?.map((need) => need.value)
        .sort(),
    ).toEqual(["stacks", "test"]);
    expect(deploy.environment).toBe("${{ matrix.stack }}");
    expect(deploy.strategy).toMatchObject({ "max-parallel": 1, "fail-fast": true });
    expect(deploy.strategy?.matrix?.stack).toBe("${{ fromJSON(needs.stacks.outputs.stacks) }}");
    expect(deploy.concurrency).toEqual({ group: "deploy-${{ matrix.stack }}", "cancel-in-progress": false });
    expect(deploy.permissions).toEqual({ contents: "read", "id-token": "write" });
    expect(deploy.env).toMatchObject({
      ARM_USE_OIDC: "true",
      ARM_CLIENT_ID: "${{ vars.AZURE_CLIENT_ID }}",
      ARM_TENANT_ID: "${{ vars.AZURE_TENANT_ID }}",
      ARM_SUBSCRIPTION_ID: "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    });
  });

  it("signs in, previews, then runs up, then the smoke test, in that order", async () => {
    const { yaml } = await loadWorkflow("main.yml");
    const deploy = yaml.jobs.deploy as JobYaml;
    const order = [
      "azure/login@",
      "pulumi preview --diff",
      "pulumi up --yes",
      'npm run smoke -- --stack "$PULUMI_STACK"',
    ].map((text) => stepIndex(deploy, text));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(order.length);
  });

  it("passes the environment's SMOKE_CLIENT to smoke when set, and nothing when not (a stack with one client)", async () => {
    const { yaml } = await loadWorkflow("main.yml");
    const deploy = yaml.jobs.deploy as JobYaml;
    expect((deploy as { env?: Record<string, string> }).env?.SMOKE_CLIENT).toBe("${{ vars.SMOKE_CLIENT }}");
    const script = deploy.steps[stepIndex(deploy, "npm run smoke")]?.run ?? "";
    // The step's own bash, with npm standing in to print the arguments it would get.
    const argumentsOf = (env: Record<string, string>) =>
      execFileSync("bash", ["-c", `npm() { printf '%s\\n' "$@"; }\n${script}`], {
        env: { PATH: process.env.PATH ?? "", PULUMI_STACK: "prod", ...env },
        encoding: "utf8",
      })
        .trim()
        .split("\n");
    expect(argumentsOf({ SMOKE_CLIENT: "reporting" })).toEqual([
      "run",
      "smoke",
      "--",
      "--stack",
      "prod",
      "--client",
      "reporting",
    ]);
    expect(argumentsOf({ SMOKE_CLIENT: "" })).toEqual(["run", "smoke", "--", "--stack", "prod"]);
  });

  it("deploys every committed stack, dev first and prod last", async () => {
    const { yaml } = await loadWorkflow("main.yml");
    expect(listedStacks(yaml.jobs.stacks as JobYaml, projectDir)).toEqual(promotionOrder(stackNames(projectDir)));
  });

  it("orders any set of stack files dev first and prod last", async () => {
    const { yaml } = await loadWorkflow("main.yml");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stacks-"));
    for (const shared of ["tools", "node_modules"])
      fs.symlinkSync(path.join(projectDir, shared), path.join(dir, shared));
    for (const stack of ["prod", "qa", "dev", "staging"]) fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "");
    expect(listedStacks(yaml.jobs.stacks as JobYaml, dir)).toEqual(["dev", "qa", "staging", "prod"]);
  });
});

describe("the drift workflow", () => {
  it("runs every day and by hand", async () => {
    const { template, yaml } = await loadWorkflow("drift.yml");
    expect(Object.keys(template.events).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(yaml.on.schedule).toEqual([{ cron: "17 5 * * *" }]);
  });

  it("checks each stack as the read-only preview identity, outside any environment, and may write issues only", async () => {
    const { template, yaml } = await loadWorkflow("drift.yml");
    const drift = yaml.jobs.drift as JobYaml;
    expect(template.jobs.find((job) => job.id.value === "drift")?.needs?.map((need) => need.value)).toEqual(["stacks"]);
    expect(drift.strategy?.matrix?.stack).toBe("${{ fromJSON(needs.stacks.outputs.stacks) }}");
    expect(drift.strategy?.["fail-fast"]).toBe(false);
    expect(drift.permissions).toEqual({ contents: "read", "id-token": "write", issues: "write" });
    // A job bound to an environment would sign in with the deployer's subject and wait for prod's reviewers.
    expect(drift.environment).toBeUndefined();
    expect(drift.env).toMatchObject({
      ARM_USE_OIDC: "true",
      ARM_CLIENT_ID: "${{ vars.AZURE_PREVIEW_CLIENT_ID }}",
      ARM_TENANT_ID: "${{ vars.AZURE_TENANT_ID }}",
      ARM_SUBSCRIPTION_ID: "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    });
    expect(drift.steps[stepIndex(drift, "azure/login@")]?.with?.["client-id"]).toBe(
      "${{ vars.AZURE_PREVIEW_CLIENT_ID }}",
    );
    const order = ["azure/login@", "npm run --silent drift", "tools/pipeline/driftIssue.ts", "actions/github-script@"];
    const indices = order.map((text) => stepIndex(drift, text));
    expect(indices).toEqual([...indices].sort((a, b) => a - b));
  });

  it("checks every committed stack", async () => {
    const { yaml } = await loadWorkflow("drift.yml");
    expect(listedStacks(yaml.jobs.stacks as JobYaml, projectDir)).toEqual(promotionOrder(stackNames(projectDir)));
  });
});

describe("azure-pipelines-drift.yml", () => {
  const pipeline = parse(fs.readFileSync(path.join(projectDir, "azure-pipelines-drift.yml"), "utf8")) as {
    trigger: unknown;
    pr: unknown;
    schedules: { cron: string; branches: { include: string[] }; always: boolean }[];
    parameters: { name: string; default: string[] }[];
    variables: Record<string, string>;
  };

  it("runs on its daily schedule only, even when main has not changed", () => {
    expect(pipeline.trigger).toBe("none");
    expect(pipeline.pr).toBe("none");
    expect(pipeline.schedules).toEqual([
      { cron: "17 5 * * *", displayName: "Daily drift check", branches: { include: ["main"] }, always: true },
    ]);
  });

  it("checks every committed stack, signed in through the preview identity's service connection, never the deployer's", () => {
    const stacks = pipeline.parameters.find((parameter) => parameter.name === "stacks")?.default ?? [];
    for (const stack of stackNames(projectDir)) expect(stacks).toContain(stack);
    expect(pipeline.variables).toEqual({ previewServiceConnection: "apim-entra-auth-preview" });
    const text = fs.readFileSync(path.join(projectDir, "azure-pipelines-drift.yml"), "utf8");
    expect(text).toContain("azureSubscription: $(previewServiceConnection)");
    expect(text).not.toContain("$(serviceConnection)");
    expect(text).not.toMatch(/servicePrincipalKey|idToken|isSecret/);
  });
});

describe("azure-pipelines.yml", () => {
  type AzureStep = { task?: string; script?: string; inputs?: Record<string, unknown>; checkout?: string };
  type AzureJob = {
    job?: string;
    deployment?: string;
    dependsOn?: string;
    environment?: string;
    steps?: AzureStep[];
    strategy?: { runOnce: { deploy: { steps: AzureStep[] } } };
  };
  const pipeline = parse(fs.readFileSync(path.join(projectDir, "azure-pipelines.yml"), "utf8")) as {
    trigger: { branches: { include: string[] } };
    pr: { branches: { include: string[] } };
    parameters: { name: string; default: string[] }[];
    variables: Record<string, string>;
    stages: Record<string, unknown>[];
  };
  const stackStage = (pipeline.stages[1] as Record<string, { stage: string; jobs: AzureJob[] }[]>)[
    "${{ each stack in parameters.stacks }}"
  ]?.[0];
  const stepsOf = (job: AzureJob | undefined) => job?.steps ?? job?.strategy?.runOnce.deploy.steps ?? [];

  it("runs on main and on pull requests to main", () => {
    expect(pipeline.trigger.branches.include).toEqual(["main"]);
    expect(pipeline.pr.branches.include).toEqual(["main"]);
  });

  it("has a stage for every committed stack file", () => {
    const stacks = pipeline.parameters.find((parameter) => parameter.name === "stacks")?.default ?? [];
    for (const stack of stackNames(projectDir)) expect(stacks).toContain(stack);
    expect(stackStage?.stage).toBe("stack_${{ replace(replace(stack, '-', '_'), '.', '_') }}");
    expect((stackStage as { displayName?: string } | undefined)?.displayName).toBe("${{ stack }}");
  });

  it("tests first, then per stack previews, then deploys from main in the stack's environment, then smoke-tests", () => {
    expect((pipeline.stages[0] as { stage: string }).stage).toBe("test");
    const [preview, up] = stackStage?.jobs ?? [];
    expect(preview?.job).toBe("preview");
    expect(up?.deployment).toBe("up");
    expect(up?.dependsOn).toBe("preview");
    expect(up?.environment).toBe("${{ stack }}");
    const previewScript = String(stepsOf(preview).find((step) => step.task === "AzureCLI@2")?.inputs?.inlineScript);
    expect(previewScript).toContain('pulumi preview --diff --refresh --stack "$stack"');
    const upScript = String(stepsOf(up).find((step) => step.task === "AzureCLI@2")?.inputs?.inlineScript);
    expect(upScript.indexOf("pulumi up --yes")).toBeGreaterThan(-1);
    expect(upScript.indexOf('npm run smoke -- --stack "$stack"')).toBeGreaterThan(upScript.indexOf("pulumi up"));
  });

  it("signs in only through the workload-identity service connection, with no secret variable and no static OIDC token", () => {
    const azureSteps = [stackStage?.jobs ?? []]
      .flat()
      .flatMap(stepsOf)
      .filter((step) => step.task === "AzureCLI@2");
    expect(azureSteps.length).toBe(2);
    for (const step of azureSteps) {
      expect(step.inputs?.azureSubscription).toBe("$(serviceConnection)");
      expect(step.inputs?.addSpnToEnvironment).toBe(true);
      expect(String(step.inputs?.inlineScript)).not.toMatch(/servicePrincipalKey|idToken/);
    }
    expect(pipeline.variables).toEqual({ serviceConnection: "apim-entra-auth" });
    // $(System.AccessToken) is the job's own token, issued per run, not a stored secret: azuread requests OIDC tokens with it.
    const macros = stringsIn(pipeline).flatMap((text) =>
      [...text.matchAll(/\$\(([\w.]+)\)/g)].map((match) => match[1]),
    );
    expect([...new Set(macros)].sort()).toEqual(["System.AccessToken", "serviceConnection"]);
    expect(stringsIn(pipeline).some((text) => /isSecret/i.test(text))).toBe(false);
  });
});
