// `pulumi preview --policy-pack guard` with the real CLI on the local tenant, as the pipelines run it: the guard pack
// (guard/, loaded by our Node.js language host from its own folder) passes the dev and prod stacks as they are, and
// fails a test-only copy of the program whose token check drops the roles claim, naming the rule. The policy XML
// derives from the API's client id, so a preview can judge it only once the stack holds the API: on a stack never
// deployed the guard sees an unknown policy and skips it, and `pulumi up --policy-pack guard` refuses only once the
// policy is in APIM (npm run guard -- --all-stacks, which plans under Pulumi's mocks where the policy is known, judges it before).
// What this cannot prove: that the official CLI's policy-pack host loads the pack the same way (ours is
// local/engine's); the rules' verdicts on every other weakening are tests/guard.test.ts's.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apimApiVersion } from "../../local/armResources";
import { projectRoot } from "../../local/engine";
import { localSubscriptionId } from "../../local/server";
import { createAssignedGroups } from "./support/assignedGroups";
import { type LocalSession, startLocalSession } from "./support/localSession";
import { programCopy, projectWithStacks, removeTemporaryProjects } from "./support/projects";
import { prepareStack } from "./support/stacks";

const guardPack = path.join(projectRoot, "guard");
const devFile = fs.readFileSync(path.join(projectRoot, "Pulumi.dev.yaml"), "utf8");
const rolesFinding =
  'no <claim name="roles"> with the API\'s app role in <required-claims>: any app in the tenant with a token passes; require the role';

let session: LocalSession;
/** The program with applications' tokens checked for `groups` instead of `roles`: any app in the tenant would pass. */
let weakenedProgram: string;

beforeAll(async () => {
  session = await startLocalSession();
  weakenedProgram = programCopy({
    "policies/tokenCheck.ts": [
      'const appClaim = () => claim("roles", [check.appRole]);',
      'const appClaim = () => claim("groups", [check.appRole]);',
    ],
  });
});

afterAll(async () => {
  await session?.close();
  removeTemporaryProjects();
});

/** `pulumi <command> --policy-pack <guard>` of a stack of `projectDir` (default: this repository's stack files). */
async function guarded(command: string[], stack: string, projectDir?: string) {
  await prepareStack(session, stack, projectDir);
  return session.local(["pulumi", ...command, "--non-interactive", "--stack", stack, "--policy-pack", guardPack], {
    projectDir,
  });
}

function expectRolesViolation(run: { code: number; output: string }) {
  expect(run.code, run.output).not.toBe(0);
  expect(run.output).toContain("❌ apim-entra-auth-guard@v0.1.0");
  expect(run.output).toMatch(
    /\[mandatory\]\s+token-check-roles\s+\(azure-native:apimanagement:ApiPolicy: orders-policy\)/,
  );
  expect(run.output).toContain(`orders-policy — ${rolesFinding}`);
}

describe("pulumi preview --policy-pack guard on the real engine", () => {
  it("passes the dev stack, deployed from its stack file as it is", async () => {
    await session.localOk(["up", "--stack", "dev"]);
    const preview = await guarded(["preview"], "dev");
    expect(preview.code, preview.output).toBe(0);
    expect(preview.output).toContain("✅ apim-entra-auth-guard@v0.1.0");
    expect(preview.output).not.toContain("[mandatory]");
  });

  it("passes the prod stack, deployed from its stack file as it is, with its one advisory", async () => {
    await createAssignedGroups(session, "prod");
    await session.localOk(["up", "--stack", "prod"]);
    const preview = await guarded(["preview"], "prod");
    expect(preview.code, preview.output).toBe(0);
    expect(preview.output).not.toContain("[mandatory]");
    // The stack's unchanged resources are judged too: the advisory is about a password this preview leaves alone.
    expect(preview.output).toContain("⚠️ apim-entra-auth-guard@v0.1.0");
    expect(preview.output).toMatch(
      /\[advisory\]\s+prefer-federated-credential\s+\(azuread:index:ApplicationPassword: reporting-secret-2026-11-23\)/,
    );
  });

  it("fails a change to the deployed dev stack that drops the roles check from its policy, naming token-check-roles", async () => {
    const weakened = projectWithStacks({ dev: devFile }, weakenedProgram);
    expectRolesViolation(await guarded(["preview"], "dev", weakened));
  });

  it("cannot judge the policy of an API a preview creates, and up refuses it only after deploying it", async () => {
    // Its own APIM service: the dev stack's already holds the API and its authorization server.
    const fresh = projectWithStacks(
      { fresh: devFile.replaceAll("apim-contoso-dev", "apim-contoso-fresh") },
      weakenedProgram,
    );
    const preview = await guarded(["preview"], "fresh", fresh);
    expect(preview.code, preview.output).toBe(0);
    expect(preview.output).toMatch(/policy\s+:\s+\[unknown\]/);

    // The pack judges the stack once its resources are made: up reports the violation after APIM holds the policy.
    expectRolesViolation(await guarded(["up", "--yes"], "fresh", fresh));
    const policy = await session.restOk(
      "GET",
      `arm:/subscriptions/${localSubscriptionId}/resourceGroups/rg-apim-dev/providers/Microsoft.ApiManagement/service/apim-contoso-fresh/apis/orders/policies/policy?api-version=${apimApiVersion}&format=rawxml`,
    );
    expect(JSON.stringify(policy)).toContain('<claim name=\\"groups\\"');
  });
});
