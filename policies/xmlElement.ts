/** An element to be written by the XML library: attributes in this order, then text or children. */
export interface XmlElementSpec {
  name: string;
  attributes: ReadonlyArray<readonly [string, string]>;
  text?: string;
  children: XmlElementSpec[];
}

export function element(
  name: string,
  attributes: ReadonlyArray<readonly [string, string]>,
  children: XmlElementSpec[] = [],
): XmlElementSpec {
  return { name, attributes, children };
}

export function textElement(name: string, text: string): XmlElementSpec {
  return { name, attributes: [], text, children: [] };
}
