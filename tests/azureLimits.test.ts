// Limits and behaviours Azure, Entra and APIM enforce, checked before anything is registered (issue 9). Under the
// mock engine these tests prove what the program refuses and what it asks for; they cannot prove that Azure
// enforces the cited limits exactly as documented, which only a real deployment shows.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { portalRiskWarning, portalServerDisplayName } from "../components/protectedApi";
import { projectDirectory, readOpenApiDocument } from "../config/openApi";
import { evaluateProgram } from "../tools/preview/mockEngine";
import { evaluate, guideApi, guideClient, guideConfig, ofType, only, refusalOf } from "./support/evaluate";

const T = {
  server: "azure-native:apimanagement:AuthorizationServer",
  api: "azure-native:apimanagement:Api",
  sp: "azuread:index/servicePrincipal:ServicePrincipal",
  role: "azuread:index/applicationAppRole:ApplicationAppRole",
  scope: "azuread:index/applicationPermissionScope:ApplicationPermissionScope",
  federated: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
  policy: "azure-native:apimanagement:ApiPolicy",
};
const github = "https://token.actions.githubusercontent.com";

/** Asserts the refusal holds exactly this problem line and that nothing was registered. */
async function expectRefused(config: Record<string, unknown>, line: string) {
  const refusal = await refusalOf(config);
  expect(refusal.message).toBe(`Invalid configuration for stack "test":\n  - ${line}`);
  expect(refusal.resources).toEqual([]);
}

const federatedClient = (credentials: Record<string, unknown>[]) => ({
  name: "pipeline",
  displayName: "Deploy Pipeline",
  credential: "federated",
  federatedCredentials: credentials,
  apis: ["orders"],
});
const withClients = (...clients: Record<string, unknown>[]) => guideConfig({ clients: [guideClient(), ...clients] });
const apimCreate = (changes: Record<string, unknown>) => ({
  resourceGroupName: "rg-apim-test",
  serviceName: "apim-test",
  create: {
    sku: "Developer",
    location: "westeurope",
    publisherName: "Contoso",
    publisherEmail: "api@contoso.example",
    ...changes,
  },
});

describe("the portal's authorization server name fits APIM's 50 characters", () => {
  it.each([
    ["a".repeat(39), `${"a".repeat(39)} (Entra ID)`],
    ["a".repeat(40), `${"a".repeat(38)}… (Entra ID)`],
    ["a".repeat(60), `${"a".repeat(38)}… (Entra ID)`],
    ["Orders and invoices API for the finance team", "Orders and invoices API for the financ… (Entra ID)"],
  ])("an API display name of %s", (apiName, expected) => {
    expect(portalServerDisplayName(apiName)).toBe(expected);
    expect(expected.length).toBeLessThanOrEqual(50);
  });

  it("is shortened in the input the plan shows, the API keeps its full name", async () => {
    const long = "a".repeat(60);
    const stack = await evaluate(
      guideConfig({ apis: [guideApi({ displayName: long, authorizationServer: { client: "reporting" } })] }),
    );
    expect(only(stack, T.server, "orders-authorization-server").inputs.displayName).toBe(
      `${"a".repeat(38)}… (Entra ID)`,
    );
    expect(only(stack, T.api, "orders-api").inputs.displayName).toBe(long);
  });
});

describe("graph consistency on first deploy", () => {
  it("creates the API's service principal only after its app role and scope exist", async () => {
    const stack = await evaluate(guideConfig());
    expect(only(stack, T.sp, "orders-sp").dependsOn).toEqual([
      only(stack, T.role, "orders-app-role").urn,
      only(stack, T.scope, "orders-scope").urn,
    ]);
  });
});

describe("the developer portal's client", () => {
  const portal = (changes: Record<string, unknown> = {}) =>
    guideApi({ authorizationServer: { client: "portal" }, ...changes });
  const portalClient = (changes: Record<string, unknown> = {}) =>
    guideClient({ name: "portal", displayName: "Orders portal", portal: true, ...changes });
  /** What a protected stack's portal needs: a web client with the portal's callback, on an API users sign in to. */
  const signsUsersIn = {
    kind: "web",
    redirectUris: ["https://apim-test.developer.azure-api.net/signin-oauth/code/callback/orders-entra"],
  };
  const forUsers = { callers: ["applications", "users"], assignedPrincipals: ["9f8e7d6c-aaaa-4bbb-8ccc-ddddeeeeffff"] };

  it("must be marked as the portal's on a protected stack", async () => {
    const apis = [guideApi({ ...forUsers, authorizationServer: { client: "reporting" } })];
    await expectRefused(
      { ...guideConfig({ apis, clients: [guideClient(signsUsersIn)] }), protect: true },
      `apim-entra-auth:apis[0] (orders).authorizationServer.client: "reporting" is not marked portal: true; with protect: true the developer portal needs a client of its own, because APIM holds its secret and the test console hands out its tokens without asking for credentials: add a client with portal: true, granted only "orders", and name it here.`,
    );
  });

  it.each([
    [
      "is granted nothing but its API",
      guideApi({ name: "invoices", path: "invoices" }),
      `apim-entra-auth:clients[1] (portal).apis[1]: "invoices" is not allowed; "portal" is the portal's client for "orders" and is used for nothing else: grant "invoices" to another client.`,
    ],
    [
      "is named by one API's server only",
      portal({ name: "invoices", path: "invoices" }),
      `apim-entra-auth:clients[1] (portal).portal: "portal" is named by the authorizationServer of "orders" and "invoices"; a portal client is used for nothing else, so give each API's portal a client of its own.`,
    ],
  ])("%s", async (_case, invoices, line) => {
    const config = guideConfig({
      apis: [portal(), invoices],
      clients: [guideClient(), portalClient({ apis: ["orders", "invoices"] })],
    });
    await expectRefused(config, line);
  });

  it("is named by some API's server when marked", async () => {
    await expectRefused(
      withClients(portalClient()),
      `apim-entra-auth:clients[1] (portal).portal: "portal" is marked as the portal's client, but no API's authorizationServer names it; name it there or remove portal: true.`,
    );
  });

  it("is accepted on a protected stack when dedicated and signing developers in", async () => {
    const stack = await evaluate({
      ...guideConfig({ apis: [portal(forUsers)], clients: [guideClient(), portalClient(signsUsersIn)] }),
      protect: true,
    });
    expect(only(stack, T.server, "orders-authorization-server").inputs.clientId).toBe("mock-portal-app-client-id");
  });

  it("comes with a preview warning about the test console, and none outside preview", async () => {
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const config = guideConfig({ apis: [guideApi({ authorizationServer: { client: "reporting" } })] });
      vi.resetModules();
      await evaluateProgram({ stack: "test", config, preview: true, importProgram: () => import("../index.js") });
      const expected = `warning: [runtime] ${portalRiskWarning("orders", "reporting")}`;
      expect(warnings.mock.calls.map((call) => String(call[0]))).toEqual([expected]);
      warnings.mockClear();
      await evaluate(config);
      expect(warnings).not.toHaveBeenCalled();
    } finally {
      warnings.mockRestore();
    }
  });

  it("gets no such warning when it signs developers in (a web client with authorization code)", async () => {
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const config = guideConfig({ apis: [portal(forUsers)], clients: [guideClient(), portalClient(signsUsersIn)] });
      vi.resetModules();
      await evaluateProgram({ stack: "test", config, preview: true, importProgram: () => import("../index.js") });
      expect(warnings).not.toHaveBeenCalled();
    } finally {
      warnings.mockRestore();
    }
  });
});

describe("federated credentials follow Entra's rules", () => {
  const credential = (changes: Record<string, unknown> = {}) => ({
    name: "main",
    issuer: github,
    subject: "repo:contoso/orders:ref:refs/heads/main",
    ...changes,
  });

  it.each([
    [
      "a two-character name",
      [credential({ name: "gh" })],
      `apim-entra-auth:clients[1] (pipeline).federatedCredentials[0].name: "gh" is not allowed (it has 2 characters); use 3–120 letters, digits, '-' or '_', starting with a letter or digit`,
    ],
    [
      "an issuer over 600 characters",
      [credential({ issuer: `https://issuer.example.com/${"a".repeat(600)}` })],
      `apim-entra-auth:clients[1] (pipeline).federatedCredentials[0].issuer: "https://issuer.example.com/${"a".repeat(600)}" is not allowed (it has 627 characters); use an issuer URL of at most 600 characters`,
    ],
    [
      "a subject with a trailing space",
      [credential({ subject: "repo:contoso/orders:environment:prod " })],
      `apim-entra-auth:clients[1] (pipeline).federatedCredentials[0].subject: "repo:contoso/orders:environment:prod " is not allowed; use the exact subject the issuer puts in its tokens (1–600 characters, no leading or trailing whitespace, no line breaks); wildcards are not supported`,
    ],
    [
      "a subject with a line break",
      [credential({ subject: "repo:contoso/orders\n:environment:prod" })],
      `apim-entra-auth:clients[1] (pipeline).federatedCredentials[0].subject: "repo:contoso/orders\\n:environment:prod" is not allowed; use the exact subject the issuer puts in its tokens (1–600 characters, no leading or trailing whitespace, no line breaks); wildcards are not supported`,
    ],
    [
      "one issuer and subject twice",
      [credential(), credential({ name: "main-again" })],
      `apim-entra-auth:clients[1] (pipeline).federatedCredentials[1]: issuer "${github}" and subject "repo:contoso/orders:ref:refs/heads/main" are already used by federatedCredentials[0]; Entra allows each issuer and subject pair once per app: remove one.`,
    ],
  ])("refuses %s", async (_case, credentials, line) => {
    await expectRefused(withClients(federatedClient(credentials)), line);
  });

  it("accepts a three-character name", async () => {
    const stack = await evaluate(withClients(federatedClient([credential({ name: "gha" })])));
    expect(ofType(stack, T.federated).map((resource) => resource.inputs.displayName)).toEqual(["gha"]);
  });

  it.each([
    ["https://login.microsoftonline.com", "api://AzureADTokenExchange"],
    ["https://login.microsoftonline.us", "api://AzureADTokenExchangeUSGov"],
    ["https://login.chinacloudapi.cn", "api://AzureADTokenExchangeChina"],
  ])("at %s expect the audience %s", async (authorityHost, audience) => {
    const stack = await evaluate({ ...withClients(federatedClient([credential()])), authorityHost });
    expect(only(stack, T.federated, "pipeline-federated-main").inputs.audiences).toEqual([audience]);
  });
});

describe("creating the APIM service", () => {
  it.each([
    [
      { publisherName: "p".repeat(101) },
      `apim-entra-auth:apim.create.publisherName: "${"p".repeat(101)}" is not allowed (it has 101 characters); use 1–100 characters without control characters`,
    ],
    [
      { publisherEmail: `${"a".repeat(89)}@contoso.com` },
      `apim-entra-auth:apim.create.publisherEmail: "${"a".repeat(89)}@contoso.com" is not allowed (it has 101 characters); use an e-mail address of at most 100 characters`,
    ],
    [
      { publisherEmail: "api team" },
      `apim-entra-auth:apim.create.publisherEmail: "api team" is not allowed; use an e-mail address of at most 100 characters`,
    ],
  ])("refuses %j", async (changes, line) => {
    await expectRefused(guideConfig({ apim: apimCreate(changes) }), line);
  });

  it("accepts a publisher name and e-mail of exactly 100 characters", async () => {
    const email = `${"a".repeat(88)}@contoso.com`;
    const stack = await evaluate(
      guideConfig({ apim: apimCreate({ publisherName: "p".repeat(100), publisherEmail: email }) }),
    );
    expect(ofType(stack, "azure-native:apimanagement:ApiManagementService")[0]?.inputs.publisherEmail).toBe(email);
  });
});

describe("Entra's limits per app", () => {
  it("refuses a client granted more than 50 APIs", async () => {
    const names = Array.from({ length: 51 }, (_, index) => `api${index}`);
    const apis = names.map((name) => guideApi({ name, path: name }));
    const refusal = await refusalOf(guideConfig({ apis, clients: [guideClient({ apis: names })] }));
    expect(refusal.message).toBe(
      `Invalid configuration for stack "test":\n  - apim-entra-auth:clients[0] (reporting).apis: 51 entries is not allowed; grant at most 50 APIs per client (Entra's limit of resource apps per app).`,
    );
    expect(refusal.resources).toEqual([]);
  });
});

describe("the OpenAPI import format comes from the document's content", () => {
  it.each([
    ["tests/fixtures/orders.swagger.json", "swagger-json"],
    ["tests/fixtures/orders.openapi.json", "openapi+json"],
    ["tests/fixtures/orders.openapi.yaml", "openapi"],
  ])("%s is imported as %s", async (file, format) => {
    const stack = await evaluate(guideConfig({ apis: [guideApi({ openApiFile: file })] }));
    expect(only(stack, T.api, "orders-api").inputs.format).toBe(format);
  });

  it.each([
    [
      "tests/fixtures/orders.swagger.yaml",
      `"tests/fixtures/orders.swagger.yaml" is a Swagger 2.0 document in YAML, which APIM cannot import inline; convert it to JSON (imported as swagger-json) or to OpenAPI 3.`,
    ],
    [
      "tests/fixtures/not-openapi.json",
      `"tests/fixtures/not-openapi.json" is neither an OpenAPI 3.x document (openapi: "3.x") nor a Swagger 2.0 document (swagger: "2.0"); give an OpenAPI description of the API.`,
    ],
  ])("%s is refused", async (file, problem) => {
    await expectRefused(
      guideConfig({ apis: [guideApi({ openApiFile: file })] }),
      `apim-entra-auth:apis[0] (orders).openApiFile: ${problem}`,
    );
  });

  it("resolves the path against the project directory, not the working directory", () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "cwd-"));
    const before = process.cwd();
    process.chdir(elsewhere);
    try {
      const reading = readOpenApiDocument("tests/fixtures/orders.openapi.yaml");
      expect(reading).toEqual({
        document: {
          format: "openapi",
          value: fs.readFileSync(path.join(projectDirectory, "tests/fixtures/orders.openapi.yaml"), "utf8"),
        },
      });
    } finally {
      process.chdir(before);
    }
    expect(fs.existsSync(path.join(projectDirectory, "Pulumi.yaml"))).toBe(true);
  });
});

describe("dates are real calendar dates", () => {
  it.each(["2026-02-29", "2026-04-31"])("%s is refused, not rolled over", async (date) => {
    await expectRefused(
      guideConfig({ clients: [guideClient({ secretRotatedOn: date })] }),
      `apim-entra-auth:clients[0] (reporting).secretRotatedOn: "${date}" is not allowed; use a calendar date in the form YYYY-MM-DD (a day that exists)`,
    );
  });
});

describe("APIM API limits", () => {
  it("refuses a path over 400 characters", async () => {
    const long = `orders/${"a".repeat(394)}`;
    await expectRefused(
      guideConfig({ apis: [guideApi({ path: long })] }),
      `apim-entra-auth:apis[0] (orders).path: "${long}" is not allowed (it has 401 characters); use a URL path of 1–400 characters without a leading or trailing slash, of letters, digits, '.', '_', '~', '-' and '/'`,
    );
  });

  it("refuses a backend URL over 2000 characters", async () => {
    const long = `https://orders.example.com/${"a".repeat(1974)}`;
    await expectRefused(
      guideConfig({ apis: [guideApi({ backendUrl: long })] }),
      `apim-entra-auth:apis[0] (orders).backendUrl: "${long}" is not allowed (it has 2001 characters); use an absolute http(s):// URL without credentials, at most 2000 characters`,
    );
  });
});

describe("the policy output", () => {
  afterEach(() => vi.resetModules());

  // The shared mock engine echoes inputs, which cannot tell the rendered XML from APIM's copy; this mock answers
  // the way APIM does (CRLF and tabs, azure-rest-api-specs #25306), so exporting the response would fail here.
  it("is the rendered XML byte for byte, not APIM's re-formatted copy", async () => {
    vi.resetModules();
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          const state = { ...args.inputs };
          if (args.type === T.policy)
            state.value = String(args.inputs.value).replace(/\n/g, "\r\n").replace(/ {2}/g, "\t");
          return { id: `${args.name}-id`, state };
        },
        call: () => ({}),
      },
      "apim-entra-auth",
      "test",
      false,
    );
    const { ProtectedApi } = await import("../components/protectedApi.js");
    const rendered = "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n";
    const api = new ProtectedApi("orders", {
      resourceGroupName: "rg",
      serviceName: "apim",
      displayName: "Orders",
      path: "orders",
      backendUrl: "https://orders.example.com",
      policyXml: rendered,
    });
    const exported = await new Promise<string>((resolve) => api.policyXml.apply(resolve));
    expect(exported).toBe(rendered);
  });
});
