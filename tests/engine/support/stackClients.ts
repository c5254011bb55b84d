// A deployed local stack as its users see it: its outputs, what a client holding a given secret gets through the
// gateway, and a registration's identity as the tenant's directory holds it (read through Graph).
import { apimApiVersion, armTypes } from "../../../local/armResources";
import type { LocalOptions } from "../../../local/cli";
import { localSubscriptionId } from "../../../local/server";
import { parseStackOutputs, type StackOutputs } from "../../../tools/sign-in/stackOutputs";
import { callApi, clientToken, type LocalSession } from "./localSession";

/** `pulumi stack output --json --show-secrets` of the local stack, parsed as the tools parse it. */
export async function stackOutputs(
  session: LocalSession,
  stack: string,
  options: Partial<LocalOptions> = {},
): Promise<StackOutputs> {
  const run = await session.localOk(
    ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack],
    options,
  );
  return parseStackOutputs(run.out, `stack ${stack}`);
}

/**
 * A client holding `secret` asks the tenant for a token for `api` and calls the API's root through the local gateway
 * with it: the gateway's status, or the tenant's refusal of the token (`refused: <error>: <description>`).
 */
export async function callWithSecret(
  session: LocalSession,
  outputs: StackOutputs,
  client: string,
  api: string,
  secret: string,
): Promise<number | string> {
  const { clientId, tokenEndpoint, scopes } = outputs.clients[client] ?? {};
  const url = outputs.apis[api]?.url;
  if (!clientId || !tokenEndpoint || !scopes?.[api] || !url) throw new Error(`the outputs name no ${client} → ${api}`);
  const token = await clientToken(session, { tokenEndpoint, clientId, clientSecret: secret }, scopes[api]);
  return "token" in token ? callApi(session, url, token.token) : `refused: ${token.refused}`;
}

/** An app registration as the directory holds it: object id, client id, name and its passwords' key ids and names. */
export interface DirectoryApplication {
  id: string;
  appId: string;
  displayName: string;
  passwords: { keyId: string; displayName: string }[];
}

export async function directoryApplication(session: LocalSession, appId: string): Promise<DirectoryApplication> {
  return applicationIdentity(await session.restOk("GET", `graph:/v1.0/applications(appId='${appId}')`));
}

function applicationIdentity(app: Record<string, unknown>): DirectoryApplication {
  const credentials = (app.passwordCredentials ?? []) as { keyId: string; displayName: string }[];
  return {
    id: app.id as string,
    appId: app.appId as string,
    displayName: app.displayName as string,
    passwords: credentials
      .map(({ keyId, displayName }) => ({ keyId, displayName }))
      .sort((a, b) => a.displayName.localeCompare(b.displayName)),
  };
}

/**
 * What a deployment must never lose, as the tenant holds it: every app registration (with its passwords), every
 * service principal and admin consent, and the ids of the APIM APIs of the stack's service. Equal snapshots before and after an `up`
 * mean nothing was replaced or deleted and made again.
 */
export async function identitySnapshot(
  session: LocalSession,
  apim: { resourceGroupName: string; serviceName: string },
) {
  const service = `/subscriptions/${localSubscriptionId}/resourceGroups/${apim.resourceGroupName}/providers/${armTypes.service}/${apim.serviceName}`;
  const list = async (target: string) => (await session.restOk("GET", target)).value as Record<string, unknown>[];
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  const servicePrincipals = (await list("graph:/v1.0/servicePrincipals"))
    .map((sp) => ({ id: sp.id as string, appId: sp.appId as string }))
    .sort(byId);
  const assignments = await Promise.all(
    servicePrincipals.map(({ id }) => list(`graph:/v1.0/servicePrincipals/${id}/appRoleAssignedTo`)),
  );
  return {
    applications: (await list("graph:/v1.0/applications")).map(applicationIdentity).sort(byId),
    servicePrincipals,
    /** The admin consents (app role assignments), by id: one deleted and made again gets a new id. */
    appRoleAssignments: assignments
      .flat()
      .map((assignment) => assignment.id as string)
      .sort(),
    apimApis: (await list(`arm:${service}/apis?api-version=${apimApiVersion}`)).map((api) => api.id as string).sort(),
  };
}
