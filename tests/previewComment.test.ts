// The pull-request comment for one stack: within GitHub's 65,536 characters whatever the plan diff and the preview
// hold, cut in the middle with a line saying where the whole text is. The workflow's own steps that build and post it
// are run in tests/pipelineSteps.test.ts.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  breakingNotice,
  commentLimit,
  commentMarker,
  previewComment,
  runPreviewComment,
} from "../tools/pipeline/previewComment";

const where = "the artifact preview-dev of this run, https://github.com/contoso/apim-entra-auth/actions/runs/7";

/** A text of `length` characters that starts and ends with recognisable lines. */
const long = (name: string, length: number) => {
  const start = `${name} FIRST LINE\n`;
  const end = `\n${name} LAST LINE`;
  return `${start}${"x".repeat(length - start.length - end.length)}${end}`;
};

const hasLoneSurrogate = (text: string) =>
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

describe("the preview comment", () => {
  it("holds both texts whole when they fit, the marker first", () => {
    expect(previewComment("dev", "+ orders-api\n", "~ orders-policy", where).split("\n")).toEqual([
      "<!-- apim-entra-auth preview: dev -->",
      "## Stack `dev`",
      "### Offline plan diff",
      "+ orders-api",
      "",
      "### pulumi preview --diff",
      "```diff",
      "~ orders-policy",
      "```",
    ]);
  });

  it("says under the heading that a change breaks callers when the plan diff marked one", () => {
    const body = previewComment("dev", "- delete ServicePrincipal reporting-sp\n  ! breaks …", "", where, {
      breaking: true,
    });

    expect(body.split("\n").slice(0, 4)).toEqual([
      "<!-- apim-entra-auth preview: dev -->",
      "## Stack `dev`",
      "> **This change breaks callers**: the plan diff marks who with `!`. Merge only if they are ready for it.",
      "### Offline plan diff",
    ]);
    expect(breakingNotice).toBe(body.split("\n")[2]);
  });

  it("cuts two oversized texts to fit GitHub's limit, keeping each one's start and end, and says where the whole text is", () => {
    const planDiff = long("PLAN", 200_000);
    const preview = long("PREVIEW", 150_000);

    const body = previewComment("prod", planDiff, preview, where);

    expect(commentLimit).toBe(65_536);
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body.length).toBeGreaterThan(65_536 - 1_000);
    expect(body.startsWith(`${commentMarker("prod")}\n`)).toBe(true);
    for (const name of ["PLAN", "PREVIEW"]) {
      expect(body).toContain(`${name} FIRST LINE`);
      expect(body).toContain(`${name} LAST LINE`);
    }
    expect(body).toContain(
      `The Offline plan diff (200,000 characters) is cut to fit GitHub's 65,536-character comment limit; the whole text is in ${where}.`,
    );
    expect(body).toContain(
      `The pulumi preview --diff (150,000 characters) is cut to fit GitHub's 65,536-character comment limit; the whole text is in ${where}.`,
    );
    // What is kept plus what the cut line counts is the whole text.
    for (const text of [planDiff, preview]) {
      const name = text.slice(0, text.indexOf(" "));
      const kept = body.slice(
        body.indexOf(`${name} FIRST LINE`),
        body.indexOf(`${name} LAST LINE`) + `${name} LAST LINE`.length,
      );
      const cut = /\n\[… ([\d,]+) characters cut here …\]\n/.exec(kept);
      expect(cut).not.toBeNull();
      const count = Number((cut?.[1] ?? "").replace(/,/g, ""));
      expect(kept.length - (cut?.[0].length ?? 0) + count).toBe(text.length);
    }
  });

  it("gives a short text all of its room and the long one the rest", () => {
    const body = previewComment("dev", "+ orders-api", long("PREVIEW", 500_000), where);

    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body.length).toBeGreaterThan(65_536 - 1_000);
    expect(body).toContain("### Offline plan diff\n+ orders-api\n### pulumi preview --diff");
    expect(body).not.toContain("The Offline plan diff (");
    expect(body).toContain("The pulumi preview --diff (500,000 characters) is cut");
  });

  it("never splits a character that takes two UTF-16 units, and counts them against the limit", () => {
    const emoji = "🔐".repeat(60_000); // 120,000 UTF-16 units
    const body = previewComment("dev", emoji, `x${emoji}`, where);

    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(hasLoneSurrogate(body)).toBe(false);
  });

  it("fences a preview that holds backticks with a longer fence", () => {
    const body = previewComment("dev", "", "before\n```\nafter ````", where);

    expect(body).toContain("\n`````diff\nbefore\n```\nafter ````\n`````");
  });

  it("prints the comment from the files, a missing one as (not produced); flags are required", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preview-comment-"));
    fs.writeFileSync(path.join(dir, "plan-diff.md"), "+ orders-api");
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (text: string) => out.push(text), err: (text: string) => err.push(text) };
    const files = ["--plan-diff", path.join(dir, "plan-diff.md"), "--preview", path.join(dir, "preview.txt")];

    expect(runPreviewComment(["--stack", "dev", ...files, "--whole-text", where], io)).toBe(0);
    expect(out).toEqual([previewComment("dev", "+ orders-api", "(not produced)", where)]);

    expect(runPreviewComment(["--stack", "dev", ...files, "--whole-text", where, "--breaking"], io)).toBe(0);
    expect(out[1]).toBe(previewComment("dev", "+ orders-api", "(not produced)", where, { breaking: true }));

    expect(runPreviewComment(["--stack", "dev", ...files], io)).toBe(2);
    expect(err[0]).toBe("error: --whole-text is required");
  });
});
