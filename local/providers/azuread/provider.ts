import type * as provider from "@pulumi/pulumi/provider";
import { replaceOnChanges } from "../../../tools/preview/replaceOnChanges";
import { type Clock, systemClock } from "./clock";
import type { Transport } from "./graphClient";
import { getClientConfig } from "./invokes/getClientConfig";
import { getServicePrincipal } from "./invokes/getServicePrincipal";
import {
  checkInputs,
  diffInputs,
  effectiveInputs,
  inputsFromState,
  type PropertyMap,
  reveal,
  revealMap,
  secret,
  secretKeys,
} from "./properties";
import type { InvokeType, Operation, ResourceType, Session } from "./resourceType";
import { applicationApiAccess } from "./resources/applicationApiAccess";
import { applicationAppRole } from "./resources/applicationAppRole";
import { applicationFallbackPublicClient } from "./resources/applicationFallbackPublicClient";
import { applicationFederatedIdentityCredential } from "./resources/applicationFederatedIdentityCredential";
import { applicationIdentifierUri } from "./resources/applicationIdentifierUri";
import { applicationPassword } from "./resources/applicationPassword";
import { applicationPermissionScope } from "./resources/applicationPermissionScope";
import { applicationRedirectUris } from "./resources/applicationRedirectUris";
import { applicationRegistration } from "./resources/applicationRegistration";
import { appRoleAssignment } from "./resources/appRoleAssignment";
import { servicePrincipal } from "./resources/servicePrincipal";
import { servicePrincipalDelegatedPermissionGrant } from "./resources/servicePrincipalDelegatedPermissionGrant";
import { plannedCreate, plannedUpdate } from "./plan";
import { connect } from "./session";
import { resolveSettings } from "./settings";

/** The version @pulumi/azuread asks the engine for, so the engine picks this plugin. */
export const azureadVersion: string = require("@pulumi/azuread/package.json").pulumi.version;

/** Exactly the resource types and functions this program and bootstrap/ use. */
export const resourceTypes: ReadonlyMap<string, ResourceType> = new Map<string, ResourceType>(
  [
    applicationRegistration,
    servicePrincipal,
    applicationPassword,
    applicationFederatedIdentityCredential,
    applicationIdentifierUri,
    applicationAppRole,
    applicationPermissionScope,
    applicationApiAccess,
    applicationRedirectUris,
    applicationFallbackPublicClient,
    appRoleAssignment,
    servicePrincipalDelegatedPermissionGrant,
  ].map((type) => [type.token, type]),
);
const invokeTypes = new Map<string, InvokeType>(
  [getClientConfig, getServicePrincipal].map((type) => [type.token, type]),
);

export interface AzureadProviderOptions {
  /** How HTTP requests are sent; the tenant's endpoints in a run, an in-process Graph in tests. */
  transport?: Transport;
  clock?: Clock;
  /** Where ARM_* settings are read from when the stack's config leaves them out. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The azuread provider for local runs: the resource types this program uses, created and read only through the
 * tenant's Microsoft Graph, with terraform-provider-azuread's calls and client-side behaviours (see each resource).
 */
export class AzureadProvider implements provider.Provider {
  readonly version = azureadVersion;
  private session?: Session;
  private readonly transport: Transport;
  private readonly clock: Clock;

  constructor(private readonly options: AzureadProviderOptions = {}) {
    this.transport = options.transport ?? fetch;
    this.clock = options.clock ?? systemClock;
  }

  /** Configure: the stack's `azuread:*` config (or ARM_* variables), the cloud, a token and the caller. */
  async configure(config: Record<string, unknown>): Promise<void> {
    const settings = resolveSettings(config, this.options.env ?? process.env);
    this.session = await connect(settings, this.transport, this.clock);
  }

  async check(urn: string, _olds: unknown, news: PropertyMap): Promise<provider.CheckResult> {
    return checkInputs(typeOf(urn).properties, news ?? {});
  }

  async diff(_id: string, urn: string, olds: PropertyMap, news: PropertyMap): Promise<provider.DiffResult> {
    const type = typeOf(urn);
    return diffInputs(type.properties, replaceOnChanges[type.token] ?? [], revealMap(olds), news ?? {});
  }

  async create(urn: string, inputs: PropertyMap): Promise<provider.CreateResult> {
    const type = typeOf(urn);
    const op = this.operation(type.timeouts.create);
    const plain = revealMap(inputs);
    const { id, state } = await type.create(op, effectiveInputs(type.properties, plain));
    // The Terraform SDK reads the resource back within the same create, so a read that finds nothing fails it.
    const read = await type.read(op, id, { ...plain, ...state });
    if (!read) throw new Error(`${type.token} ${id}: not found when read back right after it was created`);
    return { id, outs: outputs(type, { ...plain, ...state, ...read }, secretKeys(inputs)) };
  }

  /** Refresh and import: the object as Graph has it now; an empty id tells the engine it is gone. */
  async read(id: string, urn: string, props?: PropertyMap): Promise<provider.ReadResult> {
    const type = typeOf(urn);
    const previous = revealMap(props);
    const read = await type.read(this.operation(type.timeouts.read), id, previous);
    if (!read) return { id: "", props: {} };
    const state = { ...previous, ...read };
    return {
      id,
      props: outputs(type, state, secretKeys(props)),
      inputs: inputsFromState(type.properties, state),
    };
  }

  async update(id: string, urn: string, olds: PropertyMap, news: PropertyMap): Promise<provider.UpdateResult> {
    const type = typeOf(urn);
    if (!type.update) throw new Error(`${type.token} cannot be updated in place; its changes replace it`);
    const op = this.operation(type.timeouts.update ?? type.timeouts.create);
    const state = revealMap(olds);
    const plain = revealMap(news);
    await type.update(op, id, state, effectiveInputs(type.properties, plain, state));
    const read = await type.read(op, id, { ...state, ...plain });
    if (!read) throw new Error(`${type.token} ${id}: not found when read back right after it was updated`);
    return { outs: outputs(type, { ...state, ...plain, ...read }, secretKeys(news)) };
  }

  /** A preview's Create (the engine asks once Configure says previews are supported): no Graph call, the plan. */
  planCreate(urn: string, inputs: PropertyMap): provider.CreateResult {
    const type = typeOf(urn);
    return { id: "", outs: outputs(type, plannedCreate(type, revealMap(inputs)), secretKeys(inputs)) };
  }

  /** A preview's Update: no Graph call, the old outputs with the new inputs applied. */
  planUpdate(_id: string, urn: string, olds: PropertyMap, news: PropertyMap): provider.UpdateResult {
    const type = typeOf(urn);
    return { outs: outputs(type, plannedUpdate(type, revealMap(olds), revealMap(news)), secretKeys(news)) };
  }

  async delete(id: string, urn: string, props: PropertyMap): Promise<void> {
    const type = typeOf(urn);
    await type.delete(this.operation(type.timeouts.delete), id, revealMap(props));
  }

  async invoke(token: string, args: PropertyMap): Promise<provider.InvokeResult> {
    const type = invokeTypes.get(token);
    if (!type) throw new Error(`the local azuread provider has no function ${token}`);
    return { outputs: await type.invoke(this.operation(type.timeout), revealMap(args)) };
  }

  private operation(timeoutMinutes: number): Operation {
    if (!this.session) throw new Error("the azuread provider was used before it was configured");
    return { ...this.session, deadline: this.clock.now() + timeoutMinutes * 60_000 };
  }
}

/** The resource type a URN names (`urn:pulumi:<stack>::<project>::<parent types$>type::<name>`). */
function typeOf(urn: string): ResourceType {
  const qualified = urn.split("::")[2] ?? "";
  const token = qualified.slice(qualified.lastIndexOf("$") + 1);
  const type = resourceTypes.get(token);
  if (!type) throw new Error(`the local azuread provider has no resource type ${token} (from ${urn})`);
  return type;
}

/** The state as outputs: nothing undefined, secret where the bridge marks it or where the input was secret. */
function outputs(type: ResourceType, state: PropertyMap, secretInputs: string[]): PropertyMap {
  const secrets = new Set([...(type.secretOutputs ?? []), ...secretInputs]);
  return Object.fromEntries(
    Object.entries(state)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, secrets.has(key) ? secret(reveal(value)) : value]),
  );
}
