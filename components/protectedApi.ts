import * as apimanagement from "@pulumi/azure-native/apimanagement";
import * as pulumi from "@pulumi/pulumi";
import { portalServerId } from "../config/clientKinds";
import type { OpenApiDocument } from "../config/openApi";
import { kept, replaceable } from "./protection";

/** The methods a catch-all API forwards when no OpenAPI document describes its operations. */
export const catchAllMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** APIM: AuthorizationServerContractProperties.displayName maxLength 50 (azure-rest-api-specs apimanagement 2024-05-01). */
export const authorizationServerDisplayNameLimit = 50;

/**
 * `<API display name> (Entra ID)`, shortened with "…" to APIM's 50 characters: a long API name keeps its portal
 * instead of failing `pulumi up`. The shortened name is an input, so the plan shows it.
 */
export function portalServerDisplayName(apiDisplayName: string): string {
  const suffix = " (Entra ID)";
  const full = `${apiDisplayName}${suffix}`;
  if (full.length <= authorizationServerDisplayNameLimit) return full;
  let kept = "";
  for (const character of apiDisplayName) {
    if (kept.length + character.length > authorizationServerDisplayNameLimit - suffix.length - 1) break;
    kept += character;
  }
  return `${kept.trimEnd()}…${suffix}`;
}

/** The risk of a portal that holds a client secret and uses client credentials (azure-review.md item 6). */
export function portalRiskWarning(api: string, client: string): string {
  return `The developer portal of API "${api}" holds the secret of client "${client}" and uses client credentials: its test console hands out tokens carrying "${client}"'s role without asking anyone for credentials (Microsoft's "Security considerations" for OAuth 2.0 in API Management). Use a web client of its own for it, which signs the developer in with authorization code (kind: web, portal: true; both required with protect: true), or set authorizationServer.enabled: false, and republish the developer portal after any change to its OAuth server.`;
}

export interface PortalAuthorizationServer {
  /** The API's display name; the server's own is derived from it within APIM's limit. */
  apiDisplayName: string;
  /** `<authority>/<tenant>/oauth2/v2.0/authorize`. */
  authorizationEndpoint: pulumi.Input<string>;
  /** `<authority>/<tenant>/oauth2/v2.0/token`. */
  tokenEndpoint: pulumi.Input<string>;
  /** `api://<API client id>/.default`, or the delegated scope `api://<API client id>/<scope>` for authorization code. */
  defaultScope: pulumi.Input<string>;
  /** The designated client's catalogue name, id and newest secret; the secret stays a Pulumi secret. */
  clientName: string;
  /** Default `clientCredentials`; `authorizationCode` has the test console sign the developer in (a web client). */
  grantTypes?: ("clientCredentials" | "authorizationCode")[];
  clientId: pulumi.Input<string>;
  clientSecret: pulumi.Input<string>;
}

export interface ProtectedApiArgs {
  resourceGroupName: pulumi.Input<string>;
  serviceName: pulumi.Input<string>;
  displayName: pulumi.Input<string>;
  /** URL suffix on the gateway, without slashes at either end. */
  path: pulumi.Input<string>;
  backendUrl: pulumi.Input<string>;
  /** Operations come from this document when given; otherwise catch-all operations for each method on `/*`. */
  openApi?: OpenApiDocument;
  /** The rendered API policy (policies/), applied as raw XML. */
  policyXml: pulumi.Input<string>;
  /** The developer portal's OAuth 2.0 client (guide step 5); it validates nothing: the policy does. */
  authorizationServer?: PortalAuthorizationServer;
  /** Protect the API from deletion (its operations, policy and portal server are rebuilt from config). */
  protect?: boolean;
  /** The APIM API id (and authorization server id stem); keep the original through renames. Default: `name`. */
  apiId?: string;
}

/**
 * An APIM API whose only credential is the Entra ID token: https only, no subscription key, and the API policy
 * with the token check.
 */
export class ProtectedApi extends pulumi.ComponentResource {
  /** The API's id in the service (its resource name). */
  public readonly apiName: pulumi.Output<string>;
  public readonly policyXml: pulumi.Output<string>;
  /** The authorization server's name, when the developer portal is configured. */
  public readonly authorizationServerName: pulumi.Output<string | undefined>;

  constructor(name: string, args: ProtectedApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("apim-entra-auth:gateway:ProtectedApi", name, {}, opts);
    const service = { resourceGroupName: args.resourceGroupName, serviceName: args.serviceName };

    const grantTypes = args.authorizationServer?.grantTypes ?? ["clientCredentials"];
    // Only client credentials hand out a token without asking anyone; authorization code signs the developer in.
    if (args.authorizationServer && grantTypes.includes("clientCredentials") && pulumi.runtime.isDryRun()) {
      pulumi.log.warn(portalRiskWarning(name, args.authorizationServer.clientName), this);
    }
    const server = args.authorizationServer
      ? new apimanagement.AuthorizationServer(
          `${name}-authorization-server`,
          {
            ...service,
            authsid: portalServerId(args.apiId ?? name),
            displayName: portalServerDisplayName(args.authorizationServer.apiDisplayName),
            grantTypes,
            authorizationEndpoint: args.authorizationServer.authorizationEndpoint,
            tokenEndpoint: args.authorizationServer.tokenEndpoint,
            // Required by APIM even for client credentials, and unused by that flow; Microsoft's tutorial uses a placeholder.
            clientRegistrationEndpoint: "http://localhost",
            defaultScope: args.authorizationServer.defaultScope,
            clientId: args.authorizationServer.clientId,
            clientSecret: pulumi.secret(args.authorizationServer.clientSecret),
            clientAuthenticationMethod: ["Body"],
            bearerTokenSendingMethods: ["authorizationHeader"],
            useInTestConsole: true,
            useInApiDocumentation: true,
          },
          replaceable(this),
        )
      : undefined;

    const api = new apimanagement.Api(
      `${name}-api`,
      {
        ...service,
        apiId: args.apiId ?? name,
        displayName: args.displayName,
        path: args.path,
        serviceUrl: args.backendUrl,
        protocols: ["https"],
        subscriptionRequired: false,
        ...(args.openApi ? { format: args.openApi.format, value: args.openApi.value } : {}),
        ...(server
          ? { authenticationSettings: { oAuth2AuthenticationSettings: [{ authorizationServerId: server.name }] } }
          : {}),
      },
      kept(this, args.protect),
    );

    if (!args.openApi) {
      for (const method of catchAllMethods) {
        new apimanagement.ApiOperation(
          `${name}-${method.toLowerCase()}`,
          {
            ...service,
            apiId: api.name,
            operationId: `${method.toLowerCase()}-any`,
            displayName: `${method} /*`,
            method,
            urlTemplate: "/*",
          },
          replaceable(this),
        );
      }
    }

    new apimanagement.ApiPolicy(
      `${name}-policy`,
      { ...service, apiId: api.name, policyId: "policy", format: "rawxml", value: args.policyXml },
      replaceable(this),
    );

    this.apiName = api.name;
    // The rendered XML, byte for byte: APIM answers with its own re-formatted copy (azure-rest-api-specs #25306).
    this.policyXml = pulumi.output(args.policyXml);
    this.authorizationServerName = server ? server.name : pulumi.output<string | undefined>(undefined);
    this.registerOutputs({
      apiName: this.apiName,
      policyXml: this.policyXml,
      authorizationServerName: this.authorizationServerName,
    });
  }
}
