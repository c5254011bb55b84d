import * as path from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { create } from "xmlbuilder2";
import { clientLimitElements } from "./clientLimits";
import { parseOrderedXml } from "./orderedXml";
import { tokenChallengeElement, tokenChallengeMarker } from "./tokenChallenge";
import { type TokenCheck, tokenCheckElement } from "./tokenCheck";
import type { XmlElementSpec } from "./xmlElement";

export type { TokenCheck } from "./tokenCheck";

/** The element in a policy template that the token check replaces. */
export const tokenCheckMarker = "entra-token-check";

/** Absolute path of the default API policy template, `policies/api-policy.xml`. */
export const defaultPolicyTemplatePath: string = path.join(__dirname, "api-policy.xml");

type Builder = ReturnType<typeof create>;

const elementNode = 1;
const documentTypeNode = 10;
// APIM re-formats what it stores; a fixed layout keeps the rendered policy byte-identical across runs.
const writerOptions = {
  prettyPrint: true,
  indent: "  ",
  newline: "\n",
  headless: true,
  spaceBeforeSlash: true,
} as const;

/**
 * Renders an APIM API policy: parses `template`, replaces its one `<entra-token-check />` (directly inside
 * `<policies><inbound>`) with the token check for `check` followed by its client limits, and its one
 * `<entra-token-challenge />` (directly inside `<policies><on-error>`) with the 401's WWW-Authenticate header, and
 * serialises the `<policies>` element with LF line endings, 2-space indentation and a trailing newline. The
 * template's own elements and comments inside `<policies>` are kept; its whitespace, XML declaration and comments
 * outside `<policies>` are not. `templateName` (e.g. the file path) names the template in errors.
 */
export function renderApiPolicy(check: TokenCheck, template: string, templateName = "policy template"): string {
  const inbound = [tokenCheckElement(check), ...clientLimitElements(check.limits, check.profile.clientIdClaim)];
  const onError = [tokenChallengeElement(check)];
  const fail = (problem: string): never => {
    throw new Error(`${templateName}: ${problem}`);
  };
  const root = parseTemplate(template, fail);
  const replacements = [
    { marker: findMarker(root, tokenCheckMarker, "inbound", fail), section: "inbound", elements: inbound },
    { marker: findMarker(root, tokenChallengeMarker, "on-error", fail), section: "on-error", elements: onError },
  ].map(({ marker, section, elements }) => ({ section, elements, position: replaceMarker(marker, elements, fail) }));

  const xml = `${root.toString(writerOptions)}\n`;
  verifyRendered(xml, replacements, templateName);
  return xml;
}

/** Puts `elements` where the marker is, and returns the marker's position among its parent's elements. */
function replaceMarker(marker: Builder, elements: XmlElementSpec[], fail: (problem: string) => never): number {
  const markerNode = marker.node;
  const parent = markerNode.parentNode;
  if (parent === null) return fail(`<${markerNode.nodeName} /> has no parent`);
  const position = elementChildren(parent).indexOf(markerNode);
  // Built inside the marker, then moved into its place: every value goes through the XML library.
  for (const spec of elements) parent.insertBefore(appendElement(marker, spec).node, markerNode);
  parent.removeChild(markerNode);
  return position;
}

function parseTemplate(template: string, fail: (problem: string) => never): Builder {
  // What a conforming XML parser does with line ends (XML 1.0 §2.11), so comments and text come out LF-only.
  const text = template.replace(/\r\n?/g, "\n");
  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    const { msg, line, col } = validation.err;
    fail(`not well-formed XML: ${msg} (line ${line}${col === undefined ? "" : `, column ${col}`})`);
  }
  const ampersand = strayAmpersand(text);
  if (ampersand !== undefined) fail(`not well-formed XML: ${ampersand}`);
  let doc: Builder;
  try {
    doc = create(text);
  } catch (error) {
    return fail(`not well-formed XML: ${error instanceof Error ? error.message : String(error)}`);
  }
  if ([...doc.node.childNodes.values()].some((node) => node.nodeType === documentTypeNode)) {
    fail("must not declare a DOCTYPE");
  }
  const root = doc.root();
  if (root.node.nodeName !== "policies") {
    fail(`root element must be <policies>, found <${root.node.nodeName}>`);
  }
  return root;
}

/**
 * fast-xml-parser's validator accepts a bare `&` and undeclared entities such as `&nbsp;`, and xmlbuilder2 would
 * copy the latter into the output unchanged; APIM rejects both.
 */
function strayAmpersand(xml: string): string | undefined {
  const masked = xml.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>/g, (skipped) =>
    " ".repeat(skipped.length),
  );
  const match = /&(?!(?:lt|gt|amp|quot|apos|#\d+|#x[\dA-Fa-f]+);)/.exec(masked);
  if (match === null) return undefined;
  const before = xml.slice(0, match.index).split("\n");
  const column = (before.at(-1) ?? "").length + 1;
  return `"&" must start &amp;, &lt;, &gt;, &quot;, &apos; or a character reference (line ${before.length}, column ${column})`;
}

function findMarker(
  root: Builder,
  name: string,
  section: "inbound" | "on-error",
  fail: (problem: string) => never,
): Builder {
  const place = `directly inside <policies><${section}>`;
  const markers = root.filter((node) => node.node.nodeType === elementNode && node.node.nodeName === name, false, true);
  const [marker] = markers;
  if (marker === undefined) return fail(`has no <${name} /> marker; put exactly one ${place}`);
  if (markers.length > 1) fail(`has ${markers.length} <${name} /> markers; keep exactly one, ${place}`);
  const parent = marker.node.parentNode;
  if (parent?.nodeName !== section || parent.parentNode !== root.node) {
    fail(`<${name} /> must be ${place}, found it inside ${ancestry(marker.node)}`);
  }
  if (marker.toString() !== `<${name}/>`) fail(`<${name} /> takes no attributes or content`);
  return marker;
}

function ancestry(node: Builder["node"]): string {
  const names: string[] = [];
  for (let current = node.parentNode; current !== null && current.nodeType === elementNode;) {
    names.unshift(`<${current.nodeName}>`);
    current = current.parentNode;
  }
  return names.join("");
}

function elementChildren(node: Builder["node"]): Builder["node"][] {
  return [...node.childNodes.values()].filter((child) => child.nodeType === elementNode);
}

function appendElement(parent: Builder, spec: XmlElementSpec): Builder {
  const element = parent.ele(spec.name);
  for (const [name, value] of spec.attributes) element.att(name, value);
  if (spec.text !== undefined) element.txt(spec.text);
  for (const child of spec.children) appendElement(element, child);
  return element;
}

/**
 * Parses the output with a second, independent parser and checks that what replaced each marker reads back exactly
 * as intended: a rendering bug fails here, not at the gateway.
 */
function verifyRendered(
  xml: string,
  replacements: { section: string; position: number; elements: XmlElementSpec[] }[],
  templateName: string,
): void {
  const fail: (problem: string) => never = (problem) => {
    throw new Error(`${templateName}: internal error, the rendered policy ${problem}`);
  };
  const validation = XMLValidator.validate(xml);
  if (validation !== true) fail(`is not well-formed XML: ${validation.err.msg} (line ${validation.err.line})`);
  const ampersand = strayAmpersand(xml);
  if (ampersand !== undefined) fail(`is not well-formed XML: ${ampersand}`);
  const parsed = parseOrderedXml(xml);
  const policies = orderedElements(parsed).find((node) => node.name === "policies");
  for (const { section, position, elements } of replacements) {
    const actual = policies?.children.find((node) => node.name === section)?.children ?? [];
    const want = JSON.stringify(elements.map(canonical));
    const got = JSON.stringify(actual.slice(position, position + elements.length).map(canonical));
    if (want !== got) fail(`reads back in <${section}> as ${got}, expected ${want}`);
  }
}

/** fast-xml-parser's `preserveOrder` tree (an array of one-key objects plus `:@` attributes) as element specs. */
function orderedElements(nodes: unknown): XmlElementSpec[] {
  if (!Array.isArray(nodes)) return [];
  const elements: XmlElementSpec[] = [];
  for (const node of nodes as Record<string, unknown>[]) {
    const name = Object.keys(node).find((key) => key !== ":@" && key !== "#text");
    if (name === undefined) continue;
    const content = node[name] as Record<string, unknown>[];
    const attributes = Object.entries((node[":@"] ?? {}) as Record<string, string>);
    const children = orderedElements(content);
    const text = content.map((part) => part["#text"] ?? "").join("");
    elements.push({ name, attributes, children, ...(children.length === 0 && text !== "" ? { text } : {}) });
  }
  return elements;
}

function canonical(spec: XmlElementSpec): unknown {
  return [spec.name, spec.attributes, spec.text ?? null, spec.children.map(canonical)];
}
