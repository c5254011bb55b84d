/** How the client proves itself: a client secret, or a client assertion (a JWT from a federated issuer). */
export type ClientProof =
  { clientSecret: string; clientAssertion?: never } | { clientAssertion: string; clientSecret?: never };

export type TokenRequest = {
  tokenEndpoint: string;
  clientId: string;
  /** `api://<api client id>/.default`: client credentials only accept the `.default` scope. */
  scope: string;
} & ClientProof;

/** RFC 7523's client assertion type, the only one Entra accepts. */
export const jwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export interface RetryNotice {
  /** The attempt about to be made (2 for the first retry). */
  attempt: number;
  maxAttempts: number;
  delayMs: number;
  code: number;
  /** {@link explainAadsts} of the failure being retried. */
  sentence: string;
}

export interface RequestTokenOptions {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onRetry?: (notice: RetryNotice) => void;
}

export interface AccessToken {
  accessToken: string;
  expiresIn: number;
}

/**
 * Codes Entra returns while a new app, service principal or credential is still replicating. 700211 and 700213
 * are what Entra now returns (instead of 70021) while a new federated credential's issuer or subject is unknown;
 * 501051 while a new admin consent (the client's app role assignment) is, as right after the `pulumi up` that granted
 * it. Like 7000215 it is also final (a client never granted): the retries then cost about a minute.
 */
export const replicationCodes: readonly number[] = [500011, 700016, 7000215, 70021, 700211, 700213, 501051];

/** A token request Entra (or the network) refused; the message never contains the secret or the assertion. */
export class TokenRequestError extends Error {
  constructor(
    message: string,
    readonly code?: number,
    readonly status?: number,
    readonly attempts = 1,
  ) {
    super(message);
    this.name = "TokenRequestError";
  }
}

const noFederatedMatch =
  "No federated identity credential on the app matches the assertion's issuer and subject: both must equal a credential's exactly (case-sensitive, no wildcards), with audience api://AzureADTokenExchange; a new credential takes a minute to replicate.";

const sentences: Record<number, string> = {
  500011:
    "The API (resource principal) was not found in the tenant: its service principal does not exist yet or has not replicated, or the scope names the wrong API or tenant.",
  700016:
    "The client application was not found in the tenant: it was just created and has not replicated yet, or the client id or tenant is wrong.",
  7000215:
    "The client secret is invalid: send the secret's value (not its id), check it has not expired or been replaced, and allow a new secret a minute to replicate.",
  7000218: "The request carried no client credential: give the client secret (CLIENT_SECRET) or a client assertion.",
  70021: noFederatedMatch,
  700213: noFederatedMatch,
  700211:
    "No federated identity credential on the app has the assertion's issuer: a credential's issuer must equal the token's iss exactly (case-sensitive, trailing slash included); a new credential takes a minute to replicate.",
  700212:
    "The assertion's audience is not the federated identity credential's: request the token from its issuer for the audience api://AzureADTokenExchange.",
  7002138:
    "The assertion's subject matches a federated identity credential only when case is ignored: Entra compares subjects case-sensitively, so give the credential the exact subject the issuer sends.",
  700024:
    "The client assertion is not within its valid time range: it has expired or is not valid yet; get a fresh token from its issuer (federated tokens live minutes) and check the clock.",
  7000272:
    "The key that signed the client assertion is not among its issuer's published keys: the token was not issued by the federated credential's issuer.",
  501051:
    "The client is not assigned a role on the API: the API requires assignment and the client was not granted its application permission (no app role assignment / admin consent), or the grant was just made and has not replicated yet.",
  1002012:
    "The scope is not valid for client credentials: it must be the API's identifier URI followed by /.default, e.g. api://<api client id>/.default.",
  90002: "The tenant was not found: check the tenant id, and that the authority host is the cloud the tenant lives in.",
  700027:
    "The client assertion's signature is invalid: the certificate or key that signed it is not registered on the app, nor published by its federated credential's issuer.",
  50049: "The authority is unknown or invalid: check the authority host (e.g. https://login.microsoftonline.com).",
  65001:
    "The client has no admin consent for the API's delegated scope: grant the API to this user-facing client (clients[].apis) so the program records the tenant-wide consent.",
  50011:
    "The redirect URI is not registered on the client: add it to clients[].redirectUris (for loopback URIs Entra ignores the port).",
  70000: "The authorization code or device code is invalid, expired or already used: sign in again.",
  50105:
    "The signed-in user is not assigned to the API: its service principal requires assignment, so list the user's or one of their groups' object id in the API's apis[].assignedPrincipals.",
};

/** One plain sentence for an Entra error code, else Entra's own description without its trace lines. */
export function explainAadsts(code: number | undefined, description: string | undefined): string {
  const known = code === undefined ? undefined : sentences[code];
  if (known) return known;
  const text = (description ?? "")
    .replace(/^AADSTS\d+:\s*/, "")
    .replace(/\s*(Trace ID|Correlation ID|Timestamp):.*$/s, "")
    .trim();
  return text === "" ? "Entra ID refused the token request without a description." : text;
}

/** Entra's error code: `error_codes[0]`, else the AADSTS number in the description. */
export function aadstsCodeOf(body: Record<string, unknown>): number | undefined {
  const codes = body.error_codes;
  if (Array.isArray(codes) && typeof codes[0] === "number") return codes[0];
  const match = typeof body.error_description === "string" ? /AADSTS(\d+)/.exec(body.error_description) : null;
  return match?.[1] ? Number(match[1]) : undefined;
}

/** Backoff before attempt `attempt + 1`: base·2^(attempt-1), capped, no jitter. */
export function retryDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.min(baseDelayMs * 2 ** (attempt - 1), maxDelayMs);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A client-credentials token request. Retries with bounded backoff only while Entra is still replicating
 * new objects; every other failure is final at once.
 */
export async function requestToken(request: TokenRequest, options: RequestTokenOptions = {}): Promise<AccessToken> {
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? defaultSleep;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 6);
  const baseDelayMs = options.baseDelayMs ?? 2000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;

  for (let attempt = 1; ; attempt += 1) {
    const outcome = await attemptToken(request, doFetch);
    if ("accessToken" in outcome) return outcome;
    const retryable = outcome.code !== undefined && replicationCodes.includes(outcome.code);
    if (!retryable || attempt >= maxAttempts) {
      const suffix = retryable ? `; gave up after ${attempt} attempts` : "";
      throw new TokenRequestError(
        `${outcome.sentence} (${outcome.label}${suffix})`,
        outcome.code,
        outcome.status,
        attempt,
      );
    }
    const delayMs = retryDelayMs(attempt, baseDelayMs, maxDelayMs);
    options.onRetry?.({
      attempt: attempt + 1,
      maxAttempts,
      delayMs,
      code: outcome.code as number,
      sentence: outcome.sentence,
    });
    await sleep(delayMs);
  }
}

interface Failure {
  code?: number;
  status?: number;
  sentence: string;
  /** `AADSTS<code>`, or what else identifies the failure. */
  label: string;
}

async function attemptToken(request: TokenRequest, doFetch: typeof fetch): Promise<AccessToken | Failure> {
  const proof: Record<string, string> =
    request.clientAssertion !== undefined
      ? { client_assertion_type: jwtBearerAssertionType, client_assertion: request.clientAssertion }
      : { client_secret: request.clientSecret };
  const body = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: request.clientId,
    ...proof,
    scope: request.scope,
  });
  let response: Response;
  try {
    response = await doFetch(request.tokenEndpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body,
      redirect: "error",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    const reason = error instanceof Error ? `${error.message}${cause}` : String(error);
    return { sentence: `The token endpoint ${request.tokenEndpoint} could not be reached.`, label: reason };
  }
  let json: Record<string, unknown>;
  try {
    json = (await response.json()) as Record<string, unknown>;
  } catch {
    return {
      status: response.status,
      sentence: `The token endpoint ${request.tokenEndpoint} did not answer with JSON.`,
      label: `HTTP ${response.status}`,
    };
  }
  if (response.ok && typeof json.access_token === "string") {
    return { accessToken: json.access_token, expiresIn: Number(json.expires_in ?? 0) };
  }
  const code = aadstsCodeOf(json);
  const description = typeof json.error_description === "string" ? json.error_description : undefined;
  const error = typeof json.error === "string" ? json.error : undefined;
  return {
    code,
    status: response.status,
    sentence: explainAadsts(code, description ?? error),
    label: code === undefined ? `HTTP ${response.status}${error ? ` ${error}` : ""}` : `AADSTS${code}`,
  };
}
