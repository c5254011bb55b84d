import type { MockEvaluation, MockedResource } from "../../tools/preview/mockEngine";
import { parseStackOutputs } from "../../tools/sign-in/stackOutputs";
import type { EntraStandInOptions, StandInFederatedCredential } from "./entraStandIn";

const servicePrincipalType = "azuread:index/servicePrincipal:ServicePrincipal";
const appRoleAssignmentType = "azuread:index/appRoleAssignment:AppRoleAssignment";
const applicationType = "azuread:index/applicationRegistration:ApplicationRegistration";
const federatedCredentialType =
  "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential";

export type EntraDirectory = Pick<EntraStandInOptions, "clients" | "apis" | "assignments">;

/**
 * The directory Entra would hold after deploying the evaluated program: its clients and APIs from the outputs,
 * whether each API requires assignment from its service principal, the app role assignments it made, and the
 * federated credentials it put on each client's app registration.
 * Nothing is assumed: what the program does not register, the stand-in does not have.
 */
export function entraDirectoryOf(evaluation: MockEvaluation): EntraDirectory {
  const outputs = parseStackOutputs(evaluation.outputs, "the evaluation's outputs");
  const servicePrincipals = evaluation.resources.filter((resource) => resource.type === servicePrincipalType);
  const federatedByClientId = federatedCredentialsOf(evaluation);

  const clients = Object.entries(outputs.clients).map(([name, client]) => {
    const federatedCredentials = federatedByClientId.get(client.clientId);
    return {
      clientId: client.clientId,
      ...(client.clientSecret ? { secret: client.clientSecret } : {}),
      ...(federatedCredentials ? { federatedCredentials } : {}),
      displayName: name,
    };
  });

  const apis = Object.entries(outputs.apis).map(([name, api]) => {
    const principal = onlyPrincipal(servicePrincipals, (sp) => sp.inputs.clientId === api.clientId, api.clientId);
    return {
      clientId: api.clientId,
      identifierUri: api.identifierUri,
      tokenVersion: api.tokenVersion,
      appRoleAssignmentRequired: principal.inputs.appRoleAssignmentRequired === true,
      roles: [{ id: api.appRoleId, value: api.appRole }],
      displayName: name,
    };
  });

  const clientIdOfPrincipal = (objectId: unknown): string => {
    const principal = onlyPrincipal(servicePrincipals, (sp) => sp.state.objectId === objectId, String(objectId));
    return String(principal.inputs.clientId);
  };
  const assignments = evaluation.resources
    .filter((resource) => resource.type === appRoleAssignmentType && isServicePrincipal(evaluation, resource))
    .map((assignment) => ({
      clientId: clientIdOfPrincipal(assignment.inputs.principalObjectId),
      apiClientId: clientIdOfPrincipal(assignment.inputs.resourceObjectId),
      roleId: String(assignment.inputs.appRoleId),
    }));

  return { clients, apis, assignments };
}

/** Whether an app role assignment is made to an application (its principal is a service principal), not a user. */
function isServicePrincipal(evaluation: MockEvaluation, assignment: MockedResource): boolean {
  return evaluation.resources.some(
    (resource) =>
      resource.type === servicePrincipalType && resource.state.objectId === assignment.inputs.principalObjectId,
  );
}

/** Each federated identity credential, under the client id of the app registration whose `id` it names. */
function federatedCredentialsOf(evaluation: MockEvaluation): Map<string, StandInFederatedCredential[]> {
  const applications = evaluation.resources.filter((resource) => resource.type === applicationType);
  const byClientId = new Map<string, StandInFederatedCredential[]>();
  for (const credential of evaluation.resources.filter((resource) => resource.type === federatedCredentialType)) {
    const owners = applications.filter((application) => application.id === credential.inputs.applicationId);
    if (owners.length !== 1) {
      throw new Error(
        `expected one app registration for federated credential ${credential.name}, found ${owners.length}`,
      );
    }
    const clientId = String(owners[0]?.state.clientId);
    const audiences = credential.inputs.audiences;
    byClientId.set(clientId, [
      ...(byClientId.get(clientId) ?? []),
      {
        issuer: String(credential.inputs.issuer),
        subject: String(credential.inputs.subject),
        audiences: Array.isArray(audiences) ? audiences.map(String) : [],
      },
    ]);
  }
  return byClientId;
}

function onlyPrincipal(
  principals: MockedResource[],
  matches: (principal: MockedResource) => boolean,
  what: string,
): MockedResource {
  const found = principals.filter(matches);
  if (found.length !== 1) throw new Error(`expected one service principal for ${what}, found ${found.length}`);
  return found[0] as MockedResource;
}

const redirectUrisType = "azuread:index/applicationRedirectUris:ApplicationRedirectUris";
const publicClientType = "azuread:index/applicationFallbackPublicClient:ApplicationFallbackPublicClient";
const permissionScopeType = "azuread:index/applicationPermissionScope:ApplicationPermissionScope";
const delegatedGrantType =
  "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant";

/**
 * As {@link entraDirectoryOf}, plus what users' sign-ins need, again only from what the program registered: each
 * client's redirect URIs and whether it allows public client flows, each API's delegated scopes, the tenant-wide
 * delegated permission grants (admin consent), and the users assigned to each API.
 */
export function userDirectoryOf(
  evaluation: MockEvaluation,
): EntraDirectory & Required<Pick<EntraStandInOptions, "delegatedGrants" | "userAssignments">> {
  const directory = entraDirectoryOf(evaluation);
  const ofType = (type: string) => evaluation.resources.filter((resource) => resource.type === type);
  const applications = ofType(applicationType);
  const clientIdOfApplication = (id: unknown) => {
    const owner = applications.filter((application) => application.id === id);
    if (owner.length !== 1) throw new Error(`expected one app registration with id ${String(id)}`);
    return String(owner[0]?.state.clientId);
  };
  const principals = ofType(servicePrincipalType);
  const clientIdOfPrincipal = (objectId: unknown) =>
    String(onlyPrincipal(principals, (sp) => sp.state.objectId === objectId, String(objectId)).inputs.clientId);
  const strings = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);

  const clients = directory.clients.map((client) => {
    const redirectUris = ofType(redirectUrisType)
      .filter((resource) => clientIdOfApplication(resource.inputs.applicationId) === client.clientId)
      .flatMap((resource) => strings(resource.inputs.redirectUris));
    const publicClient = ofType(publicClientType).some(
      (resource) =>
        clientIdOfApplication(resource.inputs.applicationId) === client.clientId && resource.inputs.enabled === true,
    );
    return {
      ...client,
      ...(redirectUris.length > 0 ? { redirectUris } : {}),
      ...(publicClient ? { publicClient } : {}),
    };
  });
  const apis = directory.apis.map((api) => ({
    ...api,
    scopes: ofType(permissionScopeType)
      .filter((scope) => clientIdOfApplication(scope.inputs.applicationId) === api.clientId)
      .map((scope) => ({ id: String(scope.inputs.scopeId), value: String(scope.inputs.value) })),
  }));
  const delegatedGrants = ofType(delegatedGrantType).map((grant) => ({
    clientId: clientIdOfPrincipal(grant.inputs.servicePrincipalObjectId),
    apiClientId: clientIdOfPrincipal(grant.inputs.resourceServicePrincipalObjectId),
    scopes: strings(grant.inputs.claimValues),
  }));
  // Users (or groups) assigned to an API's service principal; the stand-in knows users only, not their groups.
  const userAssignments = ofType(appRoleAssignmentType)
    .filter((assignment) => !isServicePrincipal(evaluation, assignment))
    .map((assignment) => ({
      userObjectId: String(assignment.inputs.principalObjectId),
      apiClientId: clientIdOfPrincipal(assignment.inputs.resourceObjectId),
    }));
  return { ...directory, clients, apis, delegatedGrants, userAssignments };
}
