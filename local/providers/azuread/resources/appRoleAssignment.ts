import { errorMatches, GraphError } from "../graphClient";
import * as ids from "../ids";
import { failed, type ResourceType } from "../resourceType";
import { uuid } from "../validation";
import { requireServicePrincipal } from "./servicePrincipalObject";

interface GraphAppRoleAssignment {
  id?: string;
  appRoleId?: string;
  principalDisplayName?: string | null;
  principalId?: string | null;
  principalType?: string | null;
  resourceDisplayName?: string | null;
  resourceId?: string | null;
}

/**
 * terraform-provider-azuread internal/services/approleassignments/app_role_assignment_resource.go: the resource's
 * service principal must exist, then POST /servicePrincipals/{resource}/appRoleAssignedTo, retried only on 404 and on
 * 400 "Not a valid reference update". A 400 "Permission being assigned was not found" (a new role not yet replicated)
 * is not retried and fails the create (PR #1896).
 */
export const appRoleAssignment: ResourceType = {
  token: "azuread:index/appRoleAssignment:AppRoleAssignment",
  properties: {
    appRoleId: { type: "string", required: true, validate: uuid },
    principalObjectId: { type: "string", required: true, validate: uuid },
    resourceObjectId: { type: "string", required: true, validate: uuid },
  },
  timeouts: { create: 5, read: 5, delete: 5 },
  computedOutputs: ["principalDisplayName", "principalType", "resourceDisplayName"],

  async create(op, inputs) {
    const resourceId = inputs.resourceObjectId as string;
    await requireServicePrincipal(
      op,
      resourceId,
      `Service principal not found for resource (Object ID: ${JSON.stringify(resourceId)})`,
      `Could not retrieve service principal for resource (Object ID: ${JSON.stringify(resourceId)})`,
    );
    let assignment: GraphAppRoleAssignment;
    try {
      const response = await op.graph.call(
        {
          method: "POST",
          path: `/servicePrincipals/${resourceId}/appRoleAssignedTo`,
          body: {
            appRoleId: inputs.appRoleId,
            principalId: inputs.principalObjectId,
            resourceId,
            "@odata.type": "#microsoft.graph.appRoleAssignment",
          },
          expected: [200, 201, 202, 204],
          retryWhen: (status, error) =>
            status === 404 || (status === 400 && errorMatches(error, /Not a valid reference update/)),
        },
        op.deadline,
      );
      assignment = (response.body ?? {}) as GraphAppRoleAssignment;
    } catch (error) {
      throw failed("Could not create app role assignment", error);
    }
    if (!assignment.id) throw failed("Bad API response", "the ID returned for app role assignment is nil");
    if (!assignment.resourceId) throw failed("Bad API response", "resource ID returned for app role assignment is nil");
    return { id: ids.appRoleAssignmentId(assignment.resourceId, assignment.id) };
  },

  async read(op, id) {
    const { resourceObjectId, assignmentId } = ids.parseAppRoleAssignmentId(id);
    let assignment: GraphAppRoleAssignment;
    try {
      const response = await op.graph.call(
        {
          method: "GET",
          path: `/servicePrincipals/${resourceObjectId}/appRoleAssignedTo/${assignmentId}`,
          expected: [200],
        },
        op.deadline,
      );
      assignment = (response.body ?? {}) as GraphAppRoleAssignment;
    } catch (error) {
      if (error instanceof GraphError && error.status === 404) return undefined;
      throw failed(`retrieving ${id}`, error);
    }
    return {
      appRoleId: assignment.appRoleId ?? "",
      principalDisplayName: assignment.principalDisplayName ?? "",
      principalObjectId: assignment.principalId ?? "",
      principalType: assignment.principalType ?? "",
      resourceDisplayName: assignment.resourceDisplayName ?? "",
      resourceObjectId: assignment.resourceId ?? "",
    };
  },

  async delete(op, id) {
    const { resourceObjectId, assignmentId } = ids.parseAppRoleAssignmentId(id);
    await op.graph
      .call(
        {
          method: "DELETE",
          path: `/servicePrincipals/${resourceObjectId}/appRoleAssignedTo/${assignmentId}`,
          expected: [200, 204],
        },
        op.deadline,
      )
      .catch((error: unknown) => {
        throw failed(`Deleting ${id}`, error);
      });
  },
};
