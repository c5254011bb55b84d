import { describe, expect, it } from "vitest";
import { administrator, configuredProvider, ownedByDeployer, tokens, urnOf } from "./support/azureadHarness";
import { fakeHost } from "./support/fakeGraph";

// The local azuread provider against a temporary in-process Graph (tests/support/fakeGraph.ts). What this cannot
// prove: that the real Graph answers these calls the same way; only that the provider makes the real provider's calls.

const bound = (objectId: string) => `https://${fakeHost}/v1.0/directoryObjects/${objectId}`;
const insufficientPrivileges =
  "unexpected status 403 (403 Forbidden) with error: Authorization_RequestDenied: Insufficient privileges to complete the operation.";

describe("service principal owners (service_principal_resource.go create; terraform-provider-azuread PR #922)", () => {
  it("creates with the caller as owner, then removes it, so an OwnedBy deployer can neither update nor delete it", async () => {
    const h = await configuredProvider(ownedByDeployer);
    const app = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });
    const start = h.graph.calls.length;

    const sp = await h.create(tokens.servicePrincipal, "api-sp", { clientId: app.outs.clientId });

    const objectId = sp.outs.objectId as string;
    expect(sp.id).toBe(`/servicePrincipals/${objectId}`);
    expect(h.callsSince(start)).toEqual([
      "GET /v1.0/servicePrincipals",
      "POST /v1.0/servicePrincipals",
      `PATCH /v1.0/servicePrincipals/${objectId}`,
      `DELETE /v1.0/servicePrincipals/${objectId}/owners/${ownedByDeployer.objectId}/$ref`,
      `GET /v1.0/servicePrincipals/${objectId}`,
      `GET /beta/servicePrincipals/${objectId}`,
      `GET /v1.0/servicePrincipals/${objectId}/owners`,
    ]);
    const [lookup, post, patch] = h.graph.calls.slice(start);
    expect(lookup!.query).toEqual({ $filter: `appId eq '${app.outs.clientId}'` });
    expect(post!.body).toMatchObject({
      appId: app.outs.clientId,
      accountEnabled: true,
      appRoleAssignmentRequired: false,
      "owners@odata.bind": [bound(ownedByDeployer.objectId)],
      "@odata.type": "#microsoft.graph.servicePrincipal",
    });
    expect((post!.body as { description: string }).description).toMatch(/^TERRAFORM_UPDATE_[0-9a-f-]{36}$/);
    expect(patch!.body).toEqual({ description: null, "@odata.type": "#microsoft.graph.servicePrincipal" });
    expect(sp.outs.owners).toEqual([]);

    const urn = urnOf(tokens.servicePrincipal, "api-sp");
    const news = (await h.provider.check(urn, {}, { clientId: app.outs.clientId, appRoleAssignmentRequired: true }))
      .inputs;
    await expect(h.provider.update(sp.id, urn, sp.outs, news)).rejects.toThrow(
      `Updating /servicePrincipals/${objectId}: ${insufficientPrivileges}`,
    );
    await expect(h.provider.delete(sp.id, urn, sp.outs)).rejects.toThrow(
      `Deleting /servicePrincipals/${objectId}: ${insufficientPrivileges}`,
    );
    expect(h.graph.servicePrincipals.has(objectId)).toBe(true);
  });

  it("keeps the caller when owners lists it, so the same deployer can update and delete it", async () => {
    const h = await configuredProvider(ownedByDeployer);
    const app = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });
    const start = h.graph.calls.length;

    const sp = await h.create(tokens.servicePrincipal, "api-sp", {
      clientId: app.outs.clientId,
      owners: [ownedByDeployer.objectId],
    });

    const objectId = sp.outs.objectId as string;
    const calls = h.callsSince(start);
    expect(calls.filter((call) => call.includes("/owners/"))).toEqual([]);
    expect(h.graph.calls[start + 1]!.body).toMatchObject({ "owners@odata.bind": [bound(ownedByDeployer.objectId)] });
    expect(sp.outs.owners).toEqual([ownedByDeployer.objectId]);

    const urn = urnOf(tokens.servicePrincipal, "api-sp");
    const news = (
      await h.provider.check(
        urn,
        {},
        {
          clientId: app.outs.clientId,
          owners: [ownedByDeployer.objectId],
          appRoleAssignmentRequired: true,
        },
      )
    ).inputs;
    expect(await h.provider.diff(sp.id, urn, sp.outs, news)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await h.provider.update(sp.id, urn, sp.outs, news);
    expect(updated.outs.appRoleAssignmentRequired).toBe(true);

    const beforeDelete = h.graph.calls.length;
    await h.provider.delete(sp.id, urn, updated.outs);
    expect(h.graph.servicePrincipals.has(objectId)).toBe(false);
    // consistency.WaitForDeletion: absent five polls in a row, 5 s apart.
    expect(h.callsSince(beforeDelete)).toEqual([
      `DELETE /v1.0/servicePrincipals/${objectId}`,
      ...Array(5).fill(`GET /v1.0/servicePrincipals/${objectId}`),
    ]);
    expect(h.clock.sleeps).toEqual([5000, 5000, 5000, 5000]);
  });

  it("binds the caller and 19 listed owners at creation, adds the rest after, then removes the unlisted caller", async () => {
    const h = await configuredProvider(administrator);
    const app = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });
    const owners = Array.from({ length: 21 }, (_, i) =>
      `0000000${i.toString(16)}-0000-4000-8000-000000000000`.slice(-36),
    );
    const start = h.graph.calls.length;

    const sp = await h.create(tokens.servicePrincipal, "api-sp", { clientId: app.outs.clientId, owners });

    const objectId = sp.outs.objectId as string;
    expect(h.graph.calls[start + 1]!.body).toMatchObject({
      "owners@odata.bind": [administrator.objectId, ...owners.slice(0, 19)].map(bound),
    });
    const ownerCalls = h.graph.calls.slice(start).filter((call) => call.path.includes("/owners/"));
    expect(ownerCalls.map((call) => [call.method, call.path, call.body])).toEqual([
      ["POST", `/v1.0/servicePrincipals/${objectId}/owners/$ref`, { "@odata.id": bound(owners[19]!) }],
      ["POST", `/v1.0/servicePrincipals/${objectId}/owners/$ref`, { "@odata.id": bound(owners[20]!) }],
      ["DELETE", `/v1.0/servicePrincipals/${objectId}/owners/${administrator.objectId}/$ref`, undefined],
    ]);
    expect([...(sp.outs.owners as string[])].sort()).toEqual([...owners].sort());
  });

  it("refuses to adopt a service principal that already exists for the client id", async () => {
    const h = await configuredProvider();
    const app = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });
    const first = await h.create(tokens.servicePrincipal, "api-sp", { clientId: app.outs.clientId });

    await expect(h.create(tokens.servicePrincipal, "api-sp-again", { clientId: app.outs.clientId })).rejects.toThrow(
      `A resource with the ID "${first.outs.objectId}" already exists: To be managed via Terraform, this resource needs to be imported`,
    );
  });

  it("retries a create Graph answers before the application has replicated, but not a PATCH that finds nothing", async () => {
    const h = await configuredProvider();
    const app = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });
    h.graph.inject((call) => call.method === "POST" && call.path === "/v1.0/servicePrincipals", {
      status: 400,
      body: {
        error: {
          code: "Request_BadRequest",
          message: `The appId '${app.outs.clientId}' of the service principal does not reference a valid application object.`,
        },
      },
    });
    h.graph.inject((call) => call.method === "PATCH" && call.path.startsWith("/v1.0/servicePrincipals/"), {
      status: 404,
      body: { error: { code: "Request_ResourceNotFound", message: "Resource does not exist." } },
    });
    const start = h.graph.calls.length;

    await expect(h.create(tokens.servicePrincipal, "api-sp", { clientId: app.outs.clientId })).rejects.toThrow(
      "Timed out whilst waiting for new service principal to be replicated in Azure AD: unexpected status 404 (404 Not Found) with error: Request_ResourceNotFound: Resource does not exist.",
    );
    expect(h.callsSince(start).filter((call) => call.startsWith("POST") || call.startsWith("PATCH"))).toEqual([
      "POST /v1.0/servicePrincipals",
      "POST /v1.0/servicePrincipals",
      expect.stringMatching(/^PATCH \/v1\.0\/servicePrincipals\//),
    ]);
    expect(h.clock.sleeps).toEqual([1000]);
  });
});
