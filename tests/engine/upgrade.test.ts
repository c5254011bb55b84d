// Upgrades keep identity, on the real engine: the dev stack deployed by the program as it was before the
// EntraProtectedApis component (a git worktree of the commit before the one that added components/entraProtectedApis.ts,
// every resource at the stack's root), then `pulumi up` of today's program on the same state. The engine, not a
// reimplementation of its alias rules (tests/urnContinuity.test.ts), decides what moves: nothing the directory or ARM
// holds is replaced or deleted. The old program runs with this checkout's node_modules: its package-lock.json differs
// only in @pulumi/pulumi (3.270.0 then), whose URN format the engine reads the same. What this cannot prove: that
// Microsoft's providers diff the moved resources as ours do (local/providers/* follow their schemas).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../local/engine";
import { startLocalSession, type LocalSession } from "./support/localSession";
import { changes, previewSteps } from "./support/previewSteps";
import { committedStackConfig, projectWithStacks, removeTemporaryProjects, temporaryDir } from "./support/projects";
import { identitySnapshot, stackOutputs } from "./support/stackClients";

const git = (...args: string[]) => execFileSync("git", args, { cwd: projectRoot, encoding: "utf8" }).trim();

/** The commit before the component refactor: the parent of the one that added components/entraProtectedApis.ts. */
function commitBeforeComponent(): string {
  const added = git("log", "--diff-filter=A", "--format=%H", "--", "components/entraProtectedApis.ts")
    .split("\n")
    .at(-1);
  if (!added) throw new Error("git log finds no commit adding components/entraProtectedApis.ts: a shallow clone?");
  return git("rev-parse", `${added}^`);
}

// The program then required tenantId and nameSuffix (declared in Pulumi.yaml without a default, which the CLI refuses to
// leave unset); today's program takes both, nameSuffix "dev" being its default for the dev stack.
let config: Record<string, unknown>;
let session: LocalSession;
let oldProgram: string;
const devService = { resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" };
let before: Awaited<ReturnType<typeof identitySnapshot>>;
/** What must never be replaced or deleted: registrations, service principals, passwords and APIM APIs. */
const keptTypes = [
  "azuread:index/applicationRegistration:ApplicationRegistration",
  "azuread:index/servicePrincipal:ServicePrincipal",
  "azuread:index/applicationPassword:ApplicationPassword",
  "azure-native:apimanagement:Api",
];

beforeAll(async () => {
  session = await startLocalSession();
  config = { ...committedStackConfig("dev"), tenantId: session.tenantId, nameSuffix: "dev" };
  oldProgram = path.join(temporaryDir("engine-old-program-"), "program");
  git("worktree", "add", "--detach", oldProgram, commitBeforeComponent());
  fs.symlinkSync(path.join(projectRoot, "node_modules"), path.join(oldProgram, "node_modules"));
});

afterAll(async () => {
  await session?.close();
  if (oldProgram && fs.existsSync(oldProgram)) git("worktree", "remove", "--force", oldProgram);
  removeTemporaryProjects();
});

describe("upgrading a dev stack deployed before the EntraProtectedApis component", () => {
  it("deploys the dev stack with the old program, its resources at the stack's root", async () => {
    const projectDir = projectWithStacks({ dev: config }, oldProgram);
    const up = await session.localOk(["up", "--stack", "dev"], { projectDir });
    expect(up.out).toContain("9 of 9 checks passed");
    const urns = (await session.localOk(["pulumi", "stack", "export", "--stack", "dev"], { projectDir })).out;
    expect(urns).not.toContain("EntraProtectedApis");
    expect(urns).toContain("apim-entra-auth:identity:ClientRegistration::reporting");
    before = await identitySnapshot(session, devService);
  });

  it("previews today's program on that state replacing and deleting no registration, principal, password or API", async () => {
    const projectDir = projectWithStacks({ dev: config });
    const steps = await previewSteps(session, "dev", { projectDir }, ["--show-sames"]);
    const kept = steps.filter((step) => keptTypes.includes(step.type));
    expect(kept.map((step) => `${step.op} ${step.name}`).sort()).toEqual([
      "same orders-api",
      "same orders-app",
      "same reporting-app",
      "same reporting-secret-2026-11-23",
      "update orders-sp",
      "update reporting-sp",
    ]);
    // The principals' update lists the deployer in their owners (added after the component refactor). Our azuread
    // provider, like any provider that does not support previews, hands the engine an update's inputs as its preview
    // outputs, so the principals' object ids are unknown to the preview and the admin consent that names them shows a
    // replace. The up below finds them unchanged and keeps the consent (its id is in the snapshot).
    expect(changes(steps)).toEqual([
      "create EntraProtectedApis apim-entra-auth",
      "replace AppRoleAssignment reporting--orders-admin-consent",
      "update ApiPolicy orders-policy",
      "update ServicePrincipal orders-sp",
      "update ServicePrincipal reporting-sp",
    ]);
    expect(steps.find((step) => step.op === "replace")?.replaceReasons?.sort()).toEqual([
      "principalObjectId",
      "resourceObjectId",
    ]);
  });

  it("moves every registration, service principal, password and APIM API: the directory's ids are unchanged", async () => {
    const projectDir = projectWithStacks({ dev: config });
    const up = await session.localOk(["up", "--stack", "dev"], { projectDir });
    expect(up.out).toContain("9 of 9 checks passed");
    expect(up.out).not.toMatch(/replaced|deleted/);
    const after = await identitySnapshot(session, devService);
    expect(after).toEqual(before);
    // Not vacuous: the snapshot holds the stack's two registrations with their service principals, the client's
    // password and the APIM API.
    const outputs = await stackOutputs(session, "dev", { projectDir });
    const appIds = [outputs.clients.reporting?.clientId, outputs.apis.orders?.clientId];
    expect(after.applications.filter((app) => appIds.includes(app.appId))).toHaveLength(2);
    expect(after.servicePrincipals.filter((sp) => appIds.includes(sp.appId))).toHaveLength(2);
    expect(after.applications.flatMap((app) => app.passwords)).toContainEqual({
      keyId: expect.any(String),
      displayName: "rotated 2026-11-23",
    });
    expect(after.apimApis).toEqual([expect.stringMatching(/\/apis\/orders$/)]);
    await session.localOk(["pulumi", "preview", "--expect-no-changes", "--stack", "dev"], { projectDir });
  });
});
