// The README and docs/ are checked as what they show: each YAML block validates as what its info string says it is
// (a stack file, an edit of Pulumi.dev.yaml, a Pulumi YAML program, a workflow), each `npm run` names a script and
// flags that exist, and each link lands on a file and a heading. The blocks are found by a Markdown parser, as
// GitHub renders them. What this cannot prove: commands that need Azure or the Pulumi CLI, which are only named
// here, and prose claims outside the blocks. The example outputs are checked in docsOutputs.test.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectDir } from "../tools/plan";
import {
  brokenLinks,
  checkYamlBlock,
  npmCommandOfSpan,
  npmCommandsOf,
  npmRunProblems,
  packageScripts,
  usageOf,
} from "./support/docs/blockChecks";
import { docsBaseStack } from "./support/docs/exampleOutputs";
import { codeBlocks, inlineCodes, parseDoc, readDocs } from "./support/docs/markdownDocs";

const docs = readDocs(projectDir);
const blocks = docs.flatMap(codeBlocks);
const yamlBlocks = blocks.filter((block) => block.lang === "yaml" || block.lang === "yml");
const shellLangs = new Set(["bash", "sh", "shell"]);

/** The one code block of a Markdown text made by a test. */
const blockOf = (markdown: string) => {
  const [block] = codeBlocks(parseDoc("sample.md", markdown));
  if (!block) throw new Error("no block");
  return block;
};

describe("the docs", () => {
  it("are the README, under 300 lines, and one file per reference topic", () => {
    expect(docs.map((doc) => doc.file)).toEqual(
      expect.arrayContaining([
        "README.md",
        "docs/commands.md",
        "docs/configuration.md",
        "docs/deploying.md",
        "docs/pipelines.md",
        "docs/reuse.md",
        "docs/reviewing.md",
        "docs/troubleshooting.md",
        "docs/user-clients.md",
      ]),
    );
    expect(fs.readFileSync(path.join(projectDir, "README.md"), "utf8").split("\n").length).toBeLessThan(300);
  });

  it("show a newcomer the install, plan and test commands, and CI runs exactly the README's install and test", () => {
    const [tryIt] = blocks.filter((block) => block.doc.file === "README.md" && shellLangs.has(block.lang));
    const shown = npmCommandsOf(tryIt?.where ?? "", tryIt?.value ?? "").map(({ words }) => words.join(" "));
    expect(shown).toEqual(["ci", "run plan", "test", "run local -- install", "run test:engine"]);
    const ci = fs.readFileSync(path.join(projectDir, ".ci", "run"), "utf8");
    expect(npmCommandsOf(".ci/run", ci).map(({ words }) => words.join(" "))).toEqual(
      shown.filter((command) => command !== "run plan"),
    );
  });

  it("start from one stack: the quick start's Pulumi.dev.yaml is the stack every documented edit is made to", () => {
    const [quickStart] = yamlBlocks.filter((block) => block.doc.file === "README.md" && block.kind === "stack");
    expect(parse(quickStart?.value ?? "")).toEqual(parse(docsBaseStack));
  });

  it("link only to files and headings that exist", () => {
    expect(brokenLinks(docs, projectDir)).toEqual([]);
  });
});

describe("every YAML block of the docs validates as what it says it is", () => {
  it.each(yamlBlocks.map((block) => [`${block.where} (${block.node.meta})`, block] as const))(
    "%s",
    async (_, block) => {
      await checkYamlBlock(block);
    },
  );
});

describe("every npm run the docs show", () => {
  it("names a script of package.json and only flags its tool's usage names", () => {
    const commands = docs.flatMap((doc) => [
      ...codeBlocks(doc)
        .filter((block) => shellLangs.has(block.lang))
        .flatMap((block) => npmCommandsOf(block.where, block.value)),
      ...inlineCodes(doc).flatMap(({ where, value }) => npmCommandOfSpan(where, value) ?? []),
    ]);
    expect(commands.filter(({ words }) => words[0] === "run").length).toBeGreaterThan(20);
    const usages = new Map<string, string>();
    const usage = (script: string) =>
      usages.get(script) ?? usages.set(script, usageOf(projectDir, script)).get(script)!;
    expect(npmRunProblems(commands, packageScripts(projectDir), usage)).toEqual([]);
  }, 120_000);
});

describe("the doc checks refuse", () => {
  it("a YAML block that does not say what it is", async () => {
    await expect(checkYamlBlock(blockOf("```yaml\nconfig: {}\n```\n"))).rejects.toThrow(
      "sample.md:1: say what this YAML block is",
    );
  });

  it("a stack block the program refuses, naming the key", async () => {
    const block = blockOf("```yaml stack\nconfig:\n  apim-entra-auth:tenantId: common\n```\n");
    await expect(checkYamlBlock(block)).rejects.toThrow('apim-entra-auth:tenantId: "common" is not allowed');
  });

  it("an edit of an entry the stack does not have, and an edit marked refused that the program accepts", async () => {
    await expect(checkYamlBlock(blockOf("```yaml edit=apis[sales]\nname: x\n```\n"))).rejects.toThrow(
      'edit=apis[sales]: the stack has no apis entry named "sales"',
    );
    await expect(
      checkYamlBlock(blockOf("```yaml edit=apis[orders] refused\n- path: orders-v2\n```\n")),
    ).rejects.toThrow("sample.md:1: marked refused, but the program accepts the edit");
  });

  it("an edit the program refuses, naming the key", async () => {
    await expect(checkYamlBlock(blockOf("```yaml edit=apis[orders]\ntokenVersion: 3\n```\n"))).rejects.toThrow(
      "apim-entra-auth:apis[0] (orders).tokenVersion: 3 is not allowed",
    );
  });

  it("a program whose component arguments the component refuses", async () => {
    const program =
      "resources:\n  c:\n    type: apim-entra-auth:index:EntraProtectedApis\n    properties: { apis: 3 }\n";
    await expect(checkYamlBlock(blockOf(`\`\`\`yaml program\n${program}\`\`\`\n`))).rejects.toThrow(
      'Invalid arguments for EntraProtectedApis "c"',
    );
  });

  it("a workflow GitHub's parser refuses, and passes one it accepts", async () => {
    const workflow = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n";
    await checkYamlBlock(blockOf(`\`\`\`yaml workflow\n${workflow}\`\`\`\n`));
    await expect(
      checkYamlBlock(blockOf(`\`\`\`yaml workflow\n${workflow.replace("runs-on", "runs-onn")}\`\`\`\n`)),
    ).rejects.toThrow("sample.md:1: not a valid workflow");
  });

  it("an npm run of a script that does not exist, or with a flag its usage does not name", () => {
    const commands = [
      ...npmCommandsOf("a.md:1", "npm run plann\nX=1 npm run plan -- --stack dev --writ && npm test  # --nope"),
      ...[npmCommandOfSpan("a.md:2", "npm run guard -- --plan <plan.json> [--max-lifetime <n>]")].flatMap(
        (c) => c ?? [],
      ),
    ];
    const usage = (script: string) => ({ plan: "usage: plan [--stack <name>] [--write]", guard: "--plan" })[script]!;
    expect(npmRunProblems(commands, { plan: "", guard: "" }, usage)).toEqual([
      "a.md:1: npm run plann: no such script in package.json",
      "a.md:1: npm run plan: --writ is not in its usage (npm run plan -- --help)",
      "a.md:2: npm run guard: --max-lifetime is not in its usage (npm run guard -- --help)",
    ]);
  });

  it("a link to a missing file or heading", () => {
    const doc = parseDoc(
      "docs/a.md",
      "# A\n\n[ok](#a) [gone](#b) [file](../nope.md) [readme](../README.md#the-everyday-loop)\n",
    );
    expect(brokenLinks([doc, ...docs], projectDir)).toEqual([
      "docs/a.md:3: #b: docs/a.md has no heading #b",
      "docs/a.md:3: ../nope.md: no file nope.md",
    ]);
  });
});
