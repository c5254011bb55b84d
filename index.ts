import * as fs from "node:fs";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { ApiAccessGrant } from "./components/apiAccessGrant";
import { apimService } from "./components/apimService";
import { ApiRegistration } from "./components/apiRegistration";
import { type ClientCredential, ClientRegistration } from "./components/clientRegistration";
import { ClientSignIn } from "./components/clientSignIn";
import { DelegatedAccessGrant } from "./components/delegatedAccessGrant";
import { ProtectedApi } from "./components/protectedApi";
import { loadStackConfig } from "./config/load";
import type { ApiEntry } from "./config/schema";
import { isGuid } from "./config/schema";
import { assertPortalTier, type ClientConfig } from "./config/validate";
import { apiCallCommand, tokenRequestCommand } from "./lib/guideCommands";
import { grantAliases, grantName, originalName, renameAliases } from "./lib/renames";
import { type OpenApiDocument, readOpenApiDocument } from "./lib/openApi";
import { federatedCredentialAudience, tokenEndpoint, tokenProfile } from "./lib/tokenProfile";
import { defaultPolicyTemplatePath, renderApiPolicy } from "./policies/renderPolicy";

/**
 * The program: validate the stack's config (and the existing APIM service's tier) before anything is registered,
 * then register the identity half, then the gateway half. Pulumi runs the exported function; its result is the
 * stack's outputs.
 */
export = async () => {
  const config = loadStackConfig();
  const service = await apimService(config.apim, { protect: config.protect });
  assertPortalTier(config, service.skuName);
  const policyTemplate = fs.readFileSync(defaultPolicyTemplatePath, "utf8");
  const suffixed = (displayName: string) => (config.nameSuffix ? `${displayName}-${config.nameSuffix}` : displayName);
  const tenantId: pulumi.Output<string> = config.tenantId
    ? pulumi.output(config.tenantId)
    : azuread.getClientConfigOutput().tenantId;

  function credentialOf(client: ClientConfig): ClientCredential {
    switch (client.credential) {
      case "secret":
        return { kind: "secret", secrets: client.secrets };
      case "federated":
        return {
          kind: "federated",
          audience: federatedCredentialAudience(config.authorityHost),
          credentials: client.federatedCredentials ?? [],
        };
      case "none":
        return { kind: "none" };
    }
  }

  /** The API's OpenAPI document with its import format; the config check has already read it without a problem. */
  function openApiOf(api: ApiEntry): OpenApiDocument | undefined {
    const reading = api.openApiFile ? readOpenApiDocument(api.openApiFile) : undefined;
    return reading && "document" in reading ? reading.document : undefined;
  }

  // ── Identity: who may get a token for which API ────────────────────────────────────────────────
  const apiRegistrations = new Map(
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
          idKey: originalName(api),
        },
        { aliases: renameAliases(api) },
      ),
    ]),
  );
  const apiRegistration = (name: string) => apiRegistrations.get(name) as ApiRegistration;

  const clientRegistrations = new Map(
    config.clients.map((client) => [
      client.name,
      new ClientRegistration(
        client.name,
        {
          displayName: suffixed(client.displayName),
          credential: credentialOf(client),
          protect: config.protect,
          today: config.today,
        },
        { aliases: renameAliases(client) },
      ),
    ]),
  );
  const clientRegistration = (name: string) => clientRegistrations.get(name) as ClientRegistration;

  for (const client of config.clients) {
    if (client.kind !== "daemon") {
      new ClientSignIn(
        `${client.name}-sign-in`,
        {
          applicationId: clientRegistration(client.name).applicationId,
          kind: client.kind,
          redirectUris: client.redirectUris ?? [],
        },
        { aliases: (client.formerNames ?? []).map((former) => ({ name: `${former}-sign-in` })) },
      );
    }
    for (const apiName of client.apis) {
      const api = config.apis.find((entry) => entry.name === apiName) as ApiEntry;
      if (client.kind !== "daemon") {
        // A user-facing client gets the delegated scope (scp), never the app role.
        const [clientApp, apiApp] = [clientRegistration(client.name), apiRegistration(apiName)];
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
          { aliases: grantAliases(client, api) },
        );
        continue;
      }
      new ApiAccessGrant(
        grantName(client.name, apiName),
        {
          clientApplicationId: clientRegistration(client.name).applicationId,
          clientServicePrincipalObjectId: clientRegistration(client.name).servicePrincipalObjectId,
          apiClientId: apiRegistration(apiName).clientId,
          apiServicePrincipalObjectId: apiRegistration(apiName).servicePrincipalObjectId,
          appRoleId: apiRegistration(apiName).appRoleId,
        },
        { aliases: grantAliases(client, api) },
      );
    }
  }

  // ── Gateway: the APIM API that accepts exactly those tokens ───────────────────────────────────

  const clientTokenEndpoint = tenantId.apply((tenant) => tokenEndpoint(config.authorityHost, tenant));

  /** Client ids the policy lets through: the configured allow-list, else (azure-ad-token only) the granted clients. */
  function allowedClientIds(api: ApiEntry): pulumi.Output<string[]> {
    const granted = config.clients.filter((client) => client.apis.includes(api.name)).map((client) => client.name);
    const names = api.allowedClients ?? (api.validation === "validate-azure-ad-token" ? granted : []);
    return pulumi.all(names.map((name) => (isGuid(name) ? pulumi.output(name) : clientRegistration(name).clientId)));
  }

  const protectedApis = new Map(
    config.apis.map((api) => {
      const registration = apiRegistration(api.name);
      const policyXml = pulumi
        .all([tenantId, registration.clientId, allowedClientIds(api)])
        .apply(([tenant, apiClientId, clientIds]) =>
          renderApiPolicy(
            {
              validation: api.validation,
              profile: tokenProfile({
                authorityHost: config.authorityHost,
                tenantId: tenant,
                apiClientId,
                tokenVersion: api.tokenVersion,
              }),
              tenantId: tenant,
              appRole: api.appRole,
              clockSkewSeconds: api.clockSkewSeconds,
              allowedClientIds: clientIds,
              callers: api.callers,
              scope: api.scope,
            },
            policyTemplate,
            defaultPolicyTemplatePath,
          ),
        );
      const server = api.authorizationServer?.enabled ? api.authorizationServer : undefined;
      const portalClient = server ? clientRegistration(server.client) : undefined;
      const portalSignsUserIn = config.clients.find((client) => client.name === server?.client)?.kind === "web";
      return [
        api.name,
        new ProtectedApi(
          api.name,
          {
            apiId: originalName(api),
            resourceGroupName: service.resourceGroupName,
            serviceName: service.serviceName,
            displayName: api.displayName,
            path: api.path,
            backendUrl: api.backendUrl,
            openApi: openApiOf(api),
            policyXml,
            authorizationServer: portalClient && {
              apiDisplayName: api.displayName,
              clientName: server?.client ?? "",
              authorizationEndpoint: tenantId.apply(
                (tenant) => `${config.authorityHost}/${tenant}/oauth2/v2.0/authorize`,
              ),
              tokenEndpoint: clientTokenEndpoint,
              defaultScope: portalSignsUserIn
                ? pulumi.interpolate`${registration.identifierUri}/${api.scope}`
                : registration.tokenRequestScope,
              ...(portalSignsUserIn ? { grantTypes: ["authorizationCode" as const] } : {}),
              clientId: portalClient.clientId,
              clientSecret: portalClient.clientSecret.apply((secret) => secret ?? ""),
            },
            protect: config.protect,
          },
          { aliases: renameAliases(api) },
        ),
      ];
    }),
  );

  // ── Outputs ──────────────────────────────────────────────────────────────────────────────────
  /** The APIM gateway's base URL. */
  const gatewayUrl = service.gatewayUrl;

  /** Per client: what a client-credentials request needs. The secret stays a Pulumi secret. */
  const clients = Object.fromEntries(
    config.clients.map((client) => {
      const registration = clientRegistration(client.name);
      return [
        client.name,
        {
          clientId: registration.clientId,
          tenantId,
          tokenEndpoint: clientTokenEndpoint,
          credential: client.credential,
          scopes: Object.fromEntries(
            client.apis.map((name) => [
              name,
              client.kind === "daemon"
                ? apiRegistration(name).tokenRequestScope
                : pulumi.interpolate`${apiRegistration(name).identifierUri}/${(config.apis.find((api) => api.name === name) as ApiEntry).scope}`,
            ]),
          ),
          clientSecret: registration.clientSecret,
          secretEndDate: registration.secretEndDate,
          secrets: registration.secrets,
          ...(client.kind === "daemon" ? {} : { kind: client.kind, redirectUris: client.redirectUris ?? [] }),
        },
      ];
    }),
  );

  /** Per API: the ids its tokens carry, its gateway URL, its rendered policy and the guide's commands. */
  const apis = Object.fromEntries(
    config.apis.map((api) => {
      const registration = apiRegistration(api.name);
      const url = pulumi.interpolate`${service.gatewayUrl}/${api.path}`;
      return [
        api.name,
        {
          clientId: registration.clientId,
          identifierUri: registration.identifierUri,
          appRole: registration.appRoleValue,
          appRoleId: registration.appRoleId,
          tokenVersion: registration.tokenVersion,
          url,
          policy: (protectedApis.get(api.name) as ProtectedApi).policyXml,
          tokenRequest: pulumi
            .all([clientTokenEndpoint, registration.tokenRequestScope])
            .apply(([endpoint, scope]) => tokenRequestCommand(endpoint, scope)),
          apiCall: url.apply(apiCallCommand),
        },
      ];
    }),
  );

  return { authorityHost: config.authorityHost, tenantId, gatewayUrl, clients, apis };
};
