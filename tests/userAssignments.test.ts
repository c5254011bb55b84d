// Under Pulumi's mock engine: the role users and groups are assigned to on an API that accepts users, the assignments
// of `apis[].assignedPrincipals`, the refusals, and the guard over such a plan. It cannot prove that Entra accepts
// the role or that the principals exist in the tenant (a missing object id fails at `pulumi up`); userFlows.test.ts
// proves that the assignments it registers are what lets the stand-in give a user a token.
import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { stableId } from "../entra/stableIds";
import type { GuardResource } from "../guard/model";
import { runGuard } from "../guard/rules";
import { planData } from "../tools/preview/planReport";
import { evaluate, guideApi, guideClient, guideConfig, ofType, only, refusalOf } from "./support/evaluate";

const T = {
  role: "azuread:index/applicationAppRole:ApplicationAppRole",
  assignment: "azuread:index/appRoleAssignment:AppRoleAssignment",
  sp: "azuread:index/servicePrincipal:ServicePrincipal",
};

const mandatory = (resources: GuardResource[]) =>
  runGuard(resources, { maxSecretLifetimeDays: 730 }).filter((found) => found.level === "mandatory");

const user = "0a1b2c3d-1111-4222-8333-444455556666";
const group = "9f8e7d6c-aaaa-4bbb-8ccc-ddddeeeeffff";

const desktop = {
  name: "desktop",
  displayName: "Orders-Desktop",
  kind: "native",
  credential: "none",
  redirectUris: ["http://127.0.0.1/native"],
  apis: ["orders"],
};

/** Orders for users and applications with the given changes, a ledger for applications only, and their clients. */
function stack(orders: Record<string, unknown> = {}) {
  return guideConfig({
    apis: [
      guideApi({ callers: ["applications", "users"], ...orders }),
      guideApi({ name: "ledger", displayName: "Ledger", path: "ledger" }),
    ],
    clients: [guideClient({ apis: ["orders", "ledger"] }), desktop],
  });
}

describe("an API that accepts users", () => {
  it("has a user-assignable role beside the application permission, and its service principal waits for both", async () => {
    const evaluation = await evaluate(stack({ assignedPrincipals: [user] }));
    expect(only(evaluation, T.role, "orders-user-role").inputs).toEqual({
      applicationId: "/applications/mock-orders-app-object-id",
      roleId: stableId("orders", "user-role"),
      value: "signed_in_user",
      allowedMemberTypes: ["User"],
      displayName: "Sign in to My-APIM-API-test",
      description: "Assigned users and groups get tokens for My-APIM-API-test; it requires assignment.",
    });
    expect(only(evaluation, T.role, "orders-app-role").inputs.allowedMemberTypes).toEqual(["Application"]);
    expect(
      new Set([stableId("orders", "user-role"), stableId("orders", "app-role"), stableId("orders", "scope")]).size,
    ).toBe(3);
    const sp = only(evaluation, T.sp, "orders-sp");
    expect(sp.inputs.appRoleAssignmentRequired).toBe(true);
    expect(sp.dependsOn?.map((urn) => urn.split("::").at(-1)).sort()).toEqual([
      "orders-app-role",
      "orders-scope",
      "orders-user-role",
    ]);
  });

  it("assigns each listed user or group to that role on the API's service principal, in lower case", async () => {
    const evaluation = await evaluate(stack({ assignedPrincipals: [user, group.toUpperCase()] }));
    for (const principal of [user, group]) {
      expect(only(evaluation, T.assignment, `orders-user-${principal}`).inputs).toEqual({
        principalObjectId: principal,
        resourceObjectId: "mock-orders-sp-object-id",
        appRoleId: stableId("orders", "user-role"),
      });
    }
    expect(
      ofType(evaluation, T.assignment)
        .map((resource) => resource.name)
        .sort(),
    ).toEqual(
      [
        "orders-user-0a1b2c3d-1111-4222-8333-444455556666",
        "orders-user-9f8e7d6c-aaaa-4bbb-8ccc-ddddeeeeffff",
        "reporting--ledger-admin-consent",
        "reporting--orders-admin-consent",
      ].sort(),
    );
  });

  it("makes each assignment wait for the user role, which users added to a deployed API create in the same run", async () => {
    // On that second run the API's service principal already exists, so its own dependsOn orders nothing. What a mock
    // cannot prove: that Graph's copy of the roles on the principal has caught up by then (docs/troubleshooting.md).
    const evaluation = await evaluate(stack({ assignedPrincipals: [user, group] }));
    const role = only(evaluation, T.role, "orders-user-role");
    for (const principal of [user, group]) {
      expect(only(evaluation, T.assignment, `orders-user-${principal}`).dependsOn).toEqual([role.urn]);
    }
  });

  it("keeps the role's id through a rename, and registers no user role on an applications-only API", async () => {
    const renamed = await evaluate(
      guideConfig({
        apis: [
          guideApi({ name: "sales", formerNames: ["orders"], callers: ["users"], assignedPrincipals: [user] }),
          guideApi({ name: "ledger", displayName: "Ledger", path: "ledger" }),
        ],
        clients: [guideClient({ apis: ["ledger"] }), { ...desktop, apis: ["sales"] }],
      }),
    );
    expect(only(renamed, T.role, "sales-user-role").inputs.roleId).toBe(stableId("orders", "user-role"));
    expect(only(renamed, T.assignment, `sales-user-${user}`).inputs.appRoleId).toBe(stableId("orders", "user-role"));
    expect(
      ofType(renamed, T.role)
        .map((resource) => resource.name)
        .sort(),
    ).toEqual(["ledger-app-role", "sales-app-role", "sales-user-role"]);
    // The users-only API's policy requires `scp` and no role: the guard accepts it.
    const resources = structuredClone(planData(renamed).resources);
    expect(mandatory(resources)).toEqual([]);
  });
});

describe("an API for users with nobody assigned", () => {
  /** The warnings a preview (isDryRun) and an update print for the config. */
  async function warningsOf(config: Record<string, unknown>) {
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      vi.resetModules();
      const { evaluateProgram } = await import("../tools/preview/mockEngine.js");
      await evaluateProgram({ stack: "test", config, preview: true, importProgram: () => import("../index.js") });
      const preview = warnings.mock.calls.map((call) => String(call[0]));
      warnings.mockClear();
      await evaluate(config);
      return { preview, update: warnings.mock.calls.map((call) => String(call[0])) };
    } finally {
      warnings.mockRestore();
    }
  }

  it("gets a preview warning that every user will get AADSTS50105, whether or not applications call too", async () => {
    for (const callers of [["users"], ["applications", "users"]]) {
      const config = guideConfig({
        apis: [guideApi({ callers })],
        clients: [...(callers.includes("applications") ? [guideClient()] : []), desktop],
      });
      expect(await warningsOf(config)).toEqual({
        preview: [
          `warning: [runtime] API "orders" accepts users (its callers include "users") but assigns nobody: its service principal requires assignment, so every user who signs in gets AADSTS50105 ("not assigned to a role for the application") until a user or group is assigned. List their object ids in apis[].assignedPrincipals.`,
        ],
        update: [],
      });
    }
  });

  it("gets none once someone is assigned", async () => {
    expect(await warningsOf(stack({ assignedPrincipals: [user] }))).toEqual({ preview: [], update: [] });
  });
});

describe("refused before anything is registered", () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      "principals on an applications-only API",
      { callers: ["applications"], assignedPrincipals: [user] },
      `apim-entra-auth:apis[0] (orders).assignedPrincipals: ["${user}"] is not allowed while apim-entra-auth:apis[0] (orders).callers is ["applications"]: only users sign in, so add "users" to the API's callers or remove assignedPrincipals.`,
    ],
    [
      "a principal that is not an object id",
      { assignedPrincipals: ["alice@contoso.com"] },
      `apim-entra-auth:apis[0] (orders).assignedPrincipals[0]: "alice@contoso.com" is not allowed; use the object id (GUID) of a user or group in the API's tenant`,
    ],
    [
      "a principal listed twice (in another case)",
      { assignedPrincipals: [group, group.toUpperCase()] },
      `apim-entra-auth:apis[0] (orders).assignedPrincipals: "${group}" is listed more than once.`,
    ],
    [
      "the user role's value as the scope",
      { scope: "signed_in_user" },
      `apim-entra-auth:apis[0] (orders).scope: "signed_in_user" is not allowed on an API whose callers include "users": it is the value of the role users are assigned to; choose another value.`,
    ],
  ])("%s", async (_name, orders, expected) => {
    const refusal = await refusalOf(stack(orders));
    expect(refusal.message).toContain(expected);
    expect(refusal.resources).toEqual([]);
  });
});

describe("the guard over the documented users example (tests/fixtures/stacks/Pulumi.users.yaml)", () => {
  it("passes: a user's assignment makes no daemon, and the user role does not stand in for the application permission", async () => {
    const file = parse(readFileSync("tests/fixtures/stacks/Pulumi.users.yaml", "utf8")) as { config: object };
    const config = Object.fromEntries(
      Object.entries(file.config).map(([key, value]) => [key.replace("apim-entra-auth:", ""), value as unknown]),
    );
    const resources = structuredClone(planData(await evaluate(config, "users")).resources);
    expect(
      resources.filter((resource) => resource.type === T.assignment && resource.name.startsWith("orders-user-")),
    ).toHaveLength(1);
    expect(mandatory(resources)).toEqual([]);

    // Without its application permission, even a user role carrying the same value must not satisfy the roles rule:
    // only users can hold it, so no application token would ever pass.
    const withoutAppRole = resources.filter((resource) => resource.name !== "orders-app-role");
    const userRole = withoutAppRole.find((resource) => resource.name === "orders-user-role");
    (userRole?.inputs as Record<string, unknown>).value = "access_as_app";
    expect(mandatory(withoutAppRole).map((found) => found.rule)).toEqual(["token-check-roles"]);
  });
});
