// `pulumi import` with the real CLI of an object the tenant holds but the stack does not: the dev stack's admin-consent
// assignment, as a failed create leaves it orphaned (the assignment landed in Entra, the provider saved no id:
// hashicorp/terraform-provider-azuread PR #1896, docs/troubleshooting.md). Imported under its own name and parent with
// --generate-code=false (without it the import lands but the CLI exits 1 generating code: "loading package
// 'azuread@6.9.1': it looks like GetSchema is not implemented", as our provider serves no schema; the real one does),
// the next preview shows no change: the provider reads back exactly the three inputs the program gives it. The `import` resource option
// (apis[].existing) is proven by the adopt tests. What this cannot prove: Graph's real ids and read-after-write lag
// (local/graph.ts and local/providers/azuread follow the documented calls).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalSession, startLocalSession } from "./support/localSession";
import { changes, previewSteps } from "./support/previewSteps";

let session: LocalSession;

beforeAll(async () => {
  session = await startLocalSession();
  await session.localOk(["up", "--stack", "dev"]);
});

afterAll(async () => {
  await session?.close();
});

interface StateResource {
  urn: string;
  id?: string;
  type: string;
  parent?: string;
}

async function stateResources(): Promise<StateResource[]> {
  const exported = await session.localOk(["pulumi", "stack", "export", "--stack", "dev"]);
  return (JSON.parse(exported.out) as { deployment: { resources: StateResource[] } }).deployment.resources;
}

const consentType = "azuread:index/appRoleAssignment:AppRoleAssignment";

describe("pulumi import of an assignment the tenant holds and the stack lost", () => {
  it("brings it back under its URN, and the preview then shows no change", async () => {
    const deployed = (await stateResources()).find((resource) => resource.type === consentType);
    if (!deployed?.parent || !deployed.id) throw new Error("the dev stack holds no admin-consent assignment");
    expect(deployed.urn).toMatch(/::reporting--orders-admin-consent$/);

    // The orphan: the assignment stays in Entra, the stack forgets it; a preview would create it again.
    await session.localOk(["pulumi", "state", "delete", deployed.urn, "--yes", "--stack", "dev"]);
    expect(changes(await previewSteps(session, "dev"))).toEqual([
      "create AppRoleAssignment reporting--orders-admin-consent",
    ]);
    const upAgain = await session.local(["pulumi", "up", "--yes", "--non-interactive", "--stack", "dev"]);
    expect(upAgain.code).not.toBe(0);
    expect(upAgain.output).toContain("Permission being assigned already exists on the object");

    // Its id as a person finds it: the API's service principal's assignments, the one client's (dev's API has no users).
    const [, , apiPrincipal] = deployed.id.split("/");
    const assigned = await session.restOk("GET", `graph:/v1.0/servicePrincipals/${apiPrincipal}/appRoleAssignedTo`);
    const clients = (assigned.value as { id: string; principalType: string }[]).filter(
      (entry) => entry.principalType === "ServicePrincipal",
    );
    expect(clients.map((entry) => `/servicePrincipals/${apiPrincipal}/appRoleAssignedTo/${entry.id}`)).toEqual([
      deployed.id,
    ]);

    const imported = await session.local([
      "pulumi",
      "import",
      consentType,
      "reporting--orders-admin-consent",
      deployed.id,
      "--parent",
      `grant=${deployed.parent}`,
      "--generate-code=false",
      "--yes",
      "--non-interactive",
      "--stack",
      "dev",
    ]);
    expect(imported.code, imported.output).toBe(0);
    expect(imported.output).toMatch(/=\s+1 imported/);

    const after = (await stateResources()).find((resource) => resource.type === consentType);
    expect(after).toMatchObject({ urn: deployed.urn, id: deployed.id, parent: deployed.parent });
    const steps = await previewSteps(session, "dev");
    expect(changes(steps)).toEqual([]);
    expect(steps.find((step) => step.urn === deployed.urn)?.op).toBe("same");
  });
});
