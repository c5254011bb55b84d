export const service = { resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" };
/** Inputs of each resource type that pass Check, as this program would send them. */
export const validInputs: Record<string, Record<string, unknown>> = {
  "apimanagement:ApiManagementService": {
    ...service,
    location: "westeurope",
    publisherName: "Contoso",
    publisherEmail: "apim@contoso.example",
    sku: { name: "Developer", capacity: 1 },
  },
  "apimanagement:Api": { ...service, apiId: "orders", path: "orders", displayName: "Orders", protocols: ["https"] },
  "apimanagement:ApiOperation": {
    ...service,
    apiId: "orders",
    operationId: "get-any",
    displayName: "GET /*",
    method: "GET",
    urlTemplate: "/*",
  },
  "apimanagement:ApiPolicy": {
    ...service,
    apiId: "orders",
    policyId: "policy",
    format: "rawxml",
    value: "<policies />",
  },
  "apimanagement:AuthorizationServer": {
    ...service,
    authsid: "orders-entra",
    displayName: "Orders (Entra ID)",
    clientRegistrationEndpoint: "http://localhost",
    authorizationEndpoint: "https://login.example/t/oauth2/v2.0/authorize",
    clientId: "c11e0000-aaaa-4bbb-8ccc-000000000002",
    grantTypes: ["clientCredentials"],
    clientAuthenticationMethod: ["Body"],
    bearerTokenSendingMethods: ["authorizationHeader"],
  },
  "managedidentity:UserAssignedIdentity": {
    resourceGroupName: "rg-workers",
    resourceName: "worker-dev",
    location: "westeurope",
  },
  "authorization:RoleAssignment": {
    scope: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim",
    principalId: "de000000-0000-4000-8000-000000000002",
    principalType: "ServicePrincipal",
    roleDefinitionId:
      "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/312a565d-c81f-4fd8-895a-4e21e48d571c",
  },
};
