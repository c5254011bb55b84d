// Protection, on the real engine: the prod stack (Pulumi.prod.yaml's config, protect: true) deployed, then `pulumi
// destroy` refused by the engine before it deletes anything, a rotation of the reporting client's secret (A → A+B → B),
// and another (B → B+C → C) with `protect: true` also set on the EntraProtectedApis component as a resource option,
// which Pulumi would pass to every child that did not state its own (components/protection.ts). What this cannot
// prove: that Azure's resource locks, which Pulumi's protect does not set, behave the same.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAssignedGroups } from "./support/assignedGroups";
import { startLocalSession, type LocalSession } from "./support/localSession";
import { changes, previewSteps } from "./support/previewSteps";
import {
  committedStackConfig,
  programCopy,
  projectWithStacks,
  removeTemporaryProjects,
  writeStackFile,
} from "./support/projects";
import { callWithSecret, identitySnapshot, stackOutputs } from "./support/stackClients";

const prodService = { resourceGroupName: "rg-apim-prod", serviceName: "apim-contoso-prod" };

/** Pulumi.prod.yaml's config, its reporting client holding secrets rotated on these days. */
function prodWithSecrets(...rotatedOn: string[]) {
  const config = committedStackConfig("prod");
  const clients = config.clients as Record<string, unknown>[];
  return {
    ...config,
    clients: clients.map((client) =>
      client.name === "reporting" ? { ...client, secrets: rotatedOn.map((day) => ({ rotatedOn: day })) } : client,
    ),
  };
}

let session: LocalSession;
let projectDir: string;
const given: Record<string, string> = {};

/** One rotation step of the reporting client on `day`: the preview's changes, then a real up (with its smoke test). */
async function rotationStep(day: string, secrets: string[], project = projectDir) {
  await session.restartOn(day);
  writeStackFile(project, "prod", prodWithSecrets(...secrets));
  const planned = changes(await previewSteps(session, "prod", { projectDir: project }));
  await session.localOk(["up", "--stack", "prod"], { projectDir: project });
  const outputs = await stackOutputs(session, "prod", { projectDir: project });
  // The secret added on `day` is the newest, which the outputs name; a client keeps the one it was given.
  if (secrets.includes(day)) given[day] ??= outputs.clients.reporting?.clientSecret ?? "";
  const calls = Object.fromEntries(
    await Promise.all(
      Object.entries(given).map(async ([rotatedOn, secret]) => [
        rotatedOn,
        await callWithSecret(session, outputs, "reporting", "orders", secret),
      ]),
    ),
  );
  return { planned, calls };
}

const refusedSecret = /^refused: invalid_client: AADSTS7000215: Invalid client secret provided\./;

beforeAll(async () => {
  session = await startLocalSession();
  await session.restartOn("2026-11-23");
  await createAssignedGroups(session, "prod");
  projectDir = projectWithStacks({ prod: committedStackConfig("prod") });
  await session.localOk(["up", "--stack", "prod"], { projectDir });
  given["2026-11-23"] = (await stackOutputs(session, "prod", { projectDir })).clients.reporting?.clientSecret ?? "";
});

afterAll(async () => {
  await session?.close();
  removeTemporaryProjects();
});

describe("the prod stack (protect: true)", () => {
  it("refuses pulumi destroy with the engine's protect message, deleting nothing", async () => {
    const before = await identitySnapshot(session, prodService);
    const destroy = await session.local(["destroy", "--stack", "prod"], { projectDir });
    expect(destroy.code).not.toBe(0);
    expect(destroy.output).toMatch(
      /Preview failed: resource "urn:pulumi:prod::apim-entra-auth::[^"]*(ApplicationRegistration|ServicePrincipal|apimanagement:Api)::[^"]+" cannot be deleted\s+because it is protected\./,
    );
    expect(destroy.output).not.toMatch(/deleted \(/);
    expect(await identitySnapshot(session, prodService)).toEqual(before);
    const outputs = await stackOutputs(session, "prod", { projectDir });
    expect(await callWithSecret(session, outputs, "reporting", "orders", given["2026-11-23"] ?? "")).toBe(200);
  });

  it("rotates the reporting client's secret A → A+B → B: a create, then a delete of the unprotected password", async () => {
    const add = await rotationStep("2027-01-15", ["2026-11-23", "2027-01-15"]);
    expect(add.planned).toEqual(["create ApplicationPassword reporting-secret-2027-01-15"]);
    expect(add.calls).toEqual({ "2026-11-23": 200, "2027-01-15": 200 });

    const remove = await rotationStep("2027-01-22", ["2027-01-15"]);
    expect(remove.planned).toEqual(["delete ApplicationPassword reporting-secret-2026-11-23"]);
    expect(remove.calls).toEqual({ "2026-11-23": expect.stringMatching(refusedSecret), "2027-01-15": 200 });
  });

  it("rotates B → B+C → C with protect: true as a resource option on the component as well", async () => {
    const protectedProgram = programCopy({
      "index.ts": [
        "new EntraProtectedApis(projectName, catalogueArgs(catalogue))",
        "new EntraProtectedApis(projectName, catalogueArgs(catalogue), { protect: true })",
      ],
    });
    const project = projectWithStacks({ prod: prodWithSecrets("2027-01-15") }, protectedProgram);
    // The option changes no resource: the program's children already state their protect.
    expect(changes(await previewSteps(session, "prod", { projectDir: project }))).toEqual([]);

    const add = await rotationStep("2027-02-01", ["2027-01-15", "2027-02-01"], project);
    expect(add.planned).toEqual(["create ApplicationPassword reporting-secret-2027-02-01"]);
    const remove = await rotationStep("2027-02-08", ["2027-02-01"], project);
    expect(remove.planned).toEqual(["delete ApplicationPassword reporting-secret-2027-01-15"]);
    expect(remove.calls).toEqual({
      "2026-11-23": expect.stringMatching(refusedSecret),
      "2027-01-15": expect.stringMatching(refusedSecret),
      "2027-02-01": 200,
    });
  });
});
