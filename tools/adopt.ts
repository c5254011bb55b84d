import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, validateCatalogue } from "../config/validate";
import { today as todayOf } from "../config/clock";
import { publicCloudAuthorityHost } from "../entra/tokenProfile";
import { type CliIo, errorText, InputError, parseOrAnswer, reportInputError, runIfMain, UsageError } from "./cli";
import { firstUpChanges } from "./adopt/firstUp";
import { graphClient, GraphError, odataString } from "./adopt/graph";
import { observeTenant, type Observation } from "./adopt/observe";
import { type EntryPlan, propose, type WrittenEntry } from "./adopt/proposal";
import { signInToGraph } from "./adopt/signIn";
import { adoptedEntriesText, mergeIntoStackFile } from "./adopt/stackMerge";
import { evaluateProgram, type MockEvaluation, ProgramError } from "./preview/mockEngine";
import { importedStateOf } from "./preview/importedState";
import { formatPlanDiff } from "./preview/planDiff";
import { planData } from "./preview/planReport";
import { projectNameOf, readStackFileConfig, stackFileOf } from "./preview/stackFiles";
import { TokenRequestError } from "./sign-in/clientCredentials";
import { projectDir } from "./plan";

const usage = `usage: adopt --stack <name> [--api <client id or display name>]… [--client <client id or display name>]…
             [--backend-url <url>]… [--path <path>]… [--write] [--graph <url>] [--authority-host <url>]

Reads app registrations made by hand (seed-guide.txt's My-APIM-API and My-Client-App) through Microsoft Graph
and prints the stack entries that adopt them — observed token version, identifier URI, roles and scopes with
their ids, redirect URIs, the grants between them, and an existing: block each — then what the first
\`pulumi up\` does with them, in the plan diff's words (= import, ~ update, + create; ! where a client breaks).
  --api, --client   an app to adopt as an API or as a client (repeat for more)
  --backend-url     for an API that needs a new stack entry: where APIM forwards its calls (one per new API,
                    in the order of --api); --path likewise (default: the entry's name)
  --write           also merge the entries into Pulumi.<stack>.yaml, keeping its comments and other keys
  --graph           Microsoft Graph's base (GRAPH_URL; default https://graph.microsoft.com)
  --authority-host  where to get the Graph token (AUTHORITY_HOST; default the stack's authorityHost)
Signs in with client credentials as the azuread provider does (ARM_TENANT_ID, ARM_CLIENT_ID, ARM_CLIENT_SECRET
or a federated token), as the deployer or any identity with Application.Read.All. Exit 0 when the entries
are valid, 1 when Graph or the merged stack file fails, 2 on bad flags or an app that cannot be adopted.`;

const options = {
  stack: { type: "string" },
  api: { type: "string", multiple: true },
  client: { type: "string", multiple: true },
  "backend-url": { type: "string", multiple: true },
  path: { type: "string", multiple: true },
  write: { type: "boolean" },
  graph: { type: "string" },
  "authority-host": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export interface EvaluateRequest {
  stack: string;
  config: Record<string, unknown>;
  importedState: Record<string, Record<string, unknown>>;
  invokeResults: Record<string, Record<string, unknown>>;
}

export interface AdoptIo extends CliIo {
  env?: Record<string, string | undefined>;
  /** Reaches the token endpoint and Graph; tests pass a fake tenant. */
  fetch?: typeof fetch;
  /** The project holding Pulumi.yaml and the stack files. Default: this repository. */
  projectDir?: string;
  /** Evaluates the program with the merged config; tests pass one that resets their module registry first. */
  evaluate?(request: EvaluateRequest): Promise<MockEvaluation>;
}

const defaultEvaluate = (request: EvaluateRequest) =>
  evaluateProgram({ ...request, importProgram: () => import("../index.js") });

/** The display names the program would have given its own registrations for the entries adopt may merge into. */
async function registeredNames(
  graph: ReturnType<typeof graphClient>,
  observation: Observation,
  written: { apis: WrittenEntry[]; clients: WrittenEntry[] },
  suffix: string,
): Promise<Set<string>> {
  if (!suffix) return new Set();
  const observed = new Set([...observation.apis, ...observation.clients].map((app) => app.application.displayName));
  const candidates = [...written.apis, ...written.clients]
    .filter((entry) => !entry.existing && typeof entry.displayName === "string" && observed.has(entry.displayName))
    .map((entry) => `${String(entry.displayName)}-${suffix}`);
  const found = new Set<string>();
  for (const name of candidates) {
    const apps = await graph.list<{ id: string }>(`/applications?$filter=displayName eq ${odataString(name)}`);
    if (apps.length > 0) found.add(name);
  }
  return found;
}

/** The report adopt prints: what it found per app, the entries, and the first `up`. */
function reportLines(plans: EntryPlan[], entriesYaml: string, stackFile: string, diff: string[]): string[] {
  return [
    ...plans.flatMap((plan) => [
      plan.heading,
      ...plan.report.map((line) => (line.startsWith("! ") ? `  ${line}` : `  - ${line}`)),
      "",
    ]),
    `Stack entries for ${stackFile}:`,
    "",
    ...entriesYaml.trimEnd().split("\n"),
    "",
    "What the first `pulumi up` then does with them:",
    "",
    ...diff,
  ];
}

const asWritten = (value: unknown): WrittenEntry[] =>
  Array.isArray(value) ? value.filter((entry): entry is WrittenEntry => !!entry && typeof entry === "object") : [];

/** The adopt CLI without process globals: returns the exit status. */
export async function runAdopt(argv: string[], io: AdoptIo): Promise<number> {
  const args = parseOrAnswer(argv, options, io, usage);
  if (typeof args === "number") return args;
  const env = io.env ?? process.env;
  try {
    if (!args.stack) throw new UsageError("--stack <name> is required: the stack whose file gets the entries");
    const apis = args.api ?? [];
    const clients = args.client ?? [];
    if (apis.length + clients.length === 0) throw new UsageError("name at least one app: --api or --client");
    const dir = io.projectDir ?? projectDir;
    let stackFile: string;
    try {
      stackFile = stackFileOf(dir, args.stack);
    } catch (error) {
      throw new InputError(`--stack ${args.stack}: ${errorText(error)}`);
    }
    const { config } = readStackFileConfig(dir, args.stack);
    const graphBase = args.graph ?? env.GRAPH_URL ?? "https://graph.microsoft.com";
    const authorityHost =
      args["authority-host"] ??
      env.AUTHORITY_HOST ??
      (typeof config.authorityHost === "string" ? config.authorityHost : publicCloudAuthorityHost);
    const signIn = await signInToGraph({
      env,
      authorityHost,
      graphBase,
      stackTenantId: typeof config.tenantId === "string" ? config.tenantId : undefined,
      fetch: io.fetch,
    });
    const graph = graphClient({ baseUrl: graphBase, accessToken: signIn.accessToken, fetch: io.fetch });
    const observation = await observeTenant(graph, signIn.tenantId, { apis, clients });
    const written = { apis: asWritten(config.apis), clients: asWritten(config.clients) };
    const nameSuffix = typeof config.nameSuffix === "string" ? config.nameSuffix : args.stack;
    const today = todayOf();
    const plans = propose({
      observation,
      written,
      nameSuffix,
      registeredNames: await registeredNames(graph, observation, written, nameSuffix),
      newApis: Array.from(
        { length: Math.max(args["backend-url"]?.length ?? 0, args.path?.length ?? 0) },
        (_, index) => ({ backendUrl: args["backend-url"]?.[index], path: args.path?.[index] }),
      ),
      today,
      signedInAs: signIn.objectId,
    });
    const namespace = projectNameOf(dir);
    const merged = mergeIntoStackFile(fs.readFileSync(stackFile, "utf8"), plans, namespace);
    const { config: mergedConfig } = readStackFileConfig(dir, args.stack, merged.text);
    try {
      validateCatalogue(mergedConfig, args.stack, today);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.err(
        `The stack file with these entries would not be valid, so nothing is written; fix the stack file first:\n${error.problems.map((problem) => `  - ${problem}`).join("\n")}`,
      );
      return 1;
    }
    const evaluation = await (io.evaluate ?? defaultEvaluate)({
      stack: args.stack,
      config: mergedConfig,
      importedState: importedStateOf(mergedConfig),
      invokeResults: {
        "azuread:index/getClientConfig:getClientConfig": {
          tenantId: signIn.tenantId,
          clientId: signIn.clientId,
          objectId: signIn.objectId,
        },
      },
    });
    const names = {
      apis: plans.filter((plan) => plan.section === "apis").map((plan) => plan.name),
      clients: plans.filter((plan) => plan.section === "clients").map((plan) => plan.name),
    };
    const changes = firstUpChanges(planData(evaluation).resources, observation, names);
    const fileName = path.basename(stackFile);
    io.out(
      [
        `Tenant ${signIn.tenantId}, read through ${graphBase} as ${signIn.objectId}.`,
        "",
        ...reportLines(plans, adoptedEntriesText(merged.document, plans, namespace), fileName, formatPlanDiff(changes)),
      ].join("\n"),
    );
    if (args.write) {
      fs.writeFileSync(stackFile, merged.text);
      io.err(`Wrote ${path.relative(process.cwd(), stackFile)}.`);
    } else {
      io.err(`Nothing written: run again with --write to merge the entries into ${fileName}.`);
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof InputError) return reportInputError(io, error, usage);
    if (error instanceof GraphError) {
      const hint =
        error.status === 403
          ? " — the signed-in identity needs Application.Read.All (an application permission, admin-consented)"
          : "";
      io.err(`error: Microsoft Graph: ${error.message}${hint}`);
      return 1;
    }
    if (error instanceof TokenRequestError || error instanceof ConfigError) {
      io.err(`error: ${error.message}`);
      return 1;
    }
    if (error instanceof ProgramError) {
      io.err(`error: the program could not be planned with these entries: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

runIfMain(module, runAdopt, 1);
