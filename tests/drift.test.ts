// npm run drift: the refreshed preview's JSON read as drift in the plan diff's words, and the smoke test as the second
// half of the check. The digests in tests/fixtures/drift/ were recorded from the real CLI (v3.276.0,
// `pulumi preview --refresh --json --show-sames` of the dev stack on the local tenant: as deployed, after the admin
// consent was deleted through Graph, after the API's policy was replaced through ARM), trimmed to the fields drift
// reads (a `same` step keeps its newState only); other edits are constructed from them. The smoke half runs against
// the Entra and gateway stand-ins. What this cannot prove: what Azure's providers report on refresh (tests/engine/
// drift.test.ts runs the real CLI against the local tenant; docs/pipelines.md says what only Azure shows).
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { driftChanges } from "../tools/drift/driftChanges";
import { type PreviewDigest, type PreviewStep, readPreviewDigest } from "../tools/drift/previewDigest";
import { smokeFindings } from "../tools/drift/smokeFindings";
import { previewArgs, runDrift, type CommandRun, type DriftIo } from "../tools/drift";
import { driftIssueBody, findingsOf } from "../tools/pipeline/driftIssue";
import { commentLimit } from "../tools/pipeline/previewComment";
import { projectDir } from "../tools/plan";
import { formatPlanDiff } from "../tools/preview/planDiff";
import { readStackFileConfig } from "../tools/preview/stackFiles";
import { type EntraStandIn, startEntraStandIn } from "./support/entraStandIn";
import { evaluate } from "./support/evaluate";
import { type RunningStandIn, startBackendStandIn, startGatewayStandIn } from "./support/gatewayStandIn";
import { entraDirectoryOf } from "./support/stackDirectory";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "fixtures", "drift", `${name}.json`), "utf8");
const digestOf = (name: string) => readPreviewDigest(fixture(name)) as PreviewDigest;
const driftLines = (digest: PreviewDigest) => formatPlanDiff(driftChanges(digest));

const urnEnding = (ending: string) => (step: PreviewStep) => step.urn.endsWith(ending);

/** The recorded no-drift digest with one resource's step replaced by `edit` of it. */
function edited(ending: string, edit: (step: PreviewStep) => PreviewStep | PreviewStep[]): PreviewDigest {
  const digest = structuredClone(digestOf("no-drift"));
  const steps = digest.steps ?? [];
  const index = steps.findIndex(urnEnding(ending));
  expect(index, ending).toBeGreaterThanOrEqual(0);
  digest.steps = [...steps.slice(0, index), ...[edit(steps[index] as PreviewStep)].flat(), ...steps.slice(index + 1)];
  return digest;
}

/** A `same` step turned into an update whose deployed (refreshed) inputs differ by `inputs`. */
const updatedTo =
  (inputs: Record<string, unknown>) =>
  (step: PreviewStep): PreviewStep => {
    const declared = step.newState as NonNullable<PreviewStep["newState"]>;
    return {
      op: "update",
      urn: step.urn,
      oldState: { ...declared, inputs: { ...declared.inputs, ...inputs } },
      newState: declared,
    };
  };

describe("drift lines from a refreshed preview", () => {
  it("finds nothing in the digest of the stack as deployed, though the refresh read every resource", () => {
    const digest = readPreviewDigest(fixture("no-drift")) as PreviewDigest;
    expect(digest.changeSummary).toEqual({ same: 24 });
    expect(driftChanges(digest)).toEqual([]);
    expect(driftLines(digest)).toEqual(["no changes"]);
  });

  it("names a deleted admin consent and the client it breaks (recorded)", () => {
    expect(driftLines(digestOf("admin-consent-removed"))).toEqual([
      "+ create AppRoleAssignment reporting--orders-admin-consent",
      "  ! breaks client reporting's calls to orders: the grant is revoked, so its next token request for orders is refused (AADSTS501051)",
      "1 to create, 0 to update, 0 to replace, 0 to delete",
    ]);
  });

  it("names an edited API policy by its changed key, though the provider reports no diff reasons (recorded)", () => {
    const digest = digestOf("policy-edited");
    expect(digest.steps?.find((step) => step.op === "update")?.diffReasons).toBeUndefined();
    expect(driftLines(digest)).toEqual([
      "~ update ApiPolicy orders-policy (value)",
      "  ! breaks client reporting (granted orders), or lets through calls the program refuses: the gateway enforces a policy for orders that the program did not render (smoke's calls without a token and with a tampered one show whether it still checks tokens)",
      "0 to create, 1 to update, 0 to replace, 0 to delete",
    ]);
  });

  it("takes a provider's own diff reasons as the keys when it reports them", () => {
    const digest = edited("::orders-api", (step) => ({
      ...updatedTo({ path: "orders-v2" })(step),
      diffReasons: ["path"],
    }));
    expect(driftLines(digest)[0]).toBe("~ update Api orders-api (path)");
  });

  it("says which tokens an app role renamed in the portal no longer carry", () => {
    const digest = edited("::orders-app-role", updatedTo({ value: "Orders.Read" }));
    expect(driftLines(digest)).toEqual([
      "~ update ApplicationAppRole orders-app-role (value)",
      `  ! breaks client reporting (granted the app role of orders): the role's value changes from "access_as_app" to "Orders.Read", and the tokens they hold carry "access_as_app" in roles, which the gateway refuses, until they are issued again`,
      "0 to create, 1 to update, 0 to replace, 0 to delete",
    ]);
  });

  it("says who a registration deleted in the portal breaks", () => {
    const digest = edited("::reporting-app", (step) => ({ op: "create", urn: step.urn, newState: step.newState }));
    expect(driftLines(digest).slice(0, 2)).toEqual([
      "+ create ApplicationRegistration reporting-app",
      "  ! breaks client reporting's callers (granted orders): its app registration is deleted, so their token requests fail (AADSTS700016)",
    ]);
  });

  it("names the sign-ins a redirect URI edited on a user-facing client's registration breaks", () => {
    // The dev stack has no user-facing client: its registration's redirect URIs, as the program declares a web one's.
    const digest = digestOf("no-drift");
    const registration = digest.steps?.find(urnEnding("::reporting-app"))?.newState as PreviewStep["newState"] & {};
    const declared = {
      urn: registration.urn.replace(
        /\$azuread:index\/.*$/,
        "$azuread:index/applicationRedirectUris:ApplicationRedirectUris::reporting-sign-in-web-uris",
      ),
      type: "azuread:index/applicationRedirectUris:ApplicationRedirectUris",
      inputs: {
        applicationId: "/applications/00000000",
        type: "Web",
        redirectUris: ["https://reports.example.com/signin-oidc"],
      },
      propertyDependencies: { applicationId: [registration.urn], redirectUris: [], type: [] },
    };
    digest.steps?.push({
      op: "update",
      urn: declared.urn,
      newState: declared,
      oldState: {
        ...declared,
        inputs: {
          ...declared.inputs,
          redirectUris: ["https://reports.example.com/signin-oidc", "https://evil.example.net/"],
        },
      },
    });
    expect(driftLines(digest).slice(0, 2)).toEqual([
      "~ update ApplicationRedirectUris reporting-sign-in-web-uris (redirectUris)",
      "  ! breaks client reporting's sign-ins: its registration answers redirect URIs the program does not list, so Entra ID sends its users' authorization codes to an added one, and refuses a removed one (AADSTS50011)",
    ]);
  });

  it("reads a replace by the keys that force it, and ignores the halves of a replacement and refresh-only steps", () => {
    const digest = edited("::orders-api", (step) => [
      { op: "refresh", urn: step.urn, oldState: step.newState, newState: step.newState },
      { ...updatedTo({ serviceName: "apim-other" })(step), op: "replace", replaceReasons: ["serviceName"] },
      { op: "create-replacement", urn: step.urn, newState: step.newState },
      { op: "delete-replaced", urn: step.urn, oldState: step.newState },
    ]);
    expect(driftLines(digest)).toEqual([
      "+- replace Api orders-api (serviceName forces it)",
      "  ! breaks client reporting (granted orders): its gateway URL stops answering while the API is replaced, and changes if its path does",
      "0 to create, 0 to update, 1 to replace, 0 to delete",
    ]);
  });

  it("is no digest when the preview printed none", () => {
    expect(readPreviewDigest("error: could not sign in")).toBeUndefined();
    expect(readPreviewDigest('{"steps": "not a list"}')).toBeUndefined();
  });
});

describe("smoke findings", () => {
  it("lists each failed check, with the cause of an expired secret that no preview sees", () => {
    const lines = smokeFindings([
      {
        check: "token issued",
        expected: "access token",
        actual: "AADSTS7000222: The provided client secret keys for app 'x' are expired.",
        result: "FAIL",
      },
      { check: "token ver", expected: "2.0", actual: "skipped: no token", result: "SKIP" },
      { check: "GET without token", expected: "401", actual: "401", result: "pass" },
    ]);
    expect(lines).toEqual([
      "! smoke: token issued: expected access token, got AADSTS7000222: The provided client secret keys for app 'x' are expired.",
      "  fix: the client's secret has expired, and pulumi up cannot renew it (the program refuses the expired entry, Entra ID a password whose end date has passed): rotate it (add an entry with today's date to the client's clients[].secrets, pulumi up, hand the client the new clientSecret, then remove the old entry)",
    ]);
  });
});

describe("npm run drift", () => {
  // The dev stack, evaluated offline with Entra's authority at a stand-in: its outputs are what `pulumi stack output`
  // hands smoke; the gateway stand-in judges with the stack's policy (or an edited one).
  interface Deployed {
    entra: EntraStandIn;
    outputs: { apis: Record<string, { url: string; policy: string }> };
  }
  const deployments = new Map<boolean, Deployed>();
  let backend: RunningStandIn;
  const gateways: RunningStandIn[] = [];

  /** The dev stack deployed to a stand-in directory of its own, with or without the client's admin consent. */
  async function deploy(withoutAdminConsent: boolean): Promise<Deployed> {
    const { config, secretKeys } = readStackFileConfig(projectDir, "dev");
    const tenantId = "11111111-2222-3333-4444-555555555555";
    const entra = await startEntraStandIn({ tenantId, clients: [], apis: [], assignments: [] });
    const evaluation = await evaluate(
      { ...config, tenantId, authorityHost: entra.authorityHost },
      "dev",
      undefined,
      secretKeys,
    );
    const directory = entraDirectoryOf(evaluation);
    entra.seed(withoutAdminConsent ? { ...directory, assignments: [] } : directory);
    return { entra, outputs: structuredClone(evaluation.outputs) as Deployed["outputs"] };
  }

  beforeAll(async () => {
    backend = await startBackendStandIn();
    for (const withoutAdminConsent of [false, true])
      deployments.set(withoutAdminConsent, await deploy(withoutAdminConsent));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([
      backend?.close(),
      ...[...deployments.values()].map(({ entra }) => entra.close()),
      ...gateways.map((gateway) => gateway.close()),
    ]);
  });

  /** Runs drift with the preview answering `digest` (and `code`), the directory and gateway as given. */
  async function drift(options: {
    digest?: string;
    preview?: CommandRun;
    withoutAdminConsent?: boolean;
    editPolicy?: (xml: string) => string;
    argv?: string[];
  }) {
    const stackOutputs = structuredClone((deployments.get(options.withoutAdminConsent ?? false) as Deployed).outputs);
    const gateway = await startGatewayStandIn({
      apis: Object.entries(stackOutputs.apis).map(([name, api]) => ({
        path: name,
        policyXml: (options.editPolicy ?? ((xml) => xml))(api.policy),
        backendUrl: backend.url,
      })),
    });
    gateways.push(gateway);
    for (const [name, api] of Object.entries(stackOutputs.apis)) api.url = `${gateway.url}/${name}`;
    const out: string[] = [];
    const err: string[] = [];
    const calls: string[][] = [];
    const io: DriftIo = {
      out: (text) => out.push(text),
      err: (text) => err.push(text),
      env: {},
      sleep: async () => undefined,
      pulumi: async (args) => {
        calls.push(args);
        return options.preview ?? { code: 0, stdout: options.digest ?? fixture("no-drift"), stderr: "" };
      },
      exec: async (file, args) => {
        calls.push([file, ...args]);
        return { stdout: JSON.stringify(stackOutputs), stderr: "" };
      },
    };
    const status = await runDrift(options.argv ?? ["--stack", "dev"], io);
    return { status, out: out.join("\n"), err: err.join("\n"), calls };
  }

  it("exits 0 when the preview proposes no change and smoke passes, having run both for the stack", async () => {
    const run = await drift({});
    expect(run.status, `${run.out}\n${run.err}`).toBe(0);
    expect(run.calls).toEqual([
      previewArgs("dev"),
      ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", "dev"],
    ]);
    expect(previewArgs("dev")).toEqual([
      "preview",
      "--refresh",
      "--expect-no-changes",
      "--json",
      "--show-sames",
      "--non-interactive",
      "--stack",
      "dev",
    ]);
    expect(run.out).toContain("drift: stack dev is as the program declares it");
    expect(run.out).toMatch(/^9 of 9 checks passed$/m);
    expect(run.out.split("\n").at(-1)).toBe("drift: no drift in stack dev.");
  }, 60_000);

  it("exits 1 on a removed admin consent: the preview's line and smoke's refused token", async () => {
    const run = await drift({
      preview: { code: 7, stdout: fixture("admin-consent-removed"), stderr: "error: no changes were expected" },
      withoutAdminConsent: true,
    });
    expect(run.status, `${run.out}\n${run.err}`).toBe(1);
    expect(run.out).toContain(
      [
        "drift: stack dev differs from the program; pulumi up --refresh would change it back:",
        "+ create AppRoleAssignment reporting--orders-admin-consent",
        "  ! breaks client reporting's calls to orders: the grant is revoked, so its next token request for orders is refused (AADSTS501051)",
      ].join("\n"),
    );
    expect(run.out).toContain("drift: stack dev has drifted: 1 change to put back and 1 failed smoke check.");
    expect(run.out).toMatch(/^! smoke: token issued: expected access token, got .*AADSTS501051/m);
  }, 60_000);

  it("exits 1 on an edited policy that refuses the client's token, with the preview's line and the failed call", async () => {
    const run = await drift({
      preview: { code: 7, stdout: fixture("policy-edited"), stderr: "" },
      editPolicy: (xml) => xml.replace("<value>access_as_app</value>", "<value>Orders.Admin</value>"),
    });
    expect(run.status, `${run.out}\n${run.err}`).toBe(1);
    expect(run.out).toContain("~ update ApiPolicy orders-policy (value)");
    expect(run.out).toMatch(/^! smoke: GET with token: expected not 401\/403, got 40[13]/m);
  }, 60_000);

  it("exits 1 when only smoke fails: drift the preview cannot see", async () => {
    const run = await drift({ withoutAdminConsent: true });
    expect(run.status).toBe(1);
    expect(run.out).toContain("drift: stack dev is as the program declares it");
    expect(run.out).toContain("drift: stack dev has drifted: 1 failed smoke check.");
  }, 60_000);

  it("exits 3 when the preview fails before comparing anything, saying why, and still runs smoke", async () => {
    const run = await drift({
      preview: { code: 255, stdout: "", stderr: "error: failed to get access token: AADSTS700213" },
    });
    expect(run.status).toBe(3);
    expect(run.err).toContain(`drift: pulumi ${previewArgs("dev").join(" ")} failed (exit 255); nothing was compared:`);
    expect(run.err).toContain("AADSTS700213");
    expect(run.out).toMatch(/^9 of 9 checks passed$/m);
  }, 60_000);

  it.each([
    [[], "error: --stack <stack> is required"],
    [["--stack", "dev", "extra"], "error: this command takes no positional arguments"],
    [["--stack", "dev", "--fix"], "error: Unknown option '--fix'"],
  ])("exits 2 on %j before running anything", async (argv, message) => {
    const run = await drift({ argv });
    expect(run.status).toBe(2);
    expect(run.err.split("\n")[0]).toContain(message);
    expect(run.calls).toEqual([]);
  });
});

describe("the drift issue's text", () => {
  const findings = [
    "drift: stack dev differs from the program; pulumi up --refresh would change it back:",
    "~ update ApiPolicy orders-policy (value)",
    "  ! breaks client reporting (granted orders), or lets through calls the program refuses: …",
    "check          expected       actual                       result",
    "token issued   access token   issued, expires in 3599 s    pass",
    "! smoke: GET without token: expected 401, got 200 (trace 1)",
  ].join("\n");

  it("starts with the stack's marker and a digest of what drifted, which ignores what changes from run to run", () => {
    const body = driftIssueBody("dev", findings, "https://github.com/contoso/apim-entra-auth/actions/runs/7");
    const firstLine = (text: string) => text.split("\n")[0];
    expect(firstLine(body)).toMatch(/^<!-- apim-entra-auth drift: dev; findings [0-9a-f]{16} -->$/);
    expect(body).toContain(findings);
    const nextDay = findings.replace("3599", "4012").replace("trace 1", "trace 2");
    expect(firstLine(driftIssueBody("dev", nextDay, "https://example.com/run/8"))).toBe(firstLine(body));
    const moreDrift = `${findings}\n+ create AppRoleAssignment reporting--orders-admin-consent`;
    expect(firstLine(driftIssueBody("dev", moreDrift, "https://example.com/run/8"))).not.toBe(firstLine(body));
    expect(findingsOf(findings)).toEqual([
      "~ update ApiPolicy orders-policy (value)",
      "  ! breaks client reporting (granted orders), or lets through calls the program refuses: …",
      "! smoke: GET without token",
    ]);
  });

  it("stays within GitHub's 65,536 characters, keeping the start and the end, and cannot close its code block early", () => {
    const huge = `START\n${"~ update ApiOperation x (value)\n".repeat(5000)}\`\`\`\nEND`;
    const body = driftIssueBody("prod", huge, "https://github.com/contoso/apim-entra-auth/actions/runs/7");
    expect(body.length).toBeLessThanOrEqual(commentLimit);
    expect(body).toContain("START");
    expect(body).toContain("'''\nEND");
    expect(body).toMatch(/characters cut here/);
    expect(body.match(/```/g)).toHaveLength(2);
  });
});
