// The deployer's permissions on the real engine: bootstrap/ deployed with the real CLI by the tenant's administrator
// (the committed Pulumi.contoso.yaml as it is), then the dev and prod stacks deployed AS the deployer it made, through
// every kind of change (create, add, rename without formerNames, remove a client, remove an API, destroy), and the
// same deployer without AppRoleAssignment.ReadWrite.All refused by Graph. The tenant enforces Application.ReadWrite.
// OwnedBy (local/graph.ts): the deployer may change and delete only what it owns, so this is the regression proof
// that every service principal the program makes keeps the deployer as its owner. What this cannot prove: that
// Microsoft Graph enforces exactly what local/graph.ts does (each rule there names its source), and the federated
// sign-in itself: the deployer signs in here with a local-only secret the administrator adds, which bootstrap/ never
// makes.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphPermissionsOf } from "../../bootstrap/grants";
import type { Deployer } from "../../local/localStack";
import { projectRoot } from "../../local/engine";
import { graphPermissions } from "../../local/graph";
import { localSubscriptionId } from "../../local/server";
import { parseStackOutputs } from "../../tools/sign-in/stackOutputs";
import { startLocalSession, type LocalSession } from "./support/localSession";
import {
  committedStackConfig,
  programCopy,
  projectWithStacks,
  removeTemporaryProjects,
  writeStackFile,
} from "./support/projects";
import { createAssignedGroups } from "./support/assignedGroups";
import { ensureServices, graphServicePrincipalId } from "./support/deployerTenant";

const bootstrapDir = path.join(projectRoot, "bootstrap");
const bootstrapStackFile = path.join(bootstrapDir, "Pulumi.contoso.yaml");
const bootstrapStackBytes = fs.readFileSync(bootstrapStackFile);
const services = [
  { resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" },
  { resourceGroupName: "rg-apim-prod", serviceName: "apim-contoso-prod" },
];

let session: LocalSession;
let project: string;
let deployer: Deployer;
let deployerPrincipalId: string;
let graphId: string;
let applicationsBeforeDev: string[];

const dev = committedStackConfig("dev");
const prod = committedStackConfig("prod");
type Entry = Record<string, unknown> & { name: string };
const devClients = dev.clients as Entry[];
const devApis = dev.apis as Entry[];
const stock: Entry = { ...(devApis[0] as Entry), name: "stock", displayName: "Stock API", path: "stock" };
delete stock.authorizationServer;
const client = (name: string, apis: string[]): Entry => ({
  ...(devClients[0] as Entry),
  name,
  displayName: name,
  apis,
});
/** The dev catalogue with the API `stock` and, when named, a client of it and of `orders`. */
const devWithStock = (clientName?: string) => ({
  ...dev,
  apis: [...devApis, stock],
  clients: [...devClients, ...(clientName ? [client(clientName, ["orders", "stock"])] : [])],
});

/** `npm run local -- up --stack <s>` of the test project as the deployer (the real pulumi up, then smoke). */
const upAsDeployer = (stack: string) => session.local(["up", "--stack", stack], { projectDir: project, deployer });
async function upAsDeployerOk(stack: string, config: Record<string, unknown>) {
  writeStackFile(project, stack, config);
  const up = await upAsDeployer(stack);
  if (up.code !== 0) throw new Error(`up of ${stack} as the deployer exited ${up.code}:\n${up.output}`);
  return up;
}

/** The owners of each service principal the stack's outputs name (its APIs' and clients'). */
async function servicePrincipalOwners(stack: string): Promise<string[][]> {
  const read = await session.localOk(["pulumi", "stack", "output", "--json", "--stack", stack], {
    projectDir: project,
  });
  const outputs = parseStackOutputs(read.out);
  const appIds = [...Object.values(outputs.apis), ...Object.values(outputs.clients)].map(({ clientId }) => clientId);
  return Promise.all(
    appIds.map(async (appId) => {
      const owners = await session.restOk("GET", `graph:/v1.0/servicePrincipals(appId='${appId}')/owners`);
      return (owners.value as { id: string }[]).map(({ id }) => id);
    }),
  );
}

const applicationNames = async () =>
  ((await session.restOk("GET", "graph:/v1.0/applications")).value as { displayName: string }[])
    .map(({ displayName }) => displayName)
    .sort();

beforeAll(async () => {
  session = await startLocalSession();
  // The APIM services the administrator made in the portal before running bootstrap/, which looks them up.
  await ensureServices(session, services);
  const bootstrap = { projectDir: bootstrapDir };
  await session.localOk(["pulumi", "stack", "select", "--create", "--non-interactive", "contoso"], bootstrap);
  await session.localOk(["pulumi", "up", "--yes", "--non-interactive", "--stack", "contoso"], bootstrap);
  const outputs = await session.localOk(["pulumi", "stack", "output", "--json", "--stack", "contoso"], bootstrap);
  const clientId = (JSON.parse(outputs.out) as { repositoryVariables: { AZURE_CLIENT_ID: string } }).repositoryVariables
    .AZURE_CLIENT_ID;
  const principal = await session.restOk("GET", `graph:/v1.0/servicePrincipals(appId='${clientId}')`);
  deployerPrincipalId = principal.id as string;
  graphId = await graphServicePrincipalId(session);
  project = projectWithStacks({ dev, prod });
});

afterAll(async () => {
  removeTemporaryProjects();
  await session?.close();
});

describe("bootstrap/ on the real engine", () => {
  it("makes the deployer with exactly its Graph permissions and federated subjects, no password; the stack file untouched", async () => {
    const assignments = await session.restOk(
      "GET",
      `graph:/v1.0/servicePrincipals/${deployerPrincipalId}/appRoleAssignments`,
    );
    const byId = Object.fromEntries(Object.entries(graphPermissions).map(([value, id]) => [id, value]));
    const granted = (assignments.value as { appRoleId: string; resourceId: string }[]).map((assignment) => {
      expect(assignment.resourceId).toBe(graphId);
      return byId[assignment.appRoleId];
    });
    expect(granted.sort()).toEqual(graphPermissionsOf({ delegatedConsent: true }).sort());

    const principal = await session.restOk("GET", `graph:/v1.0/servicePrincipals/${deployerPrincipalId}`);
    const app = await session.restOk("GET", `graph:/v1.0/applications(appId='${principal.appId}')`);
    expect(app.passwordCredentials).toEqual([]);
    const federated = await session.restOk("GET", `graph:/v1.0/applications/${app.id}/federatedIdentityCredentials`);
    expect((federated.value as { subject: string }[]).map(({ subject }) => subject).sort()).toEqual([
      "repo:contoso/apim-entra-auth:environment:dev",
      "repo:contoso/apim-entra-auth:environment:prod",
      "sc://contoso/platform/apim-entra-auth",
    ]);
    expect(fs.readFileSync(bootstrapStackFile)).toEqual(bootstrapStackBytes);

    // Test-only: a secret the administrator adds, so the deployer can sign in here without GitHub's OIDC token.
    const secret = await session.restOk("POST", `graph:/v1.0/applications/${app.id}/addPassword`, {
      passwordCredential: { displayName: "local tenant only" },
    });
    deployer = { clientId: principal.appId as string, clientSecret: secret.secretText as string };
    applicationsBeforeDev = await applicationNames();
  });
});

describe("the dev stack deployed as the deployer", () => {
  it("is created, and the deployer owns every service principal it made", async () => {
    const up = await upAsDeployerOk("dev", dev);
    expect(up.out).toContain("9 of 9 checks passed");
    expect(await servicePrincipalOwners("dev")).toEqual([[deployerPrincipalId], [deployerPrincipalId]]);
  });

  it("adds a client and an API", async () => {
    const up = await upAsDeployerOk("dev", devWithStock("billing"));
    expect(up.out).toContain("smoke: client billing → API stock (v2 tokens)");
    expect(up.out.split("\n").filter((line) => line === "9 of 9 checks passed")).toHaveLength(3);
    expect(await servicePrincipalOwners("dev")).toEqual(Array(4).fill([deployerPrincipalId]));
  });

  it("renames the client without formerNames: the old registration is deleted, the new one made", async () => {
    const up = await upAsDeployerOk("dev", devWithStock("invoicing"));
    expect(up.out).toContain("smoke: client invoicing → API stock (v2 tokens)");
    expect(up.out).toMatch(/- \d+ deleted/);
    const names = await applicationNames();
    expect(names.filter((name) => /billing|invoicing/.test(name))).toEqual([expect.stringContaining("invoicing")]);
  });

  it("removes the client", async () => {
    const up = await upAsDeployerOk("dev", devWithStock());
    expect(up.out).toMatch(/- \d+ deleted/);
    expect((await applicationNames()).filter((name) => name.includes("invoicing"))).toEqual([]);
  });

  it("removes the API", async () => {
    const up = await upAsDeployerOk("dev", dev);
    expect(up.out).toMatch(/- \d+ deleted/);
    expect(up.out).toContain("9 of 9 checks passed");
    const apis = await session.restOk(
      "GET",
      `arm:/subscriptions/${localSubscriptionId}/resourceGroups/rg-apim-dev/providers/Microsoft.ApiManagement/service/apim-contoso-dev/apis?api-version=2024-05-01`,
    );
    expect((apis.value as { name: string }[]).map(({ name }) => name)).not.toContain("stock");
  });

  it("is destroyed", async () => {
    const destroyed = await session.local(["destroy", "--stack", "dev"], { projectDir: project, deployer });
    expect(destroyed.code, destroyed.output).toBe(0);
    // The directory holds the applications it held before dev's first up: the administrator's and bootstrap/'s.
    expect(await applicationNames()).toEqual(applicationsBeforeDev);
  });
});

describe("the prod stack deployed as the deployer", () => {
  it("is created, with its developer portal's delegated consent", async () => {
    await createAssignedGroups(session, "prod");
    const up = await upAsDeployerOk("prod", prod);
    expect(up.out).toContain("9 of 9 checks passed");
    expect(await servicePrincipalOwners("prod")).toEqual(Array(4).fill([deployerPrincipalId]));
  });

  it("without AppRoleAssignment.ReadWrite.All, adding a client fails on its app role assignment with Graph's 403; given back, it succeeds", async () => {
    const assignments = await session.restOk(
      "GET",
      `graph:/v1.0/servicePrincipals/${deployerPrincipalId}/appRoleAssignments`,
    );
    const taken = (assignments.value as { id: string; appRoleId: string }[]).find(
      ({ appRoleId }) => appRoleId === graphPermissions["AppRoleAssignment.ReadWrite.All"],
    );
    expect(taken).toBeDefined();
    await session.restOk("DELETE", `graph:/v1.0/servicePrincipals/${graphId}/appRoleAssignedTo/${taken?.id}`);

    const withAudit = { ...prod, clients: [...(prod.clients as Entry[]), client("audit", ["orders"])] };
    writeStackFile(project, "prod", withAudit);
    const refused = await upAsDeployer("prod");
    expect(refused.code).not.toBe(0);
    // Graph's 403 for POST /servicePrincipals/{id}/appRoleAssignedTo names no permission ("Insufficient privileges
    // to complete the operation.", microsoftgraph/microsoft-graph-docs#10290): the output names the resource and
    // the call, and giving the one permission back makes the same up pass.
    expect(refused.output).toMatch(
      /azuread:index:AppRoleAssignment \(audit--orders-admin-consent\):\n\s*error: Could not create app role assignment: unexpected status 403 [^\n]*Authorization_RequestDenied: Insufficient privileges to complete the operation\./,
    );
    expect(refused.output).not.toMatch(
      /azuread:index:(ApplicationRegistration|ServicePrincipal|ApplicationPassword) \([^)]*\):\n\s*error/,
    );

    await session.restOk("POST", `graph:/v1.0/servicePrincipals/${graphId}/appRoleAssignedTo`, {
      principalId: deployerPrincipalId,
      resourceId: graphId,
      appRoleId: graphPermissions["AppRoleAssignment.ReadWrite.All"],
    });
    const up = await upAsDeployerOk("prod", withAudit);
    expect(up.out).toContain("smoke: client audit → API orders (v2 tokens)");
  });
});

describe("the negative control: a test-only copy of the program that leaves the deployer out of a client's owners", () => {
  it("is created, but removing the client fails: Graph refuses the deployer the delete of its ownerless principal", async () => {
    // Without `owners` the provider removes the caller from the principal's owners after creating it, and
    // Application.ReadWrite.OwnedBy no longer reaches it: what the dev stack above would hit without the fix.
    const copy = programCopy({
      "components/clientRegistration.ts": [
        "{ clientId: app.clientId, ...(owners ? { owners } : {}) }",
        "{ clientId: app.clientId }",
      ],
    });
    const control = { ...dev, nameSuffix: "control", apis: [stock], clients: [client("ledger", ["stock"])] };
    const controlProject = projectWithStacks({ control }, copy);
    const asDeployer = { projectDir: controlProject, deployer };
    const created = await session.local(["up", "--stack", "control"], asDeployer);
    expect(created.code, created.output).toBe(0);

    writeStackFile(controlProject, "control", { ...control, clients: [] });
    const removed = await session.local(["up", "--stack", "control"], asDeployer);
    expect(removed.code).not.toBe(0);
    expect(removed.output).toMatch(
      /azuread:index:ServicePrincipal \(ledger-sp\):\n\s*error: Deleting [^\n]*403[^\n]*Authorization_RequestDenied: Insufficient privileges to complete the operation\./,
    );
  });
});

describe("the one .local root both projects ran in", () => {
  it("holds each project's own stacks: the shadow project took each project's name in turn", () => {
    const stacks = path.join(session.root, "state", ".pulumi", "stacks");
    const held = Object.fromEntries(
      fs.readdirSync(stacks).map((projectName) => [
        projectName,
        fs
          .readdirSync(path.join(stacks, projectName))
          .filter((file) => file.endsWith(".json"))
          .sort(),
      ]),
    );
    expect(held).toEqual({
      "apim-entra-auth": ["control.json", "dev.json", "prod.json"],
      "apim-entra-auth-bootstrap": ["contoso.json"],
    });
  });
});
