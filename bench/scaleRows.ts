// npm run bench's rows for bench/scale.ts, chosen by environment variables:
//   BENCH_LATENCY          each Graph / ARM request's delay, default graph=150,arm=300
//   BENCH_SCALE            synthetic catalogues besides dev, <APIs>x<clients>[,…], default 2x10 (20x100: the
//                          issue's size, about 720 resources; run it on its own, it takes minutes)
//   BENCH_ONLY=scale       these rows alone (npm run bench's other sections left out)
//   BENCH_SCALE_RUNS       runs of each (new root each time), whose median times are shown; default 1
//   BENCH_SCALE_VARIANTS   default (the CLI's defaults), unbounded (PULUMI_PARALLEL=2147483647), nocheckpoints
//                          (PULUMI_SKIP_CHECKPOINTS=true); default "default"
import * as fs from "node:fs";
import * as path from "node:path";
import { engineBinDir } from "../local/engine";
import { parseLatency } from "../local/latency";
import { benchScale, engineVariants, parseSizes, parseVariants } from "./scale";

const seconds = (ms: number) => (ms / 1000).toFixed(1);

export async function scaleRows(env: NodeJS.ProcessEnv): Promise<[string, string][]> {
  if (!fs.existsSync(path.join(engineBinDir(), "pulumi"))) {
    return [["preview and up at scale (not measured: run npm run local -- install first)", "-"]];
  }
  const latency = parseLatency("BENCH_LATENCY", env.BENCH_LATENCY ?? "graph=150,arm=300");
  const runs = await benchScale({
    latency,
    sizes: parseSizes("BENCH_SCALE", env.BENCH_SCALE ?? "2x10"),
    variants: parseVariants("BENCH_SCALE_VARIANTS", env.BENCH_SCALE_VARIANTS ?? "default"),
    runs: wholeRuns("BENCH_SCALE_RUNS", env.BENCH_SCALE_RUNS ?? "1"),
    log: (line) => process.stderr.write(`bench ${new Date().toISOString().slice(11, 19)}: ${line}\n`),
  });
  const rows: [string, string][] = [];
  for (const run of runs) {
    if ("failure" in run) {
      rows.push([`${run.label}; ${engineVariants[run.variant].label}: failed`, firstErrors(run.failure)]);
      continue;
    }
    rows.push([
      `${run.label}: ${run.resources} resources, Graph ${latency.graph} ms, ARM ${latency.arm} ms; ${engineVariants[run.variant].label}; median of ${run.runs}`,
      "",
    ]);
    rows.push([
      `  pulumi preview of the new stack (s; Graph ${run.previewRequests.graph}, ARM ${run.previewRequests.arm} requests)`,
      seconds(run.preview),
    ]);
    rows.push(["  pulumi up --skip-preview (s)", seconds(run.up)]);
    rows.push(["  pulumi preview after it, no changes (s)", seconds(run.previewAfter)]);
    rows.push([
      `  critical path: ${run.rounds} rounds × one request's latency, + the program's ARM lookup (s)`,
      seconds(run.latencyBound),
    ]);
    rows.push(["    ratio up : critical path (goal 1.5)", (run.up / run.latencyBound).toFixed(1)]);
    rows.push([
      "  critical path, each resource costing its own create time in this up (s)",
      `${seconds(run.providerBound)}  (${run.providerChain.join(" → ")})`,
    ]);
    rows.push(["    ratio up : that path", (run.up / run.providerBound).toFixed(1)]);
    const parallel = run.parallelism >= 2 ** 31 - 1 ? "no limit" : String(run.parallelism);
    rows.push([`  the creates' summed time ÷ the engine's parallelism (${parallel}) (s)`, seconds(run.slotBound)]);
    rows.push([
      "    ratio up : the larger of those two (what the provider and the engine's slots allow)",
      (run.up / Math.max(run.providerBound, run.slotBound)).toFixed(1),
    ]);
    rows.push([
      "  requests during up: Graph, ARM; the most in flight at once",
      `${run.requests.graph}, ${run.requests.arm}; ${run.requests.mostInFlight}`,
    ]);
    rows.push(["  slowest creates", run.slowest.join("; ")]);
  }
  return rows;
}

function wholeRuns(variable: string, text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new Error(`${variable}: "${text}" is not a whole number from 1`);
  return Number(text);
}

/** The failure's first lines that name an error, enough to say what gave way. */
function firstErrors(failure: string): string {
  const errors = failure.split("\n").filter((line) => /error/i.test(line));
  return (errors.length > 0 ? errors : failure.split("\n")).slice(0, 3).join(" | ");
}
