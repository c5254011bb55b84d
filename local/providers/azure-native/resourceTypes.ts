import { isSecret, type PropertyMap, reveal, secret } from "./values";

/** How one azure-native resource type maps to its ARM resource: id, request body, response and back. */
export interface ResourceType {
  token: string;
  apiVersion: string;
  /** The ARM id with `{input}` placeholders: the inputs that name the resource (path parameters). */
  idTemplate: string;
  /** The input the resource's `name` output repeats. */
  nameInput: string;
  /** Inputs sent at the top of the body; all others go under `properties`. */
  topLevel?: readonly string[];
  /** SDK input names that differ from the wire name under `properties` (x-ms-client-name). */
  wireNames?: Readonly<Record<string, string>>;
  /** Properties ARM fills in and nobody sets: never inputs. */
  readOnly?: readonly string[];
  /** Inputs ARM never returns (secrets, import documents): the outputs keep what was sent. */
  writeOnly?: readonly string[];
  /** Values the service fills in when none is sent: not inputs of an imported resource while they hold them. */
  serviceDefaults?: PropertyMap;
  /** Inputs set when absent (a single-value path parameter). */
  defaults?: PropertyMap;
}

const service =
  "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ApiManagement/service/{serviceName}";
const api = `${service}/apis/{apiId}`;

export const resourceTypes: Readonly<Record<string, ResourceType>> = {
  "azure-native:apimanagement:ApiManagementService": {
    token: "azure-native:apimanagement:ApiManagementService",
    apiVersion: "2024-05-01",
    idTemplate: service,
    nameInput: "serviceName",
    topLevel: ["location", "sku", "tags", "identity", "zones"],
    readOnly: [
      "provisioningState",
      "targetProvisioningState",
      "createdAtUtc",
      "gatewayUrl",
      "gatewayRegionalUrl",
      "portalUrl",
      "managementApiUrl",
      "scmUrl",
      "developerPortalUrl",
      "publicIPAddresses",
      "privateIPAddresses",
      "outboundPublicIPAddresses",
      "platformVersion",
    ],
    serviceDefaults: {
      notificationSenderEmail: "apimgmt-noreply@mail.windowsazure.com",
      virtualNetworkType: "None",
      disableGateway: false,
      publicNetworkAccess: "Enabled",
    },
  },
  "azure-native:apimanagement:Api": {
    token: "azure-native:apimanagement:Api",
    apiVersion: "2024-05-01",
    idTemplate: api,
    nameInput: "apiId",
    wireNames: {
      apiType: "type",
      soapApiType: "apiType",
      translateRequiredQueryParametersConduct: "translateRequiredQueryParameters",
    },
    readOnly: ["isOnline", "provisioningState"],
    writeOnly: ["format", "value", "wsdlSelector", "soapApiType", "translateRequiredQueryParametersConduct"],
    serviceDefaults: {
      apiRevision: "1",
      isCurrent: true,
      subscriptionRequired: true,
      subscriptionKeyParameterNames: { header: "Ocp-Apim-Subscription-Key", query: "subscription-key" },
    },
  },
  "azure-native:apimanagement:ApiOperation": {
    token: "azure-native:apimanagement:ApiOperation",
    apiVersion: "2024-05-01",
    idTemplate: `${api}/operations/{operationId}`,
    nameInput: "operationId",
    serviceDefaults: { templateParameters: [], responses: [] },
  },
  "azure-native:apimanagement:ApiPolicy": {
    token: "azure-native:apimanagement:ApiPolicy",
    apiVersion: "2024-05-01",
    idTemplate: `${api}/policies/{policyId}`,
    nameInput: "policyId",
    writeOnly: ["format"],
    defaults: { policyId: "policy" },
  },
  "azure-native:apimanagement:AuthorizationServer": {
    token: "azure-native:apimanagement:AuthorizationServer",
    apiVersion: "2024-05-01",
    idTemplate: `${service}/authorizationServers/{authsid}`,
    nameInput: "authsid",
    writeOnly: ["clientSecret", "resourceOwnerPassword"],
  },
  "azure-native:managedidentity:UserAssignedIdentity": {
    token: "azure-native:managedidentity:UserAssignedIdentity",
    apiVersion: "2023-01-31",
    idTemplate:
      "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}",
    nameInput: "resourceName",
    topLevel: ["location", "tags"],
    readOnly: ["tenantId", "principalId", "clientId"],
  },
  "azure-native:authorization:RoleAssignment": {
    token: "azure-native:authorization:RoleAssignment",
    apiVersion: "2022-04-01",
    idTemplate: "{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
    nameInput: "roleAssignmentName",
    readOnly: ["createdOn", "updatedOn", "createdBy", "updatedBy"],
    serviceDefaults: {
      condition: null,
      conditionVersion: null,
      description: null,
      delegatedManagedIdentityResourceId: null,
    },
  },
};

/** Outputs every resource has that are not inputs. */
const envelopeOutputs = ["name", "type", "azureApiVersion", "etag", "systemData", "id"];

const placeholders = (template: string) => [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);

/** The inputs that form the id (path parameters): never sent in the body. */
export const pathInputs = (type: ResourceType) =>
  placeholders(type.idTemplate).filter((name) => name !== "subscriptionId");

export function armIdOf(type: ResourceType, inputs: PropertyMap, subscriptionId: string): string {
  const values = reveal(inputs) as PropertyMap;
  return type.idTemplate.replace(/\{(\w+)\}/g, (_match, name: string) =>
    name === "subscriptionId" ? subscriptionId : String(values[name]),
  );
}

/** The path parameters read back from an ARM id; undefined when the id is not of this type's shape. */
export function pathInputsOf(type: ResourceType, id: string): PropertyMap | undefined {
  const names = placeholders(type.idTemplate);
  const expression = type.idTemplate
    .split(/\{\w+\}/)
    .map((literal) => literal.replace(/[.*+?^$()|[\]\\]/g, "\\$&"))
    .reduce(
      (pattern, literal, index) =>
        `${pattern}${index === 0 ? "" : names[index - 1] === "scope" ? "(.+)" : "([^/]+)"}${literal}`,
      "",
    );
  const match = new RegExp(`^${expression}$`, "i").exec(id);
  if (!match) return undefined;
  return Object.fromEntries(
    names.map((name, index) => [name, match[index + 1] as string]).filter(([name]) => name !== "subscriptionId"),
  );
}

/** The PUT body: top-level inputs as they are, the rest under `properties` by their wire names. */
export function requestBody(type: ResourceType, inputs: PropertyMap): PropertyMap {
  const skip = new Set(pathInputs(type));
  const plain = reveal(inputs) as PropertyMap;
  const top: PropertyMap = {};
  const properties: PropertyMap = {};
  for (const [name, value] of Object.entries(plain)) {
    if (skip.has(name) || name.startsWith("__") || value === undefined) continue;
    if (type.topLevel?.includes(name)) top[name] = value;
    else properties[type.wireNames?.[name] ?? name] = value;
  }
  return { ...top, properties };
}

/**
 * The outputs of a resource from ARM's answer, named as the SDK names them: `properties` flattened, the envelope's
 * name and type, the API version; inputs ARM never returns are kept from the inputs, secret if they were.
 */
export function outputsOf(type: ResourceType, response: PropertyMap, inputs: PropertyMap): PropertyMap {
  const inputName = Object.fromEntries(Object.entries(type.wireNames ?? {}).map(([sdk, wire]) => [wire, sdk]));
  const { id: _id, properties, ...envelope } = response;
  const flattened = Object.fromEntries(
    Object.entries((properties ?? {}) as PropertyMap).map(([wire, value]) => [inputName[wire] ?? wire, value]),
  );
  const kept = Object.fromEntries(
    (type.writeOnly ?? []).filter((name) => inputs[name] !== undefined).map((name) => [name, inputs[name]]),
  );
  return { ...envelope, ...flattened, ...kept, azureApiVersion: type.apiVersion };
}

/** Outputs in the shape of inputs: what a refresh compares and an import adopts. */
export function inputsOfOutputs(type: ResourceType, outputs: PropertyMap): PropertyMap {
  const excluded = new Set([...envelopeOutputs, ...(type.readOnly ?? [])]);
  return Object.fromEntries(Object.entries(outputs).filter(([name]) => !excluded.has(name) && !name.startsWith("__")));
}

/** The inputs an imported resource has: its path parameters and what ARM holds, without the service's defaults. */
export function importedInputs(type: ResourceType, id: string, outputs: PropertyMap): PropertyMap {
  const defaults = type.serviceDefaults ?? {};
  const held = Object.entries(inputsOfOutputs(type, outputs)).filter(
    ([name, value]) => !(name in defaults) || JSON.stringify(defaults[name]) !== JSON.stringify(value),
  );
  return { ...pathInputsOf(type, id), ...Object.fromEntries(held) };
}

/** Write-only secrets stay secrets in the outputs. */
export function keepSecrets(outputs: PropertyMap, inputs: PropertyMap): PropertyMap {
  return Object.fromEntries(
    Object.entries(outputs).map(([name, value]) => [name, isSecret(inputs[name]) ? secret(reveal(value)) : value]),
  );
}
