import { randomUUID } from "node:crypto";
import { errorMatches, GraphError } from "../graphClient";
import * as ids from "../ids";
import { differs, type Properties, type PropertyMap } from "../properties";
import { failed, type Operation, type ResourceType } from "../resourceType";
import { waitForDeletion } from "../stateChange";
import { httpUrl, items, lengthBetween, nonEmptyString, oneOf, uuid } from "../validation";
import {
  findServicePrincipal,
  samlMetadataUrl,
  samlSingleSignOn,
  servicePrincipalFields,
  servicePrincipalsOfApp,
  tagsOfFeatures,
} from "./servicePrincipalObject";

/** terraform-provider-azuread internal/services/serviceprincipals/service_principal_resource.go `Schema`. */
const properties: Properties = {
  clientId: { type: "string", required: true, validate: uuid },
  accountEnabled: { type: "boolean", default: true },
  alternativeNames: { type: "set", validate: items(nonEmptyString) },
  appRoleAssignmentRequired: { type: "boolean" },
  description: { type: "string", validate: lengthBetween(0, 1024) },
  featureTags: { type: "list", computed: true },
  features: { type: "list", computed: true },
  loginUrl: { type: "string", validate: httpUrl },
  notes: { type: "string", validate: lengthBetween(0, 1024) },
  notificationEmailAddresses: { type: "set", validate: items(nonEmptyString) },
  owners: { type: "set", validate: items(uuid) },
  preferredSingleSignOnMode: { type: "string", validate: oneOf("notSupported", "oidc", "password", "saml") },
  samlSingleSignOn: { type: "object" },
  tags: { type: "set", computed: true },
  useExisting: { type: "boolean" },
};

const noZero = (value: unknown) => (value === "" || value === undefined ? null : value);

/** A directory object reference as the SDK binds it: `<graph>/v1.0/directoryObjects/<id>`. */
const directoryObject = (op: Operation, objectId: string) => `${op.graph.baseUri}/directoryObjects/${objectId}`;

/** The tags to write: `featureTags`, else `features`, else `tags` (the create's precedence). */
function tagsOf(inputs: PropertyMap): string[] {
  const [featureTags] = (inputs.featureTags as Record<string, unknown>[] | undefined) ?? [];
  const [features] = (inputs.features as Record<string, unknown>[] | undefined) ?? [];
  if (featureTags) return tagsOfFeatures(featureTags);
  if (features) return tagsOfFeatures(features);
  return (inputs.tags as string[]) ?? [];
}

/** `expandSamlSingleSignOn`: an empty settings object unless a relay state is given. */
function samlSettings(inputs: PropertyMap): Record<string, unknown> {
  const block = inputs.samlSingleSignOn as { relayState?: string } | undefined;
  return block && Object.keys(block).length > 0 ? { relayState: block.relayState ?? "" } : {};
}

/** The properties both create and update send. */
function writable(inputs: PropertyMap): Record<string, unknown> {
  return {
    accountEnabled: inputs.accountEnabled,
    alternativeNames: inputs.alternativeNames,
    appRoleAssignmentRequired: inputs.appRoleAssignmentRequired,
    loginUrl: noZero(inputs.loginUrl),
    notes: noZero(inputs.notes),
    notificationEmailAddresses: inputs.notificationEmailAddresses,
    preferredSingleSignOnMode: noZero(inputs.preferredSingleSignOnMode),
    samlSingleSignOnSettings: samlSettings(inputs),
  };
}

async function patchServicePrincipal(op: Operation, objectId: string, body: Record<string, unknown>) {
  return op.graph.call(
    {
      method: "PATCH",
      path: `/servicePrincipals/${objectId}`,
      body: { ...body, "@odata.type": "#microsoft.graph.servicePrincipal" },
      expected: [200, 202, 204],
    },
    op.deadline,
  );
}

async function addOwner(op: Operation, objectId: string, ownerId: string) {
  await op.graph.call(
    {
      method: "POST",
      path: `/servicePrincipals/${objectId}/owners/$ref`,
      body: { "@odata.id": directoryObject(op, ownerId) },
      expected: [200, 201, 202, 204],
    },
    op.deadline,
  );
}

async function removeOwner(op: Operation, objectId: string, ownerId: string) {
  await op.graph.call(
    { method: "DELETE", path: `/servicePrincipals/${objectId}/owners/${ownerId}/$ref`, expected: [200, 204] },
    op.deadline,
  );
}

async function ownersOf(op: Operation, objectId: string): Promise<string[]> {
  const owners = await op.graph.list(
    { method: "GET", path: `/servicePrincipals/${objectId}/owners`, expected: [200] },
    op.deadline,
  );
  return owners.map((owner) => String(owner.id));
}

export const servicePrincipal: ResourceType = {
  token: "azuread:index/servicePrincipal:ServicePrincipal",
  properties,
  timeouts: { create: 10, read: 5, update: 10, delete: 5 },
  computedOutputs: [
    "appRoleIds",
    "appRoles",
    "applicationTenantId",
    "displayName",
    "homepageUrl",
    "logoutUrl",
    "oauth2PermissionScopeIds",
    "oauth2PermissionScopes",
    "objectId",
    "redirectUris",
    "samlMetadataUrl",
    "servicePrincipalNames",
    "signInAudience",
    "type",
  ],

  async create(op, inputs) {
    const clientId = inputs.clientId as string;
    const existing = await servicePrincipalsOfApp(op, clientId).catch((error: unknown) => {
      throw failed("Could not list existing service principals", error);
    });
    if (existing.length > 1) {
      throw failed(
        "Could not list existing service principals",
        `unexpected number of service principals returned (expected: 1, received: ${existing.length}`,
      );
    }
    const [found] = existing;
    if (found) {
      if (inputs.useExisting) {
        const id = ids.servicePrincipalId(found.id);
        await servicePrincipal.update!(op, id, {}, inputs);
        return { id };
      }
      throw failed(
        `A resource with the ID ${JSON.stringify(found.id)} already exists`,
        `To be managed via Terraform, this resource needs to be imported into the State. Please see the resource documentation for "azuread_service_principal" for more information.`,
      );
    }

    // The caller is always an initial owner, with up to 19 of the listed owners; the rest are added afterwards, and
    // the caller is removed at the end unless the program lists it (terraform-provider-azuread PR #922). With only
    // Application.ReadWrite.OwnedBy, a service principal created without its deployer in `owners` can then never be
    // updated or deleted by that deployer.
    const caller = op.callerObjectId;
    const listed = (inputs.owners as string[]).filter((owner) => owner.toLowerCase() !== caller.toLowerCase());
    const removeCaller = listed.length === (inputs.owners as string[]).length;
    const firstOwners = [caller, ...listed.slice(0, 19)].map((owner) => directoryObject(op, owner));
    const moreOwners = listed.slice(19);

    let objectId: string | undefined;
    try {
      const response = await op.graph.call(
        {
          method: "POST",
          path: "/servicePrincipals",
          body: {
            ...writable(inputs),
            appId: clientId,
            // A placeholder description: the PATCH below tells whether the new object has replicated yet.
            description: `TERRAFORM_UPDATE_${randomUUID()}`,
            tags: tagsOf(inputs),
            "owners@odata.bind": firstOwners,
            "@odata.type": "#microsoft.graph.servicePrincipal",
          },
          expected: [200, 201, 202, 204],
          retryWhen: (status, error) =>
            (status === 400 &&
              errorMatches(
                error,
                /The appId '.+' of the service principal does not reference a valid application object/,
              )) ||
            (status === 403 &&
              errorMatches(
                error,
                /When using this permission, the backing application of the service principal being created must in the local tenant/,
              )),
        },
        op.deadline,
      );
      objectId = (response.body as { id?: string } | undefined)?.id;
    } catch (error) {
      throw failed("Could not create service principal", error);
    }
    if (!objectId) throw failed("Bad API response", "object ID returned for service principal is nil");
    const id = ids.servicePrincipalId(objectId);

    try {
      await patchServicePrincipal(op, objectId, { description: noZero(inputs.description) });
    } catch (error) {
      if (error instanceof GraphError && error.status === 404) {
        throw failed("Timed out whilst waiting for new service principal to be replicated in Azure AD", error);
      }
      throw failed("Failed to patch service principal after creating", error);
    }
    for (const owner of moreOwners) {
      await addOwner(op, objectId, owner).catch((error: unknown) => {
        throw failed(`Could not add owners to ${id}`, error);
      });
    }
    if (removeCaller) {
      await removeOwner(op, objectId, caller).catch((error: unknown) => {
        throw failed(`Could not remove initial owner from ${id}`, error);
      });
    }
    return { id };
  },

  async read(op, id) {
    const objectId = ids.parseServicePrincipalId(id);
    const sp = await findServicePrincipal(op, objectId).catch((error: unknown) => {
      throw failed(`Retrieving ${id}`, error);
    });
    if (!sp) return undefined;
    const metadataUrl = await samlMetadataUrl(op, objectId).catch((error: unknown) => {
      throw failed(`Retrieving ${id} (beta API)`, error);
    });
    const owners = await ownersOf(op, objectId).catch((error: unknown) => {
      throw failed(`Could not retrieve owners for ${id}`, error);
    });
    const [saml] = samlSingleSignOn(sp);
    return { ...servicePrincipalFields(sp, metadataUrl), samlSingleSignOn: saml, owners };
  },

  // Update: one PATCH with every writable property, then the owners' difference when owners changed.
  async update(op, id, olds, news) {
    const objectId = ids.parseServicePrincipalId(id);
    await patchServicePrincipal(op, objectId, {
      ...writable(news),
      description: noZero(news.description),
      tags: tagsOf({
        ...news,
        featureTags: changedBlock("featureTags", olds, news),
        features: changedBlock("features", olds, news),
      }),
    }).catch((error: unknown) => {
      throw failed(`Updating ${id}`, error);
    });
    if (!differs(properties.owners!, olds.owners, news.owners)) return;
    const existing = await ownersOf(op, objectId).catch((error: unknown) => {
      throw failed(`Could not retrieve owners for service principal with object ID: ${JSON.stringify(id)}`, error);
    });
    const desired = news.owners as string[];
    for (const owner of desired.filter((owner) => !existing.includes(owner))) {
      await addOwner(op, objectId, owner).catch((error: unknown) => {
        throw failed(`Could not add owners to ${id}`, error);
      });
    }
    for (const owner of existing.filter((owner) => !desired.includes(owner))) {
      await removeOwner(op, objectId, owner).catch((error: unknown) => {
        throw failed(`Could not add owners to ${id}`, error);
      });
    }
  },

  async delete(op, id, state) {
    const objectId = ids.parseServicePrincipalId(id);
    const deletion = op.graph.call(
      { method: "DELETE", path: `/servicePrincipals/${objectId}`, expected: [200, 204] },
      op.deadline,
    );
    // With use_existing the principal may be shared: a failed delete is ignored and nothing is awaited.
    if (state.useExisting) {
      await deletion.catch(() => undefined);
      return;
    }
    await deletion.catch((error: unknown) => {
      throw failed(`Deleting ${id}`, error);
    });
    await waitForDeletion(
      async () => (await findServicePrincipal(op, objectId)) !== undefined,
      op.deadline,
      op.clock,
    ).catch((error: unknown) => {
      throw failed(`Waiting for deletion of ${id}`, error);
    });
  },
};

/** Update writes `featureTags`/`features` only when they are set and changed (`d.HasChange`), else the tags. */
function changedBlock(name: string, olds: PropertyMap, news: PropertyMap): unknown {
  const value = news[name] as unknown[] | undefined;
  return value && value.length > 0 && differs(properties[name]!, olds[name], value) ? value : undefined;
}
