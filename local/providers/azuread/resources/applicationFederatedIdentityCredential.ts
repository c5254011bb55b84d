import { GraphError } from "../graphClient";
import * as ids from "../ids";
import type { Properties } from "../properties";
import { failed, type Operation, type ResourceType } from "../resourceType";
import { waitForDeletion, waitForReplication } from "../stateChange";
import { anyString, applicationIdFormat, items, lengthBetween, nonEmptyString } from "../validation";
import { describeApplication, getApplication, lockApplication } from "./applicationObject";

/** terraform-provider-azuread internal/services/applications/application_federated_identity_credential_resource.go. */
const properties: Properties = {
  applicationId: { type: "string", required: true, validate: applicationIdFormat },
  audiences: { type: "list", required: true, validate: items(nonEmptyString, { max: 1 }) },
  displayName: { type: "string", required: true, validate: lengthBetween(1, 120) },
  issuer: { type: "string", required: true, validate: anyString },
  subject: { type: "string", required: true, validate: anyString },
  description: { type: "string" },
};

interface GraphFederatedCredential {
  id?: string;
  audiences?: string[];
  description?: string | null;
  issuer?: string;
  name?: string;
  subject?: string;
}

const credentialPath = (objectId: string, credentialId: string) =>
  `/applications/${objectId}/federatedIdentityCredentials/${credentialId}`;

async function findCredential(op: Operation, objectId: string, credentialId: string) {
  try {
    const response = await op.graph.call(
      { method: "GET", path: credentialPath(objectId, credentialId), expected: [200] },
      op.deadline,
    );
    return response.body as GraphFederatedCredential;
  } catch (error) {
    if (error instanceof GraphError && error.status === 404) return undefined;
    throw error;
  }
}

/** The body create and update send (`stable.FederatedIdentityCredential`, description always as a value). */
const credentialBody = (inputs: Record<string, unknown>) => ({
  audiences: inputs.audiences,
  description: inputs.description,
  issuer: inputs.issuer,
  name: inputs.displayName,
  subject: inputs.subject,
  "@odata.type": "#microsoft.graph.federatedIdentityCredential",
});

export const applicationFederatedIdentityCredential: ResourceType = {
  token: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
  properties,
  timeouts: { create: 15, read: 5, update: 5, delete: 5 },
  computedOutputs: ["credentialId"],

  async create(op, inputs) {
    const objectId = ids.parseApplicationId(inputs.applicationId as string);
    return lockApplication(op, objectId, async () => {
      await getApplication(op, objectId).catch((error: unknown) => {
        throw failed(`retrieving ${describeApplication(objectId)}`, error);
      });
      let credentialId: string | undefined;
      try {
        const response = await op.graph.call(
          {
            method: "POST",
            path: `/applications/${objectId}/federatedIdentityCredentials`,
            body: credentialBody(inputs),
            expected: [200, 201, 202, 204],
          },
          op.deadline,
        );
        credentialId = (response.body as GraphFederatedCredential | undefined)?.id;
      } catch (error) {
        throw failed(`Adding federated identity credential for ${describeApplication(objectId)}`, error);
      }
      if (!credentialId) {
        throw failed(
          `API error adding federated identity credential for ${describeApplication(objectId)}`,
          "nil or empty ID received",
        );
      }
      const created = credentialId;
      // Replication: the credential must be found five polls in a row; a 404 is "not yet".
      await waitForReplication(() => findCredential(op, objectId, created), op.deadline, op.clock).catch(
        (error: unknown) => {
          throw failed(`Waiting for ${credentialPath(objectId, created)}`, error);
        },
      );
      return { id: ids.credentialId(objectId, "federatedIdentityCredential", created) };
    });
  },

  async read(op, id) {
    const { objectId, keyId } = ids.parseCredentialId(id, "federatedIdentityCredential");
    const credential = await findCredential(op, objectId, keyId).catch((error: unknown) => {
      throw failed(
        `Retrieving federated identity credential with ID ${JSON.stringify(keyId)} for application with object ID ${JSON.stringify(objectId)}`,
        error,
      );
    });
    if (!credential) return undefined;
    return {
      applicationId: ids.applicationId(objectId),
      credentialId: keyId,
      audiences: credential.audiences ?? [],
      description: credential.description ?? "",
      displayName: credential.name ?? "",
      issuer: credential.issuer ?? "",
      subject: credential.subject ?? "",
    };
  },

  // Update: PATCH the credential with its id and every field (the name is immutable but required).
  async update(op, id, _olds, news) {
    const { objectId, keyId } = ids.parseCredentialId(id, "federatedIdentityCredential");
    await lockApplication(op, objectId, () =>
      op.graph.call(
        {
          method: "PATCH",
          path: credentialPath(objectId, keyId),
          body: { id: keyId, ...credentialBody(news) },
          expected: [200, 202, 204],
        },
        op.deadline,
      ),
    ).catch((error: unknown) => {
      throw failed(
        `Updating federated identity credential with ID ${JSON.stringify(keyId)} for application with object ID ${JSON.stringify(objectId)}`,
        error,
      );
    });
  },

  async delete(op, id) {
    const { objectId, keyId } = ids.parseCredentialId(id, "federatedIdentityCredential");
    await lockApplication(op, objectId, async () => {
      await op.graph
        .call({ method: "DELETE", path: credentialPath(objectId, keyId), expected: [200, 204] }, op.deadline)
        .catch((error: unknown) => {
          throw failed(`Removing ${credentialPath(objectId, keyId)}`, error);
        });
      await waitForDeletion(
        async () => (await findCredential(op, objectId, keyId)) !== undefined,
        op.deadline,
        op.clock,
      ).catch((error: unknown) => {
        throw failed(`Waiting for deletion of ${credentialPath(objectId, keyId)}`, error);
      });
    });
  },
};
