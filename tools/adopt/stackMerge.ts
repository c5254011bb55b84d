import { type Document, isMap, isScalar, isSeq, type Node, parse, parseDocument, visit, YAMLMap, YAMLSeq } from "yaml";
import { isDeepStrictEqual } from "node:util";
import type { EntryPlan } from "./proposal";

/** The list of a section (`<namespace>:apis`) in a stack file's `config`, created when absent. */
function sectionOf(document: Document, namespace: string, section: string): YAMLSeq {
  if (!isMap(document.contents)) document.contents = new YAMLMap();
  let config = document.get("config");
  if (!isMap(config)) {
    config = new YAMLMap();
    document.set("config", config);
  }
  const key = `${namespace}:${section}`;
  const list = (config as YAMLMap).get(key, true);
  if (list === undefined) {
    const created = new YAMLSeq();
    (config as YAMLMap).set(key, created);
    return created;
  }
  if (!isSeq(list))
    throw new Error(`config.${key} in the stack file is not a list; write it as a list of entries first`);
  return list;
}

/**
 * A node for a value adopt writes, its strings quoted wherever a YAML 1.1 reader would read the plain text as something
 * else: the Pulumi CLI reads stack files with Go's yaml.v3, which takes a plain 2026-12-01 for a timestamp and hands
 * the program "2026-12-01 00:00:00 +0000 UTC" (secretRotatedOn); yes, on and 0x1F likewise. The yaml package writes
 * YAML 1.2, where they are plain strings.
 */
function nodeOf(document: Document, value: unknown): Node {
  const node = document.createNode(value) as Node;
  visit(node, {
    Scalar(_, scalar) {
      if (typeof scalar.value === "string" && parse(scalar.value, { version: "1.1" }) !== scalar.value) {
        scalar.type = "QUOTE_DOUBLE";
      }
    },
  });
  return node;
}

/** Sets a key to a value, keeping the old node (and its comments and style) where the value is the same. */
function setKeepingStyle(document: Document, map: YAMLMap, key: string, value: unknown): void {
  const old = map.get(key, true) as Node | undefined;
  if (old && isDeepStrictEqual((old as { toJSON(): unknown }).toJSON(), value)) return;
  const node = nodeOf(document, value) as Node & { flow?: boolean };
  if (old) {
    node.comment = old.comment;
    node.commentBefore = old.commentBefore;
    if ((isSeq(old) || isMap(old)) && (isSeq(node) || isMap(node))) node.flow = old.flow ?? false;
    if (isScalar(old) && isScalar(node) && typeof value === "string" && typeof old.value === "string" && !node.type)
      node.type = old.type;
  }
  map.set(key, node);
}

/**
 * Merges adopt's entries into a stack file's text with the yaml package's Document API: an entry it adopts into gets
 * the keys adopt sets (a key it already has keeps its comment and its flow or block style), every other key, entry,
 * comment and setting of the file stays as written; a new entry is appended to its section's list.
 */
export function mergeIntoStackFile(
  text: string,
  plans: EntryPlan[],
  namespace: string,
): { text: string; document: Document } {
  const document = parseDocument(text);
  if (document.errors.length > 0) throw new Error(`the stack file cannot be read: ${document.errors[0]?.message}`);
  for (const plan of plans) {
    const list = sectionOf(document, namespace, plan.section);
    const entry = plan.target === undefined ? undefined : list.items[plan.target];
    if (entry === undefined) {
      list.add(nodeOf(document, plan.values));
      continue;
    }
    if (!isMap(entry))
      throw new Error(`config.${namespace}:${plan.section}[${plan.target}] is not an entry (a map of keys)`);
    for (const [key, value] of Object.entries(plan.values)) setKeepingStyle(document, entry, key, value);
  }
  return { text: document.toString({ indent: indentOf(text) }), document };
}

/** The file's own indentation width: the first indented line's (2 when none is). */
function indentOf(text: string): number {
  const indented = /^( +)[^\s#-]/m.exec(text);
  return indented?.[1]?.length ?? 2;
}

/** The adopted entries alone, as they stand in the merged file, under their section keys: what adopt prints. */
export function adoptedEntriesText(document: Document, plans: EntryPlan[], namespace: string): string {
  const shown = new YAMLMap();
  for (const section of ["apis", "clients"] as const) {
    const list = document.getIn(["config", `${namespace}:${section}`], true);
    if (!isSeq(list)) continue;
    const names = new Set(plans.filter((plan) => plan.section === section).map((plan) => plan.name));
    const items = list.items.filter((item) => isMap(item) && names.has(String(item.get("name"))));
    if (items.length === 0) continue;
    const copy = new YAMLSeq();
    copy.items = items.map((item) => (item as YAMLMap).clone());
    shown.set(`${namespace}:${section}`, copy);
  }
  const out = parseDocument("config: {}");
  const config = new YAMLMap();
  config.items = shown.items;
  out.set("config", config);
  return out.toString();
}
