import type { JWTPayload } from "jose";

import type { RequiredClaim, TokenCheckSpec, ValidateAzureAdTokenSpec } from "../../policies/readTokenCheck";

import { tenantAuthority } from "../../entra/tokenProfile";

import {
  allowClient,
  fromTokenEndpoint,
  grantApi,
  grantOrAllow,
  requestAgain,
  requestForAudience,
  setClock,
  setTokenVersion,
  userTokenOnly,
} from "./fixes";

import { type Check, Rejection } from "./verdict";

export function checkLifetime(claims: JWTPayload, now: Date, skewSeconds: number, requireExpiry: boolean): void {
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
      `the token expired at ${isoOf(claims.exp)}, ${secondsText(nowSeconds - claims.exp)} before ${now.toISOString()} (${allowance})`,
      { fix: requestAgain },
    );
  }
  if (claims.nbf !== undefined) {
    if (typeof claims.nbf !== "number")
      throw new Rejection("not-before", "the token's nbf claim is not a number of seconds");
    if (claims.nbf - skewSeconds > nowSeconds) {
      throw new Rejection(
        "not-before",
        `the token is not valid before ${isoOf(claims.nbf)}, ${secondsText(claims.nbf - nowSeconds)} after ${now.toISOString()} (${allowance}): the issuer's or this machine's clock is off`,
        { fix: setClock },
      );
    }
  }
}

export function checkAudience(claims: JWTPayload, accepted: string[]): void {
  if (accepted.length === 0) return;
  const audiences = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const acceptedText = accepted.join(" or ");
  const request = { fix: requestForAudience(accepted[0] as string, "scp" in claims) };
  if (audiences.length === 0)
    throw new Rejection("audience", `the token has no aud claim; this policy accepts ${acceptedText}`, request);
  if (audiences.some((aud) => accepted.includes(aud))) return;
  for (const aud of audiences) {
    const asV2 = aud.startsWith("api://") ? aud.slice("api://".length) : undefined;
    if (asV2 && accepted.includes(asV2)) {
      throw new Rejection(
        "audience",
        `audience ${aud} is the identifier URI of API ${asV2}, as in v1 tokens; this policy accepts ${acceptedText} — the API app's token version and the policy disagree`,
        { fix: setTokenVersion(2) },
      );
    }
    if (accepted.includes(`api://${aud}`)) {
      throw new Rejection(
        "audience",
        `audience ${aud} is the client id of API api://${aud}, as in v2 tokens; this policy accepts ${acceptedText} — the API app's token version and the policy disagree`,
        { fix: setTokenVersion(1) },
      );
    }
  }
  throw new Rejection(
    "audience",
    `audience ${audiences.join(", ")} is not one this policy accepts (${acceptedText}): the token was requested for another API`,
    request,
  );
}

export function acceptedIssuers(spec: TokenCheckSpec, metadataIssuers: string[], authorityHost?: string): string[] {
  if (spec.kind === "validate-jwt") return spec.issuers.length > 0 ? spec.issuers : metadataIssuers;
  return tenantIssuers(spec, authorityHost);
}

function tenantIssuers(spec: ValidateAzureAdTokenSpec, authorityHost?: string): string[] {
  return [`https://sts.windows.net/${spec.tenantId}/`, `${tenantAuthority(spec.tenantId, authorityHost)}/v2.0`];
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

export function checkIssuer(claims: JWTPayload, accepted: string[], kind: TokenCheckSpec["kind"]): void {
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
        { fix: `request the token from tenant ${shapes[0]?.tenant}: ${fromTokenEndpoint}` },
      );
    }
    const sameVersion = shapes.filter((shape) => shape.version === token.version);
    if (sameVersion.length === 0) {
      const expected = accepted.filter((issuer) => issuerShape(issuer)?.tenant === token.tenant).join(" or ");
      throw new Rejection(
        "issuer",
        `issuer ${iss} is a v${token.version} issuer; this policy accepts ${expected} — the API app's token version and the policy disagree`,
        { fix: setTokenVersion(token.version === 1 ? 2 : 1) },
      );
    }
    if (sameVersion.every((shape) => shape.host !== token.host)) {
      throw new Rejection(
        "issuer",
        `issuer ${iss} names another authority host; this policy accepts ${acceptedText} — the token comes from another cloud or authority`,
        { fix: `request the token from the authority this policy trusts: ${fromTokenEndpoint}` },
      );
    }
  }
  const origin = kind === "validate-jwt" ? "" : ` (the v1 and v2 issuers of tenant-id)`;
  throw new Rejection("issuer", `issuer ${iss} is not one this policy accepts${origin}: ${acceptedText}`);
}

export function checkClientApplication(claims: JWTPayload, spec: ValidateAzureAdTokenSpec): void {
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
      { fix: grantOrAllow },
    );
  }
}

/**
 * The claims the check that runs requires. With a users-or-applications choice, APIM's fixed condition picks the
 * user check when the token has an `scp` claim (`Jwt.Claims.ContainsKey("scp")`), else the application check.
 */
export function requiredClaimsFor(spec: TokenCheckSpec, claims: JWTPayload): RequiredClaim[] {
  if (!spec.callerChoice) return spec.requiredClaims;
  return "scp" in claims ? spec.callerChoice.users : spec.callerChoice.applications;
}

export function checkClaim(claims: JWTPayload, claim: RequiredClaim, spec: TokenCheckSpec): void {
  const check: Check = `claim:${claim.name}`;
  const raw = claims[claim.name];
  if (raw === undefined || raw === null) throw new Rejection(check, ...missingClaim(claims, claim, spec));
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
      { fix: `add separator=" " to the policy's <claim name="${claim.name}">` },
    );
  }
  const presentText = present.join(", ");
  if (claim.name === "roles") {
    throw new Rejection(
      check,
      `the token's roles (${presentText}) do not include ${missing.join(claim.match === "all" ? " and " : " or ")}: the client has no app role assignment for that role on the API`,
      { fix: grantApi },
    );
  }
  if (claim.name === "azp" || claim.name === "appid") {
    throw new Rejection(
      check,
      `the token's ${claim.name} ${presentText} is not one of the allowed clients (${claim.values.join(", ")}): this client application is not on the policy's allow-list`,
      { fix: allowClient },
    );
  }
  const requirement = claim.match === "all" ? `all of ${claim.values.join(", ")}` : `one of ${claim.values.join(", ")}`;
  const judged =
    claim.name === "scp" && spec.callerChoice ? "the token has scp, so it is judged as a user's token: " : "";
  throw new Rejection(
    check,
    `${judged}the token's ${claim.name} claim (${presentText}) lacks ${missing.join(", ")}; the policy requires ${requirement}`,
    claim.name === "scp" ? { fix: grantApi } : {},
  );
}

/** Why a required claim is absent, and the fix when the cause has one. */
function missingClaim(
  claims: JWTPayload,
  claim: RequiredClaim,
  spec: TokenCheckSpec,
): [reason: string, remedy: { fix?: string }] {
  switch (claim.name) {
    case "roles":
      if (spec.callerChoice) {
        return [
          "the token has neither an scp claim (a signed-in user's delegated token) nor a roles claim (an application's token): the client was granted neither the API's delegated scope nor its application permission",
          { fix: grantApi },
        ];
      }
      return [
        "the token has no roles claim: the client was not granted an application permission (app role assignment) on the API",
        { fix: grantApi },
      ];
    case "scp":
      return [
        "the token has no scp claim: it is an application's (client-credentials) token, which never carries delegated scopes, and this policy accepts only signed-in users' tokens",
        { fix: userTokenOnly },
      ];
    case "azp":
      if (claims.appid !== undefined) {
        return [
          "the token has no azp claim but an appid claim, as v1 tokens do — the API app's token version and the policy disagree",
          { fix: setTokenVersion(2) },
        ];
      }
      break;
    case "appid":
      if (claims.azp !== undefined) {
        return [
          "the token has no appid claim but an azp claim, as v2 tokens do — the API app's token version and the policy disagree",
          { fix: setTokenVersion(1) },
        ];
      }
      break;
  }
  return [`the token has no ${claim.name} claim, which the policy requires`, {}];
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

function stringClaim(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function isoOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

function secondsText(seconds: number): string {
  return `${Math.round(seconds)} s`;
}
