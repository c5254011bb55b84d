// Under Pulumi's mock engine: what the program registers for clients that act for a signed-in user, and the
// configurations it refuses before registering anything. It cannot prove that Entra accepts the redirect URIs or
// that the delegated grant puts the scope in real tokens: the loopback tests (userFlows.test.ts) cover the token path
// against the stand-ins, and `pulumi up` against a real tenant the rest.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { stableId } from "../entra/stableIds";
import type { ProgramError } from "../tools/preview/mockEngine";
import { renderPlanMarkdown } from "../tools/preview/planReport";
import { readTokenCheck } from "../policies/readTokenCheck";
import { projectDir } from "../tools/plan";
import { readStackFileConfig, stackFileOf } from "../tools/preview/stackFiles";
import { evaluate, guideApi, guideClient, guideConfig, ofType, only } from "./support/evaluate";
import { knownValidOn, withToday } from "./support/stackFileChecks";

const T = {
  app: "azuread:index/applicationRegistration:ApplicationRegistration",
  password: "azuread:index/applicationPassword:ApplicationPassword",
  apiAccess: "azuread:index/applicationApiAccess:ApplicationApiAccess",
  assignment: "azuread:index/appRoleAssignment:AppRoleAssignment",
  delegated: "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
  redirects: "azuread:index/applicationRedirectUris:ApplicationRedirectUris",
  publicClient: "azuread:index/applicationFallbackPublicClient:ApplicationFallbackPublicClient",
  authorizationServer: "azure-native:apimanagement:AuthorizationServer",
};

const postmanCallback = "https://oauth.pstmn.io/v1/callback";

const webClient = guideClient({
  name: "portal",
  displayName: "Orders-Web",
  kind: "web",
  redirectUris: ["https://orders.example.com/signin-oidc", postmanCallback],
});
const spaClient = {
  name: "browser",
  displayName: "Orders-SPA",
  kind: "spa",
  credential: "none",
  redirectUris: ["https://orders.example.com/", "http://localhost/"],
  apis: ["orders"],
};
const nativeClient = {
  name: "desktop",
  displayName: "Orders-Desktop",
  kind: "native",
  credential: "none",
  redirectUris: ["msauth.com.contoso.orders://auth", "http://127.0.0.1/native"],
  apis: ["orders"],
};

/** One API for users and applications, the guide's daemon, and one client of each user-facing kind. */
function userStack(changes: Record<string, unknown> = {}) {
  return guideConfig({
    apis: [guideApi({ callers: ["applications", "users"] })],
    clients: [guideClient(), webClient, spaClient, nativeClient],
    ...changes,
  });
}

describe("clients that act for a signed-in user", () => {
  it.each([
    { client: "portal", scope: "access_as_user" },
    { client: "browser", scope: "access_as_user" },
    { client: "desktop", scope: "access_as_user" },
  ])("$client is granted the delegated scope with tenant-wide admin consent, and no app role", async ({ client }) => {
    const stack = await evaluate(userStack());
    expect(only(stack, T.apiAccess, `${client}--orders-permission`).inputs).toEqual({
      applicationId: `/applications/mock-${client}-app-object-id`,
      apiClientId: "mock-orders-app-client-id",
      scopeIds: [stableId("orders", "scope")],
    });
    expect(only(stack, T.delegated, `${client}--orders-admin-consent`).inputs).toEqual({
      servicePrincipalObjectId: `mock-${client}-sp-object-id`,
      resourceServicePrincipalObjectId: "mock-orders-sp-object-id",
      claimValues: ["access_as_user"],
    });
    expect(ofType(stack, T.assignment).map((resource) => resource.name)).toEqual(["reporting--orders-admin-consent"]);
  });

  it("the daemon keeps its app role assignment and registers no redirect URIs", async () => {
    const stack = await evaluate(userStack());
    expect(only(stack, T.assignment, "reporting--orders-admin-consent").inputs).toEqual({
      appRoleId: stableId("orders", "app-role"),
      principalObjectId: "mock-reporting-sp-object-id",
      resourceObjectId: "mock-orders-sp-object-id",
    });
    expect(
      ofType(stack, T.redirects)
        .map((resource) => resource.name)
        .sort(),
    ).toEqual(["browser-sign-in-redirect-uris", "desktop-sign-in-redirect-uris", "portal-sign-in-redirect-uris"]);
  });

  it.each([
    { client: "portal", type: "Web", uris: webClient.redirectUris },
    { client: "browser", type: "SPA", uris: spaClient.redirectUris },
    { client: "desktop", type: "PublicClient", uris: nativeClient.redirectUris },
  ])("$client's redirect URIs are registered on the $type platform", async ({ client, type, uris }) => {
    const stack = await evaluate(userStack());
    expect(only(stack, T.redirects, `${client}-sign-in-redirect-uris`).inputs).toEqual({
      applicationId: `/applications/mock-${client}-app-object-id`,
      type,
      redirectUris: uris,
    });
  });

  it("only the native client allows public client flows (device code); nothing enables the implicit grant", async () => {
    const stack = await evaluate(userStack());
    expect(ofType(stack, T.publicClient).map((resource) => [resource.name, resource.inputs])).toEqual([
      ["desktop-sign-in-public-client", { applicationId: "/applications/mock-desktop-app-object-id", enabled: true }],
    ]);
    for (const app of ofType(stack, T.app)) {
      expect(app.inputs.implicitAccessTokenIssuanceEnabled).toBeUndefined();
      expect(app.inputs.implicitIdTokenIssuanceEnabled).toBeUndefined();
    }
  });

  it("only the web client has a secret; the public clients have no credential", async () => {
    const stack = await evaluate(userStack());
    expect(
      ofType(stack, T.password)
        .map((resource) => resource.name)
        .sort(),
    ).toEqual(["portal-secret-2026-11-23", "reporting-secret-2026-11-23"]);
  });

  it("the policy accepts the daemon's role and the users' scope; outputs name the delegated scope and the kind", async () => {
    const stack = await evaluate(userStack());
    const outputs = stack.outputs as {
      apis: { orders: { policy: string } };
      clients: Record<string, { scopes: Record<string, string>; kind?: string; redirectUris?: string[] }>;
    };
    const spec = readTokenCheck(outputs.apis.orders.policy);
    expect(spec.callerChoice?.users).toEqual([
      { name: "scp", match: "any", separator: " ", values: ["access_as_user"] },
    ]);
    expect(spec.callerChoice?.applications).toEqual([{ name: "roles", match: "any", values: ["access_as_app"] }]);
    expect(outputs.clients.desktop).toMatchObject({
      kind: "native",
      redirectUris: nativeClient.redirectUris,
      scopes: { orders: "api://mock-orders-app-client-id/access_as_user" },
    });
    expect(outputs.clients.reporting?.scopes).toEqual({ orders: "api://mock-orders-app-client-id/.default" });
    expect(outputs.clients.reporting?.kind).toBeUndefined();
  });

  it("the developer portal signs the developer in with authorization code and the delegated scope through a web client", async () => {
    const stack = await evaluate(
      userStack({
        apis: [guideApi({ callers: ["applications", "users"], authorizationServer: { client: "portal" } })],
      }),
    );
    const server = only(stack, T.authorizationServer, "orders-authorization-server").inputs;
    expect(server.grantTypes).toEqual(["authorizationCode"]);
    expect(server.defaultScope).toBe("api://mock-orders-app-client-id/access_as_user");
    expect(server.clientId).toBe("mock-portal-app-client-id");
  });

  it("the developer portal with a daemon keeps client credentials and the .default scope", async () => {
    const stack = await evaluate(
      userStack({
        apis: [guideApi({ callers: ["applications", "users"], authorizationServer: { client: "reporting" } })],
      }),
    );
    const server = only(stack, T.authorizationServer, "orders-authorization-server").inputs;
    expect(server.grantTypes).toEqual(["clientCredentials"]);
    expect(server.defaultScope).toBe("api://mock-orders-app-client-id/.default");
  });
});

type Config = ReturnType<typeof userStack> & {
  apis: Record<string, unknown>[];
  clients: Record<string, unknown>[];
};

const refusals: [string, (config: Config) => void, string][] = [
  [
    "a user-facing client granted an API that accepts only applications",
    (c) => {
      c.apis = [guideApi()];
    },
    `apim-entra-auth:clients[1] (portal).apis[0]: "orders" accepts only applications (apim-entra-auth:apis[0] (orders).callers is ["applications"]), and this web client acts for a signed-in user; add "users" to the API's callers or grant it to a daemon client.`,
  ],
  [
    "a daemon granted an API that accepts only users",
    (c) => {
      c.apis = [guideApi({ callers: ["users"] })];
    },
    `apim-entra-auth:clients[0] (reporting).apis[0]: "orders" accepts only signed-in users (apim-entra-auth:apis[0] (orders).callers is ["users"]), and this daemon client has no user; add "applications" to the API's callers or use a web, spa or native client.`,
  ],
  [
    "a secret on a spa client",
    (c) => {
      Object.assign(c.clients[2] as object, { credential: "secret", secretRotatedOn: "2026-11-23" });
    },
    `apim-entra-auth:clients[2] (browser).credential: "secret" is not allowed for a spa client: it runs in the user's browser as a public client and can keep no credential; remove it (a spa client has credential "none").`,
  ],
  [
    "a federated credential on a native client",
    (c) => {
      Object.assign(c.clients[3] as object, {
        credential: "federated",
        federatedCredentials: [{ name: "ci-main", issuer: "https://issuer.example", subject: "s" }],
      });
    },
    `apim-entra-auth:clients[3] (desktop).credential: "federated" is not allowed for a native client`,
  ],
  [
    "a web client without a credential",
    (c) => {
      Object.assign(c.clients[1] as object, { credential: "none", secretRotatedOn: undefined });
    },
    `apim-entra-auth:clients[1] (portal).credential: "none" is not allowed for a web client: it redeems authorization codes on its server as a confidential client; use "secret" or "federated".`,
  ],
  [
    "a web portal client without a secret, which APIM's authorization-code server must hold",
    (c) => {
      c.apis = [guideApi({ callers: ["applications", "users"], authorizationServer: { client: "portal" } })];
      Object.assign(c.clients[1] as object, {
        credential: "federated",
        secretRotatedOn: undefined,
        federatedCredentials: [
          {
            name: "github-main",
            issuer: "https://token.actions.githubusercontent.com",
            subject: "repo:c/o:ref:refs/heads/main",
          },
        ],
      });
    },
    `apim-entra-auth:apis[0] (orders).authorizationServer.client: "portal" has credential "federated"; the developer portal's authorization-code sign-in needs a client with credential "secret".`,
  ],
  [
    "a spa client without redirect URIs",
    (c) => {
      (c.clients[2] as Record<string, unknown>).redirectUris = undefined;
    },
    `apim-entra-auth:clients[2] (browser).redirectUris: is required for a spa client`,
  ],
  [
    "redirect URIs on a daemon",
    (c) => {
      (c.clients[0] as Record<string, unknown>).redirectUris = ["https://x.example/"];
    },
    `apim-entra-auth:clients[0] (reporting).redirectUris: a daemon signs no user in`,
  ],
  [
    "a wildcard redirect URI",
    (c) => {
      (c.clients[1] as Record<string, unknown>).redirectUris = ["https://*.example.com/signin"];
    },
    `apim-entra-auth:clients[1] (portal).redirectUris[0]: "https://*.example.com/signin" is not allowed; wildcards are not allowed: register each exact URI.`,
  ],
  [
    "a redirect URI with a fragment",
    (c) => {
      (c.clients[2] as Record<string, unknown>).redirectUris = ["https://orders.example.com/#/callback"];
    },
    `apim-entra-auth:clients[2] (browser).redirectUris[0]: "https://orders.example.com/#/callback" is not allowed; a redirect URI must not have a fragment (#…).`,
  ],
  [
    "plain http to a host other than this machine",
    (c) => {
      (c.clients[1] as Record<string, unknown>).redirectUris = ["http://orders.example.com/signin-oidc"];
    },
    `apim-entra-auth:clients[1] (portal).redirectUris[0]: "http://orders.example.com/signin-oidc" is not allowed; use https://; http:// only on a loopback host`,
  ],
  [
    "a custom scheme on a spa client",
    (c) => {
      (c.clients[2] as Record<string, unknown>).redirectUris = ["msauth.com.contoso.orders://auth"];
    },
    `apim-entra-auth:clients[2] (browser).redirectUris[0]: "msauth.com.contoso.orders://auth" is not allowed; a spa client's redirect URI must be https://`,
  ],
  [
    "the IPv6 loopback, which Entra does not support",
    (c) => {
      (c.clients[3] as Record<string, unknown>).redirectUris = ["http://[::1]/native"];
    },
    `apim-entra-auth:clients[3] (desktop).redirectUris[0]: "http://[::1]/native" is not allowed; Entra does not support the IPv6 loopback`,
  ],
  [
    "a redirect URI longer than 256 characters",
    (c) => {
      (c.clients[1] as Record<string, unknown>).redirectUris = [`https://orders.example.com/${"a".repeat(240)}`];
    },
    `is not allowed; it has 267 characters; Entra allows at most 256.`,
  ],
  [
    "an unknown kind",
    (c) => {
      (c.clients[1] as Record<string, unknown>).kind = "mobile";
    },
    `apim-entra-auth:clients[1] (portal).kind: "mobile" is not allowed; use "daemon", "web", "spa", "native" or "managedIdentity"`,
  ],
  [
    "no callers",
    (c) => {
      c.apis = [guideApi({ callers: [] })];
    },
    `apim-entra-auth:apis[0] (orders).callers: list "applications" and/or "users"`,
  ],
];

describe("refused before anything is registered", () => {
  it.each(refusals)("%s", async (_name, breakIt, expected) => {
    const config = structuredClone(userStack()) as Config;
    breakIt(config);
    const failure = await evaluate(config).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((failure as Error).name).toBe("ProgramError");
    expect((failure as ProgramError).message).toContain(expected);
    expect((failure as ProgramError).resources).toEqual([]);
  });

  it("accepts every kind with its documented redirect URIs, Postman's callback included", async () => {
    const stack = await evaluate(userStack());
    expect(ofType(stack, T.delegated)).toHaveLength(3);
  });
});

describe("the documented example (tests/fixtures/stacks/Pulumi.users.yaml)", () => {
  it("plans the delegated grants with their wiring, beside the daemon's app role assignment", async () => {
    const file = parse(readFileSync("tests/fixtures/stacks/Pulumi.users.yaml", "utf8")) as {
      config: Record<string, unknown>;
    };
    const config = Object.fromEntries(
      Object.entries(file.config).map(([key, value]) => [key.replace("apim-entra-auth:", ""), value]),
    );
    const plan = renderPlanMarkdown(await evaluate(config, "users"));
    for (const client of ["portal", "desktop"]) {
      expect(plan).toContain(
        [
          `    - **ServicePrincipalDelegatedPermissionGrant (azuread)** \`${client}--orders-admin-consent\``,
          '      - claimValues: `["access_as_user"]`',
          "      - resourceServicePrincipalObjectId: `mock-orders-sp-object-id` ← orders-sp.objectId",
          `      - servicePrincipalObjectId: \`mock-${client}-sp-object-id\` ← ${client}-sp.objectId`,
        ].join("\n"),
      );
    }
    expect(plan).toContain("    - **AppRoleAssignment (azuread)** `reporting--orders-admin-consent`");
    expect(plan).toContain('      - grantTypes: `["authorizationCode"]`');
  });
});

describe("a spa or native client's credential", () => {
  const withoutCredential = ({ credential: _none, ...client }: Record<string, unknown>) => client;

  it("is none when it names none, so a secret, a password or a federated credential is never registered", async () => {
    const stack = await evaluate(
      userStack({ clients: [guideClient(), withoutCredential(spaClient), withoutCredential(nativeClient)] }),
    );
    const passwordOwners = ofType(stack, T.password).map((password) => password.name);
    expect(passwordOwners).toEqual(["reporting-secret-2026-11-23"]);
    expect(
      ofType(stack, "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"),
    ).toEqual([]);
    const clients = stack.outputs.clients as Record<string, Record<string, unknown>>;
    expect([clients.browser?.credential, clients.desktop?.credential]).toEqual(["none", "none"]);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string[]]>([
    [
      "a secret date on a spa client",
      { secretRotatedOn: "2026-11-23" },
      {},
      [
        `apim-entra-auth:clients[1] (browser).secretRotatedOn: is not allowed for a spa client: it runs in the user's browser as a public client and can keep no credential; remove it.`,
      ],
    ],
    [
      "a secret list on a spa client",
      { secrets: [{ rotatedOn: "2026-11-23" }] },
      {},
      [
        `apim-entra-auth:clients[1] (browser).secrets: is not allowed for a spa client: it runs in the user's browser as a public client and can keep no credential; remove it.`,
      ],
    ],
    [
      "credential secret without a date on a native client",
      {},
      { credential: "secret" },
      [
        `apim-entra-auth:clients[2] (desktop).credential: "secret" is not allowed for a native client: it runs on the user's device as a public client and can keep no credential; remove it (a native client has credential "none").`,
      ],
    ],
    [
      "a secret and its lifetime on a native client",
      {},
      { credential: "secret", secretRotatedOn: "2026-11-23", secretLifetimeDays: 90 },
      [
        `apim-entra-auth:clients[2] (desktop).credential: "secret" is not allowed for a native client: it runs on the user's device as a public client and can keep no credential; remove it (a native client has credential "none").`,
        `apim-entra-auth:clients[2] (desktop).secretRotatedOn: is not allowed for a native client: it runs on the user's device as a public client and can keep no credential; remove it.`,
        `apim-entra-auth:clients[2] (desktop).secretLifetimeDays: is not allowed for a native client: it runs on the user's device as a public client and can keep no credential; remove it.`,
      ],
    ],
    [
      "federated credentials on a native client that names no credential",
      {},
      {
        federatedCredentials: [
          {
            name: "github",
            issuer: "https://token.actions.githubusercontent.com",
            subject: "repo:c/o:ref:refs/heads/main",
          },
        ],
      },
      [
        `apim-entra-auth:clients[2] (desktop).federatedCredentials: is not allowed for a native client: it runs on the user's device as a public client and can keep no credential; remove it.`,
      ],
    ],
  ])("refuses %s for its kind alone", async (_case, spaChanges, nativeChanges, lines) => {
    const config = userStack({
      clients: [
        guideClient(),
        { ...withoutCredential(spaClient), ...spaChanges },
        { ...withoutCredential(nativeClient), ...nativeChanges },
      ],
    });
    const failure = (await evaluate(config).catch((error: unknown) => error)) as ProgramError;
    expect(failure.message).toBe(
      [`Invalid configuration for stack "test":`, ...lines.map((l) => `  - ${l}`)].join("\n"),
    );
    expect(failure.resources).toEqual([]);
  });
});

describe("the committed prod stack's developer portal (protect: true)", () => {
  const prod = () => readStackFileConfig(projectDir, "prod");
  const evaluateProd = async (config: Record<string, unknown>) => {
    const { secretKeys } = prod();
    const day = knownValidOn(readFileSync(stackFileOf(projectDir, "prod"), "utf8"));
    return withToday(day, () => evaluate(config, "prod", undefined, secretKeys));
  };

  it("signs developers in through a web client with authorization code and the delegated scope", async () => {
    const stack = await evaluateProd(prod().config);
    const server = only(stack, T.authorizationServer, "orders-authorization-server").inputs;
    expect(server.grantTypes).toEqual(["authorizationCode"]);
    expect(server.defaultScope).toBe("api://mock-orders-app-client-id/access_as_user");
    expect(server.clientId).toBe("mock-orders-portal-app-client-id");
    expect(only(stack, T.redirects, "orders-portal-sign-in-redirect-uris").inputs).toEqual({
      applicationId: "/applications/mock-orders-portal-app-object-id",
      type: "Web",
      redirectUris: ["https://apim-contoso-prod.developer.azure-api.net/signin-oauth/code/callback/orders-entra"],
    });
  });

  it("refuses a daemon as the portal's client, naming the web setup", async () => {
    const { config } = prod();
    const clients = (config.clients as Record<string, unknown>[]).map(
      ({ kind: _kind, redirectUris: _uris, ...client }) => client,
    );
    const failure = (await evaluateProd({ ...config, clients }).catch((error: unknown) => error)) as ProgramError;
    expect(failure.message).toBe(
      [
        `Invalid configuration for stack "prod":`,
        `  - apim-entra-auth:apis[0] (orders).authorizationServer.client: "orders-portal" is a daemon, so the developer portal's test console would hand every visitor its app token without asking who they are; with protect: true the portal must sign developers in: set kind: web on "orders-portal", add https://apim-contoso-prod.developer.azure-api.net/signin-oauth/code/callback/orders-entra to its redirectUris, add "users" to apim-entra-auth:apis[0] (orders).callers and the developers' users or groups to its assignedPrincipals; or set authorizationServer.enabled: false.`,
      ].join("\n"),
    );
    expect(failure.resources).toEqual([]);
  });
});

describe("a deployed client whose kind changes between daemon and web", () => {
  // Its grant component changes type, so without an alias its permission list entry would be created anew before the
  // old one is deleted, and the provider refuses a second entry for the same API ("needs to be imported",
  // application_api_access_resource.go create). What a mock cannot prove: that the engine then moves the state.
  const daemon = guideConfig({ apis: [guideApi({ callers: ["applications", "users"] })] });
  const web = guideConfig({
    apis: [guideApi({ callers: ["applications", "users"] })],
    clients: [guideClient({ kind: "web", redirectUris: ["https://orders.example.com/signin-oidc"] })],
  });

  it.each([
    ["daemon → web", daemon, web, [T.assignment]],
    ["web → daemon", web, daemon, [T.redirects, T.delegated]],
  ])("%s keeps the permission list entry and replaces only the consent", async (_case, before, after, retired) => {
    const [old, now] = [await evaluate(before), await evaluate(after)];
    const kept = (urn: string) => now.resources.some((r) => r.urn === urn || r.aliasUrns.includes(urn));
    const permission = only(old, T.apiAccess, "reporting--orders-permission");
    expect(kept(permission.urn)).toBe(true);
    const gone = old.resources.filter((resource) => resource.custom && !kept(resource.urn)).map((r) => r.type);
    expect(gone).toEqual(retired);
  });
});
