import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** One ARM resource as the local tenant keeps it: the body it accepted, with what the service assigned. */
export interface StoredResource {
  /** The ARM id as first written; names keep the casing they were created with. */
  id: string;
  /** The resource type, e.g. `Microsoft.ApiManagement/service/apis`. */
  type: string;
  /** The accepted request body (secrets included, since listSecrets returns them), with server-assigned fields. */
  body: Record<string, unknown>;
  etag: string;
  createdAt: string;
  updatedAt: string;
  /** The object id of the principal that created it (role assignments report it as createdBy). */
  createdBy?: string;
}

export interface ArmSubscription {
  subscriptionId: string;
  /** The Entra tenant that owns the subscription: ARM accepts only its tokens for it. */
  tenantId: string;
  displayName: string;
}

interface ArmState {
  version: 1;
  subscriptions: ArmSubscription[];
  resources: StoredResource[];
}

const key = (id: string) => id.toLowerCase();

/**
 * The ARM state of the local tenant: subscriptions and resources by id, case-insensitive as ARM is, persisted to a
 * JSON file (written whole after every change, readable only by its owner: it holds the authorization servers'
 * client secrets). Without a file it lives in memory, for tests.
 */
export class ArmStore {
  private readonly resources = new Map<string, StoredResource>();
  private readonly subscriptions = new Map<string, ArmSubscription>();

  private constructor(private readonly file: string | undefined) {}

  static open(file?: string): ArmStore {
    const store = new ArmStore(file);
    if (!file) return store;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return store;
      throw error;
    }
    const state = JSON.parse(text) as ArmState;
    if (state.version !== 1) throw new Error(`${file}: unknown ARM state version ${String(state.version)}`);
    for (const subscription of state.subscriptions)
      store.subscriptions.set(key(subscription.subscriptionId), subscription);
    for (const resource of state.resources) store.resources.set(key(resource.id), resource);
    return store;
  }

  subscription(subscriptionId: string): ArmSubscription | undefined {
    return this.subscriptions.get(key(subscriptionId));
  }

  putSubscription(subscription: ArmSubscription): void {
    this.subscriptions.set(key(subscription.subscriptionId), subscription);
    this.save();
  }

  get(id: string): StoredResource | undefined {
    return this.resources.get(key(id));
  }

  /** Every resource of a type (case-insensitive), in creation order. */
  ofType(type: string): StoredResource[] {
    return [...this.resources.values()].filter((resource) => key(resource.type) === key(type));
  }

  /** The resources of a type directly under a parent id (`<parent>/<collection>/<name>`). */
  childrenOf(parentId: string, type: string): StoredResource[] {
    const prefix = `${key(parentId)}/`;
    const depth = parentId.split("/").length + 2;
    return this.ofType(type).filter(
      (resource) => key(resource.id).startsWith(prefix) && resource.id.split("/").length === depth,
    );
  }

  /** Creates or replaces a resource; returns the stored copy and whether it was new. */
  put(
    id: string,
    type: string,
    body: Record<string, unknown>,
    at: Date,
    createdBy?: string,
  ): { resource: StoredResource; created: boolean } {
    const existing = this.get(id);
    const resource: StoredResource = {
      id: existing?.id ?? id,
      type,
      body,
      etag: `"${randomUUID()}"`,
      createdAt: existing?.createdAt ?? at.toISOString(),
      updatedAt: at.toISOString(),
      ...((existing?.createdBy ?? createdBy) ? { createdBy: existing?.createdBy ?? createdBy } : {}),
    };
    this.resources.set(key(id), resource);
    this.save();
    return { resource, created: !existing };
  }

  /** Deletes a resource and everything under its id (child and extension resources), as ARM does. */
  delete(id: string): StoredResource[] {
    const prefix = `${key(id)}/`;
    const removed = [...this.resources.entries()].filter(([k]) => k === key(id) || k.startsWith(prefix));
    for (const [k] of removed) this.resources.delete(k);
    if (removed.length > 0) this.save();
    return removed.map(([, resource]) => resource);
  }

  private save(): void {
    if (!this.file) return;
    const state: ArmState = {
      version: 1,
      subscriptions: [...this.subscriptions.values()],
      resources: [...this.resources.values()],
    };
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.file);
  }
}
