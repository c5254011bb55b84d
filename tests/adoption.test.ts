// Under Pulumi's mock engine: what `apis[].existing` and `clients[].existing` make the program register — the `import`
// option with the azuread provider's exact import ids, `retainOnDelete`, the observed ids instead of derived ones, the
// name without the suffix, the owners kept — and the refusals of configs that would adopt wrongly. It cannot prove that
// the provider imports these ids or that the first `up` is only imports and updates; adopt.test.ts compares the plan
// with what Graph holds, and the engine-tier proof (described in docs/adopting.md) runs the real provider.
import { describe, expect, it } from "vitest";
import { validateCatalogue } from "../config/validate";
import { freeRoleValue } from "../config/adoption";
import { importIds } from "../entra/importIds";
import { stableId } from "../entra/stableIds";
import { types } from "../guard/model";
import { planData, renderPlanMarkdown } from "../tools/preview/planReport";
import { evaluate, guideApi, guideClient, guideConfig, only, refusalOf } from "./support/evaluate";

// One name per type, as the guard reads plans.
const T = {
  app: types.applicationRegistration,
  uri: types.identifierUri,
  scope: types.permissionScope,
  role: types.appRole,
  sp: types.servicePrincipal,
  access: types.apiAccess,
  assignment: types.appRoleAssignment,
  password: types.password,
  delegated: types.delegatedPermissionGrant,
  redirects: types.redirectUris,
};

/** The ids of the guide's pair as the portal made them. */
export const guideIds = {
  apiObject: "0b1e6a52-4d7f-4c1a-9a3e-5f2b8c7d6e01",
  apiClient: "3b2a9c1d-7e6f-4a5b-8c9d-0e1f2a3b4c02",
  apiPrincipal: "5d4e3f2a-1b0c-4d9e-8f7a-6b5c4d3e2f03",
  scope: "0c9b8a7f-6e5d-4c3b-2a19-f8e7d6c5b404",
  role: "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c05",
  clientObject: "8f1c2d3e-4a5b-4c6d-9e7f-8a9b0c1d2e06",
  clientId: "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a507",
  clientPrincipal: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c08",
  owner: "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d09",
  assignment: "41W1zT6z1U-kJxf2S5JsRBUMOJp_AjVOqTnVqrLcP3M",
};

const adoptedApi = (existing: Record<string, unknown> = {}, changes: Record<string, unknown> = {}) =>
  guideApi({
    appRole: "access_as_application",
    scope: "access_as_app",
    tokenVersion: 1,
    existing: {
      objectId: guideIds.apiObject,
      clientId: guideIds.apiClient,
      servicePrincipal: { objectId: guideIds.apiPrincipal, owners: [guideIds.owner] },
      identifierUri: `api://${guideIds.apiClient}`,
      scope: { id: guideIds.scope, value: "access_as_app" },
      ...existing,
    },
    ...changes,
  });

const adoptedClient = (existing: Record<string, unknown> = {}, changes: Record<string, unknown> = {}) =>
  guideClient({
    existing: {
      objectId: guideIds.clientObject,
      clientId: guideIds.clientId,
      servicePrincipal: { objectId: guideIds.clientPrincipal },
      grants: [{ api: "orders", permissionListed: true }],
      ...existing,
    },
    ...changes,
  });

const adopted = (api = adoptedApi(), client = adoptedClient()) => guideConfig({ apis: [api], clients: [client] });

describe("an adopted API and client", () => {
  it("import the app, principal, identifier URI, scope and permission list entry under the provider's own ids", async () => {
    const evaluation = await evaluate(adopted());
    const importOf = (type: string, name: string) => only(evaluation, type, name).import;
    expect(importOf(T.app, "orders-app")).toBe(`/applications/${guideIds.apiObject}`);
    expect(importOf(T.sp, "orders-sp")).toBe(`/servicePrincipals/${guideIds.apiPrincipal}`);
    expect(importOf(T.uri, "orders-identifier-uri")).toBe(
      `/applications/${guideIds.apiObject}/identifierUris/${Buffer.from(`api://${guideIds.apiClient}`).toString("base64")}`,
    );
    expect(importOf(T.scope, "orders-scope")).toBe(
      `/applications/${guideIds.apiObject}/permissionScopes/${guideIds.scope}`,
    );
    expect(importOf(T.app, "reporting-app")).toBe(`/applications/${guideIds.clientObject}`);
    expect(importOf(T.sp, "reporting-sp")).toBe(`/servicePrincipals/${guideIds.clientPrincipal}`);
    expect(importOf(T.access, "reporting--orders-permission")).toBe(
      `/applications/${guideIds.clientObject}/apiAccess/${guideIds.apiClient}`,
    );
    // What did not exist is created: the role beside the guide's scope, the consent, the program's own secret.
    expect(importOf(T.role, "orders-app-role")).toBeUndefined();
    expect(importOf(T.assignment, "reporting--orders-admin-consent")).toBeUndefined();
    expect(importOf(T.password, "reporting-secret-2026-11-23")).toBeUndefined();
  });

  it("keep every adopted object in the tenant on delete, and only those", async () => {
    const evaluation = await evaluate(adopted());
    const retained = evaluation.resources
      .filter((resource) => resource.retainOnDelete)
      .map((resource) => resource.name);
    expect(retained.sort()).toEqual(
      [
        "orders-app",
        "orders-identifier-uri",
        "orders-scope",
        "orders-sp",
        "reporting--orders-permission",
        "reporting-app",
        "reporting-sp",
      ].sort(),
    );
    expect(
      evaluation.resources
        .filter((resource) => resource.import)
        .map((resource) => resource.name)
        .sort(),
    ).toEqual(retained.sort());
  });

  it("are deleted with the stack when the stack file says retainOnDelete: false", async () => {
    const evaluation = await evaluate(
      adopted(adoptedApi({ retainOnDelete: false }), adoptedClient({ retainOnDelete: false })),
    );
    expect(evaluation.resources.filter((resource) => resource.retainOnDelete === true)).toEqual([]);
    expect(only(evaluation, T.app, "orders-app").retainOnDelete).toBe(false);
    expect(only(evaluation, T.app, "orders-app").import).toBe(`/applications/${guideIds.apiObject}`);
  });

  it("keep their ids, client ids and names, with the v1 tokens the guide's app issues", async () => {
    const evaluation = await evaluate(adopted());
    expect(only(evaluation, T.app, "orders-app").inputs).toEqual({
      displayName: "My-APIM-API",
      signInAudience: "AzureADMyOrg",
      requestedAccessTokenVersion: 1,
    });
    expect(only(evaluation, T.app, "reporting-app").inputs.displayName).toBe("My-Client-App");
    expect(only(evaluation, T.uri, "orders-identifier-uri").inputs.identifierUri).toBe(`api://${guideIds.apiClient}`);
    expect(only(evaluation, T.scope, "orders-scope").inputs).toMatchObject({
      scopeId: guideIds.scope,
      value: "access_as_app",
      type: "Admin",
    });
    expect(only(evaluation, T.role, "orders-app-role").inputs).toMatchObject({
      roleId: stableId("orders", "app-role"),
      value: "access_as_application",
      allowedMemberTypes: ["Application"],
    });
    expect(only(evaluation, T.sp, "orders-sp").inputs.clientId).toBe(guideIds.apiClient);
    expect(only(evaluation, T.assignment, "reporting--orders-admin-consent").inputs).toEqual({
      appRoleId: stableId("orders", "app-role"),
      principalObjectId: guideIds.clientPrincipal,
      resourceObjectId: guideIds.apiPrincipal,
    });
    const api = (evaluation.outputs.apis as Record<string, Record<string, unknown>>).orders;
    expect(api?.clientId).toBe(guideIds.apiClient);
    expect(api?.identifierUri).toBe(`api://${guideIds.apiClient}`);
    expect(api?.policy).toContain(`<audience>api://${guideIds.apiClient}</audience>`);
    expect(api?.policy).toContain("<issuer>https://sts.windows.net/11111111-2222-3333-4444-555555555555/</issuer>");
    expect(api?.policy).toContain("<value>access_as_application</value>");
  });

  it("keep the owners a principal had beside the deploying identity, each once", async () => {
    const deployer = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e10";
    const evaluation = await evaluate(
      adopted(
        adoptedApi({
          servicePrincipal: { objectId: guideIds.apiPrincipal, owners: [guideIds.owner, deployer.toUpperCase()] },
        }),
      ),
      "test",
      {
        "azuread:index/getClientConfig:getClientConfig": {
          tenantId: guideIds.owner,
          clientId: deployer,
          objectId: deployer,
        },
      },
    );
    // The provider removes every owner the list leaves out: the person who made the app in the portal stays one.
    expect(only(evaluation, T.sp, "orders-sp").inputs.owners).toEqual([deployer, guideIds.owner]);
    expect(only(evaluation, T.sp, "reporting-sp").inputs.owners).toEqual([deployer]);
  });

  it("import an existing role and its assignment, with the role's id, instead of creating them", async () => {
    const evaluation = await evaluate(
      adopted(
        adoptedApi({ appRole: { id: guideIds.role, value: "access_as_application" } }),
        adoptedClient({ grants: [{ api: "orders", appRoleAssignmentId: guideIds.assignment }] }),
      ),
    );
    expect(only(evaluation, T.role, "orders-app-role").inputs.roleId).toBe(guideIds.role);
    expect(only(evaluation, T.role, "orders-app-role").import).toBe(
      `/applications/${guideIds.apiObject}/appRoles/${guideIds.role}`,
    );
    const consent = only(evaluation, T.assignment, "reporting--orders-admin-consent");
    expect(consent.import).toBe(`/servicePrincipals/${guideIds.apiPrincipal}/appRoleAssignedTo/${guideIds.assignment}`);
    expect(consent.inputs.appRoleId).toBe(guideIds.role);
    // The grant exists only partly: the permission list entry is made.
    expect(only(evaluation, T.access, "reporting--orders-permission").import).toBeUndefined();
  });

  it("import a web client's redirect URIs and delegated grant", async () => {
    const portal = "https://apim-test.developer.azure-api.net/signin-oauth/code/callback/orders-entra";
    const evaluation = await evaluate(
      adopted(
        adoptedApi({}, { callers: ["applications", "users"], assignedPrincipals: [guideIds.owner] }),
        adoptedClient(
          { redirectUris: [portal], grants: [{ api: "orders", delegatedPermissionGrantId: guideIds.assignment }] },
          { kind: "web", redirectUris: [portal] },
        ),
      ),
    );
    expect(only(evaluation, T.redirects, "reporting-sign-in-redirect-uris").import).toBe(
      `/applications/${guideIds.clientObject}/redirectUris/Web`,
    );
    expect(only(evaluation, T.delegated, "reporting--orders-admin-consent").import).toBe(
      `/oauth2PermissionGrants/${guideIds.assignment}`,
    );
  });

  it("show as imported and kept in the plan, and in its JSON", async () => {
    const evaluation = await evaluate(adopted());
    expect(renderPlanMarkdown(evaluation)).toContain(
      `- **ApplicationRegistration (azuread)** \`orders-app\` — imports \`/applications/${guideIds.apiObject}\` — kept in the tenant when deleted`,
    );
    const json = planData(evaluation).resources.find((resource) => resource.name === "orders-sp");
    expect(json).toMatchObject({ import: `/servicePrincipals/${guideIds.apiPrincipal}`, retainOnDelete: true });
    const created = planData(evaluation).resources.find((resource) => resource.name === "orders-app-role");
    expect(created && ("import" in created || "retainOnDelete" in created)).toBe(false);
  });
});

describe("the import ids", () => {
  it.each([
    [importIds.application("o"), "/applications/o"],
    [importIds.servicePrincipal("s"), "/servicePrincipals/s"],
    [importIds.identifierUri("o", "api://c"), "/applications/o/identifierUris/YXBpOi8vYw=="],
    [importIds.appRole("o", "r"), "/applications/o/appRoles/r"],
    [importIds.permissionScope("o", "s"), "/applications/o/permissionScopes/s"],
    [importIds.apiAccess("o", "c"), "/applications/o/apiAccess/c"],
    [importIds.redirectUris("o", "SPA"), "/applications/o/redirectUris/SPA"],
    [importIds.appRoleAssignment("s", "a"), "/servicePrincipals/s/appRoleAssignedTo/a"],
    [importIds.delegatedPermissionGrant("g"), "/oauth2PermissionGrants/g"],
  ])("%s is the provider's format", (actual, expected) => {
    expect(actual).toBe(expected);
  });
});

const problemsOf = (config: Record<string, unknown>) => {
  try {
    validateCatalogue(config, "test", "2026-11-25");
  } catch (error) {
    return (error as { problems: string[] }).problems;
  }
  return [];
};

describe("a config that would adopt wrongly is refused before anything is registered", () => {
  it("refuses the guide's scope value as the role's, naming the fix", async () => {
    const refusal = await refusalOf(adopted(adoptedApi({}, { appRole: "access_as_app" })));
    expect(refusal.message).toContain(
      `apim-entra-auth:apis[0] (orders).appRole: "access_as_app" is the value of the API's existing scope (apim-entra-auth:apis[0] (orders).existing.scope); an app's roles and scopes share one namespace, so Entra refuses the role ("It contains duplicate value"): keep the scope and its consents, and give the role another value: appRole: access_as_application.`,
    );
    // The generic role-equals-scope message would suggest renaming the scope the guide's clients use: not given.
    expect(refusal.message).not.toContain('scope: "access_as_app" equals the appRole value');
    expect(refusal.resources).toEqual([]);
  });

  it("refuses the default role value beside a scope renamed in the same change", () => {
    expect(problemsOf(adopted(adoptedApi({}, { appRole: undefined, scope: "access_as_user" })))).toEqual([
      expect.stringContaining(
        `apim-entra-auth:apis[0] (orders).appRole: "access_as_app" is the value of the API's existing scope`,
      ),
    ]);
  });

  it.each([
    [
      "an object adopted by two entries",
      adopted(adoptedApi(), adoptedClient({ objectId: guideIds.apiObject, clientId: guideIds.apiClient, grants: [] })),
      [
        `apim-entra-auth:clients[0] (reporting).existing.objectId: "${guideIds.apiObject}" is already apim-entra-auth:apis[0] (orders).existing.objectId; two entries cannot adopt the same app registration's object id: keep one entry for it and remove the other's existing block.`,
        `apim-entra-auth:clients[0] (reporting).existing.clientId: "${guideIds.apiClient}" is already apim-entra-auth:apis[0] (orders).existing.clientId; two entries cannot adopt the same application (client) id: keep one entry for it and remove the other's existing block.`,
      ],
    ],
    [
      "a service principal's id given as the app's",
      adopted(adoptedApi({ objectId: guideIds.apiPrincipal })),
      [
        `apim-entra-auth:apis[0] (orders).existing.servicePrincipal.objectId: "${guideIds.apiPrincipal}" is an app registration's object id (apim-entra-auth:apis[0] (orders).existing.objectId), and a service principal's object id is another id; copy each id from its own field (Graph, or the portal's Overview page).`,
      ],
    ],
    [
      "an identifier URI the program does not keep",
      adopted(adoptedApi({ identifierUri: "api://my-orders" })),
      [
        `apim-entra-auth:apis[0] (orders).existing.identifierUri: "api://my-orders" is not allowed; the program's identifier URI is api://${guideIds.apiClient} (the v1 audience its policy checks), so only that URI is adopted: remove the key, and the program adds api://${guideIds.apiClient} beside the app's other URIs, which stay as they are.`,
      ],
    ],
    [
      "an assignment of a role that does not exist yet",
      adopted(adoptedApi(), adoptedClient({ grants: [{ api: "orders", appRoleAssignmentId: guideIds.assignment }] })),
      [
        `apim-entra-auth:clients[0] (reporting).existing.grants[0].appRoleAssignmentId: the assignment can only be of an app role that exists, and "orders" adopts none (apim-entra-auth:apis[0] (orders).existing.appRole): adopt the role it assigns, or remove the key.`,
      ],
    ],
    [
      "a daemon's delegated grant",
      adopted(
        adoptedApi(),
        adoptedClient({ grants: [{ api: "orders", delegatedPermissionGrantId: guideIds.assignment }] }),
      ),
      [
        `apim-entra-auth:clients[0] (reporting).existing.grants[0].delegatedPermissionGrantId: a daemon is granted the app role, not the delegated scope, so its delegated grant is left as it is (a daemon's token never carries scp): remove the key.`,
      ],
    ],
    [
      "a grant the entry does not make",
      adopted(adoptedApi(), adoptedClient({}, { apis: [] })),
      [
        `apim-entra-auth:clients[0] (reporting).existing.grants[0].api: "orders" is not in apim-entra-auth:clients[0] (reporting).apis (none); an existing grant is adopted by the grant the entry makes: add "orders" to apis, or remove this entry.`,
      ],
    ],
    [
      "a grant of an API that adopts nothing",
      adopted(guideApi(), adoptedClient()),
      [
        `apim-entra-auth:clients[0] (reporting).existing.grants[0].api: "orders" adopts no registration (it has no existing block), so no grant to it can exist yet: remove this entry.`,
      ],
    ],
  ])("refuses %s", (_case, config, expected) => {
    expect(problemsOf(config)).toEqual(expected);
  });

  it.each([
    [
      "objectId",
      "not-a-guid",
      "use the app registration's object id (portal: App registrations → Overview → Object ID), a GUID",
    ],
    ["clientId", "My-APIM-API", "use the app registration's application (client) id, a GUID"],
  ])("refuses existing.%s %j, naming the id it needs", (key, value, allowed) => {
    expect(problemsOf(adopted(adoptedApi({ [key]: value })))).toContain(
      `apim-entra-auth:apis[0] (orders).existing.${key}: ${JSON.stringify(value)} is not allowed; ${allowed}`,
    );
  });

  it("refuses an assignment id that is no Graph id", () => {
    expect(
      problemsOf(adopted(adoptedApi(), adoptedClient({ grants: [{ api: "orders", appRoleAssignmentId: "a/b" }] }))),
    ).toEqual([
      expect.stringContaining(
        'existing.grants[0].appRoleAssignmentId: "a/b" is not allowed; use the app role assignment\'s id as Graph returns it',
      ),
    ]);
  });
});

describe("freeRoleValue", () => {
  it.each([
    [[], "access_as_app"],
    [["access_as_app"], "access_as_application"],
    [["ACCESS_AS_APP", "access_as_application"], "access_as_application_2"],
  ])("beside %j is %s", (taken, expected) => {
    expect(freeRoleValue(taken)).toBe(expected);
  });
});
