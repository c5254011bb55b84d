import type { MockEvaluation, MockedResource } from "../../tools/lib/mockEngine";
import { parseStackOutputs } from "../../tools/lib/stackOutputs";
import type { EntraStandInOptions } from "./entraStandIn";

const servicePrincipalType = "azuread:index/servicePrincipal:ServicePrincipal";
const appRoleAssignmentType = "azuread:index/appRoleAssignment:AppRoleAssignment";

export type EntraDirectory = Pick<EntraStandInOptions, "clients" | "apis" | "assignments">;

/**
 * The directory Entra would hold after deploying the evaluated program: its clients and APIs from the outputs,
 * whether each API requires assignment from its service principal, and the app role assignments it made.
 * Nothing is assumed: what the program does not register, the stand-in does not have.
 */
export function entraDirectoryOf(evaluation: MockEvaluation): EntraDirectory {
  const outputs = parseStackOutputs(evaluation.outputs, "the evaluation's outputs");
  const servicePrincipals = evaluation.resources.filter((resource) => resource.type === servicePrincipalType);

  const clients = Object.entries(outputs.clients).map(([name, client]) => ({
    clientId: client.clientId,
    ...(client.clientSecret ? { secret: client.clientSecret } : {}),
    displayName: name,
  }));

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
    .filter((resource) => resource.type === appRoleAssignmentType)
    .map((assignment) => ({
      clientId: clientIdOfPrincipal(assignment.inputs.principalObjectId),
      apiClientId: clientIdOfPrincipal(assignment.inputs.resourceObjectId),
      roleId: String(assignment.inputs.appRoleId),
    }));

  return { clients, apis, assignments };
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
