/**
 * The ids under which @pulumi/azuread imports an existing Entra object (Pulumi's `import` resource option): exactly the
 * ids hashicorp/terraform-provider-azuread gives its resources, from its parse/*.go and go-azure-sdk's
 * microsoft-graph/common-types/stable/id_*.go (read at commit f0169e0ecec4a7f87c0a512fd989368a182306c1). An id of
 * another form is refused at import, or names another object.
 */
export const importIds = {
  /** stable.ApplicationId: `/applications/{applicationId}` (the object id). */
  application: (objectId: string) => `/applications/${objectId}`,
  /** stable.ServicePrincipalId: `/servicePrincipals/{servicePrincipalId}`. */
  servicePrincipal: (objectId: string) => `/servicePrincipals/${objectId}`,
  /** parse.IdentifierUriId: the URI in standard base64 (application_identifier_uri_resource.go, StdEncoding). */
  identifierUri: (objectId: string, uri: string) =>
    `/applications/${objectId}/identifierUris/${Buffer.from(uri, "utf8").toString("base64")}`,
  /** parse.AppRoleId. */
  appRole: (objectId: string, roleId: string) => `/applications/${objectId}/appRoles/${roleId}`,
  /** parse.PermissionScopeId. */
  permissionScope: (objectId: string, scopeId: string) => `/applications/${objectId}/permissionScopes/${scopeId}`,
  /** parse.ApiAccessId: the client app's object id and the API's client id. */
  apiAccess: (objectId: string, apiClientId: string) => `/applications/${objectId}/apiAccess/${apiClientId}`,
  /** parse.RedirectUrisId: `Web`, `SPA` or `PublicClient`. */
  redirectUris: (objectId: string, type: string) => `/applications/${objectId}/redirectUris/${type}`,
  /** stable.ServicePrincipalIdAppRoleAssignedToId: the resource (API) principal and the assignment's id. */
  appRoleAssignment: (resourceObjectId: string, assignmentId: string) =>
    `/servicePrincipals/${resourceObjectId}/appRoleAssignedTo/${assignmentId}`,
  /** stable.OAuth2PermissionGrantId. */
  delegatedPermissionGrant: (grantId: string) => `/oauth2PermissionGrants/${grantId}`,
} as const;
