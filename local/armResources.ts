import { parse as parseYaml } from "yaml";
import { ArmError, validationError } from "./armError";
import type { ArmTarget } from "./armIds";
import { builtInRoles, roleAssignmentType, roleGuidOf, assignmentScope } from "./armRoles";
import type { ArmStore, StoredResource } from "./armStore";
import { type ManagedIdentityPrincipals, userAssignedIdentity } from "./armManagedIdentities";

/** What a resource kind's handlers see of the request. */
export interface ResourceContext {
  store: ArmStore;
  target: ArmTarget;
  now: Date;
  /** The caller's object id (the token's oid). */
  caller: string;
  gatewayUrlOf: (serviceName: string) => string;
  /** Creates and deletes a user-assigned identity's service principal: the directory's, or made-up ids. */
  managedIdentities: ManagedIdentityPrincipals;
}

/** How ARM treats one resource type: which versions it serves, what a PUT must hold, what a GET answers. */
export interface ResourceKind {
  type: string;
  /** The api-versions ARM serves for the type; `date` accepts any `yyyy-mm-dd[-preview]`. */
  apiVersions: readonly string[] | "date";
  /** The type the resource must be created under; undefined for an extension resource (any existing scope). */
  parentType?: string;
  /** Resources ARM serves without storing (built-in role definitions); GET only. */
  virtual?: (target: ArmTarget) => Record<string, unknown> | undefined;
  /** Validates a PUT body against what exists and returns the body to store. */
  accept?: (
    body: Record<string, unknown>,
    context: ResourceContext,
    existing?: StoredResource,
  ) => Record<string, unknown>;
  /** Runs after the resource is deleted, e.g. a managed identity's service principal going with it. */
  afterDelete?: (resource: StoredResource, context: ResourceContext) => void;
  /** Runs after the PUT is stored, e.g. an API's import creating its operations. */
  afterPut?: (resource: StoredResource, context: ResourceContext) => void;
  present: (resource: StoredResource, context: ResourceContext) => Record<string, unknown>;
  /** POST actions on the resource, by lower-case name. */
  actions?: Record<string, (resource: StoredResource) => Record<string, unknown>>;
  /** The 404 for this resource when it, or its parent for a PUT, is missing. */
  notFound: (target: ArmTarget) => ArmError;
}

export const apimApiVersion = "2024-05-01";
const T = {
  group: "Microsoft.Resources/resourceGroups",
  service: "Microsoft.ApiManagement/service",
  api: "Microsoft.ApiManagement/service/apis",
  operation: "Microsoft.ApiManagement/service/apis/operations",
  policy: "Microsoft.ApiManagement/service/apis/policies",
  server: "Microsoft.ApiManagement/service/authorizationServers",
  assignment: roleAssignmentType,
  definition: "Microsoft.Authorization/roleDefinitions",
} as const;
export const armTypes = T;

type Properties = Record<string, unknown>;
const propertiesOf = (body: Record<string, unknown>): Properties =>
  body.properties && typeof body.properties === "object" ? (body.properties as Properties) : {};

/** The common envelope of a GET answer. */
function envelope(resource: StoredResource, properties: Properties, extra: Record<string, unknown> = {}) {
  const name = resource.id.slice(resource.id.lastIndexOf("/") + 1);
  return { id: resource.id, type: resource.type, name, ...extra, properties };
}

function requireProperties(properties: Properties, names: readonly string[]): void {
  const missing = names.filter((name) => properties[name] === undefined || properties[name] === null);
  if (missing.length > 0) {
    throw validationError(missing.map((name) => ({ target: name, message: `The ${name} field is required.` })));
  }
}

/** ARM's 404 for a resource (or a missing parent) by its type and name, as the Resource Manager words it. */
function resourceNotFound(target: ArmTarget, type: string, name: string | undefined): ArmError {
  return new ArmError(
    404,
    "ResourceNotFound",
    `The Resource '${type}/${name ?? ""}' under resource group '${target.resourceGroup ?? ""}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

/** APIM's own 404 for an entity inside an existing service. */
const entityNotFound = (entity: string) => () => new ArmError(404, "ResourceNotFound", `${entity} not found.`);

/**
 * APIM's copy of a policy as GET answers it: re-serialised with CRLF line ends and tab indentation, not the text
 * that was sent (azure-rest-api-specs #21835 and #25306). Approximated here line by line: each two leading spaces
 * become a tab. The gateway enforces the stored text as sent.
 */
export function apimPolicyCopy(value: string): string {
  return value
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) => {
      const indent = /^ */.exec(line)?.[0].length ?? 0;
      return "\t".repeat(Math.floor(indent / 2)) + " ".repeat(indent % 2) + line.slice(indent);
    })
    .join("\r\n");
}

const httpMethods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;

/** The operations APIM creates from an imported OpenAPI 3 or Swagger 2.0 document. */
function importedOperations(format: string, value: string): { name: string; properties: Properties }[] {
  if (!["openapi", "openapi+json", "swagger-json"].includes(format)) {
    throw validationError([
      { target: "format", message: `The local tenant imports only inline OpenAPI documents, not '${format}'.` },
    ]);
  }
  let document: unknown;
  try {
    document = parseYaml(value);
  } catch (error) {
    throw validationError([
      { target: "value", message: `Parsing error(s): ${(error as Error).message.split("\n")[0]}` },
    ]);
  }
  const paths = (document as { paths?: Record<string, Record<string, { operationId?: string; summary?: string }>> })
    ?.paths;
  if (!paths || typeof paths !== "object") {
    throw validationError([{ target: "value", message: "Parsing error(s): the document has no paths." }]);
  }
  return Object.entries(paths).flatMap(([path, item]) =>
    httpMethods
      .filter((method) => item && typeof item === "object" && method in item)
      .map((method) => {
        const operation = item[method] ?? {};
        const name = (operation.operationId ?? `${method}-${path}`)
          .toLowerCase()
          .replace(/[^a-z0-9-]+/g, "-")
          .replace(/^-+|-+$/g, "")
          .slice(0, 80);
        return {
          name,
          properties: {
            displayName: operation.summary ?? operation.operationId ?? `${method.toUpperCase()} ${path}`,
            method: method.toUpperCase(),
            urlTemplate: path,
            templateParameters: templateParameterNames(path).map((parameter) => ({
              name: parameter,
              type: "string",
              required: true,
              values: [],
            })),
          },
        };
      }),
  );
}

function templateParameterNames(urlTemplate: string): string[] {
  const path = urlTemplate.split("?")[0] ?? "";
  return [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string);
}

const resourceGroup: ResourceKind = {
  type: T.group,
  apiVersions: "date",
  accept: (body, _context, existing) => {
    if (typeof body.location !== "string" || body.location === "") {
      throw new ArmError(400, "LocationRequired", "The location property is required for this definition.");
    }
    const before = existing ? String(existing.body.location) : undefined;
    if (before !== undefined && before.toLowerCase() !== body.location.toLowerCase()) {
      throw new ArmError(
        409,
        "InvalidResourceGroupLocation",
        `Invalid resource group location '${body.location}'. The Resource group already exists in location '${before}' in resource group '${existing?.id.slice(existing.id.lastIndexOf("/") + 1) ?? ""}'. A resource group cannot change location.`,
      );
    }
    return { location: body.location, ...(body.tags ? { tags: body.tags } : {}) };
  },
  present: (resource) => ({
    ...envelope(resource, { provisioningState: "Succeeded" }),
    location: resource.body.location,
    ...(resource.body.tags ? { tags: resource.body.tags } : {}),
  }),
  notFound: (target) =>
    new ArmError(404, "ResourceGroupNotFound", `Resource group '${target.resourceGroup ?? ""}' could not be found.`),
};

const service: ResourceKind = {
  type: T.service,
  apiVersions: [apimApiVersion],
  parentType: T.group,
  accept: (body, _context, existing) => {
    if (typeof body.location !== "string" || body.location === "") {
      throw new ArmError(400, "LocationRequired", "The location property is required for this definition.");
    }
    if (existing && String(existing.body.location).toLowerCase() !== body.location.toLowerCase()) {
      throw new ArmError(400, "InvalidParameter", "The location of an existing API Management service cannot change.");
    }
    const sku = body.sku as { name?: unknown; capacity?: unknown } | undefined;
    const problems: { target: string; message: string }[] = [];
    if (!sku || typeof sku.name !== "string") problems.push({ target: "sku", message: "The sku field is required." });
    else if (typeof sku.capacity !== "number")
      problems.push({ target: "sku.capacity", message: "The capacity field is required." });
    else if (sku.name === "Consumption" && sku.capacity !== 0) {
      problems.push({ target: "sku.capacity", message: "For Consumption SKU capacity must be specified as 0." });
    }
    const properties = propertiesOf(body);
    for (const name of ["publisherEmail", "publisherName"]) {
      if (typeof properties[name] !== "string")
        problems.push({ target: name, message: `The ${name} field is required.` });
    }
    if (problems.length > 0) throw validationError(problems);
    return body;
  },
  present: (resource, context) => {
    const name = resource.id.slice(resource.id.lastIndexOf("/") + 1);
    const gatewayUrl = context.gatewayUrlOf(name);
    const { location, sku, tags, identity, zones } = resource.body;
    return {
      ...envelope(resource, {
        notificationSenderEmail: "apimgmt-noreply@mail.windowsazure.com",
        ...propertiesOf(resource.body),
        provisioningState: "Succeeded",
        targetProvisioningState: "",
        createdAtUtc: resource.createdAt,
        gatewayUrl,
        hostnameConfigurations: [
          {
            type: "Proxy",
            hostName: new URL(gatewayUrl).host,
            negotiateClientCertificate: false,
            defaultSslBinding: false,
            certificateSource: "BuiltIn",
          },
        ],
        virtualNetworkType: "None",
        disableGateway: false,
        publicNetworkAccess: "Enabled",
        platformVersion: "stv2",
      }),
      location,
      sku,
      etag: resource.etag,
      ...(tags ? { tags } : {}),
      ...(identity ? { identity } : {}),
      ...(zones ? { zones } : {}),
    };
  },
  notFound: (target) => resourceNotFound(target, T.service, target.id.split("/")[8]),
};

const api: ResourceKind = {
  type: T.api,
  apiVersions: [apimApiVersion],
  parentType: T.service,
  accept: (body, context) => {
    const properties = propertiesOf(body);
    requireProperties(properties, ["path"]);
    const path = String(properties.path).replace(/^\/+|\/+$/g, "");
    const clash = context.store.childrenOf(context.target.parentId, T.api).find(
      (other) =>
        other.id.toLowerCase() !== context.target.id.toLowerCase() &&
        String(propertiesOf(other.body).path)
          .replace(/^\/+|\/+$/g, "")
          .toLowerCase() === path.toLowerCase(),
    );
    if (clash) {
      throw validationError([
        {
          target: "path",
          message: `Cannot create API with path '${path}': it is used by API '${clash.id.slice(clash.id.lastIndexOf("/") + 1)}'.`,
        },
      ]);
    }
    const settings = (
      properties.authenticationSettings as { oAuth2AuthenticationSettings?: { authorizationServerId?: string }[] }
    )?.oAuth2AuthenticationSettings;
    for (const setting of settings ?? []) {
      const serverId = `${context.target.parentId}/authorizationServers/${setting.authorizationServerId ?? ""}`;
      if (!context.store.get(serverId)) {
        throw validationError([
          {
            target: "authorizationServerId",
            message: `Authorization server '${setting.authorizationServerId ?? ""}' not found.`,
          },
        ]);
      }
    }
    if (properties.format !== undefined && properties.value !== undefined) {
      importedOperations(String(properties.format), String(properties.value));
    }
    return body;
  },
  afterPut: (resource, context) => {
    const { format, value } = propertiesOf(resource.body);
    if (format === undefined || value === undefined) return;
    for (const old of context.store.childrenOf(resource.id, T.operation)) context.store.delete(old.id);
    for (const operation of importedOperations(String(format), String(value))) {
      context.store.put(
        `${resource.id}/operations/${operation.name}`,
        T.operation,
        { properties: operation.properties },
        context.now,
      );
    }
  },
  present: (resource) => {
    const {
      format: _format,
      value: _value,
      wsdlSelector: _wsdl,
      apiType: _soap,
      translateRequiredQueryParameters: _t,
      ...properties
    } = propertiesOf(resource.body);
    return envelope(resource, {
      apiRevision: "1",
      subscriptionRequired: true,
      subscriptionKeyParameterNames: { header: "Ocp-Apim-Subscription-Key", query: "subscription-key" },
      ...properties,
      isCurrent: true,
      provisioningState: "Succeeded",
    });
  },
  notFound: entityNotFound("Api"),
};

const operation: ResourceKind = {
  type: T.operation,
  apiVersions: [apimApiVersion],
  parentType: T.api,
  accept: (body) => {
    const properties = propertiesOf(body);
    requireProperties(properties, ["displayName", "method", "urlTemplate"]);
    const declared = new Set(
      ((properties.templateParameters as { name?: string }[] | undefined) ?? []).map((parameter) => parameter.name),
    );
    if (templateParameterNames(String(properties.urlTemplate)).some((name) => !declared.has(name))) {
      throw validationError([
        {
          target: "templateParameters",
          message: "All template parameters used in the UriTemplate must be defined in the Operation",
        },
      ]);
    }
    return body;
  },
  present: (resource) => envelope(resource, { templateParameters: [], responses: [], ...propertiesOf(resource.body) }),
  notFound: entityNotFound("Operation"),
};

const policyFormats = ["xml", "xml-link", "rawxml", "rawxml-link"];

const policy: ResourceKind = {
  type: T.policy,
  apiVersions: [apimApiVersion],
  parentType: T.api,
  accept: (body, context) => {
    if (context.target.name?.toLowerCase() !== "policy") {
      throw validationError([
        { target: "policyId", message: `Policy identifier must be 'policy', not '${context.target.name ?? ""}'.` },
      ]);
    }
    const properties = propertiesOf(body);
    requireProperties(properties, ["value"]);
    const format = properties.format ?? "xml";
    if (!policyFormats.includes(String(format))) {
      throw validationError([
        { target: "format", message: `Format '${String(format)}' is not one of ${policyFormats.join(", ")}.` },
      ]);
    }
    return { properties: { value: properties.value, format } };
  },
  // The value as APIM re-serialises it, and no format: a GET does not return what the PUT sent.
  present: (resource) => envelope(resource, { value: apimPolicyCopy(String(propertiesOf(resource.body).value)) }),
  notFound: entityNotFound("Policy"),
};

const serverSecrets = ["clientSecret", "resourceOwnerUsername", "resourceOwnerPassword"];

const authorizationServer: ResourceKind = {
  type: T.server,
  apiVersions: [apimApiVersion],
  parentType: T.service,
  accept: (body) => {
    requireProperties(propertiesOf(body), [
      "displayName",
      "clientRegistrationEndpoint",
      "authorizationEndpoint",
      "clientId",
      "grantTypes",
    ]);
    return body;
  },
  // Secrets are not filled on GET (AuthorizationServerContractProperties.clientSecret); listSecrets returns them.
  present: (resource) =>
    envelope(
      resource,
      Object.fromEntries(Object.entries(propertiesOf(resource.body)).filter(([name]) => !serverSecrets.includes(name))),
    ),
  actions: {
    listsecrets: (resource) =>
      Object.fromEntries(serverSecrets.map((name) => [name, propertiesOf(resource.body)[name] ?? null])),
  },
  notFound: entityNotFound("AuthorizationServer"),
};

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}`: how ARM names a built-in role. */
const roleDefinitionId = (subscriptionId: string, roleGuid: string) =>
  `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;

const roleAssignment: ResourceKind = {
  type: T.assignment,
  apiVersions: ["2022-04-01"],
  accept: (body, context, existing) => {
    const name = context.target.name ?? "";
    if (!guid.test(name)) {
      throw new ArmError(
        400,
        "InvalidRoleAssignmentId",
        `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
      );
    }
    const properties = propertiesOf(body);
    requireProperties(properties, ["roleDefinitionId", "principalId"]);
    const roleGuid = roleGuidOf(String(properties.roleDefinitionId));
    if (!builtInRoles[roleGuid]) {
      throw new ArmError(
        400,
        "RoleDefinitionDoesNotExist",
        `The specified role definition with ID '${roleGuid}' does not exist.`,
      );
    }
    const principalId = String(properties.principalId);
    const scope = context.target.parentId;
    if (existing) {
      const before = propertiesOf(existing.body);
      if (
        String(before.principalId).toLowerCase() !== principalId.toLowerCase() ||
        roleGuidOf(String(before.roleDefinitionId)) !== roleGuid
      ) {
        throw new ArmError(
          400,
          "RoleAssignmentUpdateNotPermitted",
          "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        );
      }
    } else {
      const duplicate = context.store.ofType(T.assignment).some((other) => {
        const otherProperties = propertiesOf(other.body);
        return (
          assignmentScope(other.id).toLowerCase() === scope.toLowerCase() &&
          String(otherProperties.principalId).toLowerCase() === principalId.toLowerCase() &&
          roleGuidOf(String(otherProperties.roleDefinitionId)) === roleGuid
        );
      });
      if (duplicate) throw new ArmError(409, "RoleAssignmentExists", "The role assignment already exists.");
    }
    return {
      properties: {
        ...properties,
        roleDefinitionId: roleDefinitionId(context.target.subscriptionId, roleGuid),
        principalType: properties.principalType ?? "User",
      },
    };
  },
  present: (resource) =>
    envelope(resource, {
      condition: null,
      conditionVersion: null,
      description: null,
      delegatedManagedIdentityResourceId: null,
      ...propertiesOf(resource.body),
      scope: assignmentScope(resource.id),
      createdOn: resource.createdAt,
      updatedOn: resource.updatedAt,
      createdBy: resource.createdBy ?? null,
      updatedBy: resource.createdBy ?? null,
    }),
  notFound: () => new ArmError(404, "RoleAssignmentNotFound", "The role assignment does not exist."),
};

const roleDefinition: ResourceKind = {
  type: T.definition,
  apiVersions: ["2022-04-01", "2022-05-01-preview"],
  virtual: (target) => {
    const roleGuid = (target.name ?? "").toLowerCase();
    const role = builtInRoles[roleGuid];
    if (!role) return undefined;
    return {
      id: roleDefinitionId(target.subscriptionId, roleGuid),
      type: T.definition,
      name: roleGuid,
      properties: {
        roleName: role.roleName,
        type: "BuiltInRole",
        description: role.description,
        assignableScopes: ["/"],
        permissions: [{ actions: role.actions, notActions: role.notActions, dataActions: [], notDataActions: [] }],
      },
    };
  },
  present: () => ({}),
  notFound: (target) =>
    new ArmError(
      404,
      "RoleDefinitionDoesNotExist",
      `The specified role definition with ID '${target.name ?? ""}' does not exist.`,
    ),
};

export const resourceKinds: readonly ResourceKind[] = [
  resourceGroup,
  service,
  api,
  operation,
  policy,
  authorizationServer,
  roleAssignment,
  roleDefinition,
  userAssignedIdentity,
];

export function kindOf(type: string): ResourceKind | undefined {
  return resourceKinds.find((kind) => kind.type.toLowerCase() === type.toLowerCase());
}
