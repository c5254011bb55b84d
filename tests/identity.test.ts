// Under Pulumi's mock engine: these tests prove what the program asks Azure for (types, exact inputs, wiring
// between outputs and inputs, secrecy). They cannot prove that Entra ID accepts it, nor replication timing;
// the loopback end-to-end tests cover the token path, and `pulumi up` against a real tenant the rest.
import { describe, expect, it } from "vitest";
import { stableId } from "../entra/stableIds";
import { evaluate, guideApi, guideClient, guideConfig, ofType, only } from "./support/evaluate";

const T = {
  app: "azuread:index/applicationRegistration:ApplicationRegistration",
  uri: "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri",
  scope: "azuread:index/applicationPermissionScope:ApplicationPermissionScope",
  role: "azuread:index/applicationAppRole:ApplicationAppRole",
  sp: "azuread:index/servicePrincipal:ServicePrincipal",
  password: "azuread:index/applicationPassword:ApplicationPassword",
  federated: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
  apiAccess: "azuread:index/applicationApiAccess:ApplicationApiAccess",
  assignment: "azuread:index/appRoleAssignment:AppRoleAssignment",
  apiComponent: "apim-entra-auth:identity:ApiRegistration",
  clientComponent: "apim-entra-auth:identity:ClientRegistration",
  grantComponent: "apim-entra-auth:identity:ApiAccessGrant",
};

describe("the guide's pair (My-APIM-API and My-Client-App)", () => {
  it("registers the API app single-tenant with the token version pinned to 2", async () => {
    const stack = await evaluate(guideConfig());
    expect(only(stack, T.app, "orders-app").inputs).toEqual({
      displayName: "My-APIM-API-test",
      signInAudience: "AzureADMyOrg",
      requestedAccessTokenVersion: 2,
    });
  });

  it("builds the identifier URI from the API app's client id, not its object id", async () => {
    const stack = await evaluate(guideConfig());
    expect(only(stack, T.uri, "orders-identifier-uri").inputs).toEqual({
      applicationId: "/applications/mock-orders-app-object-id",
      identifierUri: "api://mock-orders-app-client-id",
    });
  });

  it("exposes an admins-only delegated scope whose value differs from the app role", async () => {
    const stack = await evaluate(guideConfig());
    const scope = only(stack, T.scope, "orders-scope").inputs;
    expect(scope.type).toBe("Admin");
    expect(scope.value).toBe("access_as_user");
    expect(scope.scopeId).toBe(stableId("orders", "scope"));
    expect(scope.applicationId).toBe("/applications/mock-orders-app-object-id");
  });

  it("defines the application permission as an app role for applications, value access_as_app", async () => {
    const stack = await evaluate(guideConfig());
    const role = only(stack, T.role, "orders-app-role").inputs;
    expect(role.allowedMemberTypes).toEqual(["Application"]);
    expect(role.value).toBe("access_as_app");
    expect(role.roleId).toBe(stableId("orders", "app-role"));
    expect(role.applicationId).toBe("/applications/mock-orders-app-object-id");
  });

  it("requires assignment on the API's service principal, so unassigned apps get no token", async () => {
    const stack = await evaluate(guideConfig());
    expect(only(stack, T.sp, "orders-sp").inputs).toEqual({
      clientId: "mock-orders-app-client-id",
      appRoleAssignmentRequired: true,
      owners: ["mock-deployer-object-id"],
    });
    expect(only(stack, T.sp, "reporting-sp").inputs).toEqual({
      clientId: "mock-reporting-app-client-id",
      owners: ["mock-deployer-object-id"],
    });
  });

  it("registers the client single-tenant with no redirect URIs", async () => {
    const stack = await evaluate(guideConfig());
    expect(only(stack, T.app, "reporting-app").inputs).toEqual({
      displayName: "My-Client-App-test",
      signInAudience: "AzureADMyOrg",
    });
  });

  it("grants admin consent as an app role assignment from the client's SP to the API's SP for the role", async () => {
    const stack = await evaluate(guideConfig());
    expect(only(stack, T.assignment, "reporting--orders-admin-consent").inputs).toEqual({
      appRoleId: stableId("orders", "app-role"),
      principalObjectId: "mock-reporting-sp-object-id",
      resourceObjectId: "mock-orders-sp-object-id",
    });
  });

  it("lists the permission on the client by the API's client id and the role's id", async () => {
    const stack = await evaluate(guideConfig());
    expect(only(stack, T.apiAccess, "reporting--orders-permission").inputs).toEqual({
      applicationId: "/applications/mock-reporting-app-object-id",
      apiClientId: "mock-orders-app-client-id",
      roleIds: [stableId("orders", "app-role")],
    });
  });

  it("gives the secret a fixed end date and an explicit rotation key, nothing from the clock", async () => {
    const stack = await evaluate(guideConfig());
    expect(only(stack, T.password, "reporting-secret-2026-11-23").inputs).toEqual({
      applicationId: "/applications/mock-reporting-app-object-id",
      displayName: "rotated 2026-11-23",
      endDate: "2027-05-22T00:00:00Z",
      rotateWhenChanged: { rotatedOn: "2026-11-23" },
    });
  });

  it("exports the secret as a Pulumi secret and nothing else as one", async () => {
    const stack = await evaluate(guideConfig());
    expect(stack.secretOutputPaths).toEqual(["clients.reporting.clientSecret"]);
  });

  it("passes no inputs to components, so no secret is stored as a component input", async () => {
    const stack = await evaluate(guideConfig());
    const components = stack.resources.filter((resource) => !resource.custom);
    expect(components.map((component) => `${component.type} ${component.name}`).sort()).toEqual([
      "apim-entra-auth:gateway:ProtectedApi orders",
      "apim-entra-auth:identity:ApiAccessGrant reporting--orders",
      "apim-entra-auth:identity:ApiRegistration orders",
      "apim-entra-auth:identity:ClientRegistration reporting",
      "apim-entra-auth:index:EntraProtectedApis apim-entra-auth",
    ]);
    for (const component of components) expect(component.inputs).toEqual({});
    const everyInput = JSON.stringify(stack.resources.map((resource) => resource.inputs));
    expect(everyInput).not.toContain("mock-reporting-secret-2026-11-23-value");
  });

  it("exports what a client-credentials request needs, per client and per API", async () => {
    const stack = await evaluate(guideConfig());
    expect(stack.outputs.clients).toEqual({
      reporting: {
        clientId: "mock-reporting-app-client-id",
        tenantId: "11111111-2222-3333-4444-555555555555",
        tokenEndpoint: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token",
        credential: "secret",
        scopes: { orders: "api://mock-orders-app-client-id/.default" },
        clientSecret: "mock-reporting-secret-2026-11-23-value",
        secretEndDate: "2027-05-22T00:00:00Z",
        secrets: [{ rotatedOn: "2026-11-23", endDate: "2027-05-22T00:00:00Z" }],
      },
    });
    expect((stack.outputs.apis as Record<string, unknown>).orders).toMatchObject({
      clientId: "mock-orders-app-client-id",
      identifierUri: "api://mock-orders-app-client-id",
      appRole: "access_as_app",
      appRoleId: stableId("orders", "app-role"),
      tokenVersion: 2,
    });
  });

  it("parents every child to its component and derives its name from the component's", async () => {
    const stack = await evaluate(guideConfig());
    for (const resource of stack.resources.filter((r) => r.custom)) {
      const parent = stack.resources.find((r) => r.urn === resource.parent);
      expect(parent, resource.name).toBeDefined();
      expect(resource.name.startsWith(`${parent?.name}-`), resource.name).toBe(true);
    }
  });
});

describe("stack-wide settings", () => {
  it("takes the tenant from the deploying identity when tenantId is unset", async () => {
    const { tenantId: _unset, ...config } = guideConfig();
    const stack = await evaluate(config);
    const client = (stack.outputs.clients as Record<string, Record<string, unknown>>).reporting;
    expect(client?.tenantId).toBe("mock-tenant-id");
    expect(client?.tokenEndpoint).toBe("https://login.microsoftonline.com/mock-tenant-id/oauth2/v2.0/token");
  });

  it("uses the configured authority host for the token endpoint", async () => {
    const stack = await evaluate({ ...guideConfig(), authorityHost: "https://login.microsoftonline.us/" });
    const client = (stack.outputs.clients as Record<string, Record<string, unknown>>).reporting;
    expect(client?.tokenEndpoint).toBe(
      "https://login.microsoftonline.us/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token",
    );
  });

  it.each([
    [undefined, "prod", "My-APIM-API-prod"],
    ["eu", "prod", "My-APIM-API-eu"],
    ["", "prod", "My-APIM-API"],
  ])("nameSuffix %j on stack %s names the API app %s", async (nameSuffix, stackName, expected) => {
    const config = nameSuffix === undefined ? guideConfig() : { ...guideConfig(), nameSuffix };
    const stack = await evaluate(config, stackName);
    expect(only(stack, T.app, "orders-app").inputs.displayName).toBe(expected);
  });

  it("pins token version 1 when configured", async () => {
    const stack = await evaluate(guideConfig({ apis: [guideApi({ tokenVersion: 1 })] }));
    expect(only(stack, T.app, "orders-app").inputs.requestedAccessTokenVersion).toBe(1);
  });

  it("protects registrations, service principals and APIs — never secrets or grants — when protect is true", async () => {
    const stack = await evaluate({ ...guideConfig(), protect: true });
    const protectedNames = stack.resources
      .filter((r) => r.protect)
      .map((r) => r.name)
      .sort();
    expect(protectedNames).toEqual(["orders-api", "orders-app", "orders-sp", "reporting-app", "reporting-sp"]);
    const unprotected = await evaluate(guideConfig());
    expect(unprotected.resources.filter((r) => r.protect)).toEqual([]);
  });
});

describe("determinism", () => {
  it("registers identical resources when the program is evaluated twice", async () => {
    const first = await evaluate(guideConfig());
    const second = await evaluate(guideConfig());
    expect(second.resources).toEqual(first.resources);
    expect(second.outputs).toEqual(first.outputs);
  });

  it("keeps the role and scope ids when their values are renamed, so assignments survive", async () => {
    const renamed = await evaluate(
      guideConfig({ apis: [guideApi({ appRole: "orders.call", scope: "orders.delegated" })] }),
    );
    expect(only(renamed, T.role, "orders-app-role").inputs.roleId).toBe(stableId("orders", "app-role"));
    expect(only(renamed, T.scope, "orders-scope").inputs.scopeId).toBe(stableId("orders", "scope"));
  });

  it("derives distinct ids per API and purpose", () => {
    const ids = [stableId("orders", "app-role"), stableId("orders", "scope"), stableId("invoices", "app-role")];
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("a catalogue of 3 APIs and 4 clients with 5 grants", () => {
  const catalogue = () => ({
    ...guideConfig(),
    apis: ["orders", "invoices", "stock"].map((name) => ({
      name,
      displayName: `${name} API`,
      path: name,
      backendUrl: `https://${name}.test.example.com`,
    })),
    clients: [
      { name: "reporting", displayName: "Reporting", secretRotatedOn: "2026-11-23", apis: ["orders", "invoices"] },
      {
        name: "pipeline",
        displayName: "Pipeline",
        credential: "federated",
        federatedCredentials: [
          {
            name: "main",
            issuer: "https://token.actions.githubusercontent.com",
            subject: "repo:contoso/app:ref:refs/heads/main",
          },
          {
            name: "prod",
            issuer: "https://token.actions.githubusercontent.com",
            subject: "repo:contoso/app:environment:prod",
          },
        ],
        apis: ["stock"],
      },
      { name: "batch", displayName: "Batch", credential: "none", apis: ["orders"] },
      {
        name: "auditor",
        displayName: "Auditor",
        secretRotatedOn: "2026-11-01",
        secretLifetimeDays: 60,
        apis: ["invoices"],
      },
    ],
  });

  it("registers exactly the expected count of each type", async () => {
    const stack = await evaluate(catalogue());
    const counts = Object.fromEntries(Object.entries(T).map(([key, type]) => [key, ofType(stack, type).length]));
    expect(counts).toEqual({
      app: 7,
      uri: 3,
      scope: 3,
      role: 3,
      sp: 7,
      password: 2,
      federated: 2,
      apiAccess: 5,
      assignment: 5,
      apiComponent: 3,
      clientComponent: 4,
      grantComponent: 5,
    });
  });

  it("gives federated credentials the token-exchange audience and the exact issuer and subject", async () => {
    const stack = await evaluate(catalogue());
    expect(only(stack, T.federated, "pipeline-federated-prod").inputs).toEqual({
      applicationId: "/applications/mock-pipeline-app-object-id",
      displayName: "prod",
      issuer: "https://token.actions.githubusercontent.com",
      subject: "repo:contoso/app:environment:prod",
      audiences: ["api://AzureADTokenExchange"],
    });
  });

  it("assigns each granted client exactly the role of each API it lists", async () => {
    const stack = await evaluate(catalogue());
    const assignments = ofType(stack, T.assignment)
      .map((a) => `${a.inputs.principalObjectId} -> ${a.inputs.resourceObjectId} : ${a.inputs.appRoleId}`)
      .sort();
    const expected = (
      [
        ["reporting", "orders"],
        ["reporting", "invoices"],
        ["pipeline", "stock"],
        ["batch", "orders"],
        ["auditor", "invoices"],
      ] as const
    )
      .map(([client, api]) => `mock-${client}-sp-object-id -> mock-${api}-sp-object-id : ${stableId(api, "app-role")}`)
      .sort();
    expect(assignments).toEqual(expected);
  });

  it("exports a secret only for the clients that have one", async () => {
    const stack = await evaluate(catalogue());
    expect(stack.secretOutputPaths.sort()).toEqual(["clients.auditor.clientSecret", "clients.reporting.clientSecret"]);
    const clients = stack.outputs.clients as Record<string, Record<string, unknown>>;
    expect(clients.pipeline?.clientSecret).toBeUndefined();
    expect(clients.auditor?.secretEndDate).toBe("2026-12-31T00:00:00Z");
  });
});

describe("renaming a catalogue entry", () => {
  // The mock engine records the aliases; that the engine then moves the old state to the new names (parent alias
  // plus children named `<component>-…`) is Pulumi's documented behaviour, which a mock cannot show.
  const renamed = () =>
    guideConfig({
      apis: [guideApi({ name: "sales", path: "sales", formerNames: ["orders"] })],
      clients: [guideClient({ name: "finance", formerNames: ["reporting"], apis: ["sales"] })],
    });

  it("aliases each component to its former names and keeps children named after the component", async () => {
    const stack = await evaluate(renamed());
    const aliasesOf = (type: string, name: string) => only(stack, type, name).aliases;
    expect(aliasesOf(T.apiComponent, "sales")).toEqual(["orders"]);
    expect(aliasesOf(T.clientComponent, "finance")).toEqual(["reporting"]);
    expect(aliasesOf("apim-entra-auth:gateway:ProtectedApi", "sales")).toEqual(["orders"]);
    expect(aliasesOf(T.grantComponent, "finance--sales")).toEqual([
      "finance--orders",
      "reporting--sales",
      "reporting--orders",
    ]);
    expect(only(stack, T.app, "sales-app").parent).toContain("ApiRegistration::sales");
  });

  it("gives every child the URN it had under the former name, as Pulumi's inherited child aliases do", async () => {
    const stack = await evaluate(renamed());
    const urn = (chain: string, name: string) => `urn:pulumi:test::apim-entra-auth::${chain}::${name}`;
    const nested = (chain: string) => `apim-entra-auth:index:EntraProtectedApis$${chain}`;
    // The component's children were registered at the stack's root before it existed: each name under no parent.
    expect(only(stack, T.app, "sales-app").aliasUrns).toEqual([
      urn(nested(`${T.apiComponent}$${T.app}`), "orders-app"),
      urn(`${T.apiComponent}$${T.app}`, "sales-app"),
      urn(`${T.apiComponent}$${T.app}`, "orders-app"),
    ]);
    // Its own alias is the pre-rotation name; inherited: both names under the component and at the stack's root.
    expect(only(stack, T.password, "finance-secret-2026-11-23").aliasUrns).toEqual([
      urn(nested(`${T.clientComponent}$${T.password}`), "finance-secret"),
      urn(nested(`${T.clientComponent}$${T.password}`), "reporting-secret-2026-11-23"),
      urn(nested(`${T.clientComponent}$${T.password}`), "reporting-secret"),
      urn(`${T.clientComponent}$${T.password}`, "finance-secret-2026-11-23"),
      urn(`${T.clientComponent}$${T.password}`, "finance-secret"),
      urn(`${T.clientComponent}$${T.password}`, "reporting-secret-2026-11-23"),
      urn(`${T.clientComponent}$${T.password}`, "reporting-secret"),
    ]);
    const formerGrants = ["finance--orders", "reporting--sales", "reporting--orders"];
    expect(only(stack, T.assignment, "finance--sales-admin-consent").aliasUrns).toEqual([
      ...formerGrants.map((grant) => urn(nested(`${T.grantComponent}$${T.assignment}`), `${grant}-admin-consent`)),
      ...["finance--sales", ...formerGrants].map((grant) =>
        urn(`${T.grantComponent}$${T.assignment}`, `${grant}-admin-consent`),
      ),
      // The grant is also known under the other grant type, so a client changing kind keeps its permission entry.
      urn(nested(`apim-entra-auth:identity:DelegatedAccessGrant$${T.assignment}`), "finance--sales-admin-consent"),
    ]);
  });

  it("keeps the role and scope ids and the APIM API id of the original name, so nothing is replaced", async () => {
    const stack = await evaluate(renamed());
    expect(only(stack, T.role, "sales-app-role").inputs.roleId).toBe(stableId("orders", "app-role"));
    expect(only(stack, T.scope, "sales-scope").inputs.scopeId).toBe(stableId("orders", "scope"));
    expect(only(stack, "azure-native:apimanagement:Api", "sales-api").inputs.apiId).toBe("orders");
    expect(only(stack, T.assignment, "finance--sales-admin-consent").inputs.appRoleId).toBe(
      stableId("orders", "app-role"),
    );
  });

  it("adds no aliases when nothing was renamed, but the secret's name from before two-slot rotation", async () => {
    const stack = await evaluate(guideConfig());
    const aliased = stack.resources.filter((resource) => resource.aliases.length > 0);
    expect(aliased.map((resource) => [resource.name, resource.aliases])).toEqual([
      ["reporting-secret-2026-11-23", ["reporting-secret"]],
    ]);
  });
});
