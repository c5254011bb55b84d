// The guard's rules over plans evaluated from real configs, each weakened by hand the way a careless edit (or a
// well-meaning refactor) would. What these tests cannot prove: that the CrossGuard engine hands the pack the same
// inputs and property dependencies as the mock engine does (guard/policyResource.ts maps them; the last describe
// loads the pack the way Pulumi does).
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { type Finding, type GuardResource, types, unknownValue } from "../guard/model";
import { guardResourceOf } from "../guard/policyResource";
import { formatFinding, guardRules, runGuard } from "../guard/rules";
import { planData } from "../tools/preview/planReport";
import { runGuardCli } from "../tools/guard";
import { projectDir, runPlan } from "../tools/plan";
import { evaluate, guideApi, guideClient, guideConfig } from "./support/evaluate";
import { guardChecks } from "./support/stackFileChecks";

// The policy SDK's own preview proxy (internal: its .d.ts exports nothing): reading an unknown value throws.
const { unknownCheckingProxy, unknownStringValue } = require("@pulumi/policy/proxy") as {
  unknownCheckingProxy<T>(props: T): T;
  unknownStringValue: unknown;
};

type Weaken = (resources: GuardResource[]) => void;

async function planOf(config: Record<string, unknown>, stack = "test"): Promise<GuardResource[]> {
  return structuredClone(planData(await evaluate(config, stack)).resources);
}

const named = (resources: GuardResource[], name: string): GuardResource => {
  const found = resources.find((resource) => resource.name === name);
  if (!found) throw new Error(`no resource named ${name}`);
  return found;
};

const policyOf = (resources: GuardResource[]) => named(resources, "orders-policy").inputs as { value: string };
const editPolicy =
  (edit: (xml: string) => string): Weaken =>
  (resources) => {
    const policy = policyOf(resources);
    policy.value = edit(policy.value);
  };

const findingsOf = (resources: GuardResource[], rule: string, maxSecretLifetimeDays = 730): Finding[] =>
  runGuard(resources, { maxSecretLifetimeDays }).filter((found) => found.rule === rule);

/** The guide client's one password: each password is named by its rotation day (two-slot rotation). */
const reportingSecret = "reporting-secret-2026-11-23";

/** A client that signs in with a federated credential: no secret, so no federated-credential advisory. */
const federatedClient = guideClient({
  credential: "federated",
  secretRotatedOn: undefined,
  federatedCredentials: [
    {
      name: "github-ci",
      issuer: "https://token.actions.githubusercontent.com",
      subject: "repo:c/o:ref:refs/heads/main",
    },
  ],
});

describe("every rule passes the program's own plans", () => {
  it.each([
    ["token version 2, validate-jwt", guideConfig()],
    ["token version 1, validate-jwt", guideConfig({ apis: [guideApi({ tokenVersion: 1 })] })],
    ["validate-azure-ad-token", guideConfig({ apis: [guideApi({ validation: "validate-azure-ad-token" })] })],
    [
      "client limits, with a client of its own",
      guideConfig({
        apis: [
          guideApi({ limits: { callsPerMinute: 60, callsPerDay: 1000, clients: { reporting: { callsPerDay: 5 } } } }),
        ],
      }),
    ],
    [
      "two APIs, a portal client",
      guideConfig({
        apis: [
          guideApi({ authorizationServer: { client: "reporting" } }),
          guideApi({ name: "billing", path: "billing" }),
        ],
        clients: [guideClient({ apis: ["orders", "billing"] })],
      }),
    ],
  ])("%s: no violation", async (_, config) => {
    const findings = runGuard(await planOf(config));
    expect(findings.filter((found) => found.level === "mandatory")).toEqual([]);
  });
});

describe.each<[string, string, Weaken, string]>([
  [
    "api-sp-assignment-required",
    "the API's service principal no longer requires assignment",
    (resources) => {
      named(resources, "orders-sp").inputs.appRoleAssignmentRequired = false;
    },
    "orders-sp",
  ],
  [
    "single-tenant-app",
    "the API app is opened to other tenants",
    (resources) => {
      named(resources, "orders-app").inputs.signInAudience = "AzureADMultipleOrgs";
    },
    "orders-app",
  ],
  [
    "api-policy-present",
    "the API policy is dropped",
    (resources) => {
      resources.splice(resources.indexOf(named(resources, "orders-policy")), 1);
    },
    "orders-api",
  ],
  [
    "api-policy-present",
    "the token check is removed from the policy",
    editPolicy((xml) => xml.replace(/<validate-jwt[\s\S]*<\/validate-jwt>/, "")),
    "orders-policy",
  ],
  [
    "token-check-audiences",
    "the audiences are dropped",
    editPolicy((xml) => xml.replace(/<audiences>[\s\S]*<\/audiences>/, "")),
    "orders-policy",
  ],
  [
    "token-check-audiences",
    "Graph's audience is added",
    editPolicy((xml) => xml.replace("</audiences>", "<audience>https://graph.microsoft.com</audience></audiences>")),
    "orders-policy",
  ],
  [
    "token-check-issuer",
    "the issuer is the common endpoint",
    editPolicy((xml) =>
      xml
        .replace(/<issuers>[\s\S]*<\/issuers>/, "")
        .replace(/url="[^"]*"/, 'url="https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"'),
    ),
    "orders-policy",
  ],
  [
    "token-check-roles",
    "the roles check is removed",
    editPolicy((xml) => xml.replace(/<required-claims>[\s\S]*<\/required-claims>/, "")),
    "orders-policy",
  ],
  [
    "token-check-roles",
    "another role is required instead of the API's",
    editPolicy((xml) => xml.replace("<value>access_as_app</value>", "<value>Directory.Read.All</value>")),
    "orders-policy",
  ],
  [
    "token-check-signed-and-expiring",
    'require-signed-tokens="false"',
    editPolicy((xml) => xml.replace('require-signed-tokens="true"', 'require-signed-tokens="false"')),
    "orders-policy",
  ],
  [
    "token-check-signed-and-expiring",
    'require-expiration-time="false"',
    editPolicy((xml) => xml.replace('require-expiration-time="true"', 'require-expiration-time="false"')),
    "orders-policy",
  ],
  [
    "limits-after-token-check",
    "a limit keyed on the raw token goes before the check",
    editPolicy((xml) =>
      xml.replace(
        "    <validate-jwt",
        `    <rate-limit-by-key calls="5" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;Authorization&quot;, &quot;&quot;).AsJwt()?.Subject)" />\n    <validate-jwt`,
      ),
    ),
    "orders-policy",
  ],
  [
    "token-check-challenge",
    "the WWW-Authenticate header is dropped from on-error",
    editPolicy((xml) => xml.replace(/<choose>\s*<when condition="@\(\(context\.LastError[\s\S]*?<\/choose>/, "")),
    "orders-policy",
  ],
  [
    "token-check-challenge",
    "the WWW-Authenticate header echoes the request",
    editPolicy((xml) =>
      xml.replaceAll(
        /<value>Bearer [^<]*<\/value>/g,
        '<value>@("Bearer error=\\"invalid_token\\", token=" + context.Request.Headers.GetValueOrDefault("Authorization", ""))</value>',
      ),
    ),
    "orders-policy",
  ],
  [
    "secret-max-lifetime",
    "the password ends 731 days after its rotation day",
    (resources) => {
      named(resources, reportingSecret).inputs.endDate = "2028-11-23T00:00:00Z";
    },
    reportingSecret,
  ],
  [
    "secret-max-lifetime",
    "the password has no end date",
    (resources) => {
      delete named(resources, reportingSecret).inputs.endDate;
    },
    reportingSecret,
  ],
  [
    "daemon-no-redirect-uris",
    "the daemon client gets redirect URIs",
    (resources) => {
      const app = named(resources, "reporting-app");
      resources.push({
        urn: `${app.urn}-redirect-uris`,
        type: types.redirectUris,
        name: "reporting-redirect-uris",
        inputs: { applicationId: "/applications/x", type: "Web", redirectUris: ["https://app.example/signin"] },
        inputSources: { applicationId: [app.urn] },
      });
    },
    "reporting-app",
  ],
  [
    "role-and-scope-ids-are-uuids",
    "the app role id is not a UUID",
    (resources) => {
      named(resources, "orders-app-role").inputs.roleId = "access_as_app";
    },
    "orders-app-role",
  ],
  [
    "role-and-scope-ids-are-uuids",
    "the scope id is not a UUID",
    (resources) => {
      named(resources, "orders-scope").inputs.scopeId = "1";
    },
    "orders-scope",
  ],
])("%s", (rule, weakening, weaken, resource) => {
  it(`passes the plan as the program writes it, fails when ${weakening}`, async () => {
    const resources = await planOf(guideConfig());
    expect(findingsOf(resources, rule)).toEqual([]);
    weaken(resources);
    const found = findingsOf(resources, rule);
    expect(found.map((f) => [f.rule, f.level, f.resource])).toEqual([[rule, "mandatory", resource]]);
  });
});

describe("rules that need the whole stack", () => {
  it("token-check-audiences: a policy naming two APIs' audiences is refused", async () => {
    const resources = await planOf(guideConfig({ apis: [guideApi(), guideApi({ name: "billing", path: "billing" })] }));
    expect(findingsOf(resources, "token-check-audiences")).toEqual([]);
    editPolicy((xml) => xml.replace("</audiences>", "<audience>mock-billing-app-client-id</audience></audiences>"))(
      resources,
    );
    expect(findingsOf(resources, "token-check-audiences").map((f) => f.fix)).toEqual([
      "the audiences name several APIs: a token for one opens the other; keep this API's only",
    ]);
  });

  it("token-check-roles: another API's role in this API's policy is refused", async () => {
    const resources = await planOf(
      guideConfig({ apis: [guideApi(), guideApi({ name: "billing", path: "billing", appRole: "billing_app" })] }),
    );
    editPolicy((xml) => xml.replace("<value>access_as_app</value>", "<value>billing_app</value>"))(resources);
    expect(findingsOf(resources, "token-check-roles").map((f) => f.fix)).toEqual([
      "roles billing_app are not app roles of orders-app; require this API's app role only",
    ]);
  });

  it("limits-after-token-check: the program's own limits moved before the check are refused, an IP limit is not", async () => {
    const resources = await planOf(guideConfig({ apis: [guideApi({ limits: { callsPerMinute: 60 } })] }));
    expect(findingsOf(resources, "limits-after-token-check")).toEqual([]);
    const ipLimit = '<rate-limit-by-key calls="100" renewal-period="60" counter-key="@(context.Request.IpAddress)" />';
    editPolicy((xml) => xml.replace("    <validate-jwt", `    ${ipLimit}\n    <validate-jwt`))(resources);
    expect(findingsOf(resources, "limits-after-token-check")).toEqual([]);
    editPolicy((xml) => {
      const limit = /\n {4}(<rate-limit-by-key calls="60"[^\n]*)/.exec(xml)?.[1] as string;
      return xml.replace(`\n    ${limit}`, "").replace("    <validate-jwt", `    ${limit}\n    <validate-jwt`);
    })(resources);
    expect(findingsOf(resources, "limits-after-token-check").map((f) => f.fix)).toEqual([
      "<rate-limit-by-key> reads the token before the token check: a request without a valid token makes its key expression fail with 500 instead of 401; put it after the check and key it on the validated token (output-token-variable-name), as policies/clientLimits.ts does",
    ]);
  });

  it("token-check-challenge: says which refusal lacks the header, and a header without Bearer is none", async () => {
    const resources = await planOf(guideConfig());
    editPolicy((xml) => xml.replace('<value>Bearer error="invalid_token", ', '<value>Basic error="invalid_token", '))(
      resources,
    );
    expect(findingsOf(resources, "token-check-challenge").map((f) => f.fix)).toEqual([
      'no WWW-Authenticate: Bearer header with the 401 (a token that fails the check gets "Basic error=\\"invalid_token\\", scope=\\"api://mock-orders-app-client-id/.default\\""), so the client is not told to send a bearer token or which scope to request; keep the <entra-token-challenge /> marker in the template\'s <on-error>',
    ]);
  });

  it("token-check-issuer: validate-azure-ad-token with tenant-id common is refused", async () => {
    const resources = await planOf(guideConfig({ apis: [guideApi({ validation: "validate-azure-ad-token" })] }));
    expect(findingsOf(resources, "token-check-issuer")).toEqual([]);
    editPolicy((xml) => xml.replace(/tenant-id="[^"]*"/, 'tenant-id="common"'))(resources);
    expect(findingsOf(resources, "token-check-issuer").map((f) => f.resource)).toEqual(["orders-policy"]);
  });

  it("secret-max-lifetime: the maximum comes from the options (180 days passes 180, fails 179)", async () => {
    const resources = await planOf(guideConfig());
    expect(findingsOf(resources, "secret-max-lifetime", 180)).toEqual([]);
    expect(findingsOf(resources, "secret-max-lifetime", 179).map((f) => f.fix)).toEqual([
      "lives 180 days (2026-11-23 → 2027-05-22T00:00:00Z); at most 179: move endDate or lower secretLifetimeDays",
    ]);
  });

  it("secret-max-lifetime: a start Entra has not assigned yet (preview) falls back to the rotation day", async () => {
    const resources = await planOf(guideConfig());
    named(resources, reportingSecret).inputs.startDate = unknownValue;
    expect(findingsOf(resources, "secret-max-lifetime", 180)).toEqual([]);
    expect(findingsOf(resources, "secret-max-lifetime", 179).map((f) => f.resource)).toEqual([reportingSecret]);
  });

  it("secret-max-lifetime: during a rotation each password is judged by its own dates, under its own name", async () => {
    const rotating = guideClient({
      secretRotatedOn: undefined,
      secretLifetimeDays: undefined,
      secrets: [
        { rotatedOn: "2026-06-01", lifetimeDays: 365 },
        { rotatedOn: "2026-11-23", lifetimeDays: 180 },
      ],
    });
    const resources = await planOf(guideConfig({ clients: [rotating] }));
    expect(findingsOf(resources, "secret-max-lifetime", 365)).toEqual([]);
    expect(findingsOf(resources, "secret-max-lifetime", 364).map((f) => [f.resource, f.fix])).toEqual([
      [
        "reporting-secret-2026-06-01",
        "lives 365 days (2026-06-01 → 2027-06-01T00:00:00Z); at most 364: move endDate or lower secretLifetimeDays",
      ],
    ]);
  });

  it("daemon-no-redirect-uris: a client with a delegated permission is no daemon", async () => {
    const resources = await planOf(guideConfig());
    const app = named(resources, "reporting-app");
    const sp = named(resources, "reporting-sp");
    resources.push(
      {
        urn: `${app.urn}-redirect-uris`,
        type: types.redirectUris,
        name: "reporting-redirect-uris",
        inputs: { type: "Web", redirectUris: ["https://app.example/signin"] },
        inputSources: { applicationId: [app.urn] },
      },
      {
        urn: `${sp.urn}-grant`,
        type: types.delegatedPermissionGrant,
        name: "reporting-grant",
        inputs: { claimValues: ["access_as_user"] },
        inputSources: { servicePrincipalObjectId: [sp.urn] },
      },
    );
    expect(findingsOf(resources, "daemon-no-redirect-uris")).toEqual([]);
  });
});

describe("advisories", () => {
  it("prefer-federated-credential: a daemon's secret nothing else consumes", async () => {
    const withSecret = await planOf(guideConfig());
    expect(findingsOf(withSecret, "prefer-federated-credential").map((f) => [f.level, f.resource])).toEqual([
      ["advisory", reportingSecret],
    ]);
    const federated = await planOf(guideConfig({ clients: [federatedClient] }));
    expect(findingsOf(federated, "prefer-federated-credential")).toEqual([]);
    // The developer portal's authorization server sends the client's secret: no federated credential serves there.
    const portal = await planOf(guideConfig({ apis: [guideApi({ authorizationServer: { client: "reporting" } })] }));
    expect(findingsOf(portal, "prefer-federated-credential")).toEqual([]);
  });

  it.each(["prod", "prd", "production", "live", "eu-prod", "prod-westeurope"])(
    "protect-production: stack %s without protect gets the advisory, with protect none",
    async (stack) => {
      const open = await planOf(guideConfig(), stack);
      expect(findingsOf(open, "protect-production").map((f) => [f.level, f.resource])).toEqual([["advisory", stack]]);
      // With protect the passwords stay unprotected by design (a rotation deletes the old one): they don't count.
      const kept = await planOf(guideConfig({ protect: true }), stack);
      expect(findingsOf(kept, "protect-production")).toEqual([]);
    },
  );

  it.each(["dev", "test", "product-demo", "staging"])(
    "protect-production: stack %s is no production",
    async (stack) => {
      expect(findingsOf(await planOf(guideConfig(), stack), "protect-production")).toEqual([]);
    },
  );
});

describe("npm run guard -- --plan <plan.json>", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "guard-"));
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
  };
  async function writePlan(config: Record<string, unknown>, weaken?: Weaken): Promise<string> {
    const file = path.join(dir, `plan-${Math.random().toString(36).slice(2)}.json`);
    expect(await runPlan(["--json", file], { ...capture().io, evaluate: (stack) => evaluate(config, stack) })).toBe(0);
    if (weaken) {
      const data = JSON.parse(fs.readFileSync(file, "utf8")) as { resources: GuardResource[] };
      weaken(data.resources);
      fs.writeFileSync(file, JSON.stringify(data));
    }
    return file;
  }

  it("exits 0 on the program's plan, printing the advisory and the summary", async () => {
    const { out, io } = capture();
    expect(runGuardCli(["--plan", await writePlan(guideConfig())], io)).toBe(0);
    expect(out).toEqual([
      `ADVISORY prefer-federated-credential: ${reportingSecret} — an app-only client with a secret: if it runs in a pipeline or an Azure/Kubernetes workload, use credential: federated — no secret to leak or rotate`,
      `guard: ${guardRules.length} rules, 0 violations, 1 advisory`,
    ]);
  });

  it("exits 1 with one VIOLATION line per weakening of the policy", async () => {
    const file = await writePlan(
      guideConfig({ clients: [federatedClient] }),
      editPolicy((xml) =>
        xml
          .replace(/<required-claims>[\s\S]*<\/required-claims>/, "")
          .replace('require-signed-tokens="true"', 'require-signed-tokens="false"'),
      ),
    );
    const { out, io } = capture();
    expect(runGuardCli(["--plan", file], io)).toBe(1);
    expect(out).toEqual([
      'VIOLATION token-check-roles: orders-policy — no <claim name="roles"> with the API\'s app role in <required-claims>: any app in the tenant with a token passes; require the role',
      'VIOLATION token-check-signed-and-expiring: orders-policy — require-signed-tokens="false" accepts unsigned (alg none) tokens; remove it',
      `guard: ${guardRules.length} rules, 2 violations, 0 advisories`,
    ]);
  });

  it("applies --max-secret-lifetime-days, default 730", async () => {
    const file = await writePlan(guideConfig({ clients: [guideClient({ secretLifetimeDays: 730 })] }));
    expect(runGuardCli(["--plan", file], capture().io)).toBe(0);
    const { out, io } = capture();
    expect(runGuardCli(["--plan", file, "--max-secret-lifetime-days", "365"], io)).toBe(1);
    expect(out[0]).toBe(
      `VIOLATION secret-max-lifetime: ${reportingSecret} — lives 730 days (2026-11-23 → 2028-11-22T00:00:00Z); at most 365: move endDate or lower secretLifetimeDays`,
    );
  });

  it.each([
    [[], "error: --plan <plan.json> or --all-stacks is required"],
    [["--plan", "x.json", "--max-secret-lifetime-days", "0"], 'error: --max-secret-lifetime-days: "0" is not allowed'],
    [["--plan", path.join(dir, "missing.json")], "not a readable JSON file"],
  ])("usage errors exit 2: %j", (argv, message) => {
    const { err, io } = capture();
    expect(runGuardCli(argv, io)).toBe(2);
    expect(err.join("\n")).toContain(message);
  });
});

describe("npm run plan runs the guard", () => {
  it("prints the findings in the plan and exits 1 on a violation", async () => {
    const out: string[] = [];
    const weakened = async (stack: string) => {
      const evaluation = await evaluate(guideConfig(), stack);
      const sp = evaluation.resources.find((resource) => resource.name === "orders-sp");
      if (sp) sp.inputs.appRoleAssignmentRequired = false;
      return evaluation;
    };
    const code = await runPlan([], { out: (t) => out.push(t), err: () => undefined, evaluate: weakened });
    expect(code).toBe(1);
    expect(out.join("\n")).toContain(
      "VIOLATION api-sp-assignment-required: orders-sp — set appRoleAssignmentRequired: true, or every app in the tenant can get a token for this API",
    );
  });
});

describe("the stack-file checks run the guard", () => {
  it("pass a stack with an advisory only, and throw on a violation naming the stack file and the finding", async () => {
    const evaluation = await evaluate(guideConfig(), "test");
    expect(findingsOf(planData(evaluation).resources, "prefer-federated-credential")).toHaveLength(1);
    expect(() => guardChecks("test", evaluation)).not.toThrow();
    const sp = evaluation.resources.find((resource) => resource.name === "orders-sp");
    if (!sp) throw new Error("no resource named orders-sp");
    sp.inputs.appRoleAssignmentRequired = false;
    expect(() => guardChecks("test", evaluation)).toThrow(
      "Pulumi.test.yaml fails the guard (guard/rules.ts):\nVIOLATION api-sp-assignment-required: orders-sp — set appRoleAssignmentRequired: true, or every app in the tenant can get a token for this API",
    );
  });
});

describe("the CrossGuard pack", () => {
  it("skips what is unknown during preview instead of failing or passing it", async () => {
    const resources = await planOf(guideConfig());
    const policy = named(resources, "orders-policy");
    const asPolicyResource = (resource: GuardResource, props: Record<string, unknown>) =>
      ({
        urn: resource.urn,
        type: resource.type,
        name: resource.name,
        props: unknownCheckingProxy(props),
        opts: { protect: false },
        propertyDependencies: Object.fromEntries(
          Object.entries(resource.inputSources ?? {}).map(([key, urns]) => [key, urns.map((urn) => ({ urn }))]),
        ),
      }) as never;
    const converted = guardResourceOf(asPolicyResource(policy, { ...policy.inputs, value: unknownStringValue }));
    expect(converted.inputs.apiId).toBe("orders");
    expect(converted.inputSources?.apiId).toEqual([named(resources, "orders-api").urn]);
    const preview = resources.map((resource) => (resource === policy ? converted : resource));
    expect(runGuard(preview).filter((found) => found.level === "mandatory")).toEqual([]);
  });

  it("loads the way `pulumi preview --policy-pack guard` loads it and answers the analyzer protocol with the same findings", async () => {
    // The nodejs language host resolves @pulumi/pulumi/cmd/run-policy-pack from the pack's folder and runs it there;
    // the engine then talks to the pack over gRPC. This test plays the engine's part with a weakened dev plan.
    const packDir = path.join(projectDir, "guard");
    const runner = execFileSync(
      process.execPath,
      ["-e", "console.log(require.resolve('@pulumi/pulumi/cmd/run-policy-pack'))"],
      { cwd: packDir, encoding: "utf8" },
    ).trim();
    const child = spawn(process.execPath, [runner, "127.0.0.1:1", "."], { cwd: packDir });
    try {
      // The analyzer prints the port of its gRPC server once every policy is registered.
      const port = await new Promise<string>((resolve, reject) => {
        let printed = "";
        let failed = "";
        child.stdout.on("data", (chunk) => {
          printed += String(chunk);
          if (/^\d+\s*$/m.test(printed)) resolve(printed.trim());
        });
        child.stderr.on("data", (chunk) => (failed += String(chunk)));
        child.on("exit", (code) => reject(new Error(`pack exited ${code}: ${failed}`)));
      });
      const resources = await planOf(guideConfig({ clients: [federatedClient] }));
      named(resources, "orders-sp").inputs.appRoleAssignmentRequired = false;
      editPolicy((xml) => xml.replace('require-expiration-time="true"', 'require-expiration-time="false"'))(resources);
      const diagnostics = await analyzeStack(Number(port), resources);
      expect(diagnostics).toEqual(
        runGuard(resources).map((found) => ({
          policy: found.rule,
          level: found.level,
          // The policy SDK puts the rule's description before the reported message.
          message: `${guardRules.find((rule) => rule.name === found.rule)?.description}\n${found.resource} — ${found.fix}`,
          urn: found.urn,
        })),
      );
      expect(diagnostics.map((d) => d.policy)).toEqual([
        "api-sp-assignment-required",
        "token-check-signed-and-expiring",
      ]);
    } finally {
      child.kill();
    }
  }, 60_000);
});

/** Sends the resources to a running pack the way the engine's AnalyzeStack call does. */
async function analyzeStack(
  port: number,
  resources: GuardResource[],
): Promise<{ policy: string; level: string; message: string; urn: string }[]> {
  // The engine's wire types, from the SDK the pack itself runs on.
  const sdk = require.resolve("@pulumi/pulumi");
  const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdk] }));
  const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [sdk] }));
  const pb = require("@pulumi/pulumi/proto/analyzer_pb");
  const { AnalyzerClient } = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
  const request = new pb.AnalyzeStackRequest();
  request.setResourcesList(
    resources.map((resource) => {
      const analyzed = new pb.AnalyzerResource();
      analyzed.setType(resource.type);
      analyzed.setUrn(resource.urn);
      analyzed.setName(resource.name);
      analyzed.setProperties(Struct.fromJavaScript(resource.inputs));
      const options = new pb.AnalyzerResourceOptions();
      options.setProtect(resource.protect === true);
      analyzed.setOptions(options);
      for (const [key, urns] of Object.entries(resource.inputSources ?? {})) {
        const dependencies = new pb.AnalyzerPropertyDependencies();
        dependencies.setUrnsList(urns);
        analyzed.getPropertydependenciesMap().set(key, dependencies);
      }
      return analyzed;
    }),
  );
  const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const response = await new Promise<{ getDiagnosticsList(): unknown[] }>((resolve, reject) =>
      client.analyzeStack(request, (error: Error | null, reply: { getDiagnosticsList(): unknown[] }) =>
        error ? reject(error) : resolve(reply),
      ),
    );
    const levels = ["advisory", "mandatory", "disabled", "remediate"];
    return response.getDiagnosticsList().map((diagnostic) => {
      const d = diagnostic as Record<string, () => unknown>;
      return {
        policy: String(d.getPolicyname?.()),
        level: levels[Number(d.getEnforcementlevel?.())] ?? "?",
        message: String(d.getMessage?.()),
        urn: String(d.getUrn?.()),
      };
    });
  } finally {
    client.close();
  }
}

it("formats findings as the issue asks", () => {
  expect(
    formatFinding({
      rule: "token-check-roles",
      level: "mandatory",
      resource: "orders-policy",
      fix: "require the role",
    }),
  ).toBe("VIOLATION token-check-roles: orders-policy — require the role");
  expect(formatFinding({ rule: "protect-production", level: "advisory", resource: "prod", fix: "protect" })).toBe(
    "ADVISORY protect-production: prod — protect",
  );
});
