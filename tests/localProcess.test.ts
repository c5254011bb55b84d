// `npm run local -- start | stop | status | rest` as a person runs them: a background process per start, its state in
// a temporary .local/ so the project's own tenant is never touched.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLocal } from "../local/cli";
import { localSubscriptionId, localTenantPaths, type PidFile } from "../local/server";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (text: string) => out.push(text), err: (text: string) => err.push(text) }, out, err };
}

describe("npm run local -- start, status, rest, stop", () => {
  const root = mkdtempSync(join(tmpdir(), "local-process-"));
  const local = (...argv: string[]) => {
    const { io, out, err } = capture();
    return runLocal(argv, io, { root }).then((code) => ({ code, out: out.join("\n"), err: err.join("\n") }));
  };

  afterAll(async () => {
    await local("stop");
    rmSync(root, { recursive: true, force: true });
  });

  it("says the tenant is not running, and how to start it, before the first start", async () => {
    expect(await local("status")).toEqual({
      code: 1,
      out: "",
      err: "The local tenant is not running. Start it with: npm run local -- start",
    });
    expect((await local("rest", "GET", "graph:/v1.0/applications")).err).toBe(
      "The local tenant is not running. Start it with: npm run local -- start",
    );
  });

  it("starts in the background once; a second start says where it already runs", async () => {
    const started = await local("start", "--port", "0", "--replication-delay", "0");
    expect(started.code, started.err).toBe(0);
    const running = JSON.parse(readFileSync(localTenantPaths(root).pid, "utf8")) as PidFile;
    expect(started.out.split("\n")[0]).toBe(
      `The local tenant runs at ${running.endpoints.login} (pid ${running.pid}).`,
    );
    expect(started.out).toContain(`metadata host           ${running.endpoints.metadataHost}`);
    expect(await local("start")).toEqual({
      code: 0,
      out: `The local tenant is already running at ${running.endpoints.login} (pid ${running.pid}).`,
      err: "",
    });
  });

  it("status names the process, its addresses and what the directory holds", async () => {
    const status = await local("status");
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/^The local tenant runs at https:\/\/127\.0\.0\.1:\d+ \(pid \d+, \d+ MB resident\)\./);
    // First start: Microsoft Graph's and ARM's service principals, the administrator and the sign-in user.
    expect(status.out).toMatch(/applications\s+1\n/);
    expect(status.out).toMatch(/servicePrincipals\s+3\n/);
    expect(status.out).toMatch(/users\s+1(\n|$)/);
  });

  it("rest calls Graph as the administrator and prints Graph's answer; a refusal exits 1", async () => {
    const created = await local(
      "rest",
      "POST",
      "graph:/v1.0/applications",
      "--body",
      JSON.stringify({ displayName: "by-hand", identifierUris: ["api://by-hand"] }),
    );
    expect(created.code, created.err).toBe(0);
    const app = JSON.parse(created.out) as { id: string; displayName: string };
    expect(app.displayName).toBe("by-hand");
    const again = await local(
      "rest",
      "POST",
      "graph:/v1.0/applications",
      "--body",
      JSON.stringify({ displayName: "twin", identifierUris: ["api://by-hand"] }),
    );
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out).error.message).toBe(
      "Another object with the same value for property identifierUris already exists.",
    );
    expect(again.err).toBe("error: POST graph:/v1.0/applications answered 400");
    const deleted = await local("rest", "DELETE", `graph:/v1.0/applications/${app.id}/owners/none/$ref`);
    expect(deleted.code).toBe(1);
  });

  it("rest calls ARM as the administrator, the local subscription's Owner", async () => {
    const group = `arm:/subscriptions/${localSubscriptionId}/resourceGroups/rg-local?api-version=2021-04-01`;
    const put = await local("rest", "PUT", group, "--body", JSON.stringify({ location: "westeurope" }));
    expect(put.code, put.err).toBe(0);
    const read = await local("rest", "GET", group);
    expect(JSON.parse(read.out)).toMatchObject({
      id: `/subscriptions/${localSubscriptionId}/resourceGroups/rg-local`,
      location: "westeurope",
    });
  });

  it("rest refuses a bad method, target or body before calling anything", async () => {
    const method = await local("rest", "FETCH", "graph:/v1.0/applications");
    expect([method.code, method.err.split("\n")[0]]).toEqual([
      2,
      'error: rest: the method must be one of GET, POST, PATCH, PUT, DELETE, not "FETCH"',
    ]);
    const target = await local("rest", "GET", "https://graph.microsoft.com/v1.0/applications");
    expect(target.err.split("\n")[0]).toBe(
      'error: rest: the target must be graph:/v1.0/… or arm:/subscriptions/…, not "https://graph.microsoft.com/v1.0/applications"',
    );
    const body = await local("rest", "POST", "graph:/v1.0/applications", "--body", "{displayName:");
    expect(body.err.split("\n")[0]).toMatch(/^error: rest: --body must be JSON: /);
  });

  it("keeps the directory across a stop and a start", async () => {
    const created = await local(
      "rest",
      "POST",
      "graph:/v1.0/applications",
      "--body",
      JSON.stringify({ displayName: "survivor" }),
    );
    const { id } = JSON.parse(created.out) as { id: string };
    const stopped = await local("stop");
    expect(stopped.out).toMatch(/^Stopped the local tenant \(pid \d+\); its directory stays in /);
    expect((await local("status")).code).toBe(1);
    expect((await local("start")).code).toBe(0);
    const read = await local("rest", "GET", `graph:/v1.0/applications/${id}?$select=displayName`);
    expect(JSON.parse(read.out).displayName).toBe("survivor");
    expect((await local("status")).out).toMatch(/applications\s+3\n/);
  });
});

describe("npm run local -- start on a taken port", () => {
  const root = mkdtempSync(join(tmpdir(), "local-port-"));
  let blocker: Server;
  let port: number;

  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it("names the port and how to choose another", async () => {
    const { io, out, err } = capture();
    expect(await runLocal(["start", "--port", String(port)], io, { root })).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([
      `error: port ${port} on 127.0.0.1 is taken by another program. Choose another: npm run local -- start --port <n> (the tenant keeps it for later starts; stacks name it in metadataHost).`,
    ]);
  });
});
