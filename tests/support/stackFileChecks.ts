import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { planFileOf, readStackFileConfig, stackFileOf } from "../../tools/preview/stackFiles";
import { projectDir } from "../../tools/plan";
import { planData, renderPlanMarkdown } from "../../tools/preview/planReport";
import { ProgramError, type MockEvaluation } from "../../tools/preview/mockEngine";
import { formatFinding, runGuard } from "../../guard/rules";
import { evaluate } from "./evaluate";

/** The variable the config validation reads as today's date (YYYY-MM-DD) instead of the clock. */
export const todayVariable = "APIM_ENTRA_AUTH_TODAY";

/**
 * The day a stack file was known valid: the newest secret rotation date in it (`secretRotatedOn`, or
 * `rotatedOn` of a `secrets` entry). Checking the file as of that day keeps a committed stack from failing CI
 * on a later day; undefined when it holds no date.
 */
export function knownValidOn(stackYaml: string): string | undefined {
  const dates: string[] = [];
  const visit = (node: unknown, key?: string): void => {
    if (Array.isArray(node)) node.forEach((item) => visit(item, key));
    else if (node && typeof node === "object") {
      for (const [childKey, child] of Object.entries(node)) visit(child, childKey);
    } else if ((key === "secretRotatedOn" || key === "rotatedOn") && typeof node === "string") {
      if (/^\d{4}-\d{2}-\d{2}$/.test(node)) dates.push(node);
    }
  };
  visit(parse(stackYaml));
  return dates.sort().at(-1);
}

/** A project directory of the test's own: the real Pulumi.yaml and the given stack files (name → contents). */
export function projectWith(stackFiles: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "project-"));
  fs.copyFileSync(path.join(projectDir, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  for (const [stack, text] of Object.entries(stackFiles))
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
  return dir;
}

/** Runs `work` with today pinned to `day` (unset when undefined), restoring the variable afterwards. */
export async function withToday<T>(day: string | undefined, work: () => Promise<T>): Promise<T> {
  const before = process.env[todayVariable];
  if (day === undefined) delete process.env[todayVariable];
  else process.env[todayVariable] = day;
  try {
    return await work();
  } finally {
    if (before === undefined) delete process.env[todayVariable];
    else process.env[todayVariable] = before;
  }
}

/** Evaluates a stack from its stack file the way `npm run plan` does, with a fresh module registry. */
export function evaluateStackFile(projectDir: string, stack: string): Promise<MockEvaluation> {
  const { config, secretKeys } = readStackFileConfig(projectDir, stack);
  return evaluate(config, stack, undefined, secretKeys);
}

/** What `npm run plan -- --stack <stack> --write` does, for a project directory of a test's own. */
export async function writePlan(projectDir: string, stack: string): Promise<void> {
  const day = knownValidOn(fs.readFileSync(stackFileOf(projectDir, stack), "utf8"));
  const markdown = renderPlanMarkdown(await withToday(day, () => evaluateStackFile(projectDir, stack)));
  fs.mkdirSync(path.join(projectDir, "plans"), { recursive: true });
  fs.writeFileSync(planFileOf(projectDir, stack), markdown);
}

/** Throws when the guard finds a violation in the stack's plan, listing each one; advisories pass. */
export function guardChecks(stack: string, evaluation: MockEvaluation): void {
  const violations = runGuard(planData(evaluation).resources).filter((found) => found.level === "mandatory");
  if (violations.length > 0) {
    throw new Error(
      `Pulumi.${stack}.yaml fails the guard (guard/rules.ts):\n${violations.map(formatFinding).join("\n")}`,
    );
  }
}

/**
 * Every check that holds for any valid stack file, whatever it declares, as of the day it was known valid:
 * the config passes validation (every Azure, Entra and APIM limit), the guard finds no violation, and the
 * checked-in plan is fresh. Throws an error telling the user what to do. Add further stack-file checks here.
 */
export async function stackFileChecks(projectDir: string, stack: string): Promise<void> {
  const file = stackFileOf(projectDir, stack);
  const day = knownValidOn(fs.readFileSync(file, "utf8"));
  let evaluation: MockEvaluation;
  try {
    evaluation = await withToday(day, () => evaluateStackFile(projectDir, stack));
  } catch (error) {
    const problem = error instanceof ProgramError ? error.cause : error;
    const detail = problem instanceof Error ? problem.message : String(problem);
    throw new Error(`${path.basename(file)} is not valid${day ? ` as of ${day}` : ""}:\n${detail}`, { cause: error });
  }
  guardChecks(stack, evaluation);
  const planFile = planFileOf(projectDir, stack);
  const checkedIn = fs.existsSync(planFile) ? fs.readFileSync(planFile, "utf8") : "";
  if (checkedIn !== renderPlanMarkdown(evaluation)) {
    throw new Error(
      `plans/${stack}.md is stale: it does not show what Pulumi.${stack}.yaml now creates; refresh it with:  npm run plan -- --stack ${stack} --write`,
    );
  }
}
