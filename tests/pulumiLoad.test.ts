// Replays the TypeScript registration of Pulumi's nodejs language host (vendored ts-node, the project's tsconfig)
// in a child process. What it cannot prove: the language host's engine connection, which needs the Pulumi CLI.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect, it } from "vitest";
import { readStackFileConfig, stackFileOf } from "../tools/preview/stackFiles";
import { projectDir } from "../tools/plan";
import { evaluate } from "./support/evaluate";
import { knownValidOn, withToday } from "./support/stackFileChecks";

it("loads index.ts the way pulumi up does and registers the same resources as the plan", async () => {
  // The user's own stack file: judged as of the day it was known valid, like every committed-stack check.
  const day = knownValidOn(fs.readFileSync(stackFileOf(projectDir, "dev"), "utf8"));
  const script = path.join(projectDir, "tools", "preview", "loadLikePulumi.cjs");
  const { config, secretKeys } = readStackFileConfig(projectDir, "dev");
  const { printed, plan } = await withToday(day, async () => ({
    printed: execFileSync(process.execPath, [script, "dev"], { cwd: projectDir, encoding: "utf8" }),
    plan: await evaluate(config, "dev", undefined, secretKeys),
  }));
  const { resources } = JSON.parse(printed) as { resources: number };
  expect(resources).toBe(plan.resources.length);
  expect(resources).toBeGreaterThan(0);
});
