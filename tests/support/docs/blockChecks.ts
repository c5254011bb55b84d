import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { parse as parseShell } from "shell-quote";
import { parse } from "yaml";
import { today } from "../../../config/clock";
import { validateComponentArgs } from "../../../config/componentArgs";
import { projectName, validateCatalogue } from "../../../config/validate";
import { readStackFileConfig } from "../../../tools/preview/stackFiles";
import { knownValidOn, projectWith, stackFileChecks, writePlan } from "../stackFileChecks";
import { anchorsOf, type CodeBlock, linksOf, type MarkdownDoc } from "./markdownDocs";
import { applyEdit } from "./stackEdits";

/** A stack file as the docs' edits find it: Pulumi.dev.yaml as shipped, written by hand in another style. */
export const handwrittenDevStack = fs.readFileSync(
  path.join(__dirname, "..", "..", "fixtures", "stacks", "Pulumi.handwritten.yaml"),
  "utf8",
);

const dayOf = (yaml: string) => knownValidOn(yaml) ?? today();

/** `stack`: a whole Pulumi.<stack>.yaml, read as the plan reads stack files and validated by the program's checks. */
function checkStack(block: CodeBlock): void {
  const { config } = readStackFileConfig(projectWith({ docs: block.value }), "docs");
  validateCatalogue(config, "docs", dayOf(block.value));
}

/**
 * `edit=<target>`: the edit made to a hand-written copy of Pulumi.dev.yaml passes the checks every committed stack
 * file gets, once the plan is refreshed as the everyday loop says; `refused` marks an edit the program must refuse.
 */
async function checkEdit(block: CodeBlock): Promise<void> {
  const dir = projectWith({ dev: applyEdit(handwrittenDevStack, block.attributes.edit as string, block.value) });
  if (block.kind !== "refused") {
    await writePlan(dir, "dev");
    await stackFileChecks(dir, "dev");
    return;
  }
  const refusal = await stackFileChecks(dir, "dev").then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  if (!refusal?.message.includes("Pulumi.dev.yaml is not valid")) {
    throw new Error(`${block.where}: marked refused, but the program accepts the edit`);
  }
}

/** `program`: a Pulumi YAML program's resources; each EntraProtectedApis gets the component's own argument checks. */
function checkProgram(block: CodeBlock): void {
  const program = parse(block.value) as { resources?: Record<string, { type?: string; properties?: object }> };
  const components = Object.entries(program.resources ?? {}).filter(
    ([, resource]) => resource.type === `${projectName}:index:EntraProtectedApis`,
  );
  if (components.length === 0) throw new Error(`${block.where}: a program block declares no EntraProtectedApis`);
  for (const [name, resource] of components) {
    validateComponentArgs(resource.properties ?? {}, name, "docs", dayOf(block.value));
  }
}

/** `workflow`: a GitHub Actions workflow, as GitHub's own parser reads it. */
async function checkWorkflow(block: CodeBlock): Promise<void> {
  const parsed = parseWorkflow({ name: block.where, content: block.value }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((error) => error.message);
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    errors.push(...(template.errors ?? []).map((error) => error.Message));
  }
  if (errors.length > 0 || !parsed.value) {
    throw new Error(`${block.where}: not a valid workflow:\n${errors.join("\n") || "empty"}`);
  }
}

const yamlKinds: Record<string, (block: CodeBlock) => void | Promise<void>> = {
  stack: checkStack,
  program: checkProgram,
  workflow: checkWorkflow,
};

/** Checks a YAML block as what its info string says it is; throws when it is not, or says nothing. */
export async function checkYamlBlock(block: CodeBlock): Promise<void> {
  if (block.attributes.edit !== undefined) return checkEdit(block);
  const check = yamlKinds[block.kind ?? ""];
  if (!check) {
    throw new Error(
      `${block.where}: say what this YAML block is in its info string: yaml ${Object.keys(yamlKinds).join(" | yaml ")} | yaml edit=<config|apis[]|clients[]|apis[<name>]|clients[<name>]> [id=<id>] [refused]`,
    );
  }
  await check(block);
}

/** One `npm …` command of a shell text: its words after `npm`, without `$VAR=value` prefixes. */
export interface NpmCommand {
  where: string;
  words: string[];
}

/**
 * The npm commands of a shell block, read by shell-quote, one logical line at a time (a line ending in `\` goes on
 * on the next; a quote spanning lines is not followed): a command is what stands between operators (`&&`, `|`,
 * `;`), up to a comment.
 */
export function npmCommandsOf(where: string, shell: string): NpmCommand[] {
  const lines = shell.replace(/\\\n/g, " ").split("\n");
  return lines.flatMap((line) => {
    const commands: string[][] = [[]];
    for (const token of parseShell(line, (name) => `$${name}`)) {
      if (typeof token === "string") commands.at(-1)?.push(token);
      else if ("comment" in token) break;
      else commands.push([]);
    }
    return commands
      .map((words) => words.slice(words.findIndex((word) => !/^[A-Z_][A-Z0-9_]*=/.test(word))))
      .filter((words) => words[0] === "npm")
      .map((words) => ({ where, words: words.slice(1) }));
  });
}

/** A command spelled in running text (`npm run plan -- --base <git-ref> [--stack <name>]`): its script and flags. */
export function npmCommandOfSpan(where: string, span: string): NpmCommand | undefined {
  const words = span.split(/\s+/);
  if (words[0] !== "npm" || words.length < 2 || (words[1] === "run" && words.length < 3)) return undefined;
  // After the script, every flag is the tool's (npm's own go before it), `[--` and `(--policy` included.
  const flags = words.slice(3).flatMap((word) => /^[[(]*(--?[a-z][a-z0-9-]*)/.exec(word)?.[1] ?? []);
  return { where, words: [...words.slice(1, 3), "--", ...flags] };
}

/** The scripts of package.json. */
export const packageScripts = (projectDir: string): Record<string, string> =>
  (JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts;

/** What a tool prints for `npm run <script> -- --help`: its usage, run as the docs run it. */
export function usageOf(projectDir: string, script: string): string {
  return execFileSync("npm", ["run", "--silent", script, "--", "--help"], { cwd: projectDir, encoding: "utf8" });
}

/**
 * What is wrong with the `npm run` commands the docs show: a script package.json lacks, or a flag after `--` that the
 * tool's usage does not name.
 */
export function npmRunProblems(
  commands: NpmCommand[],
  scripts: Record<string, string>,
  usage: (script: string) => string,
): string[] {
  return commands.flatMap(({ where, words }) => {
    if (words[0] !== "run") return [];
    const script = words[1] ?? "";
    if (!(script in scripts)) return [`${where}: npm run ${script}: no such script in package.json`];
    const flags = words.slice(words.indexOf("--") + 1).filter((word) => words.includes("--") && word.startsWith("-"));
    if (flags.length === 0) return [];
    const known = new Set(usage(script).match(/--?[a-z][a-z0-9-]*/g));
    return flags
      .filter((flag) => !known.has(flag))
      .map((flag) => `${where}: npm run ${script}: ${flag} is not in its usage (npm run ${script} -- --help)`);
  });
}

/** Links to files that do not exist, and anchors no heading of the target file makes. */
export function brokenLinks(docs: MarkdownDoc[], projectDir: string): string[] {
  return docs.flatMap((doc) =>
    linksOf(doc).flatMap(({ where, url }) => {
      if (/^[a-z]+:/i.test(url)) return [];
      const [target = "", anchor] = url.split("#", 2);
      const file = target ? path.posix.join(path.posix.dirname(doc.file), target) : doc.file;
      if (target && !fs.existsSync(path.join(projectDir, file))) return [`${where}: ${url}: no file ${file}`];
      if (anchor === undefined || !file.endsWith(".md")) return [];
      const targetDoc = docs.find((other) => other.file === file);
      if (!targetDoc) return [`${where}: ${url}: ${file} is not one of the docs`];
      return anchorsOf(targetDoc).has(anchor) ? [] : [`${where}: ${url}: ${file} has no heading #${anchor}`];
    }),
  );
}
