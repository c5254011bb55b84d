import * as azuread from "@pulumi/azuread";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as pulumi from "@pulumi/pulumi";
import { kept } from "./protection";

export const managedIdentityClientType = "apim-entra-auth:identity:ManagedIdentityClient";

/** Where the program creates a user-assigned identity. */
export interface UserAssignedIdentitySpec {
  /** The identity's Azure name: 3–128 letters, digits, '-' or '_', starting with a letter or digit. */
  resourceName: string;
  /** Its resource group, which must exist. */
  resourceGroupName: string;
  /** Its region's name, e.g. westeurope; a new region is a new identity. */
  location: string;
}

export interface ManagedIdentityClientArgs {
  /** Create a user-assigned identity; exactly one of `create` and `principalId`. */
  create?: UserAssignedIdentitySpec;
  /** The object id of an existing managed identity's service principal (a system- or user-assigned identity). */
  principalId?: string;
  /** Protect a created identity from deletion: its client id and principal are what its callers and grants hold. */
  protect?: boolean;
}

/** A managed identity's service principal has type ManagedIdentity (Graph servicePrincipal, servicePrincipalType). */
const managedIdentityType = "ManagedIdentity";

/**
 * Whether Azure made the identity for the user (a userAssignedIdentities resource) or for one resource (its system-
 * assigned identity), read from the resource id among the service principal's alternative names (Graph
 * servicePrincipal `alternativeNames`: "full resource IDs for managed identities").
 */
export function assignedBy(alternativeNames: readonly string[]): "user" | "system" {
  return alternativeNames.some((name) =>
    /\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\//i.test(name),
  )
    ? "user"
    : "system";
}

/**
 * Why a looked-up service principal cannot be granted as a managed identity: it is an app's (whose callers authenticate
 * with the app registration's credentials, so the grant would reach the wrong caller). Undefined for a managed identity.
 */
export function notManagedIdentityProblem(
  name: string,
  objectId: string,
  found: { displayName: string; type: string },
): string | undefined {
  if (found.type === managedIdentityType) return undefined;
  return `ManagedIdentityClient "${name}": principalId ${objectId} is the service principal of ${found.displayName} (type ${found.type || "unknown"}), not of a managed identity; give the object (principal) id shown on the resource's Identity blade, or use a daemon client for an app registration.`;
}

/**
 * An Azure-hosted caller's managed identity: one the program creates (azure-native UserAssignedIdentity, whose
 * `principalId` is its service principal's object id), or an existing one looked up by its service principal's object
 * id. No app registration, no credential: Azure holds it. The principal is what an app role assignment grants.
 */
export class ManagedIdentityClient extends pulumi.ComponentResource {
  /** The identity's client id: `managedIdentityClientId` for Azure Identity, and the token's appid or azp. */
  public readonly clientId: pulumi.Output<string>;
  /** Its service principal's object id: the token's oid, and the principal its grants are assigned to. */
  public readonly principalId: pulumi.Output<string>;
  /** The ARM id of a created identity, to attach it to an App Service, Function or Container App; else undefined. */
  public readonly resourceId: pulumi.Output<string> | undefined;
  /** "user" for a user-assigned identity, "system" for a resource's own. */
  public readonly assignedBy: pulumi.Output<"user" | "system">;

  constructor(name: string, args: ManagedIdentityClientArgs, opts?: pulumi.ComponentResourceOptions) {
    super(managedIdentityClientType, name, {}, opts);
    if (args.create) {
      const identity = new managedidentity.UserAssignedIdentity(
        `${name}-identity`,
        {
          resourceName: args.create.resourceName,
          resourceGroupName: args.create.resourceGroupName,
          location: args.create.location,
        },
        kept(this, args.protect),
      );
      this.clientId = identity.clientId;
      this.principalId = identity.principalId;
      this.resourceId = identity.id;
      this.assignedBy = pulumi.output("user" as const);
    } else if (args.principalId) {
      const objectId = args.principalId;
      const principal = azuread.getServicePrincipalOutput({ objectId }, { parent: this });
      // The grant takes the principal only once it is known to be a managed identity's: an app's service principal
      // would be granted the role while its callers authenticate with the app registration's credentials instead.
      this.principalId = principal.apply((found) => {
        const problem = notManagedIdentityProblem(name, objectId, found);
        if (problem) throw new pulumi.RunError(problem);
        return found.objectId;
      });
      this.clientId = principal.clientId;
      this.resourceId = undefined;
      this.assignedBy = principal.alternativeNames.apply(assignedBy);
    } else {
      throw new pulumi.RunError(`ManagedIdentityClient "${name}": give create or principalId.`);
    }
    this.registerOutputs({
      clientId: this.clientId,
      principalId: this.principalId,
      resourceId: this.resourceId,
      assignedBy: this.assignedBy,
    });
  }
}
