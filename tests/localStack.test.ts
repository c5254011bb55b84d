// What npm run local -- up prepares before the real CLI runs, and what it refuses before anything is made: the
// shadow project the CLI writes into instead of the project's stack files, the stack file checked by the program's
// own rules, the existing APIM service made through ARM, and the tenant's clock. The CLI itself runs in the engine
// tier (tests/engine/localUp.test.ts); what this cannot prove is that the CLI reads the shadow project as intended.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArmStore } from "../local/armStore";
import { runLocal } from "../local/cli";
import { ensureExistingService, localRunPaths } from "../local/localStack";
import { armMount, localSubscriptionId, localTenantPaths, tenantClock } from "../local/server";
import { writeShadowProject } from "../local/shadowProject";
import { projectDir } from "../tools/plan";
import { startTestTenant } from "./support/localTenant";

const made: string[] = [];
const temporary = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A project folder with this repository's Pulumi.yaml and the given stack files. */
function projectWith(stackFiles: Record<string, string>): string {
  const dir = temporary("local-project-");
  fs.copyFileSync(path.join(projectDir, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  for (const [stack, text] of Object.entries(stackFiles))
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
  return dir;
}

const stagingFile = `# Staging: the dev catalogue under another suffix.
config:
  azuread:tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
  azure-native:subscriptionId: 5b0c0000-1111-4222-8333-444455556666
  apim-entra-auth:nameSuffix: staging
  apim-entra-auth:apim:
    resourceGroupName: rg-apim-staging
    serviceName: apim-contoso-staging
secretsprovider: azurekeyvault://contoso.vault.azure.net/keys/pulumi
encryptedkey: ZW5jcnlwdGVk
`;

describe("the shadow project", () => {
  it("copies each stack file with the tenant's authority host, without the providers' settings and secrets provider", () => {
    const project = projectWith({ staging: stagingFile });
    const shadow = path.join(temporary("local-root-"), "project");
    const written = writeShadowProject(project, shadow, "https://127.0.0.1:18443");

    expect(fs.readFileSync(path.join(project, "Pulumi.staging.yaml"), "utf8")).toBe(stagingFile);
    expect(written.leftOut).toEqual({ staging: ["azuread:tenantId", "azure-native:subscriptionId"] });
    const copy = fs.readFileSync(path.join(shadow, "Pulumi.staging.yaml"), "utf8");
    expect(copy).toContain("# Staging: the dev catalogue under another suffix.");
    expect(parse(copy)).toEqual({
      config: {
        "apim-entra-auth:nameSuffix": "staging",
        "apim-entra-auth:apim": { resourceGroupName: "rg-apim-staging", serviceName: "apim-contoso-staging" },
        "apim-entra-auth:authorityHost": "https://127.0.0.1:18443",
      },
    });
    const { main, ...rest } = parse(fs.readFileSync(path.join(shadow, "Pulumi.yaml"), "utf8")) as { main: string };
    expect(path.resolve(shadow, main)).toBe(path.join(project, "index.ts"));
    const { main: _main, ...projectRest } = parse(fs.readFileSync(path.join(project, "Pulumi.yaml"), "utf8")) as {
      main: string;
    };
    expect(rest).toEqual(projectRest);
  });

  it("keeps the salt the CLI wrote into the copy, and follows the project's stack file when it changes", () => {
    const project = projectWith({ staging: stagingFile });
    const shadow = path.join(temporary("local-root-"), "project");
    writeShadowProject(project, shadow, "https://127.0.0.1:18443");
    // What `pulumi stack init` does in the shadow project.
    fs.appendFileSync(path.join(shadow, "Pulumi.staging.yaml"), "encryptionsalt: v1:c2FsdA==:v1:abc:def\n");

    fs.writeFileSync(
      path.join(project, "Pulumi.staging.yaml"),
      stagingFile.replace("nameSuffix: staging", "nameSuffix: stg"),
    );
    writeShadowProject(project, shadow, "https://127.0.0.1:28443");
    const copy = parse(fs.readFileSync(path.join(shadow, "Pulumi.staging.yaml"), "utf8")) as {
      config: Record<string, unknown>;
      encryptionsalt: string;
    };
    expect(copy.encryptionsalt).toBe("v1:c2FsdA==:v1:abc:def");
    expect(copy.config["apim-entra-auth:nameSuffix"]).toBe("stg");
    expect(copy.config["apim-entra-auth:authorityHost"]).toBe("https://127.0.0.1:28443");
  });
});

describe("the shadow project of another program (one that uses the component)", () => {
  const otherProject = [
    "name: orders-platform",
    "runtime:",
    "  name: python",
    "  options:",
    "    virtualenv: venv",
    "packages:",
    "  apim-entra-auth: ../apim-entra-auth",
    "  pinned:",
    "    source: ./vendor/pinned",
    "    version: 1.0.0",
    "  registry: github.com/contoso/other@v1.2.0",
    "",
  ].join("\n");

  it("lives under projects/<its name>, and this program's under project", () => {
    const root = temporary("local-root-");
    const other = temporary("other-program-");
    fs.writeFileSync(path.join(other, "Pulumi.yaml"), otherProject);
    const paths = localTenantPaths(root);
    expect(localRunPaths(paths, other).project).toBe(path.join(root, "projects", "orders-platform"));
    expect(localRunPaths(paths).project).toBe(path.join(root, "project"));
  });

  it("points its packages' local sources and its virtualenv back at the program, and copies a stack it has no file for", () => {
    const other = temporary("other-program-");
    fs.writeFileSync(path.join(other, "Pulumi.yaml"), otherProject);
    const shadow = path.join(temporary("local-root-"), "projects", "orders-platform");
    writeShadowProject(other, shadow, "https://127.0.0.1:18443", ["dev"]);

    const project = parse(fs.readFileSync(path.join(shadow, "Pulumi.yaml"), "utf8")) as {
      main: string;
      runtime: { options: { virtualenv: string } };
      packages: Record<string, unknown>;
    };
    expect(path.resolve(shadow, project.main)).toBe(other);
    expect(project.runtime.options.virtualenv).toBe(path.join(other, "venv"));
    expect(project.packages).toEqual({
      "apim-entra-auth": path.resolve(other, "../apim-entra-auth"),
      pinned: { source: path.join(other, "vendor", "pinned"), version: "1.0.0" },
      registry: "github.com/contoso/other@v1.2.0",
    });
    expect(parse(fs.readFileSync(path.join(shadow, "Pulumi.dev.yaml"), "utf8"))).toEqual({
      config: { "orders-platform:authorityHost": "https://127.0.0.1:18443" },
    });
    expect(fs.readdirSync(other)).toEqual(["Pulumi.yaml"]);
  });
});

describe("npm run local before anything is made", () => {
  const capture = async (argv: string[], projectDirectory?: string) => {
    const root = temporary("local-root-");
    const out: string[] = [];
    const err: string[] = [];
    const code = await runLocal(
      argv,
      { out: (text) => out.push(text), err: (text) => err.push(text) },
      { root, projectDir: projectDirectory, stdio: "pipe" },
    );
    return { code, out: out.join("\n"), err: err.join("\n"), made: fs.readdirSync(root) };
  };

  it("up refuses a stack file the program refuses, with the program's message, before the CLI or the tenant", async () => {
    const broken = stagingFile.replace(
      "  apim-entra-auth:apim:",
      "  apim-entra-auth:apis:\n    - name: orders\n      displayName: Orders\n      path: orders\n      backendUrl: https://orders.example.com\n      tokenVersion: 3\n  apim-entra-auth:apim:",
    );
    const up = await capture(["up", "--stack", "staging"], projectWith({ staging: broken }));
    expect(up.code).toBe(1);
    expect(up.err).toMatch(
      /^Invalid configuration for stack "staging":\n {2}- apim-entra-auth:apis\[0\] \(orders\)\.tokenVersion: /,
    );
    expect(up.out).toBe("");
    expect(up.made).toEqual([]);
  });

  it("--project names another program's folder: up checks that project's stack file", async () => {
    // This repository has no Pulumi.staging.yaml: the message comes from the project's.
    const up = await capture(["--project", projectWith({ staging: stagingFile }), "up", "--stack", "staging"]);
    expect(up.code).toBe(1);
    expect(up.err).toMatch(/^Invalid configuration for stack "staging":\n {2}- apim-entra-auth:apis: /);
    expect(up.made).toEqual([]);
  });

  it("--project refuses a folder without a Pulumi.yaml, naming it, and a missing folder", async () => {
    const empty = temporary("not-a-project-");
    const refused = await capture(["--project", empty, "up"]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`--project ${empty}: ${empty} holds no Pulumi.yaml; name a Pulumi project's folder`);
    const missing = await capture(["--project", "up"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("--project up:");
    expect((await capture(["--project"])).err).toContain("--project needs a folder");
  });

  it("up names the stack files there are when the stack has none", async () => {
    const up = await capture(["up", "--stack", "nope"], projectWith({ staging: stagingFile }));
    expect(up.code).toBe(1);
    expect(up.err).toMatch(/^error: No Pulumi\.nope\.yaml in \S+; stacks with a file: staging\.$/);
    expect(up.made).toEqual([]);
  });

  it("destroy, smoke, drift, adopt and the CLI's commands that run the program ask for the tenant to be started first", async () => {
    const notRunning = "The local tenant is not running. Start it with: npm run local -- start";
    const commands = [
      ["destroy"],
      ["smoke"],
      ["drift"],
      ["adopt", "--stack", "dev", "--api", "My-APIM-API"],
      ["pulumi", "preview", "--stack", "dev"],
      ["pulumi", "refresh"],
    ];
    for (const argv of commands) {
      const run = await capture(argv);
      expect([argv, run.code, run.err]).toEqual([argv, 1, notRunning]);
    }
  });
});

describe("the existing APIM service a stack names", () => {
  let local: Awaited<ReturnType<typeof startTestTenant>>;
  let store: ArmStore;

  beforeAll(async () => {
    store = ArmStore.open();
    local = await startTestTenant({ mounts: [armMount(store)] });
  });
  afterAll(async () => local?.close());

  it("is made once, Developer tier, through ARM as the administrator; a stack that creates its own gets none", async () => {
    const paths = localTenantPaths(local.root);
    const running = { pid: process.pid, endpoints: local.tenant.endpoints, caFile: local.tenant.caFile };
    const apim = { resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" };
    expect(await ensureExistingService(paths, running, apim)).toBe("created");
    expect(await ensureExistingService(paths, running, apim)).toBe("exists");
    const id = `/subscriptions/${localSubscriptionId}/resourceGroups/rg-apim-dev/providers/Microsoft.ApiManagement/service/apim-contoso-dev`;
    expect(store.get(id)?.body.sku).toEqual({ name: "Developer", capacity: 1 });

    const creates = {
      resourceGroupName: "rg-new",
      serviceName: "apim-new",
      create: { sku: "Developer", location: "westeurope", publisherName: "Contoso", publisherEmail: "a@contoso.com" },
    };
    expect(await ensureExistingService(paths, running, creates as never)).toBe("stack creates it");
    expect(store.get(id.replace("rg-apim-dev", "rg-new").replace("apim-contoso-dev", "apim-new"))).toBeUndefined();
  });
});

describe("the tenant's clock", () => {
  const wall = () => Date.parse("2026-12-06T20:46:47Z");

  it("moves by whole days to the day APIM_ENTRA_AUTH_TODAY pins, and is the wall clock otherwise", () => {
    expect(new Date(tenantClock({ APIM_ENTRA_AUTH_TODAY: "2026-11-23" }, wall)()).toISOString()).toBe(
      "2026-11-23T20:46:47.000Z",
    );
    expect(tenantClock({}, wall)()).toBe(wall());
  });
});
