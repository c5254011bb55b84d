// Rotating a client secret without downtime, on the real engine: the dev stack's reporting client goes A → A+B → B,
// one real `pulumi up` per step (npm run local -- up, which also runs the smoke test), each on its own pinned day, with
// the tenant's clock and the program's on that day. At every step a client that keeps the secret it was given gets a
// token and a 200 through the local gateway. What this cannot prove: that Entra ID honours a password until it is
// deleted as the local tenant does (local/tokens.ts follows its documented behaviour).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalSession, type LocalSession } from "./support/localSession";
import { changes, previewSteps } from "./support/previewSteps";
import { committedStackConfig, projectWithStacks, removeTemporaryProjects, writeStackFile } from "./support/projects";
import { callWithSecret, directoryApplication, stackOutputs } from "./support/stackClients";

const secretA = { rotatedOn: "2026-11-23", lifetimeDays: 180 };
const secretB = { rotatedOn: "2027-04-30", lifetimeDays: 180 };

/** Pulumi.dev.yaml as committed, its reporting client holding these secrets. */
function devWithSecrets(secrets: (typeof secretA)[]) {
  const config = committedStackConfig("dev");
  const clients = config.clients as Record<string, unknown>[];
  return {
    ...config,
    clients: clients.map(({ secretRotatedOn: _on, secretLifetimeDays: _days, ...client }) =>
      client.name === "reporting" ? { ...client, secrets } : client,
    ),
  };
}

let session: LocalSession;
let projectDir: string;
const given: { a?: string; b?: string } = {};
let passwordB: string | undefined;

beforeAll(async () => {
  session = await startLocalSession();
  projectDir = projectWithStacks({ dev: devWithSecrets([secretA]) });
});

afterAll(async () => {
  await session?.close();
  removeTemporaryProjects();
});

const upOk = () => session.localOk(["up", "--stack", "dev"], { projectDir });
const outputs = () => stackOutputs(session, "dev", { projectDir });
const preview = async () => changes(await previewSteps(session, "dev", { projectDir }));
const call = async (secret: string | undefined) =>
  callWithSecret(session, await outputs(), "reporting", "orders", secret ?? "no secret was given");

describe("rotating the reporting client's secret A → A+B → B", () => {
  it("step 1 (2026-11-23): deploys with secret A, and a client with A gets a 200", async () => {
    await session.restartOn(secretA.rotatedOn);
    const up = await upOk();
    expect(up.out).toContain("9 of 9 checks passed");
    given.a = (await outputs()).clients.reporting?.clientSecret ?? undefined;
    expect(given.a).toEqual(expect.any(String));
    expect(await call(given.a)).toBe(200);
  });

  it("step 2 (2027-04-30): adds B, creating one password and replacing nothing; A and B both get a 200", async () => {
    await session.restartOn(secretB.rotatedOn);
    writeStackFile(projectDir, "dev", devWithSecrets([secretA, secretB]));
    // The portal's authorization server signs in as reporting with its newest secret, so it takes B in place.
    expect(await preview()).toEqual([
      "create ApplicationPassword reporting-secret-2027-04-30",
      "update AuthorizationServer orders-authorization-server",
    ]);
    await upOk();
    const after = await outputs();
    given.b = after.clients.reporting?.clientSecret ?? undefined;
    expect(given.b).toEqual(expect.any(String));
    expect(given.b).not.toBe(given.a);
    expect(await call(given.a)).toBe(200);
    expect(await call(given.b)).toBe(200);
    const app = await directoryApplication(session, after.clients.reporting?.clientId as string);
    // The directory names each password by its entry (components/clientRegistration.ts).
    expect(app.passwords.map((password) => password.displayName)).toEqual(["rotated 2026-11-23", "rotated 2027-04-30"]);
    passwordB = app.passwords[1]?.keyId;
  });

  it("step 3 (2027-05-07): removes A, deleting only its password; B still gets a 200, A no token", async () => {
    await session.restartOn("2027-05-07");
    writeStackFile(projectDir, "dev", devWithSecrets([secretB]));
    expect(await preview()).toEqual(["delete ApplicationPassword reporting-secret-2026-11-23"]);
    await upOk();
    expect(await call(given.b)).toBe(200);
    expect(await call(given.a)).toMatch(/^refused: invalid_client: AADSTS7000215: Invalid client secret provided\./);
    const app = await directoryApplication(session, (await outputs()).clients.reporting?.clientId as string);
    expect(app.passwords).toEqual([{ displayName: "rotated 2027-04-30", keyId: passwordB }]);
  });
});
