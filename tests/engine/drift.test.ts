// npm run local -- drift against the dev stack deployed once with the real CLI on the local tenant: the four portal
// edits of issue 18, each made through the tenant's own Graph or ARM as the administrator (as a person in the portal
// would), each reported by the refreshed preview or the smoke test in the plan diff's words, and gone after
// npm run local -- up, whose pulumi up reads every resource back first (--refresh, as the pipelines deploy).
// The dev stack gets one SPA client beside the committed daemon: a daemon's registration declares no redirect URIs
// (the program writes them only for web, spa and native clients), so a redirect URI added to it is nothing the
// program manages. What this cannot prove: that Azure's providers read back what ours do (local/providers/* follow
// the real ones' documented reads), or that Entra ID expires a password exactly as the tenant does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalSession, startLocalSession } from "./support/localSession";
import { committedStackConfig, projectWithStacks, removeTemporaryProjects, writeStackFile } from "./support/projects";

let session: LocalSession;
let project: string;

const dev = committedStackConfig("dev");
const spa = {
  name: "orders-spa",
  displayName: "Orders web app",
  kind: "spa",
  redirectUris: ["https://orders-app.dev.example.com/"],
};

/** The stack's smoke test is the daemon's: the SPA's tokens are a signed-in user's. */
const drift = () => session.local(["drift", "--stack", "dev", "--client", "reporting"], { projectDir: project });
const up = () => session.localOk(["up", "--stack", "dev"], { projectDir: project });

/** The id the local state holds for each resource of the dev stack, by resource name. */
async function deployedIds(): Promise<Record<string, string>> {
  const exported = await session.localOk(["pulumi", "stack", "export", "--stack", "dev"], { projectDir: project });
  const { deployment } = JSON.parse(exported.out) as { deployment: { resources: { urn: string; id?: string }[] } };
  return Object.fromEntries(
    deployment.resources.map(({ urn, id }) => [urn.slice(urn.lastIndexOf("::") + 2), id ?? ""]),
  );
}

beforeAll(async () => {
  session = await startLocalSession();
  project = projectWithStacks({ dev: { ...dev, clients: [...(dev.clients as object[]), spa] } });
  await up();
});

afterAll(async () => {
  await session?.close();
  removeTemporaryProjects();
});

describe("npm run local -- drift on the dev stack", () => {
  it("names a removed admin consent, an edited API policy and an added redirect URI; up puts all three back", async () => {
    const ids = await deployedIds();
    // (a) Remove the admin consent: the app role assignment that grants reporting orders' app role.
    const consent = ids["reporting--orders-admin-consent"] as string;
    expect(consent).toMatch(/^\/servicePrincipals\/[^/]+\/appRoleAssignedTo\/[^/]+$/);
    await session.restOk("DELETE", `graph:/v1.0${consent}`);
    // (b) Edit the API policy: the role the gateway requires, PUT through ARM.
    const policy = `arm:${ids["orders-policy"]}?api-version=2024-05-01`;
    const deployed = (await session.restOk("GET", policy)) as { properties: { value: string } };
    expect(deployed.properties.value).toContain("<value>access_as_app</value>");
    const edited = deployed.properties.value.replace("<value>access_as_app</value>", "<value>Orders.Admin</value>");
    await session.restOk("PUT", policy, { properties: { format: "rawxml", value: edited } });
    // (c) Add a redirect URI to the SPA's registration, through Graph.
    const redirectUris = ids["orders-spa-sign-in-redirect-uris"] as string;
    const registration = redirectUris.slice(0, redirectUris.indexOf("/redirectUris/"));
    const added = [...spa.redirectUris, "https://attacker.example.net/callback"];
    await session.restOk("PATCH", `graph:/v1.0${registration}`, { spa: { redirectUris: added } });

    const run = await drift();
    expect(run.code, run.output).toBe(1);
    const lines = run.out.split("\n");
    expect(lines).toContain("drift: stack dev differs from the program; pulumi up --refresh would change it back:");
    expect(lines).toContain("+ create AppRoleAssignment reporting--orders-admin-consent");
    expect(lines).toContain(
      "  ! breaks client reporting's calls to orders: the grant is revoked, so its next token request for orders is refused (AADSTS501051)",
    );
    expect(lines).toContain("~ update ApiPolicy orders-policy (value)");
    expect(lines).toContain(
      "  ! breaks client reporting (granted orders), or lets through calls the program refuses: the gateway enforces a policy for orders that the program did not render (smoke's calls without a token and with a tampered one show whether it still checks tokens)",
    );
    expect(lines).toContain("~ update ApplicationRedirectUris orders-spa-sign-in-redirect-uris (redirectUris)");
    expect(lines).toContain(
      "  ! breaks client orders-spa's sign-ins: its registration answers redirect URIs the program does not list, so Entra ID sends its users' authorization codes to an added one, and refuses a removed one (AADSTS50011)",
    );
    // Nothing else drifted: the refresh reads back exactly what up wrote.
    expect(lines).toContain("1 to create, 2 to update, 0 to replace, 0 to delete");
    expect(run.out).toMatch(
      /^! smoke: token issued: expected access token, got .*\(AADSTS501051; gave up after 6 attempts\)/m,
    );
    expect(run.out).toContain("drift: stack dev has drifted: 3 changes to put back and 1 failed smoke check.");

    const repaired = await up();
    expect(repaired.out).toMatch(/^\s+\+ 1 created$/m);
    expect(repaired.out).toMatch(/^\s+~ 2 updated$/m);
    const after = await drift();
    expect(after.code, after.output).toBe(0);
    expect(after.out).toContain("drift: stack dev is as the program declares it");
    expect(after.out.split("\n").at(-1)).toBe("drift: no drift in stack dev.");
    const spaNow = (await session.restOk("GET", `graph:/v1.0${registration}`)) as { spa: { redirectUris: string[] } };
    expect(spaNow.spa.redirectUris).toEqual(spa.redirectUris);
  });

  it("names an expired secret through smoke and the program's refusal; up of the rotation it asks for ends it", async () => {
    // reporting's secret, issued 2026-11-23 for 180 days, ends 2027-05-22. The drift check runs on a later day with
    // the tenant and the program on it, as a scheduled run does: Entra refuses the password, and the program refuses
    // to declare it any longer, so no pulumi up can keep it. An expired password stays in the registration, so the
    // refresh alone would propose nothing.
    await session.restartOn("2027-05-23");
    const run = await drift();
    expect(run.code, run.output).toBe(1);
    expect(run.err).toContain(
      "drift: pulumi preview --refresh --expect-no-changes --json --show-sames --non-interactive --stack dev failed (exit 1); nothing was compared:",
    );
    expect(run.err).toContain(
      '  - apim-entra-auth:clients[0] (reporting).secretRotatedOn: the secret issued "2026-11-23" expired on 2027-05-22 (lifetime 180 days, today is 2027-05-23); rotate: add an entry with today\'s date (2027-05-23) to secrets, move consumers to it, then remove this one.',
    );
    expect(run.out).toMatch(/^! smoke: token issued: expected access token, got .*AADSTS7000222/m);
    expect(run.out).toContain(
      "  fix: the client's secret has expired, and pulumi up cannot renew it (the program refuses the expired entry, Entra ID a password whose end date has passed): rotate it",
    );
    expect(run.out).toContain("drift: stack dev has drifted: 1 failed smoke check.");

    // The rotation the message asks for: the expired entry replaced by one issued today, then up.
    const {
      secretRotatedOn: _issued,
      secretLifetimeDays: _lifetime,
      ...reporting
    } = (dev.clients as Record<string, unknown>[])[0] as Record<string, unknown>;
    const rotated = { ...reporting, secrets: [{ rotatedOn: "2027-05-23", lifetimeDays: 180 }] };
    writeStackFile(project, "dev", { ...dev, clients: [rotated, spa] });
    const rotation = await up();
    expect(rotation.out).toMatch(/^\s+\+ 1 created$/m);
    expect(rotation.out).toMatch(/^\s+- 1 deleted$/m);
    const after = await drift();
    expect(after.code, after.output).toBe(0);
    expect(after.out.split("\n").at(-1)).toBe("drift: no drift in stack dev.");
  });
});
