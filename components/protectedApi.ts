import * as apimanagement from "@pulumi/azure-native/apimanagement";
import * as pulumi from "@pulumi/pulumi";

/** The methods a catch-all API forwards when no OpenAPI document describes its operations. */
export const catchAllMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

export interface OpenApiDocument {
  /** `openapi+json` for JSON documents, `openapi` for YAML. */
  format: "openapi+json" | "openapi";
  value: string;
}

export interface PortalAuthorizationServer {
  displayName: pulumi.Input<string>;
  /** `<authority>/<tenant>/oauth2/v2.0/authorize`. */
  authorizationEndpoint: pulumi.Input<string>;
  /** `<authority>/<tenant>/oauth2/v2.0/token`. */
  tokenEndpoint: pulumi.Input<string>;
  /** `api://<API client id>/.default`, or the delegated scope `api://<API client id>/<scope>` for authorization code. */
  defaultScope: pulumi.Input<string>;
  /** Default `clientCredentials`; `authorizationCode` has the test console sign the developer in (a web client). */
  grantTypes?: ("clientCredentials" | "authorizationCode")[];
  /** The designated client's id and secret; the secret stays a Pulumi secret. */
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
  /** Protect the API from deletion. */
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

    const server = args.authorizationServer
      ? new apimanagement.AuthorizationServer(
          `${name}-authorization-server`,
          {
            ...service,
            authsid: `${args.apiId ?? name}-entra`,
            displayName: args.authorizationServer.displayName,
            grantTypes: args.authorizationServer.grantTypes ?? ["clientCredentials"],
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
          { parent: this },
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
      { parent: this, protect: args.protect ?? false },
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
          { parent: this },
        );
      }
    }

    const policy = new apimanagement.ApiPolicy(
      `${name}-policy`,
      { ...service, apiId: api.name, policyId: "policy", format: "rawxml", value: args.policyXml },
      { parent: this },
    );

    this.apiName = api.name;
    this.policyXml = policy.value;
    this.authorizationServerName = server ? server.name : pulumi.output(undefined);
    this.registerOutputs({
      apiName: this.apiName,
      policyXml: this.policyXml,
      authorizationServerName: this.authorizationServerName,
    });
  }
}
