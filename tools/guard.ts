import * as fs from "node:fs";
import { defaultMaxSecretLifetimeDays, type GuardOptions, type GuardResource } from "../guard/model";
import { guardReport, hasViolations, runGuard } from "../guard/rules";
import { evaluateStack, projects } from "./plan";
import { planData } from "./preview/planReport";
import { stackNames } from "./preview/stackFiles";
import { type CliIo, errorText, parseOrAnswer, reportInputError, runIfMain, UsageError } from "./cli";

const usage = `usage: guard (--plan <plan.json> | --all-stacks) [--max-secret-lifetime-days <n>]

Runs the guard's rules (guard/rules.ts, the same as the CrossGuard pack) and prints VIOLATION and ADVISORY
lines; exit 1 on any violation.
  --plan <plan.json>              over a plan written by \`npm run plan -- --json <file>\`
  --all-stacks                    over every committed Pulumi.<stack>.yaml, each planned offline as
                                  \`npm run plan\` does (what the pipelines run)
  --max-secret-lifetime-days <n>  longest allowed client password lifetime (default ${defaultMaxSecretLifetimeDays})`;

export type GuardIo = CliIo;

const options = {
  plan: { type: "string" },
  "all-stacks": { type: "boolean" },
  "max-secret-lifetime-days": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Reads the resources of a plan JSON file, with a clear error for anything else. */
export function readPlanResources(file: string): GuardResource[] {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`${file}: not a readable JSON file (${(error as Error).message})`, { cause: error });
  }
  const resources = (data as { resources?: unknown }).resources;
  if (!Array.isArray(resources) || resources.some((r) => typeof r?.urn !== "string" || typeof r?.type !== "string")) {
    throw new Error(
      `${file}: expected { resources: [{ urn, type, name, inputs }] } as written by npm run plan -- --json`,
    );
  }
  return resources as GuardResource[];
}

/**
 * The guard CLI without process globals: returns the exit status, as a promise with `--all-stacks` (which plans
 * the stacks first).
 */
export function runGuardCli(argv: string[], io: GuardIo): number | Promise<number> {
  const args = parseOrAnswer(argv, options, io, usage);
  if (typeof args === "number") return args;
  if (args.plan !== undefined && args["all-stacks"]) {
    return reportInputError(io, new UsageError("give --plan <plan.json> or --all-stacks, not both"), usage);
  }
  if (args.plan === undefined && !args["all-stacks"]) {
    return reportInputError(io, new UsageError("--plan <plan.json> or --all-stacks is required"), usage);
  }
  const rawDays = args["max-secret-lifetime-days"] ?? String(defaultMaxSecretLifetimeDays);
  if (!/^[1-9]\d*$/.test(rawDays)) {
    io.err(
      `error: --max-secret-lifetime-days: ${JSON.stringify(rawDays)} is not allowed; use a whole number of days >= 1`,
    );
    return 2;
  }
  const guardOptions: GuardOptions = { maxSecretLifetimeDays: Number(rawDays) };
  if (args.plan === undefined) return guardAllStacks(io, guardOptions);
  let resources: GuardResource[];
  try {
    resources = readPlanResources(args.plan);
  } catch (error) {
    io.err(`error: ${errorText(error)}`);
    return 2;
  }
  const findings = runGuard(resources, guardOptions);
  for (const line of guardReport(findings)) io.out(line);
  return hasViolations(findings) ? 1 : 0;
}

/** Plans every committed stack of the main project and guards each; a stack that cannot be planned fails too. */
async function guardAllStacks(io: GuardIo, guardOptions: GuardOptions): Promise<number> {
  const { dir, importProgram } = projects.main as (typeof projects)[string];
  const stacks = stackNames(dir);
  if (stacks.length === 0) {
    io.err(`error: --all-stacks: no Pulumi.<stack>.yaml in ${dir}`);
    return 2;
  }
  let failed = false;
  for (const stack of stacks) {
    io.out(`stack ${stack}:`);
    let resources: GuardResource[];
    try {
      resources = planData(await evaluateStack(stack, importProgram, dir)).resources;
    } catch (error) {
      io.err(`error: stack ${stack} cannot be planned: ${errorText(error)}`);
      failed = true;
      continue;
    }
    const findings = runGuard(resources, guardOptions);
    for (const line of guardReport(findings)) io.out(line);
    failed ||= hasViolations(findings);
  }
  return failed ? 1 : 0;
}

runIfMain(module, runGuardCli, 1);
