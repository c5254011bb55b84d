import * as ids from "../ids";
import { failed, type ResourceType } from "../resourceType";
import { applicationIdFormat, items, oneOf, redirectUri } from "../validation";
import {
  addToApplication,
  findApplication,
  type GraphApplication,
  lockApplication,
  patchApplication,
} from "./applicationObject";

type UriType = "PublicClient" | "SPA" | "Web";

/** The platform each type writes: `publicClient`, `spa` or `web` (`setRedirectUrisByType`). */
const platformOf = { PublicClient: "publicClient", SPA: "spa", Web: "web" } as const;

const describe = (objectId: string, type: string) =>
  `Application Redirect URIs (Application ID: ${JSON.stringify(objectId)}, URI Type: ${JSON.stringify(type)})`;

const urisOf = (app: GraphApplication, type: UriType) => app[platformOf[type]]?.redirectUris ?? [];

/** PATCH of one platform's redirect URIs alone; Graph keeps the platform's other settings. */
const patchUris = (type: UriType, uris: string[]) => ({ [platformOf[type]]: { redirectUris: uris } });

/**
 * terraform-provider-azuread internal/services/applications/application_redirect_uris_resource.go: one platform's
 * whole list of redirect URIs. Create refuses a platform that already has some; update and delete PATCH without
 * reading first (delete writes an empty list); read marks it gone when the platform has none.
 */
export const applicationRedirectUris: ResourceType = {
  token: "azuread:index/applicationRedirectUris:ApplicationRedirectUris",
  properties: {
    applicationId: { type: "string", required: true, validate: applicationIdFormat },
    type: { type: "string", required: true, validate: oneOf("PublicClient", "SPA", "Web") },
    redirectUris: { type: "set", required: true, validate: items(redirectUri) },
  },
  timeouts: { create: 10, read: 5, update: 10, delete: 5 },

  create: (op, inputs) => {
    const objectId = ids.parseApplicationId(inputs.applicationId as string);
    const type = inputs.type as UriType;
    return addToApplication(op, {
      objectId,
      id: ids.applicationPartId(objectId, "redirectUris", type),
      resourceName: "azuread_application_redirect_uris",
      description: describe(objectId, type),
      exists: (app) => urisOf(app, type).length > 0,
      patch: () => patchUris(type, inputs.redirectUris as string[]),
    });
  },

  async read(op, id) {
    const { objectId, subId } = ids.parseApplicationPartId(id, "redirectUris");
    const type = subId as UriType;
    return lockApplication(op, objectId, async () => {
      const app = await findApplication(op, objectId).catch((error: unknown) => {
        throw failed(`retrieving ${describe(objectId, type)}`, error);
      });
      const uris = app && platformOf[type] ? urisOf(app, type) : [];
      if (uris.length === 0) return undefined;
      return { applicationId: ids.applicationId(objectId), type, redirectUris: uris };
    });
  },

  async update(op, id, _olds, news) {
    const { objectId, subId } = ids.parseApplicationPartId(id, "redirectUris");
    await lockApplication(op, objectId, () =>
      patchApplication(op, objectId, patchUris(subId as UriType, news.redirectUris as string[])),
    ).catch((error: unknown) => {
      throw failed(`updating ${describe(objectId, subId)}`, error);
    });
  },

  async delete(op, id) {
    const { objectId, subId } = ids.parseApplicationPartId(id, "redirectUris");
    await lockApplication(op, objectId, () => patchApplication(op, objectId, patchUris(subId as UriType, []))).catch(
      (error: unknown) => {
        throw failed(`deleting ${describe(objectId, subId)}`, error);
      },
    );
  },
};
