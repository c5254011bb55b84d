import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { renderPlanMarkdown } from "../tools/preview/planReport";
import { readStackFileConfig, stackFileOf, stackNames } from "../tools/preview/stackFiles";
import { projectDir, runPlan } from "../tools/plan";
import { evaluate, guideConfig } from "./support/evaluate";
import {
  evaluateStackFile,
  knownValidOn,
  projectWith,
  stackFileChecks,
  todayVariable,
  withToday,
  writePlan,
} from "./support/stackFileChecks";

/** The guide's pair, a catalogue the tests know; the user's own stack files are never asserted on. */
const guideYaml = fs.readFileSync(path.join(__dirname, "fixtures", "stacks", "Pulumi.guide.yaml"), "utf8");
const guideProject = projectWith({ dev: guideYaml });

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

describe("committed stack files", () => {
  it.each(stackNames(projectDir))("Pulumi.%s.yaml passes every stack-file check", async (stack) => {
    await stackFileChecks(projectDir, stack);
  });

  it("are the user's data, checked for what they declare: prettier leaves them alone, however they are written", async () => {
    // The guide's stack written by hand in another style, which prettier --check (part of npm test) would refuse.
    const handwritten = fs.readFileSync(path.join(__dirname, "fixtures", "stacks", "Pulumi.handwritten.yaml"), "utf8");
    expect(parse(handwritten)).toEqual(parse(guideYaml));
    const prettier = await import("prettier");
    expect(await prettier.check(handwritten, { parser: "yaml" })).toBe(false);
    const ignorePath = path.join(projectDir, ".prettierignore");
    const ignored = async (file: string) =>
      (await prettier.getFileInfo(path.join(projectDir, file), { ignorePath })).ignored;
    for (const file of [
      "Pulumi.dev.yaml",
      "Pulumi.prod.yaml",
      "Pulumi.eu.prod.yaml",
      "bootstrap/Pulumi.contoso.yaml",
    ]) {
      expect(await ignored(file), file).toBe(true);
    }
    expect(await ignored("Pulumi.yaml")).toBe(false);
  });
});

/**
 * An edit like the docs' (which tests/docs.test.ts makes to the shipped stack) made to the project's own stack file,
 * whatever it holds: the first API renamed (its old name kept in formerNames and its grants following it), plus a
 * new API and a new federated client granted it. The new client is granted only the new API,
 * so whatever the user's first API allows (an allow-list, users only) cannot make the edit invalid.
 */
function editCatalogue(stackYaml: string): { yaml: string; renamed: string; formerName: string } {
  const document = parse(stackYaml) as { config: Record<string, unknown> };
  const config = document.config;
  const apis = config["apim-entra-auth:apis"] as { name: string; formerNames?: string[] }[];
  const clients = (config["apim-entra-auth:clients"] ?? []) as { apis?: string[] }[];
  const api = apis[0] as { name: string; formerNames?: string[] };
  const formerName = api.name;
  const renamed = `${formerName.slice(0, 24).replace(/-+$/, "")}-next`;
  api.formerNames = [...(api.formerNames ?? []), formerName];
  api.name = renamed;
  for (const client of clients) client.apis = client.apis?.map((name) => (name === formerName ? renamed : name));
  apis.push({
    name: "added-api",
    displayName: "Added API",
    path: "added-api",
    backendUrl: "https://added.example.com",
  } as never);
  clients.push({
    name: "added-client",
    displayName: "Added client",
    credential: "federated",
    federatedCredentials: [
      {
        name: "main",
        issuer: "https://token.actions.githubusercontent.com",
        subject: "repo:contoso/orders:ref:refs/heads/main",
      },
    ],
    apis: ["added-api"],
  } as never);
  config["apim-entra-auth:clients"] = clients;
  return { yaml: stringify(document), renamed, formerName };
}

describe("the stack-file checks", () => {
  it("hold for the project's stack file after a rename, a new API and a new client, once the plan is refreshed", async () => {
    const dir = projectWith({});
    fs.cpSync(path.join(projectDir, "plans"), path.join(dir, "plans"), { recursive: true });
    const { yaml, renamed, formerName } = editCatalogue(fs.readFileSync(stackFileOf(projectDir, "dev"), "utf8"));
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), yaml);

    await expect(stackFileChecks(dir, "dev")).rejects.toThrow("plans/dev.md is stale");
    await writePlan(dir, "dev");
    await stackFileChecks(dir, "dev");
    const plan = fs.readFileSync(path.join(dir, "plans", "dev.md"), "utf8");
    expect(plan).toContain(`**ApiRegistration (component)** \`${renamed}\` — formerly \`${formerName}\``);
    expect(plan).toContain("**ClientRegistration (component)** `added-client`");
    expect(plan).toContain("**ProtectedApi (component)** `added-api`");
  });

  it("refuse a stack file the program refuses, naming the file and the key", async () => {
    const dir = projectWith({ dev: guideYaml.replace("serviceName: apim-contoso-dev", "serviceName: -apim") });
    await expect(stackFileChecks(dir, "dev")).rejects.toThrow(
      /Pulumi\.dev\.yaml is not valid as of 2026-11-23:\n[^]*apim-entra-auth:apim\.serviceName: "-apim" is not allowed/,
    );
  });

  it.each([
    ["no date", "config: {}\n", undefined],
    [
      "the newest of several rotation dates",
      guideYaml.replace("apis: [orders]", "apis: [orders]\n    - { name: b, secretRotatedOn: '2027-01-02' }"),
      "2027-01-02",
    ],
    [
      "a rotatedOn in a secrets list",
      "config:\n  p:clients:\n    - secrets:\n        - { rotatedOn: '2026-01-01' }\n        - { rotatedOn: '2028-03-04' }\n",
      "2028-03-04",
    ],
  ])("are run as of the day the stack was known valid: %s", (_, text, day) => {
    expect(knownValidOn(text)).toBe(day);
  });

  it("pin today only while they run", async () => {
    const before = process.env[todayVariable];
    const seen = await withToday("2030-05-06", async () => process.env[todayVariable]);
    expect(seen).toBe("2030-05-06");
    expect(process.env[todayVariable]).toBe(before);
  });
});

describe("npm run plan", () => {
  it("prints the dev stack by default, with the legend, the tree and the rendered policy", async () => {
    const { out, io } = capture();
    const code = await runPlan([], { ...io, evaluate: (stack) => evaluateStackFile(guideProject, stack) });
    expect(code).toBe(0);
    const text = out.join("\n");
    expect(text).toContain("# Plan of stack `dev`");
    expect(text).toContain("nothing was deployed and no Azure API was called");
    expect(text).toContain("- identifierUri: `api://mock-orders-app-client-id` ← orders-app.clientId");
    expect(text).toContain("- principalObjectId: `mock-reporting-sp-object-id` ← reporting-sp.objectId");
    expect(text).toContain("- clientSecret: `[secret]` ← reporting-secret-2026-11-23.value");
    expect(text).toContain("<audience>mock-orders-app-client-id</audience>");
    expect(text).not.toContain("mock-reporting-secret-value");
    expect(text).not.toContain("mock-reporting-secret-2026-11-23-value");
    expect(text).toContain(
      "- clientRegistrationEndpoint: `http://localhost` (a placeholder: APIM requires a link to a client registration page, which nothing calls; this program registers the clients in Entra)",
    );
  });

  it("writes the same data as JSON with every secret redacted", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), "plan.json");
    const code = await runPlan(["--json", file], {
      ...capture().io,
      evaluate: (stack) => evaluateStackFile(guideProject, stack),
    });
    expect(code).toBe(0);
    const text = fs.readFileSync(file, "utf8");
    const data = JSON.parse(text);
    expect(Object.keys(data)).toEqual(["stack", "resources", "outputs", "policies"]);
    expect(data.stack).toBe("dev");
    expect(Object.keys(data.resources[1])).toEqual(["urn", "type", "name", "parent", "aliases", "inputs"]);
    expect(data.outputs.clients.reporting.clientSecret).toBe("[secret]");
    const server = data.resources.find((r: { name: string }) => r.name === "orders-authorization-server");
    expect(server.inputs.clientSecret).toBe("[secret]");
    expect(data.policies.orders).toBe(data.outputs.apis.orders.policy);
    expect(text).not.toContain("mock-reporting-secret-2026-11-23-value");
  });

  it("prints the loader's error and exits 1 on a bad config", async () => {
    const { out, err, io } = capture();
    const bad = guideConfig({ tenantId: "common" });
    const code = await runPlan(["--stack", "broken"], { ...io, evaluate: (stack) => evaluate(bad, stack) });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain(`apim-entra-auth:tenantId: "common" is not allowed`);
  });

  it("says which stacks exist when the stack file is missing", async () => {
    const { err, io } = capture();
    expect(
      await runPlan(["--stack", "nope"], { ...io, evaluate: (stack) => evaluateStackFile(guideProject, stack) }),
    ).toBe(1);
    expect(err.join("\n")).toContain("No Pulumi.nope.yaml");
    expect(err.join("\n")).toContain("stacks with a file: dev.");
  });

  it("with --write, writes the Markdown it printed and says which file it wrote", async () => {
    const { out, err, io } = capture();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), "plans", "dev.md");
    const code = await runPlan(["--write"], {
      ...io,
      evaluate: (stack) => evaluateStackFile(guideProject, stack),
      planFile: () => file,
    });
    expect(code).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toBe(out.join("\n"));
    expect(err).toEqual([`Wrote ${path.relative(process.cwd(), file)}.`]);
  });

  it("exits 2 on an unknown flag", async () => {
    const { err, io } = capture();
    expect(await runPlan(["--stak", "dev"], io)).toBe(2);
    expect(err.join("\n")).toContain("usage: plan");
  });
});

describe("a rename in the plan", () => {
  // The mock engine shows what the program asks for; that Pulumi then moves each resource's state to its new URN
  // (rather than replacing it) is the engine's documented alias behaviour, which a mock cannot run.
  const renamedYaml = guideYaml
    .replace("    - name: reporting\n", "    - name: finance\n      formerNames: [reporting]\n")
    .replace("client: reporting", "client: finance");

  it("keeps the original name's ids and marks the component and every child as formerly named", async () => {
    const text = renderPlanMarkdown(await evaluateStackFile(projectWith({ dev: renamedYaml }), "dev"));
    expect(text).toContain("- principalObjectId: `mock-reporting-sp-object-id` ← finance-sp.objectId");
    expect(text).toContain("- clientId: `mock-reporting-app-client-id` ← finance-app.clientId");
    expect(text).not.toContain("mock-finance-");
    const clientLines = text.split("\n").filter((line) => /^\s*- \*\*.*\*\* `finance[-`]/.test(line));
    expect(clientLines.map((line) => line.trim())).toEqual([
      "- **ClientRegistration (component)** `finance` — formerly `reporting`",
      "- **ApplicationRegistration (azuread)** `finance-app` — formerly `reporting-app`",
      "- **ServicePrincipal (azuread)** `finance-sp` — formerly `reporting-sp`",
      "- **ApplicationPassword (azuread)** `finance-secret-2026-11-23` — formerly `reporting-secret-2026-11-23`",
      "- **ApiAccessGrant (component)** `finance--orders` — formerly `reporting--orders`",
      "- **ApplicationApiAccess (azuread)** `finance--orders-permission` — formerly `reporting--orders-permission`",
      "- **AppRoleAssignment (azuread)** `finance--orders-admin-consent` — formerly `reporting--orders-admin-consent`",
    ]);
  });

  it("shows no former name on a stack nothing was renamed in: the first password's alias for stacks deployed before two-slot rotation is no rename", async () => {
    const evaluation = await evaluateStackFile(guideProject, "dev");
    const password = evaluation.resources.find((resource) => resource.name === "reporting-secret-2026-11-23");
    expect(password?.aliasUrns.map((urn) => urn.split("::").pop())).toContain("reporting-secret");
    expect(renderPlanMarkdown(evaluation)).not.toContain("formerly");
  });

  it("lists each resource's alias URNs in the JSON: its former names, and its URN before the catalogue component", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), "plan.json");
    const dir = projectWith({ dev: renamedYaml });
    expect(
      await runPlan(["--json", file], { ...capture().io, evaluate: (stack) => evaluateStackFile(dir, stack) }),
    ).toBe(0);
    const data = JSON.parse(fs.readFileSync(file, "utf8")) as { resources: { name: string; aliases: string[] }[] };
    const aliasesOf = (name: string) => data.resources.find((resource) => resource.name === name)?.aliases;
    const prefix = "urn:pulumi:dev::apim-entra-auth::apim-entra-auth:identity:ClientRegistration";
    const nested = `urn:pulumi:dev::apim-entra-auth::apim-entra-auth:index:EntraProtectedApis$${prefix.split("::")[2]}`;
    expect(aliasesOf("finance")).toEqual([`${nested}::reporting`, `${prefix}::finance`, `${prefix}::reporting`]);
    expect(aliasesOf("finance-sp")).toEqual([
      `${nested}$azuread:index/servicePrincipal:ServicePrincipal::reporting-sp`,
      `${prefix}$azuread:index/servicePrincipal:ServicePrincipal::finance-sp`,
      `${prefix}$azuread:index/servicePrincipal:ServicePrincipal::reporting-sp`,
    ]);
    expect(aliasesOf("orders-app")).toEqual([
      "urn:pulumi:dev::apim-entra-auth::apim-entra-auth:identity:ApiRegistration$azuread:index/applicationRegistration:ApplicationRegistration::orders-app",
    ]);
    expect(aliasesOf("apim-entra-auth")).toEqual([]);
  });
});

describe("stack files", () => {
  const project = () => projectWith({});

  it("take defaults from Pulumi.yaml, namespaced keys from the stack file and ignore other namespaces", () => {
    const dir = project();
    fs.writeFileSync(
      path.join(dir, "Pulumi.qa.yaml"),
      "config:\n  azure-native:location: westeurope\n  apim-entra-auth:nameSuffix: qa1\n  protect: true\n",
    );
    expect(readStackFileConfig(dir, "qa")).toEqual({
      config: { authorityHost: "https://login.microsoftonline.com", protect: true, nameSuffix: "qa1" },
      secretKeys: [],
    });
  });

  it("never decrypt secure values: they show as [secret], and the plan shows them so", async () => {
    const dir = project();
    fs.writeFileSync(
      path.join(dir, "Pulumi.sec.yaml"),
      guideYaml.replace("displayName: My-Client-App", "displayName:\n        secure: v1:c2VjcmV0LWRpc3BsYXk="),
    );
    const { config, secretKeys } = readStackFileConfig(dir, "sec");
    expect(secretKeys).toEqual(["clients"]);
    expect((config.clients as { displayName: string }[])[0]?.displayName).toBe("[secret]");
    const text = renderPlanMarkdown(await evaluateStackFile(dir, "sec"));
    expect(text).toContain("- displayName: `[secret]-sec`");
    expect(text).not.toContain("c2VjcmV0");
  });
});
