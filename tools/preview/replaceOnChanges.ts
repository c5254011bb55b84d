/**
 * Inputs whose change replaces a resource instead of updating it, per resource type: what `npm run plan -- --base`
 * marks `+-`. One table, so a provider upgrade is reviewed in one place.
 *
 * azuread: @pulumi/azuread bridges hashicorp/terraform-provider-azuread; the inputs below are the fields with
 * `ForceNew: true` in its schemas, internal/services/<service>/<resource>_resource.go (read at commit
 * f0169e0ecec4a7f87c0a512fd989368a182306c1, 2026-08-17). `azuread_application_registration` has none: its display
 * name, audience and token version update in place.
 *
 * azure-native: a resource is replaced when its ARM id changes, i.e. any property in the path of its REST PUT
 * (pulumi/pulumi-azure-native provider/pkg/resources/resources.go, `AzureAPIProperty.ForceNew`, set for path
 * parameters). Paths from the API Management REST reference (learn.microsoft.com/rest/api/apimanagement):
 * `.../service/{serviceName}/apis/{apiId}[/policies/{policyId} | /operations/{operationId}]`,
 * `.../service/{serviceName}/authorizationServers/{authsid}`; role assignments (bootstrap/) from the Authorization REST
 * reference: `{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}`; user-assigned identities
 * from Microsoft.ManagedIdentity 2023-01-31 (azure-rest-api-specs specification/msi): `.../resourceGroups/
 * {resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}`, and `location`, which
 * its PATCH body (IdentityUpdate) marks create-only (`x-ms-mutability: read, create`).
 */
export const replaceOnChanges: Readonly<Record<string, readonly string[]>> = {
  "azuread:index/applicationRegistration:ApplicationRegistration": [],
  "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri": ["applicationId", "identifierUri"],
  "azuread:index/applicationAppRole:ApplicationAppRole": ["applicationId", "roleId"],
  "azuread:index/applicationPermissionScope:ApplicationPermissionScope": ["applicationId", "scopeId"],
  "azuread:index/applicationPassword:ApplicationPassword": [
    "applicationId",
    "displayName",
    "startDate",
    "endDate",
    "endDateRelative",
    "rotateWhenChanged",
  ],
  "azuread:index/applicationApiAccess:ApplicationApiAccess": ["applicationId", "apiClientId"],
  "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": [
    "applicationId",
    "displayName",
  ],
  "azuread:index/applicationRedirectUris:ApplicationRedirectUris": ["applicationId", "type"],
  "azuread:index/servicePrincipal:ServicePrincipal": ["clientId"],
  "azuread:index/appRoleAssignment:AppRoleAssignment": ["appRoleId", "principalObjectId", "resourceObjectId"],
  "azuread:index/applicationFallbackPublicClient:ApplicationFallbackPublicClient": ["applicationId", "enabled"],
  "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant": [
    "resourceServicePrincipalObjectId",
    "servicePrincipalObjectId",
    "userObjectId",
  ],
  "azure-native:apimanagement:ApiManagementService": ["resourceGroupName", "serviceName"],
  "azure-native:apimanagement:Api": ["resourceGroupName", "serviceName", "apiId"],
  "azure-native:apimanagement:ApiPolicy": ["resourceGroupName", "serviceName", "apiId", "policyId"],
  "azure-native:apimanagement:ApiOperation": ["resourceGroupName", "serviceName", "apiId", "operationId"],
  "azure-native:apimanagement:AuthorizationServer": ["resourceGroupName", "serviceName", "authsid"],
  "azure-native:authorization:RoleAssignment": ["scope", "roleAssignmentName"],
  "azure-native:managedidentity:UserAssignedIdentity": ["resourceGroupName", "resourceName", "location"],
};
