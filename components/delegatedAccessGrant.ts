import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { type AdoptedGrant, adoptedAs } from "./adoption";
import { replaceable } from "./protection";

export const delegatedAccessGrantType = "apim-entra-auth:identity:DelegatedAccessGrant";

export interface DelegatedAccessGrantArgs {
  /** The client app registration's resource id (`/applications/<object id>`). */
  clientApplicationId: pulumi.Input<string>;
  /** Object id of the client's service principal: the principal allowed to act for users. */
  clientServicePrincipalObjectId: pulumi.Input<string>;
  /** The API app's client id, as the client's permission list names it. */
  apiClientId: pulumi.Input<string>;
  /** Object id of the API's service principal: the resource the scope belongs to. */
  apiServicePrincipalObjectId: pulumi.Input<string>;
  /** Id of the API's delegated scope (permission list entry). */
  scopeId: pulumi.Input<string>;
  /** Value of that scope (`access_as_user`): what the consent names and the token's `scp` carries. */
  scope: pulumi.Input<string>;
  /** The parts of the grant made by hand that exist: the permission list entry, the delegated permission grant. */
  existing?: AdoptedGrant;
}

/**
 * Grants a user-facing client an API's delegated scope. The permission list (`ApplicationApiAccess` with
 * `scopeIds`) only shows the permission; the tenant-wide admin consent is the delegated permission grant from the
 * client's service principal to the API's for every user (no `userObjectId`), and what puts the scope in `scp`.
 */
export class DelegatedAccessGrant extends pulumi.ComponentResource {
  public readonly delegatedPermissionGrantId: pulumi.Output<string>;

  constructor(name: string, args: DelegatedAccessGrantArgs, opts?: pulumi.ComponentResourceOptions) {
    super(delegatedAccessGrantType, name, {}, opts);

    new azuread.ApplicationApiAccess(
      `${name}-permission`,
      { applicationId: args.clientApplicationId, apiClientId: args.apiClientId, scopeIds: [args.scopeId] },
      { ...replaceable(this), ...adoptedAs(args.existing?.permission) },
    );
    const consent = new azuread.ServicePrincipalDelegatedPermissionGrant(
      `${name}-admin-consent`,
      {
        servicePrincipalObjectId: args.clientServicePrincipalObjectId,
        resourceServicePrincipalObjectId: args.apiServicePrincipalObjectId,
        claimValues: [args.scope],
      },
      { ...replaceable(this), ...adoptedAs(args.existing?.consent) },
    );

    this.delegatedPermissionGrantId = consent.id;
    this.registerOutputs({ delegatedPermissionGrantId: this.delegatedPermissionGrantId });
  }
}
