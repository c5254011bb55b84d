import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../config/validate";
import { evaluateProgram, type MockEvaluation, ProgramError } from "./lib/mockEngine";
import { planData, renderPlanMarkdown } from "./lib/planReport";
import { projectNameOf, readStackConfig } from "./lib/stackFiles";

export const projectDir = path.resolve(__dirname, "..");
export const planPath = (stack: string, dir = projectDir) => path.join(dir, "plans", `${stack}.md`);

/** The Pulumi projects of this repository that `--project` names, with how to import each program afresh. */
export const projects: Record<string, { dir: string; importProgram: () => Promise<unknown> }> = {
  main: { dir: projectDir, importProgram: () => import("../index.js") },
  bootstrap: { dir: path.join(projectDir, "bootstrap"), importProgram: () => import("../bootstrap/index.js") },
};

const usage = `usage: plan [--project main|bootstrap] [--stack <name>] [--json <file>] [--write]

Evaluates the program for a stack (Pulumi.yaml defaults + Pulumi.<stack>.yaml) under Pulumi's mock
engine — no Azure, no Pulumi CLI — and prints what it would create. Default stack: dev.
  --json <file>  also write the plan as JSON (secrets redacted)
  --write        also write the Markdown plan to plans/<stack>.md (the checked-in copy reviewers read)
  --project      bootstrap: the pipeline identity's project in bootstrap/ (plans in bootstrap/plans/)`;

export interface PlanIo {
  out(text: string): void;
  err(text: string): void;
  /** Evaluates the stack; tests pass one that resets their module registry first. */
  evaluate?(stack: string): Promise<MockEvaluation>;
}

/** Evaluates the real program for a stack from its stack file, offline. */
export async function evaluateStack(
  stack: string,
  importProgram: () => Promise<unknown>,
  dir = projectDir,
): Promise<MockEvaluation> {
  const { config, secretKeys } = readStackConfig(dir, stack);
  return evaluateProgram({ stack, project: projectNameOf(dir), config, secretKeys, importProgram });
}

/** The plan CLI without process globals: returns the exit status. */
export async function runPlan(argv: string[], io: PlanIo): Promise<number> {
  let args: { project?: string; stack?: string; json?: string; write?: boolean; help?: boolean };
  try {
    args = parseArgs({
      args: argv,
      options: {
        project: { type: "string" },
        stack: { type: "string" },
        json: { type: "string" },
        write: { type: "boolean" },
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
  const project = projects[args.project ?? "main"];
  if (!project) {
    io.err(`error: unknown project "${args.project}"; use ${Object.keys(projects).join(" or ")}\n${usage}`);
    return 2;
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
  const markdown = renderPlanMarkdown(evaluation);
  io.out(markdown);
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify(planData(evaluation), null, 2)}\n`);
  if (args.write) {
    fs.mkdirSync(path.dirname(planPath(stack, project.dir)), { recursive: true });
    fs.writeFileSync(planPath(stack, project.dir), markdown);
  }
  return 0;
}

if (require.main === module) {
  runPlan(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  }).then((code) => {
    process.exitCode = code;
  });
}
