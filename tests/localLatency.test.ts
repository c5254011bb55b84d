// The latency the local tenant adds to Graph and ARM requests (`npm run local -- start --latency graph=150,arm=300`),
// which `npm run bench` deploys against. The delays are observed through an injected sleeper, never timed: what this
// cannot prove is that a timer of 150 ms waits 150 ms (Node's setTimeout is trusted for that).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runLocal } from "../local/cli";
import { requestWithCa } from "../local/http";
import { type Latency, parseLatency } from "../local/latency";
import { armMount, localSubscriptionId, localTenantPaths } from "../local/server";
import { ArmStore } from "../local/armStore";
import { graphClient, startTestTenant, tenantToken } from "./support/localTenant";

describe("--latency's form", () => {
  it("reads each service's milliseconds; a service left out is not delayed", () => {
    expect(parseLatency("--latency", "graph=150,arm=300")).toEqual({ graph: 150, arm: 300 });
    expect(parseLatency("--latency", "arm=300")).toEqual({ graph: 0, arm: 300 });
    expect(parseLatency("--latency", "graph=0,arm=0")).toEqual({ graph: 0, arm: 0 });
  });

  it("refuses another service, a value that is not whole milliseconds, or one above 10 s, naming the flag and the part", () => {
    const form =
      "<service>=<ms>[,<service>=<ms>] with service graph or arm and ms a whole number from 0 to 10000, e.g. graph=150,arm=300";
    expect(() => parseLatency("--latency", "graph=150,tokens=20")).toThrow(`--latency: "tokens=20" is not ${form}`);
    expect(() => parseLatency("--latency", "graph=1.5")).toThrow(`--latency: "graph=1.5" is not ${form}`);
    expect(() => parseLatency("--latency", "arm=10001")).toThrow(`--latency: "arm=10001" is not ${form}`);
    expect(() => parseLatency("--latency", "150")).toThrow(`--latency: "150" is not ${form}`);
  });
});

describe("a tenant started with latency", () => {
  const slept: number[] = [];
  let local: Awaited<ReturnType<typeof startTestTenant>>;
  beforeAll(async () => {
    local = await startTestTenant({
      latency: { graph: 150, arm: 300 },
      sleep: async (ms) => {
        slept.push(ms);
      },
      mounts: [armMount(ArmStore.open())],
    });
  });
  afterAll(async () => {
    await local?.close();
  });

  it("delays each Graph request by Graph's latency and each ARM request by ARM's; tokens are not delayed", async () => {
    const { tenant, ca } = local;
    const graph = graphClient(tenant, ca);
    expect((await graph("GET", "/v1.0/applications")).status).toBe(200);
    expect(slept).toEqual([150]);

    const armToken = await tenantToken(tenant, ca, tenant.admin, tenant.endpoints.arm);
    expect(slept).toEqual([150]);
    const group = await requestWithCa(
      `${tenant.endpoints.arm}/subscriptions/${localSubscriptionId}/resourceGroups/rg-latency?api-version=2021-04-01`,
      {
        method: "PUT",
        ca,
        headers: { authorization: `Bearer ${String(armToken.body.access_token)}`, "content-type": "application/json" },
        body: JSON.stringify({ location: "westeurope" }),
      },
    );
    expect(group.status).toBe(201);
    expect(slept).toEqual([150, 300]);

    const status = await requestWithCa(`${tenant.endpoints.login}/local/status`, { ca });
    expect(JSON.parse(status.text)).toMatchObject({
      latency: { graph: 150, arm: 300 },
      requests: { graph: 1, arm: 1 },
    });
    expect(slept).toEqual([150, 300]);
  });
});

describe("the tenant's count of requests in flight", () => {
  it("reports the most Graph and ARM requests it answered at once, and answers more than 64 at once", async () => {
    const waiting: (() => void)[] = [];
    const local = await startTestTenant({
      latency: { graph: 150, arm: 0 },
      sleep: () => new Promise<void>((resolve) => waiting.push(resolve)),
    });
    try {
      const graph = graphClient(local.tenant, local.ca);
      // One request alone (it also fetches the token the next ones share), then many held until all are in.
      const first = graph("GET", "/v1.0/applications");
      await vi.waitFor(() => expect(waiting).toHaveLength(1), { timeout: 10_000 });
      waiting.shift()?.();
      expect((await first).status).toBe(200);
      // As many at once as an engine with unbounded parallelism sends: a tenant that capped connections at 64
      // dropped the rest before their TLS handshake.
      const together = 100;
      const all = Promise.all(Array.from({ length: together }, () => graph("GET", "/v1.0/applications")));
      await vi.waitFor(() => expect(waiting).toHaveLength(together), { timeout: 10_000 });
      for (const release of waiting.splice(0)) release();
      expect((await all).every((answer) => answer.status === 200)).toBe(true);
      const status = await requestWithCa(`${local.tenant.endpoints.login}/local/status`, { ca: local.ca });
      expect(JSON.parse(status.text)).toMatchObject({
        requests: { graph: together + 1, arm: 0 },
        mostRequestsInFlight: together,
      });
    } finally {
      await local.close();
    }
  });
});

describe("npm run local -- start --latency", () => {
  const root = mkdtempSync(join(tmpdir(), "local-latency-"));
  const local = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runLocal(argv, { out: (text) => out.push(text), err: (text) => err.push(text) }, { root });
    return { code, out: out.join("\n"), err: err.join("\n") };
  };
  afterAll(async () => {
    await local("stop");
    rmSync(root, { recursive: true, force: true });
  });

  it("refuses a bad value before starting anything", async () => {
    const refused = await local("start", "--port", "0", "--latency", "graph=slow");
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`error: --latency: "graph=slow" is not <service>=<ms>`);
    expect(refused.out).toBe("");
  });

  it("keeps the latency in the tenant's settings, and the running tenant reports it in status", async () => {
    const started = await local("start", "--port", "0", "--latency", "graph=150,arm=300");
    expect(started.code, started.err).toBe(0);
    expect(started.out).toContain("  latency                 Graph 150 ms, ARM 300 ms per request");
    const settings = JSON.parse(readFileSync(localTenantPaths(root).settings, "utf8")) as { latency: Latency };
    expect(settings.latency).toEqual({ graph: 150, arm: 300 });

    // status prints what the running process applies (its /local/status), not what the settings file says now.
    const settingsText = readFileSync(localTenantPaths(root).settings, "utf8");
    writeFileSync(localTenantPaths(root).settings, JSON.stringify({ ...settings, latency: { graph: 1, arm: 2 } }));
    const status = await local("status");
    writeFileSync(localTenantPaths(root).settings, settingsText);
    expect(status.code, status.err).toBe(0);
    expect(status.out).toContain("  latency                 Graph 150 ms, ARM 300 ms per request");
  });

  it("a later start without --latency keeps it; graph=0,arm=0 turns it off", async () => {
    expect((await local("stop")).code).toBe(0);
    const again = await local("start");
    expect(again.out).toContain("  latency                 Graph 150 ms, ARM 300 ms per request");
    expect((await local("stop")).code).toBe(0);
    const off = await local("start", "--latency", "graph=0,arm=0");
    expect(off.code, off.err).toBe(0);
    expect(off.out).not.toContain("  latency ");
    expect((await local("status")).out).not.toContain("  latency ");
  });
});
