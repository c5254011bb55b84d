import { randomUUID } from "node:crypto";
import { ArmError } from "./armError";
import type { ResourceKind } from "./armResources";

/**
 * The directory's half of a user-assigned identity. Azure creates the identity's service principal (type
 * ManagedIdentity, with a client id of its own and the identity's resource id among its alternative names) when ARM
 * creates the identity, and deletes it with it (entra-docs managed-identities-azure-resources/overview.md). The local
 * tenant passes its directory here, so tokens can be issued for the identity and Graph can assign it app roles; alone,
 * ARM makes up the ids.
 */
export interface ManagedIdentityPrincipals {
  /** Creates the identity's service principal; its object id is the identity's principalId. */
  create(identity: { resourceId: string; name: string; tenantId: string }): { clientId: string; principalId: string };
  /** Deletes the service principal of a deleted identity. */
  delete(identity: { resourceId: string; principalId: string }): void;
}

/** ARM without a directory: ids made up, nothing to delete. */
export const detachedPrincipals: ManagedIdentityPrincipals = {
  create: () => ({ clientId: randomUUID(), principalId: randomUUID() }),
  delete: () => undefined,
};

export const userAssignedIdentityType = "Microsoft.ManagedIdentity/userAssignedIdentities";
const apiVersions = ["2023-01-31", "2024-11-30"];

/**
 * Microsoft.ManagedIdentity userAssignedIdentities (azure-rest-api-specs specification/msi 2023-01-31,
 * ManagedIdentity.json): a TrackedResource, so `location` is required, and create-only (IdentityUpdate's
 * `x-ms-mutability: read, create`); its properties (tenantId, principalId, clientId) are read-only, assigned once.
 */
export const userAssignedIdentity: ResourceKind = {
  type: userAssignedIdentityType,
  apiVersions,
  parentType: "Microsoft.Resources/resourceGroups",
  accept: (body, context, existing) => {
    if (typeof body.location !== "string" || body.location === "") {
      throw new ArmError(400, "LocationRequired", "The location property is required for this definition.");
    }
    if (existing && String(existing.body.location).toLowerCase() !== body.location.toLowerCase()) {
      throw new ArmError(
        400,
        "InvalidLocation",
        `The location of user assigned identity '${context.target.name ?? ""}' cannot be changed from '${String(existing.body.location)}' to '${body.location}'.`,
      );
    }
    const assigned =
      (existing?.body.properties as Record<string, string> | undefined) ??
      (() => {
        const tenantId = context.store.subscription(context.target.subscriptionId)?.tenantId ?? "";
        const ids = context.managedIdentities.create({
          resourceId: context.target.id,
          name: context.target.name ?? "",
          tenantId,
        });
        return { tenantId, principalId: ids.principalId, clientId: ids.clientId };
      })();
    return { location: body.location, ...(body.tags ? { tags: body.tags } : {}), properties: assigned };
  },
  afterDelete: (resource, context) => {
    const properties = resource.body.properties as { principalId?: string } | undefined;
    context.managedIdentities.delete({ resourceId: resource.id, principalId: properties?.principalId ?? "" });
  },
  present: (resource) => {
    const name = resource.id.slice(resource.id.lastIndexOf("/") + 1);
    return {
      id: resource.id,
      name,
      type: userAssignedIdentityType,
      location: resource.body.location,
      ...(resource.body.tags ? { tags: resource.body.tags } : {}),
      properties: resource.body.properties,
    };
  },
  notFound: (target) =>
    new ArmError(
      404,
      "ResourceNotFound",
      `The Resource '${userAssignedIdentityType}/${target.name ?? ""}' under resource group '${target.resourceGroup ?? ""}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    ),
};
