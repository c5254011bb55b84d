import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { replaceable } from "./protection";
import { retriedWhileRoleReplicates } from "./roleReplication";

export const managedIdentityGrantType = "apim-entra-auth:identity:ManagedIdentityGrant";

export interface ManagedIdentityGrantArgs {
  /** Object id of the managed identity's service principal: the principal the role is assigned to. */
  principalId: pulumi.Input<string>;
  /** Object id of the API's service principal: the resource the role belongs to. */
  apiServicePrincipalObjectId: pulumi.Input<string>;
  /** Id of the API's app role (application permission) being granted. */
  appRoleId: pulumi.Input<string>;
}

/**
 * Grants a managed identity an API's application permission: the app role assignment from the identity's service
 * principal to the API's is its only consent (entra-docs managed-identities-azure-resources/
 * how-to-assign-app-role-managed-identity.md), and what puts the role in its token's `roles`. A managed identity has no
 * app registration, so no permission list (ApplicationApiAccess) shows it.
 */
export class ManagedIdentityGrant extends pulumi.ComponentResource {
  public readonly appRoleAssignmentId: pulumi.Output<string>;

  constructor(name: string, args: ManagedIdentityGrantArgs, opts?: pulumi.ComponentResourceOptions) {
    super(managedIdentityGrantType, name, {}, opts);
    const assignment = new azuread.AppRoleAssignment(
      `${name}-admin-consent`,
      {
        appRoleId: args.appRoleId,
        principalObjectId: args.principalId,
        resourceObjectId: args.apiServicePrincipalObjectId,
      },
      { ...replaceable(this), ...retriedWhileRoleReplicates() },
    );
    this.appRoleAssignmentId = assignment.id;
    this.registerOutputs({ appRoleAssignmentId: this.appRoleAssignmentId });
  }
}
