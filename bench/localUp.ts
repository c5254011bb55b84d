// npm run bench's local-tenant rows: `npm run local -- up` of the dev stack from a stopped tenant and an empty .local
// root (the CLI already built) to the smoke test's last line, where its time goes, a second `up` that changes nothing,
// and the tenant's resident memory after up. Each run has its own temporary root and a port the system chooses.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runLocal } from "../local/cli";
import { engineBinDir } from "../local/engine";

export interface LocalUpRun {
  /** Tenant start to the smoke test's last line (ms). */
  total: number;
  /**
   * Until the tenant listened, until the CLI began (providers, APIM service, stack), `pulumi up` (its preview, then
   * the update Pulumi times as Duration), smoke (ms).
   */
  phases: { start: number; prepare: number; up: number; update: number; smoke: number };
  /** The slowest resources as `pulumi up` timed them, e.g. `orders-app-role created (4.1s)`. */
  slowest: string[];
  /** A second `up` of the same stack: preview, no changes, smoke (ms). */
  again: number;
  residentMb: number;
}

/** Undefined when the CLI is not built (`npm run local -- install` first). */
export async function benchLocalUp(runs: number): Promise<LocalUpRun[] | undefined> {
  if (!fs.existsSync(path.join(engineBinDir(), "pulumi"))) return undefined;
  // The dev stack's secret dates hold for the program and the tenant alike on this day, whenever the bench runs.
  process.env.APIM_ENTRA_AUTH_TODAY ??= "2026-11-23";
  const results: LocalUpRun[] = [];
  for (let run = 0; run < runs; run++) results.push(await oneRun());
  return results;
}

async function oneRun(): Promise<LocalUpRun> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-local-"));
  const lines: { at: number; text: string }[] = [];
  const io = {
    out: (text: string) => lines.push({ at: Date.now(), text }),
    err: (text: string) => lines.push({ at: Date.now(), text }),
  };
  const local = async (...argv: string[]) => {
    const code = await runLocal(argv, io, { root, stdio: "pipe" });
    if (code !== 0)
      throw new Error(
        `npm run local -- ${argv.join(" ")} exited ${code}:\n${lines.map((line) => line.text).join("\n")}`,
      );
  };
  try {
    const began = Date.now();
    await local("start", "--port", "0");
    const started = Date.now();
    await local("up");
    const ended = Date.now();
    const when = (pattern: RegExp) => lines.find((line) => pattern.test(line.text))?.at ?? Number.NaN;
    const upEnded = when(/^Resources:|\nResources:/m);
    const prepared = when(/Created stack|^Selected stack/m);
    const upOutput = lines.find((line) => /Resources:/.test(line.text))?.text ?? "";

    const statusFrom = lines.length;
    await local("status");
    const resident = lines
      .slice(statusFrom)
      .map((line) => /(\d+) MB resident/.exec(line.text)?.[1])
      .find(Boolean);

    const againBegan = Date.now();
    await local("up");
    const again = Date.now() - againBegan;
    return {
      total: ended - began,
      phases: {
        start: started - began,
        prepare: prepared - started,
        up: upEnded - prepared,
        update: pulumiDuration(upOutput),
        smoke: ended - upEnded,
      },
      slowest: slowestResources(upOutput),
      again,
      residentMb: Number(resident),
    };
  } finally {
    await runLocal(["stop"], { out: () => undefined, err: () => undefined }, { root });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** `Duration: 1m3s` of `pulumi up`'s summary, in ms. */
function pulumiDuration(upOutput: string): number {
  const match = /^Duration: (?:(\d+)m)?(\d+)s$/m.exec(upOutput);
  return match ? (Number(match[1] ?? 0) * 60 + Number(match[2])) * 1000 : Number.NaN;
}

/** The resources `pulumi up` took longest over, from its `<type> <name> created (<n>s)` lines. */
function slowestResources(upOutput: string): string[] {
  const timed = [...upOutput.matchAll(/^\s*\+\s+(\S+)\s+(\S+)\s+created \(([\d.]+)s\)/gm)].map((match) => ({
    text: `${match[1]} ${match[2]} ${match[3]} s`,
    seconds: Number(match[3]),
  }));
  return timed
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, 4)
    .map((entry) => entry.text);
}
