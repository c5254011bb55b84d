import { publicCloudAuthorityHost, type TokenProfile } from "../entra/tokenProfile";
import { assertApimLiteral } from "./apimLiteral";
import { type ClientLimits, hasClientLimits, validatedTokenVariable } from "./clientLimits";
import { element, textElement, type XmlElementSpec } from "./xmlElement";

/** What the gateway checks on every request's bearer token. */
export interface TokenCheck {
  /**
   * `validate-jwt` pins keys, issuer and audience from {@link TokenCheck.profile} and works with any token version;
   * `validate-azure-ad-token` lets APIM resolve keys and issuer from {@link TokenCheck.tenantId} and requires
   * {@link TokenCheck.allowedClientIds}.
   */
  validation: "validate-jwt" | "validate-azure-ad-token";
  /** The single source of audience, issuer, metadata URL and client-id claim; never re-derived here. */
  profile: TokenProfile;
  /** Tenant GUID; the `tenant-id` of validate-azure-ad-token. */
  tenantId: string;
  /** The app role required in the token's `roles` claim. */
  appRole: string;
  /** validate-jwt `clock-skew`: whole seconds of tolerance on `exp`/`nbf`. Not used by validate-azure-ad-token. */
  clockSkewSeconds: number;
  /**
   * Client application ids allowed to call. validate-jwt: optional allow-list on `profile.clientIdClaim`
   * (`azp` in v2 tokens, `appid` in v1), omitted when empty. validate-azure-ad-token: required and non-empty.
   * Sorted and deduplicated in the output.
   */
  allowedClientIds?: string[];
  /**
   * Who may call: `applications` need {@link TokenCheck.appRole} in `roles`, `users` need {@link TokenCheck.scope}
   * in `scp`. Default `["applications"]`, which renders exactly the single check of before.
   */
  callers?: readonly Caller[];
  /** The delegated scope required in a user token's `scp` claim; required when `callers` includes `users`. */
  scope?: string;
  /**
   * Calls per minute and per day, per client: rendered after the check, keyed on the client id of the token it
   * validated (`profile.clientIdClaim`). Absent or empty, the check stays exactly as without limits.
   */
  limits?: ClientLimits;
}

export type Caller = "applications" | "users";

/**
 * The one condition the policy ever evaluates, fixed here and never built from configuration: does the bearer
 * token carry an `scp` claim (a user's delegated token)? It only chooses which of two complete token checks runs;
 * an unparseable token makes `AsJwt()` return null (APIM policy expressions reference, `AsJwt`) and falls to the
 * application check, which refuses it. validate-jwt's `required-claims` are all required, so "roles OR scp" is two
 * checks in a `<choose>` (APIM "Control flow" / choose policy); the token-claims example of the validate-jwt
 * reference combines the two policies the same way.
 */
export const userTokenCondition =
  '@(context.Request.Headers.GetValueOrDefault("Authorization", "").Split(\' \').Last().AsJwt()?.Claims.ContainsKey("scp") == true)';

/** Same message for every failure, so a caller cannot probe which check it failed. */
export const failedValidationMessage = "Unauthorized";

/** Validates `check` and returns the token-check element that replaces the template's marker. */
export function tokenCheckElement(check: TokenCheck): XmlElementSpec {
  const callers = callersOf(check);
  const forUsers = callers.includes("users");
  if (forUsers) assertApimLiteral("TokenCheck.scope", check.scope as string);
  // scp is one space-separated string (Entra "Access token claims reference"); separator=" " makes validate-jwt
  // match each scope on its own (validate-jwt reference, claim attribute `separator`).
  const userClaim = () => claim("scp", [check.scope as string], " ");
  const appClaim = () => claim("roles", [check.appRole]);
  if (!forUsers) return singleCheck(check, appClaim());
  if (!callers.includes("applications")) return singleCheck(check, userClaim());
  return element(
    "choose",
    [],
    [
      element("when", [["condition", userTokenCondition]], [singleCheck(check, userClaim())]),
      element("otherwise", [], [singleCheck(check, appClaim())]),
    ],
  );
}

function callersOf(check: TokenCheck): readonly Caller[] {
  const callers = check.callers ?? ["applications"];
  if (callers.length === 0 || callers.some((caller) => caller !== "applications" && caller !== "users")) {
    throw new Error(`TokenCheck.callers must list "applications" and/or "users", got ${JSON.stringify(callers)}`);
  }
  return callers;
}

/** One complete validate-jwt or validate-azure-ad-token element requiring `callerClaim` (roles or scp). */
function singleCheck(check: TokenCheck, callerClaim: XmlElementSpec): XmlElementSpec {
  const { profile } = check;
  assertApimLiteral("TokenCheck.profile.audience", profile.audience);
  assertApimLiteral("TokenCheck.profile.issuer", profile.issuer);
  assertApimLiteral("TokenCheck.profile.metadataUrl", profile.metadataUrl);
  assertApimLiteral("TokenCheck.tenantId", check.tenantId);
  assertApimLiteral("TokenCheck.appRole", check.appRole);
  if (profile.clientIdClaim !== "azp" && profile.clientIdClaim !== "appid") {
    throw new Error(
      `TokenCheck.profile.clientIdClaim must be "azp" or "appid", got ${JSON.stringify(profile.clientIdClaim)}`,
    );
  }
  (check.allowedClientIds ?? []).forEach((id, i) => {
    assertApimLiteral(`TokenCheck.allowedClientIds[${i}]`, id);
  });
  const clientIds = sortedUnique(check.allowedClientIds ?? []);
  const authority = urlOrigin(profile.metadataUrl);
  const output = hasClientLimits(check.limits) ? [["output-token-variable-name", validatedTokenVariable] as const] : [];

  if (check.validation === "validate-jwt") {
    if (!Number.isInteger(check.clockSkewSeconds) || check.clockSkewSeconds < 0) {
      throw new Error(
        `TokenCheck.clockSkewSeconds must be a whole number of seconds >= 0, got ${JSON.stringify(check.clockSkewSeconds)}`,
      );
    }
    // Pinning <issuers> matters: without it validate-jwt takes the issuer from the metadata document, so a v1/v2
    // mismatch would surface only as IDX10205 at request time.
    return element(
      "validate-jwt",
      [
        ["header-name", "Authorization"],
        ["require-scheme", "Bearer"],
        ["failed-validation-httpcode", "401"],
        ["failed-validation-error-message", failedValidationMessage],
        ["require-expiration-time", "true"],
        ["require-signed-tokens", "true"],
        ["clock-skew", String(check.clockSkewSeconds)],
        ...output,
      ],
      [
        element("openid-config", [["url", profile.metadataUrl]]),
        element("audiences", [], [textElement("audience", profile.audience)]),
        element("issuers", [], [textElement("issuer", profile.issuer)]),
        element(
          "required-claims",
          [],
          clientIds.length > 0 ? [callerClaim, claim(profile.clientIdClaim, clientIds)] : [callerClaim],
        ),
      ],
    );
  }

  if (check.validation === "validate-azure-ad-token") {
    if (clientIds.length === 0) {
      throw new Error(
        "TokenCheck.allowedClientIds must list at least one client application id for validate-azure-ad-token (its <client-application-ids> is required)",
      );
    }
    // Shape from the APIM policy reference "Validate Microsoft Entra token" (learn.microsoft.com,
    // MicrosoftDocs/azure-docs articles/api-management/validate-azure-ad-token-policy.md): attributes tenant-id,
    // header-name, authentication-endpoint (added 2025 for non-public clouds), failed-validation-*; elements
    // client-application-ids, backend-application-ids, audiences, required-claims, in that order. It has no
    // <openid-config>/<issuers>: APIM resolves keys and accepted issuers from tenant-id, so both token versions pass.
    // It has no require-scheme or clock-skew.
    return element(
      "validate-azure-ad-token",
      [
        ["tenant-id", check.tenantId],
        ["header-name", "Authorization"],
        ...(authority === publicCloudAuthorityHost ? [] : [["authentication-endpoint", authority] as const]),
        ["failed-validation-httpcode", "401"],
        ["failed-validation-error-message", failedValidationMessage],
        ...output,
      ],
      [
        element(
          "client-application-ids",
          [],
          clientIds.map((id) => textElement("application-id", id)),
        ),
        element("audiences", [], [textElement("audience", profile.audience)]),
        element("required-claims", [], [callerClaim]),
      ],
    );
  }

  throw new Error(
    `TokenCheck.validation must be "validate-jwt" or "validate-azure-ad-token", got ${JSON.stringify(check.validation)}`,
  );
}

function urlOrigin(metadataUrl: string): string {
  try {
    return new URL(metadataUrl).origin;
  } catch {
    throw new Error(`TokenCheck.profile.metadataUrl must be an absolute URL, got ${JSON.stringify(metadataUrl)}`);
  }
}

function claim(name: string, values: string[], separator?: string): XmlElementSpec {
  return element(
    "claim",
    [["name", name], ["match", "any"], ...(separator === undefined ? [] : [["separator", separator] as const])],
    values.map((value) => textElement("value", value)),
  );
}

/** Code-unit order, not locale order: the output must not depend on the machine's locale. */
function sortedUnique(values: string[]): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
