import * as pulumi from "@pulumi/pulumi";
import { ApiAccessGrant, apiAccessGrantType } from "./apiAccessGrant";
import { ApiRegistration } from "./apiRegistration";
import { type ClientCredential, ClientRegistration } from "./clientRegistration";
import { adoptedApi, adoptedClient, type AdoptedGrant } from "./adoption";
import { ClientSignIn, redirectUriTypes } from "./clientSignIn";
import { DelegatedAccessGrant, delegatedAccessGrantType } from "./delegatedAccessGrant";
import type { ApiEntry } from "../config/schema";
import { signedInUserRole } from "../config/clientKinds";
import type { ClientConfig, Catalogue } from "../config/validate";
import { grantAliases, grantName, originalName, renameAliases, signInName, stackRootAliases } from "./renames";
import { federatedCredentialAudience } from "../entra/tokenProfile";
import { replaceable } from "./protection";
import { importIds } from "../entra/importIds";
import type { ManagedIdentityClient } from "./managedIdentityClient";
import { registerManagedIdentities } from "./managedIdentityWiring";

/** Every client kind but a managed identity is an app registration (registerManagedIdentities makes the others). */
const hasRegistration = (
  client: ClientConfig,
): client is ClientConfig & { kind: Exclude<ClientConfig["kind"], "managedIdentity"> } =>
  client.kind !== "managedIdentity";

/** The identity half of a catalogue: each API's and each client's registration, by catalogue name. */
export interface Identity {
  api(name: string): ApiRegistration;
  /** A client's app registration, or a managed identity: either has the client id its tokens carry. */
  client(name: string): ClientRegistration | ManagedIdentityClient;
  /** A client's app registration; a managed identity has none. */
  registration(name: string): ClientRegistration;
}

function credentialOf(client: ClientConfig, authorityHost: string): ClientCredential {
  switch (client.credential) {
    case "secret":
      return { kind: "secret", secrets: client.secrets };
    case "federated":
      return {
        kind: "federated",
        audience: federatedCredentialAudience(authorityHost),
        credentials: client.federatedCredentials ?? [],
      };
    case "none":
      return { kind: "none" };
  }
}

/** The parts of a client's grant of an API that exist on the registrations both adopt. */
function adoptedGrant(client: ClientConfig, api: ApiEntry): AdoptedGrant | undefined {
  const grant = client.existing?.grants?.find((entry) => entry.api === api.name);
  if (!client.existing || !api.existing || !grant) return undefined;
  const { retainOnDelete } = client.existing;
  const apiPrincipal = api.existing.servicePrincipal?.objectId;
  const consent =
    grant.appRoleAssignmentId && apiPrincipal
      ? importIds.appRoleAssignment(apiPrincipal, grant.appRoleAssignmentId)
      : grant.delegatedPermissionGrantId && importIds.delegatedPermissionGrant(grant.delegatedPermissionGrantId);
  return {
    ...(grant.permissionListed
      ? {
          permission: {
            importId: importIds.apiAccess(client.existing.objectId, api.existing.clientId),
            retainOnDelete,
          },
        }
      : {}),
    ...(consent ? { consent: { importId: consent, retainOnDelete } } : {}),
  };
}

/**
 * Registers who may get a token for which API: the API and client registrations, user-facing clients' sign-in, and
 * the grants with admin consent (an app role for a daemon, the delegated scope for a client that acts for a user).
 * `deployer` is the deploying identity's object id: it owns every service principal, so it can update and delete them.
 */
export function registerIdentity(config: Catalogue, parent: pulumi.Resource, deployer: pulumi.Input<string>): Identity {
  // A registration made by hand keeps its name: the suffix only keeps the program's own registrations apart.
  const suffixed = (entry: { displayName: string; existing?: object }) =>
    config.nameSuffix && !entry.existing ? `${entry.displayName}-${config.nameSuffix}` : entry.displayName;
  const apis = new Map(
    config.apis.map((api) => [
      api.name,
      new ApiRegistration(
        api.name,
        {
          displayName: suffixed(api),
          tokenVersion: api.tokenVersion,
          appRole: api.appRole,
          scope: api.scope,
          protect: config.protect,
          owners: [deployer],
          idKey: originalName(api),
          ...(api.existing ? { existing: adoptedApi(api.existing) } : {}),
          ...(api.callers.includes("users")
            ? { users: { roleValue: signedInUserRole, assignedPrincipals: api.assignedPrincipals ?? [] } }
            : {}),
        },
        { ...replaceable(parent), aliases: stackRootAliases(renameAliases(api)) },
      ),
    ]),
  );
  const clients = new Map(
    config.clients.filter(hasRegistration).map((client) => [
      client.name,
      new ClientRegistration(
        client.name,
        {
          displayName: suffixed(client),
          credential: credentialOf(client, config.authorityHost),
          protect: config.protect,
          owners: [deployer],
          today: config.today,
          ...(client.existing ? { existing: adoptedClient(client.existing) } : {}),
        },
        { ...replaceable(parent), aliases: stackRootAliases(renameAliases(client)) },
      ),
    ]),
  );
  const managedIdentities = registerManagedIdentities(config, parent, (name) => apis.get(name) as ApiRegistration);
  const identity: Identity = {
    api: (name) => apis.get(name) as ApiRegistration,
    client: (name) => clients.get(name) ?? (managedIdentities.get(name) as ManagedIdentityClient),
    registration: (name) => clients.get(name) as ClientRegistration,
  };

  for (const client of config.clients.filter(hasRegistration)) {
    const clientApp = identity.registration(client.name);
    if (client.kind !== "daemon") {
      new ClientSignIn(
        signInName(client.name),
        {
          applicationId: clientApp.applicationId,
          kind: client.kind,
          redirectUris: client.redirectUris ?? [],
          ...(client.existing?.redirectUris?.length
            ? {
                existingRedirectUris: {
                  importId: importIds.redirectUris(client.existing.objectId, redirectUriTypes[client.kind]),
                  retainOnDelete: client.existing.retainOnDelete,
                },
              }
            : {}),
        },
        {
          ...replaceable(parent),
          aliases: stackRootAliases((client.formerNames ?? []).map((former) => ({ name: signInName(former) }))),
        },
      );
    }
    for (const apiName of client.apis) {
      const api = config.apis.find((entry) => entry.name === apiName) as ApiEntry;
      const apiApp = identity.api(apiName);
      // A client whose kind changes between daemon and user-facing keeps its grant's permission list entry: the grant
      // component is also known under the other grant type, so the `-permission` child moves instead of being created
      // beside the old one (the provider refuses a second entry for the same API).
      const grant = (otherType: string) => ({
        ...replaceable(parent),
        aliases: [...stackRootAliases(grantAliases(client, api)), { type: otherType }],
      });
      if (client.kind !== "daemon") {
        // A user-facing client gets the delegated scope (scp), never the app role.
        new DelegatedAccessGrant(
          grantName(client.name, apiName),
          {
            clientApplicationId: clientApp.applicationId,
            clientServicePrincipalObjectId: clientApp.servicePrincipalObjectId,
            apiClientId: apiApp.clientId,
            apiServicePrincipalObjectId: apiApp.servicePrincipalObjectId,
            scopeId: apiApp.scopeId,
            scope: api.scope,
            existing: adoptedGrant(client, api),
          },
          grant(apiAccessGrantType),
        );
        continue;
      }
      new ApiAccessGrant(
        grantName(client.name, apiName),
        {
          clientApplicationId: clientApp.applicationId,
          clientServicePrincipalObjectId: clientApp.servicePrincipalObjectId,
          apiClientId: apiApp.clientId,
          apiServicePrincipalObjectId: apiApp.servicePrincipalObjectId,
          appRoleId: apiApp.appRoleId,
          existing: adoptedGrant(client, api),
        },
        grant(delegatedAccessGrantType),
      );
    }
  }
  return identity;
}
