import * as ids from "../ids";
import type { Properties } from "../properties";
import { failed, type ResourceType } from "../resourceType";
import { waitForDeletion, waitForReplication } from "../stateChange";
import { applicationIdFormat, nonEmptyString, rfc3339 } from "../validation";
import { describeApplication, findApplication, getApplication, lockApplication } from "./applicationObject";

/** terraform-provider-azuread internal/services/applications/application_password_resource.go `Schema`. */
const properties: Properties = {
  applicationId: { type: "string", required: true, validate: applicationIdFormat },
  displayName: { type: "string", computed: true },
  startDate: { type: "string", computed: true, validate: rfc3339 },
  endDate: { type: "string", computed: true, validate: rfc3339 },
  endDateRelative: { type: "string", validate: nonEmptyString },
  rotateWhenChanged: { type: "map" },
};

interface GraphPassword {
  keyId?: string | null;
  displayName?: string | null;
  customKeyIdentifier?: string | null;
  startDateTime?: string | null;
  endDateTime?: string | null;
  secretText?: string | null;
}

/** Go's `time.Parse(RFC3339)` then `Format(RFC3339)`: whole seconds, and `Z` for a zero offset. */
function rfc3339Seconds(value: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  if (!match) throw new Error(`Unable to parse the provided date ${JSON.stringify(value)}`);
  const [, time, offset] = match;
  return `${time}${offset === "+00:00" || offset === "-00:00" ? "Z" : offset}`;
}

function credentialOf(passwords: GraphPassword[] | null | undefined, keyId: string): GraphPassword | undefined {
  return (passwords ?? []).find((password) => (password.keyId ?? "").toLowerCase() === keyId.toLowerCase());
}

export const applicationPassword: ResourceType = {
  token: "azuread:index/applicationPassword:ApplicationPassword",
  properties,
  timeouts: { create: 15, read: 5, delete: 5 },
  computedOutputs: ["keyId", "value"],
  secretOutputs: ["value"],

  async create(op, inputs) {
    const objectId = ids.parseApplicationId(inputs.applicationId as string);
    // credentials.PasswordCredentialForResource: the display name and dates only when set; end_date_relative is
    // accepted but not sent (the credential builder ignores it).
    const credential: Record<string, string> = {};
    try {
      if (inputs.displayName) credential.displayName = inputs.displayName as string;
      if (inputs.startDate) credential.startDateTime = rfc3339Seconds(inputs.startDate as string);
      if (inputs.endDate) credential.endDateTime = rfc3339Seconds(inputs.endDate as string);
    } catch (error) {
      throw failed(`Generating password credentials for ${describeApplication(objectId)}`, error);
    }
    return lockApplication(op, objectId, async () => {
      const app = await findApplication(op, objectId).catch((error: unknown) => {
        throw failed(`Retrieving ${describeApplication(objectId)}`, error);
      });
      if (!app) throw failed(`${describeApplication(objectId)} was not found`);
      let added: GraphPassword;
      try {
        const response = await op.graph.call(
          {
            method: "POST",
            path: `/applications/${objectId}/addPassword`,
            body: { passwordCredential: credential },
            expected: [200, 201, 202, 204],
          },
          op.deadline,
        );
        added = (response.body ?? {}) as GraphPassword;
      } catch (error) {
        throw failed(`Adding password for ${describeApplication(objectId)}`, error);
      }
      if (!added.keyId)
        throw failed(`API error adding password for ${describeApplication(objectId)}`, "nil or empty keyId received");
      if (!added.secretText) {
        throw failed(
          `API error adding password for ${describeApplication(objectId)}`,
          "nil or empty password received",
        );
      }
      const keyId = added.keyId;
      // The new credential must show in the application five polls in a row before it counts.
      await waitForReplication(
        async () => credentialOf((await getApplication(op, objectId)).passwordCredentials as GraphPassword[], keyId),
        op.deadline,
        op.clock,
      ).catch((error: unknown) => {
        throw failed(`Waiting for password credential for ${describeApplication(objectId)}`, error);
      });
      return { id: ids.credentialId(objectId, "password", keyId), state: { value: added.secretText } };
    });
  },

  async read(op, id) {
    const { objectId, keyId } = ids.parseCredentialId(id, "password");
    const app = await findApplication(op, objectId).catch((error: unknown) => {
      throw failed(`Retrieving ${describeApplication(objectId)}`, error);
    });
    const credential = app && credentialOf(app.passwordCredentials as GraphPassword[], keyId);
    if (!credential) return undefined;
    const displayName =
      credential.displayName !== undefined
        ? (credential.displayName ?? "")
        : credential.customKeyIdentifier
          ? Buffer.from(credential.customKeyIdentifier, "base64").toString("utf8")
          : undefined;
    return {
      applicationId: ids.applicationId(objectId),
      ...(displayName === undefined ? {} : { displayName }),
      keyId,
      startDate: credential.startDateTime ?? "",
      endDate: credential.endDateTime ?? "",
    };
  },

  // Delete: POST removePassword under the lock, then wait until the credential has been absent five times in a row.
  async delete(op, id) {
    const { objectId, keyId } = ids.parseCredentialId(id, "password");
    await lockApplication(op, objectId, async () => {
      await op.graph
        .call(
          {
            method: "POST",
            path: `/applications/${objectId}/removePassword`,
            body: { keyId },
            expected: [200, 201, 202, 204],
          },
          op.deadline,
        )
        .catch((error: unknown) => {
          throw failed(
            `Removing password credential ${JSON.stringify(keyId)} from ${describeApplication(objectId)}`,
            error,
          );
        });
      await waitForDeletion(
        async () =>
          credentialOf((await getApplication(op, objectId)).passwordCredentials as GraphPassword[], keyId) !==
          undefined,
        op.deadline,
        op.clock,
      ).catch((error: unknown) => {
        throw failed(
          `Waiting for deletion of password credential ${JSON.stringify(keyId)} from ${describeApplication(objectId)}`,
          error,
        );
      });
    });
  },
};
