// The committed pipelines' steps that need the cloud, run with stand-in `pulumi`, `az` and `npm` commands (and
// stand-ins for GitHub's OIDC endpoint, Entra and the APIM gateway) to prove the commands and environment they
// build; and the pipelines' settings that no step shows (stage ids, locks, task inputs). What this cannot prove:
// anything Azure, Entra, a Pulumi backend, GitHub or Azure DevOps answers; docs/ says what only a real run proves.
import * as fs from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { driftIssuePrefix } from "../tools/pipeline/driftIssue";
import { commentLimit, commentMarker } from "../tools/pipeline/previewComment";
import { projectDir } from "../tools/plan";
import { readStackFileConfig, stackNames } from "../tools/preview/stackFiles";
import { type EntraStandInOptions, startEntraStandIn } from "./support/entraStandIn";
import { evaluate } from "./support/evaluate";
import { startBackendStandIn, startGatewayStandIn } from "./support/gatewayStandIn";
import {
  azureSteps,
  cleanCopies,
  commandStandIns,
  evaluateGitHub,
  expandedAzurePipeline,
  githubSteps,
  githubTruthy,
  groupBy,
  type PipelineStep,
  runStep,
  stepRole,
  withCommittedStacks,
  workflowFiles,
  workflowsDir,
} from "./support/pipelineSteps";
import { entraDirectoryOf } from "./support/stackDirectory";

const committedStacks = stackNames(projectDir);
const freshCopy = cleanCopies();

const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), "utf8");

/** Stand-ins that log each call as one line: the command, its arguments, and the variables named in `show`. */
function recordingCommands(log: string, show: string[] = []) {
  const record = `printf '%s %s${show.map((name) => ` ${name}=%s`).join("")}\\n' "$(basename "$0")" "$*"${show
    .map((name) => ` "\${${name}-<unset>}"`)
    .join("")} >> "${log}"`;
  return commandStandIns({
    pulumi: `${record}\n[ "$1" != "up" ] || [ -z "\${FAIL_PULUMI_UP:-}" ] || exit 1`,
    npm: record,
    az: `${record}\n[ "$*" != "account show --query id -o tsv" ] || echo 00000000-0000-4000-8000-00000000aaaa`,
  });
}

const logLines = (log: string) => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);

/** What the AzureCLI task gives its script (addSpnToEnvironment; AzureCLIV2 azureclitask.ts), and the variables. */
const taskEnv = {
  servicePrincipalId: "5e7e0000-aaaa-4bbb-8ccc-000000000001",
  tenantId: "11111111-2222-3333-4444-555555555555",
  idToken: "eyJ.static.token",
  AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "c0ec0000-aaaa-4bbb-8ccc-000000000002",
  SYSTEM_OIDCREQUESTURI:
    "https://dev.azure.com/contoso/platform/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken",
  SYSTEM_ACCESSTOKEN: "job-access-token",
};
const providerEnv = [
  "ARM_USE_OIDC",
  "ARM_CLIENT_ID",
  "ARM_TENANT_ID",
  "ARM_SUBSCRIPTION_ID",
  "ARM_OIDC_TOKEN",
  "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID",
  "ARM_USE_DEFAULT_AZURE_CREDENTIAL",
];

/** The providers' sign-in an AzureCLI task's script exports, as the recording stand-ins log it. */
const signIn = `ARM_USE_OIDC=true ARM_CLIENT_ID=${taskEnv.servicePrincipalId} ARM_TENANT_ID=${taskEnv.tenantId} ARM_SUBSCRIPTION_ID=00000000-0000-4000-8000-00000000aaaa ARM_OIDC_TOKEN=<unset> ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID=${taskEnv.AZURESUBSCRIPTION_SERVICE_CONNECTION_ID} ARM_USE_DEFAULT_AZURE_CREDENTIAL=true`;

describe("the steps that need the cloud, run with stand-in commands", () => {
  const cloudSteps = async (vars: Record<string, string>) =>
    (await Promise.all(workflowFiles.map((file) => githubSteps(file, withCommittedStacks(vars)))))
      .flat()
      .filter((step) => step.script !== undefined && /\b(pulumi|npm run smoke)\b/.test(step.script));

  it.each([
    ["Pulumi Cloud (PULUMI_ORGANIZATION set)", "contoso", "contoso/"],
    ["Azure Blob", "", ""],
  ])(
    "GitHub: every pulumi command names the stack as %s does, and preview and up run the guard pack",
    async (_backend, organization, prefix) => {
      const steps = await cloudSteps({ PULUMI_ORGANIZATION: organization });
      expect(steps.map((step) => `${step.file.slice(18)} ${step.stack}: ${step.label}`)).toEqual([
        ...["dev", "prod"].flatMap((stack) => [
          `main.yml ${stack}: pulumi preview, judged by the guard's CrossGuard pack`,
          `main.yml ${stack}: pulumi up, judged by the same pack (a mandatory violation stops it before any change)`,
          `main.yml ${stack}: Smoke test`,
        ]),
        "pull-request.yml dev: pulumi preview, judged by the guard's CrossGuard pack",
        "pull-request.yml prod: pulumi preview, judged by the guard's CrossGuard pack",
      ]);
      const dir = freshCopy();
      for (const step of steps) {
        const log = path.join(dir, `${step.job}-${step.stack}.log`);
        fs.rmSync(log, { force: true });
        const run = await runStep(step, { dir, pathFirst: [recordingCommands(log)], env: { SMOKE_CLIENT: "" } });
        expect(run.status, run.stderr).toBe(0);
        const stack = `${prefix}${step.stack}`;
        // The deploy reads every resource back first (and so puts back drift); a pull request previews its change.
        const refresh = step.file.endsWith("main.yml") ? " --refresh" : "";
        const expected: Record<string, string[]> = {
          "pulumi preview, judged by the guard's CrossGuard pack": [
            `pulumi stack select ${stack}`,
            `pulumi preview --diff${refresh} --stack ${stack} --policy-pack guard`,
          ],
          "pulumi up, judged by the same pack (a mandatory violation stops it before any change)": [
            `pulumi up --yes --skip-preview --refresh --stack ${stack} --policy-pack guard`,
          ],
          "Smoke test": [`npm run smoke -- --stack ${stack}`],
        };
        expect(logLines(log), `${step.file} ${step.label}`).toEqual(expected[step.label]);
      }
    },
  );

  const azureCliSteps = (stacks?: string[]) =>
    azureSteps(stacks ? { stacks } : {}).filter((step) => step.action === "AzureCLI@2");
  it.each([
    ["Pulumi Cloud (PULUMI_ORGANIZATION set)", "contoso", "contoso/"],
    ["Azure Blob", "", ""],
  ])(
    "Azure DevOps: every pulumi command names the stack as %s does, with a renewable sign-in for each provider",
    async (_backend, organization, prefix) => {
      const steps = azureCliSteps();
      expect(steps.map((step) => `${step.job}: ${step.label}`)).toEqual([
        "stack_dev/preview: pulumi preview, judged by the guard's CrossGuard pack",
        "stack_dev/up: pulumi up, then the smoke test",
        "stack_prod/preview: pulumi preview, judged by the guard's CrossGuard pack",
        "stack_prod/up: pulumi up, then the smoke test",
      ]);
      const dir = freshCopy();
      for (const step of steps) {
        const log = path.join(dir, `${step.job.replace("/", "-")}.log`);
        const run = await runStep(step, {
          dir,
          pathFirst: [recordingCommands(log, providerEnv)],
          env: { ...taskEnv, PULUMI_ORGANIZATION: organization },
        });
        expect(run.status, run.stderr).toBe(0);
        const stack = `${prefix}${step.stack}`;
        // azuread asks Azure DevOps for a new OIDC token each time; azure-native goes through the az session that
        // keepAzSessionActive renews; the 10-minute $idToken is handed to neither.
        const azShow = "az account show --query id -o tsv ARM_USE_OIDC=true";
        expect(logLines(log)[0]).toMatch(new RegExp(`^${azShow.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
        expect(logLines(log).slice(1)).toEqual(
          step.job.endsWith("/preview")
            ? [
                `pulumi stack select ${stack} ${signIn}`,
                `pulumi preview --diff --refresh --stack ${stack} --policy-pack guard ${signIn}`,
              ]
            : [
                `pulumi stack select ${stack} ${signIn}`,
                `pulumi up --yes --skip-preview --refresh --stack ${stack} --policy-pack guard ${signIn}`,
                `npm run smoke -- --stack ${stack} ${signIn}`,
              ],
        );
      }
    },
  );

  it("Azure DevOps: a failed pulumi up fails the task and never reaches the smoke test", async () => {
    const [up] = azureCliSteps().filter((step) => step.job.endsWith("/up"));
    const dir = freshCopy();
    const log = path.join(dir, "up.log");

    const run = await runStep(up as PipelineStep, {
      dir,
      pathFirst: [recordingCommands(log)],
      env: { ...taskEnv, FAIL_PULUMI_UP: "1" },
    });

    expect(run.status).not.toBe(0);
    expect(logLines(log).map((line) => line.split(" ").slice(0, 2).join(" "))).toEqual([
      "az account",
      "pulumi stack",
      "pulumi up",
    ]);
  });

  it("Azure DevOps: passes SMOKE_CLIENT_<STACK> to smoke for any stack name", async () => {
    const dir = freshCopy();
    for (const [stack, variable] of [
      ["prod", "SMOKE_CLIENT_PROD"],
      ["pre-prod", "SMOKE_CLIENT_PRE_PROD"],
      ["eu.prod", "SMOKE_CLIENT_EU_PROD"],
    ] as const) {
      const up = azureCliSteps([stack]).find((step) => step.job.endsWith("/up")) as PipelineStep;
      const log = path.join(dir, `smoke-${stack}.log`);
      const run = await runStep(up, {
        dir,
        pathFirst: [recordingCommands(log)],
        env: { ...taskEnv, [variable]: "reporting" },
      });
      expect(run.status, run.stderr).toBe(0);
      expect(logLines(log).at(-1)).toBe(`npm run smoke -- --stack ${stack} --client reporting`);
    }
  });
});

describe("the pull-request comment as posted", () => {
  it("stays within GitHub's 65,536 characters when the plan diff and the preview are huge, and says where they are whole", async () => {
    const steps = (await githubSteps("pull-request.yml", withCommittedStacks())).filter(
      (step) => step.job === "preview" && step.stack === "dev",
    );
    const dir = freshCopy();
    fs.writeFileSync(path.join(dir, "plan-diff.md"), `PLAN START\n${"~ orders-policy\n".repeat(10_000)}PLAN END`);
    fs.writeFileSync(path.join(dir, "preview.txt"), `PREVIEW START\n${"  ~ xml: ...\n".repeat(10_000)}PREVIEW END`);
    // The steps that run whatever happened before them (`if: always()`), after the plan diff and the preview.
    const after = steps.slice(steps.findIndex((step) => step.label.startsWith("pulumi preview")) + 1);
    for (const step of after.filter((s) => stepRole(s).runs === "offline")) {
      expect(step.condition).toBe("always()");
      const run = await runStep(step, { dir });
      expect(run.status, run.stderr).toBe(0);
    }

    const posted = await postComment(dir, [
      { id: 41, body: `${commentMarker("dev")}\nold` },
      { id: 42, body: "other" },
    ]);

    expect(posted).toHaveLength(1);
    expect(posted[0]?.call).toBe("updateComment");
    expect(posted[0]?.args.comment_id).toBe(41);
    const body = posted[0]?.args.body as string;
    expect(body.length).toBeLessThanOrEqual(commentLimit);
    expect(body.startsWith(`${commentMarker("dev")}\n`)).toBe(true);
    for (const text of ["PLAN START", "PLAN END", "PREVIEW START", "PREVIEW END"]) expect(body).toContain(text);
    expect(body).toContain(
      "the whole text is in the artifact preview-dev of this run, https://github.com/contoso/apim-entra-auth/actions/runs/7.",
    );
  });

  it("creates the comment when the pull request has none for the stack", async () => {
    const dir = freshCopy();
    fs.writeFileSync(path.join(dir, "comment.md"), `${commentMarker("prod")}\n## Stack \`prod\`\n`);

    const posted = await postComment(dir, [{ id: 41, body: `${commentMarker("dev")}\nold` }]);

    expect(posted).toEqual([
      {
        call: "createComment",
        args: {
          owner: "contoso",
          repo: "apim-entra-auth",
          issue_number: 12,
          body: `${commentMarker("prod")}\n## Stack \`prod\``,
        },
      },
    ]);
  });
});

/**
 * Runs the workflow's github-script step as actions/github-script does (an async function of `require`, `github` and
 * `context`), in `dir`, with a stand-in for GitHub's REST client holding the given comments; returns the writes.
 */
async function postComment(dir: string, comments: { id: number; body: string }[]) {
  const posted: { call: string; args: Record<string, unknown> }[] = [];
  const record = (call: string) => async (args: Record<string, unknown>) => void posted.push({ call, args });
  const github = {
    paginate: async () => comments,
    rest: {
      issues: {
        listComments: () => undefined,
        updateComment: record("updateComment"),
        createComment: record("createComment"),
      },
    },
  };
  const step = "Comment the preview and the plan diff on the pull request";
  await runGithubScript(dir, "pull-request.yml", "preview", step, {}, github);
  return posted;
}

describe("long runs keep a valid Azure credential", () => {
  /** A stand-in for GitHub's OIDC token endpoint: each request gets a new token; `fail` answers 500 once first. */
  async function tokenEndpoint(fail = false) {
    const requests: { authorization?: string; audience: string | null }[] = [];
    let failNext = fail;
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://localhost");
      requests.push({ authorization: request.headers.authorization, audience: url.searchParams.get("audience") });
      if (failNext) {
        failNext = false;
        response.writeHead(500).end();
        return;
      }
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ count: 1, value: `jwt-${requests.length}` }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/token?api-version=2.0`, requests, close: () => server.close() };
  }

  /** Runs the script until the stand-in `sleep` has let it sign in `rounds` times. */
  async function keepSignedIn(endpointUrl: string, rounds: number) {
    const dir = freshCopy();
    const log = path.join(dir, "calls.log");
    const commands = commandStandIns({
      az: `printf 'az %s\\n' "$*" >> "${log}"`,
      sleep: `printf 'sleep %s\\n' "$*" >> "${log}"; n=$(grep -c '^sleep' "${log}"); [ "$n" -le ${rounds} ]`,
    });
    // As the workflow starts it: the file itself, with its own shebang and options.
    const script: PipelineStep = {
      system: "GitHub Actions",
      file: ".github/workflows/main.yml",
      job: "deploy",
      label: "keep signed in",
      script: ".github/scripts/keep-azure-cli-signed-in.sh",
      env: {
        ACTIONS_ID_TOKEN_REQUEST_URL: endpointUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-token",
        ARM_CLIENT_ID: "5e7e0000-aaaa-4bbb-8ccc-000000000001",
        ARM_TENANT_ID: "11111111-2222-3333-4444-555555555555",
        ARM_SUBSCRIPTION_ID: "00000000-0000-4000-8000-00000000aaaa",
      },
    };
    const run = await runStep(script, { dir, pathFirst: [commands] });
    return { run, calls: logLines(log) };
  }

  const signIn = (token: string) =>
    `az login --service-principal --username 5e7e0000-aaaa-4bbb-8ccc-000000000001 --tenant 11111111-2222-3333-4444-555555555555 --federated-token ${token} --allow-no-subscriptions --output none`;
  const selectSubscription = "az account set --subscription 00000000-0000-4000-8000-00000000aaaa";

  it("GitHub: signs the Azure CLI in again every 2 minutes with a fresh OIDC token of the job", async () => {
    const endpoint = await tokenEndpoint();
    try {
      const { calls } = await keepSignedIn(endpoint.url, 2);

      expect(calls).toEqual([
        "sleep 120",
        signIn("jwt-1"),
        selectSubscription,
        "sleep 120",
        signIn("jwt-2"),
        selectSubscription,
        "sleep 120",
      ]);
      expect(endpoint.requests).toEqual([
        { authorization: "bearer request-token", audience: "api://AzureADTokenExchange" },
        { authorization: "bearer request-token", audience: "api://AzureADTokenExchange" },
      ]);
    } finally {
      endpoint.close();
    }
  });

  it("GitHub: a failed round is a warning, and the next round signs in", async () => {
    const endpoint = await tokenEndpoint(true);
    try {
      const { run, calls } = await keepSignedIn(endpoint.url, 2);

      expect(calls).toEqual(["sleep 120", "sleep 120", signIn("jwt-2"), selectSubscription, "sleep 120"]);
      expect(run.stdout).toMatch(
        /^::warning::\S+ could not sign the Azure CLI in again; the next attempt is in 120 s$/m,
      );
    } finally {
      endpoint.close();
    }
  });

  it("GitHub: the deploy job starts it right after signing in, before any pulumi step, and hands smoke no token", async () => {
    const steps = (await githubSteps("main.yml", withCommittedStacks())).filter((step) => step.stack === "dev");
    const index = (test: (step: PipelineStep) => boolean) => steps.findIndex(test);
    const login = index((step) => step.action?.startsWith("azure/login@") === true);
    const keep = index((step) => step.script?.includes(".github/scripts/keep-azure-cli-signed-in.sh") === true);
    const firstPulumi = index((step) => /\bpulumi\s/.test(step.script ?? ""));
    expect([login, keep, firstPulumi].every((i) => i >= 0)).toBe(true);
    expect(login).toBeLessThan(keep);
    expect(keep).toBeLessThan(firstPulumi);
    expect(steps[keep]?.script?.trim()).toBe(
      '.github/scripts/keep-azure-cli-signed-in.sh > "$RUNNER_TEMP/azure-cli-sign-in.log" 2>&1 &',
    );
    const smoke = steps.find((step) => step.label === "Smoke test") as PipelineStep;
    for (const name of ["ARM_OIDC_TOKEN", "AZURE_FEDERATED_TOKEN_FILE", "CLIENT_ASSERTION", "CLIENT_ASSERTION_FILE"]) {
      expect(smoke.env[name]).toBeUndefined();
    }
    expect(fs.statSync(path.join(projectDir, ".github/scripts/keep-azure-cli-signed-in.sh")).mode & 0o111).not.toBe(0);
  });

  it("Azure DevOps: every AzureCLI task keeps its session active and gets the job's token for azuread", () => {
    const pipeline = expandedAzurePipeline();
    const tasks = pipeline.stages
      .flatMap((stage) => stage.jobs)
      .flatMap((job) => job.steps ?? job.strategy?.runOnce?.deploy?.steps ?? [])
      .filter((step) => step.task === "AzureCLI@2");
    expect(tasks).toHaveLength(2 * committedStacks.length);
    for (const task of tasks) {
      expect(task.inputs).toMatchObject({ addSpnToEnvironment: true, keepAzSessionActive: true });
      expect(task.env).toEqual({ SYSTEM_ACCESSTOKEN: "$(System.AccessToken)" });
    }
  });
});

describe("Azure DevOps stages for any stack name", () => {
  const names = ["dev", "pre-prod", "eu.prod", "2026-q1", "prod"];

  it("derives a valid, distinct stage id from each name, keeping the name as displayName and environment", () => {
    const stages = expandedAzurePipeline({ stacks: names }).stages.slice(1);

    expect(stages.map((stage) => [stage.stage, stage.displayName])).toEqual([
      ["stack_dev", "dev"],
      ["stack_pre_prod", "pre-prod"],
      ["stack_eu_prod", "eu.prod"],
      ["stack_2026_q1", "2026-q1"],
      ["stack_prod", "prod"],
    ]);
    for (const stage of stages) {
      // Letters, digits and _, not starting with a digit (azure-devops-yaml-schema, jobs.job; stages alike).
      expect(stage.stage).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      const up = stage.jobs.find((job) => job.deployment === "up") as { environment?: string };
      expect(up.environment).toBe(stage.displayName);
    }
  });

  it("gives each committed stack its own stage id", () => {
    const ids = expandedAzurePipeline().stages.map((stage) => stage.stage);
    expect(ids).toEqual(["test", ...committedStacks.map((stack) => `stack_${stack.replace(/[-.]/g, "_")}`)]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("serialises each stack's stage across runs, oldest run first", () => {
    for (const stage of expandedAzurePipeline({ stacks: names }).stages.slice(1)) {
      expect(stage.lockBehavior, stage.stage).toBe("sequential");
    }
  });
});

describe("the guard pack as preview and up load it", () => {
  it("is installed by the job's npm ci before any pulumi command runs it", async () => {
    const jobs = [
      ...groupBy(
        (await Promise.all(workflowFiles.map((file) => githubSteps(file, withCommittedStacks())))).flat(),
        (step) => `${step.file} ${step.job} ${step.stack}`,
      ).values(),
      ...groupBy(azureSteps(), (step) => step.job).values(),
    ];
    const runningPack = jobs.filter((steps) => steps.some((step) => step.script?.includes("--policy-pack guard")));
    expect(runningPack.length).toBe(4 * committedStacks.length);
    for (const steps of runningPack) {
      const install = steps.findIndex((step) => step.script?.trim() === "npm ci");
      const pack = steps.findIndex((step) => step.script?.includes("--policy-pack guard"));
      expect(install, steps[0]?.job).toBeGreaterThanOrEqual(0);
      expect(install).toBeLessThan(pack);
    }
  });

  // tests/guard.test.ts starts the pack the way Pulumi's nodejs host does, from this checkout.
  it("needs nothing but the project's node_modules: every package the pack imports resolves from guard/ of a clean copy", () => {
    const dir = freshCopy();
    const imports = fs
      .readdirSync(path.join(dir, "guard"))
      .filter((file) => file.endsWith(".ts"))
      .flatMap((file) => [...read(path.join(dir, "guard"), file).matchAll(/from "(@?[^".][^"]*)"/g)].map((m) => m[1]));
    const packages = [...new Set([...imports, "@pulumi/pulumi/cmd/run-policy-pack"])].sort();
    expect(packages).toEqual(["@pulumi/policy", "@pulumi/pulumi/cmd/run-policy-pack", "uuid"]);
    expect(JSON.parse(read(path.join(dir, "guard"), "package.json")).dependencies).toBeUndefined();
    for (const name of packages) {
      expect(() => require.resolve(name as string, { paths: [path.join(dir, "guard")] }), name).not.toThrow();
    }
  });
});

describe("the deploy's smoke step, run as written against stand-ins for Entra and the gateway", () => {
  // Each committed stack, evaluated offline with Entra's authority moved to a local stand-in, is what `pulumi stack
  // output` hands smoke; the gateway stand-in judges with the stack's own policy. Not proven: real Entra and APIM.
  async function deployedStack(stack: string) {
    const { config, secretKeys } = readStackFileConfig(projectDir, stack);
    const tenantId = "11111111-2222-3333-4444-555555555555";
    const directory: EntraStandInOptions = { tenantId, clients: [], apis: [], assignments: [] };
    const entra = await startEntraStandIn(directory);
    const evaluation = await evaluate(
      { ...config, tenantId, authorityHost: entra.authorityHost },
      stack,
      undefined,
      secretKeys,
    );
    const deployed = entraDirectoryOf(evaluation);
    entra.seed(deployed);
    const outputs = structuredClone(evaluation.outputs) as { apis: Record<string, { url: string; policy: string }> };
    const backend = await startBackendStandIn();
    const gateway = await startGatewayStandIn({
      apis: Object.entries(outputs.apis).map(([name, api]) => ({
        path: name,
        policyXml: api.policy,
        backendUrl: backend.url,
      })),
    });
    for (const [name, api] of Object.entries(outputs.apis)) api.url = `${gateway.url}/${name}`;
    const dir = freshCopy();
    fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(outputs));
    const pulumi = commandStandIns({
      pulumi: `[ "$*" = "stack output --json --show-secrets --stack ${stack}" ] || exit 64\ncat "${dir}/outputs.json"`,
    });
    return { dir, pulumi, close: () => Promise.all([entra.close(), gateway.close(), backend.close()]) };
  }

  it.each([
    ["dev", "", /^9 of 9 checks passed$/m],
    ["prod", "reporting", /^9 of 9 checks passed$/m],
    // The committed prod stack's pipeline client trusts another repository's jobs (repo:contoso/orders), not this
    // deploy job (repo:contoso/apim-entra-auth, from bootstrap/Pulumi.contoso.yaml): the job's token cannot sign it in.
    ["prod", "pipeline", /^4 of 4 checks passed, without a token$/m],
  ])(
    "%s with SMOKE_CLIENT=%j passes after a successful up",
    async (stack, smokeClient, summary) => {
      const smoke = (await githubSteps("main.yml", withCommittedStacks())).find(
        (step) => step.stack === stack && step.label === "Smoke test",
      ) as PipelineStep;
      const deployed = await deployedStack(stack);
      try {
        const run = await runStep(smoke, {
          dir: deployed.dir,
          pathFirst: [deployed.pulumi],
          env: { SMOKE_CLIENT: smokeClient },
        });

        expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
        expect(run.stdout).toMatch(summary);
      } finally {
        await deployed.close();
      }
    },
    120_000,
  );
});

describe("the drift checks, run with a stand-in drift", () => {
  /** A stand-in `npm` that logs its arguments and prints `output` and exits `status` as npm run drift would. */
  function driftStandIn(log: string, output: string, status: number) {
    const outputFile = `${log}.output`;
    fs.writeFileSync(outputFile, output);
    return commandStandIns({
      npm: `printf '%s\\n' "$*" >> "${log}"\ncat "${outputFile}"\nexit ${status}`,
      az: `[ "$*" != "account show --query id -o tsv" ] || echo 00000000-0000-4000-8000-00000000aaaa`,
    });
  }
  const driftCheck = async (vars: Record<string, string> = {}) =>
    (await githubSteps("drift.yml", withCommittedStacks(vars))).filter(
      (step) => step.job === "drift" && step.id === "drift",
    );

  it.each([
    ["Pulumi Cloud (PULUMI_ORGANIZATION set)", "contoso", "contoso/"],
    ["Azure Blob", "", ""],
  ])(
    "GitHub: checks each committed stack as %s names it, with the smoke client SMOKE_CLIENTS gives the stack",
    async (_backend, organization, prefix) => {
      const steps = await driftCheck({ PULUMI_ORGANIZATION: organization, SMOKE_CLIENTS: '{"prod": "reporting"}' });
      expect(steps.map((step) => step.stack)).toEqual(committedStacks);
      const dir = freshCopy();
      for (const step of steps) {
        const log = path.join(dir, `drift-${step.stack}.log`);
        const run = await runStep(step, { dir, pathFirst: [driftStandIn(log, "drift: no drift in stack.\n", 0)] });
        expect(run.status, run.stderr).toBe(0);
        expect(run.outputs).toEqual({ drifted: "false" });
        expect(logLines(log)).toEqual([
          `run --silent drift -- --stack ${prefix}${step.stack}${step.stack === "prod" ? " --client reporting" : ""}`,
        ]);
        expect(step.env.ARM_CLIENT_ID).toBe("");
      }
      const [signedIn] = await driftCheck({ AZURE_PREVIEW_CLIENT_ID: "5e7e0000-aaaa-4bbb-8ccc-000000000003" });
      expect(signedIn?.env.ARM_CLIENT_ID).toBe("5e7e0000-aaaa-4bbb-8ccc-000000000003");
    },
  );

  it.each([
    [0, "false", 0],
    [1, "true", 1],
    [2, undefined, 2],
    [3, undefined, 3],
  ])(
    "GitHub: drift's exit %i fails the job unless 0 and tells the issue step drifted=%s",
    async (status, drifted, jobStatus) => {
      const [step] = await driftCheck();
      const dir = freshCopy();
      const log = path.join(dir, "drift.log");
      const run = await runStep(step as PipelineStep, { dir, pathFirst: [driftStandIn(log, "findings\n", status)] });
      expect(run.status).toBe(jobStatus);
      expect(run.outputs).toEqual(drifted === undefined ? {} : { drifted });
      expect(read(dir, "drift.txt")).toBe("findings\n");
      expect(run.stdout).toBe("findings\n");
    },
  );

  it("GitHub: one issue per stack, opened on drift, left alone while the findings stay, updated when they change, closed when a run finds none", async () => {
    const github = issuesStandIn([
      { number: 1, title: "Drift in prod", state: "open", body: `${driftIssuePrefix("prod")} findings 1 -->\nold` },
      {
        number: 2,
        title: "A pull request",
        state: "open",
        body: `${driftIssuePrefix("dev")} findings 1 -->`,
        pull_request: {},
      },
    ]);
    const consent = (trace: string) =>
      [
        "drift: stack dev differs from the program; pulumi up --refresh would change it back:",
        "+ create AppRoleAssignment reporting--orders-admin-consent",
        "  ! breaks client reporting's calls to orders: the grant is revoked, so its next token request for orders is refused (AADSTS501051)",
        `token issued             access token   issued, expires in ${3599 + trace.charCodeAt(0)} s   pass`,
        `! smoke: token issued: expected access token, got AADSTS501051: not assigned. Trace ID: ${trace}`,
      ].join("\n");
    const policy = "~ update ApiPolicy orders-policy (value)";

    await driftRun(github, "dev", consent("a1"), 1);
    expect(github.writes).toEqual([["create", 3]]);
    const opened = github.issue(3);
    expect(opened).toMatchObject({ title: "Drift in dev", labels: ["drift"], state: "open" });
    expect(opened.body.startsWith(driftIssuePrefix("dev"))).toBe(true);
    expect(opened.body).toContain("+ create AppRoleAssignment reporting--orders-admin-consent");

    await driftRun(github, "dev", consent("b2"), 1); // the same drift, another day: another trace id
    expect(github.writes).toEqual([["create", 3]]);

    await driftRun(github, "dev", `${consent("c3")}\n${policy}`, 1);
    expect(github.writes.slice(1)).toEqual([
      ["update", 3],
      ["comment", 3],
    ]);
    expect(github.issue(3).body).toContain(policy);

    await driftRun(github, "dev", "drift: no drift in stack dev.", 0);
    expect(github.writes.slice(3)).toEqual([
      ["comment", 3],
      ["close", 3],
    ]);
    await driftRun(github, "dev", "drift: no drift in stack dev.", 0); // nothing open: nothing to do
    expect(github.writes).toHaveLength(5);

    await driftRun(github, "dev", consent("d4"), 1); // drift again after the close: a new issue
    expect(github.writes.slice(5)).toEqual([["create", 4]]);
    expect(github.issues.filter((issue) => issue.state === "open").map((issue) => issue.number)).toEqual([1, 2, 4]);
    expect(github.issue(1).body).toBe(`${driftIssuePrefix("prod")} findings 1 -->\nold`);
  }, 120_000);

  it.each([
    ["Pulumi Cloud (PULUMI_ORGANIZATION set)", "contoso", "contoso/"],
    ["Azure Blob", "", ""],
  ])(
    "Azure DevOps: checks each committed stack as %s names it, signed in through the preview identity's connection",
    async (_backend, organization, prefix) => {
      const steps = azureSteps({}, "azure-pipelines-drift.yml").filter((step) => step.action === "AzureCLI@2");
      expect(steps.map((step) => `${step.job}: ${step.label}`)).toEqual(
        committedStacks.map((stack) => `drift_${stack}/drift: Drift check (a refreshed preview, then the smoke test)`),
      );
      expect(new Set(steps.map((step) => step.env.PREVIEWSERVICECONNECTION))).toEqual(
        new Set(["apim-entra-auth-preview"]),
      );
      const dir = freshCopy();
      for (const step of steps) {
        const log = path.join(dir, `${step.job.replace("/", "-")}.log`);
        const run = await runStep(step, {
          dir,
          pathFirst: [recordingCommands(log, providerEnv)],
          env: { ...taskEnv, PULUMI_ORGANIZATION: organization, SMOKE_CLIENT_PROD: "reporting" },
        });
        expect(run.status, run.stderr).toBe(0);
        const client = step.stack === "prod" ? " --client reporting" : "";
        expect(logLines(log).slice(1)).toEqual([`npm run drift -- --stack ${prefix}${step.stack}${client} ${signIn}`]);
      }
    },
  );

  it("Azure DevOps: drift fails the task, and so the scheduled run", async () => {
    const [step] = azureSteps({}, "azure-pipelines-drift.yml").filter((candidate) => candidate.action === "AzureCLI@2");
    const dir = freshCopy();
    const log = path.join(dir, "drift.log");
    const run = await runStep(step as PipelineStep, {
      dir,
      pathFirst: [driftStandIn(log, "drift: stack dev has drifted: 1 change to put back.\n", 1)],
      env: taskEnv,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("drift: stack dev has drifted");
  });

  /** A stand-in for GitHub's REST client over a list of issues, recording each write as [kind, issue number]. */
  function issuesStandIn(initial: Issue[]) {
    const issues = structuredClone(initial);
    const writes: [string, number][] = [];
    const issue = (number: number) => issues.find((candidate) => candidate.number === number) as Issue;
    return {
      issues,
      writes,
      issue,
      paginate: async (_method: unknown, params: { state: string }) =>
        structuredClone(issues.filter((candidate) => candidate.state === params.state)),
      rest: {
        issues: {
          listForRepo: () => undefined,
          create: async (args: { title: string; body: string; labels: string[] }) => {
            const number = Math.max(...issues.map((candidate) => candidate.number)) + 1;
            issues.push({ number, title: args.title, body: args.body, labels: args.labels, state: "open" });
            writes.push(["create", number]);
          },
          update: async (args: { issue_number: number; body?: string; state?: string; state_reason?: string }) => {
            const target = issue(args.issue_number);
            if (args.body !== undefined) target.body = args.body;
            if (args.state === "closed") {
              expect(args.state_reason).toBe("completed");
              target.state = "closed";
            }
            writes.push([args.state === "closed" ? "close" : "update", args.issue_number]);
          },
          createComment: async (args: { issue_number: number; body: string }) => {
            expect(args.body).toContain("https://github.com/contoso/apim-entra-auth/actions/runs/7");
            writes.push(["comment", args.issue_number]);
          },
        },
      },
    };
  }

  /**
   * One scheduled run of the drift job for a stack: its drift step with drift printing `output` and exiting `status`,
   * then each later step its condition lets run — the issue's text built as written, and the github-script step as
   * actions/github-script runs it, with `github` standing in for GitHub's REST client.
   */
  async function driftRun(github: ReturnType<typeof issuesStandIn>, stack: string, output: string, status: number) {
    const steps = (await githubSteps("drift.yml", withCommittedStacks())).filter(
      (step) => step.job === "drift" && step.stack === stack,
    );
    const dir = freshCopy();
    const stepOutputs: Record<string, { outputs: Record<string, string> }> = {};
    let failed = false;
    const after = steps.slice(steps.findIndex((step) => step.id === "drift"));
    for (const step of after) {
      const context = { ...withCommittedStacks(), matrix: { stack }, steps: stepOutputs };
      if (step.condition && !githubTruthy(evaluateGitHub(step.condition, context, failed))) continue;
      const resolved = { ...step, ...step.resolve?.(stepOutputs) };
      if (step.action?.startsWith("actions/github-script@")) {
        await runGithubScript(dir, "drift.yml", "drift", step.label, resolved.env, github);
        continue;
      }
      const log = path.join(dir, "npm.log");
      const run = await runStep(resolved, { dir, pathFirst: [driftStandIn(log, `${output}\n`, status)] });
      if (step.id) stepOutputs[step.id] = { outputs: run.outputs };
      failed ||= run.status !== 0;
      if (step.id !== "drift") expect(run.status, run.stderr).toBe(0);
    }
  }
});

interface Issue {
  number: number;
  title: string;
  body: string;
  state: string;
  labels?: string[];
  pull_request?: object;
}

/**
 * Runs a workflow's github-script step (found by its name) as actions/github-script does: an async function of
 * `require`, `github` and `context`, here with the step's environment as `process.env`, in `dir`.
 */
async function runGithubScript(
  dir: string,
  file: string,
  job: string,
  name: string,
  env: Record<string, string>,
  github: unknown,
) {
  const workflow = parse(fs.readFileSync(path.join(workflowsDir, file), "utf8")) as {
    jobs: Record<string, { steps: { name?: string; uses?: string; with?: { script?: string } }[] }>;
  };
  const script = workflow.jobs[job]?.steps.find((step) => step.name === name)?.with?.script;
  expect(script, name).toBeDefined();
  const context = { repo: { owner: "contoso", repo: "apim-entra-auth" }, issue: { number: 12 } };
  const requireInDir = (module: string) => {
    if (module !== "node:fs") throw new Error(`the script requires ${module}`);
    return {
      readFileSync: (target: string, encoding: BufferEncoding) => fs.readFileSync(path.resolve(dir, target), encoding),
    };
  };
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
    ...args: string[]
  ) => (...values: unknown[]) => Promise<void>;
  await new AsyncFunction("require", "github", "context", "process", script as string)(requireInDir, github, context, {
    env,
  });
}
