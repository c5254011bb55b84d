import { randomUUID } from "node:crypto";
import type * as provider from "@pulumi/pulumi/provider";
import { type ArmConnection, armFailure, connect, type ProviderSettings, providerSettings } from "./armClient";
import { checkInputs } from "./check";
import { diffInputs } from "./diff";
import {
  armIdOf,
  importedInputs,
  inputsOfOutputs,
  keepSecrets,
  outputsOf,
  requestBody,
  type ResourceType,
  resourceTypes,
} from "./resourceTypes";
import { type PropertyMap, reveal, sameValue } from "./values";

export interface AzureNativeProviderOptions {
  /** The version reported to the engine: the @pulumi/azure-native SDK's, so the engine takes this plugin for it. */
  version: string;
  env?: NodeJS.ProcessEnv;
  /** Opens ARM for the settings; default: the metadata host's endpoints and client credentials. */
  connect?: (settings: ProviderSettings) => Promise<ArmConnection>;
  /** Names for autonamed resources (role assignments); default random GUIDs. */
  newGuid?: () => string;
}

/** The type token in a URN: `urn:pulumi:<stack>::<project>::<parent types$>type::<name>`. */
export const typeOfUrn = (urn: string) => (urn.split("::")[2] ?? "").split("$").pop() ?? "";

/** State keeps the inputs it was made from, as azure-native 2.x did: Diff and Read compare against them. */
const inputsKey = "__inputs";

const roleDefinitionApiVersion = "2022-05-01-preview";
const resourceGroupApiVersion = "2021-04-01";

/**
 * A provider registered as `azure-native` for local runs only: the resource types and functions this program and
 * bootstrap/ use, written through a local tenant's ARM. Check enforces the REST API's constraints (rules.ts), Diff
 * replaces on tools/preview/replaceOnChanges.ts, Create/Update PUT and read back, Read maps ARM's state back to
 * inputs (refresh: only what changed in ARM; import: all of it).
 */
export class AzureNativeProvider implements provider.Provider {
  readonly version: string;
  private config: Record<string, unknown> = {};
  private connection: Promise<ArmConnection> | undefined;

  constructor(private readonly options: AzureNativeProviderOptions) {
    this.version = options.version;
  }

  /** Configure's arguments (`azure-native:*` config without the prefix); the connection opens on first use. */
  configure(args: Record<string, unknown>): void {
    this.config = args;
    this.connection = undefined;
  }

  private arm(): Promise<ArmConnection> {
    if (!this.connection) {
      const settings = providerSettings(this.config, this.options.env ?? process.env);
      this.connection = (this.options.connect ?? connect)(settings);
      this.connection.catch(() => (this.connection = undefined));
    }
    return this.connection;
  }

  async check(urn: string, olds: PropertyMap, news: PropertyMap): Promise<provider.CheckResult> {
    const token = typeOfUrn(urn);
    const type = resourceTypes[token];
    if (!type) return { inputs: news, failures: [{ property: "", reason: unsupported(token) }] };
    const inputs: PropertyMap = { ...type.defaults, ...news };
    if (token === "azure-native:authorization:RoleAssignment" && inputs.roleAssignmentName === undefined) {
      inputs.roleAssignmentName = olds.roleAssignmentName ?? (this.options.newGuid ?? randomUUID)();
    }
    return { inputs, failures: checkInputs(token, inputs) };
  }

  async diff(_id: string, urn: string, olds: PropertyMap, news: PropertyMap): Promise<provider.DiffResult> {
    const { changed, replaces } = diffInputs(typeOfUrn(urn), oldInputsOf(olds), news);
    return { changes: changed.length > 0, replaces };
  }

  async create(urn: string, inputs: PropertyMap): Promise<provider.CreateResult> {
    const type = typeOf(urn);
    const arm = await this.arm();
    const sent = await this.withDefaultLocation(arm, type, inputs);
    const id = armIdOf(type, sent, arm.subscriptionId);
    const path = `${id}?api-version=${type.apiVersion}`;
    const existing = await arm.request("GET", path);
    if (existing.status === 200) {
      throw new Error(
        `Cannot create already existing resource '${id}'. Consider importing it into the stack with 'pulumi import'.`,
      );
    }
    if (existing.status !== 404) throw armFailure("GET", path, existing);
    return { id, outs: await this.put(arm, type, id, sent) };
  }

  async update(id: string, urn: string, _olds: PropertyMap, news: PropertyMap): Promise<provider.UpdateResult> {
    const type = typeOf(urn);
    const arm = await this.arm();
    return { outs: await this.put(arm, type, id, await this.withDefaultLocation(arm, type, news)) };
  }

  async read(id: string, urn: string, props: PropertyMap = {}): Promise<provider.ReadResult> {
    const type = typeOf(urn);
    const arm = await this.arm();
    const path = `${id}?api-version=${type.apiVersion}`;
    const answer = await arm.request("GET", path);
    if (answer.status === 404) return { id: "", props: {} };
    if (answer.status !== 200 || !answer.body) throw armFailure("GET", path, answer);
    const oldInputs = props[inputsKey] as PropertyMap | undefined;
    const outputs = outputsOf(type, answer.body, oldInputs ?? {});
    const inputs = oldInputs ? refreshedInputs(type, oldInputs, props, outputs) : importedInputs(type, id, outputs);
    return { id, props: { ...keepSecrets(outputs, inputs), [inputsKey]: inputs }, inputs };
  }

  async delete(id: string, urn: string): Promise<void> {
    const type = typeOf(urn);
    const arm = await this.arm();
    const path = `${id}?api-version=${type.apiVersion}`;
    // APIM requires If-Match on DELETE (IfMatchRequiredParameter); `*` deletes whatever version exists.
    const answer = await arm.request("DELETE", path, undefined, { "if-match": "*" });
    if (![200, 202, 204, 404].includes(answer.status)) throw armFailure("DELETE", path, answer);
  }

  async invoke(token: string, args: PropertyMap): Promise<provider.InvokeResult> {
    const failures = checkInputs(token, args);
    if (failures.length > 0) return { failures };
    const arm = await this.arm();
    const plain = reveal(args) as Record<string, string>;
    switch (token) {
      case "azure-native:apimanagement:getApiManagementService": {
        const type = resourceTypes["azure-native:apimanagement:ApiManagementService"] as ResourceType;
        const id = armIdOf(type, plain, arm.subscriptionId);
        const body = await this.get(arm, `${id}?api-version=${type.apiVersion}`);
        return { outputs: { ...outputsOf(type, body, {}), id: body.id } };
      }
      case "azure-native:authorization:getRoleDefinition": {
        const scope = plain.scope?.replace(/\/+$/, "") ?? "";
        const path = `${scope}/providers/Microsoft.Authorization/roleDefinitions/${plain.roleDefinitionId}?api-version=${roleDefinitionApiVersion}`;
        const { properties, ...envelope } = await this.get(arm, path);
        const { type: roleType, ...rest } = (properties ?? {}) as PropertyMap;
        return { outputs: { ...envelope, ...rest, roleType, azureApiVersion: roleDefinitionApiVersion } };
      }
      default:
        throw new Error(unsupported(token));
    }
  }

  /**
   * What a preview shows for a create or update: the inputs, with unknown for everything ARM computes; an update
   * keeps the outputs that never change (name, location), as the real provider does.
   */
  previewOutputs(inputs: PropertyMap, olds?: PropertyMap): PropertyMap {
    const stable = olds
      ? Object.fromEntries(["name", "location"].filter((k) => olds[k] !== undefined).map((k) => [k, olds[k]]))
      : {};
    return { ...inputs, ...stable };
  }

  private async get(arm: ArmConnection, path: string): Promise<PropertyMap> {
    const answer = await arm.request("GET", path);
    if (answer.status !== 200 || !answer.body) throw armFailure("GET", path, answer);
    return answer.body;
  }

  /** PUT, then read back what ARM holds (APIM re-serialises policies, fills defaults). */
  private async put(arm: ArmConnection, type: ResourceType, id: string, inputs: PropertyMap): Promise<PropertyMap> {
    const path = `${id}?api-version=${type.apiVersion}`;
    const answer = await arm.request("PUT", path, requestBody(type, inputs));
    if (answer.status !== 200 && answer.status !== 201) throw armFailure("PUT", path, answer);
    const outputs = outputsOf(type, await this.get(arm, path), inputs);
    return { ...keepSecrets(outputs, inputs), [inputsKey]: inputs };
  }

  /** A service without a location is created in its resource group's, as azure-native does. */
  private async withDefaultLocation(arm: ArmConnection, type: ResourceType, inputs: PropertyMap): Promise<PropertyMap> {
    if (!type.topLevel?.includes("location") || inputs.location !== undefined) return inputs;
    const group = await this.get(
      arm,
      `/subscriptions/${arm.subscriptionId}/resourceGroups/${String(reveal(inputs.resourceGroupName))}?api-version=${resourceGroupApiVersion}`,
    );
    return { ...inputs, location: group.location };
  }
}

function unsupported(token: string): string {
  return `The local azure-native provider does not implement ${token}; it serves only the types and functions this project uses.`;
}

function typeOf(urn: string): ResourceType {
  const token = typeOfUrn(urn);
  const type = resourceTypes[token];
  if (!type) throw new Error(unsupported(token));
  return type;
}

function oldInputsOf(olds: PropertyMap): PropertyMap {
  return (olds[inputsKey] as PropertyMap | undefined) ?? olds;
}

/**
 * The inputs after a refresh, as azure-native computes them: the old outputs and the new, both in the shape of
 * inputs, differ only where ARM's state changed since the last update (someone edited the resource); only those
 * inputs take ARM's values, so defaults and re-serialised copies do not read as drift.
 */
function refreshedInputs(
  type: ResourceType,
  oldInputs: PropertyMap,
  oldOutputs: PropertyMap,
  outputs: PropertyMap,
): PropertyMap {
  const before = inputsOfOutputs(type, oldOutputs);
  const after = inputsOfOutputs(type, outputs);
  const inputs = { ...oldInputs };
  for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (sameValue(before[name] ?? null, after[name] ?? null)) continue;
    if (after[name] === undefined) delete inputs[name];
    else inputs[name] = after[name];
  }
  return inputs;
}
