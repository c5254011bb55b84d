import { spawn } from "node:child_process";
import { driftChanges } from "./drift/driftChanges";
import { smokeFindings } from "./drift/smokeFindings";
import { readPreviewDigest } from "./drift/previewDigest";
import { formatPlanDiff } from "./preview/planDiff";
import { runSmoke, type SmokeIo, type SmokeRow } from "./smoke";
import { type CliIo, parseOrAnswer, reportInputError, runIfMain, UsageError } from "./cli";

export const usage = `usage: drift --stack <stack> [--client <name>] [--api <name>]

Checks that a deployed stack is still what the program declares, and still works:
  1. pulumi preview --refresh --expect-no-changes --json --show-sames --stack <stack>: reads every resource
     back from Entra ID and Azure and compares it with the program (a preview writes no state);
  2. npm run smoke -- --stack <stack>: a token for the stack's client, and calls through the gateway.
Prints what drifted in the plan diff's words: what pulumi up --refresh would change back (+ create a deleted
object, ~ update an edited one (keys), +- replace), with ! naming who the edit breaks; then each failed
smoke check. A failed smoke check is drift too: an expired secret stays in the registration, refused by
Entra ID, so the refresh reads it back unchanged (the program's own check of its end date fails the preview).
  --client, --api  smoke's client and API (a stack with several clients needs --client)
Exit status: 0 no drift, 1 drift, 2 usage or input error, 3 the preview failed (nothing was compared;
its errors are printed).`;

const options = {
  stack: { type: "string" },
  client: { type: "string" },
  api: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface DriftIo extends SmokeIo {
  /** Runs the Pulumi CLI; default: `pulumi` from PATH in the current folder. */
  pulumi?(args: string[]): Promise<CommandRun>;
}

/** The preview's arguments: refreshed, compared with the program, every resource in the JSON digest. */
export const previewArgs = (stack: string) => [
  "preview",
  "--refresh",
  "--expect-no-changes",
  "--json",
  "--show-sames",
  "--non-interactive",
  "--stack",
  stack,
];

/** The drift CLI without process globals: returns the exit status. */
export async function runDrift(argv: string[], io: DriftIo): Promise<number> {
  const values = parseOrAnswer(argv, options, io, usage);
  if (typeof values === "number") return values;
  if (!values.stack?.trim()) return reportInputError(io, new UsageError("--stack <stack> is required"), usage);
  const stack = values.stack;

  const preview = await (io.pulumi ?? runPulumiOnPath)(previewArgs(stack));
  const digest = readPreviewDigest(preview.stdout);
  const changes = digest ? driftChanges(digest) : [];
  // 7 is the CLI's exit status for changes under --expect-no-changes (pkg/cmd/pulumi/cmd/exit_codes.go); an older
  // CLI exits 255. Any other failure left nothing to compare.
  const previewFailed = !digest || (preview.code !== 0 && changes.length === 0);
  if (previewFailed) {
    io.err(`drift: pulumi ${previewArgs(stack).join(" ")} failed (exit ${preview.code}); nothing was compared:`);
    const errors = (digest?.diagnostics ?? []).filter((d) => d.severity === "error").map((d) => d.message ?? "");
    io.err([...errors, preview.stderr].join("\n").trim() || "(it printed no error)");
  } else if (changes.length === 0) {
    io.out(`drift: stack ${stack} is as the program declares it (pulumi preview --refresh proposes no change).`);
  } else {
    io.out(`drift: stack ${stack} differs from the program; pulumi up --refresh would change it back:`);
    io.out(formatPlanDiff(changes).join("\n"));
  }

  io.out("");
  io.out(`drift: smoke test of stack ${stack}:`);
  const tables: SmokeRow[][] = [];
  const smokeArgs = ["--stack", stack, ...flag("--client", values.client), ...flag("--api", values.api)];
  const smoke = await runSmoke(smokeArgs, { ...io, report: (rows) => tables.push(rows) });
  const findings = smokeFindings(tables.flat());
  const failed = tables.flat().filter((row) => row.result === "FAIL").length;

  io.out("");
  const drifted = changes.length > 0 || smoke === 1;
  if (drifted) {
    const what = [
      ...(changes.length > 0 ? [`${changes.length} ${changes.length === 1 ? "change" : "changes"} to put back`] : []),
      ...(smoke === 1 ? [`${failed} failed smoke ${failed === 1 ? "check" : "checks"}`] : []),
    ];
    io.out(`drift: stack ${stack} has drifted: ${what.join(" and ")}.`);
    if (findings.length > 0) io.out(findings.join("\n"));
    return 1;
  }
  if (previewFailed) return 3;
  if (smoke !== 0) return smoke;
  io.out(`drift: no drift in stack ${stack}.`);
  return 0;
}

const flag = (name: string, value: string | undefined) => (value === undefined ? [] : [name, value]);

/** `pulumi <args>` from PATH, its output captured; a CLI that cannot start is exit 127 with the reason. */
function runPulumiOnPath(args: string[]): Promise<CommandRun> {
  return new Promise((resolve) => {
    const child = spawn("pulumi", args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (error) => resolve({ code: 127, stdout: "", stderr: `cannot run pulumi: ${error.message}` }));
    child.on("close", (code) =>
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
  });
}

runIfMain(module, (argv, io: CliIo) => runDrift(argv, { ...io, env: process.env }), 3);
