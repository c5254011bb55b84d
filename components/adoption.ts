import * as pulumi from "@pulumi/pulumi";
import type { ExistingApi, ExistingClient } from "../config/schema";
import { importIds } from "../entra/importIds";

/** How a child takes over an object made by hand: the provider's import id, and whether it outlives the stack. */
export interface Adoption {
  importId: string;
  /** Left in the tenant when the resource is deleted (`pulumi destroy` included); default for adopted objects. */
  retainOnDelete: boolean;
}

/** The resource options of a child that adopts an object: `import` and `retainOnDelete`; none when it adopts nothing. */
export const adoptedAs = (adoption: Adoption | undefined): pulumi.CustomResourceOptions =>
  adoption ? { import: adoption.importId, retainOnDelete: adoption.retainOnDelete } : {};

/** An adopted service principal: its import, and the owners it keeps beside the deploying identity. */
export type AdoptedServicePrincipal = Adoption & { owners: string[] };

/** What an API registration adopts: the app, and each of its parts that exists. */
export interface AdoptedApi {
  application: Adoption;
  servicePrincipal?: AdoptedServicePrincipal;
  identifierUri?: Adoption;
  /** The scope keeps its id: every consent names it. */
  scope?: Adoption & { id: string };
  /** The role keeps its id: every assignment names it. */
  appRole?: Adoption & { id: string };
}

/** What a client registration adopts: the app and its service principal. */
export interface AdoptedClient {
  application: Adoption;
  servicePrincipal?: AdoptedServicePrincipal;
}

/** What a grant adopts: the client's permission list entry for the API, and the admin consent. */
export interface AdoptedGrant {
  permission?: Adoption;
  consent?: Adoption;
}

/**
 * The owners of an adopted service principal: the program's (the deploying identity, so `Application.ReadWrite.OwnedBy`
 * can update it) and the owners it had, each once: the provider removes every owner the list leaves out.
 */
export function ownersBeside(owners: pulumi.Input<string>[], kept: string[]): pulumi.Output<string[]> {
  return pulumi.all(owners).apply((listed) => {
    const known = new Set(listed.map((owner) => owner.toLowerCase()));
    return [...listed, ...kept.filter((owner) => !known.has(owner.toLowerCase()))];
  });
}

const servicePrincipalOf = (
  existing: ExistingApi | ExistingClient,
  retainOnDelete: boolean,
): AdoptedServicePrincipal | undefined =>
  existing.servicePrincipal && {
    importId: importIds.servicePrincipal(existing.servicePrincipal.objectId),
    retainOnDelete,
    owners: existing.servicePrincipal.owners,
  };

/** An API entry's `existing` block as the imports of its registration's children. */
export function adoptedApi(existing: ExistingApi): AdoptedApi {
  const { objectId, retainOnDelete } = existing;
  const adoption = (importId: string) => ({ importId, retainOnDelete });
  return {
    application: adoption(importIds.application(objectId)),
    servicePrincipal: servicePrincipalOf(existing, retainOnDelete),
    identifierUri: existing.identifierUri
      ? adoption(importIds.identifierUri(objectId, existing.identifierUri))
      : undefined,
    scope: existing.scope && {
      ...adoption(importIds.permissionScope(objectId, existing.scope.id)),
      id: existing.scope.id,
    },
    appRole: existing.appRole && {
      ...adoption(importIds.appRole(objectId, existing.appRole.id)),
      id: existing.appRole.id,
    },
  };
}

/** A client entry's `existing` block as the imports of its registration's children. */
export function adoptedClient(existing: ExistingClient): AdoptedClient {
  return {
    application: { importId: importIds.application(existing.objectId), retainOnDelete: existing.retainOnDelete },
    servicePrincipal: servicePrincipalOf(existing, existing.retainOnDelete),
  };
}
