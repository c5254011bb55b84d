import * as pulumi from "@pulumi/pulumi";
import { microsoftGraphAppId } from "../../bootstrap/grants";
import { projectName } from "../../config/validate";

/** Every value Azure would assign at deploy time is replaced by one of these; they all start with `mock-`. */
export const placeholderPrefix = "mock-";
export const placeholderTenantId = `${placeholderPrefix}tenant-id`;

export interface MockedResource {
  urn: string;
  type: string;
  name: string;
  /** URN of the parent, absent for top-level resources. */
  parent?: string;
  custom: boolean;
  /** Inputs as the engine received them, with secret values unwrapped (see `secretInputs`). */
  inputs: Record<string, unknown>;
  /** The id the mock provider assigned (custom resources). */
  id?: string;
  /** What the mock provider returned: the inputs plus the `mock-` placeholders Azure would assign. */
  state: Record<string, unknown>;
  /** Dotted paths into `inputs` that the program marked secret. */
  secretInputs: string[];
  /** For each input fed by other resources' outputs: the URNs of those resources (data flow, not nesting). */
  inputSources: Record<string, string[]>;
  protect: boolean;
  /** Names the resource was known by before (its `aliases` given as `{ name }`). */
  aliases: string[];
  /**
   * Every URN the engine would accept as this resource's earlier identity: its own aliases, and those it
   * inherits from its parent's aliases, computed the way Pulumi's SDK does (`allAliases`, `inheritedChildAlias`).
   */
  aliasUrns: string[];
  /** Custom timeouts the program set (e.g. for a long APIM service creation). */
  customTimeouts?: pulumi.CustomTimeouts;
  /** URNs of the resources named in the `dependsOn` option (ordering that no input carries). */
  dependsOn?: string[];
  /** The `import` option: the provider id of an existing object the resource takes over instead of creating. */
  import?: string;
  /** The `retainOnDelete` option: deleting the resource leaves the object in the cloud. */
  retainOnDelete?: boolean;
}

export interface MockEvaluation {
  stack: string;
  resources: MockedResource[];
  /** The program's exports, fully resolved. */
  outputs: Record<string, unknown>;
  /** Dotted paths into `outputs` whose values are Pulumi secrets. */
  secretOutputPaths: string[];
  /** Every invoke (data source lookup) the program made, in order: what a real preview would ask Azure. */
  invokes: { token: string; inputs: Record<string, unknown> }[];
}

/** The program threw while being evaluated; `resources` lists what it had registered by then. */
export class ProgramError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly resources: MockedResource[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "ProgramError";
  }
}

export interface EvaluateOptions {
  stack: string;
  /** The Pulumi project's name: its config namespace and part of every URN. Default: the main program's. */
  project?: string;
  /** Config keys without the project prefix; objects and lists as values. */
  config: Record<string, unknown>;
  /** Keys whose values are secret (shown as secret config to the program). */
  secretKeys?: string[];
  /** Answers to invokes that replace the mock engine's defaults, by token (e.g. an existing service's SKU). */
  invokeResults?: Record<string, Record<string, unknown>>;
  /** Imports the program afresh (tests reset their module registry first); an exported function is run. */
  importProgram: () => Promise<unknown>;
  /** Evaluate as `pulumi preview` does (`isDryRun()` true); default false. */
  preview?: boolean;
  /**
   * What the provider reads of objects imported by id (the `import` option), by import id: e.g. an adopted app's
   * `clientId`, which its import id does not carry. Absent values stay `mock-` placeholders.
   */
  importedState?: Record<string, Record<string, unknown>>;
}

const kebab = (text: string) => text.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
const placeholder = (name: string, property: string) => `${placeholderPrefix}${name}-${kebab(property)}`;

const namingInputs: Record<string, string> = {
  "azure-native:apimanagement:Api": "apiId",
  "azure-native:apimanagement:ApiPolicy": "policyId",
  "azure-native:apimanagement:ApiOperation": "operationId",
  "azure-native:apimanagement:AuthorizationServer": "authsid",
  "azure-native:apimanagement:ApiManagementService": "serviceName",
};

/** The object id an azuread import id ends with (`/applications/<object id>`, `/servicePrincipals/<object id>`). */
const objectIdOf = (importId: string) => importId.slice(importId.lastIndexOf("/") + 1);

/**
 * What the provider would return for an imported resource: its import id as its id, an app's or principal's object id
 * read from that id, and whatever else is known of the object (`importedState`), over the mock's placeholders.
 */
function importedMockState(
  args: pulumi.runtime.MockResourceArgs,
  importId: string,
  known: Record<string, unknown> | undefined,
): { id: string; state: Record<string, unknown> } {
  const mocked = mockState(args);
  const objectId =
    args.type === "azuread:index/applicationRegistration:ApplicationRegistration" ||
    args.type === "azuread:index/servicePrincipal:ServicePrincipal"
      ? { objectId: objectIdOf(importId) }
      : {};
  return { id: importId, state: { ...mocked.state, ...objectId, ...known } };
}

/** What the providers would return for each resource type: inputs plus deterministic, readable placeholders. */
function mockState(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
  const { type, name, inputs } = args;
  switch (type) {
    case "azuread:index/applicationRegistration:ApplicationRegistration": {
      const objectId = placeholder(name, "objectId");
      return {
        id: `/applications/${objectId}`,
        state: { ...inputs, clientId: placeholder(name, "clientId"), objectId },
      };
    }
    case "azuread:index/servicePrincipal:ServicePrincipal": {
      const objectId = placeholder(name, "objectId");
      return {
        id: objectId,
        state: { ...inputs, objectId, appRoleAssignmentRequired: inputs.appRoleAssignmentRequired },
      };
    }
    case "azure-native:managedidentity:UserAssignedIdentity": {
      // Azure assigns the client id, the service principal's object id and the tenant (Microsoft.ManagedIdentity
      // 2023-01-31 UserAssignedIdentityProperties, all read-only).
      const id = `/subscriptions/${placeholderPrefix}subscription-id/resourceGroups/${inputs.resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${inputs.resourceName}`;
      return {
        id,
        state: {
          ...inputs,
          name: inputs.resourceName,
          clientId: placeholder(name, "clientId"),
          principalId: placeholder(name, "principalId"),
          tenantId: placeholderTenantId,
        },
      };
    }
    case "azuread:index/applicationPassword:ApplicationPassword":
      return {
        id: placeholder(name, "id"),
        state: { ...inputs, keyId: placeholder(name, "keyId"), value: placeholder(name, "value") },
      };
    default: {
      // azure-native resources are named by one of their inputs; their `name` output repeats it.
      const naming = namingInputs[type];
      const named = naming ? { name: inputs[naming] } : {};
      const service =
        type === "azure-native:apimanagement:ApiManagementService"
          ? { gatewayUrl: `https://${inputs.serviceName}.azure-api.net` }
          : {};
      return { id: placeholder(name, "id"), state: { ...inputs, ...named, ...service } };
    }
  }
}

/**
 * The name a resource had when it was first created. A component renamed through its own aliases (catalogue
 * `formerNames`) had its first alias's name (oldest first); a child of a renamed component had its name with the
 * component's original name as prefix, as Pulumi's inherited child aliases say. A custom resource's own aliases are
 * not renames (e.g. a password keeping its pre-rotation URN), so they leave its name alone. Placeholders derive from
 * this name, so a renamed entry keeps the ids Azure assigned under its original name, and the plan reads as a rename.
 */
function originalNameOf(resource: MockedResource, byUrn: Map<string, MockedResource>): string {
  const parent = resource.parent ? byUrn.get(resource.parent) : undefined;
  if (parent) {
    const parentOriginal = originalNameOf(parent, byUrn);
    if (parentOriginal !== parent.name && resource.name.startsWith(parent.name)) {
      return parentOriginal + resource.name.slice(parent.name.length);
    }
  }
  const [oldest] = resource.custom ? [] : resource.aliases;
  return oldest ?? resource.name;
}

/** A sample of Graph's application permissions, harmless and dangerous alike, so a lookup by value can pick wrong. */
const graphAppRoleValues = [
  "Application.Read.All",
  "DelegatedPermissionGrant.ReadWrite.All",
  "Application.ReadWrite.All",
  "Application.ReadWrite.OwnedBy",
  "AppRoleAssignment.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
  "RoleManagement.ReadWrite.Directory",
  "User.Read.All",
];

/** Names of the Azure built-in roles (the same ids in every tenant) a role-definition lookup may ask about. */
const builtInRoleNames: Record<string, string> = {
  "312a565d-c81f-4fd8-895a-4e21e48d571c": "API Management Service Contributor",
  "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
};

function mockServicePrincipal(clientId: string): Record<string, unknown> {
  if (clientId !== microsoftGraphAppId) throw new Error(`The mock engine knows no service principal ${clientId}.`);
  const appRoles = graphAppRoleValues.map((value) => ({
    id: `${placeholderPrefix}graph-role-${value}`,
    value,
    allowedMemberTypes: ["Application"],
    enabled: true,
  }));
  return {
    clientId,
    objectId: `${placeholderPrefix}graph-sp-object-id`,
    displayName: "Microsoft Graph",
    appRoles,
    appRoleIds: Object.fromEntries(appRoles.map((role) => [role.value, role.id])),
  };
}

/**
 * The service principal of an existing managed identity, looked up by object id: Azure made it for a resource's
 * system-assigned identity (its alternative names hold that resource's id), with a client id of its own.
 */
function mockManagedIdentityPrincipal(objectId: string): Record<string, unknown> {
  return {
    objectId,
    clientId: `${placeholderPrefix}identity-${objectId}-client-id`,
    displayName: `${placeholderPrefix}identity-${objectId}`,
    type: "ManagedIdentity",
    alternativeNames: [
      "isExplicit=False",
      `/subscriptions/${placeholderPrefix}subscription-id/resourceGroups/${placeholderPrefix}resource-group/providers/Microsoft.Web/sites/${placeholderPrefix}site`,
    ],
    appRoles: [],
    appRoleIds: {},
  };
}

function mockCall(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
  switch (args.token) {
    case "azuread:index/getClientConfig:getClientConfig":
      return {
        tenantId: placeholderTenantId,
        clientId: `${placeholderPrefix}deployer-client-id`,
        objectId: `${placeholderPrefix}deployer-object-id`,
      };
    case "azure-native:apimanagement:getApiManagementService": {
      const serviceName = String(args.inputs.serviceName);
      return {
        id: `/subscriptions/${placeholderPrefix}subscription-id/resourceGroups/${args.inputs.resourceGroupName}/providers/Microsoft.ApiManagement/service/${serviceName}`,
        name: serviceName,
        gatewayUrl: `https://${serviceName}.azure-api.net`,
        sku: { name: "Developer", capacity: 1 },
      };
    }
    case "azuread:index/getServicePrincipal:getServicePrincipal":
      return args.inputs.objectId === undefined
        ? mockServicePrincipal(String(args.inputs.clientId))
        : mockManagedIdentityPrincipal(String(args.inputs.objectId));
    case "azure-native:authorization:getRoleDefinition": {
      const roleDefinitionId = String(args.inputs.roleDefinitionId);
      return {
        id: `/subscriptions/${placeholderPrefix}subscription-id/providers/Microsoft.Authorization/roleDefinitions/${roleDefinitionId}`,
        name: roleDefinitionId,
        roleName: builtInRoleNames[roleDefinitionId],
      };
    }
    default:
      throw new Error(
        `The mock engine has no answer for the invoke ${args.token}; add one to tools/preview/mockEngine.ts.`,
      );
  }
}

const secretSignature = "4dabf18193072939515e22adb298388d";

/** Replaces the engine's secret envelopes by their values and lists where they were. */
function unwrapSecrets(value: unknown, path: string, found: string[]): unknown {
  if (Array.isArray(value)) return value.map((item, index) => unwrapSecrets(item, `${path}[${index}]`, found));
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (secretSignature in record) {
      found.push(path);
      return unwrapSecrets(record.value, path, []);
    }
    return Object.fromEntries(
      Object.entries(record).map(([key, item]) => [key, unwrapSecrets(item, path ? `${path}.${key}` : key, found)]),
    );
  }
  return value;
}

/** Every Output inside an input value (inputs may nest Outputs in lists and objects). */
function outputsIn(value: unknown): pulumi.Output<unknown>[] {
  if (pulumi.Output.isInstance(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(outputsIn);
  if (value && typeof value === "object" && !(value instanceof pulumi.Resource)) {
    return Object.values(value).flatMap(outputsIn);
  }
  return [];
}

type OutputInternals = { allResources?: () => Promise<Set<pulumi.Resource>> };

type OutputPromise<T> = { promise?: () => Promise<T> };

/** The one place an Output's value is awaited; a failed registration or apply rejects instead of hanging. */
export function unwrap<T>(output: pulumi.Output<T>): Promise<T> {
  const internal = (output as unknown as OutputPromise<T>).promise;
  return internal ? internal.call(output) : new Promise((resolve) => output.apply(resolve));
}

function urnOf(stack: string, typeChain: string, name: string, project = projectName): string {
  return `urn:pulumi:${stack}::${project}::${typeChain}::${name}`;
}

/** `urn:pulumi:<stack>::<project>::<a$b$type>::<name>` → its type chain and name. */
export function splitUrn(urn: string): { chain: string; type: string; name: string } {
  const nameAt = urn.lastIndexOf("::");
  const chainAt = urn.lastIndexOf("::", nameAt - 1);
  const chain = urn.slice(chainAt + 2, nameAt);
  return { chain, type: chain.slice(chain.lastIndexOf("$") + 1), name: urn.slice(nameAt + 2) };
}

interface Registration {
  urn: string;
  chain: string;
  name: string;
  protect: boolean;
  aliasUrns: string[];
}

const isStackChain = (chain: string) => chain.startsWith("pulumi:pulumi:Stack");

/**
 * The URNs an alias list stands for, as Pulumi's SDK collapses them: each alias defaults to the resource's own
 * name, type and parent; and for every alias of the parent, the child is known under that parent alias too, with
 * the parent's name prefix of its own name swapped for the parent alias's name.
 */
function aliasUrnsOf(
  project: string,
  stack: string,
  type: string,
  name: string,
  aliases: readonly unknown[],
  parent: Registration | undefined,
  registrationOf: (resource: pulumi.Resource) => Registration | undefined,
): string[] {
  const chainUnder = (parentChain: string | undefined, childType: string) =>
    parentChain && !isStackChain(parentChain) ? `${parentChain}$${childType}` : childType;
  const own = aliases.flatMap((alias): string[] => {
    if (typeof alias === "string") return [alias];
    if (!alias || typeof alias !== "object" || pulumi.Output.isInstance(alias)) return [];
    const spec = alias as { name?: unknown; type?: unknown; parent?: unknown; parentUrn?: unknown; noParent?: unknown };
    const aliasName = typeof spec.name === "string" ? spec.name : name;
    const aliasType = typeof spec.type === "string" ? spec.type : type;
    let parentChain = parent?.chain;
    // `{ parent: pulumi.rootStackResource }` is `{ parent: undefined }`: the key's presence means "no parent".
    if (spec.noParent === true || ("parent" in spec && spec.parent === undefined)) parentChain = undefined;
    else if (spec.parent instanceof pulumi.Resource)
      parentChain = registrationOf(spec.parent)?.chain ?? "pulumi:pulumi:Stack";
    else if (typeof spec.parentUrn === "string") parentChain = splitUrn(spec.parentUrn).chain;
    return [urnOf(stack, chainUnder(parentChain, aliasType), aliasName, project)];
  });
  const parentName = parent?.name ?? "";
  const inherited = (parent?.aliasUrns ?? []).flatMap((parentAlias) => {
    const { chain: parentAliasChain, name: parentAliasName } = splitUrn(parentAlias);
    return [{ type, name }, ...own.map(splitUrn)].map((child) => {
      const childName =
        parentName && child.name.startsWith(parentName)
          ? parentAliasName + child.name.slice(parentName.length)
          : child.name;
      return urnOf(stack, chainUnder(parentAliasChain, child.type), childName, project);
    });
  });
  return [...new Set([...own, ...inherited])];
}

async function resolveExports(value: unknown, path: string, secretPaths: string[]): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    if (await pulumi.isSecret(value)) secretPaths.push(path);
    const resolved = await unwrap(value);
    return resolveExports(resolved, path, secretPaths);
  }
  if (Array.isArray(value)) {
    return Promise.all(value.map((item, index) => resolveExports(item, `${path}[${index}]`, secretPaths)));
  }
  if (value && typeof value === "object" && !(value instanceof pulumi.Resource)) {
    const entries = await Promise.all(
      Object.entries(value).map(
        async ([key, item]) => [key, await resolveExports(item, path ? `${path}.${key}` : key, secretPaths)] as const,
      ),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * Evaluates the real program for a stack under Pulumi's mock engine: no cloud, no CLI, nothing deployed.
 * Records every registered resource with its inputs, parent and protection, and resolves the exports.
 * What it cannot prove: that Azure accepts these inputs, or what it assigns (ids are placeholders).
 */
export async function evaluateProgram(options: EvaluateOptions): Promise<MockEvaluation> {
  const project = options.project ?? projectName;
  const registered = new Map<string, MockedResource>();
  const typeChains = new WeakMap<pulumi.Resource, Registration>();
  const resourceObjects: pulumi.Resource[] = [];
  const sourceLookups: Promise<void>[] = [];
  const invokes: MockEvaluation["invokes"] = [];

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        if (args.type === "pulumi:pulumi:Stack") return { id: `${args.name}-id`, state: {} };
        const matches = [...registered.values()].filter((r) => r.type === args.type && r.name === args.name);
        if (matches.length !== 1)
          throw new Error(`Expected one ${args.type} named ${args.name}, saw ${matches.length}.`);
        const record = matches[0] as MockedResource;
        record.inputs = unwrapSecrets(args.inputs, "", record.secretInputs) as Record<string, unknown>;
        const named = { ...args, name: originalNameOf(record, registered) };
        const mocked = args.id ? importedMockState(named, args.id, options.importedState?.[args.id]) : mockState(named);
        record.state = unwrapSecrets(mocked.state, "", []) as Record<string, unknown>;
        if (args.custom) record.id = mocked.id;
        return mocked;
      },
      call: (args) => {
        invokes.push({ token: args.token, inputs: args.inputs });
        return options.invokeResults?.[args.token] ?? mockCall(args);
      },
    },
    project,
    options.stack,
    options.preview ?? false,
  );
  const config = Object.fromEntries(
    Object.entries(options.config).map(([key, value]) => [
      `${project}:${key}`,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
  pulumi.runtime.setAllConfig(
    config,
    (options.secretKeys ?? []).map((key) => `${project}:${key}`),
  );

  let programExports: Record<string, unknown> = {};
  let programFailure: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      const parent = args.opts.parent ? typeChains.get(args.opts.parent) : undefined;
      const isStack = args.type === "pulumi:pulumi:Stack";
      const chain =
        parent && !parent.chain.startsWith("pulumi:pulumi:Stack") ? `${parent.chain}$${args.type}` : args.type;
      const urn = urnOf(options.stack, chain, args.name, project);
      const protect = args.opts.protect ?? parent?.protect ?? false;
      const aliasUrns = isStack
        ? []
        : aliasUrnsOf(project, options.stack, args.type, args.name, args.opts.aliases ?? [], parent, (resource) =>
            typeChains.get(resource),
          );
      typeChains.set(args.resource, { urn, chain, name: args.name, protect, aliasUrns });
      if (!isStack) {
        resourceObjects.push(args.resource);
        registered.set(urn, {
          urn,
          type: args.type,
          name: args.name,
          parent: parent && !parent.chain.startsWith("pulumi:pulumi:Stack") ? parent.urn : undefined,
          custom: args.resource instanceof pulumi.CustomResource,
          inputs: {},
          state: {},
          secretInputs: [],
          inputSources: {},
          protect,
          aliases: [
            ...new Set(
              (args.opts.aliases ?? []).flatMap((alias) =>
                typeof alias === "object" && alias !== null && "name" in alias && typeof alias.name === "string"
                  ? [alias.name]
                  : [],
              ),
            ),
          ],
          aliasUrns,
          ...(args.opts.customTimeouts ? { customTimeouts: args.opts.customTimeouts } : {}),
          ...(typeof (args.opts as pulumi.CustomResourceOptions).import === "string"
            ? { import: (args.opts as pulumi.CustomResourceOptions).import }
            : {}),
          ...(args.opts.retainOnDelete !== undefined ? { retainOnDelete: args.opts.retainOnDelete } : {}),
          ...(Array.isArray(args.opts.dependsOn) && args.opts.dependsOn.length > 0
            ? {
                dependsOn: args.opts.dependsOn
                  .map((resource) => typeChains.get(resource as pulumi.Resource)?.urn)
                  .filter((dependency): dependency is string => dependency !== undefined),
              }
            : {}),
        });
        const record = registered.get(urn) as MockedResource;
        for (const [key, value] of Object.entries(args.props ?? {})) {
          const outputs = outputsIn(value);
          if (outputs.length === 0) continue;
          sourceLookups.push(
            Promise.all(
              outputs.map((output) => (output as OutputInternals).allResources?.() ?? new Set<pulumi.Resource>()),
            ).then((sets) => {
              const sources = [...new Set(sets.flatMap((set) => [...set]))]
                .map((resource) => typeChains.get(resource)?.urn)
                .filter((source): source is string => source !== undefined && source !== urn)
                .sort();
              if (sources.length > 0) record.inputSources[key] = sources;
            }),
          );
        }
      }
      return undefined;
    });
    try {
      const program = (await options.importProgram()) as Record<string, unknown> | (() => unknown);
      const main = typeof program === "function" ? program : program.default;
      const result = typeof main === "function" ? await main() : program;
      programExports = { ...(result as Record<string, unknown>) };
    } catch (error) {
      programFailure = error;
    }
    return {};
  });
  if (programFailure !== undefined) throw new ProgramError(programFailure, [...registered.values()]);

  // Wait until every resource the program registered (including ones no export depends on) has resolved.
  let settled = 0;
  while (settled < resourceObjects.length) {
    const pending = resourceObjects.slice(settled);
    settled = resourceObjects.length;
    await Promise.all(pending.map((resource) => unwrap(resource.urn)));
  }

  await Promise.all(sourceLookups);

  const secretOutputPaths: string[] = [];
  const outputs = (await resolveExports(programExports, "", secretOutputPaths)) as Record<string, unknown>;
  return { stack: options.stack, resources: [...registered.values()], outputs, secretOutputPaths, invokes };
}
