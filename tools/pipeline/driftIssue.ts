import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { type CliIo, parseOrAnswer, reportInputError, runIfMain, UsageError } from "../cli";
import { commentLimit, cutMiddle } from "./previewComment";

const usage = `usage: driftIssue --stack <stack> --findings <file> --run-url <url>

Prints the body of a stack's drift issue from what npm run drift printed (--findings): a marker line (the workflow
finds the stack's open issue by its start, and sees by the rest whether the findings changed since the issue was
last written), the findings and what to do. A text that would take the body past GitHub's
${commentLimit.toLocaleString("en")} characters is cut in the middle; the run (--run-url) keeps the whole text.`;

const options = {
  stack: { type: "string" },
  findings: { type: "string" },
  "run-url": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The start of a stack's drift issue: the workflow finds the open issue whose body starts with it. */
export const driftIssuePrefix = (stack: string) => `<!-- apim-entra-auth drift: ${stack};`;

/**
 * What drifted, without what changes from run to run (token lifetimes, Entra's trace ids and timestamps): the plan
 * diff's lines and the names of the failed smoke checks.
 */
export function findingsOf(driftOutput: string): string[] {
  return driftOutput
    .split("\n")
    .filter((line) => /^(\+-? |~ |- |= |\s+! |! smoke: )/.test(line))
    .map((line) => (line.startsWith("! smoke: ") ? line.slice(0, line.indexOf(": expected")) : line));
}

/** The issue's body, at most `limit` characters; its first line changes exactly when the findings do. */
export function driftIssueBody(stack: string, driftOutput: string, runUrl: string, limit = commentLimit): string {
  const digest = createHash("sha256").update(findingsOf(driftOutput).join("\n")).digest("hex").slice(0, 16);
  const render = (text: string) =>
    [
      `${driftIssuePrefix(stack)} findings ${digest} -->`,
      `The scheduled drift check found stack \`${stack}\` changed outside the program, or not working (${runUrl}):`,
      "",
      "```",
      text,
      "```",
      "",
      "Put back what the program declares with `pulumi up --refresh` (the deploy does this), or change the program to match; an expired secret needs a rotation (`fix:` above). Each run that finds new drift updates this issue; the first run that finds none closes it.",
    ].join("\n");
  const text = driftOutput.trimEnd().replace(/```/g, "'''");
  const whole = render(text);
  return whole.length <= limit ? whole : render(cutMiddle(text, limit - render("").length));
}

/** The CLI without process globals: returns the exit status. */
export function runDriftIssue(argv: string[], io: CliIo): number {
  const args = parseOrAnswer(argv, options, io, usage);
  if (typeof args === "number") return args;
  const missing = ["stack", "findings", "run-url"].find((name) => !args[name as keyof typeof args]);
  if (missing) return reportInputError(io, new UsageError(`--${missing} is required`), usage);
  io.out(
    driftIssueBody(args.stack as string, fs.readFileSync(args.findings as string, "utf8"), args["run-url"] as string),
  );
  return 0;
}

runIfMain(module, runDriftIssue, 1);
