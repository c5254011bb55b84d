// Managed identities as clients (issue 21). Under Pulumi's mock engine these tests prove what the program asks Azure
// and Entra for (exact inputs of the identity and its one app role assignment, nothing of an app registration) and
// what it refuses before anything is registered; signed tokens shaped as Entra's (entra/tokenProfile.ts appOnlyClaims)
// prove that the rendered policy, explain and the allow-list judge a managed identity's token as an app-only client's.
// What they cannot prove: that Azure creates the identity's service principal as documented, that its host's token
// endpoint issues such a token, or the replication and caching delays before a new grant shows in its roles.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assignedBy, notManagedIdentityProblem } from "../components/managedIdentityClient";
import { stableId } from "../entra/stableIds";
import { appOnlyClaims, managedIdentityRequest, tokenProfile, type TokenVersion } from "../entra/tokenProfile";
import { readTokenCheck } from "../policies/readTokenCheck";
import { runExplain } from "../tools/explain";
import { evaluateToken } from "../tools/gateway/evaluateToken";
import { runSmoke } from "../tools/smoke";
import { runToken, type TokenIo } from "../tools/token";
import type { MockEvaluation } from "../tools/preview/mockEngine";
import { diffPlans, formatPlanDiff } from "../tools/preview/planDiff";
import { planData } from "../tools/preview/planReport";
import { evaluate, guideApi, guideClient, guideConfig, ofType, only, refusalOf } from "./support/evaluate";

const T = {
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  assignment: "azuread:index/appRoleAssignment:AppRoleAssignment",
  app: "azuread:index/applicationRegistration:ApplicationRegistration",
  sp: "azuread:index/servicePrincipal:ServicePrincipal",
  password: "azuread:index/applicationPassword:ApplicationPassword",
  federated: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
  apiAccess: "azuread:index/applicationApiAccess:ApplicationApiAccess",
  getServicePrincipal: "azuread:index/getServicePrincipal:getServicePrincipal",
};
const tenantId = guideConfig().tenantId as string;
const sitePrincipal = "0f0f0f0f-1111-4222-8333-444444444444";

/** A user-assigned identity the program creates, granted orders. */
const worker = (changes: Record<string, unknown> = {}) => ({
  name: "worker",
  displayName: "Orders worker",
  kind: "managedIdentity",
  identity: { resourceGroupName: "rg-workers", location: "westeurope" },
  apis: ["orders"],
  ...changes,
});
/** An App Service's system-assigned identity, named by its service principal's object id, granted orders. */
const site = (changes: Record<string, unknown> = {}) => ({
  name: "site",
  displayName: "Orders site",
  kind: "managedIdentity",
  principalId: sitePrincipal,
  apis: ["orders"],
  ...changes,
});
const withIdentities = (apiChanges: Record<string, unknown> = {}, ...clients: Record<string, unknown>[]) =>
  guideConfig({ apis: [guideApi(apiChanges)], clients: clients.length > 0 ? clients : [worker(), site()] });

const clientsOf = (stack: MockEvaluation) => stack.outputs.clients as Record<string, Record<string, unknown>>;

describe("a managed identity granted an API, under the mock engine", () => {
  it("creates the user-assigned identity in the given group and region, named after the client and the suffix", async () => {
    const stack = await evaluate(withIdentities());
    expect(ofType(stack, T.identity).map((identity) => [identity.name, identity.inputs])).toEqual([
      ["worker-identity", { resourceName: "worker-test", resourceGroupName: "rg-workers", location: "westeurope" }],
    ]);
  });

  it("grants each identity the API's app role: one assignment from its principal to the API's service principal", async () => {
    const stack = await evaluate(withIdentities());
    expect(only(stack, T.assignment, "worker--orders-admin-consent").inputs).toEqual({
      appRoleId: stableId("orders", "app-role"),
      principalObjectId: "mock-worker-identity-principal-id",
      resourceObjectId: "mock-orders-sp-object-id",
    });
    expect(only(stack, T.assignment, "site--orders-admin-consent").inputs).toEqual({
      appRoleId: stableId("orders", "app-role"),
      principalObjectId: sitePrincipal,
      resourceObjectId: "mock-orders-sp-object-id",
    });
    expect(only(stack, T.assignment, "worker--orders-admin-consent").inputSources.principalObjectId).toEqual([
      only(stack, T.identity, "worker-identity").urn,
    ]);
  });

  it("registers no app registration, service principal, credential or permission list for an identity", async () => {
    const stack = await evaluate(withIdentities());
    // The API's own registration and principal only: an identity's principal is Azure's, not the program's.
    expect(ofType(stack, T.app).map((resource) => resource.name)).toEqual(["orders-app"]);
    expect(ofType(stack, T.sp).map((resource) => resource.name)).toEqual(["orders-sp"]);
    for (const type of [T.password, T.federated, T.apiAccess]) expect(ofType(stack, type)).toEqual([]);
    expect(ofType(stack, T.assignment)).toHaveLength(2);
    expect(stack.secretOutputPaths).toEqual([]);
  });

  it("looks an existing identity up once, by its principal's object id", async () => {
    const stack = await evaluate(withIdentities());
    expect(stack.invokes.filter((invoke) => invoke.token === T.getServicePrincipal)).toEqual([
      { token: T.getServicePrincipal, inputs: { objectId: sitePrincipal } },
    ]);
  });

  it("exports the client id, the scope and resource per API, and the DefaultAzureCredential example; no secret", async () => {
    const stack = await evaluate(withIdentities());
    const clients = clientsOf(stack);
    expect(clients.worker).toEqual({
      clientId: "mock-worker-identity-client-id",
      tenantId,
      credential: "none",
      kind: "managedIdentity",
      scopes: { orders: "api://mock-orders-app-client-id/.default" },
      resources: { orders: "api://mock-orders-app-client-id" },
      examples: {
        orders: [
          'const credential = new DefaultAzureCredential({ managedIdentityClientId: "mock-worker-identity-client-id" });',
          'const { token } = await credential.getToken("api://mock-orders-app-client-id/.default");',
        ].join("\n"),
      },
      principalId: "mock-worker-identity-principal-id",
      identityResourceId:
        "/subscriptions/mock-subscription-id/resourceGroups/rg-workers/providers/Microsoft.ManagedIdentity/userAssignedIdentities/worker-test",
      secrets: [],
    });
    // A system-assigned identity is its host's default one: no managedIdentityClientId.
    expect(clients.site).toMatchObject({
      clientId: `mock-identity-${sitePrincipal}-client-id`,
      principalId: sitePrincipal,
      examples: {
        orders: [
          "const credential = new DefaultAzureCredential();",
          'const { token } = await credential.getToken("api://mock-orders-app-client-id/.default");',
        ].join("\n"),
      },
    });
    expect(clients.site).not.toHaveProperty("identityResourceId");
    expect(clients.site).not.toHaveProperty("tokenEndpoint");
  });

  it("puts an identity's client id in the allow-list of validate-jwt and validate-azure-ad-token alike", async () => {
    const allowed = await evaluate(withIdentities({ allowedClients: ["worker", "site"] }));
    const jwt = readTokenCheck(String((allowed.outputs.apis as Record<string, { policy: string }>).orders?.policy));
    expect(jwt.kind === "validate-jwt" && jwt.requiredClaims).toContainEqual(
      expect.objectContaining({
        name: "azp",
        values: [`mock-identity-${sitePrincipal}-client-id`, "mock-worker-identity-client-id"],
      }),
    );
    const azureAd = await evaluate(withIdentities({ validation: "validate-azure-ad-token" }));
    const check = readTokenCheck(String((azureAd.outputs.apis as Record<string, { policy: string }>).orders?.policy));
    expect(check.kind === "validate-azure-ad-token" && check.clientApplicationIds).toEqual([
      `mock-identity-${sitePrincipal}-client-id`,
      "mock-worker-identity-client-id",
    ]);
  });

  it("keeps a renamed identity: its Azure name stays the first name's, its component the old URN", async () => {
    const stack = await evaluate(withIdentities({}, worker({ name: "fulfilment", formerNames: ["worker"] })));
    const identity = only(stack, T.identity, "fulfilment-identity");
    expect(identity.inputs.resourceName).toBe("worker-test");
    expect(identity.aliasUrns).toContain(
      "urn:pulumi:test::apim-entra-auth::apim-entra-auth:index:EntraProtectedApis$apim-entra-auth:identity:ManagedIdentityClient$azure-native:managedidentity:UserAssignedIdentity::worker-identity",
    );
  });

  it("protects a created identity with protect: true, never its grant", async () => {
    const stack = await evaluate({ ...withIdentities(), protect: true });
    expect(only(stack, T.identity, "worker-identity").protect).toBe(true);
    expect(only(stack, T.assignment, "worker--orders-admin-consent").protect).toBe(false);
  });

  // The grant's principal is the looked-up one only once it is a managed identity's; the engine then stops the
  // deployment with this message (the mock engine cannot show the stop itself, only the message it would give).
  it.each([
    [
      "Application",
      `ManagedIdentityClient "site": principalId ${sitePrincipal} is the service principal of Reporting (type Application), not of a managed identity; give the object (principal) id shown on the resource's Identity blade, or use a daemon client for an app registration.`,
    ],
    ["ManagedIdentity", undefined],
  ])("judges a looked-up principal of type %s", (type, problem) => {
    expect(notManagedIdentityProblem("site", sitePrincipal, { displayName: "Reporting", type })).toBe(problem);
  });

  it.each([
    [
      [
        "isExplicit=True",
        "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/w",
      ],
      "user",
    ],
    [["isExplicit=False", "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Web/sites/orders"], "system"],
    [[], "system"],
  ])("tells who assigned an identity from its alternative names %j", (names, expected) => {
    expect(assignedBy(names)).toBe(expected);
  });
});

describe("refused before anything is registered", () => {
  const key = (index: number, name: string) => `apim-entra-auth:clients[${index}] (${name})`;
  async function expectRefused(config: Record<string, unknown>, lines: string[]) {
    const refusal = await refusalOf(config);
    expect(refusal.message).toBe(`Invalid configuration for stack "test":\n${lines.map((l) => `  - ${l}`).join("\n")}`);
    expect(refusal.resources).toEqual([]);
  }
  const registrationKey = (field: string) =>
    `${key(0, "worker")}.${field}: is not allowed for a managed identity: Azure holds its credential and it has no app registration (no secret, federated credential, redirect URI, portal role or registration to adopt); remove it.`;

  it.each([
    [
      "an API that accepts only users",
      withIdentities({ callers: ["users"] }, worker()),
      [
        `${key(0, "worker")}.apis[0]: "orders" accepts only signed-in users (apim-entra-auth:apis[0] (orders).callers is ["users"]), and a managed identity's token is an application's, with no user; add "applications" to the API's callers or grant the API to a web, spa or native client.`,
      ],
    ],
    [
      "both identity and principalId",
      withIdentities({}, worker({ principalId: sitePrincipal })),
      [
        `${key(0, "worker")}.principalId: is given together with identity; a managed identity is either created by the program (identity: { resourceGroupName, location }) or an existing one named by its service principal's object id (principalId): remove one.`,
      ],
    ],
    [
      "neither identity nor principalId",
      withIdentities({}, worker({ identity: undefined })),
      [
        `${key(0, "worker")}.identity: is required with kind "managedIdentity": { resourceGroupName, location } to create a user-assigned identity, or give principalId, the object id of an existing identity's service principal (e.g. an App Service's system-assigned identity).`,
      ],
    ],
    ["a credential", withIdentities({}, worker({ credential: "secret" })), [registrationKey("credential")]],
    ["a secret", withIdentities({}, worker({ secretRotatedOn: "2026-11-23" })), [registrationKey("secretRotatedOn")]],
    [
      "federated credentials",
      withIdentities(
        {},
        worker({ federatedCredentials: [{ name: "github", issuer: "https://token.example", subject: "repo:a/b" }] }),
      ),
      [registrationKey("federatedCredentials")],
    ],
    [
      "redirect URIs",
      withIdentities({}, worker({ redirectUris: ["https://orders.example.com/signin-oidc"] })),
      [registrationKey("redirectUris")],
    ],
    [
      "identity on a daemon",
      guideConfig({ clients: [guideClient({ identity: { resourceGroupName: "rg", location: "westeurope" } })] }),
      [
        `${key(0, "reporting")}.identity: only applies to kind "managedIdentity" (this client is a daemon); remove it or set kind: managedIdentity.`,
      ],
    ],
    [
      "one principal named by two clients",
      withIdentities({}, site(), site({ name: "site-again" })),
      [
        `apim-entra-auth:clients[1] (site-again).principalId: "${sitePrincipal}" is already the identity of apim-entra-auth:clients[0] (site); Entra holds one app role assignment per principal and role, so name each identity once.`,
      ],
    ],
    [
      "an identity name under Azure's 3 characters",
      { ...withIdentities({}, worker({ name: "w" })), nameSuffix: "" },
      [
        `apim-entra-auth:clients[0].name: "w" would name the user-assigned identity "w" (its first name and the nameSuffix), which Azure refuses: identity names take 3–128 letters, digits, '-' or '_': use a longer client name or a nameSuffix.`,
      ],
    ],
  ])("%s", async (_case, config, lines) => {
    await expectRefused(config, lines);
  });

  it.each([
    [
      "a malformed object id",
      site({ principalId: "0f0f0f0f-1111-4222-8333" }),
      `${key(0, "site")}.principalId: "0f0f0f0f-1111-4222-8333" is not allowed; use the object id (GUID) of the managed identity's service principal (portal: the resource's Identity blade, Object (principal) ID)`,
    ],
    [
      "a region's display name",
      worker({ identity: { resourceGroupName: "rg-workers", location: "West Europe" } }),
      `${key(0, "worker")}.identity.location: "West Europe" is not allowed; use an Azure region's name, lowercase letters and digits such as westeurope (not its display name)`,
    ],
    [
      "a resource group ending with a period",
      worker({ identity: { resourceGroupName: "rg-workers.", location: "westeurope" } }),
      `${key(0, "worker")}.identity.resourceGroupName: "rg-workers." is not allowed; use 1–90 letters, digits, '-', '_', '.', '(' or ')', not ending with '.'`,
    ],
  ])("%s", async (_case, client, line) => {
    await expectRefused(withIdentities({}, client), [line]);
  });

  it("accepts a one-character resource group, which Azure allows", async () => {
    const stack = await evaluate(
      withIdentities({}, worker({ identity: { resourceGroupName: "r", location: "eastus2" } })),
    );
    expect(only(stack, T.identity, "worker-identity").inputs.resourceGroupName).toBe("r");
  });
});

describe("a managed identity's token at the gateway, per token version", () => {
  const now = new Date("2026-11-30T12:00:00Z");
  const seconds = now.getTime() / 1000;
  let sign: (claims: JWTPayload) => Promise<string>;
  let jwk: JWK;
  let dir: string;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    jwk = { ...(await exportJWK(publicKey)), kid: "k1", use: "sig" };
    sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: "k1" }).sign(privateKey);
    dir = await mkdtemp(join(tmpdir(), "managed-identity-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The token Entra issues the identity for the API, as entra/tokenProfile.ts describes it, signed with the test key. */
  async function identityToken(
    version: TokenVersion,
    caller: { clientId: string; principalId: string; roles: string[] },
  ) {
    const profile = tokenProfile({
      authorityHost: "https://login.microsoftonline.com",
      tenantId,
      apiClientId: "mock-orders-app-client-id",
      tokenVersion: version,
    });
    const { clientIdClaim, clientId, ...claims } = appOnlyClaims(profile, caller);
    return sign({
      ...claims,
      [clientIdClaim]: clientId,
      sub: caller.principalId,
      tid: tenantId,
      iat: seconds - 60,
      nbf: seconds - 60,
      exp: seconds + 3600,
    });
  }

  it.each([1, 2] as const)("v%i: asks for the identifier URI, and carries the client id in appid or azp", (version) => {
    const profile = tokenProfile({
      authorityHost: "https://login.microsoftonline.com",
      tenantId,
      apiClientId: "a1",
      tokenVersion: version,
    });
    expect(managedIdentityRequest(profile)).toEqual({ resource: "api://a1", scope: "api://a1/.default" });
    expect(appOnlyClaims(profile, { clientId: "c1", principalId: "p1", roles: ["access_as_app"] })).toEqual({
      aud: version === 1 ? "api://a1" : "a1",
      iss:
        version === 1 ? `https://sts.windows.net/${tenantId}/` : `https://login.microsoftonline.com/${tenantId}/v2.0`,
      ver: version === 1 ? "1.0" : "2.0",
      clientIdClaim: version === 1 ? "appid" : "azp",
      clientId: "c1",
      oid: "p1",
      idtyp: "app",
      roles: ["access_as_app"],
    });
  });

  it.each([1, 2] as const)(
    "v%i: the granted identity passes the program's policy; without the role it is refused",
    async (version) => {
      const stack = await evaluate(withIdentities({ tokenVersion: version, allowedClients: ["worker"] }, worker()));
      const identity = clientsOf(stack).worker as { clientId: string; principalId: string };
      const spec = readTokenCheck(String((stack.outputs.apis as Record<string, { policy: string }>).orders?.policy));
      const profile = tokenProfile({
        authorityHost: "https://login.microsoftonline.com",
        tenantId,
        apiClientId: "x",
        tokenVersion: version,
      });
      const keys = {
        openIdConfigs: { [profile.metadataUrl.replace("/x", "")]: { issuer: profile.issuer } },
        jwks: { keys: [jwk] },
      };
      const judge = async (roles: string[]) =>
        evaluateToken({
          spec,
          token: await identityToken(version, { ...identity, roles }),
          now,
          keys,
          fetchDocument: async (url) => {
            throw new Error(`offline: ${url}`);
          },
        });

      const granted = await judge(["access_as_app"]);
      expect(granted.accepted).toBe(true);
      const refused = await judge([]);
      expect(refused.accepted).toBe(false);
      expect(!refused.accepted && [refused.check, refused.reason]).toEqual([
        "claim:roles",
        "the token has no roles claim: the client was not granted an application permission (app role assignment) on the API",
      ]);
    },
  );

  it("explain names the identity by its client id, principal and idtyp", async () => {
    const stack = await evaluate(withIdentities());
    const identity = clientsOf(stack).worker as { clientId: string; principalId: string };
    const policy = join(dir, "policy.xml");
    const jwks = join(dir, "keys.json");
    await writeFile(policy, String((stack.outputs.apis as Record<string, { policy: string }>).orders?.policy));
    await writeFile(jwks, JSON.stringify({ keys: [jwk] }));
    const token = await identityToken(2, { ...identity, roles: ["access_as_app"] });
    const out: string[] = [];
    const status = await runExplain(
      ["--policy", policy, "--token", token, "--jwks", jwks, "--now", now.toISOString()],
      { out: (text) => out.push(text), err: (text) => out.push(text) },
    );
    expect(status).toBe(0);
    expect(out.join("\n").split("\n")).toEqual(
      expect.arrayContaining([
        "ACCEPT",
        "  azp: mock-worker-identity-client-id",
        "  idtyp: app",
        "  oid: mock-worker-identity-principal-id",
        "  roles: access_as_app",
      ]),
    );
  });
});

describe("the token and smoke tools", () => {
  const noToken =
    "client worker is a managed identity: Azure holds its credential, so only code running on its Azure host gets its token (from the host's identity endpoint, e.g. with the stack's clients.worker.examples); get it there and judge it with npm run explain";
  let dir: string;
  let outputsFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "managed-identity-tools-"));
    outputsFile = join(dir, "outputs.json");
    await writeFile(outputsFile, JSON.stringify((await evaluate(withIdentities({}, worker()))).outputs));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  /** Runs a tool, recording its lines and every URL it fetches; nothing answers. */
  async function run(tool: typeof runToken) {
    const lines: string[] = [];
    const fetched: string[] = [];
    const io: TokenIo = {
      out: (text) => lines.push(text),
      err: (text) => lines.push(text),
      env: {},
      sleep: async () => undefined,
      fetch: async (url) => {
        fetched.push(String(url));
        throw new Error("offline");
      },
    };
    const status = await tool(["--outputs", outputsFile, "--client", "worker"], io);
    return { status, lines, fetched };
  }

  it("token refuses a managed identity before requesting anything, saying where its token comes from", async () => {
    const { status, lines, fetched } = await run(runToken);
    expect([status, lines[0], fetched]).toEqual([2, `error: ${noToken}`, []]);
  });

  it("smoke says the same and checks the API without a token, never asking Entra for one", async () => {
    const { lines, fetched } = await run(runSmoke);
    expect(lines[0]).toBe(`smoke: ${noToken}.`);
    expect(fetched.length).toBeGreaterThan(0);
    expect(fetched.filter((url) => url.includes("/oauth2/"))).toEqual([]);
  });
});
describe("the plan diff names a managed identity that breaks", () => {
  const diffOf = async (before: Record<string, unknown>, after: Record<string, unknown>) =>
    formatPlanDiff(diffPlans(planData(await evaluate(before)).resources, planData(await evaluate(after)).resources));
  const sales = guideApi({ name: "sales", displayName: "Sales", path: "sales" });
  const granted = (apis: string[]) =>
    guideConfig({ apis: [guideApi(), sales], clients: [worker({ apis }), site({ apis })] });

  it("a revoked grant names the identity and the API it loses, for a created and an existing identity alike", async () => {
    expect(await diffOf(granted(["orders", "sales"]), granted(["sales"]))).toEqual([
      "- delete AppRoleAssignment worker--orders-admin-consent",
      "  ! breaks client worker's calls to orders: the grant is revoked, so its next token request for orders is refused (AADSTS501051)",
      "- delete AppRoleAssignment site--orders-admin-consent",
      "  ! breaks client site's calls to orders: the grant is revoked, so its next token request for orders is refused (AADSTS501051)",
      "0 to create, 0 to update, 0 to replace, 2 to delete",
    ]);
  });

  it("a created identity moved to another region is replaced, naming the APIs its callers lose", async () => {
    const moved = guideConfig({
      apis: [guideApi(), sales],
      clients: [
        worker({ apis: ["orders", "sales"], identity: { resourceGroupName: "rg-workers", location: "northeurope" } }),
      ],
    });
    const before = guideConfig({ apis: [guideApi(), sales], clients: [worker({ apis: ["orders", "sales"] })] });
    expect(await diffOf(before, moved)).toEqual([
      "+- replace UserAssignedIdentity worker-identity (location forces it)",
      "  ! breaks client worker's callers (granted orders and sales): its managed identity is replaced, so the code running as it gets a new client id and principal, with no grant until it is granted again, or no token at all",
      "+- replace AppRoleAssignment worker--orders-admin-consent (principalObjectId forces it)",
      "+- replace AppRoleAssignment worker--sales-admin-consent (principalObjectId forces it)",
      "0 to create, 0 to update, 3 to replace, 0 to delete",
    ]);
  });
});
