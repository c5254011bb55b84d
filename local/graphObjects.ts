import { randomUUID } from "node:crypto";
import { z } from "zod";

// Microsoft Graph v1.0's shapes of the objects the local directory holds, the request bodies it accepts (a property
// Graph declares but the local tenant does not model is refused by name), and Graph's PATCH semantics.

export interface AppRole {
  id: string;
  allowedMemberTypes: string[];
  description: string | null;
  displayName: string | null;
  isEnabled: boolean;
  origin: string;
  value: string | null;
}

export interface PermissionScope {
  id: string;
  adminConsentDescription: string | null;
  adminConsentDisplayName: string | null;
  isEnabled: boolean;
  origin?: string;
  type: string | null;
  userConsentDescription: string | null;
  userConsentDisplayName: string | null;
  value: string | null;
}

export interface RequiredResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: string }[];
}

export interface PasswordCredential {
  customKeyIdentifier: string | null;
  displayName: string | null;
  endDateTime: string;
  hint: string;
  keyId: string;
  secretText: null;
  startDateTime: string;
}

/** What addPassword answers: the only time Graph shows a secret. */
export type NewPasswordCredential = Omit<PasswordCredential, "secretText"> & { secretText: string };

export interface FederatedIdentityCredential {
  id: string;
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
  description: string | null;
}

/** An application as GET /v1.0/applications/{id} returns it (the properties the local tenant models). */
export interface Application {
  id: string;
  appId: string;
  displayName: string | null;
  description: string | null;
  createdDateTime: string;
  deletedDateTime: string | null;
  signInAudience: string;
  identifierUris: string[];
  appRoles: AppRole[];
  api: {
    acceptMappedClaims: boolean | null;
    knownClientApplications: string[];
    oauth2PermissionScopes: PermissionScope[];
    preAuthorizedApplications: { appId: string; delegatedPermissionIds: string[] }[];
    requestedAccessTokenVersion: number | null;
  };
  groupMembershipClaims: string | null;
  info: Record<"logoUrl" | "marketingUrl" | "privacyStatementUrl" | "supportUrl" | "termsOfServiceUrl", string | null>;
  isFallbackPublicClient: boolean | null;
  keyCredentials: unknown[];
  notes: string | null;
  passwordCredentials: PasswordCredential[];
  publicClient: { redirectUris: string[] };
  publisherDomain: string;
  requiredResourceAccess: RequiredResourceAccess[];
  serviceManagementReference: string | null;
  spa: { redirectUris: string[] };
  tags: string[];
  web: {
    homePageUrl: string | null;
    logoutUrl: string | null;
    redirectUris: string[];
    implicitGrantSettings: { enableAccessTokenIssuance: boolean; enableIdTokenIssuance: boolean };
    redirectUriSettings: { uri: string; index: number | null }[];
  };
}

/** A service principal's own properties; its roles, scopes and names come from its application (see view). */
export interface ServicePrincipal {
  id: string;
  appId: string;
  accountEnabled: boolean;
  alternativeNames: string[];
  appRoleAssignmentRequired: boolean;
  description: string | null;
  displayName: string | null;
  loginUrl: string | null;
  notes: string | null;
  notificationEmailAddresses: string[];
  preferredSingleSignOnMode: string | null;
  samlSingleSignOnSettings: { relayState: string | null } | null;
  tags: string[];
  deletedDateTime: string | null;
}

export interface AppRoleAssignment {
  id: string;
  appRoleId: string;
  createdDateTime: string;
  deletedDateTime: null;
  principalDisplayName: string | null;
  principalId: string;
  principalType: "ServicePrincipal" | "User" | "Group";
  resourceDisplayName: string | null;
  resourceId: string;
}

export interface OAuth2PermissionGrant {
  id: string;
  clientId: string;
  consentType: "AllPrincipals" | "Principal";
  principalId: string | null;
  resourceId: string;
  scope: string;
}

export interface User {
  id: string;
  displayName: string;
  userPrincipalName: string;
  accountEnabled: boolean;
}

export interface Group {
  id: string;
  displayName: string;
  mailEnabled: boolean;
  mailNickname: string;
  securityEnabled: boolean;
  groupTypes: string[];
}

export class DirectoryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly detailCode?: string,
  ) {
    super(message);
  }
}

export function newApplication(id: string, now: number): Application {
  return {
    id,
    appId: randomUUID(),
    displayName: null,
    description: null,
    createdDateTime: new Date(now).toISOString(),
    deletedDateTime: null,
    signInAudience: "AzureADMyOrg",
    identifierUris: [],
    appRoles: [],
    api: {
      acceptMappedClaims: null,
      knownClientApplications: [],
      oauth2PermissionScopes: [],
      preAuthorizedApplications: [],
      requestedAccessTokenVersion: null,
    },
    groupMembershipClaims: null,
    info: { logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
    isFallbackPublicClient: null,
    keyCredentials: [],
    notes: null,
    passwordCredentials: [],
    publicClient: { redirectUris: [] },
    publisherDomain: "local.onmicrosoft.com",
    requiredResourceAccess: [],
    serviceManagementReference: null,
    spa: { redirectUris: [] },
    tags: [],
    web: {
      homePageUrl: null,
      logoutUrl: null,
      redirectUris: [],
      implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
      redirectUriSettings: [],
    },
  };
}

export function newServicePrincipal(appId: string, displayName: string | null): ServicePrincipal {
  return {
    id: randomUUID(),
    appId: appId.toLowerCase(),
    accountEnabled: true,
    alternativeNames: [],
    appRoleAssignmentRequired: false,
    description: null,
    displayName,
    loginUrl: null,
    notes: null,
    notificationEmailAddresses: [],
    preferredSingleSignOnMode: null,
    samlSingleSignOnSettings: null,
    tags: [],
    deletedDateTime: null,
  };
}

export function groupView(group: Group & { members?: string[] }): Group {
  const { members: _members, ...view } = group;
  return { ...view };
}

const nullableString = z.string().nullable();
export const appRoleInput = z.object({
  id: z.string(),
  allowedMemberTypes: z.array(z.enum(["User", "Application"])),
  description: nullableString.optional(),
  displayName: nullableString.optional(),
  isEnabled: z.boolean(),
  origin: z.string().optional(),
  value: nullableString.optional(),
});
const scopeInput = z.object({
  id: z.string(),
  adminConsentDescription: nullableString.optional(),
  adminConsentDisplayName: nullableString.optional(),
  isEnabled: z.boolean(),
  origin: z.string().optional(),
  type: z.enum(["User", "Admin"]).nullable().optional(),
  userConsentDescription: nullableString.optional(),
  userConsentDisplayName: nullableString.optional(),
  value: nullableString.optional(),
});
const redirectUris = z.object({ redirectUris: z.array(z.string()).optional() });

/** The application properties the local tenant models; any other property is refused, naming it. */
export const applicationInput = z
  .object({
    id: z.string().optional(),
    displayName: nullableString.optional(),
    description: nullableString.optional(),
    signInAudience: z
      .enum(["AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"])
      .optional(),
    identifierUris: z.array(z.string()).optional(),
    appRoles: z.array(appRoleInput).optional(),
    api: z
      .object({
        acceptMappedClaims: z.boolean().nullable().optional(),
        knownClientApplications: z.array(z.string()).optional(),
        oauth2PermissionScopes: z.array(scopeInput).optional(),
        preAuthorizedApplications: z
          .array(z.object({ appId: z.string(), delegatedPermissionIds: z.array(z.string()) }))
          .optional(),
        // Entra accepts null (v1, the default), 1 or 2 (Graph "apiApplication resource type").
        requestedAccessTokenVersion: z
          .union([z.literal(1), z.literal(2)])
          .nullable()
          .optional(),
      })
      .strict()
      .optional(),
    groupMembershipClaims: nullableString.optional(),
    info: z.record(z.string(), nullableString).optional(),
    isFallbackPublicClient: z.boolean().nullable().optional(),
    notes: nullableString.optional(),
    publicClient: redirectUris.strict().optional(),
    requiredResourceAccess: z
      .array(
        z.object({
          resourceAppId: z.string(),
          resourceAccess: z.array(z.object({ id: z.string(), type: z.enum(["Role", "Scope"]) })),
        }),
      )
      .optional(),
    serviceManagementReference: nullableString.optional(),
    spa: redirectUris.strict().optional(),
    tags: z.array(z.string()).optional(),
    web: z
      .object({
        homePageUrl: nullableString.optional(),
        logoutUrl: nullableString.optional(),
        redirectUris: z.array(z.string()).optional(),
        implicitGrantSettings: z
          .object({ enableAccessTokenIssuance: z.boolean().optional(), enableIdTokenIssuance: z.boolean().optional() })
          .optional(),
        redirectUriSettings: z.array(z.object({ uri: z.string(), index: z.number().nullable() })).optional(),
      })
      .strict()
      .optional(),
    "owners@odata.bind": z.array(z.string()).optional(),
  })
  .strict();

export const addPasswordInput = z
  .object({
    passwordCredential: z
      .object({
        displayName: nullableString.optional(),
        startDateTime: z.string().optional(),
        endDateTime: z.string().optional(),
      })
      .optional(),
  })
  .strict();

export const federatedCredentialInput = z
  .object({
    name: z.string().min(3).max(120),
    issuer: z.string().min(1).max(600),
    subject: z.string().min(1).max(600),
    audiences: z.array(z.string().max(600)),
    description: nullableString.optional(),
  })
  .strict();

export const servicePrincipalInput = z
  .object({
    id: z.string().optional(),
    accountEnabled: z.boolean().optional(),
    alternativeNames: z.array(z.string()).optional(),
    appRoleAssignmentRequired: z.boolean().optional(),
    description: nullableString.optional(),
    displayName: nullableString.optional(),
    loginUrl: nullableString.optional(),
    notes: nullableString.optional(),
    notificationEmailAddresses: z.array(z.string()).optional(),
    preferredSingleSignOnMode: nullableString.optional(),
    samlSingleSignOnSettings: z.object({ relayState: nullableString.optional() }).nullable().optional(),
    tags: z.array(z.string()).optional(),
    "owners@odata.bind": z.array(z.string()).optional(),
  })
  .strict();

export const grantInput = z
  .object({
    clientId: z.string(),
    consentType: z.enum(["AllPrincipals", "Principal"]),
    principalId: z.string().nullable().optional(),
    resourceId: z.string(),
    scope: nullableString.optional(),
  })
  .strict();

export const userInput = z
  .object({
    id: z.string().optional(),
    displayName: z.string(),
    userPrincipalName: z.string(),
    accountEnabled: z.boolean().optional(),
    mailNickname: z.string().optional(),
    passwordProfile: z.unknown().optional(),
  })
  .strict();

export const groupInput = z
  .object({
    id: z.string().optional(),
    displayName: z.string(),
    mailEnabled: z.boolean(),
    mailNickname: z.string(),
    securityEnabled: z.boolean(),
    groupTypes: z.array(z.string()).optional(),
    description: nullableString.optional(),
    "members@odata.bind": z.array(z.string()).optional(),
  })
  .strict();

/**
 * Parses a request body after dropping OData annotations (`@odata.type`, which go-azure-sdk adds to every object);
 * a property the type does not declare is Graph's 400 naming it.
 */
export function parse<T extends z.ZodType>(schema: T, body: unknown, typeName: string): z.infer<T> {
  const result = schema.safeParse(withoutAnnotations(body));
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join(".") ?? "";
  if (issue?.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    throw new DirectoryError(
      400,
      "Request_BadRequest",
      `Property '${key}' does not exist as a declared property or extension property of '${typeName}' in the local tenant.`,
      [path, key].filter(Boolean).join("."),
    );
  }
  throw new DirectoryError(
    400,
    "Request_BadRequest",
    `Invalid value for property '${path}': ${issue?.message ?? "invalid"}.`,
    path,
  );
}

function withoutAnnotations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutAnnotations);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !key.startsWith("@odata.") && key !== "odata.type")
      .map(([key, item]) => [key, withoutAnnotations(item)]),
  );
}

/** Graph's PATCH: a complex property merges into the stored one; a collection or scalar replaces it. */
export function mergeApplication(base: Application, input: Partial<Record<string, unknown>>): Application {
  const { "owners@odata.bind": _owners, id: _id, ...properties } = input;
  const merged = mergeObjects(base as unknown as Record<string, unknown>, properties) as unknown as Application;
  // Graph fills what a role or scope leaves out, so stored entries always compare field by field.
  merged.appRoles = merged.appRoles.map((role) => ({
    id: role.id.toLowerCase(),
    allowedMemberTypes: role.allowedMemberTypes,
    description: role.description ?? null,
    displayName: role.displayName ?? null,
    isEnabled: role.isEnabled,
    origin: role.origin ?? "Application",
    value: role.value ?? null,
  }));
  merged.api.oauth2PermissionScopes = merged.api.oauth2PermissionScopes.map((scope) => ({
    id: scope.id.toLowerCase(),
    adminConsentDescription: scope.adminConsentDescription ?? null,
    adminConsentDisplayName: scope.adminConsentDisplayName ?? null,
    isEnabled: scope.isEnabled,
    origin: scope.origin ?? "Application",
    type: scope.type ?? "User",
    userConsentDescription: scope.userConsentDescription ?? null,
    userConsentDisplayName: scope.userConsentDisplayName ?? null,
    value: scope.value ?? null,
  }));
  return merged;
}

function mergeObjects(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const result = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const current = result[key];
    const isObject = (item: unknown): item is Record<string, unknown> =>
      item !== null && typeof item === "object" && !Array.isArray(item);
    result[key] = isObject(value) && isObject(current) ? mergeObjects(current, value) : structuredClone(value);
  }
  return result;
}

export function applyServicePrincipal(
  base: ServicePrincipal,
  input: z.infer<typeof servicePrincipalInput>,
): ServicePrincipal {
  const { "owners@odata.bind": _owners, id: _id, samlSingleSignOnSettings, ...properties } = input;
  const applied: ServicePrincipal = {
    ...base,
    ...Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined)),
  };
  // The azuread provider posts `samlSingleSignOnSettings: {}` for a principal without SAML; Graph keeps no settings
  // then and reads back null, which the provider's Read maps to no samlSingleSignOn block.
  if (samlSingleSignOnSettings !== undefined) {
    const empty = samlSingleSignOnSettings === null || Object.keys(samlSingleSignOnSettings).length === 0;
    applied.samlSingleSignOnSettings = empty ? null : { relayState: samlSingleSignOnSettings.relayState ?? null };
  }
  return applied;
}

/** The object ids in `…/directoryObjects/{id}` references (owners@odata.bind, $ref bodies). */
export function bindIds(references: string[] | undefined): string[] {
  return (references ?? []).map(referencedId);
}

export function referencedId(reference: string): string {
  const id = reference.replace(/\/+$/, "").split("/").at(-1) ?? "";
  return id.replace(/^directoryObjects\('?|'?\)$/g, "").toLowerCase();
}

/** Object and application ids compare without regard to case, as Graph compares GUIDs. */
export function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
