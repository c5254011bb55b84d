import { assertApimLiteral } from "./apimLiteral";
import type { TokenCheck } from "./tokenCheck";
import { element, textElement, type XmlElementSpec } from "./xmlElement";

/** The element in a policy template's `<on-error>` that the 401's `WWW-Authenticate` header replaces. */
export const tokenChallengeMarker = "entra-token-challenge";

/** The response header RFC 6750 §3 has a resource server send with a 401 to a bearer-token request. */
export const challengeHeader = "WWW-Authenticate";

const failedTokenCheck =
  'context.LastError.Source == "validate-jwt" || context.LastError.Source == "validate-azure-ad-token"';

/**
 * The two fixed conditions the challenge is chosen by, in `<on-error>`, where a failed token check lands with
 * `context.LastError` naming it (APIM "Error handling in API Management policies": Source is the policy's element,
 * and validate-jwt's Reason is TokenNotPresent when the request has no token). Nothing from the request reaches them.
 */
export const challengeConditions = {
  tokenMissing: `@((${failedTokenCheck}) && context.LastError.Reason == "TokenNotPresent")`,
  tokenInvalid: `@(${failedTokenCheck})`,
} as const;

/** The header values for a request without a token, and for one whose token failed the check. */
export interface TokenChallenge {
  tokenMissing: string;
  tokenInvalid: string;
}

/**
 * What the gateway answers a request the token check refused, in `WWW-Authenticate` (RFC 6750 §3): the scheme and the
 * scope to request, plus `error="invalid_token"` when a token was sent and failed. RFC 6750 §3.1: a request without
 * any authentication gets no error code. The scope is what a client requests for this API: `api://<id>/.default`
 * (an application's permissions, and a user's consented scopes, alike), or the delegated scope when only users may
 * call. Constant per API: nothing of the request's token is echoed.
 */
export function tokenChallenge(check: TokenCheck): TokenChallenge {
  const usersOnly = check.callers?.length === 1 && check.callers[0] === "users";
  const scope = usersOnly ? `${check.profile.identifierUri}/${check.scope ?? ""}` : check.profile.scope;
  if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) {
    // RFC 6750 §3: scope values are %x21 / %x23-5B / %x5D-7E, so the quoted value needs no escaping.
    throw new Error(`the scope ${JSON.stringify(scope)} cannot be carried in a WWW-Authenticate scope attribute`);
  }
  const challenge = {
    tokenMissing: `Bearer scope="${scope}"`,
    tokenInvalid: `Bearer error="invalid_token", scope="${scope}"`,
  };
  assertApimLiteral(`${challengeHeader} value`, challenge.tokenInvalid);
  return challenge;
}

/** The `<choose>` that sets the challenge header on a failed token check, and on nothing else. */
export function tokenChallengeElement(check: TokenCheck): XmlElementSpec {
  const challenge = tokenChallenge(check);
  const setHeader = (value: string) =>
    element(
      "set-header",
      [
        ["name", challengeHeader],
        ["exists-action", "override"],
      ],
      [textElement("value", value)],
    );
  return element(
    "choose",
    [],
    [
      element("when", [["condition", challengeConditions.tokenMissing]], [setHeader(challenge.tokenMissing)]),
      element("when", [["condition", challengeConditions.tokenInvalid]], [setHeader(challenge.tokenInvalid)]),
    ],
  );
}
