import { randomUUID } from "node:crypto";
import { armTypes } from "./armResources";
import { assignmentScope, roleGuidOf } from "./armRoles";
import type { ArmStore, StoredResource } from "./armStore";

/** Owner: full access, including assigning roles (Azure built-in roles). */
export const ownerRoleId = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

export interface SubscriptionSeed {
  subscriptionId: string;
  tenantId: string;
  displayName?: string;
}

/** The local subscription, owned by the tenant; created once. */
export function ensureSubscription(store: ArmStore, seed: SubscriptionSeed): void {
  if (store.subscription(seed.subscriptionId)) return;
  store.putSubscription({ displayName: "Local subscription", ...seed });
}

/**
 * A role assignment of a built-in role to a principal at a scope, unless one exists: how the tenant's administrator
 * becomes Owner of the subscription before anyone can call ARM.
 */
export function ensureRoleAssignment(
  store: ArmStore,
  assignment: { subscriptionId: string; scope: string; principalId: string; roleId: string; principalType?: string },
  now: Date,
): StoredResource {
  const existing = store.ofType(armTypes.assignment).find((candidate) => {
    const properties = candidate.body.properties as { principalId: string; roleDefinitionId: string };
    return (
      assignmentScope(candidate.id).toLowerCase() === assignment.scope.toLowerCase() &&
      properties.principalId.toLowerCase() === assignment.principalId.toLowerCase() &&
      roleGuidOf(properties.roleDefinitionId) === assignment.roleId
    );
  });
  if (existing) return existing;
  const id = `${assignment.scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
  return store.put(
    id,
    armTypes.assignment,
    {
      properties: {
        roleDefinitionId: `/subscriptions/${assignment.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${assignment.roleId}`,
        principalId: assignment.principalId,
        principalType: assignment.principalType ?? "ServicePrincipal",
      },
    },
    now,
  ).resource;
}

export interface ServiceSeed {
  subscriptionId: string;
  resourceGroupName: string;
  serviceName: string;
  /** Default westeurope. */
  location?: string;
  publisherName?: string;
  publisherEmail?: string;
}

/**
 * An APIM service a stack names as existing, there on first use as a Developer tier service (with its resource
 * group), as someone would have created it in the portal. An existing service is left as it is.
 */
export function ensureApimService(store: ArmStore, seed: ServiceSeed, now: Date): { id: string; created: boolean } {
  const location = seed.location ?? "westeurope";
  const groupId = `/subscriptions/${seed.subscriptionId}/resourceGroups/${seed.resourceGroupName}`;
  if (!store.get(groupId)) store.put(groupId, armTypes.group, { location }, now);
  const id = `${groupId}/providers/Microsoft.ApiManagement/service/${seed.serviceName}`;
  if (store.get(id)) return { id, created: false };
  store.put(
    id,
    armTypes.service,
    {
      location,
      sku: { name: "Developer", capacity: 1 },
      properties: {
        publisherName: seed.publisherName ?? "Local tenant",
        publisherEmail: seed.publisherEmail ?? "apim@local.invalid",
      },
    },
    now,
  );
  return { id, created: true };
}
