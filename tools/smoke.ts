import { decodeJwt, type JWTPayload } from "jose";
import { type TokenProfile, tokenProfile } from "../entra/tokenProfile";
import { requestToken } from "./sign-in/clientCredentials";
import { insecureUrlFault } from "../entra/loopback";
import {
  assertionSources,
  managedIdentityWithoutToken,
  readClientAssertion,
  type ResolvedTokenRequest,
  resolveTokenRequest,
  retryLine,
  type StackSelection,
  type TokenIo,
  type TokenValues,
  tokenValueOptions,
  usageFailure,
  valueHelp,
} from "./token";
import {
  chooseApi,
  chooseClient,
  defaultExec,
  type Exec,
  readStackOutputs,
  type StackClientOutputs,
  type StackOutputs,
} from "./sign-in/stackOutputs";
import { callApi, checksWithoutToken, shownAnswer, type SmokeRow, type WithoutTokenIo } from "./gateway/withoutToken";
import { errorText, parseOrAnswer, runIfMain, UsageError } from "./cli";

export type { SmokeRow } from "./gateway/withoutToken";

export interface SmokeIo extends TokenIo, WithoutTokenIo {
  /** Gets each table of checks once they ran (one per API checked); drift lists the failed ones. */
  report?(rows: SmokeRow[]): void;
}

export const usage = `usage: smoke [--stack <stack> | --outputs <file>] [--client <name>] [--api <name>] [--api-url <url>]
             [--tenant <id>] [--client-id <id>] [--scope <scope>] [--authority <url>]
             [--client-assertion-file <path>]

Checks a deployed API end to end: gets a client-credentials token (with a secret, or with a client
assertion for a federated client), checks its ver, aud, iss, client id and roles claims against the API's
token version, then calls <api url>/ without a token (expect 401), with a tampered token (expect 401) and
with the token (expect neither 401 nor 403).
A client that cannot get a token here — a user-facing (web, spa, native) client, or a federated one with no
client assertion given — is not a failure: smoke says so and checks what needs no token instead: the
metadata the policy trusts (its issuer, its signing keys), and that the gateway refuses a request without a
token and a token with every required claim but a signature of smoke's own. Without --client, a stack whose
clients are all user-facing gets those checks for each of its APIs.
--api-url replaces the API's URL from the outputs (e.g. a custom domain).
${valueHelp}
Exit status: 0 every check passed, 1 a check failed, 2 usage or input error.`;

const options = { ...tokenValueOptions, "api-url": { type: "string" } } as const;

export type SmokeResult = SmokeRow["result"];

const userFacing = (client: StackClientOutputs) => !["daemon", "managedIdentity"].includes(client.kind ?? "daemon");

/** The smoke CLI without process globals: returns the exit status. */
export async function runSmoke(argv: string[], io: SmokeIo): Promise<number> {
  const values = parseOrAnswer(argv, options, io, usage);
  if (typeof values === "number") return values;
  const exec = onceEach(io.exec ?? defaultExec);
  let resolved: ResolvedTokenRequest;
  let apiUrl: string;
  try {
    const outputs = await readStackOutputs({ stack: values.stack, outputsFile: values.outputs }, exec);
    const withoutToken = await tokenUnavailable(outputs, values as TokenValues, io.env);
    if (withoutToken) return await smokeWithoutToken(withoutToken, values["api-url"], io);
    resolved = await resolveTokenRequest(values as TokenValues, io.env, exec, { needApi: true });
    apiUrl = checkedApiUrl(values["api-url"] ?? (resolved.stack?.api?.url as string));
  } catch (error) {
    return usageFailure(error, io, usage);
  }
  const stack = resolved.stack as Required<StackSelection>;
  const profile = tokenProfile({
    authorityHost: resolved.authorityHost,
    tenantId: resolved.tenantId,
    apiClientId: stack.api.clientId,
    tokenVersion: stack.api.tokenVersion,
  });
  io.out(`smoke: client ${stack.clientName} → API ${stack.apiName} (v${profile.tokenVersion} tokens) at ${apiUrl}/`);
  const rows = await smokeChecks(resolved, stack.api.appRole, profile, apiUrl, io);
  io.report?.(rows);
  io.out(formatTable(rows));
  const passed = rows.filter((row) => row.result === "pass").length;
  io.out(`${passed} of ${rows.length} checks passed`);
  return passed === rows.length ? 0 : 1;
}

/** Why no token can be had here, and the APIs to check without one. */
interface WithoutToken {
  reason: string;
  apis: { name: string; url: string; policy: string }[];
}

/**
 * Undefined when the chosen client can get a token here; otherwise why not and which APIs to check without one: a
 * user-facing client (a signed-in user's token, which needs a person), a federated client without an assertion, or,
 * without --client, a stack whose clients are all user-facing.
 */
async function tokenUnavailable(
  outputs: StackOutputs,
  values: TokenValues,
  env: Record<string, string | undefined>,
): Promise<WithoutToken | undefined> {
  // chooseApi names the stack's APIs when one is unknown; with --api it takes any API, granted or not.
  const checked = (client: string, api?: string) => {
    const chosen = chooseApi(outputs, client, api);
    return { name: chosen.name, url: chosen.api.url, policy: chosen.api.policy };
  };
  const clients = Object.entries(outputs.clients);
  if (values.client === undefined && clients.length > 1 && clients.every(([, client]) => userFacing(client))) {
    return {
      reason: `every client of the stack is user-facing (${clients.map(([name, c]) => `${name}: ${c.kind}`).join(", ")}): their tokens are a signed-in user's, which smoke cannot get unattended; get one with npm run token -- --client <name> --auth-code (or --device-code) and judge it with npm run explain`,
      apis: (values.api ? [values.api] : Object.keys(outputs.apis)).map((api) => checked("", api)),
    };
  }
  const { name, client } = chooseClient(outputs, values.client);
  if (client.kind === "managedIdentity") {
    return { reason: managedIdentityWithoutToken(name), apis: [checked(name, values.api)] };
  }
  if (userFacing(client)) {
    const getIt =
      client.kind === "spa"
        ? "get a user's token from the single-page app"
        : `get the user's token with npm run token -- --client ${name} ${client.kind === "native" ? "--device-code" : "--auth-code"}`;
    return {
      reason: `client ${name} is a ${client.kind} client: its tokens are a signed-in user's, which smoke cannot get unattended; ${getIt} and judge it with npm run explain`,
      apis: [checked(name, values.api)],
    };
  }
  const givenSecret = (values["client-secret"] ?? env.CLIENT_SECRET ?? "").trim() !== "";
  if (client.credential === "federated" && !givenSecret && (await readClientAssertion(values, env)) === undefined) {
    return {
      reason: `client ${name} signs in with a federated credential and no client assertion was given (${assertionSources}), so it gets no token here`,
      apis: [checked(name, values.api)],
    };
  }
  return undefined;
}

async function smokeWithoutToken(plan: WithoutToken, apiUrlFlag: string | undefined, io: SmokeIo): Promise<number> {
  if (apiUrlFlag !== undefined && plan.apis.length !== 1) {
    throw new UsageError("--api-url replaces one API's URL: name the API with --api");
  }
  io.out(`smoke: ${plan.reason}.`);
  io.out("smoke: checking without a token; the token path (Entra issuing a token the gateway accepts) is not checked.");
  let passed = 0;
  let total = 0;
  for (const api of plan.apis) {
    const url = checkedApiUrl(apiUrlFlag ?? api.url);
    io.out(`smoke: API ${api.name} at ${url}/`);
    const rows = await checksWithoutToken(api.policy, url, io);
    io.report?.(rows);
    io.out(formatTable(rows));
    passed += rows.filter((row) => row.result === "pass").length;
    total += rows.length;
  }
  io.out(`${passed} of ${total} checks passed, without a token`);
  return passed === total ? 0 : 1;
}

/** Runs each distinct command once: the outputs are read to decide, then again to resolve the token request. */
function onceEach(exec: Exec): Exec {
  const runs = new Map<string, ReturnType<Exec>>();
  return (file, args) => {
    const key = JSON.stringify([file, args]);
    if (!runs.has(key)) runs.set(key, exec(file, args));
    return runs.get(key) as ReturnType<Exec>;
  };
}

async function smokeChecks(
  resolved: ResolvedTokenRequest,
  appRole: string,
  profile: TokenProfile,
  apiUrl: string,
  io: SmokeIo,
): Promise<SmokeRow[]> {
  const claimChecks: { check: string; expected: string; actual: (claims: JWTPayload) => string; ok?: boolean }[] = [
    { check: "token ver", expected: profile.ver, actual: (claims) => text(claims.ver) },
    { check: "token aud", expected: profile.audience, actual: (claims) => text(claims.aud) },
    { check: "token iss", expected: profile.issuer, actual: (claims) => text(claims.iss) },
    {
      check: `token ${profile.clientIdClaim}`,
      expected: resolved.request.clientId,
      actual: (claims) => text(claims[profile.clientIdClaim]),
    },
  ];
  const rolesExpected = `contains ${appRole}`;
  const calls = [
    { check: "GET without token", expected: "401" },
    { check: "GET with tampered token", expected: "401" },
    { check: "GET with token", expected: "not 401/403" },
  ];

  let accessToken: string;
  let expiresIn: number;
  try {
    ({ accessToken, expiresIn } = await requestToken(resolved.request, {
      fetch: io.fetch,
      sleep: io.sleep,
      onRetry: (notice) => io.err(retryLine(notice)),
    }));
  } catch (error) {
    const skipped = (check: string, expected: string): SmokeRow => ({
      check,
      expected,
      actual: "skipped: no token",
      result: "SKIP",
    });
    return [
      { check: "token issued", expected: "access token", actual: errorText(error), result: "FAIL" },
      ...claimChecks.map((row) => skipped(row.check, row.expected)),
      skipped("token roles", rolesExpected),
      ...calls.map((row) => skipped(row.check, row.expected)),
    ];
  }

  const rows: SmokeRow[] = [
    { check: "token issued", expected: "access token", actual: `issued, expires in ${expiresIn} s`, result: "pass" },
  ];
  let claims: JWTPayload | undefined;
  try {
    claims = decodeJwt(accessToken);
  } catch {
    claims = undefined;
  }
  for (const row of claimChecks) {
    const actual = claims ? row.actual(claims) : "not a JWT";
    rows.push({ check: row.check, expected: row.expected, actual, result: verdict(actual === row.expected) });
  }
  const roles = Array.isArray(claims?.roles) ? claims.roles.map(String) : [];
  rows.push({
    check: "token roles",
    expected: rolesExpected,
    actual: roles.length > 0 ? roles.join(", ") : "(no roles claim)",
    result: verdict(roles.includes(appRole)),
  });

  const doFetch = io.fetch ?? fetch;
  const tokens = [undefined, tamper(accessToken), accessToken];
  for (const [index, call] of calls.entries()) {
    const answer = await callApi(doFetch, apiUrl, tokens[index]);
    const ok =
      answer.status === undefined
        ? false
        : index < 2
          ? answer.status === 401
          : answer.status !== 401 && answer.status !== 403;
    rows.push({ check: call.check, expected: call.expected, actual: shownAnswer(answer, ok), result: verdict(ok) });
  }
  return rows;
}

/** Changes one character in the middle of the signature segment; the last one may only hold padding bits. */
export function tamper(token: string): string {
  const [header, payload, signature = ""] = token.split(".");
  const at = Math.floor(signature.length / 2);
  const replacement = signature[at] === "A" ? "B" : "A";
  return `${header}.${payload}.${signature.slice(0, at)}${replacement}${signature.slice(at + 1)}`;
}

function checkedApiUrl(value: string): string {
  switch (insecureUrlFault(value)) {
    case "not-a-url":
      throw new UsageError(`API URL ${value} is not a URL`);
    case "not-https":
      throw new UsageError(`API URL ${value} must be https:// (http:// only on a loopback host)`);
  }
  return value.replace(/\/+$/, "");
}

/** Plain text, columns aligned. */
export function formatTable(rows: SmokeRow[]): string {
  const header: SmokeRow = { check: "check", expected: "expected", actual: "actual", result: "result" as SmokeResult };
  const columns = ["check", "expected", "actual", "result"] as const;
  const widths = columns.map((column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  const line = (row: SmokeRow) =>
    columns
      .map((column, index) => (index === columns.length - 1 ? row[column] : row[column].padEnd(widths[index] ?? 0)))
      .join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

const verdict = (ok: boolean): SmokeResult => (ok ? "pass" : "FAIL");

function text(value: unknown): string {
  if (value === undefined) return "(absent)";
  return Array.isArray(value) ? value.map(String).join(", ") : String(value);
}

runIfMain(module, (argv, io) => runSmoke(argv, { ...io, env: process.env }), 2);
