import * as pulumi from "@pulumi/pulumi";
import type { ApimServiceReference } from "./apimService";
import type { Gateway } from "./gatewayWiring";
import type { Identity } from "./identityWiring";
import type { ApiEntry } from "../config/schema";
import type { ManagedIdentityClient } from "./managedIdentityClient";
import type { Catalogue, ClientConfig } from "../config/validate";
import { apiCallCommand, managedIdentityTokenExample, tokenRequestCommand } from "../entra/guideCommands";

/** One client secret's dates; never its value. */
export interface SecretDates {
  /** The day the secret was issued. */
  rotatedOn: string;
  /** Its fixed end date. */
  endDate: string;
}

/** What a client needs to request a token. */
export interface ClientAccess {
  /** The client's application (client) id; a managed identity's is `managedIdentityClientId` for Azure Identity. */
  clientId: pulumi.Output<string>;
  /** The tenant to request tokens from. */
  tenantId: pulumi.Output<string>;
  /** The v2 token endpoint; absent for a managed identity, which asks its Azure host for tokens. */
  tokenEndpoint?: pulumi.Output<string>;
  /** "secret", "federated" or "none" (a public client, or a managed identity: Azure holds its credential). */
  credential: string;
  /** Per granted API, the scope to request: `api://<id>/.default`, or a user-facing client's delegated scope. */
  scopes: Record<string, pulumi.Output<string>>;
  /** A managed identity's per granted API `resource` for its host's token endpoint (IMDS, IDENTITY_ENDPOINT). */
  resources?: Record<string, pulumi.Output<string>>;
  /** A managed identity's per granted API token request in two lines of JavaScript (DefaultAzureCredential). */
  examples?: Record<string, pulumi.Output<string>>;
  /** A managed identity's service principal object id: the `oid` of its tokens, and the principal granted the APIs. */
  principalId?: pulumi.Output<string>;
  /** A created managed identity's ARM id, to attach to the App Service, Function or Container App that runs the caller. */
  identityResourceId?: pulumi.Output<string>;
  /** The newest client secret, a Pulumi secret; absent unless the credential is "secret". */
  clientSecret: pulumi.Output<string | undefined>;
  /** The newest secret's end date; absent unless the credential is "secret". */
  secretEndDate: pulumi.Output<string | undefined>;
  /** Every secret's rotation and end date, oldest first. */
  secrets: SecretDates[];
  /** A user-facing client's kind ("web", "spa" or "native") or "managedIdentity"; absent for a daemon. */
  kind?: string;
  /** A user-facing client's redirect URIs; absent for a daemon. */
  redirectUris?: string[];
}

/** What a caller and a reviewer need to know about one protected API. */
export interface ApiAccess {
  /** The API app's client id: the v2 audience. */
  clientId: pulumi.Output<string>;
  /** `api://<client id>`: the v1 audience. */
  identifierUri: pulumi.Output<string>;
  /** The app role value client-credentials tokens carry in `roles`. */
  appRole: pulumi.Output<string>;
  /** The app role's id. */
  appRoleId: pulumi.Output<string>;
  /** The API app's access token version (1 or 2). */
  tokenVersion: pulumi.Output<number>;
  /** The API's URL on the gateway. */
  url: pulumi.Output<string>;
  /** The rendered API policy, byte for byte. */
  policy: pulumi.Output<string>;
  /** The guide's token request as a curl command, with placeholders for secrets. */
  tokenRequest: pulumi.Output<string>;
  /** The guide's API call as a curl command, with a placeholder for the token. */
  apiCall: pulumi.Output<string>;
}

/** Per client: what a token request needs. The secret stays a Pulumi secret (only that value: not the whole map). */
export function clientOutputs(config: Catalogue, identity: Identity, gateway: Gateway): Record<string, ClientAccess> {
  const delegatedScope = (name: string) =>
    pulumi.interpolate`${identity.api(name).identifierUri}/${(config.apis.find((api) => api.name === name) as ApiEntry).scope}`;
  return Object.fromEntries(
    config.clients.map((client) => {
      if (client.kind === "managedIdentity") return [client.name, managedIdentityOutputs(client, identity, gateway)];
      const registration = identity.registration(client.name);
      const access: ClientAccess = {
        clientId: registration.clientId,
        tenantId: gateway.tenantId,
        tokenEndpoint: gateway.tokenEndpoint,
        credential: client.credential,
        scopes: Object.fromEntries(
          client.apis.map((name) => [
            name,
            client.kind === "daemon" ? identity.api(name).tokenRequestScope : delegatedScope(name),
          ]),
        ),
        clientSecret: registration.clientSecret,
        secretEndDate: registration.secretEndDate,
        secrets: registration.secrets,
        ...(client.kind === "daemon" ? {} : { kind: client.kind, redirectUris: client.redirectUris ?? [] }),
      };
      return [client.name, access];
    }),
  );
}

/**
 * What code running as a managed identity needs: its client id, and per granted API the scope (v2 libraries), the
 * resource (the host's token endpoint, v1 libraries) and a two-line DefaultAzureCredential example. No secret.
 */
function managedIdentityOutputs(client: ClientConfig, identity: Identity, gateway: Gateway): ClientAccess {
  const managed = identity.client(client.name) as ManagedIdentityClient;
  const perApi = <T>(value: (name: string) => pulumi.Output<T>) =>
    Object.fromEntries(client.apis.map((name) => [name, value(name)]));
  return {
    clientId: managed.clientId,
    tenantId: gateway.tenantId,
    credential: client.credential,
    kind: client.kind,
    scopes: perApi((name) => identity.api(name).tokenRequestScope),
    resources: perApi((name) => identity.api(name).identifierUri),
    examples: perApi((name) =>
      pulumi
        .all([managed.clientId, identity.api(name).tokenRequestScope, managed.assignedBy])
        .apply(([clientId, scope, assignedBy]) => managedIdentityTokenExample(clientId, scope, assignedBy)),
    ),
    principalId: managed.principalId,
    ...(managed.resourceId ? { identityResourceId: managed.resourceId } : {}),
    clientSecret: pulumi.output<string | undefined>(undefined),
    secretEndDate: pulumi.output<string | undefined>(undefined),
    secrets: [],
  };
}

/** Per API: the ids its tokens carry, its gateway URL, its rendered policy and the guide's commands. */
export function apiOutputs(
  config: Catalogue,
  identity: Identity,
  gateway: Gateway,
  service: ApimServiceReference,
): Record<string, ApiAccess> {
  return Object.fromEntries(
    config.apis.map((api) => {
      const registration = identity.api(api.name);
      const url = pulumi.interpolate`${service.gatewayUrl}/${api.path}`;
      const access: ApiAccess = {
        clientId: registration.clientId,
        identifierUri: registration.identifierUri,
        appRole: registration.appRoleValue,
        appRoleId: registration.appRoleId,
        tokenVersion: registration.tokenVersion,
        url,
        policy: gateway.protectedApi(api.name).policyXml,
        tokenRequest: pulumi
          .all([gateway.tokenEndpoint, registration.tokenRequestScope])
          .apply(([endpoint, scope]) => tokenRequestCommand(endpoint, scope)),
        apiCall: url.apply(apiCallCommand),
      };
      return [api.name, access];
    }),
  );
}
