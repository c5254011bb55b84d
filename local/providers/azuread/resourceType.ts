import type { Clock } from "./clock";
import type { GraphClient } from "./graphClient";
import type { KeyedLocks } from "./locks";
import type { Properties, PropertyMap } from "./properties";

/** A configured provider: its Graph client and the caller the token names. */
export interface Session {
  graph: GraphClient;
  tenantId: string;
  clientId: string;
  /** The caller's object id, from the token's `oid` claim. */
  callerObjectId: string;
  locks: KeyedLocks;
  clock: Clock;
}

/** One create, read, update or delete: the session and the deadline its Terraform timeout gives it. */
export interface Operation extends Session {
  deadline: number;
}

/** One azuread resource type, with the Graph calls terraform-provider-azuread makes for it. */
export interface ResourceType {
  token: string;
  /** Its inputs, by their Pulumi names. */
  properties: Properties;
  /** Minutes, from the Terraform resource's Timeouts. */
  timeouts: { create: number; read: number; update?: number; delete: number };
  /**
   * Outputs only Graph assigns (Terraform `Computed` without an input; the ones @pulumi/azuread's classes mark `out`):
   * a preview of a create plans them unknown, one of an update keeps their values.
   */
  computedOutputs?: string[];
  /** Outputs the bridge marks secret (`Sensitive: true`). */
  secretOutputs?: string[];
  /** Creates the object; `state` carries what only creation learns (a password's value). */
  create(op: Operation, inputs: PropertyMap): Promise<{ id: string; state?: PropertyMap }>;
  /** The object's properties as Graph has them now, or undefined when it is gone (Terraform's MarkAsGone). */
  read(op: Operation, id: string, state: PropertyMap): Promise<PropertyMap | undefined>;
  update?(op: Operation, id: string, olds: PropertyMap, news: PropertyMap): Promise<void>;
  delete(op: Operation, id: string, state: PropertyMap): Promise<void>;
}

/** A function the program invokes, e.g. `azuread:index/getClientConfig:getClientConfig`. */
export interface InvokeType {
  token: string;
  /** Minutes, from the data source's read timeout. */
  timeout: number;
  invoke(op: Operation, args: PropertyMap): Promise<PropertyMap>;
}

/** A Terraform diagnostic as the bridge reports it: its summary, then the error's text. */
export function failed(summary: string, cause?: unknown): Error {
  if (cause === undefined) return new Error(summary);
  return new Error(`${summary}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}
