import * as authorization from "@pulumi/azure-native/authorization";

/** Microsoft Graph's application id: the same well-known value in every tenant. */
export const microsoftGraphAppId = "00000003-0000-0000-c000-000000000000";

/**
 * What the deployer needs from Microsoft Graph, and no more:
 * - Application.ReadWrite.OwnedBy: create app registrations and service principals and manage only those it owns.
 *   Graph makes it the owner of each app registration it creates; a service principal keeps it as owner only because
 *   the main program lists it in `owners` (the provider removes the caller from a principal's owners otherwise);
 * - AppRoleAssignment.ReadWrite.All + Application.Read.All: grant admin consent, the pair Graph's documentation lists
 *   as least privileged for POST /servicePrincipals/{id}/appRoleAssignedTo.
 * Never Application.ReadWrite.All, Directory.ReadWrite.All or RoleManagement.*.
 */
export const deployerGraphPermissions = [
  "Application.ReadWrite.OwnedBy",
  "AppRoleAssignment.ReadWrite.All",
  "Application.Read.All",
] as const;

/**
 * Admin consent for a user-facing client (web, spa, native) is a delegated permission grant (oauth2PermissionGrant),
 * whose least privileged application permission is DelegatedPermissionGrant.ReadWrite.All (Graph "Create
 * oAuth2PermissionGrant"). Only a repository whose catalogue has such clients asks for it (`delegatedConsent`).
 */
export const delegatedConsentPermission = "DelegatedPermissionGrant.ReadWrite.All";

/** The Graph permissions this repository's deployer is granted. */
export const graphPermissionsOf = (config: { delegatedConsent: boolean }): string[] => [
  ...deployerGraphPermissions,
  ...(config.delegatedConsent ? [delegatedConsentPermission] : []),
];

/**
 * What the read-only preview identity reads from Graph when a preview refreshes (npm run drift): registrations,
 * service principals, their owners and app role assignments, whose least privileged read is Application.Read.All
 * (Graph "Get application", "Get servicePrincipal", "List appRoleAssignedTo"); and, in a catalogue with user-facing
 * clients, their delegated permission grants, whose least privileged read is Directory.Read.All (Graph "Get
 * oAuth2PermissionGrant"). Graph returns no secret value to either.
 */
export const previewGraphPermissionsOf = (config: { delegatedConsent: boolean }): string[] => [
  "Application.Read.All",
  ...(config.delegatedConsent ? ["Directory.Read.All"] : []),
];

/** An Azure built-in role: its id is the same in every tenant; the name is checked when the id is looked up. */
export interface BuiltInRole {
  id: string;
  name: string;
}

/** Manage the APIM service and its APIs, nothing else (Azure built-in roles, "Integration"). */
export const apimServiceContributor: BuiltInRole = {
  id: "312a565d-c81f-4fd8-895a-4e21e48d571c",
  name: "API Management Service Contributor",
};

/** Read, for `pulumi preview` on pull requests. Reader excludes the APIM actions that list secrets. */
export const reader: BuiltInRole = { id: "acdd72a7-3385-48ef-bd42-f606fba81ae7", name: "Reader" };

/** The id of the Graph app role with this value, from Graph's own service principal (not hard-coded). */
export function graphAppRoleId(graph: { appRoles: { id: string; value: string }[] }, value: string): string {
  const role = graph.appRoles.find((candidate) => candidate.value === value);
  if (!role) throw new Error(`Microsoft Graph's service principal has no application permission "${value}".`);
  return role.id;
}

/**
 * The full role definition id of a built-in role at a scope. azure-native looks role definitions up by id, not by
 * name, so the id is the documented one and the name is verified: a wrong id stops the preview.
 */
export async function roleDefinitionAt(role: BuiltInRole, scope: string): Promise<string> {
  const found = await authorization.getRoleDefinition({ roleDefinitionId: role.id, scope });
  if (found.roleName !== role.name) {
    throw new Error(`Role definition ${role.id} is "${found.roleName}", not "${role.name}"; refusing to assign it.`);
  }
  return found.id;
}
