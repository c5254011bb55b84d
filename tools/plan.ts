import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { guardReport, hasViolations, runGuard } from "../guard/rules";
import { ConfigError } from "../config/validate";
import { evaluateProgram, type MockEvaluation, ProgramError } from "./lib/mockEngine";
import { type DiffResource, diffPlans, formatPlanDiff, planAtRef } from "./lib/planDiff";
import { planData, renderPlanMarkdown } from "./lib/planReport";
import { planFileOf, readStackConfig } from "./lib/stackFiles";

export const projectDir = path.resolve(__dirname, "..");
export const planPath = (stack: string) => planFileOf(projectDir, stack);

const usage = `usage: plan [--stack <name>] [--json <file>] [--write] [--base <git-ref>]

Evaluates the program for a stack (Pulumi.yaml defaults + Pulumi.<stack>.yaml) under Pulumi's mock
engine — no Azure, no Pulumi CLI — and prints what it would create. Default stack: dev.
  --json <file>  also write the plan as JSON (secrets redacted)
  --write        also write the Markdown plan to plans/<stack>.md (the checked-in copy reviewers read)
  --base <ref>   print what would change from the program at <ref> to the working tree instead:
                 + create, ~ update (keys), +- replace (forcing input), - delete; ! marks what breaks clients
The plan ends with the guard's findings (guard/rules.ts); exit 1 if any rule is violated.`;

export interface PlanIo {
  out(text: string): void;
  err(text: string): void;
  /** Evaluates the stack; tests pass one that resets their module registry first. */
  evaluate?(stack: string): Promise<MockEvaluation>;
  /** Where `--write` puts the Markdown plan; tests pass a file of their own. Default `plans/<stack>.md`. */
  planFile?(stack: string): string;
  /** The stack's resources as the program at a git ref plans them (default: a temporary git worktree). */
  planAtRef?(ref: string, stack: string): DiffResource[];
}

/** Evaluates the real program for a stack from its stack file, offline. */
export async function evaluateStack(stack: string, importProgram: () => Promise<unknown>): Promise<MockEvaluation> {
  const { config, secretKeys } = readStackConfig(projectDir, stack);
  return evaluateProgram({ stack, config, secretKeys, importProgram });
}

/** The plan CLI without process globals: returns the exit status. */
export async function runPlan(argv: string[], io: PlanIo): Promise<number> {
  let args: { stack?: string; json?: string; write?: boolean; base?: string; help?: boolean };
  try {
    args = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        json: { type: "string" },
        write: { type: "boolean" },
        base: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    io.err(`error: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  if (args.help) {
    io.out(usage);
    return 0;
  }
  const stack = args.stack ?? "dev";
  let evaluation: MockEvaluation;
  try {
    evaluation = await (io.evaluate ?? ((name) => evaluateStack(name, () => import("../index.js"))))(stack);
  } catch (error) {
    const cause = error instanceof ProgramError ? error.cause : error;
    io.err(cause instanceof ConfigError || cause instanceof Error ? cause.message : String(cause));
    return 1;
  }
  const data = planData(evaluation);
  const findings = runGuard(data.resources);
  const markdown = renderPlanMarkdown(evaluation);
  if (args.base === undefined) io.out(markdown);
  else {
    let base: DiffResource[];
    try {
      base = (io.planAtRef ?? ((ref, name) => planAtRef(projectDir, ref, name)))(args.base, stack);
    } catch (error) {
      io.err(`error: --base ${args.base}: ${(error as Error).message}`);
      return 1;
    }
    const head = data.resources.map((resource, i) => ({ ...resource, aliasUrns: evaluation.resources[i]?.aliasUrns }));
    io.out(
      [`Changes to stack ${stack}: ${args.base} → working tree`, "", ...formatPlanDiff(diffPlans(base, head))].join(
        "\n",
      ),
    );
    io.out(["", ...guardReport(findings)].join("\n"));
  }
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify(data, null, 2)}\n`);
  if (args.write) {
    const planFile = io.planFile?.(stack) ?? planPath(stack);
    fs.mkdirSync(path.dirname(planFile), { recursive: true });
    fs.writeFileSync(planFile, markdown);
    io.err(`Wrote ${path.relative(process.cwd(), planFile)}.`);
  }
  // The report already lists the guard's findings; a violation fails the command like `npm run guard` does.
  return hasViolations(findings) ? 1 : 0;
}

if (require.main === module) {
  runPlan(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  }).then((code) => {
    process.exitCode = code;
  });
}
