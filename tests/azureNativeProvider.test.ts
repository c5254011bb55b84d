// The local azure-native provider's Diff, Create/Read/Update/Delete and functions, called on the provider object
// against the local ARM in process (no gRPC, no engine), and its discovery of ARM through a metadata host. What this
// cannot prove: how the engine sequences these calls (the engine tier runs the real CLI), or that the real
// azure-native provider answers with exactly these outputs (they follow its SDK's names and its Read algorithm).
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apimPolicyCopy } from "../local/armResources";
import { ensureApimService } from "../local/armSeed";
import { armScope, connect, providerSettings } from "../local/providers/azure-native/armClient";
import { AzureNativeProvider } from "../local/providers/azure-native/provider";
import { isSecret, secret } from "../local/providers/azure-native/values";
import { replaceOnChanges } from "../tools/preview/replaceOnChanges";
import { service, validInputs } from "./support/azureNativeInputs";
import {
  adminId,
  type ArmFixture,
  armNow,
  providerFor,
  servicePath,
  startArmFixture,
  subscriptionId,
  tenantId,
} from "./support/localArm";

const urnOf = (type: string, name = "orders") =>
  `urn:pulumi:dev::apim-entra-auth::apim-entra-auth:gateway:ProtectedApi$azure-native:${type}::${name}`;
const T = {
  service: "apimanagement:ApiManagementService",
  api: "apimanagement:Api",
  operation: "apimanagement:ApiOperation",
  policy: "apimanagement:ApiPolicy",
  server: "apimanagement:AuthorizationServer",
  assignment: "authorization:RoleAssignment",
};
const policyXml = `<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n`;

let arm: ArmFixture;
let provider: AzureNativeProvider;

const providerAs = (oid: string) => providerFor(arm, oid);

beforeAll(async () => {
  arm = await startArmFixture();
  ensureApimService(arm.store, { subscriptionId, ...service }, armNow);
  provider = providerAs(adminId);
});
afterAll(async () => {
  await arm?.close();
});

describe("Diff", () => {
  const types = Object.keys(replaceOnChanges).filter((type) => type.startsWith("azure-native:"));

  it.each(types.flatMap((type) => (replaceOnChanges[type] ?? []).map((key) => [type, key] as const)))(
    "%s: a new %s replaces the resource",
    async (type, key) => {
      const result = await provider.diff(
        "id",
        urnOf(type.replace("azure-native:", "")),
        { __inputs: { [key]: "old", displayName: "x" } },
        { [key]: "new", displayName: "x" },
      );
      expect(result).toEqual({ changes: true, replaces: [key] });
    },
  );

  it("updates in place on any other input, and sees no change when nothing changed", async () => {
    const olds = { __inputs: { ...service, apiId: "orders", displayName: "Orders" } };
    expect(
      await provider.diff("id", urnOf(T.api), olds, { ...service, apiId: "orders", displayName: "Orders v2" }),
    ).toEqual({
      changes: true,
      replaces: [],
    });
    expect(
      await provider.diff("id", urnOf(T.api), olds, { ...service, apiId: "orders", displayName: "Orders" }),
    ).toEqual({
      changes: false,
      replaces: [],
    });
  });

  it("counts an input not known yet as changed, so a replacing one shows the replace in a preview", async () => {
    const olds = { __inputs: { ...service, apiId: "orders", policyId: "policy", value: "<policies />" } };
    const news = { ...service, apiId: unknownValue, policyId: "policy", value: "<policies />" };
    expect(await provider.diff("id", urnOf(T.policy), olds, news)).toEqual({ changes: true, replaces: ["apiId"] });
  });

  it("compares with the inputs the state was made from, not with ARM's re-serialised policy, and secrets by value", async () => {
    const inputs = { ...service, apiId: "orders", policyId: "policy", format: "rawxml", value: policyXml };
    const olds = { value: apimPolicyCopy(policyXml), __inputs: inputs };
    expect(await provider.diff("id", urnOf(T.policy), olds, inputs)).toEqual({ changes: false, replaces: [] });
    const server = { clientSecret: secret("one") };
    expect(await provider.diff("id", urnOf(T.server), { __inputs: server }, { clientSecret: secret("one") })).toEqual({
      changes: false,
      replaces: [],
    });
    expect(await provider.diff("id", urnOf(T.server), { __inputs: server }, { clientSecret: secret("two") })).toEqual({
      changes: true,
      replaces: [],
    });
  });
});

describe("resources through ARM", () => {
  const apiInputs = {
    ...service,
    apiId: "orders",
    displayName: "Orders",
    path: "orders",
    serviceUrl: "https://orders.example",
    protocols: ["https"],
    subscriptionRequired: false,
  };
  const apiId = `${servicePath()}/apis/orders`;

  it("looks up the existing service: its ARM id, name, tier and gateway URL", async () => {
    const { outputs } = await provider.invoke("azure-native:apimanagement:getApiManagementService", service);
    expect(outputs).toMatchObject({
      id: servicePath(),
      name: "apim-contoso-dev",
      type: "Microsoft.ApiManagement/service",
      sku: { name: "Developer", capacity: 1 },
      gatewayUrl: "https://127.0.0.1:8443/gateway/apim-contoso-dev",
      provisioningState: "Succeeded",
      azureApiVersion: "2024-05-01",
    });
  });

  it("creates an API and its operation and policy, with the outputs the program reads", async () => {
    const created = await provider.create(urnOf(T.api), apiInputs);
    expect(created.id).toBe(apiId);
    expect(created.outs).toMatchObject({
      name: "orders",
      type: "Microsoft.ApiManagement/service/apis",
      path: "orders",
      displayName: "Orders",
      isCurrent: true,
    });
    expect(created.outs.__inputs).toEqual(apiInputs);

    const operation = await provider.create(urnOf(T.operation), validInputs[T.operation] as Record<string, unknown>);
    expect(operation.id).toBe(`${apiId}/operations/get-any`);

    const policyInputs = { ...service, apiId: "orders", policyId: "policy", format: "rawxml", value: policyXml };
    const policy = await provider.create(urnOf(T.policy), policyInputs);
    expect(policy.outs).toMatchObject({ name: "policy", format: "rawxml", value: apimPolicyCopy(policyXml) });
    expect(arm.store.get(policy.id)?.body.properties).toEqual({ format: "rawxml", value: policyXml });
  });

  it("refuses to create what already exists, as azure-native does", async () => {
    await expect(provider.create(urnOf(T.api), apiInputs)).rejects.toThrow(
      `Cannot create already existing resource '${apiId}'. Consider importing it into the stack with 'pulumi import'.`,
    );
  });

  it("refreshes to the same inputs while ARM is unchanged, and to ARM's value once someone edits the policy", async () => {
    const policyId = `${apiId}/policies/policy`;
    const inputs = { ...service, apiId: "orders", policyId: "policy", format: "rawxml", value: policyXml };
    const state = (await provider.read(policyId, urnOf(T.policy), {
      value: apimPolicyCopy(policyXml),
      format: "rawxml",
      __inputs: inputs,
    })) as {
      props: Record<string, unknown>;
      inputs: Record<string, unknown>;
    };
    expect(state.inputs).toEqual(inputs);
    const edited = "<policies>\n  <inbound />\n</policies>";
    await arm.call("PUT", policyId, { body: { properties: { format: "rawxml", value: edited } } });
    const drifted = (await provider.read(policyId, urnOf(T.policy), state.props)) as {
      inputs: Record<string, unknown>;
    };
    expect(drifted.inputs).toEqual({ ...inputs, value: apimPolicyCopy(edited) });
    expect(await provider.diff(policyId, urnOf(T.policy), { __inputs: drifted.inputs }, inputs)).toEqual({
      changes: true,
      replaces: [],
    });
    await provider.update(policyId, urnOf(T.policy), {}, inputs);
    expect(arm.store.get(policyId)?.body.properties).toEqual({ format: "rawxml", value: policyXml });
  });

  it("imports an API from ARM: its path parameters and what ARM holds, without the service's defaults", async () => {
    const imported = (await provider.read(apiId, urnOf(T.api))) as { inputs: Record<string, unknown> };
    expect(imported.inputs).toEqual(apiInputs);
  });

  it("updates an API in place", async () => {
    const updated = await provider.update(apiId, urnOf(T.api), {}, { ...apiInputs, displayName: "Orders v2" });
    expect(updated.outs).toMatchObject({ displayName: "Orders v2", name: "orders" });
    expect((arm.store.get(apiId)?.body.properties as { displayName: string }).displayName).toBe("Orders v2");
  });

  it("keeps an authorization server's secret in ARM and, secret, in the outputs", async () => {
    const inputs = { ...validInputs[T.server], clientSecret: secret("portal-secret") };
    const created = await provider.create(urnOf(T.server), inputs);
    expect(isSecret(created.outs.clientSecret)).toBe(true);
    expect(created.outs.clientSecret).toEqual(secret("portal-secret"));
    expect((arm.store.get(created.id)?.body.properties as { clientSecret: string }).clientSecret).toBe("portal-secret");
  });

  it("deletes, after which a refresh finds nothing", async () => {
    await provider.delete(`${apiId}/operations/get-any`, urnOf(T.operation));
    expect(arm.store.get(`${apiId}/operations/get-any`)).toBeUndefined();
    expect(await provider.read(`${apiId}/operations/get-any`, urnOf(T.operation), {})).toEqual({ id: "", props: {} });
  });

  it("assigns a role at the service and reads the built-in role definition", async () => {
    const scope = servicePath();
    const definition = await provider.invoke("azure-native:authorization:getRoleDefinition", {
      roleDefinitionId: "312a565d-c81f-4fd8-895a-4e21e48d571c",
      scope,
    });
    expect(definition.outputs).toMatchObject({
      id: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/312a565d-c81f-4fd8-895a-4e21e48d571c`,
      roleName: "API Management Service Contributor",
      roleType: "BuiltInRole",
    });
    const { inputs } = await provider.check(
      urnOf(T.assignment, "deployer-apim"),
      {},
      {
        principalId: "de000000-0000-4000-8000-000000000002",
        principalType: "ServicePrincipal",
        roleDefinitionId: (definition.outputs as { id: string }).id,
        scope,
      },
    );
    const created = await provider.create(urnOf(T.assignment, "deployer-apim"), inputs);
    expect(created.id).toBe(
      `${scope}/providers/Microsoft.Authorization/roleAssignments/9a000000-0000-4000-8000-000000000009`,
    );
    expect(created.outs).toMatchObject({
      scope,
      principalType: "ServicePrincipal",
      name: "9a000000-0000-4000-8000-000000000009",
    });
  });

  it("fails with ARM's answer, in the words the real provider uses", async () => {
    const deployer = providerAs("de000000-0000-4000-8000-00000000dead");
    await expect(
      deployer.create(urnOf(T.api, "billing"), { ...apiInputs, apiId: "billing", path: "billing" }),
    ).rejects.toThrow(
      `GET ${servicePath()}/apis/billing: Status=403 Code="AuthorizationFailed" Message="The client 'de000000-0000-4000-8000-00000000dead' with object id 'de000000-0000-4000-8000-00000000dead' does not have authorization to perform action 'Microsoft.ApiManagement/service/apis/read' over scope '${servicePath()}/apis/billing' or the scope is invalid. If access was recently granted, please refresh your credentials."`,
    );
    await expect(
      provider.create(urnOf(T.api, "lost"), { ...apiInputs, serviceName: "apim-missing", apiId: "lost" }),
    ).rejects.toThrow(
      `Status=404 Code="ResourceNotFound" Message="The Resource 'Microsoft.ApiManagement/service/apim-missing' under resource group 'rg-apim-dev' was not found.`,
    );
  });

  it("previews a create with the inputs alone and an update with the outputs that never change", () => {
    expect(provider.previewOutputs({ apiId: "orders", path: "x" })).toEqual({ apiId: "orders", path: "x" });
    expect(
      provider.previewOutputs({ apiId: "orders", path: "y" }, { name: "orders", gatewayUrl: "g", path: "x" }),
    ).toEqual({
      apiId: "orders",
      path: "y",
      name: "orders",
    });
  });
});

describe("connecting like the real provider", () => {
  const settings = {
    metadataHost: "127.0.0.1:8443",
    tenantId,
    clientId: "c11e0000-aaaa-4bbb-8ccc-00000000000d",
    clientSecret: "deployer-secret",
    subscriptionId,
  };

  it("takes azure-native config first, then the ARM_* environment, and names whatever is missing", () => {
    expect(
      providerSettings(
        { clientId: "from-config" },
        {
          ARM_CLIENT_ID: "from-env",
          ARM_METADATA_HOSTNAME: "h",
          ARM_TENANT_ID: "t",
          ARM_CLIENT_SECRET: "s",
          ARM_SUBSCRIPTION_ID: "u",
        },
      ),
    ).toEqual({
      metadataHost: "h",
      tenantId: "t",
      clientId: "from-config",
      clientSecret: "s",
      subscriptionId: "u",
    });
    expect(() => providerSettings({ clientSecret: secret("s") }, { ARM_TENANT_ID: "t" })).toThrow(
      "The local azure-native provider needs azure-native:metadataHost (or ARM_METADATA_HOSTNAME), azure-native:clientId (or ARM_CLIENT_ID), azure-native:subscriptionId (or ARM_SUBSCRIPTION_ID); it deploys only to a local tenant (npm run local sets them).",
    );
  });

  it("reads the metadata document, gets a client-credentials token for ARM's audience and calls ARM with it", async () => {
    const requests: { url: string; body?: string; authorization?: string }[] = [];
    const fakeFetch = (async (input: string | URL, init: RequestInit = {}) => {
      const url = String(input);
      const headers = new Headers(init.headers);
      requests.push({
        url,
        ...(init.body ? { body: String(init.body) } : {}),
        ...(headers.get("authorization") ? { authorization: headers.get("authorization") as string } : {}),
      });
      if (url.startsWith("https://127.0.0.1:8443/metadata/endpoints")) {
        return Response.json([
          {
            name: "Elsewhere",
            resourceManager: "https://management.example/",
            authentication: { loginEndpoint: "https://login.example", audiences: ["https://x/"] },
          },
          {
            name: "Local",
            resourceManager: "https://127.0.0.1:8443/",
            authentication: {
              loginEndpoint: "https://127.0.0.1:8443/",
              audiences: ["https://management.core.windows.net/"],
            },
          },
        ]);
      }
      if (url.endsWith("/oauth2/v2.0/token")) return Response.json({ access_token: "arm-token", expires_in: 3600 });
      return Response.json({ name: "rg" });
    }) as typeof fetch;
    const connection = await connect(settings, fakeFetch);
    expect(await connection.request("GET", "/subscriptions/x/resourceGroups/rg?api-version=2021-04-01")).toEqual({
      status: 200,
      body: { name: "rg" },
    });
    expect(requests).toEqual([
      { url: "https://127.0.0.1:8443/metadata/endpoints?api-version=2022-09-01" },
      {
        url: `https://127.0.0.1:8443/${tenantId}/oauth2/v2.0/token`,
        body: `grant_type=client_credentials&client_id=${settings.clientId}&client_secret=deployer-secret&scope=${encodeURIComponent("https://management.core.windows.net//.default")}`,
      },
      {
        url: "https://127.0.0.1:8443/subscriptions/x/resourceGroups/rg?api-version=2021-04-01",
        authorization: "Bearer arm-token",
      },
    ]);
    expect(armScope("https://management.core.windows.net/")).toBe("https://management.core.windows.net//.default");
  });
});
