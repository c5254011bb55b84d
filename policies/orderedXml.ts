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
