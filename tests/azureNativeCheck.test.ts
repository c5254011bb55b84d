// Check of the local azure-native provider: every constraint of the REST API specs in rules.ts refuses a bad value
// with its own message, values not known yet are left for later, secrets are never quoted, and what this program
// deploys passes. What this cannot prove: that the specs list every rule the service enforces (APIM checks more
// on PUT, e.g. policy XML), nor that the real provider refuses the same inputs at preview (it validates less).
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import { AzureNativeProvider } from "../local/providers/azure-native/provider";
import { secret } from "../local/providers/azure-native/values";
import { validInputs as valid } from "./support/azureNativeInputs";
import { evaluate, guideApi, guideConfig } from "./support/evaluate";

const provider = new AzureNativeProvider({ version: "3.28.0", newGuid: () => "9a000000-0000-4000-8000-000000000009" });
const urnOf = (type: string) => `urn:pulumi:dev::apim-entra-auth::${type}::name`;
const check = (type: string, inputs: Record<string, unknown>) =>
  provider.check(urnOf(`azure-native:${type}`), {}, inputs);
const failuresOf = async (type: string, inputs: Record<string, unknown>) =>
  ((await check(type, inputs)).failures ?? []).map((failure) => [failure.property, failure.reason]);

const spec = "azure-rest-api-specs apimanagement 2024-05-01";
const S = {
  group: "azure-rest-api-specs common-types resource-management v5 types.json ResourceGroupNameParameter",
  service: `${spec} apimanagement.json ServiceNameParameter`,
  apiId: `${spec} apimanagement.json ApiIdRevParameter`,
  serviceProperties: `${spec} apimdeployment.json ApiManagementServiceProperties`,
  serviceBase: `${spec} apimdeployment.json ApiManagementServiceBaseProperties`,
  serviceResource: `${spec} apimdeployment.json ApiManagementServiceResource`,
  sku: `${spec} apimdeployment.json ApiManagementServiceSkuProperties`,
  api: `${spec} definitions.json ApiContractProperties`,
  apiBase: `${spec} definitions.json ApiEntityBaseContract`,
  apiCreate: `${spec} definitions.json ApiCreateOrUpdateProperties`,
  operationId: `${spec} apimanagement.json OperationIdParameter`,
  operation: `${spec} definitions.json OperationContractProperties`,
  operationBase: `${spec} definitions.json OperationEntityBaseContract`,
  policyId: `${spec} apimanagement.json PolicyIdParameter`,
  policy: `${spec} definitions.json PolicyContractProperties`,
  authsid: `${spec} apimanagement.json AuthenticationServerIdParameter`,
  server: `${spec} definitions.json AuthorizationServerContractProperties`,
  serverBase: `${spec} definitions.json AuthorizationServerContractBaseProperties`,
  assignment:
    "azure-rest-api-specs authorization 2022-04-01 authorization-RoleAssignmentsCalls.json RoleAssignmentProperties",
  assignmentName:
    "azure-rest-api-specs authorization 2022-04-01 authorization-RoleAssignmentsCalls.json RoleAssignmentNameParameter",
  assignmentCreate:
    "azure-rest-api-specs authorization 2022-04-01 authorization-RoleAssignmentsCalls.json RoleAssignments_Create",
};
const identityNames =
  "MicrosoftDocs/azure-docs resource-name-rules.md Microsoft.ManagedIdentity userAssignedIdentities";
const entityPattern = "does not match ^[^*#&+:<>?]+$: use no *, #, &, +, :, <, > or ?";

const without = (inputs: Record<string, unknown>, name: string) =>
  Object.fromEntries(Object.entries(inputs).filter(([key]) => key !== name));
const long = (length: number) => "a".repeat(length);
const quoted = (length: number) => (length > 60 ? `"${"a".repeat(40)}…"` : `"${"a".repeat(length)}"`);

type Case = [
  type: string,
  property: string,
  change: (inputs: Record<string, unknown>) => Record<string, unknown>,
  reason: string,
];
const set = (name: string, value: unknown) => (inputs: Record<string, unknown>) => ({ ...inputs, [name]: value });
const drop = (name: string) => (inputs: Record<string, unknown>) => without(inputs, name);

const cases: Case[] = [
  ["apimanagement:ApiManagementService", "resourceGroupName", drop("resourceGroupName"), `is required (${S.group})`],
  [
    "apimanagement:ApiManagementService",
    "resourceGroupName",
    set("resourceGroupName", long(91)),
    `${quoted(91)} is 91 characters long; use 1 to 90 characters (${S.group})`,
  ],
  [
    "apimanagement:ApiManagementService",
    "resourceGroupName",
    set("resourceGroupName", "rg/dev"),
    `"rg/dev" does not match ^[-\\w\\._\\(\\)]+$: use letters, digits, '-', '_', '.', '(' and ')' (${S.group})`,
  ],
  [
    "apimanagement:ApiManagementService",
    "serviceName",
    set("serviceName", long(51)),
    `${quoted(51)} is 51 characters long; use 1 to 50 characters (${S.service})`,
  ],
  [
    "apimanagement:ApiManagementService",
    "serviceName",
    set("serviceName", "apim-"),
    `"apim-" does not match ^[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$: use letters, digits and hyphens, starting with a letter and not ending with a hyphen (${S.service})`,
  ],
  [
    "apimanagement:ApiManagementService",
    "publisherEmail",
    drop("publisherEmail"),
    `is required (${S.serviceProperties})`,
  ],
  [
    "apimanagement:ApiManagementService",
    "publisherEmail",
    set("publisherEmail", long(101)),
    `${quoted(101)} is 101 characters long; use at most 100 characters (${S.serviceProperties})`,
  ],
  [
    "apimanagement:ApiManagementService",
    "publisherName",
    set("publisherName", long(101)),
    `${quoted(101)} is 101 characters long; use at most 100 characters (${S.serviceProperties})`,
  ],
  [
    "apimanagement:ApiManagementService",
    "notificationSenderEmail",
    set("notificationSenderEmail", long(101)),
    `${quoted(101)} is 101 characters long; use at most 100 characters (${S.serviceBase})`,
  ],
  ["apimanagement:ApiManagementService", "sku", drop("sku"), `is required (${S.serviceResource})`],
  ["apimanagement:ApiManagementService", "sku.name", set("sku", { capacity: 1 }), `is required (${S.sku})`],
  [
    "apimanagement:ApiManagementService",
    "sku.name",
    set("sku", { name: "PremiumV2", capacity: 1 }),
    `"PremiumV2" is not allowed; use one of Developer, Standard, Premium, Basic, Consumption, Isolated, BasicV2, StandardV2 (${S.sku})`,
  ],
  ["apimanagement:ApiManagementService", "sku.capacity", set("sku", { name: "Developer" }), `is required (${S.sku})`],
  [
    "apimanagement:ApiManagementService",
    "sku.capacity",
    set("sku", { name: "Developer", capacity: 1.5 }),
    `1.5 is not a whole number from -2147483648 to 2147483647 (${S.sku})`,
  ],
  [
    "apimanagement:ApiManagementService",
    "sku.capacity",
    set("sku", { name: "Consumption", capacity: 1 }),
    `1 is not allowed while sku.name is Consumption: "For Consumption SKU capacity must be specified as 0." (${S.sku})`,
  ],
  ["apimanagement:Api", "apiId", drop("apiId"), `is required (${S.apiId})`],
  [
    "apimanagement:Api",
    "apiId",
    set("apiId", long(257)),
    `${quoted(257)} is 257 characters long; use 1 to 256 characters (${S.apiId})`,
  ],
  ["apimanagement:Api", "apiId", set("apiId", "orders:v2"), `"orders:v2" ${entityPattern} (${S.apiId})`],
  ["apimanagement:Api", "path", drop("path"), `is required (${S.api})`],
  [
    "apimanagement:Api",
    "path",
    set("path", long(401)),
    `${quoted(401)} is 401 characters long; use 0 to 400 characters (${S.api})`,
  ],
  [
    "apimanagement:Api",
    "displayName",
    set("displayName", ""),
    `"" is 0 characters long; use 1 to 300 characters (${S.api})`,
  ],
  [
    "apimanagement:Api",
    "displayName",
    set("displayName", long(301)),
    `${quoted(301)} is 301 characters long; use 1 to 300 characters (${S.api})`,
  ],
  [
    "apimanagement:Api",
    "serviceUrl",
    set("serviceUrl", long(2001)),
    `${quoted(2001)} is 2001 characters long; use 0 to 2000 characters (${S.api})`,
  ],
  [
    "apimanagement:Api",
    "protocols[1]",
    set("protocols", ["https", "ftp"]),
    `"ftp" is not allowed; use one of http, https, ws, wss (${S.api})`,
  ],
  [
    "apimanagement:Api",
    "apiRevision",
    set("apiRevision", ""),
    `"" is 0 characters long; use 1 to 100 characters (${S.apiBase})`,
  ],
  [
    "apimanagement:Api",
    "apiVersion",
    set("apiVersion", long(101)),
    `${quoted(101)} is 101 characters long; use at most 100 characters (${S.apiBase})`,
  ],
  [
    "apimanagement:Api",
    "apiRevisionDescription",
    set("apiRevisionDescription", long(257)),
    `${quoted(257)} is 257 characters long; use at most 256 characters (${S.apiBase})`,
  ],
  [
    "apimanagement:Api",
    "apiVersionDescription",
    set("apiVersionDescription", long(257)),
    `${quoted(257)} is 257 characters long; use at most 256 characters (${S.apiBase})`,
  ],
  [
    "apimanagement:Api",
    "apiType",
    set("apiType", "rest"),
    `"rest" is not allowed; use one of http, soap, websocket, graphql, odata, grpc (${S.apiBase})`,
  ],
  [
    "apimanagement:Api",
    "format",
    set("format", "openapi-yaml"),
    `"openapi-yaml" is not allowed; use one of wadl-xml, wadl-link-json, swagger-json, swagger-link-json, wsdl, wsdl-link, openapi, openapi+json, openapi-link, openapi+json-link, graphql-link, odata, odata-link, grpc, grpc-link (${S.apiCreate})`,
  ],
  [
    "apimanagement:Api",
    "soapApiType",
    set("soapApiType", "rest"),
    `"rest" is not allowed; use one of http, soap, websocket, graphql, odata, grpc (${S.apiCreate})`,
  ],
  [
    "apimanagement:Api",
    "translateRequiredQueryParametersConduct",
    set("translateRequiredQueryParametersConduct", "path"),
    `"path" is not allowed; use one of template, query (${S.apiCreate})`,
  ],
  [
    "apimanagement:ApiOperation",
    "operationId",
    set("operationId", long(81)),
    `${quoted(81)} is 81 characters long; use 1 to 80 characters (${S.operationId})`,
  ],
  ["apimanagement:ApiOperation", "displayName", drop("displayName"), `is required (${S.operation})`],
  [
    "apimanagement:ApiOperation",
    "displayName",
    set("displayName", long(301)),
    `${quoted(301)} is 301 characters long; use 1 to 300 characters (${S.operation})`,
  ],
  ["apimanagement:ApiOperation", "method", drop("method"), `is required (${S.operation})`],
  [
    "apimanagement:ApiOperation",
    "urlTemplate",
    set("urlTemplate", ""),
    `"" is 0 characters long; use 1 to 1000 characters (${S.operation})`,
  ],
  [
    "apimanagement:ApiOperation",
    "urlTemplate",
    set("urlTemplate", long(1001)),
    `${quoted(1001)} is 1001 characters long; use 1 to 1000 characters (${S.operation})`,
  ],
  [
    "apimanagement:ApiOperation",
    "description",
    set("description", long(1001)),
    `${quoted(1001)} is 1001 characters long; use at most 1000 characters (${S.operationBase})`,
  ],
  [
    "apimanagement:ApiPolicy",
    "policyId",
    set("policyId", "default"),
    `"default" is not allowed; use one of policy (${S.policyId})`,
  ],
  ["apimanagement:ApiPolicy", "value", drop("value"), `is required (${S.policy})`],
  [
    "apimanagement:ApiPolicy",
    "format",
    set("format", "json"),
    `"json" is not allowed; use one of xml, xml-link, rawxml, rawxml-link (${S.policy})`,
  ],
  [
    "apimanagement:AuthorizationServer",
    "authsid",
    set("authsid", "orders?"),
    `"orders?" ${entityPattern} (${S.authsid})`,
  ],
  [
    "apimanagement:AuthorizationServer",
    "authsid",
    set("authsid", long(81)),
    `${quoted(81)} is 81 characters long; use 1 to 80 characters (${S.authsid})`,
  ],
  [
    "apimanagement:AuthorizationServer",
    "displayName",
    set("displayName", long(51)),
    `${quoted(51)} is 51 characters long; use 1 to 50 characters (${S.server})`,
  ],
  [
    "apimanagement:AuthorizationServer",
    "clientRegistrationEndpoint",
    drop("clientRegistrationEndpoint"),
    `is required (${S.server})`,
  ],
  [
    "apimanagement:AuthorizationServer",
    "authorizationEndpoint",
    drop("authorizationEndpoint"),
    `is required (${S.server})`,
  ],
  ["apimanagement:AuthorizationServer", "clientId", drop("clientId"), `is required (${S.server})`],
  ["apimanagement:AuthorizationServer", "grantTypes", drop("grantTypes"), `is required (${S.server})`],
  [
    "apimanagement:AuthorizationServer",
    "grantTypes[0]",
    set("grantTypes", ["client_credentials"]),
    `"client_credentials" is not allowed; use one of authorizationCode, implicit, resourceOwnerPassword, clientCredentials (${S.server})`,
  ],
  [
    "apimanagement:AuthorizationServer",
    "authorizationMethods[1]",
    set("authorizationMethods", ["GET", "CONNECT"]),
    `"CONNECT" is not allowed; use one of HEAD, OPTIONS, TRACE, GET, POST, PUT, PATCH, DELETE (${S.serverBase})`,
  ],
  [
    "apimanagement:AuthorizationServer",
    "clientAuthenticationMethod[0]",
    set("clientAuthenticationMethod", ["Header"]),
    `"Header" is not allowed; use one of Basic, Body (${S.serverBase})`,
  ],
  [
    "apimanagement:AuthorizationServer",
    "bearerTokenSendingMethods[0]",
    set("bearerTokenSendingMethods", ["cookie"]),
    `"cookie" is not allowed; use one of authorizationHeader, query (${S.serverBase})`,
  ],
  ["authorization:RoleAssignment", "scope", drop("scope"), `is required (${S.assignmentCreate})`],
  [
    "authorization:RoleAssignment",
    "roleAssignmentName",
    set("roleAssignmentName", "deployer"),
    `"deployer" does not match any valid GUID: use a GUID (${S.assignmentName})`,
  ],
  ["authorization:RoleAssignment", "principalId", drop("principalId"), `is required (${S.assignment})`],
  ["authorization:RoleAssignment", "roleDefinitionId", drop("roleDefinitionId"), `is required (${S.assignment})`],
  [
    "authorization:RoleAssignment",
    "principalType",
    set("principalType", "Application"),
    `"Application" is not allowed; use one of User, Group, ServicePrincipal, ForeignGroup (${S.assignment})`,
  ],
  [
    "managedidentity:UserAssignedIdentity",
    "resourceName",
    set("resourceName", "wk"),
    `"wk" is 2 characters long; use 3 to 128 characters (${identityNames})`,
  ],
  [
    "managedidentity:UserAssignedIdentity",
    "resourceName",
    set("resourceName", "-worker"),
    `"-worker" does not match alphanumerics, hyphens and underscores, starting with a letter or number: use letters, digits, '-' and '_', starting with a letter or digit (${identityNames})`,
  ],
  [
    "managedidentity:UserAssignedIdentity",
    "location",
    drop("location"),
    "is required (azure-rest-api-specs common-types resource-management v5 types.json TrackedResource)",
  ],
];

describe("Check against the REST API specs", () => {
  it.each(Object.keys(valid))("accepts valid %s inputs", async (type) => {
    expect(await failuresOf(type, valid[type] as Record<string, unknown>)).toEqual([]);
  });

  it.each(cases)("%s refuses a bad %s", async (type, property, change, reason) => {
    expect(await failuresOf(type, change(valid[type] as Record<string, unknown>))).toEqual([[property, reason]]);
  });

  it("checks the arguments of the functions it serves", async () => {
    expect(
      await provider.invoke("azure-native:apimanagement:getApiManagementService", { resourceGroupName: "rg" }),
    ).toEqual({
      failures: [{ property: "serviceName", reason: `is required (${S.service})` }],
    });
  });

  it("leaves values not known yet to the check that runs when they are", async () => {
    const preview = {
      ...(valid["apimanagement:ApiManagementService"] as Record<string, unknown>),
      serviceName: unknownValue,
      sku: unknownValue,
    };
    expect(await failuresOf("apimanagement:ApiManagementService", preview)).toEqual([]);
    const list = { ...(valid["apimanagement:Api"] as Record<string, unknown>), protocols: ["https", unknownValue] };
    expect(await failuresOf("apimanagement:Api", list)).toEqual([]);
  });

  it("never quotes a secret", async () => {
    const inputs = {
      ...(valid["apimanagement:AuthorizationServer"] as Record<string, unknown>),
      displayName: secret(long(51)),
    };
    expect(await failuresOf("apimanagement:AuthorizationServer", inputs)).toEqual([
      ["displayName", `[secret] is 51 characters long; use 1 to 50 characters (${S.server})`],
    ]);
  });

  it("names an API policy 'policy' and a role assignment with a GUID it keeps, as azure-native does", async () => {
    const policy = await check(
      "apimanagement:ApiPolicy",
      without(valid["apimanagement:ApiPolicy"] as Record<string, unknown>, "policyId"),
    );
    expect(policy.inputs.policyId).toBe("policy");
    const assignment = valid["authorization:RoleAssignment"] as Record<string, unknown>;
    expect((await check("authorization:RoleAssignment", assignment)).inputs.roleAssignmentName).toBe(
      "9a000000-0000-4000-8000-000000000009",
    );
    const kept = await provider.check(
      urnOf("azure-native:authorization:RoleAssignment"),
      { roleAssignmentName: "ab000000-0000-4000-8000-0000000000ab" },
      assignment,
    );
    expect(kept.inputs.roleAssignmentName).toBe("ab000000-0000-4000-8000-0000000000ab");
  });

  it("refuses a type it does not serve, naming it", async () => {
    expect((await check("storage:StorageAccount", {})).failures).toEqual([
      {
        property: "",
        reason:
          "The local azure-native provider does not implement azure-native:storage:StorageAccount; it serves only the types and functions this project uses.",
      },
    ]);
  });

  it("passes every azure-native resource the program registers, with the developer portal and an OpenAPI import", async () => {
    for (const config of [
      guideConfig({ apis: [guideApi({ authorizationServer: { client: "reporting" } })] }),
      guideConfig({ apis: [guideApi({ openApiFile: "tests/fixtures/orders.openapi.yaml" })] }),
    ]) {
      const evaluation = await evaluate(config);
      const resources = evaluation.resources.filter((resource) => resource.type.startsWith("azure-native:"));
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) {
        const result = await provider.check(urnOf(resource.type), {}, resource.inputs as Record<string, unknown>);
        expect([resource.type, result.failures]).toEqual([resource.type, []]);
      }
    }
  });
});
