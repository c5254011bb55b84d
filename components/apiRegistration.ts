import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { stableId } from "../entra/stableIds";
import type { TokenVersion } from "../entra/tokenProfile";
import { type AdoptedApi, adoptedAs, ownersBeside } from "./adoption";
import { kept, replaceable } from "./protection";
import { retriedWhileRoleReplicates } from "./roleReplication";

export interface ApiRegistrationArgs {
  /** Display name of the API app registration in the tenant (already suffixed per environment). */
  displayName: pulumi.Input<string>;
  /** The API app's `requestedAccessTokenVersion`; it decides the token's `aud`, `iss` and client-id claim. */
  tokenVersion: TokenVersion;
  /** Value of the application permission (app role) a client-credentials token carries in `roles`. */
  appRole: string;
  /** Value of the admin-consent delegated scope; must differ from `appRole` (one namespace per app). */
  scope: string;
  /** Protect the registration and its service principal from deletion and nothing else (docs/configuration.md). */
  protect?: boolean;
  /** Object ids of the service principal's owners: the deploying identity (see ClientRegistrationArgs.owners). */
  owners?: pulumi.Input<string>[];
  /** The API's original catalogue name: role and scope ids derive from it, so a rename keeps them. Default: `name`. */
  idKey?: string;
  /** For an API users sign in to: the value of the role users and groups are assigned to, and who is assigned. */
  users?: { roleValue: string; assignedPrincipals: string[] };
  /**
   * A registration made by hand that this one takes over: its app, service principal, identifier URI, scope and role
   * are imported where they exist (keeping their ids, so consents and assignments stay) instead of created.
   */
  existing?: AdoptedApi;
}

/** Why no user can sign in yet to an API that accepts users but has nobody assigned (a preview warning). */
function unassignedUsersWarning(api: string): string {
  return `API "${api}" accepts users (its callers include "users") but assigns nobody: its service principal requires assignment, so every user who signs in gets AADSTS50105 ("not assigned to a role for the application") until a user or group is assigned. List their object ids in apis[].assignedPrincipals.`;
}

/**
 * The app registration that represents an API: `api://<client id>`, an admin-only delegated scope, the
 * application permission (app role) clients are granted, and a service principal that only issues
 * tokens to clients assigned that role; for an API users sign in to, the role users and groups are assigned to and
 * their assignments.
 */
export class ApiRegistration extends pulumi.ComponentResource {
  /** The API app's client (application) id: the v2 audience. */
  public readonly clientId: pulumi.Output<string>;
  /** The app registration's resource id (`/applications/<object id>`), which the split resources take. */
  public readonly applicationId: pulumi.Output<string>;
  /** `api://<client id>`: the v1 audience and the base of the token request scope. */
  public readonly identifierUri: pulumi.Output<string>;
  /** `api://<client id>/.default`: what a client-credentials request asks for. */
  public readonly tokenRequestScope: pulumi.Output<string>;
  public readonly appRoleId: pulumi.Output<string>;
  public readonly appRoleValue: pulumi.Output<string>;
  public readonly scopeId: pulumi.Output<string>;
  public readonly tokenVersion: pulumi.Output<TokenVersion>;
  public readonly servicePrincipalObjectId: pulumi.Output<string>;

  constructor(name: string, args: ApiRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("apim-entra-auth:identity:ApiRegistration", name, {}, opts);
    const keep = kept(this, args.protect);
    const existing = args.existing;

    const app = new azuread.ApplicationRegistration(
      `${name}-app`,
      {
        displayName: args.displayName,
        signInAudience: "AzureADMyOrg",
        requestedAccessTokenVersion: args.tokenVersion,
      },
      { ...keep, ...adoptedAs(existing?.application) },
    );

    const identifierUri = new azuread.ApplicationIdentifierUri(
      `${name}-identifier-uri`,
      { applicationId: app.id, identifierUri: pulumi.interpolate`api://${app.clientId}` },
      { ...replaceable(this), ...adoptedAs(existing?.identifierUri) },
    );

    const scope = new azuread.ApplicationPermissionScope(
      `${name}-scope`,
      {
        applicationId: app.id,
        scopeId: existing?.scope?.id ?? stableId(args.idKey ?? name, "scope"),
        value: args.scope,
        type: "Admin",
        adminConsentDisplayName: pulumi.interpolate`Access ${args.displayName}`,
        adminConsentDescription: pulumi.interpolate`Allows a signed-in user's app to call ${args.displayName}; admins only.`,
      },
      { ...replaceable(this), ...adoptedAs(existing?.scope), dependsOn: [identifierUri] },
    );

    const appRole = new azuread.ApplicationAppRole(
      `${name}-app-role`,
      {
        applicationId: app.id,
        roleId: existing?.appRole?.id ?? stableId(args.idKey ?? name, "app-role"),
        value: args.appRole,
        allowedMemberTypes: ["Application"],
        displayName: pulumi.interpolate`Call ${args.displayName} as an application`,
        description: pulumi.interpolate`Allows a daemon or service to call ${args.displayName} with its own identity.`,
      },
      { ...replaceable(this), ...adoptedAs(existing?.appRole) },
    );

    if (args.users?.assignedPrincipals.length === 0 && pulumi.runtime.isDryRun()) {
      pulumi.log.warn(unassignedUsersWarning(name), this);
    }
    const userRole =
      args.users &&
      new azuread.ApplicationAppRole(
        `${name}-user-role`,
        {
          applicationId: app.id,
          roleId: stableId(args.idKey ?? name, "user-role"),
          value: args.users.roleValue,
          allowedMemberTypes: ["User"],
          displayName: pulumi.interpolate`Sign in to ${args.displayName}`,
          description: pulumi.interpolate`Assigned users and groups get tokens for ${args.displayName}; it requires assignment.`,
        },
        replaceable(this),
      );

    // Created after the role and scope exist, as the Bicep peer's inline appRoles are: an admin-consent assignment
    // posted against a principal that lacks the role fails with "Permission being assigned was not found", which the
    // provider does not retry (azure-review.md item 5; hashicorp/terraform-provider-azuread PR #1896). Entra may still
    // not show a new role on the principal: the assignments' creates are retried while it replicates (roleReplication.ts).
    const adoptedPrincipal = existing?.servicePrincipal;
    const owners = adoptedPrincipal ? ownersBeside(args.owners ?? [], adoptedPrincipal.owners) : args.owners;
    const servicePrincipal = new azuread.ServicePrincipal(
      `${name}-sp`,
      { clientId: app.clientId, appRoleAssignmentRequired: true, ...(owners ? { owners } : {}) },
      { ...keep, ...adoptedAs(adoptedPrincipal), dependsOn: userRole ? [appRole, userRole, scope] : [appRole, scope] },
    );

    // Graph keeps object ids case-insensitively; one spelling keeps the name and the input from changing. When users
    // are added to a deployed API the principal already exists, so only this edge makes the assignments wait for the
    // new role; it is stated, not left to `appRoleId`'s data flow, which a plain role id would drop.
    for (const principal of (args.users?.assignedPrincipals ?? []).map((id) => id.toLowerCase())) {
      if (!userRole) break;
      new azuread.AppRoleAssignment(
        `${name}-user-${principal}`,
        { principalObjectId: principal, resourceObjectId: servicePrincipal.objectId, appRoleId: userRole.roleId },
        { ...replaceable(this), ...retriedWhileRoleReplicates(), dependsOn: [userRole] },
      );
    }

    this.clientId = app.clientId;
    this.applicationId = app.id;
    this.identifierUri = identifierUri.identifierUri;
    this.tokenRequestScope = pulumi.interpolate`${identifierUri.identifierUri}/.default`;
    this.appRoleId = appRole.roleId;
    this.appRoleValue = pulumi.output(args.appRole);
    this.scopeId = scope.scopeId;
    this.tokenVersion = pulumi.output(args.tokenVersion);
    this.servicePrincipalObjectId = servicePrincipal.objectId;
    this.registerOutputs({
      clientId: this.clientId,
      applicationId: this.applicationId,
      identifierUri: this.identifierUri,
      tokenRequestScope: this.tokenRequestScope,
      appRoleId: this.appRoleId,
      appRoleValue: this.appRoleValue,
      scopeId: this.scopeId,
      tokenVersion: this.tokenVersion,
      servicePrincipalObjectId: this.servicePrincipalObjectId,
    });
  }
}
