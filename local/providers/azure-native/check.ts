import { isSecret, isUnknown, type PropertyMap, reveal, secret } from "./values";
import { type Rule, rules, type SpecSource } from "./rules";

/** A check failure the way the engine reports it: `property <property> value <v> has a problem: <reason>`. */
export interface CheckFailure {
  property: string;
  reason: string;
}

const int32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

export function cite(source: SpecSource): string {
  const where = source.spec === "azure-docs" ? "MicrosoftDocs/azure-docs" : `azure-rest-api-specs ${source.spec}`;
  return `${where} ${source.file} ${source.definition}`;
}

/** The inputs a rule's property names, with their paths: one for `a` or `a.b`, one per item for `a[]`. */
function valuesAt(inputs: PropertyMap, property: string): { path: string; value: unknown; parentUnknown: boolean }[] {
  const list = property.endsWith("[]");
  const parts = (list ? property.slice(0, -2) : property).split(".");
  let value: unknown = inputs;
  for (const part of parts) {
    if (isUnknown(value)) return [{ path: property, value: undefined, parentUnknown: true }];
    // Only this level is unwrapped: what lies inside a secret stays secret, so a reason never quotes it.
    const holder = (isSecret(value) ? value.value : value) as Record<string, unknown> | undefined;
    // A nested input is judged only where its parent is given; the parent's own rule says whether it must be.
    if (holder === undefined || holder === null) return [];
    value = isSecret(value) && holder[part] !== undefined ? secret(holder[part]) : holder[part];
  }
  const path = parts.join(".");
  if (!list) return [{ path, value, parentUnknown: false }];
  if (isUnknown(value)) return [];
  // A secret list keeps its items secret in what a reason may quote.
  const items = isSecret(value) ? value.value : value;
  if (!Array.isArray(items)) return [];
  return items.map((item: unknown, index) => ({
    path: `${path}[${index}]`,
    value: isSecret(value) ? secret(item) : item,
    parentUnknown: false,
  }));
}

/** The value as a reason may quote it: never a secret, long strings shortened. */
function shown(value: unknown): string {
  if (isSecret(value)) return "[secret]";
  if (typeof value === "string" && value.length > 60) return `"${value.slice(0, 40)}…"`;
  return JSON.stringify(value);
}

function lengthAllowed(rule: Rule): string {
  if (rule.minLength !== undefined && rule.maxLength !== undefined) return `${rule.minLength} to ${rule.maxLength}`;
  if (rule.maxLength !== undefined) return `at most ${rule.maxLength}`;
  return `at least ${rule.minLength ?? 0}`;
}

function failuresOf(rule: Rule, inputs: PropertyMap): CheckFailure[] {
  const source = cite(rule.source);
  return valuesAt(inputs, rule.property).flatMap(({ path, value, parentUnknown }): CheckFailure[] => {
    if (parentUnknown || isUnknown(value)) return [];
    if (value === undefined || value === null) {
      return rule.required ? [{ property: path, reason: `is required (${source})` }] : [];
    }
    const plain = reveal(value);
    const quoted = shown(value);
    if (rule.requiredValueWhen) {
      const { property, is, value: wanted, said } = rule.requiredValueWhen;
      const other = valuesAt(inputs, property)[0]?.value;
      if (!isUnknown(other) && reveal(other) === is && plain !== wanted) {
        return [
          { property: path, reason: `${quoted} is not allowed while ${property} is ${is}: "${said}" (${source})` },
        ];
      }
    }
    if (rule.integer && (!Number.isInteger(plain) || (plain as number) < int32.min || (plain as number) > int32.max)) {
      return [
        { property: path, reason: `${quoted} is not a whole number from ${int32.min} to ${int32.max} (${source})` },
      ];
    }
    const textRule = rule.minLength !== undefined || rule.maxLength !== undefined || rule.pattern || rule.enum;
    if (!textRule) return [];
    if (typeof plain !== "string") return [{ property: path, reason: `${quoted} is not a string (${source})` }];
    const length = [...plain].length;
    if (
      (rule.minLength !== undefined && length < rule.minLength) ||
      (rule.maxLength !== undefined && length > rule.maxLength)
    ) {
      return [
        {
          property: path,
          reason: `${quoted} is ${length} characters long; use ${lengthAllowed(rule)} characters (${source})`,
        },
      ];
    }
    if (rule.pattern && !rule.pattern.expression.test(plain)) {
      return [
        {
          property: path,
          reason: `${quoted} does not match ${rule.pattern.spec}: use ${rule.pattern.meaning} (${source})`,
        },
      ];
    }
    if (rule.enum && !rule.enum.includes(plain)) {
      return [{ property: path, reason: `${quoted} is not allowed; use one of ${rule.enum.join(", ")} (${source})` }];
    }
    return [];
  });
}

/**
 * The inputs of a resource type (or the arguments of a function) against the REST API's constraints. Values not
 * known yet (preview) are not judged; their checks run again when they are known.
 */
export function checkInputs(token: string, inputs: PropertyMap): CheckFailure[] {
  return (rules[token] ?? []).flatMap((rule) => failuresOf(rule, inputs));
}
