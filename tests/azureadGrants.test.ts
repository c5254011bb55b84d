import { describe, expect, it } from "vitest";
import { applicationRole, configuredProvider, tokens, urnOf } from "./support/azureadHarness";

// App role assignments and delegated grants against a temporary in-process Graph (tests/support/fakeGraph.ts). What
// this cannot prove: how long the real Graph takes to replicate; only which answers the provider retries.

const roleId = "3b1f4e2a-1111-4c4c-8d8d-000000000001";

/** An API with an application role and its service principal, and a client's service principal. */
async function apiAndClient() {
  const h = await configuredProvider();
  const api = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });
  await h.create(tokens.appRole, "api-role", applicationRole(api.id, roleId));
  const apiSp = await h.create(tokens.servicePrincipal, "api-sp", { clientId: api.outs.clientId });
  const client = await h.create(tokens.application, "client-app", { displayName: "portal-dev" });
  const clientSp = await h.create(tokens.servicePrincipal, "client-sp", { clientId: client.outs.clientId });
  return { h, resourceId: apiSp.outs.objectId as string, principalId: clientSp.outs.objectId as string };
}

const notFoundYet = { status: 404, body: { error: { code: "Request_ResourceNotFound", message: "not yet" } } };

describe("AppRoleAssignment (app_role_assignment_resource.go)", () => {
  it("POSTs to the resource's appRoleAssignedTo and ids it /servicePrincipals/<resource>/appRoleAssignedTo/<id>", async () => {
    const { h, resourceId, principalId } = await apiAndClient();
    const start = h.graph.calls.length;
    const assignment = await h.create(tokens.assignment, "client-consent", {
      appRoleId: roleId,
      principalObjectId: principalId,
      resourceObjectId: resourceId,
    });

    const [assignmentId] = [...h.graph.assignments.keys()];
    expect(assignment.id).toBe(`/servicePrincipals/${resourceId}/appRoleAssignedTo/${assignmentId}`);
    expect(h.callsSince(start)).toEqual([
      `GET /v1.0/servicePrincipals/${resourceId}`,
      `POST /v1.0/servicePrincipals/${resourceId}/appRoleAssignedTo`,
      `GET /v1.0/servicePrincipals/${resourceId}/appRoleAssignedTo/${assignmentId}`,
    ]);
    expect(h.graph.calls[start + 1]!.body).toEqual({
      appRoleId: roleId,
      principalId,
      resourceId,
      "@odata.type": "#microsoft.graph.appRoleAssignment",
    });
    expect(assignment.outs).toMatchObject({ principalType: "ServicePrincipal", resourceObjectId: resourceId });
  });

  it("retries a 404 from a principal that has not replicated, waiting as go-azure-sdk does", async () => {
    const { h, resourceId, principalId } = await apiAndClient();
    h.graph.inject((call) => call.method === "POST" && call.path.endsWith("/appRoleAssignedTo"), notFoundYet);
    h.graph.inject((call) => call.method === "POST" && call.path.endsWith("/appRoleAssignedTo"), notFoundYet);

    await h.create(tokens.assignment, "client-consent", {
      appRoleId: roleId,
      principalObjectId: principalId,
      resourceObjectId: resourceId,
    });

    expect(h.graph.calls.filter((call) => call.path.endsWith("/appRoleAssignedTo"))).toHaveLength(3);
    expect(h.clock.sleeps).toEqual([1000, 2000]);
  });

  it("does not retry 'Permission being assigned was not found' (PR #1896): the create fails with Graph's message", async () => {
    const { h, resourceId, principalId } = await apiAndClient();
    const newRole = "3b1f4e2a-1111-4c4c-8d8d-0000000000ff";

    await expect(
      h.create(tokens.assignment, "user-assignment", {
        appRoleId: newRole,
        principalObjectId: principalId,
        resourceObjectId: resourceId,
      }),
    ).rejects.toThrow(
      "Could not create app role assignment: unexpected status 400 (400 Bad Request) with error: Request_BadRequest: Permission being assigned was not found on application",
    );
    expect(h.graph.calls.filter((call) => call.path.endsWith("/appRoleAssignedTo"))).toHaveLength(1);
    expect(h.clock.sleeps).toEqual([]);
  });

  it("replaces on a changed role, principal or resource (the ForceNew inputs)", async () => {
    const { h, resourceId, principalId } = await apiAndClient();
    const inputs = { appRoleId: roleId, principalObjectId: principalId, resourceObjectId: resourceId };
    const assignment = await h.create(tokens.assignment, "client-consent", inputs);
    const urn = urnOf(tokens.assignment, "client-consent");

    expect(await h.provider.diff(assignment.id, urn, assignment.outs, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const unknownRole = { ...inputs, appRoleId: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" };
    expect(await h.provider.diff(assignment.id, urn, assignment.outs, unknownRole)).toMatchObject({
      changes: true,
      replaces: ["appRoleId"],
    });
  });
});

describe("ServicePrincipalDelegatedPermissionGrant (service_principal_delegated_permission_grant_resource.go)", () => {
  it("grants tenant-wide consent (AllPrincipals) with the claims joined by spaces, updatable in place", async () => {
    const { h, resourceId, principalId } = await apiAndClient();
    const urn = urnOf(tokens.delegatedGrant, "client-admin-consent");
    const inputs = {
      servicePrincipalObjectId: principalId,
      resourceServicePrincipalObjectId: resourceId,
      claimValues: ["access_as_user", "read"],
    };
    const start = h.graph.calls.length;
    const grant = await h.create(tokens.delegatedGrant, "client-admin-consent", inputs);

    const [grantId] = [...h.graph.grants.keys()];
    expect(grant.id).toBe(`/oauth2PermissionGrants/${grantId}`);
    expect(h.callsSince(start)).toEqual([
      `GET /v1.0/servicePrincipals/${principalId}`,
      `GET /v1.0/servicePrincipals/${resourceId}`,
      "POST /v1.0/oauth2PermissionGrants",
      `GET /v1.0/oauth2PermissionGrants/${grantId}`,
    ]);
    expect(h.graph.calls[start + 2]!.body).toEqual({
      clientId: principalId,
      resourceId,
      scope: "access_as_user read",
      consentType: "AllPrincipals",
      "@odata.type": "#microsoft.graph.oAuth2PermissionGrant",
    });

    const news = { ...inputs, claimValues: ["read", "access_as_user"] };
    expect((await h.provider.diff(grant.id, urn, grant.outs, news)).changes).toBe(false);
    const fewer = { ...inputs, claimValues: ["access_as_user"] };
    expect(await h.provider.diff(grant.id, urn, grant.outs, fewer)).toMatchObject({ changes: true, replaces: [] });
    const moved = { ...inputs, servicePrincipalObjectId: resourceId };
    expect((await h.provider.diff(grant.id, urn, grant.outs, moved)).replaces).toEqual(["servicePrincipalObjectId"]);
    const updated = await h.provider.update(grant.id, urn, grant.outs, fewer);
    expect(updated.outs.claimValues).toEqual(["access_as_user"]);
  });
});
