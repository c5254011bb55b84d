import { element, type XmlElementSpec } from "./xmlElement";

/** Calls one client may make to one API; an absent number is no limit. */
export interface CallLimits {
  /** rate-limit-by-key over a 60-second sliding window: APIM answers 429 with Retry-After beyond it. */
  callsPerMinute?: number;
  /** quota-by-key over a fixed day (UTC): APIM answers 403 with Retry-After beyond it. */
  callsPerDay?: number;
}

/** The calls the gateway lets each client make, counted per API and per client id of the validated token. */
export interface ClientLimits {
  /** Every client not listed in {@link ClientLimits.clients}. */
  everyClient: CallLimits;
  /** Clients with limits of their own, by client (application) id; each replaces `everyClient` for that client. */
  clients?: { clientId: string; limits: CallLimits }[];
}

/** The claim that names the calling client in the API's tokens: `azp` in v2, `appid` in v1 (entra/tokenProfile.ts). */
export type ClientIdClaim = "azp" | "appid";

/**
 * The token check's `output-token-variable-name`: the Jwt of a token that passed it (validate-jwt and
 * validate-azure-ad-token references). The limits read the client id from here, never from the request: a missing
 * or malformed token has failed the check with 401 before any limit runs, so no key expression can throw a 500.
 */
export const validatedTokenVariable = "validated-token";

// rate-limit-by-key: renewal-period at most 300 seconds; quota-by-key: at least 300 seconds, and neither its calls nor
// its renewal-period may be a policy expression (APIM policy reference, rate-limit-by-key and quota-by-key).
export const perMinuteSeconds = 60;
export const perDaySeconds = 86_400;
/** APIM documents no maximum for `calls`; this bound keeps every number a 32-bit integer. */
export const maxCalls = 2_147_483_647;

/** The validated token's client id, as a C# expression: fixed text for each of the two claims. */
function validatedClientId(claim: ClientIdClaim): string {
  return `((Jwt)context.Variables["${validatedTokenVariable}"]).Claims.GetValueOrDefault("${claim}", "")`;
}

/**
 * The counter key of every limit: the API's id with the validated client id. A counter is shared by every policy
 * with the same key in the whole service (quota-by-key usage notes), so the API's id keeps each API's count its own.
 */
export function counterKeyExpression(claim: ClientIdClaim): string {
  return `@(context.Api.Id + "|" + ${validatedClientId(claim)})`;
}

/**
 * The one condition that gives a client limits of its own: the validated client id equals a literal id. The id is
 * the only value that reaches an expression, and only as letters, digits and hyphens (a client id GUID), which can
 * neither end the string literal nor the expression.
 */
export function clientCondition(claim: ClientIdClaim, clientId: string): string {
  return `@(${validatedClientId(claim)} == "${clientId}")`;
}

/** Whether `limits` makes the policy count anything. */
export function hasClientLimits(limits: ClientLimits | undefined): limits is ClientLimits {
  return limits !== undefined && (limitCount(limits.everyClient) > 0 || (limits.clients ?? []).length > 0);
}

const clientIdPattern = /^[0-9A-Za-z-]{1,100}$/;

/**
 * The limit elements that follow the token check: rate-limit-by-key then quota-by-key for every client, or, with
 * clients of their own, a `<choose>` with one `<when>` per client (sorted by id) and the others' limits in
 * `<otherwise>`. Validates `limits` first.
 */
export function clientLimitElements(limits: ClientLimits | undefined, claim: ClientIdClaim): XmlElementSpec[] {
  if (limits === undefined) return [];
  const everyClient = limitElements(limits.everyClient, claim, "ClientLimits.everyClient");
  const clients = (limits.clients ?? []).map((client, index) => {
    const field = `ClientLimits.clients[${index}]`;
    if (typeof client.clientId !== "string" || !clientIdPattern.test(client.clientId)) {
      throw new Error(
        `${field}.clientId must be a client id (a GUID: letters, digits and hyphens), got ${JSON.stringify(client.clientId)}`,
      );
    }
    if (limitCount(client.limits) === 0) {
      throw new Error(`${field}.limits sets no limit; give callsPerMinute and/or callsPerDay`);
    }
    return {
      clientId: client.clientId.toLowerCase(),
      elements: limitElements(client.limits, claim, `${field}.limits`),
    };
  });
  if (clients.length === 0) return everyClient;
  const ids = clients.map((client) => client.clientId);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated !== undefined) throw new Error(`ClientLimits.clients lists the client id ${repeated} more than once`);
  clients.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
  return [
    element(
      "choose",
      [],
      [
        ...clients.map((client) =>
          element("when", [["condition", clientCondition(claim, client.clientId)]], client.elements),
        ),
        ...(everyClient.length > 0 ? [element("otherwise", [], everyClient)] : []),
      ],
    ),
  ];
}

function limitCount(limits: CallLimits | undefined): number {
  return [limits?.callsPerMinute, limits?.callsPerDay].filter((calls) => calls !== undefined).length;
}

function limitElements(limits: CallLimits, claim: ClientIdClaim, field: string): XmlElementSpec[] {
  const counterKey = counterKeyExpression(claim);
  const elements: XmlElementSpec[] = [];
  for (const [key, policy, period] of [
    ["callsPerMinute", "rate-limit-by-key", perMinuteSeconds],
    ["callsPerDay", "quota-by-key", perDaySeconds],
  ] as const) {
    const calls = limits[key];
    if (calls === undefined) continue;
    if (!Number.isInteger(calls) || calls < 1 || calls > maxCalls) {
      throw new Error(`${field}.${key} must be a whole number from 1 to ${maxCalls}, got ${JSON.stringify(calls)}`);
    }
    elements.push(
      element(policy, [
        ["calls", String(calls)],
        ["renewal-period", String(period)],
        ["counter-key", counterKey],
      ]),
    );
  }
  return elements;
}
