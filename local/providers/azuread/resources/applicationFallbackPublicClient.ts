import * as ids from "../ids";
import { failed, type ResourceType } from "../resourceType";
import { applicationIdFormat } from "../validation";
import { findApplication, lockApplication, patchApplication } from "./applicationObject";

const describe = (objectId: string) => `Fallback Public Client (Application ID: ${JSON.stringify(objectId)})`;

/**
 * terraform-provider-azuread internal/services/applications/application_fallback_public_client_resource.go:
 * `isFallbackPublicClient` PATCHed to the input, and to null on delete; gone only when Graph omits the property.
 */
export const applicationFallbackPublicClient: ResourceType = {
  token: "azuread:index/applicationFallbackPublicClient:ApplicationFallbackPublicClient",
  properties: {
    applicationId: { type: "string", required: true, validate: applicationIdFormat },
    enabled: { type: "boolean", default: false },
  },
  timeouts: { create: 10, read: 5, delete: 5 },

  async create(op, inputs) {
    const objectId = ids.parseApplicationId(inputs.applicationId as string);
    await lockApplication(op, objectId, () =>
      patchApplication(op, objectId, { isFallbackPublicClient: inputs.enabled }),
    ).catch((error: unknown) => {
      throw failed(`setting ${describe(objectId)}`, error);
    });
    return { id: ids.fallbackPublicClientId(objectId) };
  },

  async read(op, id) {
    const objectId = ids.parseFallbackPublicClientId(id);
    return lockApplication(op, objectId, async () => {
      const app = await findApplication(op, objectId).catch((error: unknown) => {
        throw failed(`retrieving ${describe(objectId)}`, error);
      });
      if (!app || app.isFallbackPublicClient === undefined) return undefined;
      return { applicationId: ids.applicationId(objectId), enabled: app.isFallbackPublicClient ?? false };
    });
  },

  async delete(op, id) {
    const objectId = ids.parseFallbackPublicClientId(id);
    await lockApplication(op, objectId, () => patchApplication(op, objectId, { isFallbackPublicClient: null })).catch(
      (error: unknown) => {
        throw failed(`unsetting ${describe(objectId)}`, error);
      },
    );
  },
};
