import { describe, expect, it } from "vitest";
import { unknownValue } from "../local/providers/azuread/properties";
import { resourceTypes } from "../local/providers/azuread/provider";
import { administrator, configuredProvider, tokens, urnOf } from "./support/azureadHarness";

// A preview's Create and Update as pulumi-terraform-bridge answers them (pkg/tfbridge/provider.go, `req.GetPreview()`:
// the Terraform diff's proposed state, no API call), against a temporary in-process Graph (tests/support/fakeGraph.ts).
// What this cannot prove: the engine's use of the answer (tests/engine/upgrade.test.ts previews on the real engine).

const servicePrincipalOutputs = resourceTypes.get(tokens.servicePrincipal)!.computedOutputs!;

describe("previews: the plan, without a Graph call", () => {
  it("plans a service principal's update as the old outputs with the new inputs: its objectId stays known", async () => {
    const h = await configuredProvider(administrator);
    const app = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });
    const sp = await h.create(tokens.servicePrincipal, "api-sp", { clientId: app.outs.clientId });
    const urn = urnOf(tokens.servicePrincipal, "api-sp");
    const news = (
      await h.provider.check(urn, sp.outs, {
        clientId: app.outs.clientId,
        owners: [administrator.objectId],
        appRoleAssignmentRequired: true,
      })
    ).inputs;
    const start = h.graph.calls.length;

    const planned = h.provider.planUpdate(sp.id, urn, sp.outs, news);

    expect(h.callsSince(start)).toEqual([]);
    expect(planned.outs).toMatchObject({
      objectId: sp.outs.objectId,
      clientId: app.outs.clientId,
      owners: [administrator.objectId],
      appRoleAssignmentRequired: true,
    });
    expect(JSON.stringify(planned.outs)).not.toContain(unknownValue);
    // The plan is what up then records: the same outputs the update answers after its Graph calls.
    const updated = await h.provider.update(sp.id, urn, sp.outs, news);
    expect(planned.outs).toEqual(updated.outs);
  });

  it("plans a service principal's create as its inputs with every output Graph assigns unknown", async () => {
    const h = await configuredProvider(administrator);
    const app = await h.create(tokens.application, "api-app", { displayName: "orders-dev" });
    const urn = urnOf(tokens.servicePrincipal, "api-sp");
    const inputs = (await h.provider.check(urn, {}, { clientId: app.outs.clientId })).inputs;
    const start = h.graph.calls.length;

    const planned = h.provider.planCreate(urn, inputs);

    expect(h.callsSince(start)).toEqual([]);
    expect(h.graph.servicePrincipals.size).toBe(0);
    const unknowns = Object.fromEntries(servicePrincipalOutputs.map((name) => [name, unknownValue]));
    expect(planned).toEqual({
      id: "",
      outs: {
        clientId: app.outs.clientId,
        accountEnabled: true,
        // Optional+Computed inputs the program leaves out: Graph decides them.
        featureTags: unknownValue,
        features: unknownValue,
        tags: unknownValue,
        ...unknowns,
      },
    });
    expect(unknowns.objectId).toBe(unknownValue);
  });

  it("plans an application password's create with its key id and secret value unknown, the value still secret", async () => {
    const h = await configuredProvider(administrator);
    const app = await h.create(tokens.application, "client-app", { displayName: "pipeline-dev" });
    const urn = urnOf(tokens.password, "client-secret");
    const inputs = (await h.provider.check(urn, {}, { applicationId: app.id, displayName: "rotated 2026-11-23" }))
      .inputs;

    const planned = h.provider.planCreate(urn, inputs);

    expect(planned.outs).toMatchObject({
      applicationId: app.id,
      displayName: "rotated 2026-11-23",
      keyId: unknownValue,
      value: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: unknownValue },
    });
  });
});
