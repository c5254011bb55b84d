import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { catalogueSchema } from "../config/schema";
import type { ProgramError } from "../tools/preview/mockEngine";
import { evaluate, guideApi, guideConfig } from "./support/evaluate";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each case writes an arbitrary bad value into the config.
type Config = Record<string, any>;

/** Replaces the guide's client by a federated one holding this one credential. */
const federatedOnly = (c: Config, credential: Record<string, string>) =>
  (c.clients[0] = {
    name: "deployer",
    displayName: "Deployer",
    credential: "federated",
    federatedCredentials: [credential],
  });

/** Each case breaks one key of the guide's config; the error must name the key, show the value and the fix. */
const badInputs: [string, (config: Config) => void, string][] = [
  [
    "tenantId that is not a GUID",
    (c) => (c.tenantId = "contoso.onmicrosoft.com"),
    `apim-entra-auth:tenantId: "contoso.onmicrosoft.com" is not allowed; use the tenant's GUID`,
  ],
  [
    "tenantId common",
    (c) => (c.tenantId = "common"),
    `apim-entra-auth:tenantId: "common" is not allowed; "common", "organizations" and "consumers" are not tenants`,
  ],
  [
    "tenantId organizations",
    (c) => (c.tenantId = "organizations"),
    `apim-entra-auth:tenantId: "organizations" is not allowed; "common", "organizations" and "consumers" are not tenants`,
  ],
  [
    "tenantId consumers",
    (c) => (c.tenantId = "Consumers"),
    `apim-entra-auth:tenantId: "Consumers" is not allowed; "common", "organizations" and "consumers" are not tenants`,
  ],
  [
    "API name with a space",
    (c) => (c.apis[0].name = "Orders API"),
    `apim-entra-auth:apis[0].name: "Orders API" is not allowed; use 1–32 lowercase letters, digits or single hyphens`,
  ],
  [
    "API name with a double hyphen",
    (c) => {
      c.apis[0].name = "orders--v2";
      c.clients[0].apis = ["orders--v2"];
    },
    `apim-entra-auth:apis[0].name: "orders--v2" is not allowed`,
  ],
  [
    "API name too long",
    (c) => (c.apis[0].name = "a".repeat(33)),
    `apim-entra-auth:apis[0].name: "${"a".repeat(33)}" is not allowed`,
  ],
  [
    "duplicate API names",
    (c) => c.apis.push({ ...c.apis[0], path: "orders2" }),
    `apim-entra-auth:apis: the name "orders" is used by more than one API; names must be unique.`,
  ],
  [
    "duplicate API paths",
    (c) => c.apis.push({ ...c.apis[0], name: "orders2" }),
    `apim-entra-auth:apis[1] (orders2).path: "orders" is already the path of apim-entra-auth:apis[0] (orders); APIM paths must be unique (letter case aside).`,
  ],
  [
    "duplicate client names",
    (c) => c.clients.push({ ...c.clients[0] }),
    `apim-entra-auth:clients: the name "reporting" is used by more than one client; names must be unique.`,
  ],
  [
    "app role with a space",
    (c) => (c.apis[0].appRole = "access as app"),
    `apim-entra-auth:apis[0] (orders).appRole: "access as app" is not allowed; use 1–120 letters, digits, '.', '_' or '-', starting with a letter or digit (no spaces)`,
  ],
  [
    "empty app role",
    (c) => (c.apis[0].appRole = ""),
    `apim-entra-auth:apis[0] (orders).appRole: "" is not allowed; use 1–120 letters`,
  ],
  [
    "scope with a space",
    (c) => (c.apis[0].scope = "read all"),
    `apim-entra-auth:apis[0] (orders).scope: "read all" is not allowed; use 1–120 letters`,
  ],
  [
    "role value equal to the scope value",
    (c) => {
      c.apis[0].appRole = "access_as_app";
      c.apis[0].scope = "access_as_app";
    },
    `apim-entra-auth:apis[0] (orders).scope: "access_as_app" equals the appRole value; an app's roles and scopes share one namespace`,
  ],
  [
    "client granted an API that does not exist",
    (c) => (c.clients[0].apis = ["invoices"]),
    `apim-entra-auth:clients[0] (reporting).apis[0]: "invoices" is not an API in apim-entra-auth:apis (orders).`,
  ],
  [
    "token version 3",
    (c) => (c.apis[0].tokenVersion = 3),
    `apim-entra-auth:apis[0] (orders).tokenVersion: 3 is not allowed; use 1 or 2`,
  ],
  [
    "token version as text",
    (c) => (c.apis[0].tokenVersion = "2"),
    `apim-entra-auth:apis[0] (orders).tokenVersion: "2" is not allowed; use 1 or 2`,
  ],
  [
    "secret lifetime 0",
    (c) => (c.clients[0].secretLifetimeDays = 0),
    `apim-entra-auth:clients[0] (reporting).secretLifetimeDays: 0 is not allowed; use a whole number of days from 1 to 730`,
  ],
  [
    "negative secret lifetime",
    (c) => (c.clients[0].secretLifetimeDays = -5),
    `apim-entra-auth:clients[0] (reporting).secretLifetimeDays: -5 is not allowed; use a whole number of days from 1 to 730`,
  ],
  [
    "secret lifetime over 730 days",
    (c) => (c.clients[0].secretLifetimeDays = 731),
    `apim-entra-auth:clients[0] (reporting).secretLifetimeDays: 731 is not allowed; use a whole number of days from 1 to 730`,
  ],
  [
    "secret without a rotation date",
    (c) => delete c.clients[0].secretRotatedOn,
    `apim-entra-auth:clients[0] (reporting).secretRotatedOn: is required with credential "secret"`,
  ],
  [
    "rotation date that is not a date",
    (c) => (c.clients[0].secretRotatedOn = "23/11/2026"),
    `apim-entra-auth:clients[0] (reporting).secretRotatedOn: "23/11/2026" is not allowed; use a calendar date in the form YYYY-MM-DD`,
  ],
  [
    "federated subject with a wildcard",
    (c) =>
      federatedOnly(c, {
        name: "main",
        issuer: "https://token.actions.githubusercontent.com",
        subject: "repo:contoso/*",
      }),
    `apim-entra-auth:clients[0] (deployer).federatedCredentials[0].subject: "repo:contoso/*" is not allowed; use the exact subject the issuer puts in its tokens (1–600 characters, no leading or trailing whitespace, no line breaks); wildcards are not supported`,
  ],
  [
    "federated issuer that is not https",
    (c) =>
      federatedOnly(c, {
        name: "main",
        issuer: "http://token.example.com",
        subject: "repo:contoso/app:ref:refs/heads/main",
      }),
    `apim-entra-auth:clients[0] (deployer).federatedCredentials[0].issuer: "http://token.example.com" is not allowed; use an https:// URL`,
  ],
  [
    "federated credential without credentials",
    (c) => (c.clients[0] = { name: "deployer", displayName: "Deployer", credential: "federated" }),
    `apim-entra-auth:clients[0] (deployer).federatedCredentials: is required with credential "federated"`,
  ],
  [
    "authority host over http",
    (c) => (c.authorityHost = "http://login.microsoftonline.com"),
    `apim-entra-auth:authorityHost: "http://login.microsoftonline.com" is not allowed; use an https:// URL (http:// only for a loopback stand-in`,
  ],
  [
    "authority host with a tenant path",
    (c) => (c.authorityHost = "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555"),
    `apim-entra-auth:authorityHost: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555" is not allowed; use the authority host alone`,
  ],
  [
    "typo in an API entry",
    (c) => (c.apis[0].backendURL = "https://x.example.com"),
    `apim-entra-auth:apis[0] (orders).backendURL: unknown key — did you mean "backendUrl"? Allowed keys: name, displayName, path, backendUrl,`,
  ],
  [
    "typo in a client entry",
    (c) => (c.clients[0].secretLifetime = 90),
    `apim-entra-auth:clients[0] (reporting).secretLifetime: unknown key. Allowed keys: name, displayName, credential, secrets, secretRotatedOn, secretLifetimeDays, portal, identity, principalId, federatedCredentials, apis, formerNames, kind, redirectUris, existing.`,
  ],
  [
    "typo in a top-level key",
    (c) => (c.tenantID = "11111111-2222-3333-4444-555555555555"),
    `apim-entra-auth:tenantID: unknown key — did you mean "tenantId"?`,
  ],
  [
    "API path with a leading slash",
    (c) => (c.apis[0].path = "/orders"),
    `apim-entra-auth:apis[0] (orders).path: "/orders" is not allowed; use a URL path of 1–400 characters without a leading or trailing slash`,
  ],
  [
    "backend URL that is not a URL",
    (c) => (c.apis[0].backendUrl = "orders.internal"),
    `apim-entra-auth:apis[0] (orders).backendUrl: "orders.internal" is not allowed; use an absolute http(s):// URL`,
  ],
  [
    "missing API path",
    (c) => delete c.apis[0].path,
    `apim-entra-auth:apis[0] (orders).path: is required (expected string).`,
  ],
  [
    "unknown credential kind",
    (c) => (c.clients[0].credential = "certificate"),
    `apim-entra-auth:clients[0] (reporting).credential: "certificate" is not allowed; use "secret", "federated" or "none"`,
  ],
  ["no APIs", (c) => (c.apis = []), `apim-entra-auth:apis: declare at least one API`],
  [
    "APIM service name with an underscore",
    (c) => (c.apim.serviceName = "apim_dev"),
    `apim-entra-auth:apim.serviceName: "apim_dev" is not allowed; use 1–50 letters, digits or hyphens`,
  ],
  [
    "portal client without a secret",
    (c) => {
      c.apis[0].authorizationServer = { client: "reporting" };
      c.clients[0].credential = "none";
      delete c.clients[0].secretRotatedOn;
    },
    `apim-entra-auth:apis[0] (orders).authorizationServer.client: "reporting" has credential "none"; the developer portal's client-credentials flow needs a client with credential "secret".`,
  ],
  [
    "authorization server on a Consumption service",
    (c) => {
      c.apis[0].authorizationServer = { client: "reporting" };
      c.apim.create = {
        sku: "Consumption",
        location: "westeurope",
        publisherName: "Contoso",
        publisherEmail: "api@contoso.example",
      };
    },
    `apim-entra-auth:apis[0] (orders).authorizationServer: the Consumption tier has no developer portal, so it has no OAuth 2.0 authorization servers`,
  ],
  [
    "clock skew over 5 minutes",
    (c) => (c.apis[0].clockSkewSeconds = 600),
    `apim-entra-auth:apis[0] (orders).clockSkewSeconds: 600 is not allowed; use a whole number of seconds from 0 to 300`,
  ],
  [
    "a former name that is some entry's current name",
    (c) => {
      c.apis.push({ ...c.apis[0], name: "sales", path: "sales", formerNames: ["orders"] });
    },
    `apim-entra-auth:apis[1] (sales).formerNames: "orders" is a current name; list only names no entry uses now.`,
  ],
  [
    "one former name claimed by two clients",
    (c) => {
      c.clients[0].formerNames = ["reports"];
      c.clients.push({ ...c.clients[0], name: "audit", formerNames: ["reports"] });
    },
    `apim-entra-auth:clients: the former name "reports" is listed by more than one entry.`,
  ],
  [
    "API path with a trailing slash",
    (c) => (c.apis[0].path = "inventory/"),
    `apim-entra-auth:apis[0] (orders).path: "inventory/" is not allowed; use a URL path of 1–400 characters without a leading or trailing slash, of letters, digits, '.', '_', '~', '-' and '/'`,
  ],
  [
    "rotation date in the future",
    (c) => (c.clients[0].secretRotatedOn = "2026-12-01"),
    `apim-entra-auth:clients[0] (reporting).secretRotatedOn: "2026-12-01" is in the future (today is 2026-11-23); use the day the secret is issued, at the latest today, so it expires after its lifetime and not later.`,
  ],
  [
    "client granted an API whose allowedClients excludes it",
    (c) => {
      c.apis[0].allowedClients = ["auditor", "0f0f0f0f-1111-2222-3333-444444444444"];
      c.clients.push({ ...c.clients[0], name: "auditor" });
    },
    `apim-entra-auth:clients[0] (reporting).apis[0]: "orders" accepts only the clients in apim-entra-auth:apis[0] (orders).allowedClients (auditor, 0f0f0f0f-1111-2222-3333-444444444444), so "reporting" would get a token the gateway refuses; add "reporting" there or remove the grant.`,
  ],
  [
    "federated issuer with a trailing slash GitHub does not write",
    (c) =>
      federatedOnly(c, {
        name: "main",
        issuer: "https://token.actions.githubusercontent.com/",
        subject: "repo:contoso/app:environment:prod",
      }),
    `apim-entra-auth:clients[0] (deployer).federatedCredentials[0].issuer: "https://token.actions.githubusercontent.com/" is not allowed; its tokens carry the issuer "https://token.actions.githubusercontent.com" and Entra compares issuers exactly: use "https://token.actions.githubusercontent.com".`,
  ],
  [
    "Entra issuer with a trailing slash",
    (c) =>
      federatedOnly(c, {
        name: "entra",
        issuer: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0/",
        subject: "00000000-0000-0000-0000-000000000001",
      }),
    `apim-entra-auth:clients[0] (deployer).federatedCredentials[0].issuer: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0/" is not allowed; its tokens carry the issuer "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0"`,
  ],
  [
    "protect that is not a boolean",
    (c) => (c.protect = "yes"),
    `apim-entra-auth:protect: "yes" is not allowed; use true or false`,
  ],
];

describe("configuration errors stop the program before anything is registered", () => {
  it("has at least 25 distinct bad inputs", () => {
    expect(new Set(badInputs.map(([name]) => name)).size).toBeGreaterThanOrEqual(25);
  });

  it.each(badInputs)("%s", async (_name, breakIt, expected) => {
    const config = guideConfig() as Config;
    breakIt(config);
    const failure = await evaluate(config).then(
      () => undefined,
      (error: unknown) => error,
    );
    // The module registry is reset per evaluation, so compare the class by name.
    expect((failure as Error).name).toBe("ProgramError");
    const programError = failure as ProgramError;
    expect(programError.message).toContain('Invalid configuration for stack "test":');
    expect(programError.message).toContain(expected);
    expect(programError.resources).toEqual([]);
  });
});

describe("a stack file's raw text", () => {
  it("reports a structured key that is not an object or list", async () => {
    const failure = (await evaluate({ ...guideConfig(), apis: "orders" }).catch((e: unknown) => e)) as ProgramError;
    expect(failure.message).toContain(`apim-entra-auth:apis: "orders" is not a YAML object or list.`);
    expect(failure.resources).toEqual([]);
  });
});

describe("Pulumi.yaml's declared keys", () => {
  it("are keys of the schema, with the schema's defaults", () => {
    const project = parse(readFileSync("Pulumi.yaml", "utf8")) as { config: Record<string, { default?: unknown }> };
    const schemaKeys = Object.keys(catalogueSchema.shape);
    for (const key of Object.keys(project.config)) expect(schemaKeys, key).toContain(key);
    const defaults = catalogueSchema.parse({
      apim: { resourceGroupName: "rg", serviceName: "apim" },
      apis: [guideApi()],
    });
    for (const [key, declaration] of Object.entries(project.config)) {
      if (declaration.default !== undefined)
        expect(defaults[key as keyof typeof defaults], key).toEqual(declaration.default);
    }
  });

  it("leave out the optional keys without a default, which the Pulumi CLI would require of every stack", () => {
    // The CLI refuses `up` of a stack that leaves a declared key without a default unset ("Stack 'dev' is missing
    // configuration values 'nameSuffix' and 'tenantId'"); the engine tier deploys the dev stack, which sets neither.
    const project = parse(readFileSync("Pulumi.yaml", "utf8")) as { config: Record<string, { default?: unknown }> };
    const shape = catalogueSchema.shape as Record<string, { safeParse(value: unknown): { success: boolean } }>;
    const requiredByCli = Object.entries(project.config)
      .filter(([, declaration]) => declaration.default === undefined)
      .map(([key]) => key);
    expect(requiredByCli.filter((key) => shape[key]?.safeParse(undefined).success)).toEqual([]);
  });
});

describe("issuers that end with a slash of their own", () => {
  it("are accepted when no well-known issuer differs from them only by that slash (an AKS OIDC issuer)", async () => {
    const issuer =
      "https://eastus.oic.prod-aks.azure.com/11111111-2222-3333-4444-555555555555/00000000-1111-2222-3333-444444444444/";
    const config = guideConfig({
      clients: [
        {
          name: "workload",
          displayName: "Workload",
          credential: "federated",
          federatedCredentials: [{ name: "aks", issuer, subject: "system:serviceaccount:orders:reporter" }],
        },
      ],
    });
    const stack = await evaluate(config);
    const credential = stack.resources.find((resource) => resource.name === "workload-federated-aks");
    expect(credential?.inputs.issuer).toBe(issuer);
  });
});
