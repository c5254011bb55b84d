// The docs' example outputs (blocks marked `output=<kind>`) recomputed with the real tools from the stack edits the
// docs show, so they cannot go stale: a doc whose outputs differ fails here, and `npm run docs` (this file with
// --update) writes them. What this cannot prove: `pulumi preview`'s own output, which the plan diff stands in for.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { projectDir } from "../tools/plan";
import { editsById, exampleOutput, refreshedDoc } from "./support/docs/exampleOutputs";
import { codeBlocks, parseDoc, readDocs } from "./support/docs/markdownDocs";

const docs = readDocs(projectDir);
const edits = editsById(docs.flatMap(codeBlocks));
const withOutputs = docs.filter((doc) => codeBlocks(doc).some((block) => block.attributes.output !== undefined));

describe("the docs' example outputs", () => {
  it.each(withOutputs.map((doc) => [doc.file, doc] as const))(
    "%s shows what the tools print for its edits",
    async (file, doc) => {
      await expect(
        await refreshedDoc(doc, edits),
        `${file} shows outputs the tools no longer print; refresh them with:  npm run docs`,
      ).toMatchFileSnapshot(path.join(projectDir, file));
    },
    60_000,
  );

  it("are recomputed from the edits they name: a stale block is rewritten, an unknown edit is refused", async () => {
    const stale = parseDoc("sample.md", "1. Step\n   ```text output=plan-diff to=rotate-add\n   $ old\n   ```\n");
    const refreshed = await refreshedDoc(stale, edits);
    expect(refreshed).toMatch(
      /^1\. Step\n {3}```text output=plan-diff to=rotate-add\n {3}\$ npm run plan -- --base HEAD\n/,
    );
    expect(refreshed).toContain("\n   + create ApplicationPassword reporting-secret-2027-04-30\n");
    expect(refreshed).toMatch(/\n {3}```\n$/);
    const [unknown] = codeBlocks(parseDoc("sample.md", "```text output=plan-diff to=nope\n```\n"));
    await expect(exampleOutput(unknown!, edits)).rejects.toThrow("sample.md:1: no edit with id=nope in the docs");
  });
});
