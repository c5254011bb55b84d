// One engine test's own local tenant: a temporary .local root, a tenant on a port the system chooses, and
// `npm run local -- <command>` run in this process against it with the output captured.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { todayVariable } from "../../../config/clock";
import { administrator } from "../../../local/adminClient";
import { type LocalOptions, runLocal } from "../../../local/cli";
import { installEngine } from "../../../local/engine";
import { requestWithCa } from "../../../local/http";
import { localTenantPaths } from "../../../local/server";
import { runningTenant } from "../../../local/tenantProcess";

export interface LocalRun {
  code: number;
  out: string;
  err: string;
  /** stdout then stderr. */
  output: string;
}

export interface LocalSession {
  root: string;
  /** The tenant's CA, which every call to it trusts. */
  ca: string;
  /** Its login endpoint: the authority host stacks name. */
  login: string;
  tenantId: string;
  /** `npm run local -- <argv…>` on this session's root; options as LocalOptions (projectDir, deployer). */
  local(argv: string[], options?: Partial<LocalOptions>): Promise<LocalRun>;
  /** The same, throwing with the whole output unless it exits 0. */
  localOk(argv: string[], options?: Partial<LocalOptions>): Promise<LocalRun>;
  /** Graph (`graph:/v1.0/…`) or ARM (`arm:/subscriptions/…`) as the administrator: exit code and parsed answer. */
  rest(method: string, target: string, body?: unknown): Promise<{ code: number; body: Record<string, unknown> }>;
  /** The same, throwing unless Graph or ARM answered with success. */
  restOk(method: string, target: string, body?: unknown): Promise<Record<string, unknown>>;
  /**
   * Stops the tenant and starts it again on the same port with the program's and the tenant's clock on `day`
   * (APIM_ENTRA_AUTH_TODAY, which the tenant reads when it starts and every CLI run passes to the program).
   */
  restartOn(day: string): Promise<void>;
  /** Stops the tenant and removes the root (nothing is destroyed: the directory goes with it). */
  close(): Promise<void>;
}

/** Installs the CLI (cached) and starts a tenant in a new temporary root. */
export async function startLocalSession(defaults: Partial<LocalOptions> = {}): Promise<LocalSession> {
  await installEngine({ log: () => undefined });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "local-session-"));
  const dayAtStart = process.env[todayVariable];

  const local = async (argv: string[], options: Partial<LocalOptions> = {}): Promise<LocalRun> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runLocal(
      argv,
      { out: (text) => out.push(text), err: (text) => err.push(text) },
      { root, stdio: "pipe", ...defaults, ...options },
    );
    return { code, out: out.join("\n"), err: err.join("\n"), output: [...out, ...err].join("\n") };
  };
  const localOk = async (argv: string[], options: Partial<LocalOptions> = {}) => {
    const run = await local(argv, options);
    if (run.code !== 0) throw new Error(`npm run local -- ${argv.join(" ")} exited ${run.code}:\n${run.output}`);
    return run;
  };
  const rest = async (method: string, target: string, body?: unknown) => {
    const run = await local(["rest", method, target, ...(body === undefined ? [] : ["--body", JSON.stringify(body)])]);
    return { code: run.code, body: run.out === "" ? {} : (JSON.parse(run.out) as Record<string, unknown>) };
  };
  const restOk = async (method: string, target: string, body?: unknown) => {
    const answer = await rest(method, target, body);
    if (answer.code !== 0) throw new Error(`${method} ${target} failed: ${JSON.stringify(answer.body)}`);
    return answer.body;
  };

  const started = async (port: string) => {
    await localOk(["start", "--port", port]);
    const running = runningTenant(localTenantPaths(root));
    if (!running) throw new Error("the tenant did not start");
    return running;
  };
  let running = await started("0");
  const port = new URL(running.endpoints.login).port;
  const session: LocalSession = {
    root,
    ca: fs.readFileSync(running.caFile, "utf8"),
    login: running.endpoints.login,
    tenantId: administrator(localTenantPaths(root)).tenantId,
    local,
    localOk,
    rest,
    restOk,
    async restartOn(day) {
      await localOk(["stop"]);
      process.env[todayVariable] = day;
      running = await started(port);
    },
    async close() {
      await local(["stop"]);
      fs.rmSync(root, { recursive: true, force: true });
      if (dayAtStart === undefined) delete process.env[todayVariable];
      else process.env[todayVariable] = dayAtStart;
    },
  };
  return session;
}

/** A client-credentials token from the tenant, or the tenant's refusal (its error code and description). */
export async function clientToken(
  session: LocalSession,
  client: { tokenEndpoint: string; clientId: string; clientSecret: string },
  scope: string,
): Promise<{ token: string } | { refused: string }> {
  const answer = await requestWithCa(client.tokenEndpoint, {
    method: "POST",
    ca: session.ca,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: client.clientId,
      client_secret: client.clientSecret,
      scope,
    }).toString(),
  });
  const body = JSON.parse(answer.text) as { access_token?: string; error?: string; error_description?: string };
  return body.access_token ? { token: body.access_token } : { refused: `${body.error}: ${body.error_description}` };
}

/** The status the local gateway answers a GET of the API's root with the bearer token. */
export async function callApi(session: LocalSession, url: string, token: string): Promise<number> {
  const answer = await requestWithCa(`${url}/`, { ca: session.ca, headers: { authorization: `Bearer ${token}` } });
  return answer.status;
}
