/**
 * Resource ids exactly as the real provider writes them (pulumi-azuread passes the Terraform id through):
 * go-azure-sdk microsoft-graph common-types/stable/id_*.go for Graph paths, and terraform-provider-azuread
 * internal/services/applications/parse/*.go for the split application resources and credentials.
 */
const uuidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/** Segments of a Graph-style id such as `/applications/{applicationId}/appRoles/{roleId}`; static ones must match. */
function parseSegments(id: string, template: string): Record<string, string> {
  const expected = template.split("/").slice(1);
  const actual = id.split("/").slice(1);
  const fail = () => new Error(`parsing ${JSON.stringify(id)}: expected an id of the form ${template}`);
  if (!id.startsWith("/") || actual.length !== expected.length) throw fail();
  const values: Record<string, string> = {};
  expected.forEach((segment, index) => {
    const value = actual[index] ?? "";
    if (segment.startsWith("{")) {
      if (value === "") throw fail();
      values[segment.slice(1, -1)] = value;
    } else if (segment !== value) {
      throw fail();
    }
  });
  return values;
}

export const applicationId = (objectId: string) => `/applications/${objectId}`;

/** stable.ParseApplicationID: the `applicationId` input and the ApplicationRegistration id. */
export function parseApplicationId(id: string): string {
  return parseSegments(id, "/applications/{applicationId}").applicationId as string;
}

export const servicePrincipalId = (objectId: string) => `/servicePrincipals/${objectId}`;

export function parseServicePrincipalId(id: string): string {
  return parseSegments(id, "/servicePrincipals/{servicePrincipalId}").servicePrincipalId as string;
}

/** The split resources' ids: `/applications/{applicationId}/{kind}/{subId}` (parse/app_role.go and siblings). */
export type ApplicationPart = "appRoles" | "permissionScopes" | "identifierUris" | "apiAccess" | "redirectUris";

export const applicationPartId = (objectId: string, part: ApplicationPart, subId: string) =>
  `/applications/${objectId}/${part}/${subId}`;

export function parseApplicationPartId(id: string, part: ApplicationPart): { objectId: string; subId: string } {
  const values = parseSegments(id, `/applications/{applicationId}/${part}/{subId}`);
  return { objectId: values.applicationId as string, subId: values.subId as string };
}

/** parse/fallback_public_client.go: `/applications/{applicationId}/fallbackPublicClient`. */
export const fallbackPublicClientId = (objectId: string) => `/applications/${objectId}/fallbackPublicClient`;

export function parseFallbackPublicClientId(id: string): string {
  return parseSegments(id, "/applications/{applicationId}/fallbackPublicClient").applicationId as string;
}

/** parse/credentials.go `CredentialId.String()`: `{objectId}/{type}/{keyId}`, without a leading slash. */
export type CredentialKind = "password" | "federatedIdentityCredential";

export const credentialId = (objectId: string, kind: CredentialKind, keyId: string) => `${objectId}/${kind}/${keyId}`;

/** parse/object.go `ObjectSubResourceID`: three parts, both ids UUIDs, the middle one the expected kind. */
export function parseCredentialId(id: string, kind: CredentialKind): { objectId: string; keyId: string } {
  const [objectId = "", type = "", keyId = "", ...rest] = id.split("/");
  if (rest.length > 0 || keyId === "") {
    throw new Error(
      `object Resource ID should be in the format {objectId}/{type}/{subId} - but got ${JSON.stringify(id)}`,
    );
  }
  if (!isUuid(objectId)) throw new Error(`object ID isn't a valid UUID (${JSON.stringify(objectId)})`);
  if (type !== kind) throw new Error(`type in {objectID}/{type}/{subID} was expected to be ${kind}, got ${type}`);
  if (!isUuid(keyId)) throw new Error(`object Sub Resource ID isn't a valid UUID (${JSON.stringify(keyId)})`);
  return { objectId, keyId };
}

/** stable id_serviceprincipalidapproleassignedto.go: `/servicePrincipals/{resourceId}/appRoleAssignedTo/{id}`. */
export const appRoleAssignmentId = (resourceObjectId: string, assignmentId: string) =>
  `/servicePrincipals/${resourceObjectId}/appRoleAssignedTo/${assignmentId}`;

export function parseAppRoleAssignmentId(id: string): { resourceObjectId: string; assignmentId: string } {
  const values = parseSegments(id, "/servicePrincipals/{servicePrincipalId}/appRoleAssignedTo/{appRoleAssignmentId}");
  return { resourceObjectId: values.servicePrincipalId as string, assignmentId: values.appRoleAssignmentId as string };
}

/** stable id_oauth2permissiongrant.go: `/oauth2PermissionGrants/{id}`. */
export const delegatedPermissionGrantId = (grantId: string) => `/oauth2PermissionGrants/${grantId}`;

export function parseDelegatedPermissionGrantId(id: string): string {
  return parseSegments(id, "/oauth2PermissionGrants/{oAuth2PermissionGrantId}").oAuth2PermissionGrantId as string;
}
