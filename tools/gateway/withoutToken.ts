import { generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { readTokenCheck, type RequiredClaim, type TokenCheckSpec } from "../../policies/readTokenCheck";
import { loadDocument, loadKeyMaterial } from "./keys";

/** One line of smoke's table. */
export interface SmokeRow {
  check: string;
  expected: string;
  actual: string;
  result: "pass" | "FAIL" | "SKIP";
}

export interface WithoutTokenIo {
  fetch?: typeof fetch;
  /** Loads the openid-config and JWKS documents the policy names; default: https fetch. */
  fetchDocument?(url: string): Promise<unknown>;
}

/**
 * What smoke can prove about a deployed API without any client's token: the identity metadata the deployed policy
 * trusts is published and names the issuer the policy pins, with signing keys; and the gateway answers the policy's
 * status to a request without a token and to a token that carries every claim the policy requires but is signed
 * by a key of smoke's own. Not proven: that Entra issues a token the gateway accepts (that needs a client's token).
 */
export async function checksWithoutToken(policyXml: string, apiUrl: string, io: WithoutTokenIo): Promise<SmokeRow[]> {
  let spec: TokenCheckSpec;
  try {
    spec = readTokenCheck(policyXml);
  } catch (error) {
    return [{ check: "policy", expected: "one token check", actual: (error as Error).message, result: "FAIL" }];
  }
  const refused = String(spec.failedValidationHttpCode);
  const rows: SmokeRow[] = [];
  let metadataIssuers: string[] = [];
  try {
    const material = await loadKeyMaterial({ spec, keys: {}, fetchDocument: io.fetchDocument ?? loadDocument }, true);
    metadataIssuers = material.metadataIssuers;
    rows.push(issuerRow(spec, metadataIssuers));
    const signing = material.keys.filter((key) => key.kty === "RSA" && (key.use === undefined || key.use === "sig"));
    rows.push({
      check: "metadata signing keys",
      expected: "at least 1",
      actual: `${signing.length} from ${material.sources.join(", ") || "nowhere"}`,
      result: signing.length > 0 ? "pass" : "FAIL",
    });
  } catch (error) {
    rows.push({ check: "metadata", expected: "published", actual: (error as Error).message, result: "FAIL" });
  }
  const doFetch = io.fetch ?? fetch;
  const forged = await forgedToken(spec, metadataIssuers);
  for (const [check, token] of [
    ["GET without token", undefined],
    ["GET with forged token", forged],
  ] as const) {
    const answer = await callApi(doFetch, apiUrl, token);
    const ok = String(answer.status) === refused;
    rows.push({ check, expected: refused, actual: shownAnswer(answer, ok), result: ok ? "pass" : "FAIL" });
  }
  return rows;
}

function issuerRow(spec: TokenCheckSpec, metadataIssuers: string[]): SmokeRow {
  const pinned = spec.kind === "validate-jwt" ? spec.issuers : [];
  const actual = metadataIssuers.join(", ") || "(no issuer published)";
  if (pinned.length === 0) {
    return {
      check: "metadata issuer",
      expected: "published (the policy trusts it)",
      actual,
      result: metadataIssuers.length > 0 ? "pass" : "FAIL",
    };
  }
  const ok = metadataIssuers.length > 0 && metadataIssuers.every((issuer) => pinned.includes(issuer));
  return { check: "metadata issuer", expected: pinned.join(" or "), actual, result: ok ? "pass" : "FAIL" };
}

/** A token the policy would accept but for its signature: its audience, issuer and required claims, a key of ours. */
async function forgedToken(spec: TokenCheckSpec, metadataIssuers: string[]): Promise<string> {
  const claims: JWTPayload = {};
  const required = [...spec.requiredClaims, ...(spec.callerChoice?.applications ?? [])];
  for (const claim of required) claims[claim.name] = claimValue(claim);
  const issuer = (spec.kind === "validate-jwt" ? spec.issuers[0] : undefined) ?? metadataIssuers[0];
  const { privateKey } = await generateKeyPair("RS256");
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: "smoke-forged" })
    .setIssuedAt()
    .setNotBefore("0s")
    .setExpirationTime("5m");
  if (spec.audiences[0]) jwt.setAudience(spec.audiences[0]);
  if (issuer) jwt.setIssuer(issuer);
  return jwt.sign(privateKey);
}

function claimValue(claim: RequiredClaim): string | string[] {
  const values = claim.match === "any" ? claim.values.slice(0, 1) : claim.values;
  if (claim.separator !== undefined) return values.join(claim.separator);
  return claim.name === "roles" || values.length > 1 ? values : (values[0] ?? "");
}

interface Answer {
  status?: number;
  /** The gateway's message, or why there was no answer. */
  detail: string;
  /** The WWW-Authenticate header, which tells a refused client why (RFC 6750 §3). */
  challenge?: string;
}

/** What a row shows of an answer: its status and WWW-Authenticate header, and its message when it is not the one expected. */
export function shownAnswer(answer: Answer, expected: boolean): string {
  if (answer.status === undefined) return answer.detail;
  return `${answer.status}${answer.challenge ? ` ${answer.challenge}` : ""}${expected ? "" : answer.detail}`;
}

/**
 * GETs `<api url>/`, with the token as a bearer token if given: the status, the gateway's message if it sent one,
 * and its WWW-Authenticate header.
 */
export async function callApi(doFetch: typeof fetch, apiUrl: string, token: string | undefined): Promise<Answer> {
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
    const challenge = response.headers.get("www-authenticate");
    return { status: response.status, detail: message, ...(challenge ? { challenge } : {}) };
  } catch (error) {
    return { detail: `no answer: ${(error as Error).message}` };
  }
}
