import * as fs from "node:fs";
import * as path from "node:path";
import GithubSlugger from "github-slugger";
import type { Code, InlineCode, Link, Nodes, Root } from "mdast";
import { fromMarkdown } from "mdast-util-from-markdown";
import { toString } from "mdast-util-to-string";

/** One Markdown file of the documentation, parsed (CommonMark, by micromark). */
export interface MarkdownDoc {
  /** Relative to the project directory, with forward slashes: `README.md`, `docs/reviewing.md`. */
  file: string;
  text: string;
  tree: Root;
}

/**
 * A fenced code block. Its info string says what it is: the language, then words that tell the doc checks how
 * to read it (`yaml edit=clients[] id=rename`): `kind` is the first word without `=`, `attributes` the `key=value`s.
 */
export interface CodeBlock {
  doc: MarkdownDoc;
  /** `README.md:42`, for messages. */
  where: string;
  lang: string;
  kind?: string;
  attributes: Record<string, string>;
  value: string;
  node: Code;
}

/** The documentation: README.md and every docs/*.md, in that order. */
export function readDocs(projectDir: string): MarkdownDoc[] {
  const docsDir = path.join(projectDir, "docs");
  const files = [
    "README.md",
    ...(fs.existsSync(docsDir) ? fs.readdirSync(docsDir).filter((file) => file.endsWith(".md")) : [])
      .sort()
      .map((file) => `docs/${file}`),
  ];
  return files.map((file) => parseDoc(file, fs.readFileSync(path.join(projectDir, file), "utf8")));
}

export function parseDoc(file: string, text: string): MarkdownDoc {
  return { file, text, tree: fromMarkdown(text) };
}

function nodesOf<T extends Nodes>(node: Nodes, type: T["type"]): T[] {
  const own = node.type === type ? [node as T] : [];
  const children = "children" in node ? (node.children as Nodes[]) : [];
  return [...own, ...children.flatMap((child) => nodesOf<T>(child, type))];
}

export const whereIs = (doc: MarkdownDoc, node: Nodes) => `${doc.file}:${node.position?.start.line ?? "?"}`;

export function codeBlocks(doc: MarkdownDoc): CodeBlock[] {
  return nodesOf<Code>(doc.tree, "code").map((node) => {
    const words = (node.meta ?? "").split(/\s+/).filter(Boolean);
    const attributes = Object.fromEntries(
      words.filter((word) => word.includes("=")).map((word) => word.split("=", 2) as [string, string]),
    );
    return {
      doc,
      where: whereIs(doc, node),
      lang: node.lang ?? "",
      kind: words.find((word) => !word.includes("=")),
      attributes,
      value: node.value,
      node,
    };
  });
}

/** Every `inline code` span, with where it is. */
export function inlineCodes(doc: MarkdownDoc): { where: string; value: string }[] {
  return nodesOf<InlineCode>(doc.tree, "inlineCode").map((node) => ({ where: whereIs(doc, node), value: node.value }));
}

/** Every link's target, with where it is. */
export function linksOf(doc: MarkdownDoc): { where: string; url: string }[] {
  return nodesOf<Link>(doc.tree, "link").map((node) => ({ where: whereIs(doc, node), url: node.url }));
}

/** The anchors GitHub gives the doc's headings (`#the-everyday-loop`), made by GitHub's own slug algorithm. */
export function anchorsOf(doc: MarkdownDoc): Set<string> {
  const slugger = new GithubSlugger();
  return new Set(nodesOf(doc.tree, "heading").map((heading) => slugger.slug(toString(heading))));
}

/**
 * The doc's text with some code blocks' contents replaced (each block keeps its fences and its indentation,
 * e.g. inside a list item): what a refresh of generated examples writes.
 */
export function withBlockValues(doc: MarkdownDoc, replacements: Map<Code, string>): string {
  const edits = [...replacements].sort(([a], [b]) => (b.position?.start.offset ?? 0) - (a.position?.start.offset ?? 0));
  let text = doc.text;
  for (const [node, value] of edits) {
    const start = node.position?.start;
    const end = node.position?.end;
    if (start?.offset === undefined || end?.offset === undefined)
      throw new Error(`${doc.file}: a block without position`);
    const lines = text.slice(start.offset, end.offset).split("\n");
    const indent = " ".repeat(start.column - 1);
    const body = value.split("\n").map((line) => (line ? `${indent}${line}` : line));
    text = `${text.slice(0, start.offset)}${[lines[0], ...body, lines.at(-1)].join("\n")}${text.slice(end.offset)}`;
  }
  return text;
}
