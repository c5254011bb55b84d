/** Single-quotes a value for POSIX shells. */
const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * Guide step 4: the client-credentials request, with the client's id and secret left to the environment
 * (`CLIENT_ID`, `CLIENT_SECRET`) so that no secret is ever written into an output or a log.
 */
export function tokenRequestCommand(tokenEndpoint: string, scope: string): string {
  return [
    `curl -sS -X POST ${quote(tokenEndpoint)}`,
    "-d grant_type=client_credentials",
    `-d client_id="$CLIENT_ID"`,
    `--data-urlencode client_secret="$CLIENT_SECRET"`,
    `--data-urlencode scope=${quote(scope)}`,
  ].join(" ");
}

/** Guide step 7: calling the API through the gateway with the token from step 4 (`ACCESS_TOKEN`). */
export function apiCallCommand(apiUrl: string): string {
  return `curl -sS -i ${quote(`${apiUrl}/`)} -H "Authorization: Bearer $ACCESS_TOKEN"`;
}

/**
 * A managed identity's token for an API in two lines of JavaScript with Azure Identity (@azure/identity): the scope
 * `api://<api client id>/.default`, which its ManagedIdentityCredential turns into the host's `resource`. A user-assigned
 * identity is chosen by its client id (`managedIdentityClientId`); a resource's system-assigned identity is the
 * default one, and App Service documents `client_id` for user-assigned identities only.
 */
export function managedIdentityTokenExample(clientId: string, scope: string, assignedBy: "user" | "system"): string {
  const options = assignedBy === "user" ? `{ managedIdentityClientId: ${JSON.stringify(clientId)} }` : "";
  return [
    `const credential = new DefaultAzureCredential(${options});`,
    `const { token } = await credential.getToken(${JSON.stringify(scope)});`,
  ].join("\n");
}
