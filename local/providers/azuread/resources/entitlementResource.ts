import * as ids from "../ids";
import type { Properties, PropertyMap } from "../properties";
import { failed, type Operation, type ResourceType } from "../resourceType";
import {
  addToApplication,
  findApplication,
  applicationToChange,
  lockApplication,
  patchApplication,
} from "./applicationObject";
import { disableBeforeChange, type Entitlement, type EntitlementKind } from "./entitlements";

/** What differs between ApplicationAppRole and ApplicationPermissionScope; the Graph calls are the same. */
export interface EntitlementResource {
  token: string;
  /** Terraform's resource name, for its "already exists" error. */
  resourceName: string;
  kind: EntitlementKind;
  part: "appRoles" | "permissionScopes";
  /** The input holding the role's or scope's own id: `roleId` or `scopeId`. */
  idInput: string;
  /** Go's id `String()`, e.g. `App Role (Application ID: "…", Role ID: "…")`. */
  describe(objectId: string, subId: string): string;
  properties: Properties;
  /** The role or scope as the provider writes it: enabled, every field from the inputs. */
  toGraph(inputs: PropertyMap, subId: string): Entitlement;
  /** The state read back from it. */
  toState(item: Entitlement): PropertyMap;
}

const sameId = (a: unknown, b: string) => String(a ?? "").toLowerCase() === b.toLowerCase();

/**
 * terraform-provider-azuread application_app_role_resource.go and application_permission_scope_resource.go: under the
 * application's lock, GET the application and PATCH the whole list back with the one role or scope added, replaced or
 * removed; a change or removal first disables it. No retry beyond the base client's: a role is not waited for.
 */
export function entitlementResource(spec: EntitlementResource): ResourceType {
  const { kind } = spec;

  /** Update and delete: the whole list rewritten with this one changed or gone, after disabling it. */
  const rewrite = (
    op: Operation,
    id: string,
    purpose: "update" | "deletion",
    change: (list: Entitlement[]) => Entitlement[],
  ) => {
    const { objectId, subId } = ids.parseApplicationPartId(id, spec.part);
    const verb = purpose === "update" ? "updating" : "deleting";
    return lockApplication(op, objectId, async () => {
      const app = await applicationToChange(op, objectId);
      const list = kind.of(app);
      if (!list) throw failed(`retrieving ${ids.applicationId(objectId)}: ${kind.label} was nil`);
      if (!list.some((item) => sameId(item.id, subId))) {
        throw failed(`${verb} ${spec.describe(objectId, subId)}: could not identify existing ${kind.label}`);
      }
      const changed = change(list);
      await disableBeforeChange(op, objectId, kind, changed).catch((error: unknown) => {
        throw failed(`disabling ${spec.describe(objectId, subId)} in preparation for ${purpose}`, error);
      });
      await patchApplication(op, objectId, kind.patch(app, changed)).catch((error: unknown) => {
        throw failed(`${verb} ${spec.describe(objectId, subId)}`, error);
      });
    });
  };

  return {
    token: spec.token,
    properties: spec.properties,
    timeouts: { create: 10, read: 5, update: 10, delete: 5 },

    create: (op, inputs) => {
      const objectId = ids.parseApplicationId(inputs.applicationId as string);
      const subId = inputs[spec.idInput] as string;
      return addToApplication(op, {
        objectId,
        id: ids.applicationPartId(objectId, spec.part, subId),
        resourceName: spec.resourceName,
        description: spec.describe(objectId, subId),
        exists: (app) => (kind.of(app) ?? []).some((item) => sameId(item.id, subId)),
        patch: (app) => kind.patch(app, [...(kind.of(app) ?? []), spec.toGraph(inputs, subId)]),
      });
    },

    async read(op, id) {
      const { objectId, subId } = ids.parseApplicationPartId(id, spec.part);
      return lockApplication(op, objectId, async () => {
        const app = await findApplication(op, objectId).catch((error: unknown) => {
          throw failed(`retrieving ${spec.describe(objectId, subId)}`, error);
        });
        const item = app && kind.of(app)?.find((candidate) => sameId(candidate.id, subId));
        if (!item) return undefined;
        return { ...spec.toState(item), applicationId: ids.applicationId(objectId), [spec.idInput]: subId };
      });
    },

    async update(op, id, _olds, news) {
      const { subId } = ids.parseApplicationPartId(id, spec.part);
      const replacement = spec.toGraph(news, subId);
      await rewrite(op, id, "update", (list) => list.map((item) => (sameId(item.id, subId) ? replacement : item)));
    },

    async delete(op, id) {
      const { subId } = ids.parseApplicationPartId(id, spec.part);
      await rewrite(op, id, "deletion", (list) => list.filter((item) => !sameId(item.id, subId)));
    },
  };
}
