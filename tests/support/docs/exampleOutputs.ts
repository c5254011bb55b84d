import * as fs from "node:fs";
import * as path from "node:path";
import type { Code } from "mdast";
import type { MockEvaluation } from "../../../tools/preview/mockEngine";
import type { PlanData } from "../../../tools/preview/planReport";
import { projectDir, runPlan } from "../../../tools/plan";
import { evaluateStackFile, knownValidOn, projectWith, withToday } from "../stackFileChecks";
import { type CodeBlock, codeBlocks, type MarkdownDoc, withBlockValues } from "./markdownDocs";
import { applyEdit } from "./stackEdits";
import { GraphFake, guideTenant, runAdoptAgainst, seedLikeTheGuide } from "../graphFake";

/**
 * The stack the docs' edits start from: Pulumi.dev.yaml as shipped, the guide's pair (the fixture tests use, so
 * the user's own edits to Pulumi.dev.yaml never change the docs).
 */
export const docsBaseStack = fs.readFileSync(path.join(projectDir, "tests/fixtures/stacks/Pulumi.guide.yaml"), "utf8");

type Evaluate = (stack: string) => Promise<MockEvaluation>;

/** Evaluates a stack file's text as `npm run plan` would, as of the day it was known valid (its newest rotation). */
const evaluationOf =
  (stackYaml: string): Evaluate =>
  (stack) =>
    withToday(knownValidOn(stackYaml), () => evaluateStackFile(projectWith({ [stack]: stackYaml }), stack));

/** The stack files of an example, as text: before and after its edits. */
interface StackTexts {
  before: string;
  after: string;
}

/** The command a regenerated example shows, and what prints it; `$ <command>` is the block's first line. */
const outputs: Record<
  string,
  { command: string; run(before: Evaluate, after: Evaluate, stacks: StackTexts): Promise<string[]> }
> = {
  // What `npm run plan -- --base HEAD` prints after the edits, the base side planned to JSON as the tool plans a ref.
  "plan-diff": {
    command: "npm run plan -- --base HEAD",
    async run(before, after) {
      const json = path.join(projectWith({}), "base.json");
      await runPlan(["--json", json], { out: () => undefined, err: () => undefined, evaluate: before });
      const base = (JSON.parse(fs.readFileSync(json, "utf8")) as PlanData).resources;
      const lines: string[] = [];
      const print = (text: string) => lines.push(text);
      await runPlan(["--base", "HEAD"], { out: print, err: print, evaluate: after, planAtRef: () => base });
      return lines;
    },
  },
  // What `npm run adopt` prints for the guide's pair, made in a tenant as seed-guide.txt's portal steps make them.
  adopt: {
    command: "npm run adopt -- --stack dev --api My-APIM-API --client My-Client-App",
    async run(_before, _after, stacks) {
      const fake = new GraphFake(guideTenant.tenantId, guideTenant.deployer);
      seedLikeTheGuide(fake);
      const dir = projectWith({ dev: stacks.after });
      const run = await withToday(knownValidOn(stacks.after), () =>
        runAdoptAgainst(fake, dir, ["--api", "My-APIM-API", "--client", "My-Client-App"]),
      );
      return [run.out, run.err];
    },
  },
  // What `npm run plan` prints for the edited stack when the program refuses it.
  "plan-error": {
    command: "npm run plan",
    async run(_before, after) {
      const lines: string[] = [];
      await runPlan([], { out: () => undefined, err: (text) => lines.push(text), evaluate: after });
      return lines;
    },
  },
};

export const outputKinds = Object.keys(outputs);

/** The docs' stack edits by id (`yaml edit=<target> id=<id>`); an id may be given once. */
export function editsById(blocks: CodeBlock[]): Map<string, CodeBlock> {
  const edits = new Map<string, CodeBlock>();
  for (const block of blocks.filter((found) => found.attributes.edit !== undefined && found.attributes.id)) {
    const id = block.attributes.id as string;
    const other = edits.get(id);
    if (other) throw new Error(`${block.where}: edit id=${id} is given at ${other.where} too`);
    edits.set(id, block);
  }
  return edits;
}

/** The base stack after the named edits, in order (`rotate-add,rotate-remove`). */
function stackAfter(ids: string | undefined, edits: Map<string, CodeBlock>, where: string): string {
  const names = ids ? ids.split(",") : [];
  return names.reduce((stack, id) => {
    const edit = edits.get(id);
    if (!edit) throw new Error(`${where}: no edit with id=${id} in the docs`);
    return applyEdit(stack, edit.attributes.edit as string, edit.value);
  }, docsBaseStack);
}

/**
 * An example output block (`text output=<kind> [from=<ids>] to=<ids>`), computed now with the real tools: the
 * stack after the `from` edits (default: as shipped) is the base, after the `to` edits the working tree; each is
 * judged as of its newest secret rotation, as the stack-file checks judge a committed stack.
 */
export async function exampleOutput(block: CodeBlock, edits: Map<string, CodeBlock>): Promise<string> {
  const kind = outputs[block.attributes.output ?? ""];
  if (!kind)
    throw new Error(`${block.where}: output=${block.attributes.output}; known outputs: ${outputKinds.join(", ")}`);
  const before = stackAfter(block.attributes.from, edits, block.where);
  const after = stackAfter(block.attributes.to, edits, block.where);
  const lines = await kind.run(evaluationOf(before), evaluationOf(after), { before, after });
  return [`$ ${kind.command}`, ...lines].join("\n");
}

/** The doc with every example output block recomputed: equal to the doc's text when none is stale. */
export async function refreshedDoc(doc: MarkdownDoc, edits: Map<string, CodeBlock>): Promise<string> {
  const replacements = new Map<Code, string>();
  for (const block of codeBlocks(doc).filter((found) => found.attributes.output !== undefined)) {
    replacements.set(block.node, await exampleOutput(block, edits));
  }
  return withBlockValues(doc, replacements);
}
