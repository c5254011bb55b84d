/**
 * What to change so the gateway accepts the client's next token, in the catalogue's words (Pulumi.<stack>.yaml keys,
 * stack outputs, commands): the `fix` a rejection carries when its cause has one. `explain` prints it after the reason.
 */

/** The token was requested for another API (or none): the scope that names this one. */
export function requestForAudience(audience: string, userToken: boolean): string {
  const identifierUri = audience.includes("://") ? audience : `api://${audience}`;
  return userToken
    ? `sign in for this API's delegated scope, ${identifierUri}/<scope> (apis[].scope, default access_as_user)`
    : `request the token with scope ${identifierUri}/.default`;
}

/** The API app issues another token version than the policy checks; the program sets both from one key. */
export const setTokenVersion = (version: 1 | 2) =>
  `set the API's apis[].tokenVersion to ${version} (the version this policy checks) and run pulumi up, so its app registration issues v${version} tokens; then request a new token`;

/** The token comes from another tenant or cloud than the one the stack's policy trusts. */
export const fromTokenEndpoint = "use the token endpoint the stack exports (clients.<name>.tokenEndpoint)";

/** The client has no grant (role assignment or delegated consent) on the API. */
export const grantApi =
  "grant the client this API: add the API's name to the client's clients[].apis, run pulumi up, then request a new token";

/** validate-azure-ad-token's client-application-ids: the granted clients, or the API's allowedClients. */
export const grantOrAllow = `${grantApi}; an API with apis[].allowedClients lists the client there too`;

/** validate-jwt's allow-list on azp or appid, which only apis[].allowedClients makes. */
export const allowClient =
  "allow the client: add its name or client id to the API's apis[].allowedClients and run pulumi up";

/** An application's token on an API whose callers are users only. */
export const userTokenOnly = `call the API with a signed-in user's token (from a spa, web or native client), or add "applications" to the API's apis[].callers and run pulumi up`;

/** An expired token; its client may also hold an expired secret, which Entra then refuses. */
export const requestAgain =
  "request a new token; if Entra ID refuses the client's secret as expired (AADSTS7000222), rotate it: add an entry with today's date to the client's clients[].secrets, run pulumi up and give the client the new clientSecret";

export const setClock = "set the clock right (NTP) on the machine whose clock is off, then retry";

export const sendBearer = (scheme: string) => `send the token as "Authorization: ${scheme} <token>"`;

/** A token that is not a JWT, or whose signature no longer matches its content. */
export const notTheTokenResponse =
  "send the access_token value of Entra ID's token response exactly as it was issued, not the whole response";
