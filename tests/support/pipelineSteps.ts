// The committed pipelines' steps, read with the formats' own parsers, and a runner that executes a step's script the
// way its CI system does, on a clean copy of the repository. GitHub: @actions/workflow-parser builds the workflow
// model and @actions/expressions (the evaluator GitHub's language services use) evaluates its `${{ }}` expressions.
// Azure DevOps publishes no parser: the yaml package reads the file and `expandTemplate` applies the two template
// constructs the file uses (`${{ each }}` and `${{ <expression> }}`), refusing any other.
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import {
  convertWorkflowTemplate,
  isBasicExpression,
  isString,
  NoOperationTraceWriter,
  parseWorkflow,
  type WorkflowTemplate,
} from "@actions/workflow-parser";
import { afterAll } from "vitest";
import { parse } from "yaml";

type TemplateToken = WorkflowTemplate["env"];
import { projectDir } from "../../tools/plan";
import { stackNames } from "../../tools/preview/stackFiles";

export type CiSystem = "GitHub Actions" | "Azure DevOps";

export interface PipelineStep {
  system: CiSystem;
  /** The file, relative to the repository: `.github/workflows/<name>.yml` or `azure-pipelines*.yml`. */
  file: string;
  /** GitHub: the job id. Azure DevOps: `<stage>/<job>`. */
  job: string;
  /** The step's name, else the first line of its script, else its action or task. */
  label: string;
  /** GitHub: the step's `id`, when the workflow gives one (other steps' expressions read its outputs by it). */
  id?: string;
  /** The script as the runner gets it (GitHub: `run`; Azure DevOps: `script`, or an AzureCLI task's inline script). */
  script?: string;
  /** GitHub: `uses`. Azure DevOps: `task` (or `checkout`). */
  action?: string;
  /** The step's `if` (GitHub), as written. */
  condition?: string;
  /** The environment the step is given (workflow, job and step `env`, variables), expressions evaluated. */
  env: Record<string, string>;
  /** The committed stack the step runs for: a GitHub matrix value, or the stack of an expanded Azure DevOps stage. */
  stack?: string;
  /** GitHub: the step's env and script evaluated again once earlier steps' outputs are known. */
  resolve?(steps: GitHubContext["steps"]): Pick<PipelineStep, "env" | "script">;
}

/** What the tests do with a step: run it offline, or say why it cannot or need not run here. */
export type StepRole =
  | { runs: "offline" }
  | { runs: "skipped"; reason: string }
  | { runs: "cloud"; reason: string }
  | { runs: "action"; reason: string }
  | { runs: "network"; reason: string };

const skippedScripts: Record<string, string> = {
  "npm ci": "the suite already runs on the checkout `npm ci` installed; the clean copy links its node_modules",
  "npm test": "`npm test` is the suite these tests are part of",
};

/** Actions and tasks that sign in or act on Azure or a Pulumi backend; every other one is the runner's own setup. */
const cloudActions: [RegExp, string][] = [
  [/^azure\/login@/, "signs in to Azure"],
  [/^pulumi\/auth-actions@/, "exchanges the job's OIDC token for a Pulumi Cloud token"],
  [/^AzureCLI@/, "runs its script signed in to Azure through the service connection"],
];

/** Commands that reach Azure, Entra or a Pulumi backend, anywhere in a script. */
const cloudCommands: [RegExp, string][] = [
  [/(^|[\s;&|(])pulumi\s/m, "runs the pulumi CLI against the state backend"],
  [/(^|[\s;&|(])az\s/m, "runs the Azure CLI"],
  [/\bnpm run (smoke|token)\b/, "signs in to Entra and calls the deployed API"],
  [/\bnpm run (--silent )?drift\b/, "runs a refreshed pulumi preview against Azure, then the smoke test"],
  [/keep-azure-cli-signed-in\.sh/, "signs the Azure CLI in again and again"],
];

const networkCommands = /(^|[\s;&|(])(curl|wget)\s/m;

/**
 * Decides from a step's own text whether the tests run it. A script runs offline unless it reaches the cloud or the
 * network, so a new step is run by default; only `npm ci` and `npm test`, exactly, are skipped.
 */
export function stepRole(step: Pick<PipelineStep, "script" | "action">): StepRole {
  for (const [pattern, reason] of cloudActions) {
    if (step.action && pattern.test(step.action)) return { runs: "cloud", reason };
  }
  if (step.script === undefined) {
    return { runs: "action", reason: `${step.action ?? "this step"} is the runner's own code, not a script of ours` };
  }
  const script = step.script.trim();
  const skipped = skippedScripts[script];
  if (skipped) return { runs: "skipped", reason: skipped };
  for (const [pattern, reason] of cloudCommands) if (pattern.test(script)) return { runs: "cloud", reason };
  if (networkCommands.test(script)) return { runs: "network", reason: "downloads from the internet" };
  return { runs: "offline" };
}

// ---- GitHub Actions ----------------------------------------------------------------------------------------------

export const workflowsDir = path.join(projectDir, ".github", "workflows");
export const workflowFiles = fs
  .readdirSync(workflowsDir)
  .filter((file) => /\.ya?ml$/.test(file))
  .sort();

/** A workflow parsed by GitHub's parser; any schema error fails. */
export async function loadWorkflow(file: string): Promise<WorkflowTemplate> {
  const content = fs.readFileSync(path.join(workflowsDir, file), "utf8");
  const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((error) => error.message);
  if (errors.length > 0 || !parsed.value) throw new Error(`${file}: ${errors.join("; ")}`);
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  if (template.errors?.length) throw new Error(`${file}: ${template.errors.map((e) => e.Message).join("; ")}`);
  return template;
}

/** What a GitHub expression sees: `vars`, `github`, `matrix`, `needs`, `steps` and `env`, as plain JSON. */
export interface GitHubContext {
  vars?: Record<string, string>;
  github?: Record<string, unknown>;
  matrix?: Record<string, unknown>;
  needs?: Record<string, { outputs: Record<string, string> }>;
  steps?: Record<string, { outputs: Record<string, string> }>;
  env?: Record<string, string>;
}

const githubContextNames = ["vars", "github", "matrix", "needs", "steps", "env", "secrets", "runner", "inputs"];

/** The job-status functions an `if` may call; the runner answers them, not the expression language. */
const statusFunctions = (failed: boolean) =>
  new Map(
    (
      [
        ["success", !failed],
        ["failure", failed],
        ["always", true],
        ["cancelled", false],
      ] as const
    ).map(([name, value]) => [name, { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value) }]),
  );

/** Evaluates one GitHub expression (without `${{ }}`) with GitHub's evaluator; returns plain JSON. */
export function evaluateGitHub(expression: string, context: GitHubContext, failed = false): unknown {
  const functions = statusFunctions(failed);
  const tokens = new Lexer(expression).lex().tokens;
  const tree = new Parser(tokens, githubContextNames, [...functions.values()]).parse();
  const contextData = JSON.parse(
    JSON.stringify({ vars: {}, github: {}, matrix: {}, needs: {}, steps: {}, env: {}, ...context }),
    data.reviver,
  ) as data.Dictionary;
  const result = new Evaluator(tree, contextData, functions).evaluate();
  return JSON.parse(JSON.stringify(result, data.replacer) ?? "null");
}

/** A token's value: a literal as written, an expression (GitHub turns `a${{ b }}` into `format('a{0}', b)`) evaluated. */
function tokenText(token: TemplateToken | undefined, context: GitHubContext): string | undefined {
  if (token === undefined) return undefined;
  if (isString(token)) return token.value;
  if (isBasicExpression(token)) {
    const value = evaluateGitHub(token.expression, context);
    return typeof value === "string" ? value : value === null ? "" : JSON.stringify(value);
  }
  return String((token as { value?: unknown }).value ?? "");
}

function mappingEntries(token: TemplateToken | undefined): [string, TemplateToken][] {
  if (!token || !("count" in token)) return [];
  const mapping = token as unknown as Iterable<{ key: TemplateToken; value: TemplateToken }>;
  return [...mapping].map(({ key, value }) => [isString(key) ? key.value : String(key), value]);
}

/** The values a job's `strategy.matrix.stack` expands to in this context (undefined: the job has no stack matrix). */
function matrixStacks(strategy: TemplateToken | undefined, context: GitHubContext): string[] | undefined {
  const matrix = mappingEntries(strategy).find(([key]) => key === "matrix")?.[1];
  const stack = mappingEntries(matrix).find(([key]) => key === "stack")?.[1];
  if (!stack) return undefined;
  if (!isBasicExpression(stack)) throw new Error("the stack matrix is expected to come from an expression");
  const values = evaluateGitHub(stack.expression, context);
  if (!Array.isArray(values)) throw new Error(`matrix.stack evaluated to ${JSON.stringify(values)}, not a list`);
  return values.map(String);
}

/**
 * The steps of a workflow's jobs, once per matrix value for a job with a stack matrix, environments evaluated in
 * `context` (its `needs` decide the matrix). Jobs whose matrix cannot be evaluated yet (no `needs` given) are skipped.
 */
export async function githubSteps(file: string, context: GitHubContext = {}): Promise<PipelineStep[]> {
  const template = await loadWorkflow(file);
  const steps: PipelineStep[] = [];
  for (const job of template.jobs) {
    if (job.type !== "job") throw new Error(`${file}: job ${job.id.value} calls a reusable workflow`);
    const needsKnown = (job.needs ?? []).every((need) => context.needs?.[need.value] !== undefined);
    const stacks = needsKnown ? matrixStacks(job.strategy, context) : [];
    for (const stack of stacks ?? [undefined]) {
      const jobContext: GitHubContext = { ...context, matrix: stack === undefined ? {} : { stack } };
      const env: Record<string, string> = {};
      for (const [name, value] of [...mappingEntries(template.env), ...mappingEntries(job.env)]) {
        env[name] = tokenText(value, { ...jobContext, env }) ?? "";
      }
      for (const step of job.steps) {
        if (!("run" in step) && !("uses" in step))
          throw new Error(`${file}: job ${job.id.value} has a ${step.id} step`);
        // As the runner does when the step starts: its env and script see what earlier steps wrote.
        const resolve = (stepsSoFar: GitHubContext["steps"] = {}) => {
          const stepContext = { ...jobContext, steps: stepsSoFar };
          const stepEnv = { ...env };
          for (const [name, value] of mappingEntries(step.env)) {
            stepEnv[name] = tokenText(value, { ...stepContext, env: stepEnv }) ?? "";
          }
          const script = "run" in step ? tokenText(step.run, { ...stepContext, env: stepEnv }) : undefined;
          return { env: stepEnv, ...(script !== undefined ? { script } : {}) };
        };
        const { env: stepEnv, script } = resolve();
        const action = "uses" in step ? step.uses.value : undefined;
        const name = tokenText(step.name, jobContext);
        steps.push({
          system: "GitHub Actions",
          file: `.github/workflows/${file}`,
          job: job.id.value,
          label: name || script?.trim().split("\n")[0] || action || "",
          ...(step.id.startsWith("__") ? {} : { id: step.id }),
          ...(script !== undefined ? { script } : {}),
          ...(action !== undefined ? { action } : {}),
          ...(step.if ? { condition: step.if.expression } : {}),
          env: stepEnv,
          ...(stack !== undefined ? { stack } : {}),
          resolve,
        });
      }
    }
  }
  return steps;
}

/** A job's `outputs`, evaluated with what its steps wrote (`steps.<id>.outputs`). */
export async function githubJobOutputs(
  file: string,
  jobId: string,
  context: GitHubContext,
): Promise<Record<string, string>> {
  const job = (await loadWorkflow(file)).jobs.find((candidate) => candidate.id.value === jobId);
  return Object.fromEntries(
    mappingEntries(job?.outputs).map(([name, value]) => [name, tokenText(value, context) ?? ""]),
  );
}

/** GitHub's truthiness: false, 0, "" and null are false. */
export const githubTruthy = (value: unknown) => value !== false && value !== 0 && value !== "" && value !== null;

// ---- Azure DevOps ------------------------------------------------------------------------------------------------

export const azurePipelineFile = "azure-pipelines.yml";
/** Every committed Azure DevOps pipeline: the deploy and the scheduled drift check. */
export const azurePipelineFiles = fs
  .readdirSync(projectDir)
  .filter((file) => /^azure-pipelines.*\.ya?ml$/.test(file))
  .sort();

/** Azure Pipelines' functions the file uses; replace(a, b, c) is `a` with every `b` replaced by `c` (expressions reference). */
const azureFunctions = new Map(
  [
    {
      name: "replace",
      minArgs: 3,
      maxArgs: 3,
      call: (text: data.ExpressionData, from: data.ExpressionData, to: data.ExpressionData) =>
        new data.StringData(text.coerceString().split(from.coerceString()).join(to.coerceString())),
    },
  ].map((f) => [f.name, f as { name: string; minArgs: number; maxArgs: number; call: (...a: unknown[]) => never }]),
);

/**
 * One Azure DevOps template expression, evaluated with the names in scope (`parameters`, `variables`, loop
 * variables). The expression grammar of this subset (names, dotted access, string literals, function calls) is
 * GitHub's too, so GitHub's lexer and parser read it; functions are Azure DevOps' own, and only those implemented
 * above: anything else fails here rather than being guessed.
 */
export function evaluateAzure(expression: string, scope: Record<string, unknown>): unknown {
  const tokens = new Lexer(expression).lex().tokens;
  const tree = new Parser(tokens, Object.keys(scope), [...azureFunctions.values()]).parse();
  const scopeData = JSON.parse(JSON.stringify(scope), data.reviver) as data.Dictionary;
  const result = new Evaluator(tree, scopeData, azureFunctions as never).evaluate();
  return JSON.parse(JSON.stringify(result, data.replacer) ?? "null");
}

const templateExpression = /\$\{\{\s*([\s\S]+?)\s*\}\}/g;
const eachDirective = /^\$\{\{\s*each\s+(\w+)\s+in\s+([\s\S]+?)\s*\}\}$/;

/**
 * Expands a pipeline the way Azure DevOps compiles its templates: a sequence item `${{ each x in <list> }}: [...]`
 * becomes its items once per element with `x` in scope, and `${{ <expression> }}` in a string is replaced by its
 * value. Any other `${{ }}` key (`if`, `else`, `insert`) is refused, so a new construct fails the tests first.
 */
export function expandTemplate(node: unknown, scope: Record<string, unknown>): unknown {
  if (typeof node === "string") {
    const whole = /^\$\{\{\s*([\s\S]+?)\s*\}\}$/.exec(node);
    if (whole && !node.slice(3).includes("${{")) return evaluateAzure(whole[1] as string, scope);
    return node.replace(templateExpression, (_match, expression: string) => String(evaluateAzure(expression, scope)));
  }
  if (Array.isArray(node)) {
    return node.flatMap((item) => {
      const keys = item && typeof item === "object" && !Array.isArray(item) ? Object.keys(item) : [];
      const each = keys.length === 1 ? eachDirective.exec(keys[0] as string) : null;
      if (!each) return [expandTemplate(item, scope)];
      const [, variable, collection] = each as unknown as [string, string, string];
      const items = evaluateAzure(collection, scope);
      if (!Array.isArray(items)) throw new Error(`\${{ each }} over ${collection}: not a list`);
      const body = (item as Record<string, unknown>)[keys[0] as string];
      return items.flatMap((value) => expandTemplate(body, { ...scope, [variable]: value }) as unknown[]);
    });
  }
  if (node && typeof node === "object") {
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => {
        if (key.includes("${{")) throw new Error(`template directive ${key} is not expanded by these tests`);
        return [key, expandTemplate(value, scope)];
      }),
    );
  }
  return node;
}

type AzureStepYaml = { script?: string; task?: string; checkout?: string; displayName?: string } & Record<
  string,
  unknown
>;
type AzureJobYaml = {
  job?: string;
  deployment?: string;
  steps?: AzureStepYaml[];
  strategy?: { runOnce?: { deploy?: { steps?: AzureStepYaml[] } } };
};
export type AzureStageYaml = { stage: string; displayName?: string; lockBehavior?: string; jobs: AzureJobYaml[] };
export type AzurePipelineYaml = {
  parameters?: { name: string; default?: unknown }[];
  variables?: Record<string, string>;
  stages: AzureStageYaml[];
};

/** The pipeline as Azure DevOps compiles it, for the given parameter values (default: the file's defaults). */
export function expandedAzurePipeline(
  parameters: Record<string, unknown> = {},
  file = azurePipelineFile,
): AzurePipelineYaml {
  const raw = parse(fs.readFileSync(path.join(projectDir, file), "utf8")) as AzurePipelineYaml;
  const values = Object.fromEntries((raw.parameters ?? []).map((p) => [p.name, parameters[p.name] ?? p.default]));
  return expandTemplate(raw, { parameters: values, variables: raw.variables ?? {} }) as AzurePipelineYaml;
}

/** Variables as Azure DevOps hands them to scripts: upper case, `.` as `_` (azure-devops-yaml-schema, variables). */
const variablesAsEnv = (variables: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(variables).map(([name, value]) => [name.toUpperCase().replace(/\./g, "_"), value]));

/** Every step of the compiled pipeline, each knowing the stack of its stage (matched through `displayName`). */
export function azureSteps(parameters: Record<string, unknown> = {}, file = azurePipelineFile): PipelineStep[] {
  const pipeline = expandedAzurePipeline(parameters, file);
  const stacks = (parameters.stacks ??
    pipeline.parameters?.find((p) => p.name === "stacks")?.default ??
    []) as string[];
  return pipeline.stages.flatMap((stage) =>
    stage.jobs.flatMap((job) => {
      const jobSteps = job.steps ?? job.strategy?.runOnce?.deploy?.steps ?? [];
      const stack = stacks.includes(stage.displayName ?? "") ? stage.displayName : undefined;
      return jobSteps.map((step): PipelineStep => {
        const inputs = (step.inputs ?? {}) as Record<string, unknown>;
        const script = step.script ?? (typeof inputs.inlineScript === "string" ? inputs.inlineScript : undefined);
        const action = step.task ?? (step.checkout !== undefined ? `checkout: ${step.checkout}` : undefined);
        const env = { ...variablesAsEnv(pipeline.variables), ...((step.env ?? {}) as Record<string, string>) };
        return {
          system: "Azure DevOps",
          file,
          job: `${stage.stage}/${job.job ?? job.deployment}`,
          label: step.displayName ?? script?.trim().split("\n")[0] ?? action ?? "",
          ...(script !== undefined ? { script } : {}),
          ...(action !== undefined ? { action } : {}),
          env,
          ...(stack !== undefined ? { stack } : {}),
        };
      });
    }),
  );
}

// ---- Running a step ----------------------------------------------------------------------------------------------

/**
 * A clean copy of the repository: the files git tracks (and new ones it does not ignore), as they are in this
 * checkout, in a fresh git repository whose one commit is also `origin/main` (the base a pull request's plan diff
 * compares with). node_modules is linked from this checkout, as `npm ci` would have made it.
 */
export function cleanCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "clean-copy-"));
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: projectDir,
    encoding: "utf8",
  });
  for (const file of new Set(listed.split("\0").filter(Boolean))) {
    const source = path.join(projectDir, file);
    if (!fs.existsSync(source)) continue; // deleted in this checkout, not yet committed
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(source, path.join(dir, file));
  }
  fs.symlinkSync(fs.realpathSync(path.join(projectDir, "node_modules")), path.join(dir, "node_modules"), "dir");
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=tests", "-c", "user.email=tests@example.invalid", ...args], {
      cwd: dir,
      stdio: "ignore",
    });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "--no-verify", "-m", "clean copy");
  git("update-ref", "refs/remotes/origin/main", "HEAD");
  return dir;
}

export interface StepRun {
  status: number;
  stdout: string;
  stderr: string;
  /** What the step wrote to $GITHUB_OUTPUT, as name → value. */
  outputs: Record<string, string>;
  /** What the step wrote to $GITHUB_STEP_SUMMARY. */
  summary: string;
}

export interface RunOptions {
  /** Where the step runs: the repository's root, as the runner's working directory. */
  dir: string;
  /** Variables the CI system itself provides or the test adds (e.g. stand-ins' URLs). */
  env?: Record<string, string>;
  /** Directories searched before the system's PATH, e.g. one holding a stand-in `pulumi`. */
  pathFirst?: string[];
}

/**
 * Runs a step's script as its CI system does: GitHub writes `run` to a file and calls `bash -e {0}` (its default
 * shell when none is set); Azure DevOps' script task calls `bash --noprofile --norc <file>` (CmdLineV2, cmdline.ts)
 * and the AzureCLI task `bash <file>`.
 */
export async function runStep(step: PipelineStep, options: RunOptions): Promise<StepRun> {
  if (step.script === undefined) throw new Error(`${step.label} has no script`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "step-"));
  const scriptFile = path.join(scratch, "step.sh");
  fs.writeFileSync(scriptFile, step.script);
  const files = { output: path.join(scratch, "output"), summary: path.join(scratch, "summary") };
  for (const file of Object.values(files)) fs.writeFileSync(file, "");
  const runnerEnv =
    step.system === "GitHub Actions"
      ? {
          CI: "true",
          GITHUB_ACTIONS: "true",
          GITHUB_WORKSPACE: options.dir,
          GITHUB_OUTPUT: files.output,
          GITHUB_STEP_SUMMARY: files.summary,
          RUNNER_TEMP: scratch,
        }
      : { TF_BUILD: "True", AGENT_TEMPDIRECTORY: scratch, BUILD_SOURCESDIRECTORY: options.dir };
  const shell =
    step.system === "GitHub Actions"
      ? ["-e", scriptFile]
      : step.action?.startsWith("AzureCLI@")
        ? [scriptFile] // AzureCLIV2, src/ScriptType.ts: `bash <file>`
        : ["--noprofile", "--norc", scriptFile];
  const searchPath = [...(options.pathFirst ?? []), path.dirname(process.execPath), process.env.PATH ?? ""];
  const result = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      "bash",
      shell,
      {
        cwd: options.dir,
        env: {
          HOME: process.env.HOME ?? os.homedir(),
          ...runnerEnv,
          ...step.env,
          ...options.env,
          PATH: searchPath.join(":"),
        },
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        resolve({ status: error ? (typeof code === "number" ? code : 1) : 0, stdout, stderr });
      },
    );
  });
  const outputs = Object.fromEntries(
    fs
      .readFileSync(files.output, "utf8")
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  const summary = fs.readFileSync(files.summary, "utf8");
  fs.rmSync(scratch, { recursive: true, force: true });
  return { ...result, outputs, summary };
}

/** A directory holding one executable per given name, each a bash script, to put first on PATH. */
export function commandStandIns(scripts: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stand-in-commands-"));
  for (const [name, body] of Object.entries(scripts)) {
    fs.writeFileSync(path.join(dir, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
  }
  return dir;
}

// ---- Test context --------------------------------------------------------------------------------------------------

/** A pull request to main in contoso/apim-entra-auth (run 7), in a repository with the given variables only. */
export const pullRequestContext = (vars: Record<string, string> = {}): GitHubContext => ({
  vars,
  github: {
    base_ref: "main",
    server_url: "https://github.com",
    repository: "contoso/apim-entra-auth",
    run_id: 7,
    event: { pull_request: { number: 12 } },
  },
});

/** The context of the jobs that need the stack list (and the test job), the list being the committed stacks. */
export const withCommittedStacks = (vars: Record<string, string> = {}): GitHubContext => ({
  ...pullRequestContext(vars),
  needs: { test: { outputs: {} }, stacks: { outputs: { stacks: JSON.stringify(stackNames(projectDir)) } } },
});

/** Clean copies made by a test file, removed after it (registers the afterAll hook). */
export function cleanCopies(): () => string {
  const copies: string[] = [];
  afterAll(() => {
    for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
  return () => {
    const dir = cleanCopy();
    copies.push(dir);
    return dir;
  };
}

/** Items grouped by key, groups and items in their first order. */
export function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
