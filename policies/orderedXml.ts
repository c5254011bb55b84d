import { XMLParser } from "fast-xml-parser";

/**
 * Parses policy XML keeping document order and every attribute as written (no type coercion, no trimming):
 * what the renderer's self-check and the policy reader both need to see the XML as APIM would.
 */
export function parseOrderedXml(xml: string): unknown {
  return new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: "",
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
  }).parse(xml);
}

/** One node of that tree: `{ tag: children }`, its attributes under `:@`, text under `#text`. */
export type XmlNode = Record<string, unknown>;

export function tagOf(node: XmlNode): string {
  return Object.keys(node).find((key) => key !== ":@") ?? "";
}

export function childrenOf(node: XmlNode): XmlNode[] {
  const children = node[tagOf(node)];
  return Array.isArray(children) ? (children as XmlNode[]) : [];
}

/** The child elements of a node, without its text and comments. */
export function elementsOf(node: XmlNode): XmlNode[] {
  return childrenOf(node).filter((child) => tagOf(child) !== "#text" && tagOf(child) !== "#comment");
}

/** A section of a well-formed policy (`inbound`, `on-error`, …), directly inside `<policies>`. */
export function policySection(policyXml: string, section: string): XmlNode | undefined {
  const policies = (parseOrderedXml(policyXml) as XmlNode[]).find((node) => tagOf(node) === "policies");
  return policies && childrenOf(policies).find((node) => tagOf(node) === section);
}

export function childElements(node: XmlNode, tag: string): XmlNode[] {
  return childrenOf(node).filter((child) => tagOf(child) === tag);
}

export function descendants(node: XmlNode): XmlNode[] {
  return childrenOf(node).flatMap((child) => [child, ...descendants(child)]);
}

export function attributesOf(node: XmlNode): Record<string, string> {
  const raw = rawAttributesOf(node);
  return Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, value.trim()]));
}

/** Untrimmed, for a separator that may be a space. */
export function rawAttributesOf(node: XmlNode): Record<string, string> {
  const attrs = node[":@"];
  return attrs && typeof attrs === "object" ? (attrs as Record<string, string>) : {};
}

export function textOf(node: XmlNode): string {
  return childrenOf(node)
    .map((child) => (typeof child["#text"] === "string" ? child["#text"] : ""))
    .join("")
    .trim();
}
