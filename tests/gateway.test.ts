// Under Pulumi's mock engine: exact inputs of the APIM resources and the wiring between them. What this cannot
// prove: that APIM accepts the XML or enforces it as documented — the loopback end-to-end tests enforce the
// rendered policy with an evaluator built from APIM's documentation, and only a real gateway settles it.
import * as fs from "node:fs";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { evaluate, guideApi, guideConfig, ofType, only } from "./support/evaluate";

const T = {
  service: "azure-native:apimanagement:ApiManagementService",
  api: "azure-native:apimanagement:Api",
  operation: "azure-native:apimanagement:ApiOperation",
  policy: "azure-native:apimanagement:ApiPolicy",
  server: "azure-native:apimanagement:AuthorizationServer",
};
const tenant = "11111111-2222-3333-4444-555555555555";
const urnOf = (name: string, type: string) =>
  `urn:pulumi:test::apim-entra-auth::apim-entra-auth:index:EntraProtectedApis$apim-entra-auth:gateway:ProtectedApi$${type}::${name}`;

type Claim = { "@_name": string; "@_match": string; value: string | string[] };
/** Reads the token check of a rendered policy the way a reviewer would: element by element. */
function tokenCheckOf(policyXml: string) {
  const parser = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === "claim" });
  const inbound = parser.parse(policyXml).policies.inbound;
  return { jwt: inbound["validate-jwt"], aad: inbound["validate-azure-ad-token"] };
}

describe("the APIM API", () => {
  it("is https-only, needs no subscription key and forwards to the backend", async () => {
    const stack = await evaluate(guideConfig());
    expect(only(stack, T.api, "orders-api").inputs).toEqual({
      resourceGroupName: "rg-apim-test",
      serviceName: "apim-test",
      apiId: "orders",
      displayName: "My-APIM-API",
      path: "orders",
      serviceUrl: "https://orders.test.example.com",
      protocols: ["https"],
      subscriptionRequired: false,
    });
  });

  it("gets catch-all GET, POST, PUT, PATCH and DELETE operations on /* without an OpenAPI file", async () => {
    const stack = await evaluate(guideConfig());
    const operations = ofType(stack, T.operation);
    expect(operations.map((op) => [op.inputs.method, op.inputs.urlTemplate, op.inputs.apiId])).toEqual([
      ["GET", "/*", "orders"],
      ["POST", "/*", "orders"],
      ["PUT", "/*", "orders"],
      ["PATCH", "/*", "orders"],
      ["DELETE", "/*", "orders"],
    ]);
    for (const op of operations) expect(op.inputSources.apiId).toEqual([urnOf("orders-api", T.api)]);
  });

  it.each([
    ["tests/fixtures/orders.openapi.yaml", "openapi"],
    ["tests/fixtures/orders.openapi.json", "openapi+json"],
  ])("imports operations from %s as %s instead", async (file, format) => {
    const stack = await evaluate(guideConfig({ apis: [guideApi({ openApiFile: file })] }));
    const api = only(stack, T.api, "orders-api").inputs;
    expect(api.format).toBe(format);
    expect(api.value).toBe(fs.readFileSync(file, "utf8"));
    expect(ofType(stack, T.operation)).toEqual([]);
  });

  it("stops on an OpenAPI file that does not exist", async () => {
    const failure = (await evaluate(guideConfig({ apis: [guideApi({ openApiFile: "missing.yaml" })] })).catch(
      (e: unknown) => e,
    )) as { message: string; resources: unknown[] };
    expect(failure.message).toContain(`apim-entra-auth:apis[0] (orders).openApiFile: "missing.yaml" does not exist`);
    expect(failure.resources).toEqual([]);
  });
});

describe("the API policy", () => {
  it("is applied as raw XML under the id 'policy', after the API exists", async () => {
    const stack = await evaluate(guideConfig());
    const policy = only(stack, T.policy, "orders-policy");
    expect(policy.inputs).toMatchObject({
      resourceGroupName: "rg-apim-test",
      serviceName: "apim-test",
      apiId: "orders",
      policyId: "policy",
      format: "rawxml",
    });
    expect(policy.inputSources.apiId).toEqual([urnOf("orders-api", T.api)]);
    expect(policy.inputs.value).toBe((stack.outputs.apis as Record<string, { policy: string }>).orders?.policy);
  });

  // Expected values are domain.md's table, written out.
  it.each([
    [
      2,
      "mock-orders-app-client-id",
      `https://login.microsoftonline.com/${tenant}/v2.0`,
      `https://login.microsoftonline.com/${tenant}/v2.0/.well-known/openid-configuration`,
    ],
    [
      1,
      "api://mock-orders-app-client-id",
      `https://sts.windows.net/${tenant}/`,
      `https://login.microsoftonline.com/${tenant}/.well-known/openid-configuration`,
    ],
  ])(
    "for token version %i checks audience %s, issuer %s, keys from %s and the role",
    async (version, aud, iss, url) => {
      const stack = await evaluate(guideConfig({ apis: [guideApi({ tokenVersion: version })] }));
      const { jwt } = tokenCheckOf(only(stack, T.policy, "orders-policy").inputs.value as string);
      expect(jwt["@_header-name"]).toBe("Authorization");
      expect(jwt["@_require-scheme"]).toBe("Bearer");
      expect(jwt["@_failed-validation-httpcode"]).toBe("401");
      expect(jwt["@_require-signed-tokens"]).toBe("true");
      expect(jwt["@_require-expiration-time"]).toBe("true");
      expect(jwt["@_clock-skew"]).toBe("60");
      expect(jwt["openid-config"]["@_url"]).toBe(url);
      expect(jwt.audiences.audience).toBe(aud);
      expect(jwt.issuers.issuer).toBe(iss);
      expect(jwt["required-claims"].claim).toEqual([{ "@_name": "roles", "@_match": "any", value: "access_as_app" }]);
    },
  );

  it("adds an allow-list of calling client ids on azp, from client names and GUIDs", async () => {
    const other = "0f0f0f0f-1111-2222-3333-444444444444";
    const stack = await evaluate(guideConfig({ apis: [guideApi({ allowedClients: ["reporting", other] })] }));
    const { jwt } = tokenCheckOf(only(stack, T.policy, "orders-policy").inputs.value as string);
    const azp = (jwt["required-claims"].claim as Claim[]).find((claim) => claim["@_name"] === "azp");
    expect(azp).toEqual({ "@_name": "azp", "@_match": "any", value: [other, "mock-reporting-app-client-id"] });
  });

  it("renders validate-azure-ad-token for the granted clients when configured", async () => {
    const stack = await evaluate(guideConfig({ apis: [guideApi({ validation: "validate-azure-ad-token" })] }));
    const { jwt, aad } = tokenCheckOf(only(stack, T.policy, "orders-policy").inputs.value as string);
    expect(jwt).toBeUndefined();
    expect(aad["@_tenant-id"]).toBe(tenant);
    expect(aad["client-application-ids"]["application-id"]).toBe("mock-reporting-app-client-id");
    expect(aad.audiences.audience).toBe("mock-orders-app-client-id");
    expect(aad["required-claims"].claim).toEqual([{ "@_name": "roles", "@_match": "any", value: "access_as_app" }]);
  });

  it("contains no secret", async () => {
    const stack = await evaluate(guideConfig({ apis: [guideApi({ authorizationServer: { client: "reporting" } })] }));
    expect(only(stack, T.policy, "orders-policy").inputs.value).not.toContain("mock-reporting-secret-2026-11-23-value");
  });
});

describe("the OAuth 2.0 authorization server (developer portal)", () => {
  const withPortal = () => guideConfig({ apis: [guideApi({ authorizationServer: { client: "reporting" } })] });

  it("uses client credentials at the v2.0 token endpoint with the API's .default scope and body authentication", async () => {
    const stack = await evaluate(withPortal());
    const server = only(stack, T.server, "orders-authorization-server");
    expect(server.inputs).toEqual({
      resourceGroupName: "rg-apim-test",
      serviceName: "apim-test",
      authsid: "orders-entra",
      displayName: "My-APIM-API (Entra ID)",
      grantTypes: ["clientCredentials"],
      authorizationEndpoint: `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/authorize`,
      tokenEndpoint: `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`,
      clientRegistrationEndpoint: "http://localhost",
      defaultScope: "api://mock-orders-app-client-id/.default",
      clientId: "mock-reporting-app-client-id",
      clientSecret: "mock-reporting-secret-2026-11-23-value",
      clientAuthenticationMethod: ["Body"],
      bearerTokenSendingMethods: ["authorizationHeader"],
      useInTestConsole: true,
      useInApiDocumentation: true,
    });
    expect(server.secretInputs).toEqual(["clientSecret"]);
  });

  it("is linked from the API by its name", async () => {
    const stack = await evaluate(withPortal());
    const api = only(stack, T.api, "orders-api");
    expect(api.inputs.authenticationSettings).toEqual({
      oAuth2AuthenticationSettings: [{ authorizationServerId: "orders-entra" }],
    });
    expect(api.inputSources.authenticationSettings).toEqual([urnOf("orders-authorization-server", T.server)]);
  });

  it("is not made when turned off", async () => {
    const stack = await evaluate(
      guideConfig({ apis: [guideApi({ authorizationServer: { enabled: false, client: "reporting" } })] }),
    );
    expect(ofType(stack, T.server)).toEqual([]);
    expect(only(stack, T.api, "orders-api").inputs.authenticationSettings).toBeUndefined();
  });

  it("stops before anything is registered when the existing service is on the Consumption tier", async () => {
    const failure = (await evaluate(withPortal(), "test", {
      "azure-native:apimanagement:getApiManagementService": {
        gatewayUrl: "https://apim-test.azure-api.net",
        sku: { name: "Consumption", capacity: 0 },
      },
    }).catch((e: unknown) => e)) as { message: string; resources: unknown[] };
    expect(failure.message).toContain(
      "apim-entra-auth:apis[0] (orders).authorizationServer: the Consumption tier has no developer portal, so it has no OAuth 2.0 authorization servers (the existing service apim-test is on it); set enabled: false.",
    );
    expect(failure.resources).toEqual([]);
  });
});

describe("the APIM service", () => {
  it("is looked up, not created, by default", async () => {
    const stack = await evaluate(guideConfig());
    expect(ofType(stack, T.service)).toEqual([]);
    expect(stack.outputs.gatewayUrl).toBe("https://apim-test.azure-api.net");
  });

  it("is asked for once per run: the component reuses the answer the program awaited before registering", async () => {
    let lookups = 0;
    const answers = {
      get "azure-native:apimanagement:getApiManagementService"() {
        lookups += 1;
        return { gatewayUrl: "https://apim-counted.azure-api.net", sku: { name: "Developer", capacity: 1 } };
      },
    };
    const stack = await evaluate(guideConfig(), "test", answers);
    expect(lookups).toBe(1);
    expect(stack.outputs.gatewayUrl).toBe("https://apim-counted.azure-api.net");
  });

  it.each([
    ["Developer", undefined, 1],
    ["Consumption", undefined, 0],
    ["Premium", 2, 2],
  ])("is created as %s (capacity %s → %i) with timeouts for a long create", async (sku, capacity, expected) => {
    const create = {
      sku,
      location: "westeurope",
      publisherName: "Contoso",
      publisherEmail: "api@contoso.example",
      ...(capacity === undefined ? {} : { capacity }),
    };
    const stack = await evaluate(
      guideConfig({ apim: { resourceGroupName: "rg-apim-test", serviceName: "apim-test", create } }),
    );
    const service = only(stack, T.service, "apim-test");
    expect(service.inputs).toMatchObject({
      resourceGroupName: "rg-apim-test",
      serviceName: "apim-test",
      location: "westeurope",
      publisherName: "Contoso",
      publisherEmail: "api@contoso.example",
    });
    expect(service.inputs.sku).toEqual({ name: sku, capacity: expected });
    expect(service.customTimeouts?.create).toBe("120m");
    expect(stack.outputs.gatewayUrl).toBe("https://apim-test.azure-api.net");
  });
});

describe("outputs", () => {
  it("give the gateway and API URLs and the guide's commands with placeholders instead of the secret", async () => {
    const stack = await evaluate(guideConfig());
    const orders = (stack.outputs.apis as Record<string, Record<string, unknown>>).orders;
    expect(orders?.url).toBe("https://apim-test.azure-api.net/orders");
    expect(orders?.tokenRequest).toBe(
      `curl -sS -X POST 'https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token' -d grant_type=client_credentials -d client_id="$CLIENT_ID" --data-urlencode client_secret="$CLIENT_SECRET" --data-urlencode scope='api://mock-orders-app-client-id/.default'`,
    );
    expect(orders?.apiCall).toBe(
      `curl -sS -i 'https://apim-test.azure-api.net/orders/' -H "Authorization: Bearer $ACCESS_TOKEN"`,
    );
    expect(JSON.stringify(stack.outputs.apis)).not.toContain("mock-reporting-secret-2026-11-23-value");
  });

  it("keep the secret out of every API output even with the portal configured", async () => {
    const stack = await evaluate(guideConfig({ apis: [guideApi({ authorizationServer: { client: "reporting" } })] }));
    expect(ofType(stack, T.server)).toHaveLength(1);
    expect(stack.secretOutputPaths).toEqual(["clients.reporting.clientSecret"]);
    expect(JSON.stringify(stack.outputs.apis)).not.toContain("mock-reporting-secret-2026-11-23-value");
  });
});
