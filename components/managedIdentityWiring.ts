import type * as pulumi from "@pulumi/pulumi";
import type { ApiRegistration } from "./apiRegistration";
import { ManagedIdentityClient } from "./managedIdentityClient";
import { ManagedIdentityGrant } from "./managedIdentityGrant";
import { replaceable } from "./protection";
import { grantAliases, grantName, renameAliases, stackRootAliases } from "./renames";
import { userAssignedIdentityName } from "../config/managedIdentity";
import type { ApiEntry } from "../config/schema";
import type { Catalogue } from "../config/validate";

/**
 * Registers the catalogue's managed identities (`kind: managedIdentity`): each one created or looked up, and granted
 * the app role of every API it lists. No app registration, permission list or credential: the role assignment is all.
 */
export function registerManagedIdentities(
  config: Catalogue,
  parent: pulumi.Resource,
  api: (name: string) => ApiRegistration,
): Map<string, ManagedIdentityClient> {
  const identities = new Map<string, ManagedIdentityClient>();
  for (const client of config.clients.filter((entry) => entry.kind === "managedIdentity")) {
    const identity = new ManagedIdentityClient(
      client.name,
      {
        ...(client.identity
          ? {
              create: {
                resourceName: userAssignedIdentityName(client, config.nameSuffix),
                resourceGroupName: client.identity.resourceGroupName,
                location: client.identity.location,
              },
            }
          : { principalId: client.principalId }),
        protect: config.protect,
      },
      { ...replaceable(parent), aliases: stackRootAliases(renameAliases(client)) },
    );
    identities.set(client.name, identity);
    for (const apiName of client.apis) {
      const entry = config.apis.find((candidate) => candidate.name === apiName) as ApiEntry;
      const registration = api(apiName);
      new ManagedIdentityGrant(
        grantName(client.name, apiName),
        {
          principalId: identity.principalId,
          apiServicePrincipalObjectId: registration.servicePrincipalObjectId,
          appRoleId: registration.appRoleId,
        },
        { ...replaceable(parent), aliases: stackRootAliases(grantAliases(client, entry)) },
      );
    }
  }
  return identities;
}
