// Upgrades keep identity, on the real engine: the frozen fixture stack (dev plus a second API, a federated client and a
// rename) deployed by the program as it was before the EntraProtectedApis component (a git worktree of the commit that
// froze the URNs tests/urnContinuity.test.ts checks, every resource at the stack's root), then `pulumi up` of today's
// program on the same state. The engine, not a reimplementation of its alias rules, decides what moves: nothing the
// directory or ARM holds is replaced or deleted. The old program runs with this checkout's node_modules: its
// package-lock.json differs only in @pulumi/pulumi (3.270.0 then), whose URNs the engine reads the same. What this
// cannot prove: that Microsoft's providers diff the moved resources as ours do (local/providers/* follow their schemas).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectRoot } from "../../local/engine";
import { startLocalSession, type LocalSession } from "./support/localSession";
import { changes, previewSteps } from "./support/previewSteps";
import { projectWithStacks, removeTemporaryProjects, temporaryDir } from "./support/projects";
import { identitySnapshot, stackOutputs } from "./support/stackClients";

const git = (...args: string[]) => execFileSync("git", args, { cwd: projectRoot, encoding: "utf8" }).trim();

/**
 * The program before the component refactor whose URNs urnContinuity.test.ts froze: the commit that added
 * tests/fixtures/urns-before-component.json (frozen from this program and never edited since). It names a client's
 * first password `<client>-secret`, as before two-slot rotation.
 */
function commitThatFroze(): string {
  // A shallow clone (a CI checkout's default depth) lacks that commit: fetch the history once from where it came.
  if (git("rev-parse", "--is-shallow-repository") === "true") git("fetch", "--quiet", "--unshallow");
  const added = git("log", "--diff-filter=A", "--format=%H", "--", "tests/fixtures/urns-before-component.json");
  if (!added) throw new Error("git log finds no commit adding the frozen URNs: a shallow clone? (fetch-depth: 0)");
  return added;
}

/**
 * The frozen fixture stack urnContinuity.test.ts reasons about (the dev stack plus a second API with an OpenAPI file,
 * a federated client and a rename), on this tenant. The program then required tenantId and nameSuffix (declared in
 * Pulumi.yaml without a default, which the CLI refuses to leave unset); nameSuffix "dev" is today's default.
 */
function continuityStack(tenantId: string): Record<string, unknown> {
  const file = parse(fs.readFileSync(path.join(projectRoot, "tests/fixtures/stacks/Pulumi.continuity.yaml"), "utf8"));
  const config = Object.entries((file as { config: Record<string, unknown> }).config);
  return {
    ...Object.fromEntries(config.map(([key, value]) => [key.replace(/^apim-entra-auth:/, ""), value])),
    tenantId,
    nameSuffix: "dev",
  };
}

/** The URNs the stack's state holds, but the stack's own and its providers'. */
async function stateUrns(projectDir: string): Promise<string[]> {
  const exported = await session.localOk(["pulumi", "stack", "export", "--stack", "dev"], { projectDir });
  const { deployment } = JSON.parse(exported.out) as { deployment: { resources: { urn: string; type: string }[] } };
  return deployment.resources
    .filter(({ type }) => type !== "pulumi:pulumi:Stack" && !type.startsWith("pulumi:providers:"))
    .map(({ urn }) => urn)
    .sort();
}

const frozenUrns = (
  JSON.parse(fs.readFileSync(path.join(projectRoot, "tests/fixtures/urns-before-component.json"), "utf8")) as {
    urn: string;
  }[]
)
  .map(({ urn }) => urn)
  .sort();

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
  config = continuityStack(session.tenantId);
  oldProgram = path.join(temporaryDir("engine-old-program-"), "program");
  git("worktree", "add", "--detach", oldProgram, commitThatFroze());
  fs.symlinkSync(path.join(projectRoot, "node_modules"), path.join(oldProgram, "node_modules"));
});

afterAll(async () => {
  await session?.close();
  if (oldProgram && fs.existsSync(oldProgram)) git("worktree", "remove", "--force", oldProgram);
  removeTemporaryProjects();
});

describe("upgrading a dev stack deployed before the EntraProtectedApis component", () => {
  it("deploys the fixture stack with the old program: the state holds exactly the URNs urnContinuity.test.ts froze", async () => {
    const projectDir = projectWithStacks({ dev: config }, oldProgram);
    // npm run local -- up puts the APIM service the stack names in place, runs pulumi up, then smoke, which fails for
    // inventory (validate-azure-ad-token) here: the API is defined by its OpenAPI file, so GET / answers 404, and smoke
    // looks up that policy's keys at login.microsoftonline.com. What matters here is that pulumi up succeeded.
    const up = await session.local(["up", "--stack", "dev"], { projectDir });
    expect(up.out).toMatch(/^\s*\+ 42 created$/m);
    expect(up.err).not.toContain("pulumi up of stack dev failed");
    expect(await stateUrns(projectDir)).toEqual(frozenUrns);
    before = await identitySnapshot(session, devService);
  });

  it("previews today's program on that state replacing and deleting no registration, principal, password, consent or API", async () => {
    const projectDir = projectWithStacks({ dev: config });
    const steps = await previewSteps(session, "dev", { projectDir }, ["--show-sames"]);
    const kept = steps.filter((step) => keptTypes.includes(step.type));
    expect(kept.filter((step) => !["same", "update"].includes(step.op))).toEqual([]);
    // Four registrations and principals (orders, inventory, reporting, pipeline), one password, two APIM APIs.
    expect(kept).toHaveLength(11);
    // The principals' update lists the deployer in their owners (added after the component refactor), the policies'
    // adds the WWW-Authenticate challenge. Our azuread provider plans previews as the bridged one does (Create and
    // Update answer the proposed state), so the principals' object ids stay known and no admin consent that names
    // them changes: the preview replaces nothing, as up then does.
    expect(changes(steps)).toEqual([
      "create EntraProtectedApis apim-entra-auth",
      "update ApiPolicy inventory-policy",
      "update ApiPolicy orders-policy",
      "update ServicePrincipal inventory-sp",
      "update ServicePrincipal orders-sp",
      "update ServicePrincipal pipeline-sp",
      "update ServicePrincipal reporting-sp",
    ]);
    const consents = steps.filter((step) => step.type === "azuread:index/appRoleAssignment:AppRoleAssignment");
    // Not vacuous: the three admin consents of the fixture (pipeline to inventory, reporting to inventory and orders).
    expect(consents.map((step) => `${step.op} ${step.name}`).sort()).toEqual([
      "same pipeline--inventory-admin-consent",
      "same reporting--inventory-admin-consent",
      "same reporting--orders-admin-consent",
    ]);
  });

  it("moves every registration, service principal, password and APIM API: the directory's ids are unchanged", async () => {
    const projectDir = projectWithStacks({ dev: config });
    const up = await session.localOk(["pulumi", "up", "--yes", "--non-interactive", "--stack", "dev"], { projectDir });
    expect(up.out).toMatch(/^\s*\+ 1 created\n\s*~ 6 updated\n\s*7 changes\. 36 unchanged$/m);
    const after = await identitySnapshot(session, devService);
    expect(after).toEqual(before);
    // Not vacuous: the snapshot holds the stack's four registrations with their service principals, the client's
    // password and the two APIM APIs.
    const outputs = await stackOutputs(session, "dev", { projectDir });
    const appIds = [...Object.values(outputs.clients), ...Object.values(outputs.apis)].map((entry) => entry.clientId);
    expect(after.applications.filter((app) => appIds.includes(app.appId))).toHaveLength(4);
    expect(after.servicePrincipals.filter((sp) => appIds.includes(sp.appId))).toHaveLength(4);
    expect(after.applications.flatMap((app) => app.passwords)).toContainEqual({
      keyId: expect.any(String),
      displayName: "rotated 2026-11-23",
    });
    // inventory, formerly stock, keeps its first name as its APIM API id.
    expect(after.apimApis).toEqual([expect.stringMatching(/\/apis\/orders$/), expect.stringMatching(/\/apis\/stock$/)]);
    await session.localOk(["pulumi", "preview", "--expect-no-changes", "--stack", "dev"], { projectDir });
  });
});
