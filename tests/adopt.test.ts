// npm run adopt against a Graph fake seeded the way seed-guide.txt's portal steps leave a tenant: the report, the
// entries, the merge into the stack file, the first `up` in the plan diff's words, and the refusals of bad input. The
// program is evaluated under the mock engine, with the objects as Graph holds them standing in for what the provider
// imports; the token path after adoption runs on the loopback stand-ins. What this cannot prove: that the azuread
// provider imports these ids and updates in place exactly what the diff says, or that real Entra still honours the
// portal's secret afterwards; that is the engine tier (docs/adopting.md, "Proof on a tenant").
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { today } from "../config/clock";
import { mergeIntoStackFile } from "../tools/adopt/stackMerge";
import { requestToken } from "../tools/sign-in/clientCredentials";
import { parseStackOutputs } from "../tools/sign-in/stackOutputs";
import { readStackFileConfig } from "../tools/preview/stackFiles";
import { projectDir } from "../tools/plan";
import { type EntraStandInOptions, startEntraStandIn } from "./support/entraStandIn";
import { evaluate, guideClient } from "./support/evaluate";
import { startBackendStandIn, startGatewayStandIn } from "./support/gatewayStandIn";
import { type AdoptRun, GraphFake, guideTenant, runAdoptAgainst, seedLikeTheGuide } from "./support/graphFake";
import { entraDirectoryOf } from "./support/stackDirectory";
import { projectWith } from "./support/stackFileChecks";

const { tenantId, deployer, portalUser, portalSecret } = guideTenant;

const shippedDev = fs.readFileSync(path.join(projectDir, "Pulumi.dev.yaml"), "utf8");
const handwritten = fs.readFileSync(path.join(__dirname, "fixtures", "stacks", "Pulumi.handwritten.yaml"), "utf8");

type Run = AdoptRun;

const adopt = (
  fake: GraphFake,
  argv: string[],
  options: { stackText?: string; dir?: string; env?: Record<string, string | undefined> } = {},
) => runAdoptAgainst(fake, options.dir ?? projectWith({ dev: options.stackText ?? shippedDev }), argv, options.env);

const lines = (run: Run) => run.out.split("\n");
const section = (run: Run, heading: string) => {
  const all = lines(run);
  const start = all.indexOf(heading);
  expect(start, `no line ${heading}`).toBeGreaterThanOrEqual(0);
  return all.slice(start + 1);
};

describe("adopting the guide's pair into the shipped dev stack", () => {
  const fake = new GraphFake(tenantId, deployer);
  const { client, api, scopeId } = seedLikeTheGuide(fake);
  const apiSp = fake.principalOf(api).id;
  const clientSp = fake.principalOf(client).id;
  let run: Run;
  const adopted = async () => (run ??= await adopt(fake, ["--api", "My-APIM-API", "--client", client.appId]));

  it("finds both by display name or client id and says what it keeps, adds and decides, with the guide's scope kept", async () => {
    const result = await adopted();
    expect(result.code, result.err).toBe(0);
    expect(result.err).toBe("Nothing written: run again with --write to merge the entries into Pulumi.dev.yaml.");
    const out = lines(result);
    expect(out[0]).toBe(`Tenant ${tenantId}, read through https://graph.test as ${deployer}.`);
    expect(out).toContain(
      `API My-APIM-API (client id ${api.appId}, object id ${api.id}) → apim-entra-auth:apis[0] (orders), the entry of its display name`,
    );
    expect(out).toEqual(
      expect.arrayContaining([
        `  - token version: requestedAccessTokenVersion is null, so it issues v1 tokens (aud api://${api.appId}); tokenVersion: 1 keeps them (the stack file said 2, which would change every token's audience and issuer)`,
        `  - identifier URI api://${api.appId}: kept`,
        `  - scope access_as_app (id ${scopeId}, admins only): kept with its id and managed (scope: access_as_app)`,
        "  - app role access_as_application: added, for applications; client-credentials tokens carry it in roles and the policy requires it",
        `  - the guide made access_as_app a scope, which a client-credentials token never carries; the role clients need cannot take the same value (an app's roles and scopes share one namespace: "It contains duplicate value"), so the scope keeps access_as_app for whoever uses it and the role is access_as_application`,
        `  - service principal ${apiSp}: assignment required from now on (it was not)`,
        `Client My-Client-App (client id ${client.appId}, object id ${client.id}) → apim-entra-auth:clients[0] (reporting), the entry of its display name`,
        `  - secret "portal" (key id ${client.passwordCredentials?.[0]?.keyId}, starts Xy7, ends 2027-05-23): made in the portal; it keeps working and the program never manages or deletes it`,
        `  - grant of orders: its API permissions list orders (Role ${scopeId}): the entry is kept and lists the program's app role; no admin consent of access_as_application yet: the program grants it (app role assignment)`,
      ]),
    );
  });

  it("prints the entries with the observed values and an existing block each, merged into the entries of those names", async () => {
    const printed = section(await adopted(), "Stack entries for Pulumi.dev.yaml:");
    const yaml = printed.slice(1, printed.indexOf("What the first `pulumi up` then does with them:") - 1).join("\n");
    const config = (parse(yaml) as { config: Record<string, unknown[]> }).config;
    expect(config["apim-entra-auth:apis"]).toEqual([
      {
        name: "orders",
        displayName: "My-APIM-API",
        path: "orders",
        backendUrl: "https://orders.dev.example.com",
        appRole: "access_as_application",
        scope: "access_as_app",
        tokenVersion: 1,
        authorizationServer: { client: "reporting" },
        existing: {
          objectId: api.id,
          clientId: api.appId,
          servicePrincipal: { objectId: apiSp, owners: [portalUser] },
          identifierUri: `api://${api.appId}`,
          scope: { id: scopeId, value: "access_as_app" },
        },
      },
    ]);
    // The shipped entry is the guide's client: its keys stay, the existing block is added.
    expect(config["apim-entra-auth:clients"]).toEqual([
      {
        ...guideClient(),
        existing: {
          objectId: client.id,
          clientId: client.appId,
          servicePrincipal: { objectId: clientSp, owners: [portalUser] },
          grants: [{ api: "orders", permissionListed: true }],
        },
      },
    ]);
  });

  it("says what the first up does: imports and in-place updates of everything adopted, never a replace or delete", async () => {
    const diff = section(await adopted(), "What the first `pulumi up` then does with them:").slice(1);
    const uri = Buffer.from(`api://${api.appId}`).toString("base64");
    expect(diff).toEqual([
      `= import ApplicationRegistration orders-app (/applications/${api.id}), then ~ update (requestedAccessTokenVersion)`,
      `= import ApplicationIdentifierUri orders-identifier-uri (/applications/${api.id}/identifierUris/${uri})`,
      `= import ApplicationPermissionScope orders-scope (/applications/${api.id}/permissionScopes/${scopeId}), then ~ update (adminConsentDescription, adminConsentDisplayName)`,
      "+ create ApplicationAppRole orders-app-role",
      `= import ServicePrincipal orders-sp (/servicePrincipals/${apiSp}), then ~ update (appRoleAssignmentRequired, owners)`,
      "  ! breaks every app that gets tokens for orders without being assigned to it: its service principal requires assignment from now on, so their token requests are refused (AADSTS501051); client reporting is assigned in the same update, and may be refused until its assignment exists; first add every other app that calls orders to this stack, granted (one made by hand: npm run adopt -- --client <its client id>)",
      `= import ApplicationRegistration reporting-app (/applications/${client.id}), then ~ update (requestedAccessTokenVersion)`,
      `= import ServicePrincipal reporting-sp (/servicePrincipals/${clientSp}), then ~ update (owners)`,
      "+ create ApplicationPassword reporting-secret-2026-11-23",
      `= import ApplicationApiAccess reporting--orders-permission (/applications/${client.id}/apiAccess/${api.appId}), then ~ update (roleIds)`,
      "+ create AppRoleAssignment reporting--orders-admin-consent",
      "+ create AuthorizationServer orders-authorization-server",
      "+ create Api orders-api",
      "+ create ApiOperation orders-get",
      "+ create ApiOperation orders-post",
      "+ create ApiOperation orders-put",
      "+ create ApiOperation orders-patch",
      "+ create ApiOperation orders-delete",
      "+ create ApiPolicy orders-policy",
      "11 to create, 6 to update, 0 to replace, 0 to delete, 7 to import",
    ]);
  });

  it("with --write merges them into Pulumi.dev.yaml, keeping its comments and other keys, and says so", async () => {
    const written = await adopt(fake, ["--api", api.appId, "--client", "My-Client-App", "--write"]);
    expect(written.code, written.err).toBe(0);
    expect(written.err).toMatch(/^Wrote .*Pulumi\.dev\.yaml\.$/);
    const text = fs.readFileSync(written.stackFile, "utf8");
    expect(text.startsWith("# The guide's example: one API (My-APIM-API) and one client (My-Client-App)")).toBe(true);
    const { config } = readStackFileConfig(written.dir, "dev");
    expect(config.apim).toEqual({ resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" });
    const [orders] = config.apis as Record<string, unknown>[];
    expect(orders).toMatchObject({ appRole: "access_as_application", scope: "access_as_app", tokenVersion: 1 });
    // Adopting again finds the entries by their existing blocks: nothing more changes in the file.
    const again = await adopt(fake, ["--api", "My-APIM-API", "--client", client.appId, "--write"], {
      dir: written.dir,
    });
    expect(again.code, again.err).toBe(0);
    expect(fs.readFileSync(written.stackFile, "utf8")).toBe(text);
    expect(again.out).toContain("→ apim-entra-auth:apis[0] (orders), which adopts it already");
  });

  it("after the first up, the portal's secret still gets a token that passes the program's policy (loopback stand-ins)", async () => {
    const written = await adopt(fake, ["--api", "My-APIM-API", "--client", "My-Client-App", "--write"]);
    const { config } = readStackFileConfig(written.dir, "dev");
    const directory: EntraStandInOptions = { tenantId, clients: [], apis: [], assignments: [] };
    const entra = await startEntraStandIn(directory);
    const backend = await startBackendStandIn();
    const servers: { close(): Promise<void> }[] = [entra, backend];
    try {
      const evaluation = await evaluate({ ...config, authorityHost: entra.authorityHost, tenantId }, "dev");
      const outputs = parseStackOutputs(evaluation.outputs);
      // The ids the tenant issues tokens for are the hand-made ones: the client id and the audience did not change.
      expect(outputs.clients.reporting?.clientId).toBe(client.appId);
      expect(outputs.apis.orders?.identifierUri).toBe(`api://${api.appId}`);
      const deployed = entraDirectoryOf(evaluation);
      expect(deployed.apis).toEqual([expect.objectContaining({ clientId: api.appId, tokenVersion: 1 })]);
      // The hand-made client keeps the portal's secret; the program's own is added beside it, as in Entra.
      entra.seed({
        ...deployed,
        clients: deployed.clients.map((each) =>
          each.clientId === client.appId ? { ...each, secret: portalSecret } : each,
        ),
      });
      const reporting = entra.directory.applicationByAppId(client.appId);
      if (!reporting) expect.fail("the adopted client is not in the stand-in's directory");
      entra.directory.addPassword(reporting.id, {}, outputs.clients.reporting?.clientSecret as string);
      const gateway = await startGatewayStandIn({
        apis: [{ path: "orders", policyXml: outputs.apis.orders?.policy ?? "", backendUrl: backend.url }],
      });
      servers.push(gateway);
      for (const secret of [portalSecret, outputs.clients.reporting?.clientSecret as string]) {
        const { accessToken } = await requestToken({
          tokenEndpoint: `${entra.authorityHost}/${tenantId}/oauth2/v2.0/token`,
          clientId: client.appId,
          clientSecret: secret,
          scope: `api://${api.appId}/.default`,
        });
        const response = await fetch(`${gateway.url}/orders/items`, {
          headers: { authorization: `Bearer ${accessToken}` },
        });
        expect(response.status, await response.text()).toBe(200);
      }
    } finally {
      await Promise.all(servers.map((server) => server.close()));
    }
  });
});

describe("adopting a grant that exists only partly", () => {
  it("imports the role and its assignment made with a script, and adds the permission list entry it lacks", async () => {
    const fake = new GraphFake(tenantId, deployer);
    const { client, api } = seedLikeTheGuide(fake);
    // Someone fixed the guide by hand: an app role beside the scope, assigned by script, never listed on the client.
    const roleId = fake.guid();
    api.appRoles = [
      { id: roleId, value: "Orders.Call", allowedMemberTypes: ["Application"], isEnabled: true, displayName: "Call" },
    ];
    client.requiredResourceAccess = [];
    const assignmentId = "Zbl6VO8ALEe-jUfX6eHWJ7hEdYvOTdJHtPj5OBsamXg";
    fake.assignments.push({
      id: assignmentId,
      appRoleId: roleId,
      principalId: fake.principalOf(client).id,
      principalType: "ServicePrincipal",
      resourceId: fake.principalOf(api).id,
    });
    const result = await adopt(fake, ["--api", "My-APIM-API", "--client", "My-Client-App"]);
    expect(result.code, result.err).toBe(0);
    expect(lines(result)).toEqual(
      expect.arrayContaining([
        `  - app role Orders.Call (id ${roleId}, for Application): kept with its id and managed (appRole: Orders.Call)`,
        "  - grant of orders: its API permissions do not list orders: the entry is added; admin consent (app role assignment of Orders.Call): kept",
      ]),
    );
    const diff = section(result, "What the first `pulumi up` then does with them:");
    expect(diff).toEqual(
      expect.arrayContaining([
        `= import ApplicationAppRole orders-app-role (/applications/${api.id}/appRoles/${roleId}), then ~ update (description, displayName)`,
        "+ create ApplicationApiAccess reporting--orders-permission",
        `= import AppRoleAssignment reporting--orders-admin-consent (/servicePrincipals/${fake.principalOf(api).id}/appRoleAssignedTo/${assignmentId})`,
      ]),
    );
    expect(diff.filter((line) => /^(\+-|-) /.test(line))).toEqual([]);
  });
});

describe("adopting a client that signs users in", () => {
  it("keeps its redirect URIs and delegated consent, and makes the API one that users call, with its assignees", async () => {
    const fake = new GraphFake(tenantId, deployer);
    const { api, scopeId } = seedLikeTheGuide(fake);
    const portal = fake.register("Orders-Portal", portalUser).application;
    portal.web = { redirectUris: ["https://portal.example.com/signin-oidc"] };
    portal.requiredResourceAccess = [{ resourceAppId: api.appId, resourceAccess: [{ id: scopeId, type: "Scope" }] }];
    const grantId = "l5eW7x0ga0-WDOntXzHateQDNpSH5-lPk9HjD3Sarjk";
    fake.delegatedGrants.push({
      id: grantId,
      clientId: fake.principalOf(portal).id,
      consentType: "AllPrincipals",
      resourceId: fake.principalOf(api).id,
      scope: "access_as_app",
    });
    fake.assignments.push({
      id: "uAsSiGnMeNt0000000000000000000000000000000",
      appRoleId: "00000000-0000-0000-0000-000000000000",
      principalId: portalUser,
      principalType: "User",
      resourceId: fake.principalOf(api).id,
    });
    const result = await adopt(fake, ["--api", "My-APIM-API", "--client", "Orders-Portal", "--write"]);
    expect(result.code, result.err).toBe(0);
    const { config } = readStackFileConfig(result.dir, "dev");
    const [orders] = config.apis as Record<string, unknown>[];
    expect(orders).toMatchObject({ callers: ["applications", "users"], assignedPrincipals: [portalUser] });
    const added = (config.clients as Record<string, unknown>[])[1];
    expect(added).toMatchObject({
      name: "orders-portal",
      kind: "web",
      redirectUris: ["https://portal.example.com/signin-oidc"],
      apis: ["orders"],
      existing: {
        redirectUris: ["https://portal.example.com/signin-oidc"],
        grants: [{ api: "orders", permissionListed: true, delegatedPermissionGrantId: grantId }],
      },
    });
    const diff = section(result, "What the first `pulumi up` then does with them:");
    expect(diff).toEqual(
      expect.arrayContaining([
        `= import ApplicationRedirectUris orders-portal-sign-in-redirect-uris (/applications/${portal.id}/redirectUris/Web)`,
        `= import ApplicationApiAccess orders-portal--orders-permission (/applications/${portal.id}/apiAccess/${api.appId})`,
        `= import ServicePrincipalDelegatedPermissionGrant orders-portal--orders-admin-consent (/oauth2PermissionGrants/${grantId})`,
      ]),
    );
    expect(diff.filter((line) => /^(\+-|-) /.test(line))).toEqual([]);
  });
});

describe("where the entries go", () => {
  it("makes new entries when no entry has the display name, with --backend-url and --path for the API", async () => {
    const fake = new GraphFake(tenantId, deployer);
    seedLikeTheGuide(fake);
    const renamed = shippedDev
      .replace("displayName: My-APIM-API", "displayName: Orders")
      .replace("displayName: My-Client-App", "displayName: Reporting");
    const missing = await adopt(fake, ["--api", "My-APIM-API"], { stackText: renamed });
    expect(missing.code).toBe(2);
    expect(missing.err).toBe(
      "error: --api My-APIM-API: needs a new stack entry (no entry has its display name), and an API entry needs the backend APIM forwards to: give --backend-url <url> once per new API, in the order of --api (--path too, default my-apim-api).",
    );
    const result = await adopt(
      fake,
      ["--api", "My-APIM-API", "--client", "My-Client-App", "--backend-url", "https://legacy.example.com", "--write"],
      { stackText: renamed },
    );
    expect(result.code, result.err).toBe(0);
    const { config } = readStackFileConfig(result.dir, "dev");
    const apis = config.apis as Record<string, unknown>[];
    const clients = config.clients as Record<string, unknown>[];
    expect(apis.map((entry) => [entry.name, entry.displayName, entry.path])).toEqual([
      ["orders", "Orders", "orders"],
      ["my-apim-api", "My-APIM-API", "my-apim-api"],
    ]);
    expect(apis[1]?.backendUrl).toBe("https://legacy.example.com");
    // The program's own secret for the adopted client, issued today, beside the portal's.
    expect(clients[1]).toMatchObject({
      name: "my-client-app",
      displayName: "My-Client-App",
      credential: "secret",
      secretRotatedOn: today(),
      apis: ["my-apim-api"],
    });
  });

  it("does not adopt into an entry whose own registration the program made: the stack is deployed, so a new entry is made", async () => {
    const fake = new GraphFake(tenantId, deployer);
    seedLikeTheGuide(fake);
    fake.register("My-APIM-API-dev", deployer);
    const result = await adopt(fake, ["--api", "My-APIM-API", "--backend-url", "https://legacy.example.com"]);
    expect(result.code, result.err).toBe(0);
    expect(lines(result)).toContain(
      `API My-APIM-API (client id ${fake.applications[1]?.appId}, object id ${fake.applications[1]?.id}) → apim-entra-auth:apis[1] (my-apim-api), a new entry: apim-entra-auth:apis[0] has its display name, but the program's own registration "My-APIM-API-dev" exists for it, so the stack is deployed and that entry keeps it`,
    );
  });

  it("keeps a hand-written file's comments, flow collections and quotes", async () => {
    const fake = new GraphFake(tenantId, deployer);
    seedLikeTheGuide(fake);
    const result = await adopt(fake, ["--api", "My-APIM-API", "--client", "My-Client-App", "--write"], {
      stackText: handwritten,
    });
    expect(result.code, result.err).toBe(0);
    const text = fs.readFileSync(result.stackFile, "utf8");
    for (const kept of [
      "# The guide's pair (Pulumi.guide.yaml) as a user might write it by hand",
      "# Which APIM service",
      "# Who may call it",
      "# the API",
      'resourceGroupName: "rg-apim-dev"',
      "serviceName: 'apim-contoso-dev'",
      'backendUrl: "https://orders.dev.example.com"',
      "authorizationServer: { client: reporting }",
    ]) {
      expect(text).toContain(kept);
    }
    expect(text).toContain("appRole: access_as_application");
    expect(text).toContain("apis: [ orders ]");
  });

  it("reads every page of a Graph list", async () => {
    const fake = new GraphFake(tenantId, deployer);
    const { api } = seedLikeTheGuide(fake);
    const owners = [portalUser, "0e0e0e0e-1111-4222-8333-444455556666", "0f0f0f0f-1111-4222-8333-444455556666"];
    fake.principalOf(api).owners = owners;
    const result = await adopt(fake, ["--api", "My-APIM-API"]);
    expect(result.code, result.err).toBe(0);
    expect(fake.calls.filter((call) => call.includes("/owners")).some((call) => call.includes("skiptoken=2"))).toBe(
      true,
    );
    expect(result.out).toContain(owners.map((owner) => `            - ${owner}`).join("\n"));
  });
});

describe("bad input is refused before anything is written, naming the argument", () => {
  const fake = new GraphFake(tenantId, deployer);
  const { client, api } = seedLikeTheGuide(fake);
  const foreign = {
    id: fake.guid(),
    appId: fake.guid(),
    displayName: "Partner-App",
    appOwnerOrganizationId: "0a0a0a0a-1111-4222-8333-444455556666",
    owners: [],
  };
  fake.servicePrincipals.push(foreign);
  fake.register("Twin", portalUser);
  fake.register("Twin", portalUser);
  const unknown = "00000000-1111-4222-8333-444455556666";

  it.each([
    [["--api", unknown], `error: --api ${unknown}: no app registration in tenant ${tenantId} has this client id.`],
    [
      ["--api", fake.principalOf(api).id],
      `error: --api ${fake.principalOf(api).id}: is the object id of the service principal of "My-APIM-API", not the app's client id; give its application (client) id ${api.appId}, or its display name.`,
    ],
    [
      ["--client", client.id],
      `error: --client ${client.id}: is the object id of the app registration "My-Client-App", not its client id; give its application (client) id ${client.appId}, or its display name.`,
    ],
    [
      ["--client", foreign.appId],
      `error: --client ${foreign.appId}: "Partner-App" is registered in another tenant (0a0a0a0a-1111-4222-8333-444455556666); this tenant (${tenantId}) only holds its service principal, which cannot be adopted here: adopt it with a stack and credentials of tenant 0a0a0a0a-1111-4222-8333-444455556666.`,
    ],
    [
      ["--api", "My-APIM-API", "--client", api.appId],
      `error: --client ${api.appId}: names "My-APIM-API" (client id ${api.appId}), which --api My-APIM-API names already; one app registration is adopted by one stack entry, as an API or as a client.`,
    ],
    [
      ["--client", "Twin"],
      `error: --client Twin: 2 app registrations have this display name (client ids ${fake.applications[2]?.appId}, ${fake.applications[3]?.appId}); give the client id of the one to adopt.`,
    ],
    [
      ["--api", "My-APIM-API", "--backend-url", "https://a.example.com"],
      "error: --backend-url or --path is given 1 times, but 0 API(s) need a new stack entry; give one per new API, in the order of --api.",
    ],
  ])("%j", async (argv, expected) => {
    const before = shippedDev;
    const result = await adopt(fake, [...argv, "--write"]);
    expect(result.err).toBe(expected);
    expect(result.code).toBe(2);
    expect(fs.readFileSync(result.stackFile, "utf8")).toBe(before);
  });

  it("refuses credentials of another tenant than the stack's, and none at all", async () => {
    const other = "0b0b0b0b-1111-4222-8333-444455556666";
    const stack = shippedDev.replace("config:\n", `config:\n  apim-entra-auth:tenantId: ${other}\n`);
    const mismatch = await adopt(fake, ["--api", "My-APIM-API"], { stackText: stack });
    expect(mismatch.err).toBe(
      `error: ARM_TENANT_ID is ${tenantId}, but the stack's apim-entra-auth:tenantId is ${other}: the registrations to adopt must be in the stack's tenant; sign in to ${other}.`,
    );
    expect(mismatch.code).toBe(2);
    const none = await adopt(fake, ["--api", "My-APIM-API"], { env: { ARM_CLIENT_SECRET: undefined } });
    expect(none.err).toBe(
      "error: adopt reads Microsoft Graph with client credentials, as the azuread provider does: set ARM_TENANT_ID, ARM_CLIENT_ID and ARM_CLIENT_SECRET, or a federated token in ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH or AZURE_FEDERATED_TOKEN_FILE, for the deployer or any identity with Application.Read.All.",
    );
    expect(none.code).toBe(2);
  });

  it("refuses two stack entries adopting the same object, naming both keys, and writes nothing", async () => {
    const legacy = (name: string) =>
      `    - name: ${name}\n      displayName: Legacy\n      secretRotatedOn: "2026-11-23"\n      existing: { objectId: ${client.id}, clientId: ${client.appId} }\n`;
    const twice = shippedDev.replace(
      "      apis: [orders]\n",
      `      apis: [orders]\n${legacy("legacy")}${legacy("legacy-copy")}`,
    );
    const result = await adopt(fake, ["--client", "My-Client-App", "--write"], { stackText: twice });
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      `The stack file with these entries would not be valid, so nothing is written; fix the stack file first:\n  - apim-entra-auth:clients[2] (legacy-copy).existing.objectId: "${client.id}" is already apim-entra-auth:clients[1] (legacy).existing.objectId; two entries cannot adopt the same app registration's object id: keep one entry for it and remove the other's existing block.`,
    );
    expect(fs.readFileSync(result.stackFile, "utf8")).toBe(twice);
  });

  it("says which permission Graph wants when it refuses the signed-in identity", async () => {
    const refusing = new GraphFake(tenantId, deployer);
    refusing.forbidden = true;
    const result = await adopt(refusing, ["--api", "My-APIM-API"]);
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      "error: Microsoft Graph: Authorization_RequestDenied: Insufficient privileges to complete the operation. — the signed-in identity needs Application.Read.All (an application permission, admin-consented)",
    );
  });
});

describe("mergeIntoStackFile", () => {
  it("keeps the comment of a value it changes, the other keys of the entry and the other entries", () => {
    const text = [
      "config:",
      "  apim-entra-auth:apis:",
      "    - name: orders",
      "      appRole: access_as_app # application permission → roles claim",
      "      # the token format",
      "      tokenVersion: 2",
      "    - name: ledger # not adopted",
      "      path: ledger",
      "",
    ].join("\n");
    const plan = {
      section: "apis" as const,
      name: "orders",
      target: 0,
      values: { appRole: "access_as_application", tokenVersion: 1, existing: { objectId: "o", clientId: "c" } },
      report: [],
      heading: "",
    };
    expect(mergeIntoStackFile(text, [plan], "apim-entra-auth").text).toBe(
      [
        "config:",
        "  apim-entra-auth:apis:",
        "    - name: orders",
        "      appRole: access_as_application # application permission → roles claim",
        "      # the token format",
        "      tokenVersion: 1",
        "      existing:",
        "        objectId: o",
        "        clientId: c",
        "    - name: ledger # not adopted",
        "      path: ledger",
        "",
      ].join("\n"),
    );
  });

  it("quotes a new entry's dates, which the Pulumi CLI's YAML reader would otherwise take for timestamps", () => {
    const plan = {
      section: "clients" as const,
      name: "second",
      target: undefined,
      values: { name: "second", credential: "secret", secretRotatedOn: "2026-12-01", apis: ["orders"] },
      report: [],
      heading: "",
    };
    const merged = mergeIntoStackFile(
      "config:\n  apim-entra-auth:clients:\n    - name: reporting\n",
      [plan],
      "apim-entra-auth",
    ).text;
    expect(merged).toContain('      secretRotatedOn: "2026-12-01"\n');
    expect(merged).toContain("    - name: second\n      credential: secret\n");
  });
});
