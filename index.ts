import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { ApiAccessGrant } from "./components/apiAccessGrant";
import { ApiRegistration } from "./components/apiRegistration";
import { type ClientCredential, ClientRegistration } from "./components/clientRegistration";
import { loadStackConfig } from "./config/load";
import type { ClientEntry } from "./config/schema";
import { tokenEndpoint } from "./lib/tokenProfile";

const config = loadStackConfig();
const suffixed = (displayName: string) => (config.nameSuffix ? `${displayName}-${config.nameSuffix}` : displayName);
const tenantId: pulumi.Output<string> = config.tenantId
  ? pulumi.output(config.tenantId)
  : azuread.getClientConfigOutput().tenantId;

function credentialOf(client: ClientEntry): ClientCredential {
  switch (client.credential) {
    case "secret":
      return { kind: "secret", rotatedOn: client.secretRotatedOn ?? "", lifetimeDays: client.secretLifetimeDays };
    case "federated":
      return { kind: "federated", credentials: client.federatedCredentials ?? [] };
    case "none":
      return { kind: "none" };
  }
}

const apiRegistrations = new Map(
  config.apis.map((api) => [
    api.name,
    new ApiRegistration(api.name, {
      displayName: suffixed(api.displayName),
      tokenVersion: api.tokenVersion,
      appRole: api.appRole,
      scope: api.scope,
      protect: config.protect,
    }),
  ]),
);

const clientRegistrations = new Map(
  config.clients.map((client) => [
    client.name,
    new ClientRegistration(client.name, {
      displayName: suffixed(client.displayName),
      credential: credentialOf(client),
      protect: config.protect,
    }),
  ]),
);

for (const client of config.clients) {
  const registration = clientRegistrations.get(client.name) as ClientRegistration;
  for (const apiName of client.apis) {
    const api = apiRegistrations.get(apiName) as ApiRegistration;
    new ApiAccessGrant(`${client.name}--${apiName}`, {
      clientApplicationId: registration.applicationId,
      clientServicePrincipalObjectId: registration.servicePrincipalObjectId,
      apiClientId: api.clientId,
      apiServicePrincipalObjectId: api.servicePrincipalObjectId,
      appRoleId: api.appRoleId,
    });
  }
}

const clientTokenEndpoint = tenantId.apply((tenant) => tokenEndpoint(config.authorityHost, tenant));

/** Per client: what a client-credentials request needs. The secret stays a Pulumi secret. */
export const clients = Object.fromEntries(
  config.clients.map((client) => {
    const registration = clientRegistrations.get(client.name) as ClientRegistration;
    return [
      client.name,
      {
        clientId: registration.clientId,
        tenantId,
        tokenEndpoint: clientTokenEndpoint,
        credential: client.credential,
        scopes: Object.fromEntries(
          client.apis.map((apiName) => [apiName, (apiRegistrations.get(apiName) as ApiRegistration).tokenRequestScope]),
        ),
        clientSecret: registration.clientSecret,
        secretEndDate: registration.secretEndDate,
      },
    ];
  }),
);

/** Per API: the ids a token for it carries. */
export const apis = Object.fromEntries(
  config.apis.map((api) => {
    const registration = apiRegistrations.get(api.name) as ApiRegistration;
    return [
      api.name,
      {
        clientId: registration.clientId,
        identifierUri: registration.identifierUri,
        appRole: registration.appRoleValue,
        appRoleId: registration.appRoleId,
        tokenVersion: registration.tokenVersion,
      },
    ];
  }),
);
