// Adopting the guide's hand-made registrations on the local tenant, with the real engine: My-Client-App and
// My-APIM-API made through the tenant's Graph as the guide's portal steps make them (the scope access_as_app "granted
// as an application permission", v1 tokens, a portal secret), a hand-written validate-jwt policy like the guide's
// letting the portal secret's token through; then `npm run local -- adopt --write` (tools/adopt.ts signed in as the
// administrator) and the real `pulumi up` of the entries it wrote. What this cannot prove: that Microsoft's azuread
// provider imports these ids as ours does, or that Entra ID and APIM behave as the local tenant's Graph, token endpoint
// and gateway do (local/providers/azuread, local/graph.ts, local/tokens.ts, local/gateway.ts follow their documents).
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { decodeJwt } from "jose";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStackOutputs, type StackOutputs } from "../../tools/sign-in/stackOutputs";
import { projectRoot } from "../../local/engine";
import { guideScope } from "../support/graphFake";
import { putApimService } from "./support/apimService";
import { changes, previewSteps } from "./support/previewSteps";
import { projectWithStacks, removeTemporaryProjects } from "./support/projects";
import { callApi, clientToken, type LocalSession, startLocalSession } from "./support/localSession";

const day = "2026-12-01";
const armVersion = "api-version=2024-05-01";

let session: LocalSession;
let projectDir: string;

interface HandMadeApp {
  id: string;
  appId: string;
  principalId: string;
  /** The secret made in the portal (Certificates & secrets), its key id. */
  portalSecret: string;
  portalKeyId: string;
}
let client: HandMadeApp;
let api: HandMadeApp;
let scopeId: string;
let outputs: StackOutputs;

const tokenEndpoint = () => `${session.login}/${session.tenantId}/oauth2/v2.0/token`;

/** A client-credentials token for `scope`, failing the test with the tenant's refusal. */
async function tokenFor(clientId: string, clientSecret: string, scope: string): Promise<string> {
  const answer = await clientToken(session, { tokenEndpoint: tokenEndpoint(), clientId, clientSecret }, scope);
  if ("refused" in answer) throw new Error(`no token for ${clientId}: ${answer.refused}`);
  return answer.token;
}

/** New registration in the portal: the application, its service principal (the portal makes both), a secret. */
async function registerInPortal(displayName: string): Promise<HandMadeApp> {
  const app = await session.restOk("POST", "graph:/v1.0/applications", { displayName });
  const principal = await session.restOk("POST", "graph:/v1.0/servicePrincipals", { appId: app.appId });
  const password = await session.restOk("POST", `graph:/v1.0/applications/${String(app.id)}/addPassword`, {
    passwordCredential: { displayName: "portal" },
  });
  return {
    id: app.id as string,
    appId: app.appId as string,
    principalId: principal.id as string,
    portalSecret: password.secretText as string,
    portalKeyId: password.keyId as string,
  };
}

/** `npm run local -- pulumi stack output` of the test project's dev stack. */
async function stackOutputs(): Promise<StackOutputs> {
  const run = await session.localOk(["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", "dev"], {
    projectDir,
  });
  return parseStackOutputs(run.out);
}

const stackFile = () =>
  parse(fs.readFileSync(path.join(projectDir, "Pulumi.dev.yaml"), "utf8")) as {
    config: Record<string, { name: string; existing?: Record<string, unknown> }[]>;
  };

beforeAll(async () => {
  session = await startLocalSession();
  await session.restartOn(day);
  // The dev stack file as committed, its text (comments and quoting kept, as adopt keeps them): its orders and
  // reporting entries carry My-APIM-API's and My-Client-App's display names.
  projectDir = projectWithStacks({ dev: fs.readFileSync(path.join(projectRoot, "Pulumi.dev.yaml"), "utf8") });
});

afterAll(async () => {
  await session?.close();
  removeTemporaryProjects();
});

describe("the guide's pair, made by hand", () => {
  it("is seeded as the portal steps make it: the scope's admin consent as an application permission is refused", async () => {
    client = await registerInPortal("My-Client-App");
    api = await registerInPortal("My-APIM-API");
    scopeId = randomUUID();
    // Expose an API: Application ID URI api://<API-CLIENT-ID>, scope access_as_app, admins only. The token version is
    // never set: requestedAccessTokenVersion stays null, and the API gets v1 tokens.
    await session.restOk("PATCH", `graph:/v1.0/applications/${api.id}`, {
      identifierUris: [`api://${api.appId}`],
      api: {
        oauth2PermissionScopes: [guideScope(scopeId)],
      },
    });
    // API permissions → My-APIM-API → Application permission → access_as_app: the scope's id listed as a role.
    await session.restOk("PATCH", `graph:/v1.0/applications/${client.id}`, {
      requiredResourceAccess: [{ resourceAppId: api.appId, resourceAccess: [{ id: scopeId, type: "Role" }] }],
    });
    // Grant admin consent: an app role assignment of an id that is no app role of the API.
    const consent = await session.rest("POST", `graph:/v1.0/servicePrincipals/${api.principalId}/appRoleAssignedTo`, {
      principalId: client.principalId,
      resourceId: api.principalId,
      appRoleId: scopeId,
    });
    expect(consent.code).not.toBe(0);
    const application = await session.restOk("GET", `graph:/v1.0/applications/${api.id}`);
    expect((application.api as { requestedAccessTokenVersion: unknown }).requestedAccessTokenVersion).toBeNull();
  });

  it("gets a v1 token with the portal secret, which a hand-written policy like the guide's lets through", async () => {
    const token = await tokenFor(client.appId, client.portalSecret, `api://${api.appId}/.default`);
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      aud: `api://${api.appId}`,
      ver: "1.0",
      iss: `https://sts.windows.net/${session.tenantId}/`,
    });
    expect(claims.roles).toBeUndefined();

    // APIM: the service, an API at myapi, and the guide's step 6 with the v1 metadata its v1 tokens need.
    const apimService = await putApimService(session, "rg-apim-dev", "apim-contoso-dev");
    await session.restOk("PUT", `arm:${apimService}/apis/myapi?${armVersion}`, {
      properties: {
        displayName: "My API",
        path: "myapi",
        serviceUrl: "https://orders.dev.example.com",
        protocols: ["https"],
        subscriptionRequired: false,
      },
    });
    await session.restOk("PUT", `arm:${apimService}/apis/myapi/operations/get-endpoint?${armVersion}`, {
      properties: { displayName: "endpoint", method: "GET", urlTemplate: "/*" },
    });
    const policy = [
      "<policies><inbound><base />",
      '<validate-jwt header-name="Authorization">',
      `<openid-config url="${session.login}/${session.tenantId}/.well-known/openid-configuration" />`,
      `<audiences><audience>api://${api.appId}</audience></audiences>`,
      "</validate-jwt>",
      "</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>",
    ].join("");
    await session.restOk("PUT", `arm:${apimService}/apis/myapi/policies/policy?${armVersion}`, {
      properties: { format: "rawxml", value: policy },
    });
    const handMadeUrl = `${session.login}/gateway/apim-contoso-dev/myapi`;
    expect(await callApi(session, handMadeUrl, token)).toBe(200);
    expect(await callApi(session, handMadeUrl, "not-a-token")).toBe(401);
  });
});

describe("npm run local -- adopt, then pulumi up", () => {
  it("writes entries that keep v1 tokens and the guide's scope, and give the role clients need another value", async () => {
    const adopt = await session.local(
      ["adopt", "--stack", "dev", "--api", "My-APIM-API", "--client", "My-Client-App", "--write"],
      { projectDir },
    );
    expect(adopt.code, adopt.output).toBe(0);
    expect(adopt.out).toContain(`= import ApplicationRegistration orders-app (/applications/${api.id})`);
    // Nothing replaced or deleted (the plan diff's `+-` and `-`).
    expect(adopt.out).not.toMatch(/^(\+-|-) /m);
    const [orders] = stackFile().config["apim-entra-auth:apis"] ?? [];
    const [reporting] = stackFile().config["apim-entra-auth:clients"] ?? [];
    expect(orders).toMatchObject({
      name: "orders",
      appRole: "access_as_application",
      scope: "access_as_app",
      tokenVersion: 1,
      existing: {
        objectId: api.id,
        clientId: api.appId,
        servicePrincipal: { objectId: api.principalId },
        identifierUri: `api://${api.appId}`,
        scope: { id: scopeId, value: "access_as_app" },
      },
    });
    expect(reporting).toMatchObject({
      name: "reporting",
      existing: {
        objectId: client.id,
        clientId: client.appId,
        servicePrincipal: { objectId: client.principalId },
        grants: [{ api: "orders", permissionListed: true }],
      },
    });
  });

  it("previews imports and in-place updates only: nothing adopted is replaced or deleted", async () => {
    await session.localOk(["pulumi", "stack", "init", "dev"], { projectDir });
    const steps = await previewSteps(session, "dev", { projectDir });
    const adopted = [
      "orders-app",
      "orders-identifier-uri",
      "orders-scope",
      "orders-sp",
      "reporting-app",
      "reporting-sp",
    ];
    for (const name of adopted) {
      const step = steps.find((each) => each.name === name);
      expect(step?.op, name).toMatch(/^(import|import-replacement)$/);
    }
    expect(steps.filter((step) => /replace|delete/.test(step.op)).map((step) => `${step.op} ${step.name}`)).toEqual([]);
    expect(steps.find((step) => step.name === "reporting--orders-permission")?.op).toBe("import");
  });

  it("deploys with the same client ids and identifier URI, and the smoke test passes with the program's secret", async () => {
    const up = await session.localOk(["up", "--stack", "dev"], { projectDir });
    expect(up.out).toMatch(/^GET with token\s+not 401\/403\s+200\s+pass$/m);
    outputs = await stackOutputs();
    expect(outputs.apis.orders).toMatchObject({
      clientId: api.appId,
      identifierUri: `api://${api.appId}`,
      appRole: "access_as_application",
      tokenVersion: 1,
    });
    expect(outputs.clients.reporting?.clientId).toBe(client.appId);
    // The portal's secret is still there, beside the program's own.
    const application = await session.restOk("GET", `graph:/v1.0/applications/${client.id}`);
    const keyIds = (application.passwordCredentials as { keyId: string }[]).map((credential) => credential.keyId);
    expect(keyIds).toContain(client.portalKeyId);
    expect(keyIds).toHaveLength(2);
  });

  it("lets the portal secret's token and the program's secret's token through the managed policy, with the role", async () => {
    const orders = outputs.apis.orders as StackOutputs["apis"][string];
    const reporting = outputs.clients.reporting as StackOutputs["clients"][string];
    const scope = `api://${api.appId}/.default`;
    for (const secret of [client.portalSecret, reporting.clientSecret ?? ""]) {
      const token = await tokenFor(client.appId, secret, scope);
      expect(decodeJwt(token)).toMatchObject({ aud: `api://${api.appId}`, roles: ["access_as_application"] });
      expect(await callApi(session, orders.url, token)).toBe(200);
    }
    // Any other app of the tenant, which the guide let get a token, is refused one now: assignment is required.
    const stranger = await registerInPortal("Some-Other-App");
    const refused = await clientToken(
      session,
      { tokenEndpoint: tokenEndpoint(), clientId: stranger.appId, clientSecret: stranger.portalSecret },
      scope,
    );
    expect(refused).toMatchObject({ refused: expect.stringContaining("AADSTS501051") });
  });

  it("previews no changes a second time", async () => {
    expect(changes(await previewSteps(session, "dev", { projectDir }))).toEqual([]);
  });
});

describe("a grant that exists only partly", () => {
  it("a client consented by hand to the role but with no API permission listed: the consent is imported, the permission added", async () => {
    const second = await registerInPortal("My-Second-Client");
    const apiApplication = await session.restOk("GET", `graph:/v1.0/applications/${api.id}`);
    const role = (apiApplication.appRoles as { id: string; value: string }[]).find(
      (each) => each.value === "access_as_application",
    );
    const consent = await session.restOk("POST", `graph:/v1.0/servicePrincipals/${api.principalId}/appRoleAssignedTo`, {
      principalId: second.principalId,
      resourceId: api.principalId,
      appRoleId: role?.id,
    });

    const adopt = await session.local(
      ["adopt", "--stack", "dev", "--api", "My-APIM-API", "--client", "My-Second-Client", "--write"],
      { projectDir },
    );
    expect(adopt.code, adopt.output).toBe(0);
    const entry = stackFile().config["apim-entra-auth:clients"]?.find(
      (each) => (each.existing as { clientId?: string } | undefined)?.clientId === second.appId,
    );
    expect(entry?.existing?.grants).toEqual([{ api: "orders", appRoleAssignmentId: consent.id }]);

    const steps = await previewSteps(session, "dev", { projectDir });
    const name = entry?.name as string;
    expect(steps.find((step) => step.name === `${name}--orders-admin-consent`)?.op).toBe("import");
    expect(steps.find((step) => step.name === `${name}--orders-permission`)?.op).toBe("create");
    expect(steps.filter((step) => /replace|delete/.test(step.op)).map((step) => `${step.op} ${step.name}`)).toEqual([]);

    await session.localOk(["up", "--stack", "dev"], { projectDir });
    const listed = await session.restOk("GET", `graph:/v1.0/applications/${second.id}`);
    expect(listed.requiredResourceAccess).toEqual([
      { resourceAppId: api.appId, resourceAccess: [{ id: role?.id, type: "Role" }] },
    ]);
    const assignments = await session.restOk(
      "GET",
      `graph:/v1.0/servicePrincipals/${second.principalId}/appRoleAssignments`,
    );
    expect((assignments.value as { id: string }[]).map((each) => each.id)).toEqual([consent.id]);
    const token = await tokenFor(second.appId, second.portalSecret, `api://${api.appId}/.default`);
    expect(await callApi(session, outputs.apis.orders?.url as string, token)).toBe(200);
    expect(changes(await previewSteps(session, "dev", { projectDir }))).toEqual([]);
  });
});
