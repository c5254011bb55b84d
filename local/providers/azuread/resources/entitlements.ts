import { failed, type Operation } from "../resourceType";
import { waitForState } from "../stateChange";
import { describeApplication, getApplication, type GraphApplication, patchApplication } from "./applicationObject";

/** An app role or a delegated permission scope, with the fields `stable.AppRole` / `stable.PermissionScope` keep. */
export type Entitlement = Record<string, unknown> & { id?: string; isEnabled?: boolean | null };

/** Where roles and scopes live in the application, and how the provider tells a changed one. */
export interface EntitlementKind {
  /** The text the provider's errors use: "App Roles" or "OAuth2 Permission Scopes". */
  label: string;
  fields: readonly string[];
  of(app: GraphApplication): Entitlement[] | undefined;
  /** The PATCH properties that replace the whole list. */
  patch(app: { id: string }, list: Entitlement[]): Record<string, unknown>;
  changed(existing: Entitlement, updated: Entitlement): boolean;
}

/** What go-azure-sdk's models keep of a role or scope when it is read and written back: their known fields only. */
export function keepKnownFields(kind: EntitlementKind, item: Record<string, unknown>): Entitlement {
  return Object.fromEntries(
    [...kind.fields, "@odata.id", "@odata.type"].filter((field) => field in item).map((field) => [field, item[field]]),
  );
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

const sameEntitlement = (kind: EntitlementKind, a: Entitlement, b: Entitlement) =>
  kind.fields.every((field) => same(a[field], b[field]));

export const appRoles: EntitlementKind = {
  label: "App Roles",
  fields: ["allowedMemberTypes", "description", "displayName", "id", "isEnabled", "origin", "value"],
  of: (app) => app.appRoles?.map((role) => keepKnownFields(appRoles, role)),
  patch: (app, list) => ({ id: app.id, appRoles: list }),
  // applications.go `applicationAppRoleChanged`: member types (in order), description or display name differ, or the
  // value differs once unset and "" are taken as equal.
  changed: (existing, updated) =>
    !same(existing.allowedMemberTypes, updated.allowedMemberTypes) ||
    !same(existing.description, updated.description) ||
    !same(existing.displayName, updated.displayName) ||
    (existing.value ?? "") !== (updated.value ?? ""),
};

export const permissionScopes: EntitlementKind = {
  label: "OAuth2 Permission Scopes",
  fields: [
    "adminConsentDescription",
    "adminConsentDisplayName",
    "id",
    "isEnabled",
    "origin",
    "type",
    "userConsentDescription",
    "userConsentDisplayName",
    "value",
  ],
  of: (app) => app.api?.oauth2PermissionScopes?.map((scope) => keepKnownFields(permissionScopes, scope)),
  patch: (_app, list) => ({ api: { oauth2PermissionScopes: list } }),
  // applicationDisableOauth2PermissionScopes compares the whole scope (reflect.DeepEqual).
  changed: (existing, updated) => !sameEntitlement(permissionScopes, existing, updated),
};

/**
 * applications.go `applicationDisableAppRoles` / `applicationDisableOauth2PermissionScopes`: before a role or scope is
 * changed or removed, every enabled one that changes and every one that goes is PATCHed disabled, and the provider
 * polls (1 s at least between polls) until Graph shows them disabled, since Graph refuses to change or remove an
 * enabled one ("Permission (scope or role) cannot be deleted or updated unless disabled first").
 */
export async function disableBeforeChange(
  op: Operation,
  objectId: string,
  kind: EntitlementKind,
  desired: Entitlement[],
): Promise<void> {
  const app = await getApplication(op, objectId).catch((error: unknown) => {
    throw failed(`retrieving ${describeApplication(objectId)}`, error);
  });
  const existing = kind.of(app) ?? [];
  if (
    existing.length === desired.length &&
    existing.every((item, index) => sameEntitlement(kind, item, desired[index]!))
  ) {
    return;
  }
  let disable = false;
  for (const wanted of desired) {
    if (!wanted.id) throw new Error("new role provided with nil or empty ID");
    const current = existing.find((item) => item.id === wanted.id);
    if (current && current.isEnabled === true && kind.changed(current, wanted)) {
      current.isEnabled = false;
      disable = true;
    }
  }
  for (const current of existing) {
    if (!desired.some((wanted) => wanted.id === current.id)) {
      current.isEnabled = false;
      disable = true;
    }
  }
  if (!disable) return;

  await patchApplication(op, objectId, kind.patch(app, existing)).catch((error: unknown) => {
    throw failed(`disabling ${kind.label} for ${describeApplication(objectId)}`, error);
  });
  const disabledIds = existing.filter((item) => item.isEnabled === false).map((item) => item.id);
  await waitForState(
    {
      pending: ["Waiting"],
      target: ["Disabled"],
      timeout: op.deadline - op.clock.now(),
      minTimeout: 1_000,
      refresh: async () => {
        const actual = kind.of(await getApplication(op, objectId));
        if (!actual) throw new Error(`reading ${kind.label} for ${describeApplication(objectId)}`);
        const stillEnabled = actual.some((item) => disabledIds.includes(item.id) && item.isEnabled === true);
        return { result: actual, state: stillEnabled ? "Waiting" : "Disabled" };
      },
    },
    op.clock,
  ).catch((error: unknown) => {
    throw failed(`waiting for ${kind.label} to be disabled for ${describeApplication(objectId)}`, error);
  });
}
