// The other-language examples deployed with the real engine: examples/yaml as shipped (the official YAML host), and
// examples/python and examples/go with the SDK `pulumi package gen-sdk` writes (pulumi from PyPI in Python's virtualenv,
// the SDK module go.mod replaces for Go; the official Python and Go hosts), each run `npm run local -- up` into a local
// tenant of their own, which runs the smoke test against the stack's outputs through the local gateway; the component
// package is this checkout, started by the CLI from the examples' `packages:` entry. What this cannot prove: that
// Microsoft's providers, Entra ID and APIM behave as the local tenant's do (see localUp.test.ts); the engine, the
// language hosts, the SDKs and the component are the real thing.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../local/engine";
import { parseStackOutputs, type StackOutputs } from "../../tools/sign-in/stackOutputs";
import {
  type ComponentPackageWorkspace,
  componentPackageWorkspace,
  goExample,
  pythonExample,
} from "./componentPackageWorkspace";
import { putApimService } from "./support/apimService";
import { callApi, clientToken, type LocalSession, startLocalSession } from "./support/localSession";

const day = "2026-12-01";

/** A tenant of its own on a pinned day, with the APIM service the examples name as existing. */
async function tenantForExamples(): Promise<LocalSession> {
  const session = await startLocalSession();
  await session.restartOn(day);
  await putApimService(session, "rg-apim-dev", "apim-contoso-dev");
  return session;
}

/**
 * `npm run local -- up` of the program's dev stack (it has no stack file: the local run makes the stack's copy), the
 * smoke test's verdict in its output, and the stack's outputs.
 */
async function deploy(session: LocalSession, project: string): Promise<StackOutputs> {
  const up = await session.localOk(["--project", project, "up", "--stack", "dev"]);
  expect(up.out).toMatch(/^GET with token\s+not 401\/403\s+200\s+pass$/m);
  expect(up.out).toMatch(/\b(\d+) of \1 checks passed/);
  const read = await session.localOk([
    "--project",
    project,
    ...["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", "dev"],
  ]);
  const outputs = parseStackOutputs(read.out);
  // The client's secret stays a secret in the stack's outputs.
  const shown = await session.localOk(["--project", project, "pulumi", "stack", "output", "--json", "--stack", "dev"]);
  expect(outputs.clients.reporting?.clientSecret).toMatch(/^\S{20,}$/);
  expect(shown.out).not.toContain(outputs.clients.reporting?.clientSecret as string);
  return outputs;
}

/** What the program created is in the tenant, named as it says, and the client's token passes its API's gateway. */
async function expectDeployed(session: LocalSession, outputs: StackOutputs) {
  const orders = outputs.apis.orders as StackOutputs["apis"][string];
  const reporting = outputs.clients.reporting as StackOutputs["clients"][string];
  expect(orders.url).toBe(`${session.login}/gateway/apim-contoso-dev/orders`);
  expect(reporting.tokenEndpoint).toBe(`${session.login}/${session.tenantId}/oauth2/v2.0/token`);
  const api = await session.restOk("GET", `graph:/v1.0/applications(appId='${orders.clientId}')`);
  const client = await session.restOk("GET", `graph:/v1.0/applications(appId='${reporting.clientId}')`);
  expect([api.displayName, client.displayName]).toEqual(["My-APIM-API-dev", "My-Client-App-dev"]);

  const token = await clientToken(
    session,
    {
      tokenEndpoint: reporting.tokenEndpoint ?? "",
      clientId: reporting.clientId,
      clientSecret: reporting.clientSecret ?? "",
    },
    `${orders.identifierUri}/.default`,
  );
  if ("refused" in token) throw new Error(token.refused);
  expect(await callApi(session, orders.url, token.token)).toBe(200);
  expect(await callApi(session, orders.url, "not-a-token")).toBe(401);
}

describe("examples/yaml (the official YAML host)", () => {
  let session: LocalSession;
  const projectDir = path.join(projectRoot, "examples", "yaml");
  const projectFile = fs.readFileSync(path.join(projectDir, "Pulumi.yaml"));

  beforeAll(async () => {
    session = await tenantForExamples();
  });
  afterAll(async () => session?.close());

  it("as shipped, deploys into the local tenant and the smoke test passes against what it created", async () => {
    // As docs/local-tenant.md writes it: npm run local -- --project examples/yaml up (from the repository's root).
    await expectDeployed(session, await deploy(session, "examples/yaml"));
    // The local run wrote its stack copy and paths under the tenant's root, never into the example.
    expect(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"))).toEqual(projectFile);
    expect(fs.readdirSync(projectDir)).toEqual(["Pulumi.yaml"]);
  });
});

/** An example whose program uses the SDK `pulumi package gen-sdk` writes: made ready, then deployed and smoked. */
function deploysWithItsSdk(
  title: string,
  prepare: (workspace: ComponentPackageWorkspace) => Promise<{ program: string }>,
) {
  describe(title, () => {
    let session: LocalSession;
    let workspace: ComponentPackageWorkspace;

    beforeAll(async () => {
      workspace = await componentPackageWorkspace("examples-sdk-");
      session = await tenantForExamples();
    });
    afterAll(async () => {
      await session?.close();
      workspace?.close();
    });

    it("deploys into the local tenant and the smoke test passes against what it created", async () => {
      const { program } = await prepare(workspace);
      await expectDeployed(session, await deploy(session, program));
    });
  });
}

deploysWithItsSdk("examples/python (the official Python host; the SDK and pulumi in its virtualenv)", (workspace) =>
  pythonExample(workspace, "python"),
);
deploysWithItsSdk("examples/go (the official Go host; the SDK where its go.mod's replace names it)", (workspace) =>
  goExample(workspace, "go"),
);
