// npm run bench's scale rows: `pulumi preview` and `pulumi up` of the dev stack and of synthetic catalogues (A APIs,
// C clients) against the local tenant with Azure's round trips injected (local/latency.ts), next to the critical-path
// lower bound and the engine's default parallelism. Each case has its own temporary root, a tenant on a port the
// system chooses, the APIM service made beforehand (as `npm run local -- up` does), and no smoke test.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { requestWithCa } from "../local/http";
import { describeLatency, type Latency } from "../local/latency";
import { runLocal } from "../local/cli";
import { projectRoot, runPulumi, type RunPulumiOptions } from "../local/engine";
import { checkStackFile, ensureExistingService, localAuthorityHost, prepareShadowProject } from "../local/localStack";
import { localTenantPaths } from "../local/server";
import { runningTenant } from "../local/tenantProcess";
import { committedStackConfig, projectWithStacks, removeTemporaryProjects } from "../tests/engine/support/projects";
import { stringify } from "yaml";
import { median } from "./median";
import { criticalPath, type StateResource } from "./criticalPath";

/** `20x100`: 20 APIs and 100 clients. */
export interface CatalogueSize {
  apis: number;
  clients: number;
}

export function parseSizes(variable: string, text: string): CatalogueSize[] {
  return text
    .split(",")
    .filter(Boolean)
    .map((part) => {
      const match = /^(\d+)x(\d+)$/.exec(part.trim());
      if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
        throw new Error(`${variable}: "${part}" is not <APIs>x<clients> (whole numbers from 1), e.g. 20x100`);
      }
      return { apis: Number(match[1]), clients: Number(match[2]) };
    });
}

/**
 * The dev stack's settings with `apis` APIs and `clients` clients, each client granted one API (client i the API
 * i mod apis) with a secret: per API an app registration, its role, identifier URI, service principal, the APIM
 * API, its policy and operations; per client an app registration, service principal, secret, and for its grant the
 * API permission and the admin consent.
 */
export function syntheticCatalogue(size: CatalogueSize): Record<string, unknown> {
  const apis = Array.from({ length: size.apis }, (_, i) => ({
    name: `api${i}`,
    displayName: `Synthetic API ${i}`,
    path: `api${i}`,
    backendUrl: `https://api${i}.example.com`,
    appRole: "access_as_app",
    tokenVersion: 2,
  }));
  const clients = Array.from({ length: size.clients }, (_, i) => ({
    name: `client${i}`,
    displayName: `Synthetic client ${i}`,
    credential: "secret",
    secretRotatedOn: "2026-11-23",
    secretLifetimeDays: 180,
    apis: [`api${i % size.apis}`],
  }));
  return { ...committedStackConfig("dev"), apis, clients };
}

/**
 * A stack file of project keys with every string quoted: the CLI reads YAML 1.1, where an unquoted 2026-11-23 is a
 * timestamp, not the date string the program expects.
 */
function stackFileText(config: Record<string, unknown>): string {
  const keys = Object.fromEntries(Object.entries(config).map(([key, value]) => [`apim-entra-auth:${key}`, value]));
  return stringify({ config: keys }, { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" });
}

/**
 * How the CLI runs: its defaults, or with one of its own settings changed to show what limits `up` (both are the
 * CLI's environment variables: sdk/v3 go/common/env/env.go).
 */
export const engineVariants = {
  default: { label: "the CLI's defaults", env: {} },
  unbounded: { label: "PULUMI_PARALLEL=2147483647 (no limit)", env: { PULUMI_PARALLEL: "2147483647" } },
  nocheckpoints: { label: "PULUMI_SKIP_CHECKPOINTS=true", env: { PULUMI_SKIP_CHECKPOINTS: "true" } },
} as const;
export type EngineVariant = keyof typeof engineVariants;

export function parseVariants(variable: string, text: string): EngineVariant[] {
  return text
    .split(",")
    .filter(Boolean)
    .map((part) => {
      if (!(part in engineVariants)) {
        throw new Error(`${variable}: "${part}" is not one of ${Object.keys(engineVariants).join(", ")}`);
      }
      return part as EngineVariant;
    });
}

export interface ScaleRun {
  label: string;
  /** How many runs the times are the median of. */
  runs: number;
  variant: EngineVariant;
  /** Resources that deploy something (not components or providers). */
  resources: number;
  /** The engine's parallelism for the run: PULUMI_PARALLEL, else the CLI's default (4 × CPUs). */
  parallelism: number;
  /** Wall time (ms) of `pulumi preview` of the new stack, of `pulumi up --skip-preview`, and of a preview after it. */
  preview: number;
  up: number;
  previewAfter: number;
  /** Resources on the chain that costs most when each costs one request of its service, and that chain's cost (ms). */
  rounds: number;
  latencyBound: number;
  /** The heaviest chain when each resource costs the time its create took in this up (ms), and its length. */
  providerBound: number;
  providerChain: string[];
  /** The sum of every resource's create time over the parallelism: what the engine's slots alone allow (ms). */
  slotBound: number;
  /** Graph and ARM requests during `up`, and the most the tenant answered at once. */
  requests: { graph: number; arm: number; mostInFlight: number };
  /** Graph and ARM requests during the preview of the new stack (the program's lookup, the providers' sign-in). */
  previewRequests: { graph: number; arm: number };
  /** The slowest creates, e.g. `ApplicationPassword client3-secret-2026-11-23 5.2 s`. */
  slowest: string[];
}

export interface ScaleOptions {
  latency: Latency;
  sizes: CatalogueSize[];
  /** Each case runs once per variant; default only the CLI's defaults. */
  variants?: EngineVariant[];
  /** Runs of each case and variant, each in a new root; the times are their medians. Default 1. */
  runs?: number;
  log?: (line: string) => void;
}

/** The CLI's default parallelism (pkg/v3 cmd/pulumi/operations/up.go defaultParallel): PULUMI_PARALLEL, else 4 × GOMAXPROCS. */
export function defaultParallelism(env: NodeJS.ProcessEnv = process.env, cpus = os.availableParallelism()): number {
  const set = Number(env.PULUMI_PARALLEL);
  return Number.isInteger(set) && set > 0 ? set : 4 * cpus;
}

/** A case whose deployment failed: a result too (the tenant or the engine gave way at that size). */
export interface ScaleFailure {
  label: string;
  variant: EngineVariant;
  failure: string;
}

/**
 * Dev, then each synthetic size, each with every variant in turn. A failed run is reported and the rest go on; each
 * result is logged as it comes, so a run stopped part way still leaves what it measured.
 */
export async function benchScale(options: ScaleOptions): Promise<(ScaleRun | ScaleFailure)[]> {
  process.env.APIM_ENTRA_AUTH_TODAY ??= "2026-11-23";
  const log = options.log ?? (() => undefined);
  const runs: (ScaleRun | ScaleFailure)[] = [];
  try {
    const cases: { label: string; stack: string; projectDir?: string }[] = [{ label: "dev", stack: "dev" }];
    for (const size of options.sizes) {
      const stack = `synthetic${size.apis}x${size.clients}`;
      const projectDir = projectWithStacks({ [stack]: stackFileText(syntheticCatalogue(size)) });
      cases.push({ label: `${size.apis} APIs × ${size.clients} clients`, stack, projectDir });
    }
    for (const { label, stack, projectDir } of cases) {
      for (const variant of options.variants ?? ["default"]) {
        const repeated: ScaleRun[] = [];
        try {
          for (let run = 0; run < (options.runs ?? 1); run++) {
            repeated.push(await oneCase(label, stack, projectDir, variant, options));
          }
          const result = medianRun(repeated);
          runs.push(result);
          log(`${label}, ${variant}: ${JSON.stringify({ ...result, providerChain: undefined, slowest: undefined })}`);
        } catch (error) {
          const failure = error instanceof Error ? error.message : String(error);
          runs.push({ label, variant, failure });
          log(`${label}, ${variant}: failed: ${failure}`);
        }
      }
    }
  } finally {
    removeTemporaryProjects();
  }
  return runs;
}

async function oneCase(
  label: string,
  stack: string,
  projectDir: string | undefined,
  variant: EngineVariant,
  options: ScaleOptions,
): Promise<ScaleRun> {
  const log = options.log ?? (() => undefined);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-scale-"));
  const paths = localTenantPaths(root);
  const output: string[] = [];
  const io = { out: (text: string) => output.push(text), err: (text: string) => output.push(text) };
  const latency = `graph=${options.latency.graph},arm=${options.latency.arm}`;
  try {
    if ((await runLocal(["start", "--port", "0", "--latency", latency], io, { root })) !== 0) {
      throw new Error(`the local tenant did not start:\n${output.join("\n")}`);
    }
    const running = runningTenant(paths);
    if (!running) throw new Error("the local tenant did not write its pid file");
    const catalogue = checkStackFile(projectDir ?? projectRoot, stack, localAuthorityHost(paths));
    await ensureExistingService(paths, running, catalogue.apim);
    const prepared = await prepareShadowProject({ paths, projectDir, io, stdio: "pipe" }, running);
    const cli = { ...prepared.cli, baseEnv: { ...prepared.cli.baseEnv, ...engineVariants[variant].env } };
    const pulumi = async (...args: string[]) => {
      const began = process.hrtime.bigint();
      const run = await runPulumi(args, { ...cli, stdio: "pipe" } satisfies RunPulumiOptions);
      if (run.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
      return { ...run, ms: Number(process.hrtime.bigint() - began) / 1e6 };
    };
    const tenantStatus = async () =>
      JSON.parse(
        (
          await requestWithCa(`${running.endpoints.login}/local/status`, {
            ca: fs.readFileSync(running.caFile, "utf8"),
          })
        ).text,
      ) as {
        requests: { graph: number; arm: number };
        mostRequestsInFlight: number;
      };

    await pulumi("stack", "select", "--create", "--non-interactive", stack);
    log(
      `${label}, ${engineVariants[variant].label}: pulumi preview (${describeLatency(options.latency) ?? "no latency"})`,
    );
    const beforePreview = await tenantStatus();
    const preview = await pulumi("preview", "--non-interactive", "--stack", stack);
    const before = await tenantStatus();
    log(`${label}, ${engineVariants[variant].label}: pulumi up`);
    const up = await pulumi("up", "--yes", "--skip-preview", "--non-interactive", "--stack", stack);
    const after = await tenantStatus();
    const previewAfter = await pulumi("preview", "--non-interactive", "--expect-no-changes", "--stack", stack);
    const exported = await pulumi("stack", "export", "--stack", stack);
    const resources = (JSON.parse(exported.stdout) as { deployment: { resources: StateResource[] } }).deployment
      .resources;

    const createTimes = createDurations(up.stdout);
    const timeOf = (resource: StateResource) => createTimes.get(resourceKey(resource)) ?? 0;
    // index.ts awaits one ARM lookup (the existing APIM service's tier) before it registers anything.
    const lookup = options.latency.arm;
    const byLatency = criticalPath(resources, (resource) =>
      resource.type.startsWith("azuread:") ? options.latency.graph : options.latency.arm,
    );
    const byCreateTime = criticalPath(resources, timeOf);
    const deployed = resources.filter((resource) => resource.custom && !resource.type.startsWith("pulumi:providers:"));
    const parallelism = defaultParallelism(cli.baseEnv);
    const missing = deployed.filter((resource) => !createTimes.has(resourceKey(resource)));
    if (missing.length > 0)
      throw new Error(`no create time in pulumi up's output for ${missing.map((r) => r.urn).join(", ")}`);
    return {
      label,
      runs: 1,
      variant,
      resources: deployed.length,
      parallelism,
      preview: preview.ms,
      up: up.ms,
      previewAfter: previewAfter.ms,
      rounds: byLatency.chain.length,
      latencyBound: lookup + byLatency.cost,
      providerBound: lookup + byCreateTime.cost,
      providerChain: byCreateTime.chain.map((urn) => urn.split("::").at(-1) ?? urn),
      slotBound: deployed.reduce((sum, resource) => sum + timeOf(resource), 0) / parallelism,
      previewRequests: {
        graph: before.requests.graph - beforePreview.requests.graph,
        arm: before.requests.arm - beforePreview.requests.arm,
      },
      requests: {
        graph: after.requests.graph - before.requests.graph,
        arm: after.requests.arm - before.requests.arm,
        mostInFlight: after.mostRequestsInFlight,
      },
      slowest: [...deployed]
        .sort((a, b) => timeOf(b) - timeOf(a))
        .slice(0, 3)
        .map((resource) => `${resourceKey(resource)} ${(timeOf(resource) / 1000).toFixed(1)} s`),
    };
  } finally {
    await runLocal(["stop"], { out: () => undefined, err: () => undefined }, { root });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The first run with each time replaced by the median over the runs. */
function medianRun(runs: ScaleRun[]): ScaleRun {
  const of = (time: (run: ScaleRun) => number) => median(runs.map(time));
  return {
    ...(runs[0] as ScaleRun),
    runs: runs.length,
    preview: of((run) => run.preview),
    up: of((run) => run.up),
    previewAfter: of((run) => run.previewAfter),
    providerBound: of((run) => run.providerBound),
    slotBound: of((run) => run.slotBound),
  };
}

/** `ApplicationPassword client3-secret-2026-11-23`: a resource's type (its last word) and name, as up prints them. */
function resourceKey(resource: Pick<StateResource, "urn" | "type">): string {
  return `${resource.type.split(":").at(-1)} ${resource.urn.split("::").at(-1)}`;
}

/** Each resource's create time (ms) from `pulumi up`'s `+  <type> <name> created (<n>s)` lines. */
function createDurations(upOutput: string): Map<string, number> {
  const times = new Map<string, number>();
  for (const match of upOutput.matchAll(/^\s*\+\s+(\S+)\s+(\S+)\s+created \((?:(\d+)m)?([\d.]+)s\)/gm)) {
    const seconds = Number(match[3] ?? 0) * 60 + Number(match[4]);
    times.set(resourceKey({ type: match[1] as string, urn: `::${match[2]}` }), seconds * 1000);
  }
  return times;
}
