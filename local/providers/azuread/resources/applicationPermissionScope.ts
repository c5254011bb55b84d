import { applicationIdFormat, claimValue, nonEmptyString, oneOf, uuid } from "../validation";
import { entitlementResource } from "./entitlementResource";
import { permissionScopes } from "./entitlements";

/** terraform-provider-azuread internal/services/applications/application_permission_scope_resource.go. */
export const applicationPermissionScope = entitlementResource({
  token: "azuread:index/applicationPermissionScope:ApplicationPermissionScope",
  resourceName: "azuread_application_permission_scope",
  kind: permissionScopes,
  part: "permissionScopes",
  idInput: "scopeId",
  describe: (objectId, scopeId) =>
    `Permission Scope (Application ID: ${JSON.stringify(objectId)}, Scope ID: ${JSON.stringify(scopeId)})`,
  properties: {
    applicationId: { type: "string", required: true, validate: applicationIdFormat },
    scopeId: { type: "string", required: true, validate: uuid },
    adminConsentDescription: { type: "string", required: true, validate: nonEmptyString },
    adminConsentDisplayName: { type: "string", required: true, validate: nonEmptyString },
    value: { type: "string", required: true, validate: claimValue },
    type: { type: "string", default: "User", validate: oneOf("Admin", "User") },
    userConsentDescription: { type: "string", validate: nonEmptyString },
    userConsentDisplayName: { type: "string", validate: nonEmptyString },
  },
  // Every text goes as a value (nullable.Value), so an unset user consent text is "" rather than null.
  toGraph: (inputs, scopeId) => ({
    id: scopeId,
    isEnabled: true,
    adminConsentDescription: inputs.adminConsentDescription,
    adminConsentDisplayName: inputs.adminConsentDisplayName,
    type: inputs.type,
    userConsentDescription: inputs.userConsentDescription,
    userConsentDisplayName: inputs.userConsentDisplayName,
    value: inputs.value,
  }),
  toState: (scope) => ({
    adminConsentDescription: scope.adminConsentDescription ?? "",
    adminConsentDisplayName: scope.adminConsentDisplayName ?? "",
    type: scope.type ?? "",
    userConsentDescription: scope.userConsentDescription ?? "",
    userConsentDisplayName: scope.userConsentDisplayName ?? "",
    value: scope.value ?? "",
  }),
});
