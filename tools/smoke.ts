import { decodeJwt, type JWTPayload } from "jose";
import { type TokenProfile, tokenProfile } from "../entra/tokenProfile";
import { requestToken } from "./sign-in/clientCredentials";
import { insecureUrlFault } from "../entra/loopback";
import {
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
import { errorText, parseOrAnswer, runIfMain, UsageError } from "./cli";

export type SmokeIo = TokenIo;

export const usage = `usage: smoke [--stack <stack> | --outputs <file>] [--client <name>] [--api <name>] [--api-url <url>]
             [--tenant <id>] [--client-id <id>] [--scope <scope>] [--authority <url>]
             [--client-assertion-file <path>]

Checks a deployed API end to end: gets a client-credentials token (with a secret, or with a client
assertion for a federated client), checks its ver, aud, iss, client id and roles claims against the API's
token version, then calls <api url>/ without a token (expect 401), with a tampered token (expect 401) and
with the token (expect neither 401 nor 403).
--api-url replaces the API's URL from the outputs (e.g. a custom domain).
${valueHelp}
Exit status: 0 every check passed, 1 a check failed, 2 usage or input error.`;

const options = { ...tokenValueOptions, "api-url": { type: "string" } } as const;

export type SmokeResult = "pass" | "FAIL" | "SKIP";

export interface SmokeRow {
  check: string;
  expected: string;
  actual: string;
  result: SmokeResult;
}

/** The smoke CLI without process globals: returns the exit status. */
export async function runSmoke(argv: string[], io: SmokeIo): Promise<number> {
  const values = parseOrAnswer(argv, options, io, usage);
  if (typeof values === "number") return values;
  let resolved: ResolvedTokenRequest;
  let apiUrl: string;
  try {
    resolved = await resolveTokenRequest(values as TokenValues, io.env, io.exec, { needApi: true });
    apiUrl = checkedApiUrl(values["api-url"] ?? (resolved.stack?.api?.url as string));
  } catch (error) {
    return usageFailure(error, io, usage);
  }
  const stack = resolved.stack as Required<StackSelection>;
  const kind = stack.client.kind ?? "daemon";
  if (kind !== "daemon") {
    // A spa's code is redeemed only by the browser (cross-origin), so only web and native clients have a CLI flow.
    const getIt =
      kind === "spa"
        ? "get a user's token from the single-page app"
        : `get the user's token with npm run token -- --stack <s> --client ${stack.clientName} ${kind === "native" ? "--device-code" : "--auth-code"}`;
    const fault = new UsageError(
      `client ${stack.clientName} is a ${kind} client: its tokens are a signed-in user's, which smoke cannot get unattended; smoke checks the app-only path, so pass a daemon client with --client, or ${getIt} and judge it with npm run explain`,
    );
    return usageFailure(fault, io, usage);
  }
  const profile = tokenProfile({
    authorityHost: resolved.authorityHost,
    tenantId: resolved.tenantId,
    apiClientId: stack.api.clientId,
    tokenVersion: stack.api.tokenVersion,
  });
  io.out(`smoke: client ${stack.clientName} → API ${stack.apiName} (v${profile.tokenVersion} tokens) at ${apiUrl}/`);
  const rows = await smokeChecks(resolved, stack.api.appRole, profile, apiUrl, io);
  io.out(formatTable(rows));
  const passed = rows.filter((row) => row.result === "pass").length;
  io.out(`${passed} of ${rows.length} checks passed`);
  return passed === rows.length ? 0 : 1;
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
    const actual = answer.status === undefined ? answer.detail : `${answer.status}${ok ? "" : answer.detail}`;
    rows.push({ check: call.check, expected: call.expected, actual, result: verdict(ok) });
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

async function callApi(
  doFetch: typeof fetch,
  apiUrl: string,
  token: string | undefined,
): Promise<{ status?: number; detail: string }> {
  try {
    const response = await doFetch(`${apiUrl}/`, {
      method: "GET",
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      redirect: "manual",
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await response.text()).slice(0, 2000);
    let message = "";
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === "string") message = ` (${parsed.message})`;
    } catch {
      // not JSON: the status alone says enough
    }
    return { status: response.status, detail: message };
  } catch (error) {
    return { detail: `no answer: ${errorText(error)}` };
  }
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
