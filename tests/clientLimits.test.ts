// Client limits from the stack file to the gateway: the config's checks, the wiring that names each client by its id,
// the policy reader, the counters, and a burst against the gateway stand-in on loopback. What this cannot prove: that
// APIM counts as documented (its reference says rate limits are never exact across gateway instances), nor which
// Retry-After a real gateway computes; the stand-in's counters follow the documented windows on an injected clock.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limitsByClient } from "../config/clientLimits";
import { type ConfigError, validateCatalogue } from "../config/validate";
import { tokenProfile } from "../entra/tokenProfile";
import type { ClientLimits } from "../policies/clientLimits";
import { type ClientLimitsSpec, readClientLimits } from "../policies/readClientLimits";
import { defaultPolicyTemplatePath, renderApiPolicy } from "../policies/renderPolicy";
import { CallCounters } from "../tools/gateway/limits";
import { requestToken } from "../tools/sign-in/clientCredentials";
import { parseStackOutputs, type StackOutputs } from "../tools/sign-in/stackOutputs";
import { type EntraStandIn, type EntraStandInOptions, startEntraStandIn } from "./support/entraStandIn";
import { evaluate, guideApi, guideClient, guideConfig, only } from "./support/evaluate";
import { type RunningStandIn, startBackendStandIn, startGatewayStandIn } from "./support/gatewayStandIn";
import { entraDirectoryOf } from "./support/stackDirectory";

const tenantId = guideConfig().tenantId as string;
const partnerId = "0f0f0f0f-1111-2222-3333-444444444444";
const template = readFileSync(defaultPolicyTemplatePath, "utf8");

/** The problems the config checks report for the guide's config with `limits` on its API (none: []). */
function problemsOf(limits: unknown, changes: Record<string, unknown> = {}): string[] {
  try {
    validateCatalogue(guideConfig({ apis: [guideApi({ limits })], ...changes }), "test", "2026-11-23");
    return [];
  } catch (error) {
    return (error as ConfigError).problems;
  }
}

const key = "apim-entra-auth:apis[0] (orders).limits";

describe("apis[].limits in a stack file", () => {
  it("accepts numbers per minute and per day, and clients by name or id with limits of their own", () => {
    expect(problemsOf({ callsPerMinute: 1, callsPerDay: 2_147_483_647 })).toEqual([]);
    expect(problemsOf({ clients: { reporting: { callsPerDay: 10 }, [partnerId]: { callsPerMinute: 5 } } })).toEqual([]);
  });

  it.each([
    [{}, `${key}: sets no limit; give callsPerMinute and/or callsPerDay (or clients), or remove it.`],
    [
      { callsPerMinute: 0 },
      `${key}.callsPerMinute: 0 is not allowed; use a whole number of calls per minute from 1 to 2147483647`,
    ],
    [
      { callsPerDay: 1.5 },
      `${key}.callsPerDay: 1.5 is not allowed; use a whole number of calls per day from 1 to 2147483647`,
    ],
    [
      { callsPerDay: 2_147_483_648 },
      `${key}.callsPerDay: 2147483648 is not allowed; use a whole number of calls per day from 1 to 2147483647`,
    ],
    [
      { callsPerMinute: "100" },
      `${key}.callsPerMinute: "100" is not allowed; use a whole number of calls per minute from 1 to 2147483647`,
    ],
    [
      { callsPerMinit: 100 },
      `${key}.callsPerMinit: unknown key — did you mean "callsPerMinute"? Allowed keys: callsPerMinute, callsPerDay, clients.`,
    ],
    [
      { clients: { reporting: { callsPerHour: 100 } } },
      `${key}.clients.reporting.callsPerHour: unknown key. Allowed keys: callsPerMinute, callsPerDay.`,
    ],
    [
      { clients: { reportng: { callsPerMinute: 100 } } },
      `${key}.clients.reportng: "reportng" is neither a client in apim-entra-auth:clients (reporting) nor a client id GUID — did you mean "reporting"?`,
    ],
    [
      { callsPerMinute: 5, clients: { reporting: {} } },
      `${key}.clients.reporting: sets no limit; give callsPerMinute and/or callsPerDay, or remove it.`,
    ],
    [
      { clients: { [partnerId]: { callsPerDay: 1 }, [partnerId.toUpperCase()]: { callsPerDay: 2 } } },
      `${key}.clients.${partnerId.toUpperCase()}: the client id is already listed (client ids ignore case); keep one entry.`,
    ],
  ])("refuses %j", (limits, problem) => {
    expect(problemsOf(limits)).toEqual([problem]);
  });

  it("refuses a client that is not granted the API: none of its tokens reaches the limits", () => {
    const clients = [guideClient(), guideClient({ name: "auditor", displayName: "Auditor", apis: [] })];
    expect(problemsOf({ clients: { auditor: { callsPerMinute: 1 } } }, { clients })).toEqual([
      `${key}.clients.auditor: "auditor" is not granted "orders", so no token of it reaches these limits; grant it (its apis) or remove the entry.`,
    ]);
  });

  const created = (sku: string) => ({
    apim: {
      resourceGroupName: "rg-apim-test",
      serviceName: "apim-test",
      create: { sku, location: "westeurope", publisherName: "Contoso", publisherEmail: "api@contoso.example" },
    },
  });

  it.each([
    [
      "Consumption",
      { callsPerMinute: 5 },
      `${key}: the Consumption tier has neither rate-limit-by-key nor quota-by-key (APIM policy reference), so it cannot count calls per client (choose another sku in apim-entra-auth:apim.create.sku); remove limits.`,
    ],
    [
      "BasicV2",
      { callsPerMinute: 5, clients: { reporting: { callsPerDay: 100 } } },
      `${key}: callsPerDay needs quota-by-key, which the BasicV2 tier does not have (APIM policy reference: Developer, Basic, Standard, Premium) (choose another sku in apim-entra-auth:apim.create.sku); keep callsPerMinute only.`,
    ],
  ])("refuses what a created %s service cannot count", (sku, limits, problem) => {
    expect(problemsOf(limits, created(sku))).toEqual([problem]);
  });

  it("accepts calls per minute on a v2 tier, and both on a classic one", () => {
    expect(problemsOf({ callsPerMinute: 5 }, created("StandardV2"))).toEqual([]);
    expect(problemsOf({ callsPerMinute: 5, callsPerDay: 50 }, created("Basic"))).toEqual([]);
  });

  it("gives a listed client the API's numbers it leaves out", () => {
    const api = validateCatalogue(
      guideConfig({
        apis: [
          guideApi({
            limits: { callsPerMinute: 60, callsPerDay: 1000, clients: { reporting: { callsPerMinute: 600 } } },
          }),
        ],
      }),
      "test",
      "2026-11-23",
    ).apis[0];
    expect(limitsByClient(api as NonNullable<typeof api>)).toEqual({
      everyClient: { callsPerMinute: 60, callsPerDay: 1000 },
      clients: [{ client: "reporting", limits: { callsPerMinute: 600, callsPerDay: 1000 } }],
    });
  });
});

describe("the program's policy", () => {
  const limited = guideApi({
    limits: {
      callsPerMinute: 60,
      callsPerDay: 1000,
      clients: { reporting: { callsPerMinute: 600 }, [partnerId]: { callsPerDay: 5 } },
    },
  });

  it.each([
    [2, "azp"],
    [1, "appid"],
  ] as const)(
    "v%i: names each listed client by its client id, keyed on %s, after the token check",
    async (tokenVersion, claim) => {
      const stack = await evaluate(guideConfig({ apis: [{ ...limited, tokenVersion }] }));
      const policy = only(stack, "azure-native:apimanagement:ApiPolicy", "orders-policy");
      const perMinute = (calls: number) => ({ policy: "rate-limit-by-key", calls, renewalPeriodSeconds: 60 });
      const perDay = (calls: number) => ({ policy: "quota-by-key", calls, renewalPeriodSeconds: 86_400 });
      expect(readClientLimits(policy.inputs.value as string)).toEqual({
        clientIdClaim: claim,
        everyClient: [perMinute(60), perDay(1000)],
        clients: [
          { clientId: partnerId, limits: [perMinute(60), perDay(5)] },
          { clientId: "mock-reporting-app-client-id", limits: [perMinute(600), perDay(1000)] },
        ],
      });
      expect(policy.inputSources.value).toContain(
        "urn:pulumi:test::apim-entra-auth::apim-entra-auth:index:EntraProtectedApis$apim-entra-auth:identity:ClientRegistration$azuread:index/applicationRegistration:ApplicationRegistration::reporting-app",
      );
    },
  );

  it.each([
    [
      "Consumption",
      "apim-entra-auth:apis[0] (orders).limits: the Consumption tier has neither rate-limit-by-key nor quota-by-key (APIM policy reference), so it cannot count calls per client (the existing service apim-test is on it); remove limits.",
    ],
    [
      "StandardV2",
      "apim-entra-auth:apis[0] (orders).limits: callsPerDay needs quota-by-key, which the StandardV2 tier does not have (APIM policy reference: Developer, Basic, Standard, Premium) (the existing service apim-test is on it); keep callsPerMinute only.",
    ],
  ])("stops before anything is registered when the existing service is on the %s tier", async (sku, problem) => {
    const failure = (await evaluate(guideConfig({ apis: [limited] }), "test", {
      "azure-native:apimanagement:getApiManagementService": {
        gatewayUrl: "https://apim-test.azure-api.net",
        sku: { name: sku, capacity: 1 },
      },
    }).catch((e: unknown) => e)) as { message: string; resources: unknown[] };
    expect(failure.message).toContain(problem);
    expect(failure.resources).toEqual([]);
  });
});

describe("reading the limits back", () => {
  const profile = tokenProfile({
    authorityHost: "https://login.microsoftonline.com",
    tenantId,
    apiClientId: partnerId,
    tokenVersion: 2,
  });
  const render = (limits?: ClientLimits) =>
    renderApiPolicy(
      {
        validation: "validate-jwt",
        profile,
        tenantId,
        appRole: "access_as_app",
        clockSkewSeconds: 60,
        ...(limits ? { limits } : {}),
      },
      template,
    );
  const policy = render({
    everyClient: { callsPerMinute: 10 },
    clients: [{ clientId: partnerId, limits: { callsPerDay: 3 } }],
  });

  it("finds none in a policy without limits", () => {
    expect(readClientLimits(render())).toBeUndefined();
  });

  it("reads them after the users-or-applications choice, whose two checks both set the output variable", () => {
    const both = renderApiPolicy(
      {
        validation: "validate-jwt",
        profile,
        tenantId,
        appRole: "access_as_app",
        scope: "access_as_user",
        callers: ["applications", "users"],
        clockSkewSeconds: 60,
        limits: { everyClient: { callsPerMinute: 10 } },
      },
      template,
    );
    expect(both.match(/output-token-variable-name="validated-token"/g)).toHaveLength(2);
    expect(readClientLimits(both)).toEqual({
      clientIdClaim: "azp",
      everyClient: [{ policy: "rate-limit-by-key", calls: 10, renewalPeriodSeconds: 60 }],
      clients: [],
    });
  });

  it.each([
    {
      what: "the limits moved before the token check",
      edit: (xml: string) => {
        const choose = /\n {4}<choose>\n {6}<when condition="@\(\(\(Jwt\)[\s\S]*?\n {4}<\/choose>/.exec(xml)?.[0] ?? "";
        return xml.replace(choose, "").replace("\n    <validate-jwt", `${choose}\n    <validate-jwt`);
      },
      error:
        "policy's <quota-by-key> is not after the token check: a request without a valid token would reach it, and a counter key read from such a token fails with 500 instead of 401",
    },
    {
      what: "a token check that sets no output variable",
      edit: (xml: string) => xml.replace(' output-token-variable-name="validated-token"', ""),
      error:
        'policy\'s limits read the validated token from the variable "validated-token", but the token check\'s output-token-variable-name is "": every call would fail with 500',
    },
    {
      what: "a counter key read from the request",
      edit: (xml: string) => xml.replace(/counter-key="[^"]*"/, 'counter-key="@(context.Request.IpAddress)"'),
      error:
        'policy\'s <quota-by-key> has the counter-key "@(context.Request.IpAddress)"; this reader understands only the client limits the renderer writes (policies/clientLimits.ts)',
    },
    {
      what: "an increment condition",
      edit: (xml: string) =>
        xml.replace('<rate-limit-by-key calls="10"', '<rate-limit-by-key increment-condition="@(true)" calls="10"'),
      error:
        "policy's <rate-limit-by-key> has increment-condition; this reader understands only the client limits the renderer writes (policies/clientLimits.ts)",
    },
    {
      what: "a branch on another condition",
      edit: (xml: string) =>
        xml.replace(
          /<when condition="@\(\(\(Jwt\)[^"]*"/,
          '<when condition="@(context.Request.Method == &quot;GET&quot;)"',
        ),
      error:
        'policy\'s <choose> around the limits has the condition "@(context.Request.Method == \\"GET\\")"; this reader understands only the client limits the renderer writes (policies/clientLimits.ts)',
    },
    {
      what: "a rate limit over more than 300 seconds",
      edit: (xml: string) => xml.replace('renewal-period="60"', 'renewal-period="600"'),
      error: 'policy\'s <rate-limit-by-key> has renewal-period="600"; APIM allows 1 to 300 seconds',
    },
    {
      what: "a lifetime quota",
      edit: (xml: string) => xml.replace('renewal-period="86400"', 'renewal-period="0"'),
      error:
        "policy's <quota-by-key> has renewal-period=\"0\" (a lifetime quota, which this reader does not evaluate); APIM's minimum period is 300 seconds",
    },
  ])("refuses $what", ({ edit, error }) => {
    const edited = edit(policy);
    expect(edited).not.toBe(policy);
    expect(() => readClientLimits(edited)).toThrow(new Error(error));
  });
});

describe("the gateway's call counters", () => {
  const spec = (everyClient: ClientLimitsSpec["everyClient"], clients: ClientLimitsSpec["clients"] = []) => ({
    clientIdClaim: "azp" as const,
    everyClient,
    clients,
  });
  const clock = (start: string) => {
    let now = Date.parse(start);
    return { now: () => new Date(now), advance: (seconds: number) => (now += seconds * 1000) };
  };
  const perMinute = (calls: number) => ({ policy: "rate-limit-by-key" as const, calls, renewalPeriodSeconds: 60 });
  const perDay = (calls: number) => ({ policy: "quota-by-key" as const, calls, renewalPeriodSeconds: 86_400 });

  /** One client calling one API under `limits`, from `start` on a clock the test moves. */
  const caller = (start: string, limits: ClientLimitsSpec) => {
    const time = clock(start);
    const counters = new CallCounters(time.now);
    return { time, call: () => counters.admit("orders", limits, { azp: partnerId }) };
  };

  it("rate-limit-by-key: a sliding minute, 429 with the seconds until its oldest call leaves it", () => {
    const { time, call } = caller("2026-01-15T12:00:00Z", spec([perMinute(3)]));
    expect([call(), call()]).toEqual([{ admitted: true }, { admitted: true }]);
    time.advance(30);
    expect(call()).toEqual({ admitted: true });
    time.advance(15);
    expect(call()).toEqual({
      admitted: false,
      status: 429,
      retryAfterSeconds: 15,
      message: "Rate limit is exceeded. Try again in 15 seconds.",
    });
    time.advance(14.5);
    expect(call()).toMatchObject({ admitted: false, retryAfterSeconds: 1 });
    time.advance(0.5);
    expect([call(), call()]).toEqual([{ admitted: true }, { admitted: true }]);
    expect(call()).toMatchObject({ admitted: false, status: 429, retryAfterSeconds: 30 });
  });

  it("quota-by-key: a day from midnight UTC, 403 with the seconds until the next one", () => {
    const { time, call } = caller("2026-01-15T23:59:30Z", spec([perDay(2)]));
    expect([call(), call()]).toEqual([{ admitted: true }, { admitted: true }]);
    expect(call()).toEqual({
      admitted: false,
      status: 403,
      retryAfterSeconds: 30,
      message: "Out of call volume quota. Quota will be replenished in 00:00:30.",
    });
    time.advance(30);
    expect(call()).toEqual({ admitted: true });
  });

  it("counts each API and each client apart, and a listed client by its own limits", () => {
    const counters = new CallCounters(clock("2026-01-15T12:00:00Z").now);
    const limits = spec([perMinute(1)], [{ clientId: partnerId, limits: [perMinute(2)] }]);
    const other = "c11e0000-aaaa-4bbb-8ccc-000000000002";
    expect(counters.admit("orders", limits, { azp: other })).toEqual({ admitted: true });
    expect(counters.admit("orders", limits, { azp: other })).toMatchObject({ admitted: false, status: 429 });
    expect(counters.admit("billing", limits, { azp: other })).toEqual({ admitted: true });
    expect(counters.admit("orders", limits, { azp: partnerId })).toEqual({ admitted: true });
    expect(counters.admit("orders", limits, { azp: partnerId })).toEqual({ admitted: true });
    expect(counters.admit("orders", limits, { azp: partnerId })).toMatchObject({ admitted: false, status: 429 });
  });
});

describe.each([2, 1] as const)("token version %i: a burst against the gateway on loopback", (tokenVersion) => {
  // Seeded once the program is evaluated against the stand-in's authority.
  const directory: EntraStandInOptions = { tenantId, clients: [], apis: [], assignments: [] };
  // The gateway's clock stands still: the whole burst falls in one minute, whatever the machine's speed.
  const frozen = new Date();
  let entra: EntraStandIn;
  let backend: RunningStandIn & { readonly requests: number };
  let gateway: RunningStandIn;
  let outputs: StackOutputs;
  let url: string;

  beforeAll(async () => {
    entra = await startEntraStandIn(directory);
    const evaluation = await evaluate(
      guideConfig({
        authorityHost: entra.authorityHost,
        apis: [guideApi({ tokenVersion, limits: { callsPerMinute: 3, clients: { partner: { callsPerMinute: 5 } } } })],
        clients: [guideClient(), guideClient({ name: "partner", displayName: "Partner" })],
      }),
    );
    entra.seed(entraDirectoryOf(evaluation));
    outputs = parseStackOutputs(evaluation.outputs);
    backend = await startBackendStandIn();
    const orders = outputs.apis.orders as StackOutputs["apis"][string];
    gateway = await startGatewayStandIn({
      apis: [{ path: "orders", policyXml: orders.policy, backendUrl: backend.url }],
      now: () => frozen,
    });
    url = `${gateway.url}/orders/items`;
  });

  afterAll(async () => {
    await Promise.all([entra?.close(), backend?.close(), gateway?.close()]);
  });

  const tokenOf = async (client: string) => {
    const access = outputs.clients[client] as StackOutputs["clients"][string];
    const request = {
      tokenEndpoint: access.tokenEndpoint as string,
      clientId: access.clientId,
      clientSecret: access.clientSecret as string,
      scope: access.scopes.orders as string,
    };
    const { accessToken } = await requestToken(request, { maxAttempts: 1 });
    return accessToken;
  };
  const get = async (token?: string) => {
    const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const body = (await response.json()) as { message?: string };
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      challenge: response.headers.get("www-authenticate"),
      message: body.message,
    };
  };

  it("answers 200 up to the limit, then 429 with Retry-After; a request without a token gets 401 meanwhile, never 429 or 500", async () => {
    const [reporting, partner] = [await tokenOf("reporting"), await tokenOf("partner")];
    const scope = `api://${outputs.apis.orders?.clientId}/.default`;
    const before = backend.requests;

    const burst = [];
    for (let call = 0; call < 4; call += 1) burst.push(await get(reporting));
    const withoutToken = await get();
    const tampered = await get(`${reporting.slice(0, -4)}AAAA`);
    const afterwards = await get(reporting);

    expect(burst.map((answer) => answer.status)).toEqual([200, 200, 200, 429]);
    expect(burst[3]).toEqual({
      status: 429,
      retryAfter: "60",
      challenge: null,
      message: "Rate limit is exceeded. Try again in 60 seconds.",
    });
    expect(withoutToken).toEqual({
      status: 401,
      retryAfter: null,
      challenge: `Bearer scope="${scope}"`,
      message: "Unauthorized",
    });
    expect(tampered).toEqual({
      status: 401,
      retryAfter: null,
      challenge: `Bearer error="invalid_token", scope="${scope}"`,
      message: "Unauthorized",
    });
    expect(afterwards.status).toBe(429);

    const partnerBurst = [];
    for (let call = 0; call < 6; call += 1) partnerBurst.push((await get(partner)).status);
    expect(partnerBurst).toEqual([200, 200, 200, 200, 200, 429]);
    expect(backend.requests - before).toBe(3 + 5);
  });
});
