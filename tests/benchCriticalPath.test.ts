// The critical path npm run bench puts next to `pulumi up`'s wall time: the heaviest chain of dependencies in a stack's
// state. What this cannot prove: that the engine waits for exactly the dependencies the state records (the engine
// tier's deployments are the evidence that it does not wait for less).
import { describe, expect, it } from "vitest";
import { criticalPath, type StateResource } from "../bench/criticalPath";

const urn = (type: string, name: string) => `urn:pulumi:dev::apim-entra-auth::${type}::${name}`;
const app = "azuread:index/applicationRegistration:ApplicationRegistration";
const password = "azuread:index/applicationPassword:ApplicationPassword";
const api = "azure-native:apimanagement:Api";
const policy = "azure-native:apimanagement:ApiPolicy";
const component = "apim-entra-auth:identity:ClientRegistration";

const resources: StateResource[] = [
  { urn: urn("pulumi:providers:azuread", "default"), type: "pulumi:providers:azuread", custom: true },
  { urn: urn(component, "reporting"), type: component },
  { urn: urn(app, "reporting-app"), type: app, custom: true, parent: urn(component, "reporting") },
  {
    urn: urn(password, "reporting-secret"),
    type: password,
    custom: true,
    parent: urn(component, "reporting"),
    dependencies: [urn(app, "reporting-app")],
  },
  { urn: urn(app, "orders-app"), type: app, custom: true },
  { urn: urn(api, "orders-api"), type: api, custom: true, dependencies: [urn(component, "reporting")] },
  {
    urn: urn(policy, "orders-policy"),
    type: policy,
    custom: true,
    dependencies: [urn(api, "orders-api"), urn(app, "orders-app")],
  },
];
const oneRequest = (resource: StateResource) => (resource.type.startsWith("azuread:") ? 150 : 300);

describe("the critical path of a stack's state", () => {
  it("is the chain whose resources cost most in sum; a dependency on a component waits for what is below it", () => {
    expect(criticalPath(resources, oneRequest)).toEqual({
      cost: 150 + 150 + 300 + 300,
      chain: [
        urn(app, "reporting-app"),
        urn(password, "reporting-secret"),
        urn(api, "orders-api"),
        urn(policy, "orders-policy"),
      ],
    });
  });

  it("follows the weights: with each resource costing its own create time, another chain can be the heaviest", () => {
    const createTimes: Record<string, number> = { "orders-app": 9000, "orders-policy": 300 };
    const path = criticalPath(resources, (resource) => createTimes[resource.urn.split("::").at(-1) ?? ""] ?? 100);
    expect(path).toEqual({ cost: 9300, chain: [urn(app, "orders-app"), urn(policy, "orders-policy")] });
  });

  it("refuses a dependency the state does not hold, and a cycle", () => {
    const dangling = [{ urn: urn(api, "a"), type: api, custom: true, dependencies: [urn(app, "gone")] }];
    expect(() => criticalPath(dangling, oneRequest)).toThrow(`${urn(api, "a")} depends on ${urn(app, "gone")}`);
    const cycle = [
      { urn: urn(api, "a"), type: api, custom: true, dependencies: [urn(api, "b")] },
      { urn: urn(api, "b"), type: api, custom: true, dependencies: [urn(api, "a")] },
    ];
    expect(() => criticalPath(cycle, oneRequest)).toThrow("form a cycle");
  });
});
