// The committed pipelines' steps that need no cloud, run: each exactly as written, in its CI system's shell, on a clean
// copy of the repository, with the environment the pipeline gives it, once per committed stack where the step runs per
// stack. Which steps those are is decided by stepRole and listed here, so a new step cannot go unnoticed. The steps
// that need the cloud run with stand-in commands in tests/pipelineCloudSteps.test.ts. What this cannot prove: what
// GitHub's and Azure DevOps' runners, actions and tasks do beyond the documented behaviour the helper imitates.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { breakingNotice, commentMarker } from "../tools/pipeline/previewComment";
import { projectDir } from "../tools/plan";
import { stackNames } from "../tools/preview/stackFiles";
import {
  azurePipelineFiles,
  azureSteps,
  cleanCopies,
  evaluateGitHub,
  type GitHubContext,
  githubJobOutputs,
  githubSteps,
  githubTruthy,
  groupBy,
  type PipelineStep,
  pullRequestContext,
  runStep,
  type StepRole,
  type StepRun,
  stepRole,
  withCommittedStacks,
  workflowFiles,
} from "./support/pipelineSteps";

const committedStacks = stackNames(projectDir);
const freshCopy = cleanCopies();

interface StepResult {
  step: PipelineStep;
  role: StepRole;
  /** False when the step's `if` (GitHub) or an earlier failure (Azure DevOps' default condition) skipped it. */
  reached: boolean;
  run?: StepRun;
}
interface JobRun {
  job: string;
  stack?: string;
  dir: string;
  steps: StepResult[];
}

/**
 * Runs one job's offline steps in order on a fresh copy, as the runner would, skipping the others; `change` edits the
 * copy's working tree first (what the pull request changes against origin/main).
 */
async function runJob(steps: PipelineStep[], context: GitHubContext, change?: (dir: string) => void): Promise<JobRun> {
  const dir = freshCopy();
  change?.(dir);
  const results: StepResult[] = [];
  const stepOutputs: Record<string, { outputs: Record<string, string> }> = {};
  let failed = false;
  for (const step of steps) {
    const role = stepRole(step);
    const reached =
      step.system === "GitHub Actions" && step.condition
        ? githubTruthy(evaluateGitHub(step.condition, { ...context, steps: stepOutputs }, failed))
        : !failed;
    if (!reached || role.runs !== "offline") {
      results.push({ step, role, reached });
      continue;
    }
    const run = await runStep({ ...step, ...step.resolve?.(stepOutputs) }, { dir });
    if (step.id) stepOutputs[step.id] = { outputs: run.outputs };
    failed ||= run.status !== 0;
    results.push({ step, role, reached, run });
  }
  return { job: steps[0]?.job ?? "", stack: steps[0]?.stack, dir, steps: results };
}

/**
 * Runs a workflow's jobs in the order their `needs` allow, side by side where they may (the jobs ready together, a
 * matrix's jobs), feeding each job's outputs to the jobs that need it; `change` edits each job's copy first.
 */
async function runWorkflow(file: string, context: GitHubContext, change?: (dir: string) => void): Promise<JobRun[]> {
  const needs: NonNullable<GitHubContext["needs"]> = {};
  const runs: JobRun[] = [];
  for (;;) {
    const steps = (await githubSteps(file, { ...context, needs })).filter((step) => !(step.job in needs));
    const ready = groupBy(steps, (step) => step.job);
    if (ready.size === 0) return runs;
    const results = await Promise.all(
      [...ready].map(async ([job, jobSteps]) => {
        const instances = [...groupBy(jobSteps, (step) => step.stack)];
        const instanceRuns = await Promise.all(
          instances.map(([stack, instanceSteps]) =>
            runJob(instanceSteps, { ...context, needs, matrix: stack === undefined ? {} : { stack } }, change),
          ),
        );
        const stepOutputs = Object.fromEntries(
          (instanceRuns.at(-1)?.steps ?? []).flatMap((r) =>
            r.step.id && r.run ? [[r.step.id, { outputs: r.run.outputs }]] : [],
          ),
        );
        needs[job] = { outputs: await githubJobOutputs(file, job, { ...context, steps: stepOutputs }) };
        return instanceRuns;
      }),
    );
    runs.push(...results.flat()); // in the workflow's order, whichever finished first
  }
}

/** Runs each Azure DevOps job's offline steps in order on a fresh copy. */
async function runAzurePipeline(): Promise<JobRun[]> {
  const steps = azureSteps();
  const jobs = groupBy(steps, (step) => step.job);
  const runs: JobRun[] = [];
  for (const jobSteps of jobs.values()) runs.push(await runJob(jobSteps, {}));
  return runs;
}

const describeStep = (r: StepResult) =>
  `${r.step.file} ${r.step.job}${r.step.stack ? ` (${r.step.stack})` : ""}: ${r.step.label}`;

/** Every offline step ran and succeeded; the run's output is in the failure message. */
function expectOfflineStepsPassed(runs: JobRun[]): StepResult[] {
  const offline = runs.flatMap((run) => run.steps.filter((r) => r.role.runs === "offline"));
  expect(offline.length).toBeGreaterThan(0);
  for (const result of offline) {
    expect(result.reached, `${describeStep(result)} was skipped by its condition`).toBe(true);
    const { status, stdout, stderr } = result.run as StepRun;
    expect(status, `${describeStep(result)}\n${stdout}\n${stderr}`).toBe(0);
  }
  return offline;
}

const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), "utf8");

describe("every step that needs no cloud, run as written on a clean copy", () => {
  it("pull-request.yml: guards every stack, lists them, and per stack diffs the plan against the base and builds the comment, saying when a change breaks callers", async () => {
    // The pull request renames dev's client without formerNames, which deletes its registration: its callers break.
    const renameDevClient = (dir: string) => {
      const file = path.join(dir, "Pulumi.dev.yaml");
      fs.writeFileSync(file, read(dir, "Pulumi.dev.yaml").replace(/(name|client): reporting/g, "$1: reports"));
    };
    const runs = await runWorkflow("pull-request.yml", pullRequestContext(), renameDevClient);
    const offline = expectOfflineStepsPassed(runs);

    expect(offline.map(describeStep)).toEqual([
      ".github/workflows/pull-request.yml test: Guard every committed stack (its offline plan, judged by guard/rules.ts)",
      ".github/workflows/pull-request.yml stacks: List the committed stacks (dev first, prod last)",
      ...["dev", "prod"].flatMap((stack) => [
        `.github/workflows/pull-request.yml preview (${stack}): Offline plan diff against the base branch`,
        `.github/workflows/pull-request.yml preview (${stack}): Build the comment, within GitHub's 65,536 characters`,
      ]),
    ]);
    const guard = offline[0]?.run as StepRun;
    expect(guard.stdout.split("\n").filter((line) => line.startsWith("stack "))).toEqual(
      committedStacks.map((stack) => `stack ${stack}:`),
    );
    const previews = runs.filter((run) => run.job === "preview");
    expect(previews.map((run) => run.stack).sort()).toEqual(committedStacks);
    for (const run of previews) {
      expect(read(run.dir, "plan-diff.md").split("\n")[0]).toBe(
        `Changes to stack ${run.stack}: origin/main → working tree`,
      );
      const comment = read(run.dir, "comment.md");
      expect(comment.startsWith(`${commentMarker(run.stack as string)}\n`)).toBe(true);
      expect(comment).toContain(read(run.dir, "plan-diff.md"));
      expect(comment).toContain("```diff\n(not produced)\n```");
      // --fail-on-breaking exited 1 for dev only; the step went on, and only dev's comment says so.
      const planDiff = run.steps.find((r) => r.step.label === "Offline plan diff against the base branch");
      expect(planDiff?.run?.outputs).toEqual(run.stack === "dev" ? { breaking: "true" } : {});
      expect(comment.includes(breakingNotice), run.stack).toBe(run.stack === "dev");
    }
    const devDiff = read(previews.find((run) => run.stack === "dev")?.dir as string, "plan-diff.md");
    expect(devDiff).toContain("  ! breaks client reporting's callers (granted orders)");
  }, 600_000);

  it("main.yml: lists the stacks the deploy walks (its other steps need Azure)", async () => {
    const runs = await runWorkflow("main.yml", pullRequestContext());
    const offline = expectOfflineStepsPassed(runs);

    expect(offline.map(describeStep)).toEqual([
      ".github/workflows/main.yml stacks: List the committed stacks (dev first, prod last)",
    ]);
    expect(offline[0]?.run?.outputs).toEqual({ stacks: JSON.stringify(["dev", "prod"]) });
    expect(runs.filter((run) => run.job === "deploy").map((run) => run.stack)).toEqual(["dev", "prod"]);
  }, 600_000);

  it("drift.yml: lists the stacks it checks; the issue's text is built only after a drift check found drift", async () => {
    const runs = await runWorkflow("drift.yml", pullRequestContext());
    const reached = expectOfflineStepsPassed(
      runs.map((run) => ({ ...run, steps: run.steps.filter((r) => r.reached) })),
    );

    expect(reached.map(describeStep)).toEqual([
      ".github/workflows/drift.yml stacks: List the committed stacks (dev first, prod last)",
    ]);
    expect(reached[0]?.run?.outputs).toEqual({ stacks: JSON.stringify(["dev", "prod"]) });
    const checks = runs.filter((run) => run.job === "drift");
    expect(checks.map((run) => run.stack)).toEqual(["dev", "prod"]);
    // Without a drift check's outputs (it needs Azure) the text is not built; pipelineCloudSteps runs the chain.
    for (const run of checks) {
      const build = run.steps.find((r) => r.step.label.startsWith("Build the drift issue's text"));
      expect(build?.reached).toBe(false);
    }
  }, 600_000);

  it("azure-pipelines.yml: guards every stack in the test stage", async () => {
    const runs = await runAzurePipeline();
    const offline = expectOfflineStepsPassed(runs);

    expect(offline.map(describeStep)).toEqual([
      "azure-pipelines.yml test/test: Guard every committed stack (its offline plan, judged by guard/rules.ts)",
    ]);
  }, 600_000);

  it("the guard step of both systems fails when a committed stack cannot be planned", async () => {
    const guardSteps = [
      ...(await githubSteps("pull-request.yml")).filter((step) => step.script?.includes("npm run guard")),
      ...azureSteps().filter((step) => step.script?.includes("npm run guard")),
    ];
    expect(guardSteps).toHaveLength(2);
    const dir = freshCopy();
    fs.writeFileSync(path.join(dir, "Pulumi.qa.yaml"), "config:\n  apim-entra-auth:apis: []\n");

    const runs = await Promise.all(guardSteps.map((step) => runStep(step, { dir })));
    for (const [i, { status, stdout, stderr }] of runs.entries()) {
      expect(status, `${guardSteps[i]?.file}\n${stdout}\n${stderr}`).not.toBe(0);
      expect(stdout).toContain("stack qa:");
      expect(stderr).toContain("error: stack qa cannot be planned:");
    }
  }, 600_000);
});

describe("which steps run here", () => {
  it.each([
    ["npm ci", undefined, "skipped"],
    ["npm test", undefined, "skipped"],
    ["npm run guard -- --all-stacks", undefined, "offline"],
    ["echo hello > out.txt", undefined, "offline"],
    ["npm ci && pulumi up --yes", undefined, "cloud"],
    ["set -e\n  pulumi stack select dev", undefined, "cloud"],
    ['export X="$(az account show)"', undefined, "cloud"],
    ['npm run smoke -- --stack "$STACK"', undefined, "cloud"],
    ["curl -fsSL https://get.pulumi.com | sh", undefined, "network"],
    [undefined, "azure/login@v2", "cloud"],
    [undefined, "pulumi/auth-actions@v1", "cloud"],
    [undefined, "actions/checkout@v4", "action"],
    ["npm run plan", "AzureCLI@2", "cloud"],
  ])("%j (%s) → %s", (script, action, runs) => {
    expect(stepRole({ script, action }).runs).toBe(runs);
  });

  it("accounts for every step of the committed pipelines: a new step runs offline unless it reaches the cloud", async () => {
    const steps = [
      ...(await Promise.all(workflowFiles.map((file) => githubSteps(file, withCommittedStacks())))).flat(),
      ...azurePipelineFiles.flatMap((file) => azureSteps({}, file)),
    ];
    const inventory = [
      ...new Set(
        steps.map(
          (step) =>
            `${step.file} ${step.job.replace(/^(stack|drift)_\w+\//, "<stack>/")}: ${step.label} → ${stepRole(step).runs}`,
        ),
      ),
    ];
    expect(inventory).toEqual([
      ".github/workflows/drift.yml stacks: actions/checkout@v4 → action",
      ".github/workflows/drift.yml stacks: actions/setup-node@v4 → action",
      ".github/workflows/drift.yml stacks: npm ci → skipped",
      ".github/workflows/drift.yml stacks: List the committed stacks (dev first, prod last) → offline",
      ".github/workflows/drift.yml drift: actions/checkout@v4 → action",
      ".github/workflows/drift.yml drift: actions/setup-node@v4 → action",
      ".github/workflows/drift.yml drift: npm ci → skipped",
      ".github/workflows/drift.yml drift: azure/login@v2 → cloud",
      ".github/workflows/drift.yml drift: Keep the Azure CLI signed in for the rest of the job → cloud",
      ".github/workflows/drift.yml drift: pulumi/auth-actions@v1 → cloud",
      ".github/workflows/drift.yml drift: pulumi/actions@v6 → action",
      ".github/workflows/drift.yml drift: Drift check (a refreshed preview, then the smoke test) → cloud",
      ".github/workflows/drift.yml drift: Build the drift issue's text, within GitHub's 65,536 characters → offline",
      ".github/workflows/drift.yml drift: Open, update or close the stack's drift issue → action",
      ".github/workflows/main.yml test: actions/checkout@v4 → action",
      ".github/workflows/main.yml test: actions/setup-node@v4 → action",
      ".github/workflows/main.yml test: npm ci → skipped",
      ".github/workflows/main.yml test: npm test → skipped",
      ".github/workflows/main.yml stacks: actions/checkout@v4 → action",
      ".github/workflows/main.yml stacks: actions/setup-node@v4 → action",
      ".github/workflows/main.yml stacks: npm ci → skipped",
      ".github/workflows/main.yml stacks: List the committed stacks (dev first, prod last) → offline",
      ".github/workflows/main.yml deploy: actions/checkout@v4 → action",
      ".github/workflows/main.yml deploy: actions/setup-node@v4 → action",
      ".github/workflows/main.yml deploy: npm ci → skipped",
      ".github/workflows/main.yml deploy: azure/login@v2 → cloud",
      ".github/workflows/main.yml deploy: Keep the Azure CLI signed in for the rest of the job → cloud",
      ".github/workflows/main.yml deploy: pulumi/auth-actions@v1 → cloud",
      ".github/workflows/main.yml deploy: pulumi/actions@v6 → action",
      ".github/workflows/main.yml deploy: pulumi preview, judged by the guard's CrossGuard pack → cloud",
      ".github/workflows/main.yml deploy: pulumi up, judged by the same pack (a mandatory violation stops it before any change) → cloud",
      ".github/workflows/main.yml deploy: Smoke test → cloud",
      ".github/workflows/pull-request.yml test: actions/checkout@v4 → action",
      ".github/workflows/pull-request.yml test: actions/setup-node@v4 → action",
      ".github/workflows/pull-request.yml test: npm ci → skipped",
      ".github/workflows/pull-request.yml test: npm test → skipped",
      ".github/workflows/pull-request.yml test: Guard every committed stack (its offline plan, judged by guard/rules.ts) → offline",
      ".github/workflows/pull-request.yml stacks: actions/checkout@v4 → action",
      ".github/workflows/pull-request.yml stacks: actions/setup-node@v4 → action",
      ".github/workflows/pull-request.yml stacks: npm ci → skipped",
      ".github/workflows/pull-request.yml stacks: List the committed stacks (dev first, prod last) → offline",
      ".github/workflows/pull-request.yml preview: actions/checkout@v4 → action",
      ".github/workflows/pull-request.yml preview: actions/setup-node@v4 → action",
      ".github/workflows/pull-request.yml preview: npm ci → skipped",
      ".github/workflows/pull-request.yml preview: azure/login@v2 → cloud",
      ".github/workflows/pull-request.yml preview: pulumi/auth-actions@v1 → cloud",
      ".github/workflows/pull-request.yml preview: pulumi/actions@v6 → action",
      ".github/workflows/pull-request.yml preview: Offline plan diff against the base branch → offline",
      ".github/workflows/pull-request.yml preview: pulumi preview, judged by the guard's CrossGuard pack → cloud",
      ".github/workflows/pull-request.yml preview: Keep the whole plan diff and preview (the comment may have to cut them) → action",
      ".github/workflows/pull-request.yml preview: Build the comment, within GitHub's 65,536 characters → offline",
      ".github/workflows/pull-request.yml preview: Comment the preview and the plan diff on the pull request → action",
      "azure-pipelines-drift.yml <stack>/drift: NodeTool@0 → action",
      "azure-pipelines-drift.yml <stack>/drift: npm ci → skipped",
      "azure-pipelines-drift.yml <stack>/drift: Install the Pulumi CLI → network",
      "azure-pipelines-drift.yml <stack>/drift: Drift check (a refreshed preview, then the smoke test) → cloud",
      "azure-pipelines.yml test/test: NodeTool@0 → action",
      "azure-pipelines.yml test/test: npm ci → skipped",
      "azure-pipelines.yml test/test: npm test → skipped",
      "azure-pipelines.yml test/test: Guard every committed stack (its offline plan, judged by guard/rules.ts) → offline",
      "azure-pipelines.yml <stack>/preview: NodeTool@0 → action",
      "azure-pipelines.yml <stack>/preview: npm ci → skipped",
      "azure-pipelines.yml <stack>/preview: Install the Pulumi CLI → network",
      "azure-pipelines.yml <stack>/preview: pulumi preview, judged by the guard's CrossGuard pack → cloud",
      "azure-pipelines.yml <stack>/up: checkout: self → action",
      "azure-pipelines.yml <stack>/up: NodeTool@0 → action",
      "azure-pipelines.yml <stack>/up: npm ci → skipped",
      "azure-pipelines.yml <stack>/up: Install the Pulumi CLI → network",
      "azure-pipelines.yml <stack>/up: pulumi up, then the smoke test → cloud",
    ]);
  });
});
