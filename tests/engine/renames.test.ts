// Renames keep identity, on the real engine: the dev stack deployed, then its API (orders → sales) and its client
// (reporting → analytics) renamed with `formerNames`. The engine's preview moves every resource by its aliases (no
// replace, no delete), the directory keeps the same registrations, service principals and password, the client
// keeps the secret it was given, and the smoke test passes under the new names. What this cannot prove: that
// Microsoft's providers diff the moved resources as ours do (local/providers/* follow their schemas).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackOutputs } from "../../tools/sign-in/stackOutputs";
import { startLocalSession, type LocalSession } from "./support/localSession";
import { changes, previewSteps } from "./support/previewSteps";
import { committedStackConfig, projectWithStacks, removeTemporaryProjects, writeStackFile } from "./support/projects";
import { callWithSecret, directoryApplication, identitySnapshot, stackOutputs } from "./support/stackClients";

/** Pulumi.dev.yaml as committed, with its API orders renamed sales and its client reporting renamed analytics. */
function devRenamed() {
  const config = committedStackConfig("dev");
  const [api] = config.apis as Record<string, unknown>[];
  const [client] = config.clients as Record<string, unknown>[];
  return {
    ...config,
    apis: [{ ...api, name: "sales", formerNames: ["orders"], authorizationServer: { client: "analytics" } }],
    clients: [{ ...client, name: "analytics", formerNames: ["reporting"], apis: ["sales"] }],
  };
}

const devService = { resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" };

let session: LocalSession;
let projectDir: string;
let before: StackOutputs;

beforeAll(async () => {
  session = await startLocalSession();
  projectDir = projectWithStacks({ dev: committedStackConfig("dev") });
  await session.localOk(["up", "--stack", "dev"], { projectDir });
  before = await stackOutputs(session, "dev", { projectDir });
});

afterAll(async () => {
  await session?.close();
  removeTemporaryProjects();
});

describe("renaming an API and a client with formerNames", () => {
  it("previews no replace and no delete: every resource moves by its aliases", async () => {
    writeStackFile(projectDir, "dev", devRenamed());
    const steps = await previewSteps(session, "dev", { projectDir }, ["--show-sames"]);
    expect(changes(steps)).toEqual([]);
    // The unchanged steps are the renamed resources, which the engine found by their aliases: the password under its
    // new name, and none under its old one.
    expect(steps.map((step) => step.name)).toContain("analytics-secret-2026-11-23");
    expect(steps.map((step) => step.name)).not.toContain("reporting-secret-2026-11-23");
  });

  it("keeps the client ids, service principals, password and APIM API in the directory; the smoke test passes", async () => {
    const reporting = before.clients.reporting as StackOutputs["clients"][string];
    const orders = before.apis.orders as StackOutputs["apis"][string];
    const kept = await identitySnapshot(session, devService);

    const up = await session.localOk(["up", "--stack", "dev"], { projectDir });
    expect(up.out).toContain("smoke: client analytics → API sales (v2 tokens)");
    expect(up.out).toContain("9 of 9 checks passed");

    const after = await stackOutputs(session, "dev", { projectDir });
    expect(Object.keys(after.clients)).toEqual(["analytics"]);
    expect(Object.keys(after.apis)).toEqual(["sales"]);
    expect(after.clients.analytics?.clientId).toBe(reporting.clientId);
    expect(after.clients.analytics?.clientSecret).toBe(reporting.clientSecret);
    expect(after.apis.sales?.clientId).toBe(orders.clientId);
    expect(after.apis.sales?.url).toBe(orders.url);
    expect(await identitySnapshot(session, devService)).toEqual(kept);
    // The APIM API keeps its first name as its id, so its URL and its consumers' subscriptions stay.
    expect(kept.apimApis).toEqual([expect.stringMatching(/\/apis\/orders$/)]);
    const client = await directoryApplication(session, reporting.clientId);
    expect(client.passwords).toEqual([{ keyId: expect.any(String), displayName: "rotated 2026-11-23" }]);
    // The client that kept the secret it was given calls the renamed API.
    expect(await callWithSecret(session, after, "analytics", "sales", reporting.clientSecret ?? "")).toBe(200);
  });
});
