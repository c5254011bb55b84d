// APIM reads two things inside policy values that XML escaping leaves alone. Its policy reference documents no
// escape for either (learn.microsoft.com "API Management policy expressions": a value `@(…)`/`@{…}` is C#;
// "Use named values in Azure API Management policies": `{{name}}` is substituted even inside literal text), and
// no `@@` escape is documented anywhere we searched (docs, MicrosoftDocs/azure-docs, issues) — so both are refused.
const namedValueOpen = "{{";
// xmlbuilder2 leaves `&` unescaped when it already looks like a reference (its nonEntityAmpersandRegex), so such a
// value would not survive as written; no identifier, role or URL we render needs one.
const referenceLike = /&(?:[A-Za-z]+|#\d+);/;
// Control characters: not allowed in XML 1.0 (most) or normalised to spaces inside attributes (tab, CR, LF).
// eslint-disable-next-line no-control-regex -- these are exactly the characters refused
const controlCharacter = /[\u0000-\u001f\u007f]/;

/**
 * Throws unless `value` reaches APIM as the literal text it is: non-empty, not a policy expression, no named-value
 * reference, no character XML cannot carry. `field` names the input in the error.
 */
export function assertApimLiteral(field: string, value: string): void {
  const shown = JSON.stringify(value);
  if (typeof value !== "string" || value.trim() === "") {
    throw new Error(`${field} must be a non-empty string, got ${shown}`);
  }
  if (value.trimStart().startsWith("@")) {
    throw new Error(
      `${field} ${shown} starts with "@", which APIM evaluates as a policy expression; APIM documents no escape for a literal leading "@"`,
    );
  }
  if (value.includes(namedValueOpen)) {
    throw new Error(
      `${field} ${shown} contains "{{", which APIM reads as a named-value reference; APIM documents no escape for a literal "{{"`,
    );
  }
  if (referenceLike.test(value)) {
    throw new Error(`${field} ${shown} contains an XML character or entity reference; pass the character itself`);
  }
  if (controlCharacter.test(value)) {
    throw new Error(`${field} ${shown} contains a control character (tab, newline, …), which policy XML cannot carry`);
  }
}
