import { applicationIdFormat, claimValue, items, nonEmptyString, oneOf, uuid } from "../validation";
import { entitlementResource } from "./entitlementResource";
import { appRoles } from "./entitlements";

/** terraform-provider-azuread internal/services/applications/application_app_role_resource.go. */
export const applicationAppRole = entitlementResource({
  token: "azuread:index/applicationAppRole:ApplicationAppRole",
  resourceName: "azuread_application_app_role",
  kind: appRoles,
  part: "appRoles",
  idInput: "roleId",
  describe: (objectId, roleId) =>
    `App Role (Application ID: ${JSON.stringify(objectId)}, Role ID: ${JSON.stringify(roleId)})`,
  properties: {
    applicationId: { type: "string", required: true, validate: applicationIdFormat },
    roleId: { type: "string", required: true, validate: uuid },
    allowedMemberTypes: { type: "set", required: true, validate: items(oneOf("Application", "User"), { min: 1 }) },
    description: { type: "string", required: true, validate: nonEmptyString },
    displayName: { type: "string", required: true, validate: nonEmptyString },
    value: { type: "string", validate: claimValue },
  },
  toGraph: (inputs, roleId) => ({
    id: roleId,
    isEnabled: true,
    allowedMemberTypes: inputs.allowedMemberTypes,
    description: inputs.description,
    displayName: inputs.displayName,
    value: inputs.value,
  }),
  toState: (role) => ({
    allowedMemberTypes: role.allowedMemberTypes ?? [],
    description: role.description ?? "",
    displayName: role.displayName ?? "",
    value: role.value ?? "",
  }),
});
