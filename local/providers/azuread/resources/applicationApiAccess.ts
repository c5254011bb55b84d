import * as ids from "../ids";
import type { PropertyMap } from "../properties";
import { failed, type Operation, type ResourceType } from "../resourceType";
import { applicationIdFormat, items, uuid } from "../validation";
import {
  addToApplication,
  findApplication,
  applicationToChange,
  type GraphApplication,
  lockApplication,
  patchApplication,
} from "./applicationObject";

const describe = (objectId: string, apiClientId: string) =>
  `Application API Access (Application ID: ${JSON.stringify(objectId)}, API Client ID: ${JSON.stringify(apiClientId)})`;

type RequiredResourceAccess = NonNullable<GraphApplication["requiredResourceAccess"]>[number];

/** The permission list entry for one API: its app roles (`Role`), then its scopes (`Scope`). */
const entryFor = (inputs: PropertyMap): RequiredResourceAccess => ({
  resourceAppId: inputs.apiClientId as string,
  resourceAccess: [
    ...(inputs.roleIds as string[]).map((id) => ({ id, type: "Role" })),
    ...(inputs.scopeIds as string[]).map((id) => ({ id, type: "Scope" })),
  ],
});

const sameApi = (entry: RequiredResourceAccess, apiClientId: string) =>
  (entry.resourceAppId ?? "").toLowerCase() === apiClientId.toLowerCase();

/** Update and delete: the permission list PATCHed back with this API's entry replaced or removed. */
async function rewrite(
  op: Operation,
  id: string,
  verb: "updating" | "deleting",
  change: (apis: RequiredResourceAccess[], apiClientId: string) => RequiredResourceAccess[],
) {
  const { objectId, subId } = ids.parseApplicationPartId(id, "apiAccess");
  await lockApplication(op, objectId, async () => {
    const apis = (await applicationToChange(op, objectId)).requiredResourceAccess;
    if (!apis) throw failed(`retrieving ${ids.applicationId(objectId)}: requiredResourceAccess was nil`);
    if (!apis.some((entry) => sameApi(entry, subId))) {
      throw failed(`${verb} ${describe(objectId, subId)}: could not identify existing API`);
    }
    await patchApplication(op, objectId, { id: objectId, requiredResourceAccess: change(apis, subId) }).catch(
      (error: unknown) => {
        throw failed(`${verb} ${describe(objectId, subId)}`, error);
      },
    );
  });
}

/**
 * terraform-provider-azuread internal/services/applications/application_api_access_resource.go: under the
 * application's lock, GET it and PATCH `requiredResourceAccess` (with the application's id) with this API's entry
 * added, replaced or removed.
 */
export const applicationApiAccess: ResourceType = {
  token: "azuread:index/applicationApiAccess:ApplicationApiAccess",
  properties: {
    applicationId: { type: "string", required: true, validate: applicationIdFormat },
    apiClientId: { type: "string", required: true, validate: uuid },
    roleIds: { type: "set", validate: items(uuid) },
    scopeIds: { type: "set", validate: items(uuid) },
  },
  timeouts: { create: 10, read: 5, update: 10, delete: 5 },

  create: (op, inputs) => {
    const objectId = ids.parseApplicationId(inputs.applicationId as string);
    const apiClientId = inputs.apiClientId as string;
    return addToApplication(op, {
      objectId,
      id: ids.applicationPartId(objectId, "apiAccess", apiClientId),
      resourceName: "azuread_application_api_access",
      description: describe(objectId, apiClientId),
      exists: (app) => (app.requiredResourceAccess ?? []).some((entry) => sameApi(entry, apiClientId)),
      patch: (app) => ({
        id: objectId,
        requiredResourceAccess: [...(app.requiredResourceAccess ?? []), entryFor(inputs)],
      }),
    });
  },

  async read(op, id) {
    const { objectId, subId } = ids.parseApplicationPartId(id, "apiAccess");
    return lockApplication(op, objectId, async () => {
      const app = await findApplication(op, objectId).catch((error: unknown) => {
        throw failed(`retrieving ${ids.applicationId(objectId)}`, error);
      });
      const entry = app?.requiredResourceAccess?.find((candidate) => sameApi(candidate, subId));
      if (!entry) return undefined;
      if (!entry.resourceAccess) throw failed(`retrieving ${describe(objectId, subId)}: resourceAccess was nil`);
      return {
        applicationId: ids.applicationId(objectId),
        apiClientId: entry.resourceAppId,
        roleIds: entry.resourceAccess.filter((access) => access.type === "Role").map((access) => access.id),
        scopeIds: entry.resourceAccess.filter((access) => access.type === "Scope").map((access) => access.id),
      };
    });
  },

  async update(op, id, _olds, news) {
    await rewrite(op, id, "updating", (apis, apiClientId) =>
      apis.map((entry) => (sameApi(entry, apiClientId) ? entryFor(news) : entry)),
    );
  },

  async delete(op, id) {
    await rewrite(op, id, "deleting", (apis, apiClientId) => apis.filter((entry) => !sameApi(entry, apiClientId)));
  },
};
