import { describe, expect, it } from "vitest";
import { administrator, configuredProvider, tokens, urnOf } from "./support/azureadHarness";

// Refresh and import read Graph and map it back to inputs, so `pulumi refresh` sees what changed behind the program's
// back. Against a temporary in-process Graph (tests/support/fakeGraph.ts): it proves the mapping, not the engine's
// handling of what Read returns.

describe("refresh sees drift", () => {
  it("a redirect URI added in the portal shows as an in-place change that the update PATCHes away", async () => {
    const h = await configuredProvider();
    const app = await h.create(tokens.application, "client-app", { displayName: "spa-dev" });
    const inputs = { applicationId: app.id, type: "SPA", redirectUris: ["https://spa.contoso.example/callback"] };
    const created = await h.create(tokens.redirectUris, "client-redirects", inputs);
    const urn = urnOf(tokens.redirectUris, "client-redirects");
    const objectId = app.outs.objectId as string;
    (h.graph.application(objectId).spa as { redirectUris: string[] }).redirectUris.push(
      "https://evil.example/callback",
    );

    const refreshed = await h.provider.read(created.id, urn, created.outs);

    expect(refreshed.id).toBe(created.id);
    expect(refreshed.props.redirectUris).toEqual([
      "https://spa.contoso.example/callback",
      "https://evil.example/callback",
    ]);
    expect(await h.provider.diff(created.id, urn, refreshed.props, inputs)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    await h.provider.update(created.id, urn, refreshed.props, inputs);
    expect(h.graph.application(objectId).spa).toEqual({ redirectUris: ["https://spa.contoso.example/callback"] });
  });

  it("a removed password, a removed app role assignment and a deleted application read as gone", async () => {
    const h = await configuredProvider();
    const app = await h.create(tokens.application, "client-app", { displayName: "daemon-dev" });
    const objectId = app.outs.objectId as string;
    const password = await h.create(tokens.password, "client-secret", {
      applicationId: app.id,
      endDate: "2027-05-01T00:00:00Z",
    });
    const sp = await h.create(tokens.servicePrincipal, "client-sp", { clientId: app.outs.clientId });
    h.graph.application(objectId).appRoles = [
      { id: "3b1f4e2a-1111-4c4c-8d8d-000000000001", value: "r", isEnabled: true, allowedMemberTypes: ["Application"] },
    ];
    const assignment = await h.create(tokens.assignment, "self-assignment", {
      appRoleId: "3b1f4e2a-1111-4c4c-8d8d-000000000001",
      principalObjectId: sp.outs.objectId,
      resourceObjectId: sp.outs.objectId,
    });

    h.graph.application(objectId).passwordCredentials = [];
    h.graph.assignments.clear();
    expect(await h.provider.read(password.id, urnOf(tokens.password, "client-secret"), password.outs)).toEqual({
      id: "",
      props: {},
    });
    expect(await h.provider.read(assignment.id, urnOf(tokens.assignment, "self-assignment"), assignment.outs)).toEqual({
      id: "",
      props: {},
    });
    h.graph.applications.delete(objectId);
    expect((await h.provider.read(app.id, urnOf(tokens.application, "client-app"), app.outs)).id).toBe("");
  });

  it("an expired password is still there: the real provider reads its dates and does not judge them", async () => {
    const h = await configuredProvider();
    const app = await h.create(tokens.application, "client-app", { displayName: "daemon-dev" });
    const inputs = { applicationId: app.id, endDate: "2026-01-01T00:00:00Z" };
    const password = await h.create(tokens.password, "client-secret", inputs);
    const urn = urnOf(tokens.password, "client-secret");

    const refreshed = await h.provider.read(password.id, urn, password.outs);

    expect(refreshed.props).toEqual(password.outs);
    expect((await h.provider.diff(password.id, urn, refreshed.props, inputs)).changes).toBe(false);
  });

  it("an owner added to a service principal in the portal shows as a change of owners", async () => {
    const h = await configuredProvider();
    const app = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });
    const inputs = { clientId: app.outs.clientId, owners: [administrator.objectId] };
    const sp = await h.create(tokens.servicePrincipal, "api-sp", inputs);
    const urn = urnOf(tokens.servicePrincipal, "api-sp");
    (h.graph.servicePrincipals.get(sp.outs.objectId as string)!.owners as string[]).push(
      "e0000000-0000-4000-8000-0000000000e5",
    );

    const refreshed = await h.provider.read(sp.id, urn, sp.outs);
    const checked = (await h.provider.check(urn, {}, inputs)).inputs;

    expect(await h.provider.diff(sp.id, urn, refreshed.props, checked)).toMatchObject({ changes: true, replaces: [] });
    const start = h.graph.calls.length;
    await h.provider.update(sp.id, urn, refreshed.props, checked);
    expect(h.callsSince(start)).toContain(
      `DELETE /v1.0/servicePrincipals/${sp.outs.objectId}/owners/e0000000-0000-4000-8000-0000000000e5/$ref`,
    );
  });
});

describe("import reads by id alone and returns inputs that match the program's", () => {
  it("ApplicationRegistration, ServicePrincipal and AppRoleAssignment", async () => {
    const h = await configuredProvider();
    const app = await h.create(tokens.application, "api-app", {
      displayName: "orders-dev",
      requestedAccessTokenVersion: 1,
    });
    const objectId = app.outs.objectId as string;
    h.graph.application(objectId).appRoles = [
      { id: "3b1f4e2a-1111-4c4c-8d8d-000000000001", value: "r", isEnabled: true, allowedMemberTypes: ["Application"] },
    ];
    const sp = await h.create(tokens.servicePrincipal, "api-sp", {
      clientId: app.outs.clientId,
      appRoleAssignmentRequired: true,
    });
    const assignment = await h.create(tokens.assignment, "self-assignment", {
      appRoleId: "3b1f4e2a-1111-4c4c-8d8d-000000000001",
      principalObjectId: sp.outs.objectId,
      resourceObjectId: sp.outs.objectId,
    });

    const cases = [
      [tokens.application, "api-app", app.id, { displayName: "orders-dev", requestedAccessTokenVersion: 1 }],
      [tokens.servicePrincipal, "api-sp", sp.id, { clientId: app.outs.clientId, appRoleAssignmentRequired: true }],
      [
        tokens.assignment,
        "self-assignment",
        assignment.id,
        {
          appRoleId: "3b1f4e2a-1111-4c4c-8d8d-000000000001",
          principalObjectId: sp.outs.objectId,
          resourceObjectId: sp.outs.objectId,
        },
      ],
    ] as const;
    for (const [token, name, id, program] of cases) {
      const urn = urnOf(token, name);
      const imported = await h.provider.read(id, urn, {});
      expect(imported.id).toBe(id);
      expect(imported.inputs).toMatchObject(program);
      const checked = await h.provider.check(urn, imported.inputs, program);
      expect(await h.provider.diff(id, urn, imported.props, checked.inputs), `${token}`).toMatchObject({
        changes: false,
      });
    }
  });
});
