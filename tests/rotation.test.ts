// Two-slot secret rotation and protection (issue 7), under the mock engine with the clock pinned per step. What a
// mock cannot prove: that Entra keeps both passwords valid side by side (it allows many per app), or that the
// engine moves state along the alias; Pulumi documents both, a real `pulumi up` shows them.
import { afterEach, describe, expect, it, vi } from "vitest";
import { todayVariable } from "../config/clock";
import type { MockEvaluation, MockedResource } from "../tools/preview/mockEngine";
import { readStackFileConfig } from "../tools/preview/stackFiles";
import { projectDir } from "../tools/plan";
import {
  evaluate,
  evaluateComponent,
  guideApi,
  guideClient,
  guideConfig,
  ofType,
  only,
  refusalOf,
} from "./support/evaluate";

const T = {
  password: "azuread:index/applicationPassword:ApplicationPassword",
  server: "azure-native:apimanagement:AuthorizationServer",
};
/** Only these survive config changes and must never be lost; everything else must stay replaceable. */
const protectedTypes = new Set([
  "azuread:index/applicationRegistration:ApplicationRegistration",
  "azuread:index/servicePrincipal:ServicePrincipal",
  "azure-native:apimanagement:Api",
  "azure-native:apimanagement:ApiManagementService",
]);

afterEach(() => vi.unstubAllEnvs());

async function evaluateOn(today: string, config: Record<string, unknown>, stack = "test"): Promise<MockEvaluation> {
  vi.stubEnv(todayVariable, today);
  return evaluate(config, stack);
}

const withSecrets = (secrets: Record<string, unknown>[]) =>
  guideConfig({
    apis: [guideApi({ authorizationServer: { client: "reporting" } })],
    clients: [{ name: "reporting", displayName: "My-Client-App", secrets, apis: ["orders"] }],
  });
const passwords = (stack: MockEvaluation) => ofType(stack, T.password);
const clientOutputs = (stack: MockEvaluation) =>
  (stack.outputs.clients as Record<string, Record<string, unknown>>).reporting as Record<string, unknown>;

describe("a rotation in two runs: A, then A and B, then B", () => {
  const A = { rotatedOn: "2026-06-01", lifetimeDays: 180 };
  const B = { rotatedOn: "2026-11-20", lifetimeDays: 180 };
  const steps = [
    { today: "2026-10-01", secrets: [A], names: ["reporting-secret-2026-06-01"] },
    { today: "2026-11-21", secrets: [A, B], names: ["reporting-secret-2026-06-01", "reporting-secret-2026-11-20"] },
    { today: "2026-12-01", secrets: [B], names: ["reporting-secret-2026-11-20"] },
  ];

  it("never changes the name or inputs of a secret that stays, and always exports a valid newest secret", async () => {
    const runs: MockEvaluation[] = [];
    for (const step of steps) runs.push(await evaluateOn(step.today, withSecrets(step.secrets)));
    runs.forEach((run, index) => {
      const step = steps[index] as (typeof steps)[number];
      expect(passwords(run).map((password) => password.name)).toEqual(step.names);
      const newest = passwords(run).at(-1) as MockedResource;
      const outputs = clientOutputs(run);
      expect(outputs.clientSecret).toBe(`mock-${newest.name}-value`);
      expect(run.secretOutputPaths).toContain("clients.reporting.clientSecret");
      expect(String(outputs.secretEndDate) > `${step.today}T`).toBe(true);
      expect(only(run, T.server, "orders-authorization-server").inputs.clientSecret).toBe(outputs.clientSecret);
    });
    for (const [before, after] of [
      [runs[0], runs[1]],
      [runs[1], runs[2]],
    ] as const) {
      for (const password of passwords(after as MockEvaluation)) {
        const earlier = passwords(before as MockEvaluation).find((candidate) => candidate.name === password.name);
        if (earlier) expect(password.inputs, password.name).toEqual(earlier.inputs);
      }
    }
    expect(only(runs[1] as MockEvaluation, T.password, "reporting-secret-2026-11-20").inputs).toEqual({
      applicationId: "/applications/mock-reporting-app-object-id",
      displayName: "rotated 2026-11-20",
      endDate: "2027-05-19T00:00:00Z",
      rotateWhenChanged: { rotatedOn: "2026-11-20" },
    });
  });

  it("lists every secret's dates without values", async () => {
    const run = await evaluateOn("2026-11-21", withSecrets([B, A]));
    expect(clientOutputs(run).secrets).toEqual([
      { rotatedOn: "2026-06-01", endDate: "2026-11-28T00:00:00Z" },
      { rotatedOn: "2026-11-20", endDate: "2027-05-19T00:00:00Z" },
    ]);
    expect(clientOutputs(run).secretEndDate).toBe("2027-05-19T00:00:00Z");
    expect(JSON.stringify(clientOutputs(run).secrets)).not.toContain("value");
  });

  it("aliases only the oldest secret to the name a secret had before two-slot rotation", async () => {
    const run = await evaluateOn("2026-11-21", withSecrets([A, B]));
    expect(passwords(run).map((password) => [password.name, password.aliases])).toEqual([
      ["reporting-secret-2026-06-01", ["reporting-secret"]],
      ["reporting-secret-2026-11-20", []],
    ]);
  });
});

describe("the shorthand", () => {
  it("registers exactly the resources of the one-entry list", async () => {
    const shorthand = await evaluate(guideConfig({ clients: [guideClient()] }));
    const list = await evaluate(
      guideConfig({
        clients: [
          {
            name: "reporting",
            displayName: "My-Client-App",
            secrets: [{ rotatedOn: "2026-11-23", lifetimeDays: 180 }],
            apis: ["orders"],
          },
        ],
      }),
    );
    expect(list.resources).toEqual(shorthand.resources);
    expect(list.outputs).toEqual(shorthand.outputs);
  });
});

describe("secrets that are refused before anything is registered", () => {
  const secretClient = (changes: Record<string, unknown>) => ({
    name: "reporting",
    displayName: "My-Client-App",
    apis: ["orders"],
    ...changes,
  });
  it.each([
    [
      "an expired secret, alone",
      { secretRotatedOn: "2026-01-01", secretLifetimeDays: 30 },
      `apim-entra-auth:clients[0] (reporting).secretRotatedOn: the secret issued "2026-01-01" expired on 2026-01-31 (lifetime 30 days, today is 2026-11-23); rotate: add an entry with today's date (2026-11-23) to secrets, move consumers to it, then remove this one.`,
    ],
    [
      "a secret that ends today",
      { secrets: [{ rotatedOn: "2026-11-13", lifetimeDays: 10 }] },
      `apim-entra-auth:clients[0] (reporting).secrets[0].rotatedOn: the secret issued "2026-11-13" expired on 2026-11-23 (lifetime 10 days, today is 2026-11-23); rotate: add an entry with today's date (2026-11-23) to secrets, move consumers to it, then remove this one.`,
    ],
    [
      "an expired secret beside a valid one",
      { secrets: [{ rotatedOn: "2026-11-20" }, { rotatedOn: "2026-01-01", lifetimeDays: 30 }] },
      `apim-entra-auth:clients[0] (reporting).secrets[1].rotatedOn: the secret issued "2026-01-01" expired on 2026-01-31 (lifetime 30 days, today is 2026-11-23); remove this entry: the secret rotated 2026-11-20 is still valid.`,
    ],
    [
      "a date that does not exist",
      { secrets: [{ rotatedOn: "2026-04-31" }] },
      `apim-entra-auth:clients[0] (reporting).secrets[0].rotatedOn: "2026-04-31" is not allowed; use a calendar date in the form YYYY-MM-DD (a day that exists)`,
    ],
    [
      "three secrets",
      { secrets: [{ rotatedOn: "2026-11-01" }, { rotatedOn: "2026-11-10" }, { rotatedOn: "2026-11-20" }] },
      `apim-entra-auth:clients[0] (reporting).secrets: 3 entries is not allowed; list one secret, or two during a rotation (the current one and the next), and remove the older entry once every consumer uses the newer.`,
    ],
    [
      "no secret in the list",
      { secrets: [] },
      `apim-entra-auth:clients[0] (reporting).secrets: 0 entries is not allowed; list one secret, or two during a rotation (the current one and the next), and remove the older entry once every consumer uses the newer.`,
    ],
    [
      "two entries with one date",
      { secrets: [{ rotatedOn: "2026-11-20" }, { rotatedOn: "2026-11-20", lifetimeDays: 90 }] },
      `apim-entra-auth:clients[0] (reporting).secrets: the rotatedOn "2026-11-20" is used by more than one entry; each secret needs a date of its own (it names the secret).`,
    ],
    [
      "the list and the shorthand together",
      { secrets: [{ rotatedOn: "2026-11-20" }], secretLifetimeDays: 90 },
      `apim-entra-auth:clients[0] (reporting).secrets: is given together with secretRotatedOn/secretLifetimeDays; use one form: move the shorthand into the list as { rotatedOn, lifetimeDays }, or remove the list.`,
    ],
    [
      "a rotation date in the future",
      { secrets: [{ rotatedOn: "2026-11-24" }] },
      `apim-entra-auth:clients[0] (reporting).secrets[0].rotatedOn: "2026-11-24" is in the future (today is 2026-11-23); use the day the secret is issued, at the latest today, so it expires after its lifetime and not later.`,
    ],
    [
      "secrets on a client without a secret credential",
      { credential: "none", secrets: [{ rotatedOn: "2026-11-20" }] },
      `apim-entra-auth:clients[0] (reporting).secrets: only applies to credential "secret" (this client has "none"); remove it.`,
    ],
  ])("%s", async (_case, changes, line) => {
    const refusal = await refusalOf(guideConfig({ clients: [secretClient(changes)] }));
    expect(refusal.message).toBe(`Invalid configuration for stack "test":\n  - ${line}`);
    expect(refusal.resources).toEqual([]);
  });

  it("accepts a secret that ends tomorrow, with a warning", async () => {
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const stack = await evaluate(
        guideConfig({ clients: [secretClient({ secrets: [{ rotatedOn: "2026-11-14", lifetimeDays: 10 }] })] }),
      );
      expect(clientOutputs(stack).secretEndDate).toBe("2026-11-24T00:00:00Z");
      expect(String(warnings.mock.calls[0]?.[0])).toContain("expires on 2026-11-24, in 1 days");
    } finally {
      warnings.mockRestore();
    }
  });
});

describe("the expiry warning follows the injected clock", () => {
  const config = guideConfig({ clients: [guideClient({ secretRotatedOn: "2026-11-01", secretLifetimeDays: 40 })] });

  it.each([
    ["2026-11-05", []],
    [
      "2026-11-23",
      [
        `warning: [runtime] The newest secret of client "reporting" expires on 2026-12-11, in 18 days; rotate: add an entry with today's date (2026-11-23) to clients[].secrets for "reporting", move its consumers to the new clientSecret, then remove the old entry. After that date the config is refused.`,
      ],
    ],
  ])("on %s", async (today, expected) => {
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      await evaluateOn(today, config);
      expect(warnings.mock.calls.map((call) => String(call[0]))).toEqual(expected);
    } finally {
      warnings.mockRestore();
    }
  });

  it("refuses a pinned date that is not a calendar date", async () => {
    vi.stubEnv(todayVariable, "2026-02-30");
    const failure = await evaluate(guideConfig()).catch((error: unknown) => error as Error);
    expect((failure as Error).message).toBe(
      `${todayVariable}="2026-02-30" is not a calendar date; use YYYY-MM-DD or unset it.`,
    );
  });
});

/** The newest rotation date in a stack's config: the day the stack file was last known to be valid. */
function newestRotatedOn(config: Record<string, unknown>): string {
  const clients = (config.clients ?? []) as { secretRotatedOn?: string; secrets?: { rotatedOn: string }[] }[];
  const dates = clients.flatMap((client) => [
    ...(client.secretRotatedOn ? [client.secretRotatedOn] : []),
    ...(client.secrets ?? []).map((secret) => secret.rotatedOn),
  ]);
  return dates.sort().at(-1) ?? "2026-11-23";
}

describe("protect: true protects what must not be lost, and only that", () => {
  const expectProtectionByType = (stack: MockEvaluation) => {
    expect(stack.resources.filter((resource) => resource.protect).length).toBeGreaterThan(0);
    for (const resource of stack.resources) {
      expect(resource.protect, `${resource.type} ${resource.name}`).toBe(protectedTypes.has(resource.type));
    }
  };

  it("on the dev catalogue with protect: true, and a created APIM service", async () => {
    const { config } = readStackFileConfig(projectDir, "dev");
    const apim = {
      ...(config.apim as Record<string, unknown>),
      create: {
        sku: "Developer",
        location: "westeurope",
        publisherName: "Contoso",
        publisherEmail: "api@contoso.example",
      },
    };
    const portalFree = (config.apis as Record<string, unknown>[]).map((api) => ({
      ...api,
      authorizationServer: undefined,
    }));
    const stack = await evaluateOn(
      newestRotatedOn(config),
      { ...config, apim, apis: portalFree, protect: true },
      "dev",
    );
    expectProtectionByType(stack);
    expect(ofType(stack, T.password).every((password) => !password.protect)).toBe(true);
  });

  it("on the committed prod stack", async () => {
    const { config, secretKeys } = readStackFileConfig(projectDir, "prod");
    expect(config.protect).toBe(true);
    vi.stubEnv(todayVariable, newestRotatedOn(config));
    const stack = await evaluate(config, "prod", undefined, secretKeys);
    expectProtectionByType(stack);
  });
});

describe("protect: true as the component's resource option (children inherit it unless they say otherwise)", () => {
  const A = { rotatedOn: "2026-06-01", lifetimeDays: 180 };
  const B = { rotatedOn: "2026-11-20", lifetimeDays: 180 };
  const steps = [
    { today: "2026-10-01", secrets: [A] },
    { today: "2026-11-21", secrets: [A, B] },
    { today: "2026-12-01", secrets: [B] },
  ];
  /** Every kind of child: a secret and a federated daemon, a web portal client, a native client, users assigned. */
  const catalogue = (secrets: Record<string, unknown>[]) =>
    guideConfig({
      apis: [
        guideApi({
          callers: ["applications", "users"],
          assignedPrincipals: ["9f8e7d6c-aaaa-4bbb-8ccc-ddddeeeeffff"],
          authorizationServer: { client: "portal" },
        }),
      ],
      clients: [
        { name: "reporting", displayName: "My-Client-App", secrets, apis: ["orders"] },
        {
          name: "pipeline",
          displayName: "Pipeline",
          credential: "federated",
          federatedCredentials: [
            {
              name: "github",
              issuer: "https://token.actions.githubusercontent.com",
              subject: "repo:c/o:environment:p",
            },
          ],
          apis: ["orders"],
        },
        guideClient({
          name: "portal",
          displayName: "Portal",
          kind: "web",
          secretRotatedOn: "2026-06-01",
          secretLifetimeDays: 365,
          redirectUris: ["https://p.example.com/cb"],
        }),
        { name: "desktop", displayName: "Desktop", kind: "native", credential: "none", apis: ["orders"] },
      ],
    });
  const protectedComponent = async (today: string, secrets: Record<string, unknown>[]) => {
    vi.stubEnv(todayVariable, today);
    return evaluateComponent(catalogue(secrets), { opts: { protect: true } });
  };

  it("protects what must not be lost and leaves every other child replaceable", async () => {
    const stack = await protectedComponent("2026-11-21", [A, B]);
    const component = "apim-entra-auth:index:EntraProtectedApis";
    for (const resource of stack.resources) {
      const expected = resource.type === component || protectedTypes.has(resource.type);
      expect(resource.protect, `${resource.type} ${resource.name}`).toBe(expected);
    }
    const types = new Set(stack.resources.map((resource) => resource.type.split(":").at(-1)));
    for (const type of [
      "ApplicationPassword",
      "ApplicationFederatedIdentityCredential",
      "ApplicationApiAccess",
      "AppRoleAssignment",
      "ServicePrincipalDelegatedPermissionGrant",
      "ApplicationRedirectUris",
      "ApplicationFallbackPublicClient",
      "ApplicationIdentifierUri",
      "ApplicationAppRole",
      "ApplicationPermissionScope",
      "ApiPolicy",
      "ApiOperation",
      "AuthorizationServer",
    ]) {
      expect(types, type).toContain(type);
    }
  });

  it("rotates A → A and B → B without deleting a protected resource", async () => {
    const runs: MockEvaluation[] = [];
    for (const step of steps) runs.push(await protectedComponent(step.today, step.secrets));
    const deleted = (before: MockEvaluation, after: MockEvaluation) =>
      before.resources.filter(
        (old) => !after.resources.some((now) => now.urn === old.urn || now.aliasUrns.includes(old.urn)),
      );
    expect(deleted(runs[0] as MockEvaluation, runs[1] as MockEvaluation)).toEqual([]);
    const retired = deleted(runs[1] as MockEvaluation, runs[2] as MockEvaluation);
    expect(retired.map((resource) => [resource.name, resource.protect])).toEqual([
      ["reporting-secret-2026-06-01", false],
    ]);
  });
});
