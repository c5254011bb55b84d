import * as fs from "node:fs";
import { type CliIo, parseOrAnswer, reportInputError, runIfMain, UsageError } from "../cli";

/**
 * GitHub refuses an issue or pull-request comment whose body is longer than 65,536 characters (HTTP 422 "Body is too
 * long (maximum is 65536 characters)"; peter-evans/create-or-update-comment PR #182). JavaScript's length counts
 * UTF-16 units, never fewer than GitHub's characters, so a body within it is within GitHub's limit.
 */
export const commentLimit = 65_536;

const usage = `usage: previewComment --stack <stack> --plan-diff <file> --preview <file> --whole-text <where> [--breaking]

Prints the pull-request comment for one stack: a marker line (the workflow updates the comment that starts with
it), the offline plan diff and the pulumi preview; with --breaking (the plan diff's --fail-on-breaking exited 1),
a line under the heading saying that a change breaks callers. A text that would take the comment past GitHub's
${commentLimit.toLocaleString("en")} characters is cut in the middle (its start and its end are kept), with a line
saying where the whole text is: --whole-text, e.g. the artifact the workflow uploaded. A missing file
shows as "(not produced)".`;

const options = {
  stack: { type: "string" },
  "plan-diff": { type: "string" },
  preview: { type: "string" },
  "whole-text": { type: "string" },
  breaking: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The comment's first line: the workflow finds the comment to update by it. */
export const commentMarker = (stack: string) => `<!-- apim-entra-auth preview: ${stack} -->`;

interface Section {
  title: string;
  text: string;
  /** A code fence's info string; undefined: the text is Markdown itself. */
  fence?: string;
}

/** Said under the heading when the plan diff marks a change `!`; the pull request is not blocked, a reviewer decides. */
export const breakingNotice =
  "> **This change breaks callers**: the plan diff marks who with `!`. Merge only if they are ready for it.";

/** The comment's body, at most `limit` characters. */
export function previewComment(
  stack: string,
  planDiff: string,
  preview: string,
  wholeText: string,
  { breaking = false, limit = commentLimit }: { breaking?: boolean; limit?: number } = {},
): string {
  const sections: Section[] = [
    { title: "Offline plan diff", text: planDiff },
    { title: "pulumi preview --diff", text: preview, fence: "diff" },
  ];
  const render = (texts: string[]) =>
    [
      commentMarker(stack),
      `## Stack \`${stack}\``,
      ...(breaking ? [breakingNotice] : []),
      ...sections.flatMap((section, i) => {
        const text = texts[i] as string;
        const cut = text !== section.text;
        const fence = "`".repeat(Math.max(3, longestBacktickRun(section.text) + 1));
        return [
          `### ${section.title}`,
          ...(section.fence === undefined ? [text] : [`${fence}${section.fence}`, text, fence]),
          ...(cut ? [cutNotice(section.title, section.text.length, wholeText)] : []),
        ];
      }),
    ].join("\n");
  const whole = render(sections.map((section) => section.text));
  if (whole.length <= limit) return whole;
  // Every character outside the texts, the notices included, comes first; the texts share what is left.
  const frame = render(sections.map(() => cutMarker(0))).length + sections.length * 16;
  const budgets = shareBudget(
    sections.map((section) => section.text.length),
    Math.max(0, limit - frame),
  );
  const body = render(sections.map((section, i) => cutMiddle(section.text, budgets[i] as number)));
  if (body.length > limit) throw new Error(`the comment is ${body.length} characters after cutting; at most ${limit}`);
  return body;
}

/** Splits `total` between texts: one that needs less than an equal share leaves the rest to the others. */
function shareBudget(lengths: number[], total: number): number[] {
  const budgets = lengths.map(() => 0);
  let left = total;
  let open = lengths.map((_, i) => i);
  while (open.length > 0) {
    const share = Math.floor(left / open.length);
    const fitting = open.filter((i) => (lengths[i] as number) <= share);
    if (fitting.length === 0) {
      for (const i of open) budgets[i] = share;
      break;
    }
    for (const i of fitting) {
      budgets[i] = lengths[i] as number;
      left -= lengths[i] as number;
    }
    open = open.filter((i) => !fitting.includes(i));
  }
  return budgets;
}

const cutMarker = (count: number) => `[… ${count.toLocaleString("en")} characters cut here …]`;

/** The text's start and end around a line saying how much is cut; at most `budget` characters, never splitting a pair. */
export function cutMiddle(text: string, budget: number): string {
  if (text.length <= budget) return text;
  const room = Math.max(0, budget - cutMarker(text.length).length - 2);
  let head = Math.ceil(room / 2);
  let tail = room - head;
  if (isHighSurrogate(text.charCodeAt(head - 1))) head -= 1;
  if (isHighSurrogate(text.charCodeAt(text.length - tail - 1))) tail -= 1;
  const cut = text.length - head - tail;
  return `${text.slice(0, head)}\n${cutMarker(cut)}\n${text.slice(text.length - tail)}`;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

function cutNotice(title: string, length: number, wholeText: string): string {
  return `The ${title} (${length.toLocaleString("en")} characters) is cut to fit GitHub's ${commentLimit.toLocaleString("en")}-character comment limit; the whole text is in ${wholeText}.`;
}

function longestBacktickRun(text: string): number {
  return Math.max(0, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
}

const readOrMissing = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "(not produced)");

/** The CLI without process globals: returns the exit status. */
export function runPreviewComment(argv: string[], io: CliIo): number {
  const args = parseOrAnswer(argv, options, io, usage);
  if (typeof args === "number") return args;
  const { stack, "plan-diff": planDiff, preview, "whole-text": wholeText } = args;
  const missing = ["stack", "plan-diff", "preview", "whole-text"].find((name) => !args[name as keyof typeof args]);
  if (!stack || !planDiff || !preview || !wholeText) {
    return reportInputError(io, new UsageError(`--${missing} is required`), usage);
  }
  io.out(
    previewComment(stack, readOrMissing(planDiff), readOrMissing(preview), wholeText, { breaking: args.breaking }),
  );
  return 0;
}

runIfMain(module, runPreviewComment, 1);
