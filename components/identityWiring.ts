import * as pulumi from "@pulumi/pulumi";
import { ApiAccessGrant, apiAccessGrantType } from "./apiAccessGrant";
import { ApiRegistration } from "./apiRegistration";
import { type ClientCredential, ClientRegistration } from "./clientRegistration";
import { ClientSignIn } from "./clientSignIn";
import { DelegatedAccessGrant, delegatedAccessGrantType } from "./delegatedAccessGrant";
import type { ApiEntry } from "../config/schema";
import { signedInUserRole } from "../config/clientKinds";
import type { ClientConfig, Catalogue } from "../config/validate";
import { grantAliases, grantName, originalName, renameAliases, stackRootAliases } from "./renames";
import { federatedCredentialAudience } from "../entra/tokenProfile";
import { replaceable } from "./protection";
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

/**
 * Registers who may get a token for which API: the API and client registrations, user-facing clients' sign-in, and
 * the grants with admin consent (an app role for a daemon, the delegated scope for a client that acts for a user).
 * `deployer` is the deploying identity's object id: it owns every service principal, so it can update and delete them.
 */
export function registerIdentity(config: Catalogue, parent: pulumi.Resource, deployer: pulumi.Input<string>): Identity {
  const suffixed = (displayName: string) => (config.nameSuffix ? `${displayName}-${config.nameSuffix}` : displayName);
  const apis = new Map(
    config.apis.map((api) => [
      api.name,
      new ApiRegistration(
        api.name,
        {
          displayName: suffixed(api.displayName),
          tokenVersion: api.tokenVersion,
          appRole: api.appRole,
          scope: api.scope,
          protect: config.protect,
          owners: [deployer],
          idKey: originalName(api),
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
          displayName: suffixed(client.displayName),
          credential: credentialOf(client, config.authorityHost),
          protect: config.protect,
          owners: [deployer],
          today: config.today,
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
        `${client.name}-sign-in`,
        { applicationId: clientApp.applicationId, kind: client.kind, redirectUris: client.redirectUris ?? [] },
        {
          ...replaceable(parent),
          aliases: stackRootAliases((client.formerNames ?? []).map((former) => ({ name: `${former}-sign-in` }))),
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
        },
        grant(delegatedAccessGrantType),
      );
    }
  }
  return identity;
}
