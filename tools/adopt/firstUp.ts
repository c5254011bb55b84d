import { signInName } from "../../components/renames";
import { types } from "../../guard/model";
import { type DiffResource, diffPlans, type PlannedChange } from "../preview/planDiff";
import { readPlanEntries } from "../preview/planEntries";
import type { GraphApplication } from "./graph";
import type { Observation } from "./observe";

type Inputs = Record<string, unknown>;

const signInType = "apim-entra-auth:identity:ClientSignIn";

/**
 * Values the azuread provider plans for inputs the program leaves out (the `Default` of each field in
 * terraform-provider-azuread's schemas, commit f0169e0e): an imported object differing from them is updated to them.
 */
const providerDefaults: Record<string, Inputs> = {
  [types.applicationRegistration]: { requestedAccessTokenVersion: 2, signInAudience: "AzureADMyOrg" },
  [types.servicePrincipal]: { accountEnabled: true },
  [types.permissionScope]: { type: "User" },
};

/**
 * Inputs as the provider compares them: defaults filled in, and empty values (absent, null, "", [], false) alike,
 * since every such field is Optional without Computed; lists are sets there, so order is no difference.
 */
export function comparable(type: string, inputs: Inputs): Inputs {
  const filled = { ...providerDefaults[type], ...inputs };
  return Object.fromEntries(
    Object.entries(filled).flatMap(([key, value]) => {
      if (value === undefined || value === null || value === "" || value === false) return [];
      if (Array.isArray(value)) {
        if (value.length === 0) return [];
        return [[key, value.every((item) => typeof item === "string") ? [...value].sort() : value]];
      }
      return [[key, value]];
    }),
  );
}

/** The app registration's fields as the provider reads them back (application_registration_resource.go, Read). */
function applicationInputs(app: GraphApplication): Inputs {
  return {
    displayName: app.displayName,
    description: app.description,
    notes: app.notes,
    signInAudience: app.signInAudience,
    // The provider reads a null version as 0 (GetOrZero): an app left at null is updated to the program's version.
    requestedAccessTokenVersion: app.api?.requestedAccessTokenVersion ?? 0,
    groupMembershipClaims: app.groupMembershipClaims ? app.groupMembershipClaims.split(",") : [],
    homepageUrl: app.web?.homePageUrl,
    logoutUrl: app.web?.logoutUrl,
    implicitAccessTokenIssuanceEnabled: app.web?.implicitGrantSettings?.enableAccessTokenIssuance,
    implicitIdTokenIssuanceEnabled: app.web?.implicitGrantSettings?.enableIdTokenIssuance,
    marketingUrl: app.info?.marketingUrl,
    privacyStatementUrl: app.info?.privacyStatementUrl,
    supportUrl: app.info?.supportUrl,
    termsOfServiceUrl: app.info?.termsOfServiceUrl,
    serviceManagementReference: app.serviceManagementReference,
  };
}

const redirectPlatforms = { Web: "web", SPA: "spa", PublicClient: "publicClient" } as const;

/**
 * What the provider would read for an import id, in the program's input names: the state the import puts in the stack,
 * which the program's inputs are then compared with. Undefined when the tenant holds no such object.
 */
export function observedInputs(importId: string, observation: Observation): Inputs | undefined {
  const apps = [...observation.apis, ...observation.clients];
  const appOf = (objectId: string) => apps.find((app) => app.application.id.toLowerCase() === objectId.toLowerCase());
  const segments = importId.split("/").slice(1);
  const [collection, id, child, childId] = segments;
  if (collection === "applications" && id) {
    const observed = appOf(id);
    if (!observed) return undefined;
    const app = observed.application;
    const applicationId = `/applications/${app.id}`;
    switch (child) {
      case undefined:
        return applicationInputs(app);
      case "identifierUris": {
        const uri = Buffer.from(childId ?? "", "base64").toString("utf8");
        return (app.identifierUris ?? []).includes(uri) ? { applicationId, identifierUri: uri } : undefined;
      }
      case "permissionScopes": {
        const scope = app.api?.oauth2PermissionScopes?.find((each) => each.id.toLowerCase() === childId?.toLowerCase());
        return (
          scope && {
            applicationId,
            scopeId: scope.id,
            value: scope.value,
            type: scope.type,
            adminConsentDisplayName: scope.adminConsentDisplayName,
            adminConsentDescription: scope.adminConsentDescription,
            userConsentDisplayName: scope.userConsentDisplayName,
            userConsentDescription: scope.userConsentDescription,
          }
        );
      }
      case "appRoles": {
        const role = app.appRoles?.find((each) => each.id.toLowerCase() === childId?.toLowerCase());
        return (
          role && {
            applicationId,
            roleId: role.id,
            value: role.value,
            allowedMemberTypes: role.allowedMemberTypes,
            displayName: role.displayName,
            description: role.description,
          }
        );
      }
      case "apiAccess": {
        const entry = app.requiredResourceAccess?.find(
          (each) => each.resourceAppId.toLowerCase() === childId?.toLowerCase(),
        );
        const ids = (type: string) =>
          entry?.resourceAccess.filter((access) => access.type === type).map((access) => access.id);
        return (
          entry && { applicationId, apiClientId: entry.resourceAppId, roleIds: ids("Role"), scopeIds: ids("Scope") }
        );
      }
      case "redirectUris": {
        const platform = redirectPlatforms[childId as keyof typeof redirectPlatforms];
        const uris = platform ? (app[platform]?.redirectUris ?? []) : [];
        return uris.length > 0 ? { applicationId, type: childId, redirectUris: uris } : undefined;
      }
    }
    return undefined;
  }
  if (collection === "servicePrincipals" && id) {
    if (child === "appRoleAssignedTo") {
      const assignment = observation.assignments.find((each) => each.id === childId);
      return (
        assignment && {
          appRoleId: assignment.appRoleId,
          principalObjectId: assignment.principalId,
          resourceObjectId: assignment.resourceId,
        }
      );
    }
    const observed = apps.find((app) => app.servicePrincipal?.id.toLowerCase() === id.toLowerCase());
    const principal = observed?.servicePrincipal;
    return (
      principal && {
        clientId: principal.appId,
        appRoleAssignmentRequired: principal.appRoleAssignmentRequired,
        accountEnabled: principal.accountEnabled,
        alternativeNames: principal.alternativeNames,
        description: principal.description,
        loginUrl: principal.loginUrl,
        notes: principal.notes,
        notificationEmailAddresses: principal.notificationEmailAddresses,
        preferredSingleSignOnMode: principal.preferredSingleSignOnMode,
        owners: observed.servicePrincipalOwners,
      }
    );
  }
  if (collection === "oauth2PermissionGrants" && id) {
    const grant = observation.delegatedGrants.find((each) => each.id === id);
    return (
      grant && {
        servicePrincipalObjectId: grant.clientId,
        resourceServicePrincipalObjectId: grant.resourceId,
        claimValues: grant.scope.split(" ").filter(Boolean),
      }
    );
  }
  return undefined;
}

/** An import of an object the tenant does not hold: `pulumi up` would stop there. */
const missingObject = (importId: string) =>
  `the tenant holds no object ${importId}, so the import fails and \`pulumi up\` stops there: run npm run adopt again, so the stack file says what exists`;

/**
 * What the first `pulumi up` does to the adopted entries (`names`: their catalogue names), in the plan diff's words:
 * the planned resources of those entries and of their grants, diffed against the objects as the provider would import
 * them. An import is followed by an update where the program's inputs differ from the object, and by a replace where
 * an input that forces one differs (the `!` the diff gives a replace says who breaks).
 */
export function firstUpChanges(
  head: DiffResource[],
  observation: Observation,
  names: { apis: string[]; clients: string[] },
): PlannedChange[] {
  const entries = readPlanEntries(head);
  const byUrn = new Map(head.map((resource) => [resource.urn, resource]));
  const adopted = (resource: DiffResource) => {
    const entry = entries.entryOf(resource.urn);
    if (!entry) {
      // A client's sign-in settings are a component of their own, `<client>-sign-in`, beside the client's.
      const parent = resource.parent ? byUrn.get(resource.parent) : undefined;
      return parent?.type === signInType && names.clients.some((client) => parent.name === signInName(client));
    }
    if (entry.role === "api") return names.apis.includes(entry.name);
    if (entry.role === "client") return names.clients.includes(entry.name);
    const { client, api } = entries.partiesOf(resource);
    return (client !== undefined && names.clients.includes(client)) || (api !== undefined && names.apis.includes(api));
  };
  const isComponent = (resource: DiffResource) => resource.type.startsWith("apim-entra-auth:");
  const ours = head.filter((resource) => isComponent(resource) || adopted(resource));
  const missing = new Set<string>();
  const base = ours.flatMap((resource): DiffResource[] => {
    if (isComponent(resource)) return [resource];
    if (!resource.import) return [];
    const inputs = observedInputs(resource.import, observation);
    if (!inputs) {
      missing.add(resource.urn);
      return [];
    }
    return [{ ...resource, import: undefined, observed: true as const, inputs: comparable(resource.type, inputs) }];
  });
  const planned = ours.map((resource) =>
    isComponent(resource) ? resource : { ...resource, inputs: comparable(resource.type, resource.inputs) },
  );
  return diffPlans(base, planned).map((change) => {
    const resource = ours.find((each) => each.type === change.type && each.name === change.name);
    return resource && missing.has(resource.urn) ? { ...change, breaks: missingObject(resource.import ?? "") } : change;
  });
}
