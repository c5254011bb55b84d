import * as fs from "node:fs";
import { defaultMaxSecretLifetimeDays, type GuardResource } from "../guard/model";
import { guardReport, hasViolations, runGuard } from "../guard/rules";
import { type CliIo, errorText, parseOrAnswer, reportInputError, runIfMain, UsageError } from "./cli";

const usage = `usage: guard --plan <plan.json> [--max-secret-lifetime-days <n>]

Runs the guard's rules (guard/rules.ts, the same as the CrossGuard pack) over a plan written by
\`npm run plan -- --json <file>\`. Prints VIOLATION and ADVISORY lines; exit 1 on any violation.
  --max-secret-lifetime-days <n>  longest allowed client password lifetime (default ${defaultMaxSecretLifetimeDays})`;

export type GuardIo = CliIo;

const options = {
  plan: { type: "string" },
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

/** The guard CLI without process globals: returns the exit status. */
export function runGuardCli(argv: string[], io: GuardIo): number {
  const args = parseOrAnswer(argv, options, io, usage);
  if (typeof args === "number") return args;
  if (!args.plan) return reportInputError(io, new UsageError("--plan is required"), usage);
  const rawDays = args["max-secret-lifetime-days"] ?? String(defaultMaxSecretLifetimeDays);
  if (!/^[1-9]\d*$/.test(rawDays)) {
    io.err(
      `error: --max-secret-lifetime-days: ${JSON.stringify(rawDays)} is not allowed; use a whole number of days >= 1`,
    );
    return 2;
  }
  let resources: GuardResource[];
  try {
    resources = readPlanResources(args.plan);
  } catch (error) {
    io.err(`error: ${errorText(error)}`);
    return 2;
  }
  const findings = runGuard(resources, { maxSecretLifetimeDays: Number(rawDays) });
  for (const line of guardReport(findings)) io.out(line);
  return hasViolations(findings) ? 1 : 0;
}

runIfMain(module, runGuardCli, 1);
