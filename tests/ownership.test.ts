// Who owns what the program creates (azure-review-2.md item 2), under Pulumi's mock engine: the deploying identity's
// object id is listed as the owner of every service principal, read from one client-config invoke per run. What a
// mock cannot prove: that Graph accepts the owner, that the provider then keeps the caller (it removes the caller
// unless `owners` lists it: terraform-provider-azuread service_principal_resource.go, create), or that
// Application.ReadWrite.OwnedBy can later update and delete these principals; a directory that enforces OwnedBy can.
import { describe, expect, it } from "vitest";
import type { MockEvaluation } from "../tools/preview/mockEngine";
import { evaluate, evaluateComponent, guideApi, guideClient, guideConfig, ofType } from "./support/evaluate";

const T = {
  app: "azuread:index/applicationRegistration:ApplicationRegistration",
  sp: "azuread:index/servicePrincipal:ServicePrincipal",
  owner: "azuread:index/applicationOwner:ApplicationOwner",
};
const clientConfigInvoke = "azuread:index/getClientConfig:getClientConfig";
/** What the mock engine answers for the deploying identity's object id (tools/preview/mockEngine.ts). */
const deployerObjectId = "mock-deployer-object-id";

/** Two APIs (one for users), a daemon with a secret, a federated daemon, a web and a native client. */
function catalogue(changes: Record<string, unknown> = {}) {
  return guideConfig({
    apis: [
      guideApi({ callers: ["applications", "users"], assignedPrincipals: ["9f8e7d6c-aaaa-4bbb-8ccc-ddddeeeeffff"] }),
      guideApi({ name: "ledger", displayName: "Ledger", path: "ledger" }),
    ],
    clients: [
      guideClient({ apis: ["orders", "ledger"] }),
      {
        name: "pipeline",
        displayName: "Pipeline",
        credential: "federated",
        federatedCredentials: [
          {
            name: "github-prod",
            issuer: "https://token.actions.githubusercontent.com",
            subject: "repo:c/o:environment:prod",
          },
        ],
        apis: ["ledger"],
      },
      guideClient({ name: "web", displayName: "Web", kind: "web", redirectUris: ["https://web.example.com/cb"] }),
      { name: "desktop", displayName: "Desktop", kind: "native", credential: "none", apis: ["orders"] },
    ],
    ...changes,
  });
}

function expectDeployerOwnsEveryServicePrincipal(stack: MockEvaluation, count: number) {
  const principals = ofType(stack, T.sp);
  expect(principals).toHaveLength(count);
  for (const principal of principals) expect(principal.inputs.owners, principal.name).toEqual([deployerObjectId]);
}

describe("the deploying identity", () => {
  it("owns every service principal, with the tenant given or not", async () => {
    for (const tenantId of ["11111111-2222-3333-4444-555555555555", undefined]) {
      const stack = await evaluate(catalogue({ tenantId }));
      expectDeployerOwnsEveryServicePrincipal(stack, 6);
    }
  });

  it("is asked for once per run, however many principals there are", async () => {
    for (const tenantId of ["11111111-2222-3333-4444-555555555555", undefined]) {
      const stack = await evaluate(catalogue({ tenantId }));
      expect(stack.invokes.filter((invoke) => invoke.token === clientConfigInvoke)).toHaveLength(1);
    }
  });

  it("owns the service principals of the component used alone, too", async () => {
    const stack = await evaluateComponent(catalogue());
    expectDeployerOwnsEveryServicePrincipal(stack, 6);
    expect(stack.invokes.filter((invoke) => invoke.token === clientConfigInvoke)).toHaveLength(1);
  });

  it("is not declared as an app registration's owner: Graph makes the creator the owner already", async () => {
    // The provider's ApplicationOwner fails when the owner exists ("needs to be imported", application_owner_resource.go
    // create; hashicorp/terraform-provider-azuread#1367), and removes the deployer before the app on destroy (#1335).
    const stack = await evaluate(catalogue());
    expect(ofType(stack, T.owner)).toEqual([]);
    for (const app of ofType(stack, T.app)) expect(Object.keys(app.inputs), app.name).not.toContain("owners");
  });
});
