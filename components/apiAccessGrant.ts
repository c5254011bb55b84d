import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { type AdoptedGrant, adoptedAs } from "./adoption";
import { replaceable } from "./protection";
import { retriedWhileRoleReplicates } from "./roleReplication";

export const apiAccessGrantType = "apim-entra-auth:identity:ApiAccessGrant";

export interface ApiAccessGrantArgs {
  /** The client app registration's resource id (`/applications/<object id>`). */
  clientApplicationId: pulumi.Input<string>;
  /** Object id of the client's service principal: the principal the role is assigned to. */
  clientServicePrincipalObjectId: pulumi.Input<string>;
  /** The API app's client id, as the client's permission list names it. */
  apiClientId: pulumi.Input<string>;
  /** Object id of the API's service principal: the resource the role belongs to. */
  apiServicePrincipalObjectId: pulumi.Input<string>;
  /** Id of the API's app role (application permission) being granted. */
  appRoleId: pulumi.Input<string>;
  /** The parts of the grant made by hand that exist: the permission list entry, the app role assignment. */
  existing?: AdoptedGrant;
}

/**
 * Grants a client an API's application permission. The permission list (`ApplicationApiAccess`) only shows
 * the permission on the client; the app role assignment from the client's service principal to the API's
 * is the admin consent, and what puts the role in the token's `roles` claim.
 */
export class ApiAccessGrant extends pulumi.ComponentResource {
  public readonly appRoleAssignmentId: pulumi.Output<string>;

  constructor(name: string, args: ApiAccessGrantArgs, opts?: pulumi.ComponentResourceOptions) {
    super(apiAccessGrantType, name, {}, opts);

    new azuread.ApplicationApiAccess(
      `${name}-permission`,
      { applicationId: args.clientApplicationId, apiClientId: args.apiClientId, roleIds: [args.appRoleId] },
      { ...replaceable(this), ...adoptedAs(args.existing?.permission) },
    );
    const consent = new azuread.AppRoleAssignment(
      `${name}-admin-consent`,
      {
        appRoleId: args.appRoleId,
        principalObjectId: args.clientServicePrincipalObjectId,
        resourceObjectId: args.apiServicePrincipalObjectId,
      },
      { ...replaceable(this), ...adoptedAs(args.existing?.consent), ...retriedWhileRoleReplicates() },
    );

    this.appRoleAssignmentId = consent.id;
    this.registerOutputs({ appRoleAssignmentId: this.appRoleAssignmentId });
  }
}
