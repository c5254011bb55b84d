import * as ids from "../ids";
import { failed, type ResourceType } from "../resourceType";
import { applicationIdFormat, nonEmptyString } from "../validation";
import {
  addToApplication,
  findApplication,
  applicationToChange,
  lockApplication,
  patchApplication,
} from "./applicationObject";

const describe = (objectId: string, segment: string) =>
  `Application IdentifierUri (Application ID: ${JSON.stringify(objectId)}, IdentifierUri ID: ${JSON.stringify(segment)})`;

/** The id's last segment: the URI in standard base64, padding kept (`base64.StdEncoding`). */
const encode = (uri: string) => Buffer.from(uri, "utf8").toString("base64");

/**
 * terraform-provider-azuread internal/services/applications/application_identifier_uri_resource.go: under the
 * application's lock, GET it and PATCH `identifierUris` with the URI added or removed (exact, case-sensitive match).
 */
export const applicationIdentifierUri: ResourceType = {
  token: "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri",
  properties: {
    applicationId: { type: "string", required: true, validate: applicationIdFormat },
    identifierUri: { type: "string", required: true, validate: nonEmptyString },
  },
  timeouts: { create: 10, read: 5, delete: 5 },

  create: (op, inputs) => {
    const objectId = ids.parseApplicationId(inputs.applicationId as string);
    const uri = inputs.identifierUri as string;
    return addToApplication(op, {
      objectId,
      id: ids.applicationPartId(objectId, "identifierUris", encode(uri)),
      resourceName: "azuread_application_identifier_uri",
      description: describe(objectId, encode(uri)),
      exists: (app) => (app.identifierUris ?? []).includes(uri),
      patch: (app) => ({ identifierUris: [...(app.identifierUris ?? []), uri] }),
    });
  },

  async read(op, id) {
    const { objectId, subId } = ids.parseApplicationPartId(id, "identifierUris");
    const uri = Buffer.from(subId, "base64").toString("utf8");
    return lockApplication(op, objectId, async () => {
      const app = await findApplication(op, objectId).catch((error: unknown) => {
        throw failed(`retrieving ${describe(objectId, subId)}`, error);
      });
      if (!app?.identifierUris?.includes(uri)) return undefined;
      return { applicationId: ids.applicationId(objectId), identifierUri: uri };
    });
  },

  async delete(op, id, state) {
    const { objectId, subId } = ids.parseApplicationPartId(id, "identifierUris");
    await lockApplication(op, objectId, async () => {
      const app = await applicationToChange(op, objectId);
      if (!app.identifierUris) throw failed(`retrieving ${ids.applicationId(objectId)}: identifierUris was nil`);
      const remaining = app.identifierUris.filter((uri) => uri !== state.identifierUri);
      if (remaining.length === app.identifierUris.length) {
        throw failed(`deleting ${describe(objectId, subId)}: could not identify existing identifier URI`);
      }
      await patchApplication(op, objectId, { identifierUris: remaining }).catch((error: unknown) => {
        throw failed(`deleting ${describe(objectId, subId)}`, error);
      });
    });
  },
};
