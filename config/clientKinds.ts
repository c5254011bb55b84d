import { type CatalogueSettings as Settings, type ClientEntry, isPublicClient } from "./schema";
import { configKey } from "./validate";

type Kind = ClientEntry["kind"];

// Entra "Redirect URI (reply URL) restrictions and limitations" (learn.microsoft.com, MicrosoftDocs/azure-docs
// articles/active-directory/develop/reply-url.md): at most 256 characters per URI and 256 URIs per app that signs in
// one organisation's accounts; https, except http on a loopback host (127.0.0.1 preferred, localhost accepted,
// [::1] not supported) whose port Entra ignores; wildcards discouraged and refused here. RFC 6749 §3.1.2: a
// redirection endpoint URI must be absolute and must not include a fragment.
const maxRedirectUriLength = 256;
const maxRedirectUris = 256;
const loopbackHosts = ["127.0.0.1", "localhost"];

const userFacing: readonly Kind[] = ["web", "spa", "native"];

/**
 * Cross-key rules of client kinds: credentials per kind, redirect URIs per kind, and grants that match the API's
 * callers. One line per problem, naming the key, the value and the allowed form.
 */
export function clientKindProblems(settings: Settings): string[] {
  const problems: string[] = [];
  const apis = new Map(settings.apis.map((api) => [api.name, api]));
  settings.clients.forEach((client, index) => {
    const key = (...path: (string | number)[]) => configKey(["clients", index, ...path]);
    const { kind } = client;
    problems.push(...publicClientCredentialProblems(client, key));
    if (kind === "web" && client.credential === "none") {
      problems.push(
        `${key("credential")}: "none" is not allowed for a web client: it redeems authorization codes on its server as a confidential client; use "secret" or "federated".`,
      );
    }
    // A managed identity's redirect URIs are refused outright (managedIdentityProblems), not judged by form.
    const uris = kind === "managedIdentity" ? [] : (client.redirectUris ?? []);
    if (kind === "daemon" && uris.length > 0) {
      problems.push(
        `${key("redirectUris")}: a daemon signs no user in, so it has no redirect URIs; remove them or set kind to web, spa or native.`,
      );
    }
    if ((kind === "web" || kind === "spa") && uris.length === 0) {
      problems.push(
        `${key("redirectUris")}: is required for a ${kind} client: the https URLs where Entra returns the signed-in user (http only on 127.0.0.1 or localhost).`,
      );
    }
    if (uris.length > maxRedirectUris) {
      problems.push(`${key("redirectUris")}: ${uris.length} URIs; Entra allows at most ${maxRedirectUris} per app.`);
    }
    uris.forEach((uri, position) => {
      const fault = redirectUriFault(uri, kind);
      if (fault) problems.push(`${key("redirectUris", position)}: ${JSON.stringify(uri)} is not allowed; ${fault}`);
    });
    for (const uri of new Set(uris.filter((uri, position) => uris.indexOf(uri) !== position))) {
      problems.push(`${key("redirectUris")}: ${JSON.stringify(uri)} is listed more than once.`);
    }
    client.apis.forEach((apiName, position) => {
      const callers = apis.get(apiName)?.callers;
      if (!callers) return;
      const apiKey = configKey(["apis", settings.apis.findIndex((api) => api.name === apiName), "callers"]);
      if (userFacing.includes(kind) && !callers.includes("users")) {
        problems.push(
          `${key("apis", position)}: "${apiName}" accepts only applications (${apiKey} is ${JSON.stringify(callers)}), and this ${kind} client acts for a signed-in user; add "users" to the API's callers or grant it to a daemon client.`,
        );
      }
      if (kind === "daemon" && !callers.includes("applications")) {
        problems.push(
          `${key("apis", position)}: "${apiName}" accepts only signed-in users (${apiKey} is ${JSON.stringify(callers)}), and this daemon client has no user; add "applications" to the API's callers or use a web, spa or native client.`,
        );
      }
      if (kind === "managedIdentity" && !callers.includes("applications")) {
        // A managed identity's token is an app-only token (entra-docs how-to-use-vm-token.md), carrying roles, never scp.
        problems.push(
          `${key("apis", position)}: "${apiName}" accepts only signed-in users (${apiKey} is ${JSON.stringify(callers)}), and a managed identity's token is an application's, with no user; add "applications" to the API's callers or grant the API to a web, spa or native client.`,
        );
      }
    });
  });
  return problems;
}

const whereItRuns = { spa: "in the user's browser", native: "on the user's device" } as const;
const credentialKeys = ["secrets", "secretRotatedOn", "secretLifetimeDays", "federatedCredentials"] as const;

/**
 * What a public client may not have, one line per key, each about its kind: a credential other than none (its kind's
 * default) and any secret or federated credential. The checks of those keys' own form are skipped for such a client.
 */
function publicClientCredentialProblems(client: ClientEntry, key: (...path: string[]) => string): string[] {
  const { kind } = client;
  if (!isPublicClient(kind)) return [];
  const why = `is not allowed for a ${kind} client: it runs ${whereItRuns[kind]} as a public client and can keep no credential`;
  const problems =
    client.credential === "none"
      ? []
      : [`${key("credential")}: "${client.credential}" ${why}; remove it (a ${kind} client has credential "none").`];
  for (const field of credentialKeys) {
    if (client[field] !== undefined) problems.push(`${key(field)}: ${why}; remove it.`);
  }
  return problems;
}

/**
 * Value of the app role users and groups are assigned to on an API that accepts users. Graph's appRoleAssignment
 * resource type (appRoleId) says the default role id 00000000-0000-0000-0000-000000000000 can be used when the resource
 * app declares no app roles; the API app declares its application permission, so users get a role of their own, which
 * also says in the token what they were assigned.
 */
export const signedInUserRole = "signed_in_user";

/**
 * Cross-key rules of `apis[].assignedPrincipals`: only on an API whose callers include users, each principal once,
 * and the user role's value free (an app's role and scope values share one namespace).
 */
export function userAssignmentProblems(settings: Settings): string[] {
  const problems: string[] = [];
  settings.apis.forEach((api, index) => {
    const key = (...path: (string | number)[]) => configKey(["apis", index, ...path]);
    const acceptsUsers = api.callers.includes("users");
    const principals = api.assignedPrincipals ?? [];
    if (principals.length > 0 && !acceptsUsers) {
      problems.push(
        `${key("assignedPrincipals")}: ${JSON.stringify(principals)} is not allowed while ${key("callers")} is ${JSON.stringify(api.callers)}: only users sign in, so add "users" to the API's callers or remove assignedPrincipals.`,
      );
    }
    const lower = principals.map((principal) => principal.toLowerCase());
    for (const principal of new Set(lower.filter((principal, position) => lower.indexOf(principal) !== position))) {
      problems.push(`${key("assignedPrincipals")}: "${principal}" is listed more than once.`);
    }
    if (!acceptsUsers) return;
    for (const field of ["appRole", "scope"] as const) {
      if (api[field] === signedInUserRole) {
        problems.push(
          `${key(field)}: "${signedInUserRole}" is not allowed on an API whose callers include "users": it is the value of the role users are assigned to; choose another value.`,
        );
      }
    }
  });
  return problems;
}

/** The id of an API's developer-portal authorization server in APIM: `<APIM API id>-entra`. */
export const portalServerId = (apiId: string) => `${apiId}-entra`;

/**
 * Where the developer portal receives an authorization code for an API's server (APIM "Protect an API in the developer
 * portal with OAuth 2.0": `/signin-oauth/code/callback/{authServerName}` on the portal's default host).
 */
export const portalCallbackUri = (serviceName: string, apiId: string) =>
  `https://${serviceName}.developer.azure-api.net/signin-oauth/code/callback/${portalServerId(apiId)}`;

/** Why Entra, or the OAuth rules it follows, would refuse `uri` as a redirect URI of a `kind` client. */
export function redirectUriFault(uri: string, kind: Kind): string | undefined {
  if (uri.length > maxRedirectUriLength) {
    return `it has ${uri.length} characters; Entra allows at most ${maxRedirectUriLength}.`;
  }
  if (uri.includes("*")) return "wildcards are not allowed: register each exact URI.";
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "use an absolute URI (e.g. https://app.example.com/signin-oidc).";
  }
  if (uri.includes("#")) return "a redirect URI must not have a fragment (#…).";
  if (url.username || url.password) return "a redirect URI must not carry credentials.";
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:") {
    if (url.hostname === "[::1]") return "Entra does not support the IPv6 loopback; use http://127.0.0.1/<path>.";
    if (loopbackHosts.includes(url.hostname)) return undefined;
    return "use https://; http:// only on a loopback host (http://127.0.0.1/<path> or http://localhost/<path>).";
  }
  // Native apps receive the code on a private-use scheme such as msauth.<bundle id>://auth (RFC 8252 §7.1).
  if (kind === "native") return undefined;
  return `a ${kind} client's redirect URI must be https:// (http:// only on 127.0.0.1 or localhost); custom schemes such as ${url.protocol}// are for native clients.`;
}
