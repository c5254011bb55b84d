import { describe, expect, it } from "vitest";
import { AzureadProvider } from "../local/providers/azuread/provider";
import { administrator, configuredProvider, tokens, urnOf } from "./support/azureadHarness";
import { FakeClock, FakeGraph, fakeHost } from "./support/fakeGraph";

// Which Graph answers the provider retries (go-azure-sdk's base client: 424, 408, 429, 5xx but 501, plus each
// operation's own rule) and which it does not. Against a temporary in-process Graph (tests/support/fakeGraph.ts);
// what this cannot prove is how often the real Graph answers so.

const notYet = {
  status: 404,
  body: { error: { code: "Request_ResourceNotFound", message: "Resource does not exist." } },
};

describe("eventual consistency and throttling", () => {
  it("does not retry a 404 when adding an identifier URI to an application Graph has not replicated yet", async () => {
    const h = await configuredProvider();
    const app = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });
    h.graph.inject((call) => call.method === "PATCH", notYet);

    await expect(
      h.create(tokens.identifierUri, "api-uri", { applicationId: app.id, identifierUri: "api://orders" }),
    ).rejects.toThrow(
      "creating Application IdentifierUri (Application ID: " +
        `"${app.outs.objectId}", IdentifierUri ID: "${Buffer.from("api://orders").toString("base64")}"): ` +
        "unexpected status 404 (404 Not Found) with error: Request_ResourceNotFound: Resource does not exist.",
    );
    expect(h.graph.calls.filter((call) => call.method === "PATCH")).toHaveLength(1);
    expect(h.clock.sleeps).toEqual([]);
  });

  it("waits as long as a 429's Retry-After says, then carries on", async () => {
    const h = await configuredProvider();
    h.graph.inject((call) => call.method === "POST", {
      status: 429,
      headers: { "retry-after": "7" },
      body: { error: { code: "TooManyRequests", message: "Too many requests." } },
    });

    const app = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });

    expect(app.id).toMatch(/^\/applications\//);
    expect(h.clock.sleeps).toEqual([7000]);
  });

  it("gives up on a 503 after the retries its deadline allows, with Graph's status and message", async () => {
    const h = await configuredProvider();
    const app = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });
    const unavailable = {
      status: 503,
      body: { error: { code: "ServiceUnavailable", message: "Service is temporarily unavailable." } },
    };
    for (let i = 0; i < 20; i++) h.graph.inject((call) => call.method === "GET", unavailable);

    await expect(h.provider.read(app.id, urnOf(tokens.application, "api-app"), app.outs)).rejects.toThrow(
      "unexpected status 503 (503 Service Unavailable) with error: ServiceUnavailable: Service is temporarily unavailable.",
    );
    // A 5-minute read: go-azure-sdk's safeRetryNumber gives (300 - 63) / 61 + 6 = 9 retries, 1 s doubling to 61 s.
    expect(h.clock.sleeps).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 61000, 61000, 61000]);
  });

  it("fails at once, naming the URL and the cause, when the tenant stops answering", async () => {
    const graph = new FakeGraph([administrator]);
    let down = false;
    // The fake cannot refuse a connection itself; a transport that throws as fetch does stands in for one.
    const transport: typeof fetch = (input, init) =>
      down
        ? Promise.reject(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:8443") }))
        : graph.fetch(input, init);
    const provider = new AzureadProvider({ transport, clock: new FakeClock(), env: {} });
    await provider.configure({
      metadataHost: fakeHost,
      tenantId: graph.tenantId,
      clientId: administrator.clientId,
      clientSecret: administrator.clientSecret,
    });
    down = true;

    await expect(
      provider.create(urnOf(tokens.application, "api-app"), {
        displayName: "orders-dev",
        signInAudience: "AzureADMyOrg",
      }),
    ).rejects.toThrow(
      `creating application: POST "https://${fakeHost}/v1.0/applications": fetch failed (connect ECONNREFUSED 127.0.0.1:8443)`,
    );
  });

  it("follows @odata.nextLink through every page of a service principal's owners", async () => {
    const h = await configuredProvider();
    const app = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });
    const sp = await h.create(tokens.servicePrincipal, "api-sp", { clientId: app.outs.clientId });
    const ownersPath = `/v1.0/servicePrincipals/${sp.outs.objectId}/owners`;
    h.graph.inject((call) => call.path === ownersPath && !call.query.$skiptoken, {
      status: 200,
      body: {
        value: [{ id: "e0000000-0000-4000-8000-000000000001" }],
        "@odata.nextLink": `https://${fakeHost}${ownersPath}?$skiptoken=page2`,
      },
    });
    h.graph.inject((call) => call.path === ownersPath && call.query.$skiptoken === "page2", {
      status: 200,
      body: { value: [{ id: "e0000000-0000-4000-8000-000000000002" }] },
    });

    const refreshed = await h.provider.read(sp.id, urnOf(tokens.servicePrincipal, "api-sp"), sp.outs);

    expect(refreshed.props.owners).toEqual([
      "e0000000-0000-4000-8000-000000000001",
      "e0000000-0000-4000-8000-000000000002",
    ]);
  });
});
