import { insecureUrlFault } from "../../entra/loopback";
import {
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from "jose";
import type { RequiredClaim, TokenCheckSpec, ValidateAzureAdTokenSpec } from "../../policies/readTokenCheck";

export type Check =
  | "header"
  | "scheme"
  | "signature"
  | "expiry"
  | "not-before"
  | "audience"
  | "issuer"
  | `claim:${string}`
  | "client-application";

export type Verdict =
  | {
      accepted: true;
      claims: JWTPayload;
      /** What was unusual but allowed, e.g. a kid no published key has. */
      notes?: string[];
    }
  | {
      accepted: false;
      check: Check;
      reason: string;
      /**
       * The signing keys could not be loaded (offline, proxy): the gateway would refuse the request, but the token
       * itself was never judged.
       */
      keysUnavailable?: true;
    };

export interface SigningMaterial {
  /** openid-config documents by URL, used instead of fetching them. */
  openIdConfigs?: Record<string, unknown>;
  /** Used instead of fetching each document's `jwks_uri`. */
  jwks?: JSONWebKeySet;
}

export interface EvaluateTokenInput {
  spec: TokenCheckSpec;
  /** The raw value of the header the policy reads (the Authorization header unless it names another). */
  authorizationHeader?: string;
  /** The bare token, as read from a query parameter or token-value; skips the header and scheme checks. */
  token?: string;
  now: Date;
  keys: SigningMaterial;
  fetchDocument?: (url: string) => Promise<unknown>;
  /** Authority of validate-azure-ad-token's tenant; APIM uses the public cloud's. */
  authorityHost?: string;
}

export const defaultAuthorityHost = "https://login.microsoftonline.com";
export const allowedAlgorithms = ["PS256", "RS256", "RS512"];

const maxDocumentBytes = 1024 * 1024;

class Rejection extends Error {
  constructor(
    readonly check: Check,
    readonly reason: string,
    readonly keysUnavailable = false,
  ) {
    super(reason);
  }
}

/** The openid-config documents whose keys (and, without `<issuers>`, issuers) the policy trusts. */
export function openIdConfigUrlsOf(spec: TokenCheckSpec, authorityHost = defaultAuthorityHost): string[] {
  if (spec.kind === "validate-jwt") return spec.openIdConfigUrls;
  return [`${trimSlash(authorityHost)}/${spec.tenantId}/v2.0/.well-known/openid-configuration`];
}

/** Judges a token the way the policy's check would, in APIM's order, and names the first failing check. */
export async function evaluateToken(input: EvaluateTokenInput): Promise<Verdict> {
  try {
    const notes: string[] = [];
    const claims = await judge(input, notes);
    return { accepted: true, claims, ...(notes.length > 0 ? { notes } : {}) };
  } catch (error) {
    if (!(error instanceof Rejection)) throw error;
    return {
      accepted: false,
      check: error.check,
      reason: error.reason,
      ...(error.keysUnavailable ? { keysUnavailable: true as const } : {}),
    };
  }
}

async function judge(input: EvaluateTokenInput, notes: string[]): Promise<JWTPayload> {
  const { spec } = input;
  const token = extractToken(input);
  const { header, claims } = decode(token);
  const material = await verifySignature(token, header, input, notes);
  const skew = spec.kind === "validate-jwt" ? spec.clockSkewSeconds : 0;
  const requireExpiry = spec.kind === "validate-jwt" ? spec.requireExpirationTime : true;
  checkLifetime(claims, input.now, skew, requireExpiry);
  checkAudience(claims, spec.audiences);
  checkIssuer(claims, acceptedIssuers(spec, material.metadataIssuers, input.authorityHost), spec.kind);
  if (spec.kind === "validate-azure-ad-token") checkClientApplication(claims, spec);
  for (const claim of requiredClaimsFor(spec, claims)) checkClaim(claims, claim, spec);
  return claims;
}

/**
 * The claims the check that runs requires. With a users-or-applications choice, APIM's fixed condition picks the
 * user check when the token has an `scp` claim (`Jwt.Claims.ContainsKey("scp")`), else the application check.
 */
function requiredClaimsFor(spec: TokenCheckSpec, claims: JWTPayload): RequiredClaim[] {
  if (!spec.callerChoice) return spec.requiredClaims;
  return "scp" in claims ? spec.callerChoice.users : spec.callerChoice.applications;
}

function extractToken(input: EvaluateTokenInput): string {
  const { spec } = input;
  if (input.token !== undefined) {
    if (input.token.trim() === "") throw new Rejection("header", "the token is empty: the client sent no token");
    return input.token.trim();
  }
  const source = spec.tokenSource;
  const value = input.authorizationHeader?.trim();
  if (!value) {
    const where = source.kind === "query" ? `${source.name} query parameter` : `${sourceName(source)} header`;
    throw new Rejection("header", `the request has no ${where}: the client sent no token`);
  }
  const isAuthorization = source.kind === "header" && source.name.toLowerCase() === "authorization";
  if (!isAuthorization) return value;
  const required = spec.kind === "validate-jwt" ? spec.requireScheme : "Bearer";
  const [scheme = "", ...rest] = value.split(/\s+/);
  if (required) {
    if (rest.length === 0) {
      throw new Rejection(
        "scheme",
        `the Authorization header has no scheme; this policy requires "${required} <token>"`,
      );
    }
    if (scheme.toLowerCase() !== required.toLowerCase()) {
      throw new Rejection(
        "scheme",
        `the Authorization header uses the ${scheme} scheme; this policy requires ${required}`,
      );
    }
  }
  return rest.length > 0 ? rest.join(" ") : value;
}

function sourceName(source: TokenCheckSpec["tokenSource"]): string {
  return source.kind === "value" ? "token-value" : source.name;
}

function decode(token: string): { header: ProtectedHeaderParameters; claims: JWTPayload } {
  const parts = token.split(".");
  if (parts.length === 5) {
    throw new Rejection("signature", "the token is encrypted (JWE), and this evaluator cannot decrypt it");
  }
  if (parts.length !== 3) {
    throw new Rejection("signature", "the token is not a JWT: expected three base64url parts separated by dots");
  }
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    throw new Rejection("signature", "the token is not a JWT: its header or payload is not base64url-encoded JSON");
  }
}

interface KeyMaterial {
  keys: JWK[];
  sources: string[];
  metadataIssuers: string[];
}

async function verifySignature(
  token: string,
  header: ProtectedHeaderParameters,
  input: EvaluateTokenInput,
  notes: string[],
) {
  const { spec } = input;
  const alg = header.alg ?? "none";
  const requireSigned = spec.kind === "validate-jwt" ? spec.requireSignedTokens : true;
  const unsigned = alg === "none";
  if (unsigned && requireSigned) {
    throw new Rejection("signature", "the token is unsigned (alg none) and the policy requires signed tokens");
  }
  if (!unsigned && !allowedAlgorithms.includes(alg)) {
    const kind = alg.startsWith("HS") ? ", a shared-secret algorithm Entra ID never uses for access tokens" : "";
    throw new Rejection(
      "signature",
      `the token is signed with ${alg}${kind}; the policy accepts only ${allowedAlgorithms.join(", ")} signatures`,
    );
  }
  const material = await loadKeyMaterial(input, !unsigned);
  if (unsigned) return material;
  const kid = header.kid;
  const usable = material.keys.filter(
    (jwk) =>
      jwk.kty === "RSA" && (jwk.use === undefined || jwk.use === "sig") && (jwk.alg === undefined || jwk.alg === alg),
  );
  const from = material.sources.join(", ") || "the policy";
  if (usable.length === 0)
    throw new Rejection("signature", `no RSA signing key for ${alg} was found in the keys from ${from}`);
  if (kid !== undefined && !usable.some((jwk) => jwk.kid === kid)) {
    // Microsoft.IdentityModel, which APIM validates with, tries every issuer signing key when no kid matches
    // (TryAllIssuerSigningKeys, on by default): a published key under another kid still verifies the token.
    for (const jwk of usable) {
      if (await verifiesWith(token, jwk, alg)) {
        notes.push(
          `kid ${kid} was not found in the keys from ${from}, but key ${jwk.kid ?? "(no kid)"} verifies the signature; APIM tries every signing key when no kid matches, so this is accepted`,
        );
        return material;
      }
    }
    throw new Rejection(
      "signature",
      `kid ${kid} was not found in the keys from ${from}, and none of its ${usable.length} signing keys verifies the signature: the token was issued by another tenant or authority, or its keys were rotated`,
    );
  }
  const candidates = usable.filter((jwk) => kid === undefined || jwk.kid === undefined || jwk.kid === kid);
  for (const jwk of candidates) {
    if (await verifiesWith(token, jwk, alg)) return material;
  }
  throw new Rejection(
    "signature",
    `the token's signature does not verify with signing key ${kid ?? "(no kid)"} from ${from}: the token was altered after it was issued, or signed with another key`,
  );
}

async function verifiesWith(token: string, jwk: JWK, alg: string): Promise<boolean> {
  try {
    const key = await importJWK({ ...jwk, alg }, alg);
    await compactVerify(token, key, { algorithms: allowedAlgorithms });
    return true;
  } catch {
    return false;
  }
}

async function loadKeyMaterial(input: EvaluateTokenInput, needKeys: boolean): Promise<KeyMaterial> {
  const { spec, keys } = input;
  const fetchDocument = input.fetchDocument ?? loadDocument;
  const urls = openIdConfigUrlsOf(spec, input.authorityHost);
  const needMetadataIssuer = spec.kind === "validate-jwt" && spec.issuers.length === 0;
  const material: KeyMaterial = { keys: [], sources: [], metadataIssuers: [] };
  if (keys.jwks) {
    material.keys.push(...keys.jwks.keys);
    material.sources.push("the given JWKS");
  }
  if (spec.kind === "validate-jwt") {
    for (const key of spec.issuerSigningKeys) {
      if (key.kind === "rsa")
        material.keys.push({ kty: "RSA", n: key.n, e: key.e, ...(key.id ? { kid: key.id } : {}) });
    }
    if (spec.issuerSigningKeys.length > 0) material.sources.push("<issuer-signing-keys>");
  }
  const fetchKeys = needKeys && !keys.jwks;
  if (!fetchKeys && !needMetadataIssuer) return material;
  for (const url of urls) {
    const document = keys.openIdConfigs?.[url] ?? (await fetchOrReject(fetchDocument, url, "openid-config"));
    if (!isRecord(document)) throw new Rejection("signature", `the openid-config ${url} is not a JSON object`);
    if (typeof document.issuer === "string") material.metadataIssuers.push(document.issuer);
    if (!fetchKeys) continue;
    if (typeof document.jwks_uri !== "string") {
      throw new Rejection("signature", `the openid-config ${url} has no jwks_uri, so no signing keys are known`);
    }
    const jwks = await fetchOrReject(fetchDocument, document.jwks_uri, "JWKS");
    if (!isRecord(jwks) || !Array.isArray(jwks.keys)) {
      throw new Rejection("signature", `the JWKS ${document.jwks_uri} has no keys array`);
    }
    material.keys.push(...(jwks.keys as JWK[]));
    material.sources.push(document.jwks_uri);
  }
  return material;
}

async function fetchOrReject(fetchDocument: (url: string) => Promise<unknown>, url: string, what: string) {
  try {
    return await fetchDocument(url);
  } catch (error) {
    throw new Rejection(
      "signature",
      `the ${what} ${url} could not be loaded (${errorText(error)}), so no signing keys are known`,
      true,
    );
  }
}

function checkLifetime(claims: JWTPayload, now: Date, skewSeconds: number, requireExpiry: boolean): void {
  const nowSeconds = now.getTime() / 1000;
  const allowance = `clock skew allowed: ${skewSeconds} s`;
  if (claims.exp === undefined) {
    if (requireExpiry) {
      throw new Rejection("expiry", "the token has no exp claim and the policy requires an expiration time");
    }
  } else if (typeof claims.exp !== "number") {
    throw new Rejection("expiry", "the token's exp claim is not a number of seconds");
  } else if (claims.exp + skewSeconds < nowSeconds) {
    throw new Rejection(
      "expiry",
      `the token expired at ${isoOf(claims.exp)}, ${secondsText(nowSeconds - claims.exp)} before ${now.toISOString()} (${allowance}): the client must request a new token`,
    );
  }
  if (claims.nbf !== undefined) {
    if (typeof claims.nbf !== "number")
      throw new Rejection("not-before", "the token's nbf claim is not a number of seconds");
    if (claims.nbf - skewSeconds > nowSeconds) {
      throw new Rejection(
        "not-before",
        `the token is not valid before ${isoOf(claims.nbf)}, ${secondsText(claims.nbf - nowSeconds)} after ${now.toISOString()} (${allowance}): the issuer's or this machine's clock is off`,
      );
    }
  }
}

function checkAudience(claims: JWTPayload, accepted: string[]): void {
  if (accepted.length === 0) return;
  const audiences = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const acceptedText = accepted.join(" or ");
  if (audiences.length === 0)
    throw new Rejection("audience", `the token has no aud claim; this policy accepts ${acceptedText}`);
  if (audiences.some((aud) => accepted.includes(aud))) return;
  for (const aud of audiences) {
    const asV2 = aud.startsWith("api://") ? aud.slice("api://".length) : undefined;
    if (asV2 && accepted.includes(asV2)) {
      throw new Rejection(
        "audience",
        `audience ${aud} is the identifier URI of API ${asV2}, as in v1 tokens; this policy accepts ${acceptedText} — the API app's token version and the policy disagree`,
      );
    }
    if (accepted.includes(`api://${aud}`)) {
      throw new Rejection(
        "audience",
        `audience ${aud} is the client id of API api://${aud}, as in v2 tokens; this policy accepts ${acceptedText} — the API app's token version and the policy disagree`,
      );
    }
  }
  throw new Rejection(
    "audience",
    `audience ${audiences.join(", ")} is not one this policy accepts (${acceptedText}): the token was requested for another API`,
  );
}

function acceptedIssuers(spec: TokenCheckSpec, metadataIssuers: string[], authorityHost?: string): string[] {
  if (spec.kind === "validate-jwt") return spec.issuers.length > 0 ? spec.issuers : metadataIssuers;
  return tenantIssuers(spec, authorityHost ?? defaultAuthorityHost);
}

function tenantIssuers(spec: ValidateAzureAdTokenSpec, authorityHost: string): string[] {
  return [`https://sts.windows.net/${spec.tenantId}/`, `${trimSlash(authorityHost)}/${spec.tenantId}/v2.0`];
}

interface IssuerShape {
  version: 1 | 2;
  host: string;
  tenant: string;
}

function issuerShape(issuer: string): IssuerShape | undefined {
  const v1 = /^(https:\/\/sts\.[^/]+)\/([^/]+)\/$/.exec(issuer);
  if (v1?.[1] && v1[2]) return { version: 1, host: v1[1], tenant: v1[2] };
  const v2 = /^(https?:\/\/[^/]+)\/([^/]+)\/v2\.0\/?$/.exec(issuer);
  if (v2?.[1] && v2[2]) return { version: 2, host: v2[1], tenant: v2[2] };
  return undefined;
}

function checkIssuer(claims: JWTPayload, accepted: string[], kind: TokenCheckSpec["kind"]): void {
  if (accepted.length === 0) return;
  const acceptedText = accepted.join(" or ");
  const iss = claims.iss;
  if (iss === undefined)
    throw new Rejection("issuer", `the token has no iss claim; this policy accepts ${acceptedText}`);
  if (accepted.includes(iss)) return;
  const token = issuerShape(iss);
  const shapes = accepted.map(issuerShape).filter((shape) => shape !== undefined);
  if (token && shapes.length > 0) {
    if (!shapes.some((shape) => shape.tenant === token.tenant)) {
      throw new Rejection(
        "issuer",
        `issuer ${iss} belongs to tenant ${token.tenant}; this policy accepts ${acceptedText} — the token was issued by another tenant`,
      );
    }
    const sameVersion = shapes.filter((shape) => shape.version === token.version);
    if (sameVersion.length === 0) {
      const expected = accepted.filter((issuer) => issuerShape(issuer)?.tenant === token.tenant).join(" or ");
      throw new Rejection(
        "issuer",
        `issuer ${iss} is a v${token.version} issuer; this policy accepts ${expected} — the API app's token version and the policy disagree`,
      );
    }
    if (sameVersion.every((shape) => shape.host !== token.host)) {
      throw new Rejection(
        "issuer",
        `issuer ${iss} names another authority host; this policy accepts ${acceptedText} — the token comes from another cloud or authority`,
      );
    }
  }
  const origin = kind === "validate-jwt" ? "" : ` (the v1 and v2 issuers of tenant-id)`;
  throw new Rejection("issuer", `issuer ${iss} is not one this policy accepts${origin}: ${acceptedText}`);
}

function checkClientApplication(claims: JWTPayload, spec: ValidateAzureAdTokenSpec): void {
  const client = stringClaim(claims.azp) ?? stringClaim(claims.appid);
  if (client === undefined) {
    throw new Rejection(
      "client-application",
      "the token names no client application: it has neither an azp nor an appid claim",
    );
  }
  if (!spec.clientApplicationIds.includes(client)) {
    throw new Rejection(
      "client-application",
      `client ${client} is not one of the policy's client-application-ids (${spec.clientApplicationIds.join(", ")}): this client application is not allowed to call the API`,
    );
  }
}

function checkClaim(claims: JWTPayload, claim: RequiredClaim, spec: TokenCheckSpec): void {
  const check: Check = `claim:${claim.name}`;
  const raw = claims[claim.name];
  if (raw === undefined || raw === null) throw new Rejection(check, missingClaimReason(claims, claim, spec));
  const present = claimValues(raw, claim.separator);
  if (claim.values.length === 0) return;
  const missing = claim.values.filter((value) => !present.includes(value));
  const satisfied = claim.match === "all" ? missing.length === 0 : missing.length < claim.values.length;
  if (satisfied) return;
  const words = typeof raw === "string" && claim.separator === undefined ? raw.split(/\s+/) : [];
  if (words.length > 1 && claim.values.some((value) => words.includes(value))) {
    throw new Rejection(
      check,
      `the token's ${claim.name} claim "${raw}" holds several space-separated values; the policy's <claim> needs separator=" " to match them one by one`,
    );
  }
  const presentText = present.join(", ");
  if (claim.name === "roles") {
    throw new Rejection(
      check,
      `the token's roles (${presentText}) do not include ${missing.join(claim.match === "all" ? " and " : " or ")}: the client has no app role assignment for that role on the API`,
    );
  }
  if (claim.name === "azp" || claim.name === "appid") {
    throw new Rejection(
      check,
      `the token's ${claim.name} ${presentText} is not one of the allowed clients (${claim.values.join(", ")}): this client application is not on the policy's allow-list`,
    );
  }
  const requirement = claim.match === "all" ? `all of ${claim.values.join(", ")}` : `one of ${claim.values.join(", ")}`;
  const judged =
    claim.name === "scp" && spec.callerChoice ? "the token has scp, so it is judged as a user's token: " : "";
  throw new Rejection(
    check,
    `${judged}the token's ${claim.name} claim (${presentText}) lacks ${missing.join(", ")}; the policy requires ${requirement}`,
  );
}

function missingClaimReason(claims: JWTPayload, claim: RequiredClaim, spec: TokenCheckSpec): string {
  switch (claim.name) {
    case "roles":
      if (spec.callerChoice) {
        return "the token has neither an scp claim (a signed-in user's delegated token) nor a roles claim (an application's token): the client was granted neither the API's delegated scope nor its application permission";
      }
      return "the token has no roles claim: the client was not granted an application permission (app role assignment) on the API";
    case "scp":
      return "the token has no scp claim: it is an application's (client-credentials) token, which never carries delegated scopes, and this policy accepts only signed-in users' tokens";
    case "azp":
      if (claims.appid !== undefined) {
        return "the token has no azp claim but an appid claim, as v1 tokens do — the API app's token version and the policy disagree";
      }
      break;
    case "appid":
      if (claims.azp !== undefined) {
        return "the token has no appid claim but an azp claim, as v2 tokens do — the API app's token version and the policy disagree";
      }
      break;
  }
  return `the token has no ${claim.name} claim, which the policy requires`;
}

function claimValues(raw: unknown, separator: string | undefined): string[] {
  const items = Array.isArray(raw) ? raw : [raw];
  return items.flatMap((item) => {
    const text = typeof item === "string" ? item : typeof item === "object" ? JSON.stringify(item) : String(item);
    return separator === undefined || typeof item !== "string"
      ? [text]
      : text
          .split(separator)
          .map((part) => part.trim())
          .filter((part) => part !== "");
  });
}

/**
 * Fetches a JSON document for key material: https only, or http to a loopback host (local stand-ins),
 * no redirects, bounded in time and size.
 */
export async function loadDocument(url: string): Promise<unknown> {
  if (insecureUrlFault(url) === "not-https") {
    throw new Error(`refusing to fetch ${url}: only https, or http on a loopback host, is allowed`);
  }
  const parsed = new URL(url);
  const response = await fetch(parsed, {
    redirect: "error",
    headers: { accept: "application/json" },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  return JSON.parse(await readBounded(response));
}

async function readBounded(response: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > maxDocumentBytes) throw new Error(`document larger than ${maxDocumentBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

function isoOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

function secondsText(seconds: number): string {
  return `${Math.round(seconds)} s`;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
