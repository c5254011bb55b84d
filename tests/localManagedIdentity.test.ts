// A user-assigned identity deployed by our azure-native provider to the local ARM, in process: ARM assigns its ids
// through the directory hook (the local tenant's directory creates the identity's service principal there), keeps
// them for the identity's life, refuses a new location, and deletes the principal with the identity. What this cannot
// prove: that Azure's own ARM answers with exactly these shapes beyond what Microsoft.ManagedIdentity 2023-01-31 says.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManagedIdentityPrincipals } from "../local/armManagedIdentities";
import type { AzureNativeProvider } from "../local/providers/azure-native/provider";
import { validInputs } from "./support/azureNativeInputs";
import { type ArmFixture, groupPath, providerFor, startArmFixture, subscriptionId, tenantId } from "./support/localArm";

const type = "managedidentity:UserAssignedIdentity";
const urn = `urn:pulumi:dev::apim-entra-auth::apim-entra-auth:identity:ManagedIdentityClient$azure-native:${type}::worker-identity`;
const inputs = validInputs[type] as { resourceGroupName: string; resourceName: string; location: string };
const identityId = `/subscriptions/${subscriptionId}/resourceGroups/${inputs.resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${inputs.resourceName}`;

/** A directory that records what ARM asks of it and hands out fixed ids. */
const calls: { created: unknown[]; deleted: unknown[] } = { created: [], deleted: [] };
const directory: ManagedIdentityPrincipals = {
  create: (identity) => {
    calls.created.push(identity);
    return {
      clientId: `c1e00000-0000-4000-8000-00000000000${calls.created.length}`,
      principalId: `5b000000-0000-4000-8000-00000000000${calls.created.length}`,
    };
  },
  delete: (identity) => {
    calls.deleted.push(identity);
  },
};

let arm: ArmFixture;
let provider: AzureNativeProvider;
beforeAll(async () => {
  arm = await startArmFixture(undefined, { managedIdentities: directory });
  await arm.call("PUT", `${groupPath(inputs.resourceGroupName)}?api-version=2021-04-01`, {
    body: { location: "westeurope" },
  });
  provider = providerFor(arm);
});
afterAll(async () => {
  await arm?.close();
});

describe("a user-assigned identity in the local ARM", () => {
  it("is created with the ids the directory assigns its service principal, kept on update, deleted with it", async () => {
    const created = await provider.create(urn, inputs);
    expect(created.id).toBe(identityId);
    expect(calls.created).toEqual([{ resourceId: identityId, name: inputs.resourceName, tenantId }]);
    expect(created.outs).toMatchObject({
      name: inputs.resourceName,
      type: "Microsoft.ManagedIdentity/userAssignedIdentities",
      location: "westeurope",
      clientId: "c1e00000-0000-4000-8000-000000000001",
      principalId: "5b000000-0000-4000-8000-000000000001",
      tenantId,
      azureApiVersion: "2023-01-31",
    });

    await provider.update(identityId, urn, created.outs ?? {}, { ...inputs, tags: { team: "orders" } });
    expect(calls.created).toHaveLength(1);
    const read = await provider.read(identityId, urn, {});
    expect(read.props).toMatchObject({ principalId: "5b000000-0000-4000-8000-000000000001", tags: { team: "orders" } });

    await provider.delete(identityId, urn);
    expect(calls.deleted).toEqual([{ resourceId: identityId, principalId: "5b000000-0000-4000-8000-000000000001" }]);
    expect((await arm.call("GET", `${identityId}?api-version=2023-01-31`)).status).toBe(404);
  });

  it("refuses a new location: an identity's location is create-only", async () => {
    const path = `${identityId}-moved?api-version=2023-01-31`;
    expect((await arm.call("PUT", path, { body: { location: "westeurope" } })).status).toBe(201);
    const moved = await arm.call("PUT", path, { body: { location: "northeurope" } });
    expect([moved.status, moved.body]).toEqual([
      400,
      {
        error: {
          code: "InvalidLocation",
          message: `The location of user assigned identity '${inputs.resourceName}-moved' cannot be changed from 'westeurope' to 'northeurope'.`,
        },
      },
    ]);
  });

  it("needs its resource group and a location, as ARM does", async () => {
    const elsewhere = `/subscriptions/${subscriptionId}/resourceGroups/rg-missing/providers/Microsoft.ManagedIdentity/userAssignedIdentities/w1`;
    expect(
      (await arm.call("PUT", `${elsewhere}?api-version=2023-01-31`, { body: { location: "westeurope" } })).status,
    ).toBe(404);
    const noLocation = await arm.call("PUT", `${identityId}-x?api-version=2023-01-31`, { body: {} });
    expect([noLocation.status, (noLocation.body as { error: { code: string } }).error.code]).toEqual([
      400,
      "LocationRequired",
    ]);
  });
});
