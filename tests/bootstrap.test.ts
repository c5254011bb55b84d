// The bootstrap under Pulumi's mock engine: these tests prove what it asks Entra ID and Azure for — who may sign
// in as the pipeline (issuer, subject, audience), which Graph permissions and which Azure role on which scope.
// They cannot prove that Entra accepts a GitHub or Azure DevOps token for these subjects, that the permissions
// suffice for a real `pulumi up`, or that a tenant's Graph service principal carries these role values: only a run
// against a real tenant and repository does.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumiTsUtils from "@pulumi/pulumi/tsutils";
import ts from "typescript";
import { describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { bootstrapProject, bootstrapSettings, validateBootstrapConfig } from "../bootstrap/config";
import { today } from "../config/clock";
import { validateCatalogue } from "../config/validate";
import { renderPlanMarkdown } from "../tools/preview/planReport";
import type { MockEvaluation, ProgramError } from "../tools/preview/mockEngine";
import { readStackFileConfig, stackNames } from "../tools/preview/stackFiles";
import { planPath, projects, runPlan } from "../tools/plan";
import { ofType, only } from "./support/evaluate";

const T = {
  app: "azuread:index/applicationRegistration:ApplicationRegistration",
  sp: "azuread:index/servicePrincipal:ServicePrincipal",
  password: "azuread:index/applicationPassword:ApplicationPassword",
  federated: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
  assignment: "azuread:index/appRoleAssignment:AppRoleAssignment",
  roleAssignment: "azure-native:authorization:RoleAssignment",
};
const graphToken = "azuread:index/getServicePrincipal:getServicePrincipal";
const serviceToken = "azure-native:apimanagement:getApiManagementService";
const roleToken = "azure-native:authorization:getRoleDefinition";

const bootstrapDir = projects.bootstrap?.dir as string;

async function evaluateBootstrap(
  config: Record<string, unknown>,
  invokeResults?: Record<string, Record<string, unknown>>,
  stack = "test",
  secretKeys?: string[],
): Promise<MockEvaluation> {
  vi.resetModules();
  const { evaluateProgram } = await import("../tools/preview/mockEngine.js");
  return evaluateProgram({
    stack,
    project: bootstrapProject,
    config,
    secretKeys,
    invokeResults,
    importProgram: () => import("../bootstrap/index.js"),
  });
}

const contoso = (changes: Record<string, unknown> = {}) => ({
  repository: "contoso/apim-entra-auth",
  environments: [
    { name: "dev", apim: { resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" } },
    { name: "prod", apim: { resourceGroupName: "rg-apim-prod", serviceName: "apim-contoso-prod" } },
  ],
  ...changes,
});

/** The evaluation's error, or a failed test if it succeeded. */
async function failureOf(
  config: Record<string, unknown>,
  invokeResults?: Record<string, Record<string, unknown>>,
): Promise<ProgramError> {
  const error = await evaluateBootstrap(config, invokeResults).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  // The module registry was reset, so the error's class is another copy of ProgramError: compare by name.
  if (!(error instanceof Error) || error.name !== "ProgramError")
    throw new Error(`expected a ProgramError, got ${String(error)}`);
  return error as ProgramError;
}

const credentialsOf = (stack: MockEvaluation, component: string) =>
  ofType(stack, T.federated)
    .filter((credential) => credential.parent?.endsWith(`::${component}`))
    .map(({ inputs }) => inputs);

const servicePrincipalId = (stack: MockEvaluation, name: string) => only(stack, T.sp, `${name}-sp`).state.objectId;

describe("the deploying identity", () => {
  it("trusts exactly one GitHub environment subject per environment, and the Azure DevOps service connection", async () => {
    const stack = await evaluateBootstrap(
      contoso({
        azureDevOps: {
          organization: "contoso",
          organizationId: "8c4e1e4c-3f5d-4d6e-9b1a-2f7d0c9e5a11",
          project: "platform",
          serviceConnection: "apim-entra-auth",
        },
      }),
    );
    const applicationId = only(stack, T.app, "deployer-app").id;
    expect(credentialsOf(stack, "deployer")).toEqual([
      {
        applicationId,
        displayName: "github-environment-dev",
        issuer: "https://token.actions.githubusercontent.com",
        subject: "repo:contoso/apim-entra-auth:environment:dev",
        audiences: ["api://AzureADTokenExchange"],
      },
      {
        applicationId,
        displayName: "github-environment-prod",
        issuer: "https://token.actions.githubusercontent.com",
        subject: "repo:contoso/apim-entra-auth:environment:prod",
        audiences: ["api://AzureADTokenExchange"],
      },
      {
        applicationId,
        displayName: "azure-devops-service-connection",
        issuer: "https://vstoken.dev.azure.com/8c4e1e4c-3f5d-4d6e-9b1a-2f7d0c9e5a11",
        subject: "sc://contoso/platform/apim-entra-auth",
        audiences: ["api://AzureADTokenExchange"],
      },
    ]);
  });

  it("trusts an Entra-issuer Azure DevOps service connection by the issuer and subject it shows", async () => {
    const azureDevOpsCredential = {
      issuer: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0",
      subject: "/eid1/c/pub/t/abc/a/def/sc/8c4e1e4c-3f5d-4d6e-9b1a-2f7d0c9e5a11/0d4f6a1e-0000-4000-8000-000000000001",
    };
    const stack = await evaluateBootstrap(contoso({ azureDevOpsCredential }));
    expect(credentialsOf(stack, "deployer").at(-1)).toEqual({
      applicationId: only(stack, T.app, "deployer-app").id,
      displayName: "azure-devops-service-connection",
      ...azureDevOpsCredential,
      audiences: ["api://AzureADTokenExchange"],
    });
  });

  it("has no password, and no pull-request subject: a pull request cannot sign in as the deployer", async () => {
    const stack = await evaluateBootstrap(contoso());
    expect(ofType(stack, T.password)).toEqual([]);
    expect(credentialsOf(stack, "deployer").map(({ subject }) => subject)).not.toContain(
      "repo:contoso/apim-entra-auth:pull_request",
    );
    expect(only(stack, T.app, "deployer-app").protect).toBe(true);
    expect(only(stack, T.sp, "deployer-sp").protect).toBe(true);
  });

  it("is granted exactly the Graph permissions it needs, looked up by value on Graph's own service principal", async () => {
    // Ids unlike the mock engine's defaults: the program must take them from the lookup, not know them.
    const values = [
      "Application.Read.All",
      "Application.ReadWrite.All",
      "Application.ReadWrite.OwnedBy",
      "AppRoleAssignment.ReadWrite.All",
      "Directory.ReadWrite.All",
      "RoleManagement.ReadWrite.Directory",
    ];
    const graph = {
      clientId: "00000003-0000-0000-c000-000000000000",
      objectId: "graph-in-this-tenant",
      appRoles: values.map((value, index) => ({ id: `role-${index}`, value })),
    };
    const stack = await evaluateBootstrap(contoso(), { [graphToken]: graph });
    const assignments = ofType(stack, T.assignment)
      .map(({ inputs }) => inputs)
      .filter(({ principalObjectId }) => principalObjectId === servicePrincipalId(stack, "deployer"));
    const granted = assignments.map(({ appRoleId }) => values[Number(String(appRoleId).slice("role-".length))]);
    expect(granted.sort()).toEqual(
      ["AppRoleAssignment.ReadWrite.All", "Application.Read.All", "Application.ReadWrite.OwnedBy"].sort(),
    );
    for (const forbidden of ["Application.ReadWrite.All", "Directory.ReadWrite.All"])
      expect(granted).not.toContain(forbidden);
    expect(granted.some((value) => value?.startsWith("RoleManagement."))).toBe(false);
    for (const assignment of assignments) {
      expect(assignment.resourceObjectId).toBe("graph-in-this-tenant");
      expect(assignment.principalObjectId).toBe(servicePrincipalId(stack, "deployer"));
    }
    expect(stack.outputs.graphPermissions).toEqual([
      "Application.ReadWrite.OwnedBy",
      "AppRoleAssignment.ReadWrite.All",
      "Application.Read.All",
    ]);
  });

  it("adds DelegatedPermissionGrant.ReadWrite.All only when delegatedConsent asks for it (user-facing clients)", async () => {
    const grantedIn = (stack: Awaited<ReturnType<typeof evaluateBootstrap>>) => stack.outputs.graphPermissions;
    expect(grantedIn(await evaluateBootstrap(contoso()))).not.toContain("DelegatedPermissionGrant.ReadWrite.All");
    const stack = await evaluateBootstrap(contoso({ delegatedConsent: true }));
    expect(grantedIn(stack)).toEqual([
      "Application.ReadWrite.OwnedBy",
      "AppRoleAssignment.ReadWrite.All",
      "Application.Read.All",
      "DelegatedPermissionGrant.ReadWrite.All",
    ]);
    expect(ofType(stack, T.assignment).map(({ inputs }) => inputs.appRoleId)).toContain(
      "mock-graph-role-DelegatedPermissionGrant.ReadWrite.All",
    );
  });

  it("stops before registering anything when Graph's service principal lacks a permission", async () => {
    const graph = { objectId: "graph", appRoles: [{ id: "x", value: "Application.Read.All" }] };
    const error = await failureOf(contoso(), { [graphToken]: graph });
    expect(error.resources).toEqual([]);
    expect(String(error)).toContain(
      `Microsoft Graph's service principal has no application permission "Application.ReadWrite.OwnedBy"`,
    );
  });

  it("gets API Management Service Contributor on the APIM service's resource id, and nowhere else", async () => {
    const serviceId = "/subscriptions/0b1c/resourceGroups/rg-apim-dev/providers/Microsoft.ApiManagement/service/apim-x";
    const stack = await evaluateBootstrap(
      contoso({ environments: [{ name: "dev", apim: { resourceGroupName: "rg-apim-dev", serviceName: "apim-x" } }] }),
      { [serviceToken]: { id: serviceId, name: "apim-x" } },
    );
    const deployer = only(stack, T.roleAssignment, "deployer-apim-x").inputs;
    expect(deployer).toEqual({
      principalId: servicePrincipalId(stack, "deployer"),
      principalType: "ServicePrincipal",
      roleDefinitionId:
        "/subscriptions/mock-subscription-id/providers/Microsoft.Authorization/roleDefinitions/312a565d-c81f-4fd8-895a-4e21e48d571c",
      scope: serviceId,
    });
    const scopes = ofType(stack, T.roleAssignment).map(({ inputs }) => inputs.scope);
    expect(new Set(scopes)).toEqual(new Set([serviceId]));
  });

  it("refuses, before registering anything, a role whose looked-up name is not the one intended", async () => {
    const error = await failureOf(contoso(), {
      [roleToken]: { id: "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/x", roleName: "Owner" },
    });
    expect(error.resources).toEqual([]);
    expect(String(error)).toContain(`is "Owner", not "API Management Service Contributor"; refusing to assign it`);
  });
});

describe("who owns the pipeline's identities", () => {
  it("nobody owns their service principals: the administrator who runs the bootstrap is not kept as owner", async () => {
    // An owner could add a credential to the principal and act as the deployer (AppRoleAssignment.ReadWrite.All);
    // re-running the bootstrap needs an administrator's role anyway. The main program's principals list the deployer.
    const stack = await evaluateBootstrap(contoso());
    const principals = ofType(stack, T.sp);
    expect(principals.map(({ name }) => name).sort()).toEqual(["deployer-sp", "preview-sp"]);
    for (const principal of principals) expect(Object.keys(principal.inputs), principal.name).not.toContain("owners");
  });
});

describe("the pull-request preview identity", () => {
  it("trusts the repository's pull_request subject and main's (the drift workflow), and reads the APIM services", async () => {
    const stack = await evaluateBootstrap(contoso());
    const applicationId = only(stack, T.app, "preview-app").id;
    const github = { issuer: "https://token.actions.githubusercontent.com", audiences: ["api://AzureADTokenExchange"] };
    expect(credentialsOf(stack, "preview")).toEqual([
      {
        applicationId,
        displayName: "github-pull-request",
        subject: "repo:contoso/apim-entra-auth:pull_request",
        ...github,
      },
      {
        applicationId,
        displayName: "github-main",
        subject: "repo:contoso/apim-entra-auth:ref:refs/heads/main",
        ...github,
      },
    ]);
    const previewSp = servicePrincipalId(stack, "preview");
    const roles = ofType(stack, T.roleAssignment).filter(({ inputs }) => inputs.principalId === previewSp);
    expect(roles.map(({ inputs }) => [inputs.roleDefinitionId, inputs.scope])).toEqual([
      [
        "/subscriptions/mock-subscription-id/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "/subscriptions/mock-subscription-id/resourceGroups/rg-apim-dev/providers/Microsoft.ApiManagement/service/apim-contoso-dev",
      ],
      [
        "/subscriptions/mock-subscription-id/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "/subscriptions/mock-subscription-id/resourceGroups/rg-apim-prod/providers/Microsoft.ApiManagement/service/apim-contoso-prod",
      ],
    ]);
  });

  it("may read from Graph what a refresh reads, Directory.Read.All only for delegated grants, and write nothing", async () => {
    const previewGrants = async (config: Record<string, unknown>) => {
      const stack = await evaluateBootstrap(config);
      const previewSp = servicePrincipalId(stack, "preview");
      const assignments = ofType(stack, T.assignment).filter(({ inputs }) => inputs.principalObjectId === previewSp);
      for (const { inputs } of assignments) expect(inputs.resourceObjectId).toBe("mock-graph-sp-object-id");
      expect(stack.outputs.previewGraphPermissions).toEqual(
        assignments.map(({ inputs }) => String(inputs.appRoleId).replace("mock-graph-role-", "")),
      );
      return stack.outputs.previewGraphPermissions;
    };
    expect(await previewGrants(contoso())).toEqual(["Application.Read.All"]);
    expect(await previewGrants(contoso({ delegatedConsent: true }))).toEqual([
      "Application.Read.All",
      "Directory.Read.All",
    ]);
  });

  it("trusts the drift pipeline's Azure DevOps service connection, by name or by Entra issuer and subject", async () => {
    const byName = await evaluateBootstrap(
      contoso({
        azureDevOps: {
          organization: "contoso",
          organizationId: "8c4e1e4c-3f5d-4d6e-9b1a-2f7d0c9e5a11",
          project: "platform",
          serviceConnection: "apim-entra-auth",
          previewServiceConnection: "apim-entra-auth-preview",
        },
      }),
    );
    expect(credentialsOf(byName, "preview").at(-1)).toMatchObject({
      displayName: "azure-devops-preview-connection",
      issuer: "https://vstoken.dev.azure.com/8c4e1e4c-3f5d-4d6e-9b1a-2f7d0c9e5a11",
      subject: "sc://contoso/platform/apim-entra-auth-preview",
    });
    expect(credentialsOf(byName, "deployer").map(({ subject }) => subject)).not.toContain(
      "sc://contoso/platform/apim-entra-auth-preview",
    );
    const azureDevOpsPreviewCredential = {
      issuer: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0",
      subject: "/eid1/c/pub/t/abc/a/def/sc/8c4e1e4c-3f5d-4d6e-9b1a-2f7d0c9e5a11/0d4f6a1e-0000-4000-8000-000000000002",
    };
    const byIssuer = await evaluateBootstrap(contoso({ azureDevOpsPreviewCredential }));
    expect(credentialsOf(byIssuer, "preview").at(-1)).toMatchObject({
      displayName: "azure-devops-preview-connection",
      ...azureDevOpsPreviewCredential,
    });
  });

  it("is not created with pullRequestPreview: false, and its variable is then absent", async () => {
    const stack = await evaluateBootstrap(contoso({ pullRequestPreview: false }));
    expect(ofType(stack, T.app).map(({ name }) => name)).toEqual(["deployer-app"]);
    expect(Object.keys(stack.outputs.repositoryVariables as object).sort()).toEqual([
      "AZURE_CLIENT_ID",
      "AZURE_SUBSCRIPTION_ID",
      "AZURE_TENANT_ID",
    ]);
  });
});

describe("bootstrap configuration errors name the key before anything is registered", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ repository: undefined }, `${bootstrapProject}:repository: is required (expected string)`],
    [{ repository: "contoso" }, `${bootstrapProject}:repository: "contoso" is not allowed; use owner/name`],
    [{ environments: [] }, `${bootstrapProject}:environments: declare at least one environment`],
    [
      { environments: [{ name: "dev env", apim: { resourceGroupName: "rg", serviceName: "apim" } }] },
      `${bootstrapProject}:environments[0].name: "dev env" is not allowed`,
    ],
    [
      {
        environments: [
          { name: "prod", apim: { resourceGroupName: "rg", serviceName: "apim" } },
          { name: "Prod", apim: { resourceGroupName: "rg", serviceName: "apim" } },
        ],
      },
      `${bootstrapProject}:environments[1].name: "Prod" repeats ${bootstrapProject}:environments[0].name`,
    ],
    [
      {
        environments: Array.from({ length: 20 }, (_, index) => ({
          name: `env${index}`,
          apim: { resourceGroupName: "rg", serviceName: "apim" },
        })),
        azureDevOps: {
          organization: "c",
          organizationId: "8c4e1e4c-3f5d-4d6e-9b1a-2f7d0c9e5a11",
          project: "p",
          serviceConnection: "s",
        },
      },
      `${bootstrapProject}:environments: 21 federated credentials`,
    ],
    [
      { azureDevOps: { organization: "c", organizationId: "contoso", project: "p", serviceConnection: "s" } },
      `${bootstrapProject}:azureDevOps.organizationId: "contoso" is not allowed`,
    ],
    [
      {
        azureDevOps: {
          organization: "c",
          organizationId: "8c4e1e4c-3f5d-4d6e-9b1a-2f7d0c9e5a11",
          project: "p",
          serviceConnection: "s",
        },
        azureDevOpsCredential: { issuer: "https://login.microsoftonline.com/t/v2.0", subject: "s" },
      },
      `${bootstrapProject}:azureDevOpsCredential: give one Azure DevOps service connection`,
    ],
    [
      {
        azureDevOps: {
          organization: "c",
          organizationId: "8c4e1e4c-3f5d-4d6e-9b1a-2f7d0c9e5a11",
          project: "p",
          serviceConnection: "s",
          previewServiceConnection: "s-preview",
        },
        azureDevOpsPreviewCredential: { issuer: "https://login.microsoftonline.com/t/v2.0", subject: "x" },
      },
      `${bootstrapProject}:azureDevOpsPreviewCredential: give the preview identity's service connection either by name (${bootstrapProject}:azureDevOps.previewServiceConnection, Azure DevOps issuer) or by issuer and subject (this key, Entra issuer), not both.`,
    ],
    [
      {
        pullRequestPreview: false,
        azureDevOpsPreviewCredential: { issuer: "https://login.microsoftonline.com/t/v2.0", subject: "x" },
      },
      `${bootstrapProject}:azureDevOpsPreviewCredential: signs in as the read-only preview identity, which ${bootstrapProject}:pullRequestPreview: false does not create; set it to true or remove this key.`,
    ],
    [
      { azureDevOpsCredential: { issuer: "https://login.microsoftonline.com/t/v2.0", subject: "sc://*" } },
      `${bootstrapProject}:azureDevOpsCredential.subject: "sc://*" is not allowed`,
    ],
    [
      { pullRequestPreviews: true },
      `${bootstrapProject}:pullRequestPreviews: unknown key — did you mean "pullRequestPreview"? Allowed keys: repository, environments, pullRequestPreview, protect, delegatedConsent, azureDevOps, azureDevOpsCredential, azureDevOpsPreviewCredential.`,
    ],
  ];
  it.each(cases.map(([changes, message]) => [message, changes] as const))("%s", async (message, changes) => {
    const error = await failureOf(contoso(changes));
    expect(error.message).toContain(message);
    expect(error.resources).toEqual([]);
  });
});

describe("the bootstrap's checked-in plans", () => {
  it.each(stackNames(bootstrapDir))(
    "bootstrap/plans/%s.md matches what the bootstrap would create now",
    async (stack) => {
      const { config, secretKeys } = readStackFileConfig(bootstrapDir, stack);
      const evaluation = await evaluateBootstrap(config, undefined, stack, secretKeys);
      const file = planPath(stack, bootstrapDir);
      const checkedIn = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
      if (checkedIn !== renderPlanMarkdown(evaluation)) {
        expect.fail(
          `${path.relative(process.cwd(), file)} is stale; refresh it with:  npm run plan -- --project bootstrap --stack ${stack} --write`,
        );
      }
    },
  );
});

describe("bootstrap/Pulumi.yaml's declared keys", () => {
  it("are keys of the bootstrap's schema, with its defaults, under the project's own name", () => {
    const project = parse(fs.readFileSync(path.join(bootstrapDir, "Pulumi.yaml"), "utf8")) as {
      name: string;
      config: Record<string, { default?: unknown }>;
    };
    expect(project.name).toBe(bootstrapProject);
    const defaults = bootstrapSettings.parse(contoso()) as Record<string, unknown>;
    for (const [key, declaration] of Object.entries(project.config)) {
      expect(Object.keys(bootstrapSettings.shape), key).toContain(key);
      if (declaration.default !== undefined) expect(defaults[key], key).toEqual(declaration.default);
    }
  });
});

describe("npm run plan -- --project", () => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (text: string) => out.push(text), err: (text: string) => err.push(text) } };
  };

  it("plans the bootstrap's contoso stack by default", async () => {
    const { out, io } = capture();
    const evaluate = async (stack: string) => {
      const { config, secretKeys } = readStackFileConfig(bootstrapDir, stack);
      return evaluateBootstrap(config, undefined, stack, secretKeys);
    };
    expect(await runPlan(["--project", "bootstrap"], { ...io, evaluate })).toBe(0);
    expect(out.join("\n")).toContain("# Plan of stack `contoso`");
    expect(out.join("\n")).toContain("- subject: `repo:contoso/apim-entra-auth:environment:prod`");
  });

  it("exits 2 on an unknown project", async () => {
    const { err, io } = capture();
    expect(await runPlan(["--project", "bootsrap"], io)).toBe(2);
    expect(err.join("\n")).toContain(`unknown project "bootsrap"; use main or bootstrap`);
  });
});

/**
 * The file Pulumi's Node.js runtime runs for a project (@pulumi/pulumi cmd/run/run.js, `run`): Pulumi.yaml's `main`
 * when it names one; without it (the CLI passes "."), the `exports` or `main` of the nearest package.json above the
 * project. What this cannot prove is the CLI itself: tests/engine/deployer.test.ts runs bootstrap/ with it.
 */
function nodeRuntimeEntryPoint(projectDir: string): string {
  const { main = "." } = parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { main?: string };
  if (main !== ".") return path.join(projectDir, main);
  let packageRoot = projectDir;
  while (!fs.existsSync(path.join(packageRoot, "package.json"))) packageRoot = path.dirname(packageRoot);
  const manifest = JSON.parse(fs.readFileSync(path.join(packageRoot, "package.json"), "utf8")) as {
    main?: string;
    exports?: string;
  };
  const entry = manifest.exports ?? manifest.main;
  return entry ? path.join(packageRoot, entry) : projectDir;
}

describe("bootstrap/Pulumi.yaml's entry point", () => {
  it("is bootstrap/index.ts, not the repository package's main (the component provider)", () => {
    expect(nodeRuntimeEntryPoint(bootstrapDir)).toBe(path.join(bootstrapDir, "index.ts"));
  });
});

describe("bootstrap/'s TypeScript options as pulumi up loads them", () => {
  // @pulumi/pulumi's cmd/run reads tsconfig.json in the working folder only (no walk up, no `extends`) and takes
  // transpileOnly from its own noCheck: without bootstrap/tsconfig.json, ts-node type-checked bootstrap/ with its
  // default options on every preview. What this cannot prove is the CLI's run; tests/engine/deployer.test.ts runs it.
  const tsconfig = path.join(bootstrapDir, "tsconfig.json");
  // The runtime's own reader, which @pulumi/pulumi marks @internal (so its typings leave it out).
  const { loadTypeScriptCompilerOptions } = pulumiTsUtils as unknown as {
    loadTypeScriptCompilerOptions(tsConfigPath: string): Record<string, unknown>;
  };

  it("skips the type check as the root program does, which npm test's tsc performs instead", () => {
    expect(loadTypeScriptCompilerOptions(tsconfig)).toMatchObject({ noCheck: true });
  });

  it("compiles with the root's compiler options otherwise", () => {
    const options = (file: string) => {
      const parsed = ts.parseJsonConfigFileContent(
        ts.readConfigFile(file, ts.sys.readFile).config,
        ts.sys,
        path.dirname(path.resolve(file)),
      );
      const { configFilePath: _, ...rest } = parsed.options;
      return { errors: parsed.errors, options: rest, files: parsed.fileNames };
    };
    const bootstrap = options(tsconfig);
    expect(bootstrap.errors).toEqual([]);
    expect(bootstrap.options).toEqual(options("tsconfig.json").options);
    expect(bootstrap.files.map((file) => path.basename(file)).sort()).toEqual(
      fs
        .readdirSync(bootstrapDir)
        .filter((file) => file.endsWith(".ts"))
        .sort(),
    );
  });
});

describe("the committed bootstrap stacks", () => {
  // A user-facing client's admin consent is a delegated permission grant (components/delegatedAccessGrant.ts), which
  // the deployer may make only with DelegatedPermissionGrant.ReadWrite.All. tests/engine/deployer.test.ts found
  // Pulumi.prod.yaml's web portal refused with Graph's 403 when the contoso stack left delegatedConsent off.
  it.each(stackNames(bootstrapDir))(
    "%s grants delegated consent exactly when a stack file of its environments has a user-facing client",
    (stack) => {
      const bootstrap = validateBootstrapConfig(readStackFileConfig(bootstrapDir, stack).config, stack);
      const mainDir = projects.main?.dir as string;
      const userFacing = bootstrap.environments
        .filter(({ name }) => fs.existsSync(path.join(mainDir, `Pulumi.${name}.yaml`)))
        .filter(({ name }) =>
          validateCatalogue(readStackFileConfig(mainDir, name).config, name, today()).clients.some(
            (client) => client.kind !== "daemon" && client.kind !== "managedIdentity" && client.apis.length > 0,
          ),
        )
        .map(({ name }) => name);
      expect({ userFacing, delegatedConsent: bootstrap.delegatedConsent }).toEqual({
        userFacing,
        delegatedConsent: userFacing.length > 0,
      });
    },
  );
});
