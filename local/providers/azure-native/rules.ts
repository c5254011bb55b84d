/**
 * The constraints the REST API specifications put on the inputs of the resource types this program deploys, one row
 * per constraint, each naming the definition it comes from in Azure/azure-rest-api-specs. Input names are the
 * Pulumi SDK's (x-ms-client-name where the wire name differs, e.g. `apiType` for ApiEntityBaseContract.type).
 * Enums are enforced even where the spec models them as strings (`modelAsString`): the service rejects other values.
 */

/** Where a constraint is written down. */
export interface SpecSource {
  /** The specification folder and version, e.g. `apimanagement 2024-05-01`. */
  spec: string;
  file: string;
  definition: string;
}

export interface Rule {
  /** The input: `name`, a nested `parent.child`, or `name[]` for each item of a list. */
  property: string;
  required?: true;
  minLength?: number;
  maxLength?: number;
  /** The spec's pattern and how a person would say it. */
  pattern?: { expression: RegExp; spec: string; meaning: string };
  enum?: readonly string[];
  integer?: true;
  /** A value this property must have while another input has a given value. */
  requiredValueWhen?: { property: string; is: string; value: unknown; said: string };
  source: SpecSource;
}

const apim = (file: string, definition: string): SpecSource => ({ spec: "apimanagement 2024-05-01", file, definition });
const common = (definition: string): SpecSource => ({
  spec: "common-types resource-management v5",
  file: "types.json",
  definition,
});
const authorization = (definition: string): SpecSource => ({
  spec: "authorization 2022-04-01",
  file: "authorization-RoleAssignmentsCalls.json",
  definition,
});

const msi = (definition: string): SpecSource => ({
  spec: "msi 2023-01-31",
  file: "ManagedIdentity.json",
  definition,
});

/** `^[^*#&+:<>?]+$`: the identifiers of APIs, authorization servers and other APIM entities. */
const entityIdPattern = {
  expression: /^[^*#&+:<>?]+$/,
  spec: "^[^*#&+:<>?]+$",
  meaning: "no *, #, &, +, :, <, > or ?",
};

const resourceGroupName: Rule = {
  property: "resourceGroupName",
  required: true,
  minLength: 1,
  maxLength: 90,
  // .NET's \w, which ARM's pattern is written for, takes letters and digits of any script.
  pattern: {
    expression: /^[-\p{L}\p{Mn}\p{Nd}\p{Pc}.()]+$/u,
    spec: "^[-\\w\\._\\(\\)]+$",
    meaning: "letters, digits, '-', '_', '.', '(' and ')'",
  },
  source: common("ResourceGroupNameParameter"),
};

const serviceName: Rule = {
  property: "serviceName",
  required: true,
  minLength: 1,
  maxLength: 50,
  pattern: {
    expression: /^[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/,
    spec: "^[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$",
    meaning: "letters, digits and hyphens, starting with a letter and not ending with a hyphen",
  },
  source: apim("apimanagement.json", "ServiceNameParameter"),
};

const apiId: Rule = {
  property: "apiId",
  required: true,
  minLength: 1,
  maxLength: 256,
  pattern: entityIdPattern,
  source: apim("apimanagement.json", "ApiIdRevParameter"),
};

const apiTypes = ["http", "soap", "websocket", "graphql", "odata", "grpc"] as const;

export const rules: Readonly<Record<string, readonly Rule[]>> = {
  "azure-native:apimanagement:ApiManagementService": [
    resourceGroupName,
    serviceName,
    {
      property: "publisherEmail",
      required: true,
      maxLength: 100,
      source: apim("apimdeployment.json", "ApiManagementServiceProperties"),
    },
    {
      property: "publisherName",
      required: true,
      maxLength: 100,
      source: apim("apimdeployment.json", "ApiManagementServiceProperties"),
    },
    {
      property: "notificationSenderEmail",
      maxLength: 100,
      source: apim("apimdeployment.json", "ApiManagementServiceBaseProperties"),
    },
    { property: "sku", required: true, source: apim("apimdeployment.json", "ApiManagementServiceResource") },
    {
      property: "sku.name",
      required: true,
      enum: ["Developer", "Standard", "Premium", "Basic", "Consumption", "Isolated", "BasicV2", "StandardV2"],
      source: apim("apimdeployment.json", "ApiManagementServiceSkuProperties"),
    },
    {
      property: "sku.capacity",
      required: true,
      integer: true,
      source: apim("apimdeployment.json", "ApiManagementServiceSkuProperties"),
    },
    {
      property: "sku.capacity",
      requiredValueWhen: {
        property: "sku.name",
        is: "Consumption",
        value: 0,
        said: "For Consumption SKU capacity must be specified as 0.",
      },
      source: apim("apimdeployment.json", "ApiManagementServiceSkuProperties"),
    },
  ],
  "azure-native:apimanagement:Api": [
    resourceGroupName,
    serviceName,
    apiId,
    {
      property: "path",
      required: true,
      minLength: 0,
      maxLength: 400,
      source: apim("definitions.json", "ApiContractProperties"),
    },
    {
      property: "displayName",
      minLength: 1,
      maxLength: 300,
      source: apim("definitions.json", "ApiContractProperties"),
    },
    {
      property: "serviceUrl",
      minLength: 0,
      maxLength: 2000,
      source: apim("definitions.json", "ApiContractProperties"),
    },
    {
      property: "protocols[]",
      enum: ["http", "https", "ws", "wss"],
      source: apim("definitions.json", "ApiContractProperties"),
    },
    {
      property: "apiRevision",
      minLength: 1,
      maxLength: 100,
      source: apim("definitions.json", "ApiEntityBaseContract"),
    },
    { property: "apiVersion", maxLength: 100, source: apim("definitions.json", "ApiEntityBaseContract") },
    { property: "apiRevisionDescription", maxLength: 256, source: apim("definitions.json", "ApiEntityBaseContract") },
    { property: "apiVersionDescription", maxLength: 256, source: apim("definitions.json", "ApiEntityBaseContract") },
    { property: "apiType", enum: apiTypes, source: apim("definitions.json", "ApiEntityBaseContract") },
    {
      property: "format",
      enum: [
        "wadl-xml",
        "wadl-link-json",
        "swagger-json",
        "swagger-link-json",
        "wsdl",
        "wsdl-link",
        "openapi",
        "openapi+json",
        "openapi-link",
        "openapi+json-link",
        "graphql-link",
        "odata",
        "odata-link",
        "grpc",
        "grpc-link",
      ],
      source: apim("definitions.json", "ApiCreateOrUpdateProperties"),
    },
    { property: "soapApiType", enum: apiTypes, source: apim("definitions.json", "ApiCreateOrUpdateProperties") },
    {
      property: "translateRequiredQueryParametersConduct",
      enum: ["template", "query"],
      source: apim("definitions.json", "ApiCreateOrUpdateProperties"),
    },
  ],
  "azure-native:apimanagement:ApiOperation": [
    resourceGroupName,
    serviceName,
    apiId,
    {
      property: "operationId",
      required: true,
      minLength: 1,
      maxLength: 80,
      source: apim("apimanagement.json", "OperationIdParameter"),
    },
    {
      property: "displayName",
      required: true,
      minLength: 1,
      maxLength: 300,
      source: apim("definitions.json", "OperationContractProperties"),
    },
    { property: "method", required: true, source: apim("definitions.json", "OperationContractProperties") },
    {
      property: "urlTemplate",
      required: true,
      minLength: 1,
      maxLength: 1000,
      source: apim("definitions.json", "OperationContractProperties"),
    },
    { property: "description", maxLength: 1000, source: apim("definitions.json", "OperationEntityBaseContract") },
  ],
  "azure-native:apimanagement:ApiPolicy": [
    resourceGroupName,
    serviceName,
    apiId,
    { property: "policyId", required: true, enum: ["policy"], source: apim("apimanagement.json", "PolicyIdParameter") },
    { property: "value", required: true, source: apim("definitions.json", "PolicyContractProperties") },
    {
      property: "format",
      enum: ["xml", "xml-link", "rawxml", "rawxml-link"],
      source: apim("definitions.json", "PolicyContractProperties"),
    },
  ],
  "azure-native:apimanagement:AuthorizationServer": [
    resourceGroupName,
    serviceName,
    {
      property: "authsid",
      required: true,
      minLength: 1,
      maxLength: 80,
      pattern: entityIdPattern,
      source: apim("apimanagement.json", "AuthenticationServerIdParameter"),
    },
    {
      property: "displayName",
      required: true,
      minLength: 1,
      maxLength: 50,
      source: apim("definitions.json", "AuthorizationServerContractProperties"),
    },
    {
      property: "clientRegistrationEndpoint",
      required: true,
      source: apim("definitions.json", "AuthorizationServerContractProperties"),
    },
    {
      property: "authorizationEndpoint",
      required: true,
      source: apim("definitions.json", "AuthorizationServerContractProperties"),
    },
    { property: "clientId", required: true, source: apim("definitions.json", "AuthorizationServerContractProperties") },
    {
      property: "grantTypes",
      required: true,
      source: apim("definitions.json", "AuthorizationServerContractProperties"),
    },
    {
      property: "grantTypes[]",
      enum: ["authorizationCode", "implicit", "resourceOwnerPassword", "clientCredentials"],
      source: apim("definitions.json", "AuthorizationServerContractProperties"),
    },
    {
      property: "authorizationMethods[]",
      enum: ["HEAD", "OPTIONS", "TRACE", "GET", "POST", "PUT", "PATCH", "DELETE"],
      source: apim("definitions.json", "AuthorizationServerContractBaseProperties"),
    },
    {
      property: "clientAuthenticationMethod[]",
      enum: ["Basic", "Body"],
      source: apim("definitions.json", "AuthorizationServerContractBaseProperties"),
    },
    {
      property: "bearerTokenSendingMethods[]",
      enum: ["authorizationHeader", "query"],
      source: apim("definitions.json", "AuthorizationServerContractBaseProperties"),
    },
  ],
  "azure-native:authorization:RoleAssignment": [
    { property: "scope", required: true, source: authorization("RoleAssignments_Create") },
    {
      property: "roleAssignmentName",
      pattern: {
        expression: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
        spec: "any valid GUID",
        meaning: "a GUID",
      },
      source: authorization("RoleAssignmentNameParameter"),
    },
    { property: "principalId", required: true, source: authorization("RoleAssignmentProperties") },
    { property: "roleDefinitionId", required: true, source: authorization("RoleAssignmentProperties") },
    {
      property: "principalType",
      enum: ["User", "Group", "ServicePrincipal", "ForeignGroup"],
      source: authorization("RoleAssignmentProperties"),
    },
  ],
  "azure-native:managedidentity:UserAssignedIdentity": [
    resourceGroupName,
    { property: "resourceName", required: true, source: msi("ResourceNameParameter") },
    {
      property: "resourceName",
      minLength: 3,
      maxLength: 128,
      pattern: {
        expression: /^[A-Za-z0-9][A-Za-z0-9_-]*$/,
        spec: "alphanumerics, hyphens and underscores, starting with a letter or number",
        meaning: "letters, digits, '-' and '_', starting with a letter or digit",
      },
      // The spec leaves the name free; Azure's naming rules limit it (learn.microsoft.com "Naming rules and
      // restrictions for Azure resources", MicrosoftDocs/azure-docs resource-name-rules.md, Microsoft.ManagedIdentity).
      source: {
        spec: "azure-docs",
        file: "resource-name-rules.md",
        definition: "Microsoft.ManagedIdentity userAssignedIdentities",
      },
    },
    { property: "location", required: true, source: common("TrackedResource") },
  ],
  "azure-native:apimanagement:getApiManagementService": [resourceGroupName, serviceName],
  "azure-native:authorization:getRoleDefinition": [
    {
      property: "roleDefinitionId",
      required: true,
      source: { ...authorization("RoleDefinitions_Get"), file: "authorization-RoleDefinitionsCalls.json" },
    },
    {
      property: "scope",
      required: true,
      source: { ...authorization("RoleDefinitions_Get"), file: "authorization-RoleDefinitionsCalls.json" },
    },
  ],
};
