// Entra's replication delay on the real engine: the local tenant hides each new application, principal, role and
// secret from the token endpoint and from Graph's cross-object references for a few seconds (local/directory.ts, as
// Entra's replicas do: terraform-provider-azuread #1811, PR #1896; no SLA). `npm run local -- up` of an API that
// accepts users, and adding users to a deployed API, both succeed with the delay on, and smoke passes; a YAML program
// deploys through the component package with the same retry on its assignments. The figures (pulumi up's Duration
// and the engine's retries, with no delay and with the delay) are logged for the report, never asserted. What this
// cannot prove: how long Entra's own replicas lag, which varies; only that the program waits where the tenant makes it.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localUser } from "../../local/directory";
import { projectRoot } from "../../local/engine";
import { type LocalSession, startLocalSession } from "./support/localSession";
import { changes, previewSteps } from "./support/previewSteps";
import { programCopy, projectWithStacks, removeTemporaryProjects, writeStackFile } from "./support/projects";
import { ensureService, yamlExampleProject } from "./support/stacks";

const delaySeconds = 5;
const devFile = fs.readFileSync(path.join(projectRoot, "Pulumi.dev.yaml"), "utf8");

let session: LocalSession;
let project: string;
const durations: string[] = [];

beforeAll(async () => {
  session = await startLocalSession();
  project = projectWithStacks({});
});

afterAll(async () => {
  console.log(`replication figures (pulumi up Duration, engine retries):\n  ${durations.join("\n  ")}`);
  await session?.close();
  removeTemporaryProjects();
});

/** Pulumi.dev.yaml in an APIM service of the stack's own; with `users`, its API also accepts the local user. */
function stackFile(stack: string, users: boolean): string {
  const file = parseDocument(devFile.replaceAll("apim-contoso-dev", `apim-contoso-${stack}`));
  if (users) {
    file.setIn(["config", "apim-entra-auth:apis", 0, "callers"], file.createNode(["applications", "users"]));
    file.setIn(["config", "apim-entra-auth:apis", 0, "assignedPrincipals"], file.createNode([localUser.id]));
  }
  return file.toString();
}

/** `npm run local -- up` of the stack (smoke included); its Duration noted under `label`. */
async function up(stack: string, label: string) {
  const run = await session.local(["up", "--stack", stack], { projectDir: project });
  // The engine numbers each retry of a resource ("(2/100)"); the progress and the diagnostics repeat the line.
  const retries = Math.max(
    0,
    ...[...run.output.matchAll(/on-error hook request \((\d+)\/\d+\)/g)].map((m) => Number(m[1])),
  );
  durations.push(
    `${label}: ${/^Duration: (.+)$/m.exec(run.out)?.[1] ?? "?"}, ${retries} retries of one create at most (exit ${run.code})`,
  );
  expect(run.code, run.output).toBe(0);
  expect(run.out).toContain("9 of 9 checks passed");
  return run;
}

/** The assignments of the API's user role, as Graph lists them on the API's service principal. */
async function userAssignments(stack: string): Promise<string[]> {
  const outputs = await session.localOk(["pulumi", "stack", "output", "--json", "--stack", stack], {
    projectDir: project,
  });
  const { orders } = (JSON.parse(outputs.out) as { apis: Record<string, { clientId: string }> }).apis;
  const principals = await session.restOk(
    "GET",
    `graph:/v1.0/servicePrincipals?$filter=appId eq '${orders?.clientId}'`,
  );
  const [api] = principals.value as { id: string }[];
  const assigned = await session.restOk("GET", `graph:/v1.0/servicePrincipals/${api?.id}/appRoleAssignedTo`);
  return (assigned.value as { principalId: string; principalType: string }[])
    .filter((assignment) => assignment.principalType === "User")
    .map((assignment) => assignment.principalId);
}

/** The two scenarios, on stacks named after the delay so each delay gets its own objects. */
function scenarios(delay: number) {
  it(`deploys a new API that accepts users (replication delay ${delay} s)`, async () => {
    const stack = `users-new-${delay}`;
    writeStackFile(project, stack, stackFile(stack, true));
    await up(stack, `new API with users, delay ${delay} s`);
    expect(await userAssignments(stack)).toEqual([localUser.id]);
  });

  it(`adds users to a deployed API (replication delay ${delay} s)`, async () => {
    const stack = `users-added-${delay}`;
    writeStackFile(project, stack, stackFile(stack, false));
    await up(stack, `API without users, delay ${delay} s`);
    writeStackFile(project, stack, stackFile(stack, true));
    await up(stack, `users added, delay ${delay} s`);
    expect(await userAssignments(stack)).toEqual([localUser.id]);
    expect(changes(await previewSteps(session, stack, { projectDir: project }))).toEqual([]);
  });
}

describe("without a replication delay", () => {
  scenarios(0);

  it("previews no change on a stack deployed before the assignments asked for the retry", async () => {
    // The program as it was: no error hook on the assignments.
    const before = programCopy({
      "components/roleReplication.ts": [
        "const monitor = pulumi.runtime.getMonitor() as { registerErrorHook?: unknown } | undefined;",
        "const monitor = undefined as { registerErrorHook?: unknown } | undefined;",
      ],
    });
    const stack = "before-retry";
    writeStackFile(project, stack, stackFile(stack, true));
    await session.localOk(["up", "--stack", stack], {
      projectDir: projectWithStacks({ [stack]: stackFile(stack, true) }, before),
    });
    expect(changes(await previewSteps(session, stack, { projectDir: project }))).toEqual([]);
  });
});

describe(`with the tenant's replication delay at ${delaySeconds} s`, () => {
  beforeAll(async () => {
    const port = new URL(session.login).port;
    await session.localOk(["stop"]);
    await session.localOk(["start", "--port", port, "--replication-delay", String(delaySeconds)]);
  });

  scenarios(delaySeconds);

  it("deploys a YAML program through the component package, whose assignments carry the retry too", async () => {
    // The component runs in its provider's process there (provider.ts): the error hook registers from it.
    const program = yamlExampleProject();
    await ensureService(session, { resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" });
    await session.localOk(["pulumi", "stack", "select", "--create", "--non-interactive", "yaml"], {
      projectDir: program,
    });
    await session.localOk(["pulumi", "up", "--yes", "--non-interactive", "--stack", "yaml"], { projectDir: program });
    const exported = await session.localOk(["pulumi", "stack", "export", "--stack", "yaml"], { projectDir: program });
    const { resources } = (
      JSON.parse(exported.out) as { deployment: { resources: { type: string; resourceHooks?: unknown }[] } }
    ).deployment;
    const assignments = resources.filter(
      (resource) => resource.type === "azuread:index/appRoleAssignment:AppRoleAssignment",
    );
    expect(assignments.map((assignment) => assignment.resourceHooks)).toEqual([
      { OnError: ["retry-while-the-role-replicates"] },
    ]);
  });
});
