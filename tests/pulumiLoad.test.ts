// Replays the TypeScript registration of Pulumi's nodejs language host (vendored ts-node, the project's tsconfig)
// in a child process. What it cannot prove: the language host's engine connection, which needs the Pulumi CLI.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { expect, it } from "vitest";
import { readStackConfig } from "../tools/lib/stackFiles";
import { projectDir } from "../tools/plan";
import { evaluate } from "./support/evaluate";

it("loads index.ts the way pulumi up does and registers the same resources as the plan", async () => {
  const script = path.join(projectDir, "tools", "lib", "loadLikePulumi.cjs");
  const printed = execFileSync(process.execPath, [script, "dev"], { cwd: projectDir, encoding: "utf8" });
  const { resources } = JSON.parse(printed) as { resources: number };
  const { config, secretKeys } = readStackConfig(projectDir, "dev");
  const plan = await evaluate(config, "dev", undefined, secretKeys);
  expect(resources).toBe(plan.resources.length);
  expect(resources).toBeGreaterThan(0);
});
