import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../config/validate";
import { guardReport, hasViolations, runGuard } from "../guard/rules";
import { evaluateProgram, type MockEvaluation, ProgramError } from "./preview/mockEngine";
import { breaksCallers, type DiffResource, diffPlans, formatPlanDiff, planAtRef } from "./preview/planDiff";
import { planData, renderPlanMarkdown } from "./preview/planReport";
import { importedStateOf } from "./preview/importedState";
import { planFileOf, projectNameOf, readStackFileConfig } from "./preview/stackFiles";
import { type CliIo, parseOrAnswer, reportInputError, runIfMain, UsageError } from "./cli";

export const projectDir = path.resolve(__dirname, "..");
export const planPath = (stack: string, dir = projectDir) => planFileOf(dir, stack);

/** The Pulumi projects of this repository that `--project` names, with how to import each program afresh. */
export const projects: Record<string, { dir: string; importProgram: () => Promise<unknown> }> = {
  main: { dir: projectDir, importProgram: () => import("../index.js") },
  bootstrap: { dir: path.join(projectDir, "bootstrap"), importProgram: () => import("../bootstrap/index.js") },
};

const usage = `usage: plan [--project main|bootstrap] [--stack <name>] [--json <file>] [--write]
            [--base <git-ref> [--fail-on-breaking]]

Evaluates the program for a stack (Pulumi.yaml defaults + Pulumi.<stack>.yaml) under Pulumi's mock
engine — no Azure, no Pulumi CLI — and prints what it would create. Default stack: dev.
  --json <file>  also write the plan as JSON (secrets redacted)
  --write        also write the Markdown plan to plans/<stack>.md (the checked-in copy reviewers read)
  --base <ref>   print what would change from the program at <ref> to the working tree instead:
                 + create, ~ update (keys), +- replace (forcing input), - delete, = rename (kept by an
                 alias); ! says which callers a change breaks, ? a delete that looks like half of a rename
  --fail-on-breaking
                 with --base: exit 1 when a ! line is printed (the diff is printed in full either way)
  --project      bootstrap: the pipeline identity's project in bootstrap/ (plans in bootstrap/plans/)
The plan ends with the guard's findings (guard/rules.ts); exit 1 if any rule is violated, 2 on bad usage.`;

const options = {
  project: { type: "string" },
  stack: { type: "string" },
  json: { type: "string" },
  write: { type: "boolean" },
  base: { type: "string" },
  "fail-on-breaking": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export interface PlanIo extends CliIo {
  /** Evaluates the stack; tests pass one that resets their module registry first. */
  evaluate?(stack: string): Promise<MockEvaluation>;
  /** Where `--write` puts the Markdown plan; tests pass a file of their own. Default `plans/<stack>.md`. */
  planFile?(stack: string): string;
  /** The stack's resources as the program at a git ref plans them (default: a temporary git worktree). */
  planAtRef?(ref: string, stack: string): DiffResource[];
}

/** Evaluates the real program for a stack from its stack file, offline. */
export async function evaluateStack(
  stack: string,
  importProgram: () => Promise<unknown>,
  dir = projectDir,
): Promise<MockEvaluation> {
  const { config, secretKeys } = readStackFileConfig(dir, stack);
  return evaluateProgram({
    stack,
    project: projectNameOf(dir),
    config,
    secretKeys,
    importProgram,
    importedState: importedStateOf(config),
  });
}

/** The plan CLI without process globals: returns the exit status. */
export async function runPlan(argv: string[], io: PlanIo): Promise<number> {
  const args = parseOrAnswer(argv, options, io, usage);
  if (typeof args === "number") return args;
  const project = projects[args.project ?? "main"];
  if (!project) {
    const known = Object.keys(projects).join(" or ");
    return reportInputError(io, new UsageError(`unknown project "${args.project}"; use ${known}`), usage);
  }
  if (args["fail-on-breaking"] && args.base === undefined) {
    return reportInputError(io, new UsageError("--fail-on-breaking goes with --base <git-ref>"), usage);
  }
  if (args.base !== undefined && project.dir !== projectDir) {
    return reportInputError(io, new UsageError("--base compares the main project's plans only"), usage);
  }
  const stack = args.stack ?? (project.dir === projectDir ? "dev" : "contoso");
  let evaluation: MockEvaluation;
  try {
    evaluation = await (io.evaluate ?? ((name) => evaluateStack(name, project.importProgram, project.dir)))(stack);
  } catch (error) {
    const cause = error instanceof ProgramError ? error.cause : error;
    io.err(cause instanceof ConfigError || cause instanceof Error ? cause.message : String(cause));
    return 1;
  }
  const data = planData(evaluation);
  const findings = runGuard(data.resources);
  const markdown = renderPlanMarkdown(evaluation);
  let breaking = false;
  if (args.base === undefined) io.out(markdown);
  else {
    let base: DiffResource[];
    try {
      base = (io.planAtRef ?? ((ref, name) => planAtRef(projectDir, ref, name)))(args.base, stack);
    } catch (error) {
      io.err(`error: --base ${args.base}: ${(error as Error).message}`);
      return 1;
    }
    const changes = diffPlans(base, data.resources);
    breaking = breaksCallers(changes);
    io.out([`Changes to stack ${stack}: ${args.base} → working tree`, "", ...formatPlanDiff(changes)].join("\n"));
    io.out(["", ...guardReport(findings)].join("\n"));
  }
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify(data, null, 2)}\n`);
  if (args.write) {
    const planFile = io.planFile?.(stack) ?? planPath(stack, project.dir);
    fs.mkdirSync(path.dirname(planFile), { recursive: true });
    fs.writeFileSync(planFile, markdown);
    io.err(`Wrote ${path.relative(process.cwd(), planFile)}.`);
  }
  // The report already lists the guard's findings; a violation fails the command like `npm run guard` does.
  return hasViolations(findings) || (breaking && args["fail-on-breaking"]) ? 1 : 0;
}

runIfMain(module, runPlan, 1);
