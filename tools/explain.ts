import { readFile } from "node:fs/promises";
import type { JSONWebKeySet, JWTPayload } from "jose";
import { challengeFor } from "./gateway/challenge";
import { evaluateToken } from "./gateway/evaluateToken";
import { loadDocument, openIdConfigUrlsOf, type SigningMaterial } from "./gateway/keys";
import { describeLimits } from "./gateway/limits";
import { readClientLimits } from "../policies/readClientLimits";
import { readTokenChallenge } from "../policies/readTokenChallenge";
import { challengeHeader } from "../policies/tokenChallenge";
import { readTokenCheck } from "../policies/readTokenCheck";
import { type Exec, pulumiMissingMessage, readStackOutputs } from "./sign-in/stackOutputs";
import { type CliIo, parseOrAnswer, type parseToolArgs, reportInputError, runIfMain, UsageError } from "./cli";

export interface ExplainIo extends CliIo {
  resolveStackPolicy?(stack: string, api: string): Promise<string>;
  /** Loads the openid-config and JWKS documents the policy names; default: https fetch. */
  fetchDocument?(url: string): Promise<unknown>;
}

export const usage = `usage: explain (--policy <file> | --plan <plan.json> --api <name> | --stack <stack> --api <name>)
               --token <jwt|@file> [--openid-config <file|url>] [--jwks <file|url>] [--now <iso-8601>]

Says whether the API's token check (validate-jwt or validate-azure-ad-token) accepts the token, and
if not, which check fails and why, then (when the cause has one) the fix and the WWW-Authenticate
header the gateway answers with; if so, the calls per minute and per day the policy allows the token's
client. The policy comes from a file, from the JSON of \`npm run plan -- --json <plan.json>\`, or from
a deployed stack's outputs. --jwks (the keys) replaces the documents the policy would fetch, for offline
use; add --openid-config when the policy takes its issuers from the metadata. Exit status: 0 accepted,
1 rejected, 2 usage or input error, or the keys could not be loaded (the token was not judged).`;

const options = {
  policy: { type: "string" },
  plan: { type: "string" },
  stack: { type: "string" },
  api: { type: "string" },
  token: { type: "string" },
  "openid-config": { type: "string" },
  jwks: { type: "string" },
  now: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The explain CLI without process globals: returns the exit status. */
export async function runExplain(argv: string[], io: ExplainIo): Promise<number> {
  try {
    return await explain(argv, io);
  } catch (error) {
    return reportInputError(io, error, usage);
  }
}

async function explain(argv: string[], io: ExplainIo): Promise<number> {
  const args = parseOrAnswer(argv, options, io, usage);
  if (typeof args === "number") return args;
  if (args.token === undefined) throw new UsageError("--token is required");
  const now = args.now === undefined ? new Date() : parseNow(args.now);
  const policyXml = await readPolicy(args, io);
  const spec = readTokenCheck(policyXml);
  const rawToken = (await readTokenArgument(args.token)).trim();
  const keys: SigningMaterial = {};
  if (args["openid-config"] !== undefined) {
    const document = await readJsonArgument(args["openid-config"], "--openid-config");
    keys.openIdConfigs = Object.fromEntries(openIdConfigUrlsOf(spec).map((url) => [url, document]));
  }
  if (args.jwks !== undefined) keys.jwks = (await readJsonArgument(args.jwks, "--jwks")) as JSONWebKeySet;
  const verdict = await evaluateToken({
    spec,
    ...(/^\S+\s+\S+$/.test(rawToken) ? { authorizationHeader: rawToken } : { token: rawToken }),
    now,
    keys,
    ...(io.fetchDocument ? { fetchDocument: io.fetchDocument } : {}),
  });
  if (!verdict.accepted && verdict.keysUnavailable) {
    io.err(
      `error: the token was not judged: ${verdict.reason}. Offline or behind a proxy, pass the keys with --jwks <file> (and the metadata with --openid-config <file> when the policy takes its issuers from it).`,
    );
    return 2;
  }
  if (!verdict.accepted) {
    const challenge = evaluated(() => challengeFor(readTokenChallenge(policyXml), verdict.check));
    io.out(
      [
        `REJECT: ${verdict.check}: ${verdict.reason}`,
        ...(verdict.fix ? [`  fix: ${verdict.fix}`] : []),
        ...(challenge === undefined ? [] : [`  ${challengeHeader}: ${challenge}`]),
      ].join("\n"),
    );
    return 1;
  }
  const limits = evaluated(() => {
    const spec = readClientLimits(policyXml);
    return spec && describeLimits(spec, verdict.claims);
  });
  io.out(
    [
      "ACCEPT",
      ...(verdict.notes ?? []).map((note) => `  note: ${note}`),
      ...describeClaims(verdict.claims),
      ...(limits === undefined ? [] : [`  limits: ${limits}`]),
    ].join("\n"),
  );
  return 0;
}

/** What a reader of the policy's other parts says, or why it could not say it: the verdict stands either way. */
function evaluated(read: () => string | undefined): string | undefined {
  try {
    return read();
  } catch (error) {
    return `not evaluated: ${(error as Error).message}`;
  }
}

type ExplainArgs = ReturnType<typeof parseToolArgs<typeof options>>;

async function readPolicy(args: ExplainArgs, io: ExplainIo): Promise<string> {
  const sources = [args.policy, args.plan, args.stack].filter((source) => source !== undefined);
  if (sources.length > 1) throw new UsageError("give one of --policy, --plan with --api, or --stack with --api");
  if (args.policy !== undefined) {
    if (args.api !== undefined) throw new UsageError("--api goes with --plan or --stack, not --policy");
    return readText(args.policy, "--policy");
  }
  if (sources.length === 0 && args.api === undefined) {
    throw new UsageError("--policy, --plan with --api, or --stack with --api is required");
  }
  if (args.api === undefined)
    throw new UsageError(`${args.plan !== undefined ? "--plan" : "--stack"} needs --api <name>`);
  if (args.plan !== undefined) return planPolicy(args.plan, args.api);
  if (args.stack === undefined) throw new UsageError("--api needs --plan <plan.json> or --stack <stack>");
  if (!io.resolveStackPolicy) {
    throw new UsageError(
      "--stack/--api cannot be resolved here (no stack policy resolver is wired in); use --plan <plan.json> --api <name> or --policy <file>",
    );
  }
  return io.resolveStackPolicy(args.stack, args.api);
}

/** An API's policy from the JSON that `npm run plan -- --json <file>` writes (`policies.<api>`). */
async function planPolicy(file: string, api: string): Promise<string> {
  let plan: unknown;
  try {
    plan = JSON.parse(await readText(file, "--plan"));
  } catch (error) {
    if (error instanceof SyntaxError) throw new Error(`--plan ${file} is not JSON`, { cause: error });
    throw error;
  }
  const policies = (plan as { policies?: unknown } | null)?.policies;
  if (!policies || typeof policies !== "object") {
    throw new Error(`--plan ${file} has no policies; write it with  npm run plan -- --json ${file}`);
  }
  const policy = (policies as Record<string, unknown>)[api];
  if (typeof policy !== "string") {
    throw new Error(`--plan ${file} has no API "${api}"; its APIs: ${Object.keys(policies).join(", ") || "none"}`);
  }
  return policy;
}

function parseNow(text: string): Date {
  const now = new Date(text);
  if (Number.isNaN(now.getTime())) throw new UsageError(`--now ${text} is not an ISO-8601 date and time`);
  return now;
}

async function readTokenArgument(value: string): Promise<string> {
  return value.startsWith("@") ? readText(value.slice(1), "--token") : value;
}

async function readJsonArgument(value: string, option: string): Promise<unknown> {
  if (/^https?:\/\//i.test(value)) return loadDocument(value);
  const text = await readText(value, option);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${option} ${value} is not JSON`);
  }
}

async function readText(path: string, option: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new Error(`${option} ${path} cannot be read (${code})`, { cause: error });
  }
}

function describeClaims(claims: JWTPayload): string[] {
  // idtyp and oid name the caller: "app" and its service principal for a daemon's or a managed identity's token.
  const shown = ["iss", "aud", "azp", "appid", "idtyp", "oid", "roles", "scp", "ver", "tid", "sub"];
  const lines = shown
    .filter((name) => claims[name] !== undefined)
    .map((name) => {
      const value = claims[name];
      return `  ${name}: ${Array.isArray(value) ? value.join(", ") : String(value)}`;
    });
  for (const name of ["nbf", "exp"] as const) {
    const value = claims[name];
    if (typeof value === "number") lines.push(`  ${name}: ${new Date(value * 1000).toISOString()}`);
  }
  return lines;
}

/** `--stack/--api`: the policy the deployed stack exports (`apis.<api>.policy`), read with the pulumi CLI. */
export function stackPolicyResolver(exec?: Exec): (stack: string, api: string) => Promise<string> {
  return async (stack, api) => {
    const outputs = await readStackOutputs({ stack }, exec).catch((error: unknown) => {
      if (error instanceof Error && error.message === pulumiMissingMessage) {
        throw new Error(
          "the pulumi CLI was not found on PATH: install it (https://www.pulumi.com/docs/install/), or read the policy offline with --plan <plan.json> --api <name> (write the file with  npm run plan -- --stack <stack> --json <plan.json>) or --policy <file>",
          { cause: error },
        );
      }
      throw error;
    });
    const entry = outputs.apis[api];
    if (!entry) {
      throw new Error(
        `stack ${stack} has no API "${api}"; its APIs: ${Object.keys(outputs.apis).join(", ") || "none"}`,
      );
    }
    return entry.policy;
  };
}

runIfMain(module, (argv, io) => runExplain(argv, { ...io, resolveStackPolicy: stackPolicyResolver() }), 2);
