import { GraphError } from "../graphClient";
import type { PropertyMap } from "../properties";
import { failed, type Operation } from "../resourceType";

/** The parts of Graph's `servicePrincipal` resource the provider reads. */
export interface GraphServicePrincipal {
  id: string;
  appId?: string | null;
  accountEnabled?: boolean | null;
  alternativeNames?: string[] | null;
  appRoleAssignmentRequired?: boolean | null;
  appOwnerOrganizationId?: string | null;
  appRoles?: GraphRole[] | null;
  description?: string | null;
  displayName?: string | null;
  homepage?: string | null;
  loginUrl?: string | null;
  logoutUrl?: string | null;
  notes?: string | null;
  notificationEmailAddresses?: string[] | null;
  oauth2PermissionScopes?: GraphScope[] | null;
  preferredSingleSignOnMode?: string | null;
  replyUrls?: string[] | null;
  samlSingleSignOnSettings?: { relayState?: string | null } | null;
  servicePrincipalNames?: string[] | null;
  signInAudience?: string | null;
  servicePrincipalType?: string | null;
  tags?: string[] | null;
}

export interface GraphRole {
  id?: string;
  allowedMemberTypes?: string[] | null;
  description?: string | null;
  displayName?: string | null;
  isEnabled?: boolean | null;
  value?: string | null;
}

export interface GraphScope {
  id?: string;
  adminConsentDescription?: string | null;
  adminConsentDisplayName?: string | null;
  isEnabled?: boolean | null;
  type?: string | null;
  userConsentDescription?: string | null;
  userConsentDisplayName?: string | null;
  value?: string | null;
}

/** go-azure-sdk service principal client `GetServicePrincipal`: GET /servicePrincipals/{id}. */
export async function getServicePrincipal(op: Operation, objectId: string): Promise<GraphServicePrincipal> {
  const response = await op.graph.call(
    { method: "GET", path: `/servicePrincipals/${objectId}`, expected: [200] },
    op.deadline,
  );
  return response.body as GraphServicePrincipal;
}

/** GetServicePrincipal where a 404 means the object is gone. */
export async function findServicePrincipal(
  op: Operation,
  objectId: string,
): Promise<GraphServicePrincipal | undefined> {
  try {
    return await getServicePrincipal(op, objectId);
  } catch (error) {
    if (error instanceof GraphError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * A service principal another resource refers to must exist: a 404 fails with `notFound`, any other error with
 * `unreadable` (app_role_assignment_resource.go and the delegated grant's create).
 */
export async function requireServicePrincipal(op: Operation, objectId: string, notFound: string, unreadable: string) {
  try {
    await getServicePrincipal(op, objectId);
  } catch (error) {
    const summary = error instanceof GraphError && error.status === 404 ? notFound : unreadable;
    throw failed(summary, error);
  }
}

/** The beta read both the resource and the data source make, because v1.0 lacks `samlMetadataUrl`. */
export async function samlMetadataUrl(op: Operation, objectId: string): Promise<string> {
  const response = await op.graph.call(
    {
      method: "GET",
      version: "beta",
      path: `/servicePrincipals/${objectId}`,
      query: { $select: "samlMetadataUrl" },
      expected: [200],
    },
    op.deadline,
  );
  return ((response.body as { samlMetadataUrl?: string | null } | undefined)?.samlMetadataUrl ?? "") as string;
}

/** GET /servicePrincipals?$filter=appId eq '<clientId>' (odata.EscapeSingleQuote doubles quotes). */
export async function servicePrincipalsOfApp(op: Operation, clientId: string): Promise<GraphServicePrincipal[]> {
  const filter = `appId eq '${clientId.replaceAll("'", "''")}'`;
  return (await op.graph.list(
    { method: "GET", path: "/servicePrincipals", query: { $filter: filter }, expected: [200] },
    op.deadline,
  )) as unknown as GraphServicePrincipal[];
}

/**
 * The service principal's fields under their Pulumi names, as service_principal_resource.go's read and
 * service_principal_data_source.go's read set them (helpers/applications flatteners for roles, scopes, features).
 */
export function servicePrincipalFields(sp: GraphServicePrincipal, metadataUrl: string): PropertyMap {
  const appRoles = sp.appRoles ?? [];
  const scopes = sp.oauth2PermissionScopes ?? [];
  return {
    accountEnabled: sp.accountEnabled ?? false,
    alternativeNames: sp.alternativeNames ?? [],
    ...(sp.appRoleAssignmentRequired === undefined || sp.appRoleAssignmentRequired === null
      ? {}
      : { appRoleAssignmentRequired: sp.appRoleAssignmentRequired }),
    appRoleIds: Object.fromEntries(
      appRoles.filter((role) => role.value && role.id).map((role) => [role.value, role.id]),
    ),
    appRoles: appRoles.map((role) => ({
      id: role.id ?? "",
      allowedMemberTypes: role.allowedMemberTypes ?? [],
      description: role.description ?? "",
      displayName: role.displayName ?? "",
      enabled: role.isEnabled === true,
      value: role.value ?? "",
    })),
    applicationTenantId: sp.appOwnerOrganizationId ?? "",
    clientId: sp.appId ?? "",
    description: sp.description ?? "",
    displayName: sp.displayName ?? "",
    featureTags: [featureTags(sp.tags ?? [])],
    features: [legacyFeatures(sp.tags ?? [])],
    homepageUrl: sp.homepage ?? "",
    logoutUrl: sp.logoutUrl ?? "",
    loginUrl: sp.loginUrl ?? "",
    notes: sp.notes ?? "",
    notificationEmailAddresses: sp.notificationEmailAddresses ?? [],
    oauth2PermissionScopeIds: Object.fromEntries(
      scopes.filter((scope) => scope.value && scope.id).map((scope) => [scope.value, scope.id]),
    ),
    oauth2PermissionScopes: scopes.map((scope) => ({
      adminConsentDescription: scope.adminConsentDescription ?? "",
      adminConsentDisplayName: scope.adminConsentDisplayName ?? "",
      id: scope.id ?? "",
      enabled: scope.isEnabled === true,
      type: scope.type ?? "",
      userConsentDescription: scope.userConsentDescription ?? "",
      userConsentDisplayName: scope.userConsentDisplayName ?? "",
      value: scope.value ?? "",
    })),
    objectId: sp.id,
    preferredSingleSignOnMode: sp.preferredSingleSignOnMode ?? "",
    redirectUris: sp.replyUrls ?? [],
    samlMetadataUrl: metadataUrl,
    // Exclude the app id from the names (the read says so).
    servicePrincipalNames: (sp.servicePrincipalNames ?? []).filter(
      (name) => name.toLowerCase() !== (sp.appId ?? "").toLowerCase(),
    ),
    signInAudience: sp.signInAudience ?? "",
    tags: sp.tags ?? [],
    type: sp.servicePrincipalType ?? "",
  };
}

/** The SAML settings block: one item when Graph has settings, none when it has null. */
export function samlSingleSignOn(sp: GraphServicePrincipal): { relayState: string }[] {
  return sp.samlSingleSignOnSettings ? [{ relayState: sp.samlSingleSignOnSettings.relayState ?? "" }] : [];
}

const tagNames = {
  customSingleSignOn: "WindowsAzureActiveDirectoryCustomSingleSignOnApplication",
  enterprise: "WindowsAzureActiveDirectoryIntegratedApp",
  gallery: "WindowsAzureActiveDirectoryGalleryApplicationNonPrimaryV1",
  hide: "HideApp",
} as const;

const hasTag = (tags: string[], tag: string) => tags.some((candidate) => candidate.toLowerCase() === tag.toLowerCase());

/** helpers/applications `FlattenFeatures(tags, false)`. */
function featureTags(tags: string[]) {
  return {
    customSingleSignOn: hasTag(tags, tagNames.customSingleSignOn),
    enterprise: hasTag(tags, tagNames.enterprise),
    gallery: hasTag(tags, tagNames.gallery),
    hide: hasTag(tags, tagNames.hide),
  };
}

/** helpers/applications `FlattenFeatures(tags, true)`: the deprecated block. */
function legacyFeatures(tags: string[]) {
  return {
    customSingleSignOnApp: hasTag(tags, tagNames.customSingleSignOn),
    enterpriseApplication: hasTag(tags, tagNames.enterprise),
    galleryApplication: hasTag(tags, tagNames.gallery),
    visibleToUsers: !hasTag(tags, tagNames.hide),
  };
}

/** helpers/applications `ExpandFeatures`: the tags a `featureTags` or `features` block stands for. */
export function tagsOfFeatures(block: Record<string, unknown> | undefined): string[] {
  if (!block) return [];
  const tags: string[] = [];
  if (block.customSingleSignOn || block.customSingleSignOnApp) tags.push(tagNames.customSingleSignOn);
  if (block.enterprise || block.enterpriseApplication) tags.push(tagNames.enterprise);
  if (block.gallery || block.galleryApplication) tags.push(tagNames.gallery);
  if (block.hide || block.visibleToUsers === false) tags.push(tagNames.hide);
  return tags;
}
