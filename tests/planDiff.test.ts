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

/** The stack's resources as `npm run plan -- --json` writes them when it evaluates the stack file. */
async function sideOf(config: Record<string, unknown>, stack = "test"): Promise<DiffResource[]> {
  const { config: read, secretKeys } = readStackFileConfig(stackFile(config, stack), stack);
  return planData(await evaluate(read, stack, undefined, secretKeys)).resources;
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

  it("replace: a new APIM service replaces the API with a warning", async () => {
    const after = guideConfig({ apim: { resourceGroupName: "rg-apim-test", serviceName: "apim-other" } });
    const lines = await diffOf(guideConfig(), after);
    expect(lines.slice(0, 2)).toEqual([
      "+- replace Api orders-api (serviceName forces it)",
      "  ! breaks client reporting (granted orders): its gateway URL stops answering while the API is replaced, and changes if its path does",
    ]);
    expect(lines.at(-1)).toBe("0 to create, 0 to update, 7 to replace, 0 to delete");
  });

  it("delete: dropping a client names the client and the APIs it is granted, never the API's other clients", async () => {
    const after = guideConfig({ clients: [] });
    expect(await diffOf(guideConfig(), after)).toEqual([
      "- delete ApplicationRegistration reporting-app",
      "  ! breaks client reporting's callers (granted orders): its app registration is deleted, so their token requests fail (AADSTS700016)",
      "- delete ServicePrincipal reporting-sp",
      "  ! breaks client reporting's callers (granted orders): its service principal is deleted with its admin consent, so they get no token until it is granted again",
      "- delete ApplicationPassword reporting-secret-2026-11-23",
      "- delete ApplicationApiAccess reporting--orders-permission",
      "- delete AppRoleAssignment reporting--orders-admin-consent",
      "0 to create, 0 to update, 0 to replace, 5 to delete",
    ]);
  });

  const group = "0f1e2d3c-0000-4000-8000-00000000000a";
  const ordersForUsers = guideApi({ callers: ["applications", "users"], assignedPrincipals: [group] });
  const sales = guideApi({ name: "sales", displayName: "Sales", path: "sales" });
  /**
   * Two APIs; orders (when given) is granted to two daemons (reporting also has sales) and a browser app acting for
   * users, and one group is assigned to it.
   */
  function twoApis(apis: Record<string, unknown>[] = [ordersForUsers, sales]): Record<string, unknown> {
    const orders = apis.some((api) => api.name === "orders") ? ["orders"] : [];
    const browser = { kind: "spa", credential: "none", redirectUris: ["https://orders.example.com/"], apis: orders };
    return guideConfig({
      apis,
      clients: [
        guideClient({ apis: apis.map((api) => api.name) }),
        guideClient({ name: "audit", displayName: "Audit", apis: orders }),
        { name: "browser", displayName: "Orders-SPA", ...browser },
      ],
    });
  }

  it("delete: dropping an API names every client granted it, and for its role and scope the clients of that kind", async () => {
    const breaks = (await diffOf(twoApis(), twoApis([sales]))).filter(
      (line, i, lines) => lines[i + 1]?.startsWith("  !") || line.startsWith("  !"),
    );
    expect(breaks).toEqual([
      "- delete ApplicationRegistration orders-app",
      "  ! breaks clients audit, browser and reporting (granted orders): its app registration is deleted, so the audience and the scope api://<id>/.default change",
      "- delete ApplicationIdentifierUri orders-identifier-uri",
      "  ! breaks clients audit, browser and reporting (granted orders): its identifier URI is deleted, so token requests for it get AADSTS500011",
      "- delete ApplicationPermissionScope orders-scope",
      "  ! breaks client browser (granted the delegated scope of orders): the scope is deleted, so users' tokens lose it from scp",
      "- delete ApplicationAppRole orders-app-role",
      "  ! breaks clients audit and reporting (granted the app role of orders): the role is deleted with its assignments, so tokens lose it from roles",
      "- delete ApplicationAppRole orders-user-role",
      "  ! breaks the 1 user or group assigned to orders: the role is deleted with its assignments, so their sign-in is refused (AADSTS50105)",
      "- delete ServicePrincipal orders-sp",
      "  ! breaks clients audit, browser and reporting (granted orders): its service principal is deleted with every admin consent, so they get no token until granted again",
      "- delete Api orders-api",
      "  ! breaks clients audit, browser and reporting (granted orders): its gateway URL stops answering while the API is deleted, and changes if its path does",
    ]);
  });

  it("delete: revoking one grant names the client and the API it loses; the client and the API stay", async () => {
    const after = guideConfig({ apis: [guideApi(), sales], clients: [guideClient({ apis: ["sales"] })] });
    const before = guideConfig({ apis: [guideApi(), sales], clients: [guideClient({ apis: ["orders", "sales"] })] });
    expect(await diffOf(before, after)).toEqual([
      "- delete ApplicationApiAccess reporting--orders-permission",
      "- delete AppRoleAssignment reporting--orders-admin-consent",
      "  ! breaks client reporting's calls to orders: the grant is revoked, so its next token request for orders is refused (AADSTS501051)",
      "0 to create, 0 to update, 0 to replace, 2 to delete",
    ]);
    const unassigned = twoApis([{ ...ordersForUsers, assignedPrincipals: [] }, sales]);
    expect(await diffOf(twoApis(), unassigned)).toEqual([
      `- delete AppRoleAssignment orders-user-${group}`,
      `  ! breaks user or group ${group}'s sign-in to orders: the assignment is removed, so it is refused (AADSTS50105)`,
      "0 to create, 0 to update, 0 to replace, 1 to delete",
    ]);
  });

  it("a rename without formerNames deletes the API's identity and recreates it: every `!` is shown, and the fix", async () => {
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
    expect(lines.filter((line) => line.startsWith("  ?"))).toEqual([
      "  ? looks like a rename: add `formerNames: [orders]` to API sales to keep ids",
    ]);
    expect(lines[lines.indexOf("- delete ApplicationRegistration orders-app") + 2]).toBe(
      "  ? looks like a rename: add `formerNames: [orders]` to API sales to keep ids",
    );
  });

  it.each([
    {
      name: "a client with the same display name",
      before: guideConfig(),
      after: guideConfig({ clients: [guideClient({ name: "finance" })] }),
      hint: "  ? looks like a rename: add `formerNames: [reporting]` to client finance to keep ids",
    },
    {
      name: "an API with the same APIM path under another display name",
      before: guideConfig(),
      after: guideConfig({
        apis: [guideApi({ name: "sales", displayName: "Sales" })],
        clients: [guideClient({ apis: ["sales"] })],
      }),
      hint: "  ? looks like a rename: add `formerNames: [orders]` to API sales to keep ids",
    },
    {
      name: "an API renamed before: its ids come from its first name, which the hint keeps first",
      before: guideConfig({
        apis: [guideApi({ name: "sales", formerNames: ["orders"] })],
        clients: [guideClient({ apis: ["sales"] })],
      }),
      after: guideConfig({ apis: [guideApi({ name: "billing" })], clients: [guideClient({ apis: ["billing"] })] }),
      hint: "  ? looks like a rename: add `formerNames: [orders, sales]` to API billing to keep ids",
    },
  ])("a delete and a create that look like a rename say so: $name", async ({ before, after, hint }) => {
    expect((await diffOf(before, after)).filter((line) => line.startsWith("  ?"))).toEqual([hint]);
  });

  it("a new entry beside a dropped one with another display name and path is no rename", async () => {
    const after = guideConfig({
      apis: [guideApi({ name: "sales", displayName: "Sales", path: "sales" })],
      clients: [guideClient({ name: "finance", displayName: "Finance", apis: ["sales"] })],
    });
    expect((await diffOf(guideConfig(), after)).filter((line) => line.startsWith("  ?"))).toEqual([]);
  });

  it("the same rename with formerNames matches every resource through its aliases: each is shown moved, none replaced", async () => {
    const after = guideConfig({
      apis: [guideApi({ name: "sales", formerNames: ["orders"] })],
      clients: [guideClient({ apis: ["sales"] })],
    });
    expect(await diffOf(guideConfig(), after)).toEqual([
      "= rename ApplicationRegistration orders-app → sales-app",
      "= rename ApplicationIdentifierUri orders-identifier-uri → sales-identifier-uri",
      "= rename ApplicationPermissionScope orders-scope → sales-scope",
      "= rename ApplicationAppRole orders-app-role → sales-app-role",
      "= rename ServicePrincipal orders-sp → sales-sp",
      "= rename ApplicationApiAccess reporting--orders-permission → reporting--sales-permission",
      "= rename AppRoleAssignment reporting--orders-admin-consent → reporting--sales-admin-consent",
      "= rename Api orders-api → sales-api",
      "= rename ApiOperation orders-get → sales-get",
      "= rename ApiOperation orders-post → sales-post",
      "= rename ApiOperation orders-put → sales-put",
      "= rename ApiOperation orders-patch → sales-patch",
      "= rename ApiOperation orders-delete → sales-delete",
      "= rename ApiPolicy orders-policy → sales-policy",
      "0 to create, 0 to update, 0 to replace, 0 to delete, 14 renamed",
    ]);
  });
});

describe("plan diff of registrations made by hand that a stack adopts", () => {
  const legacy = {
    name: "legacy",
    displayName: "My-Client-App",
    secretRotatedOn: "2026-11-23",
    apis: ["orders"],
    existing: {
      objectId: "8f1c2d3e-4a5b-4c6d-9e7f-8a9b0c1d2e06",
      clientId: "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a507",
      servicePrincipal: { objectId: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c08" },
    },
  };

  it("import: the adopted app and principal are imported, not created; what the program adds is created", async () => {
    const after = guideConfig({ clients: [guideClient(), legacy] });
    expect(await diffOf(guideConfig(), after)).toEqual([
      "= import ApplicationRegistration legacy-app (/applications/8f1c2d3e-4a5b-4c6d-9e7f-8a9b0c1d2e06)",
      "= import ServicePrincipal legacy-sp (/servicePrincipals/a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c08)",
      "+ create ApplicationPassword legacy-secret-2026-11-23",
      "+ create ApplicationApiAccess legacy--orders-permission",
      "+ create AppRoleAssignment legacy--orders-admin-consent",
      "3 to create, 0 to update, 0 to replace, 0 to delete, 2 to import",
    ]);
    // Once imported, the import id is in the stack: the next change is an ordinary one.
    const renamed = guideConfig({ clients: [guideClient(), { ...legacy, displayName: "Reporting (legacy)" }] });
    expect(await diffOf(after, renamed)).toEqual([
      "~ update ApplicationRegistration legacy-app (displayName)",
      "0 to create, 1 to update, 0 to replace, 0 to delete",
    ]);
  });

  it("removing an adopted entry deletes what the program added; what was made by hand stays in the tenant, no `!`", async () => {
    const adopting = guideConfig({ clients: [guideClient(), legacy] });
    expect(await diffOf(adopting, guideConfig())).toEqual([
      "- delete ApplicationRegistration legacy-app (it stays in the tenant: retainOnDelete)",
      "- delete ServicePrincipal legacy-sp (it stays in the tenant: retainOnDelete)",
      "- delete ApplicationPassword legacy-secret-2026-11-23",
      "- delete ApplicationApiAccess legacy--orders-permission",
      "- delete AppRoleAssignment legacy--orders-admin-consent",
      "0 to create, 0 to update, 0 to replace, 5 to delete",
    ]);
  });

  it("an entry of a deployed stack told to adopt another object: the import replaces the stack's own, `!`", async () => {
    const adopting = guideConfig({ clients: [guideClient({ existing: legacy.existing })] });
    expect(await diffOf(guideConfig(), adopting)).toEqual([
      "+- replace ApplicationRegistration reporting-app by importing /applications/8f1c2d3e-4a5b-4c6d-9e7f-8a9b0c1d2e06: the stack's own object is deleted",
      "  ! breaks client reporting's callers (granted orders): its app registration is replaced, so their token requests fail (AADSTS700016)",
      "+- replace ServicePrincipal reporting-sp by importing /servicePrincipals/a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c08: the stack's own object is deleted",
      "  ! breaks client reporting's callers (granted orders): its service principal is replaced with its admin consent, so they get no token until it is granted again",
      "+- replace ApplicationPassword reporting-secret-2026-11-23 (applicationId forces it)",
      "  ! breaks client reporting's callers (granted orders): the secret in use (the newest, rotated 2026-11-23) is replaced, so their token requests fail (AADSTS7000215) until they have the new clientSecret; rotate in two changes: add the new secret, then remove this one",
      "+- replace ApplicationApiAccess reporting--orders-permission (applicationId forces it)",
      "+- replace AppRoleAssignment reporting--orders-admin-consent (principalObjectId forces it)",
      "0 to create, 0 to update, 5 to replace, 0 to delete, 2 to import",
    ]);
  });

  it("update: a new value for the app role leaves the tokens clients hold with the old one: `!`", async () => {
    const after = guideConfig({ apis: [guideApi({ appRole: "orders.call" })] });
    expect(await diffOf(guideConfig(), after)).toEqual([
      "~ update ApplicationAppRole orders-app-role (value)",
      '  ! breaks client reporting (granted the app role of orders): the role\'s value changes from "access_as_app" to "orders.call", and the tokens they hold carry "access_as_app" in roles, which the gateway refuses, until they are issued again',
      "~ update ApiPolicy orders-policy (value)",
      "0 to create, 2 to update, 0 to replace, 0 to delete",
    ]);
  });
});

describe("plan diff of a client's secrets", () => {
  const withSecrets = (...secrets: { rotatedOn: string; lifetimeDays: number }[]) =>
    guideConfig({ clients: [guideClient({ secretRotatedOn: undefined, secretLifetimeDays: undefined, secrets })] });

  it("an in-place change of secretRotatedOn deletes the secret in use: `!`, naming the client and how to rotate", async () => {
    const before = guideConfig({ clients: [guideClient({ secretRotatedOn: "2026-11-01" })] });
    expect(await diffOf(before, guideConfig())).toEqual([
      "+ create ApplicationPassword reporting-secret-2026-11-23",
      "- delete ApplicationPassword reporting-secret-2026-11-01",
      "  ! breaks client reporting's callers (granted orders): the secret in use (the newest, rotated 2026-11-01) is deleted, so their token requests fail (AADSTS7000215) until they have the new clientSecret; rotate in two changes: add the new secret, then remove this one",
      "1 to create, 0 to update, 0 to replace, 1 to delete",
    ]);
  });

  it("rotation: adding B creates it beside A, then removing A deletes the older secret: no `!`, nothing replaced", async () => {
    // Each password is named by its own rotation day, so adding or removing an entry leaves the other's URN alone.
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
    // Removing B instead deletes the newest secret, the one in use.
    expect(await diffOf(withSecrets(a, b), withSecrets(a))).toEqual([
      "- delete ApplicationPassword reporting-secret-2026-11-23",
      "  ! breaks client reporting's callers (granted orders): the secret in use (the newest, rotated 2026-11-23) is deleted, so their token requests fail (AADSTS7000215) until they have the new clientSecret; rotate in two changes: add the new secret, then remove this one",
      "0 to create, 0 to update, 0 to replace, 1 to delete",
    ]);
  });

  it("a new lifetime for the secret in use replaces it: `!`", async () => {
    const after = guideConfig({ clients: [guideClient({ secretLifetimeDays: 90 })] });
    expect(await diffOf(guideConfig(), after)).toEqual([
      "+- replace ApplicationPassword reporting-secret-2026-11-23 (endDate forces it)",
      "  ! breaks client reporting's callers (granted orders): the secret in use (the newest, rotated 2026-11-23) is replaced, so their token requests fail (AADSTS7000215) until they have the new clientSecret; rotate in two changes: add the new secret, then remove this one",
      "0 to create, 0 to update, 1 to replace, 0 to delete",
    ]);
  });

  it("deleting a federated credential of a client that stays names the workload it leaves out", async () => {
    const credential = (name: string, branch: string) => ({
      name,
      issuer: "https://token.actions.githubusercontent.com",
      subject: `repo:contoso/orders:ref:refs/heads/${branch}`,
    });
    const federated = (...federatedCredentials: Record<string, string>[]) =>
      guideConfig({
        clients: [
          guideClient({
            secretRotatedOn: undefined,
            secretLifetimeDays: undefined,
            credential: "federated",
            federatedCredentials,
          }),
        ],
      });
    const main = credential("main", "main");
    expect(await diffOf(federated(main, credential("release", "release")), federated(main))).toEqual([
      "- delete ApplicationFederatedIdentityCredential reporting-federated-release",
      "  ! breaks client reporting's callers (granted orders): the federated credential for https://token.actions.githubusercontent.com subject repo:contoso/orders:ref:refs/heads/release is deleted, so that workload's token requests fail (AADSTS700211 or 700213)",
      "0 to create, 0 to update, 0 to replace, 1 to delete",
    ]);
  });

  it("a stack deployed before two-slot rotation shows its one password moved to its dated name", async () => {
    // The base is what the program before two-slot rotation planned: the one password named `<client>-secret`.
    const head = await sideOf(guideConfig());
    const legacy = (text: string) => text.replace("reporting-secret-2026-11-23", "reporting-secret");
    const base = head.map((resource) =>
      resource.type === "azuread:index/applicationPassword:ApplicationPassword"
        ? { ...resource, urn: legacy(resource.urn), name: legacy(resource.name), aliases: [] }
        : resource,
    );
    expect(formatPlanDiff(diffPlans(base, head))).toEqual([
      "= rename ApplicationPassword reporting-secret → reporting-secret-2026-11-23",
      "0 to create, 0 to update, 0 to replace, 0 to delete, 1 renamed",
    ]);
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

  it("--fail-on-breaking exits 1 when a `!` line is printed, and 0 when none is", async () => {
    const base = await sideOf(guideConfig(), "dev");
    const planned = async (config: Record<string, unknown>, argv: string[]) => {
      const out: string[] = [];
      const code = await runPlan(["--base", "main", ...argv], {
        out: (text) => out.push(text),
        err: (text) => out.push(text),
        evaluate: (stack) => evaluate(config, stack),
        planAtRef: () => base,
      });
      return {
        code,
        breaking: out
          .join("\n")
          .split("\n")
          .filter((line) => line.startsWith("  !")).length,
      };
    };
    const withAudit = guideConfig({ clients: [guideClient(), guideClient({ name: "audit", displayName: "Audit" })] });
    expect(await planned(guideConfig({ clients: [] }), ["--fail-on-breaking"])).toEqual({ code: 1, breaking: 2 });
    expect(await planned(withAudit, ["--fail-on-breaking"])).toEqual({ code: 0, breaking: 0 });
    expect(await planned(guideConfig({ clients: [] }), [])).toEqual({ code: 0, breaking: 2 });
  });

  it("--fail-on-breaking without --base is a usage error", async () => {
    const err: string[] = [];
    const code = await runPlan(["--fail-on-breaking"], { out: () => undefined, err: (text) => err.push(text) });
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("error: --fail-on-breaking goes with --base <git-ref>");
  });

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
