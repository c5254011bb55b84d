import type { TokenChallengeSpec } from "../../policies/readTokenChallenge";
import type { Check } from "./verdict";

/**
 * The WWW-Authenticate value the policy sends with a refusal by `check`. Only a request without a token is APIM's
 * TokenNotPresent (error-handling reference: "Jwt token is missing in request"); which Reason a wrong scheme gets is
 * not documented, so it is judged like any other failed token.
 */
export function challengeFor(spec: TokenChallengeSpec, check: Check): string | undefined {
  return check === "header" ? spec.tokenMissing : spec.tokenInvalid;
}
