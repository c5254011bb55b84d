// The plan diff between two evaluations of the real program, each from a stack file, and once through the real
// --base path (a temporary git worktree of a throwaway repository holding this program and a fixture stack).
// What it cannot prove: the engine's own diff, which also sees values Azure assigns; the replace-on-change table (tools/preview/replaceOnChanges.ts) stands in for the providers.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { type DiffResource, diffPlans, formatPlanDiff, planAtRef } from "../tools/preview/planDiff";
import { planData } from "../tools/preview/planReport";
import { addDays } from "../config/clock";
import { readStackFileConfig, stackFileOf } from "../tools/preview/stackFiles";
import { projectDir, runPlan } from "../tools/plan";
import { evaluate, guideApi, guideClient, guideConfig } from "./support/evaluate";
import { knownValidOn, withToday } from "./support/stackFileChecks";

/** Writes Pulumi.yaml (this project's) and Pulumi.<stack>.yaml with the given config into a fresh directory. */
function stackFile(config: Record<string, unknown>, stack = "test"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-"));
  fs.copyFileSync(path.join(projectDir, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  const namespaced = Object.fromEntries(
    Object.entries(config).map(([key, value]) => [`apim-entra-auth:${key}`, value]),
  );
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify({ config: namespaced }));
  return dir;
}

/** The stack's resources as `npm run plan` evaluates them from the stack file, with their alias URNs. */
async function sideOf(config: Record<string, unknown>, stack = "test"): Promise<DiffResource[]> {
  const { config: read, secretKeys } = readStackFileConfig(stackFile(config, stack), stack);
  const evaluation = await evaluate(read, stack, undefined, secretKeys);
  return planData(evaluation).resources.map((resource, i) => ({
    ...resource,
    aliasUrns: evaluation.resources[i]?.aliasUrns,
  }));
}

async function diffOf(before: Record<string, unknown>, after: Record<string, unknown>): Promise<string[]> {
  return formatPlanDiff(diffPlans(await sideOf(before), await sideOf(after)));
}

describe("plan diff on a changed stack file", () => {
  it("no change prints `no changes`", async () => {
    expect(await diffOf(guideConfig(), guideConfig())).toEqual(["no changes"]);
  });

  it("create: a new client and its grant", async () => {
    const after = guideConfig({ clients: [guideClient(), guideClient({ name: "audit", displayName: "Audit" })] });
    expect(await diffOf(guideConfig(), after)).toEqual([
      "+ create ApplicationRegistration audit-app",
      "+ create ServicePrincipal audit-sp",
      "+ create ApplicationPassword audit-secret-2026-11-23",
      "+ create ApplicationApiAccess audit--orders-permission",
      "+ create AppRoleAssignment audit--orders-admin-consent",
      "5 to create, 0 to update, 0 to replace, 0 to delete",
    ]);
  });

  it("update: a new token version changes the app registration and the policy in place", async () => {
    const after = guideConfig({ apis: [guideApi({ tokenVersion: 1 })] });
    expect(await diffOf(guideConfig(), after)).toEqual([
      "~ update ApplicationRegistration orders-app (requestedAccessTokenVersion)",
      "~ update ApiPolicy orders-policy (value)",
      "0 to create, 2 to update, 0 to replace, 0 to delete",
    ]);
  });

  it("rotation: adding secret B creates it beside A, removing A then deletes A; neither step replaces a password", async () => {
    // Each password is named by its own rotation day, so adding or removing an entry leaves the other's URN alone.
    const withSecrets = (...secrets: { rotatedOn: string; lifetimeDays: number }[]) =>
      guideConfig({ clients: [guideClient({ secretRotatedOn: undefined, secretLifetimeDays: undefined, secrets })] });
    const a = { rotatedOn: "2026-06-01", lifetimeDays: 365 };
    const b = { rotatedOn: "2026-11-23", lifetimeDays: 180 };
    expect(await diffOf(withSecrets(a), withSecrets(a, b))).toEqual([
      "+ create ApplicationPassword reporting-secret-2026-11-23",
      "1 to create, 0 to update, 0 to replace, 0 to delete",
    ]);
    expect(await diffOf(withSecrets(a, b), withSecrets(b))).toEqual([
      "- delete ApplicationPassword reporting-secret-2026-06-01",
      "0 to create, 0 to update, 0 to replace, 1 to delete",
    ]);
  });

  it("replace: a new lifetime for a secret replaces that password, named by the inputs that force it", async () => {
    const after = guideConfig({ clients: [guideClient({ secretLifetimeDays: 90 })] });
    expect(await diffOf(guideConfig(), after)).toEqual([
      "+- replace ApplicationPassword reporting-secret-2026-11-23 (endDate forces it)",
      "0 to create, 0 to update, 1 to replace, 0 to delete",
    ]);
  });

  it("replace: a new APIM service replaces the API with a warning", async () => {
    const after = guideConfig({ apim: { resourceGroupName: "rg-apim-test", serviceName: "apim-other" } });
    const lines = await diffOf(guideConfig(), after);
    expect(lines.slice(0, 2)).toEqual([
      "+- replace Api orders-api (serviceName forces it)",
      "  ! the gateway URL stops answering while the API is gone, and changes if its path does: every caller fails",
    ]);
    expect(lines.at(-1)).toBe("0 to create, 0 to update, 7 to replace, 0 to delete");
  });

  it("delete: dropping the API's client deletes its registration and consent, each marked", async () => {
    const after = guideConfig({ clients: [] });
    expect(await diffOf(guideConfig(), after)).toEqual([
      "- delete ApplicationRegistration reporting-app",
      "  ! the app gets a new client id: every client's tokens stop working (new audience, new scope api://<id>/.default)",
      "- delete ServicePrincipal reporting-sp",
      "  ! the admin consent (app role assignments) goes with it: every client's tokens stop working until it is granted again",
      "- delete ApplicationPassword reporting-secret-2026-11-23",
      "- delete ApplicationApiAccess reporting--orders-permission",
      "- delete AppRoleAssignment reporting--orders-admin-consent",
      "0 to create, 0 to update, 0 to replace, 5 to delete",
    ]);
  });

  it("a rename without formerNames deletes the API's identity and recreates it: every `!` is shown", async () => {
    const after = guideConfig({ apis: [guideApi({ name: "sales" })], clients: [guideClient({ apis: ["sales"] })] });
    const lines = await diffOf(guideConfig(), after);
    expect(lines.filter((line) => line.startsWith("- delete"))).toEqual([
      "- delete ApplicationRegistration orders-app",
      "- delete ApplicationIdentifierUri orders-identifier-uri",
      "- delete ApplicationPermissionScope orders-scope",
      "- delete ApplicationAppRole orders-app-role",
      "- delete ServicePrincipal orders-sp",
      "- delete ApplicationApiAccess reporting--orders-permission",
      "- delete AppRoleAssignment reporting--orders-admin-consent",
      "- delete Api orders-api",
      "- delete ApiOperation orders-get",
      "- delete ApiOperation orders-post",
      "- delete ApiOperation orders-put",
      "- delete ApiOperation orders-patch",
      "- delete ApiOperation orders-delete",
      "- delete ApiPolicy orders-policy",
    ]);
    expect(lines.filter((line) => line.startsWith("  !"))).toHaveLength(5);
  });

  it("the same rename with formerNames matches every resource through its aliases: nothing is replaced", async () => {
    const after = guideConfig({
      apis: [guideApi({ name: "sales", formerNames: ["orders"] })],
      clients: [guideClient({ apis: ["sales"] })],
    });
    expect(await diffOf(guideConfig(), after)).toEqual(["no changes"]);
  });
});

describe("npm run plan -- --base <git-ref>", () => {
  /**
   * A throwaway git repository holding this checkout's program (its tracked files as they are now) with the
   * fixture stack as its dev stack, committed: the user's own Pulumi.dev.yaml never decides what this test sees.
   */
  function repositoryWithFixtureStack(): string {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), "plan-base-repo-"));
    const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: projectDir, encoding: "utf8" }).split("\0");
    for (const file of tracked.filter((name) => name && fs.existsSync(path.join(projectDir, name)))) {
      fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
      fs.copyFileSync(path.join(projectDir, file), path.join(repo, file));
    }
    for (const file of fs.readdirSync(repo).filter((name) => /^Pulumi\..+\.ya?ml$/.test(name))) {
      fs.rmSync(path.join(repo, file));
    }
    fs.copyFileSync(
      path.join(projectDir, "tests/fixtures/stacks/Pulumi.guide.yaml"),
      path.join(repo, "Pulumi.dev.yaml"),
    );
    fs.symlinkSync(fs.realpathSync(path.join(projectDir, "node_modules")), path.join(repo, "node_modules"), "dir");
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });
    git("init", "--quiet");
    git("add", "--all");
    git("-c", "user.name=plan-test", "-c", "user.email=plan-test@example.invalid", "commit", "--quiet", "-m", "base");
    return repo;
  }

  it("plans the committed program in a temporary git worktree, diffs it against the edited stack file, and removes the worktree", async () => {
    const repo = repositoryWithFixtureStack();
    const worktrees = () => execFileSync("git", ["worktree", "list"], { cwd: repo, encoding: "utf8" });
    const before = worktrees();
    const { config, secretKeys } = readStackFileConfig(repo, "dev");
    const [client] = config.clients as Record<string, unknown>[];
    // The reviewer's rotation: a second secret issued a week after the committed one (both sides planned that day).
    const day = addDays(knownValidOn(fs.readFileSync(stackFileOf(repo, "dev"), "utf8")) as string, 7);
    const { secretRotatedOn, secretLifetimeDays, ...rest } = client as Record<string, unknown>;
    const secrets = [
      { rotatedOn: secretRotatedOn, lifetimeDays: secretLifetimeDays },
      { rotatedOn: day, lifetimeDays: 90 },
    ];
    const edited = { ...config, clients: [{ ...rest, secrets }] };
    const out: string[] = [];
    const code = await withToday(day, () =>
      runPlan(["--base", "HEAD"], {
        out: (text) => out.push(text),
        err: (text) => out.push(text),
        evaluate: (stack) => evaluate(edited, stack, undefined, secretKeys),
        planAtRef: (ref, stack) => planAtRef(repo, ref, stack),
      }),
    );
    expect(out.join("\n")).toContain(
      [
        "Changes to stack dev: HEAD → working tree",
        "",
        `+ create ApplicationPassword reporting-secret-${day}`,
        "~ update AuthorizationServer orders-authorization-server (clientSecret)",
        "1 to create, 1 to update, 0 to replace, 0 to delete",
      ].join("\n"),
    );
    expect(code).toBe(0);
    expect(worktrees()).toBe(before);
    fs.rmSync(repo, { recursive: true, force: true });
  }, 120_000);

  it("an unknown ref is an error naming it", async () => {
    const err: string[] = [];
    const code = await runPlan(["--base", "no-such-ref-anywhere"], {
      out: () => undefined,
      err: (text) => err.push(text),
      evaluate: (stack) => evaluate(guideConfig(), stack),
    });
    expect(code).toBe(1);
    expect(err.join("\n")).toContain("error: --base no-such-ref-anywhere:");
  });
});
