import { isWithinScope } from "./armIds";
import type { ArmStore } from "./armStore";

export interface BuiltInRoleDefinition {
  roleName: string;
  description: string;
  actions: string[];
  notActions: string[];
}

export const roleAssignmentType = "Microsoft.Authorization/roleAssignments";

/**
 * The Azure built-in roles this project assigns or relies on, with their control-plane permissions (Azure built-in
 * roles, learn.microsoft.com/azure/role-based-access-control/built-in-roles: General and Integration). Their ids
 * are the same in every tenant.
 */
export const builtInRoles: Readonly<Record<string, BuiltInRoleDefinition>> = {
  "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": {
    roleName: "Owner",
    description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
    actions: ["*"],
    notActions: [],
  },
  "b24988ac-6180-42a0-ab88-20f7382dd24c": {
    roleName: "Contributor",
    description:
      "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
    actions: ["*"],
    notActions: [
      "Microsoft.Authorization/*/Delete",
      "Microsoft.Authorization/*/Write",
      "Microsoft.Authorization/elevateAccess/Action",
      "Microsoft.Blueprint/blueprintAssignments/write",
      "Microsoft.Blueprint/blueprintAssignments/delete",
      "Microsoft.Compute/galleries/share/action",
    ],
  },
  "acdd72a7-3385-48ef-bd42-f606fba81ae7": {
    roleName: "Reader",
    description: "View all resources, but does not allow you to make any changes.",
    actions: ["*/read"],
    notActions: [],
  },
  "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": {
    roleName: "User Access Administrator",
    description: "Lets you manage user access to Azure resources.",
    actions: ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
    notActions: [],
  },
  "312a565d-c81f-4fd8-895a-4e21e48d571c": {
    roleName: "API Management Service Contributor",
    description: "Can manage service and the APIs",
    actions: [
      "Microsoft.ApiManagement/service/*",
      "Microsoft.Authorization/*/read",
      "Microsoft.Insights/alertRules/*",
      "Microsoft.ResourceHealth/availabilityStatuses/read",
      "Microsoft.Resources/deployments/*",
      "Microsoft.Resources/subscriptions/resourceGroups/read",
      "Microsoft.Support/*",
    ],
    notActions: [],
  },
};

/** Azure RBAC's action patterns: `*` stands for any run of characters; comparison ignores case. */
function matches(pattern: string, action: string): boolean {
  const expression = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${expression}$`, "i").test(action);
}

/** The scope a role assignment was made at: its id without the `/providers/Microsoft.Authorization/…` suffix. */
export function assignmentScope(assignmentId: string): string {
  const marker = assignmentId.toLowerCase().lastIndexOf("/providers/microsoft.authorization/roleassignments/");
  return marker <= 0 ? "/" : assignmentId.slice(0, marker);
}

/** The role definition id's last segment (the role's GUID), whatever scope prefix it was written with. */
export const roleGuidOf = (roleDefinitionId: string) =>
  roleDefinitionId.slice(roleDefinitionId.lastIndexOf("/") + 1).toLowerCase();

/**
 * Whether a principal may perform an action on a resource: some role assignment of it at the resource's scope or
 * above grants a role whose actions match and whose notActions do not.
 */
export function isPermitted(store: ArmStore, principalId: string, action: string, resourceId: string): boolean {
  return store.ofType(roleAssignmentType).some((assignment) => {
    const properties = assignment.body.properties as { principalId?: string; roleDefinitionId?: string };
    if (properties.principalId?.toLowerCase() !== principalId.toLowerCase()) return false;
    if (!isWithinScope(resourceId, assignmentScope(assignment.id))) return false;
    const role = builtInRoles[roleGuidOf(properties.roleDefinitionId ?? "")];
    if (!role) return false;
    return (
      role.actions.some((pattern) => matches(pattern, action)) &&
      !role.notActions.some((pattern) => matches(pattern, action))
    );
  });
}
