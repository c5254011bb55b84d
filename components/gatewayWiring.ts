import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import type { ApimServiceReference } from "./apimService";
import type { Identity } from "./identityWiring";
import { ProtectedApi } from "./protectedApi";
import { replaceable } from "./protection";
import type { ApiEntry } from "../config/schema";
import { isGuid } from "../config/schema";
import type { Catalogue } from "../config/validate";
import { type OpenApiDocument, readOpenApiDocument } from "../config/openApi";
import { originalName, renameAliases, stackRootAliases } from "./renames";
import { authorizeEndpoint, tokenEndpoint, tokenProfile } from "../entra/tokenProfile";
import { defaultPolicyTemplatePath, renderApiPolicy } from "../policies/renderPolicy";
import type { ClientLimits } from "../policies/clientLimits";
import { limitsByClient } from "../config/clientLimits";

/** The gateway half of a catalogue: each API's APIM API, by catalogue name, and the clients' token endpoint. */
export interface Gateway {
  protectedApi(name: string): ProtectedApi;
  tenantId: pulumi.Output<string>;
  tokenEndpoint: pulumi.Output<string>;
}

/** The API's OpenAPI document with its import format; the config check has already read it without a problem. */
function openApiOf(api: ApiEntry): OpenApiDocument | undefined {
  const reading = api.openApiFile ? readOpenApiDocument(api.openApiFile) : undefined;
  return reading && "document" in reading ? reading.document : undefined;
}

/**
 * Registers the APIM APIs that accept exactly the identity half's tokens: each with its policy rendered from the
 * API's registration and, when asked for, the developer portal's authorization server.
 */
export function registerGateway(
  config: Catalogue,
  identity: Identity,
  service: ApimServiceReference,
  tenantId: pulumi.Output<string>,
  parent: pulumi.Resource,
  checkServiceTier: (skuName: string) => void,
): Gateway {
  const policyTemplate = fs.readFileSync(defaultPolicyTemplatePath, "utf8");
  const clientTokenEndpoint = tenantId.apply((tenant) => tokenEndpoint(config.authorityHost, tenant));

  /** Client ids the policy lets through: the configured allow-list, else (azure-ad-token only) the granted clients. */
  function allowedClientIds(api: ApiEntry): pulumi.Output<string[]> {
    const granted = config.clients.filter((client) => client.apis.includes(api.name)).map((client) => client.name);
    const names = api.allowedClients ?? (api.validation === "validate-azure-ad-token" ? granted : []);
    return pulumi.all(names.map((name) => (isGuid(name) ? pulumi.output(name) : identity.client(name).clientId)));
  }

  /** The API's client limits, each listed client named by its client id. */
  function clientLimits(api: ApiEntry): pulumi.Output<ClientLimits | undefined> {
    if (!api.limits) return pulumi.output<ClientLimits | undefined>(undefined);
    const { everyClient, clients } = limitsByClient(api);
    const ids = clients.map(({ client }) =>
      isGuid(client) ? pulumi.output(client) : identity.client(client).clientId,
    );
    return pulumi.all(ids).apply((clientIds) => ({
      everyClient,
      clients: clients.map(({ limits }, index) => ({ clientId: clientIds[index] as string, limits })),
    }));
  }

  // A component cannot await the lookup of an existing service: its tier is checked when the lookup answers, before
  // the authorization server or the policy it would refuse is created. A program checks it before anything is
  // registered.
  const checkedTier = service.skuName.apply((skuName) => {
    checkServiceTier(skuName);
    return skuName;
  });
  const authorizeUrl = pulumi
    .all([tenantId, checkedTier])
    .apply(([tenant]) => authorizeEndpoint(config.authorityHost, tenant));

  const protectedApis = new Map(
    config.apis.map((api) => {
      const registration = identity.api(api.name);
      const policyXml = pulumi
        .all([tenantId, registration.clientId, allowedClientIds(api), clientLimits(api), checkedTier])
        .apply(([tenant, apiClientId, clientIds, limits]) =>
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
              ...(limits ? { limits } : {}),
            },
            policyTemplate,
            defaultPolicyTemplatePath,
          ),
        );
      const server = api.authorizationServer?.enabled ? api.authorizationServer : undefined;
      const portalClient = server ? identity.registration(server.client) : undefined;
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
              authorizationEndpoint: authorizeUrl,
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
          { ...replaceable(parent), aliases: stackRootAliases(renameAliases(api)) },
        ),
      ];
    }),
  );
  return {
    protectedApi: (name) => protectedApis.get(name) as ProtectedApi,
    tenantId,
    tokenEndpoint: clientTokenEndpoint,
  };
}
