import { DirectoryError, type Application, type FederatedIdentityCredential, sameId } from "./graphObjects";

// Entra's rules on applications as a whole, each with its source: what Graph refuses however the caller is permitted.

/**
 * Identifier URIs are unique in the tenant: Graph answers "Another object with the same value for property
 * identifierUris already exists." (ObjectConflict; Azure/go-autorest #308, Azure/pcs-cli #146).
 */
export function checkIdentifierUrisUnique(application: Application, all: Application[]): void {
  for (const uri of application.identifierUris) {
    const owner = all.find(
      (other) =>
        !sameId(other.id, application.id) &&
        other.identifierUris.some((taken) => taken.toLowerCase() === uri.toLowerCase()),
    );
    if (owner) {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        "Another object with the same value for property identifierUris already exists.",
        "identifierUris",
        "ObjectConflict",
      );
    }
  }
}

/**
 * App roles and delegated scopes share one namespace per application. A role and a scope with the same value are
 * refused ("It contains duplicate value": MicrosoftDocs/azure-docs #81899; terraform-provider-azuread #1177,
 * msgraph-bicep-types #197) unless they are one entitlement published both ways: the same id with matching fields
 * (azure-docs #81899: "The following values must match for the 'oauth2Permissions' and 'appRoles' properties").
 * Two roles or two scopes with one id or value are "Request contains a property with duplicate values."
 * (microsoft-graph-docs #21667).
 */
export function checkEntitlementValues(application: Application): void {
  const scopes = application.api.oauth2PermissionScopes;
  for (const [list, target] of [
    [application.appRoles, "appRoles"],
    [scopes, "oauth2PermissionScopes"],
  ] as const) {
    const ids = list.map((entry) => entry.id.toLowerCase());
    const values = list.map((entry) => entry.value).filter((value): value is string => value !== null && value !== "");
    if (new Set(ids).size !== ids.length || new Set(values).size !== values.length) {
      throw new DirectoryError(400, "DuplicateValue", "Request contains a property with duplicate values.", target);
    }
  }
  for (const role of application.appRoles) {
    for (const scope of scopes) {
      const sameEntitlement = sameId(role.id, scope.id);
      const matching =
        role.value === scope.value &&
        role.isEnabled === scope.isEnabled &&
        role.description === scope.adminConsentDescription &&
        role.displayName === scope.adminConsentDisplayName;
      if (sameEntitlement && !matching) {
        throw new DirectoryError(
          400,
          "Request_BadRequest",
          `The following values must match for the 'oauth2Permissions' and 'appRoles' properties with identifier '${role.id}': (description, adminConsentDescription),(displayName, adminConsentDisplayName),(isEnabled, isEnabled),(origin, origin),(value, value). Ensure that you are intending to have entries with the same identifier, and if so, are updating them together.`,
        );
      }
      if (!sameEntitlement && role.value !== null && role.value !== "" && role.value === scope.value) {
        throw new DirectoryError(400, "Request_BadRequest", "It contains duplicate value.", "appRoles");
      }
    }
  }
}

/**
 * An enabled role or scope must be disabled (isEnabled false, in its own PATCH) before it is removed or changed:
 * "Permission (scope or role) cannot be deleted or updated unless disabled first." (CannotDeleteOrUpdateEnabledEntitlement;
 * microsoftgraph/msgraph-sdk-powershell #1054, #1211). terraform-provider-azuread disables first for this reason
 * (applications.go, applicationDisableAppRoles).
 */
export function checkDisabledBeforeChange<T extends { id: string; isEnabled: boolean }>(before: T[], after: T[]): void {
  for (const old of before.filter((entry) => entry.isEnabled)) {
    const next = after.find((entry) => sameId(entry.id, old.id));
    const onlyDisabled =
      next && JSON.stringify({ ...next, isEnabled: true }) === JSON.stringify({ ...old, isEnabled: true });
    const unchanged = next && JSON.stringify(next) === JSON.stringify(old);
    if (!unchanged && !onlyDisabled) {
      throw new DirectoryError(
        400,
        "CannotDeleteOrUpdateEnabledEntitlement",
        "Permission (scope or role) cannot be deleted or updated unless disabled first.",
      );
    }
  }
}

/**
 * Federated identity credentials: at most 20 per application, names and issuer/subject pairs unique, one audience
 * (Graph "federatedIdentityCredential resource type"; Entra "Workload identity federation considerations").
 */
export function checkFederatedCredentials(credentials: FederatedIdentityCredential[]): void {
  if (credentials.length > 20) {
    throw new DirectoryError(
      400,
      "Request_BadRequest",
      "An application can have at most 20 federated identity credentials.",
    );
  }
  const names = credentials.map((credential) => credential.name.toLowerCase());
  const pairs = credentials.map((credential) => `${credential.issuer}\n${credential.subject}`);
  if (new Set(names).size !== names.length) {
    throw new DirectoryError(
      409,
      "Request_BadRequest",
      "FederatedIdentityCredential with name already exists.",
      "name",
    );
  }
  if (new Set(pairs).size !== pairs.length) {
    throw new DirectoryError(
      409,
      "Request_BadRequest",
      "FederatedIdentityCredential with the same issuer and subject already exists.",
      "subject",
    );
  }
  if (credentials.some((credential) => credential.audiences.length !== 1)) {
    throw new DirectoryError(
      400,
      "Request_BadRequest",
      "Federated identity credentials accept exactly one audience.",
      "audiences",
    );
  }
}
