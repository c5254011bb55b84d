import type { CheckFailure, DiffResult } from "@pulumi/pulumi/provider";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

/**
 * One input of a resource, as its Terraform schema declares it (the bridge keeps the Terraform semantics):
 * `set` compares without order, `computed` is Optional+Computed (left out, the state's value stands), `default`
 * is filled in by Check like the bridge fills Terraform defaults.
 */
export interface PropertySpec {
  type: "string" | "boolean" | "integer" | "set" | "list" | "map" | "object";
  required?: boolean;
  computed?: boolean;
  default?: unknown;
  /** Why a known value is refused (naming the value and the allowed form), or undefined. */
  validate?: (value: unknown) => string | undefined;
}

export type Properties = Record<string, PropertySpec>;
export type PropertyMap = Record<string, unknown>;

function isSecret(value: unknown): value is { value: unknown } {
  return !!value && typeof value === "object" && (value as PropertyMap)[specialSigKey] === specialSecretSig;
}

export function secret(value: unknown): PropertyMap {
  return { [specialSigKey]: specialSecretSig, value };
}

/** The plain value: the engine's secret envelopes removed, at any depth. */
export function reveal(value: unknown): unknown {
  if (isSecret(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map(reveal);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, reveal(item)]));
  }
  return value;
}

export function revealMap(value: unknown): PropertyMap {
  return (reveal(value) ?? {}) as PropertyMap;
}

/** Keys whose value the engine sent as a secret, so the same outputs go back as secrets. */
export function secretKeys(value: unknown): string[] {
  if (!value || typeof value !== "object") return [];
  return Object.entries(value as PropertyMap)
    .filter(([, item]) => isSecret(item))
    .map(([key]) => key);
}

/** During preview, an input that depends on a resource not yet created arrives as this marker, at any depth. */
export function containsUnknown(value: unknown): boolean {
  if (value === unknownValue) return true;
  if (isSecret(value)) return containsUnknown(value.value);
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

function zeroOf(spec: PropertySpec): unknown {
  switch (spec.type) {
    case "string":
      return "";
    case "boolean":
      return false;
    case "integer":
      return 0;
    case "set":
    case "list":
      return [];
    case "map":
    case "object":
      return {};
  }
}

/** A canonical text for a value: absent and null are the type's zero value, sets are sorted, maps keyed in order. */
function canonical(spec: PropertySpec, value: unknown): string {
  const plain = reveal(value ?? zeroOf(spec)) ?? zeroOf(spec);
  if (spec.type === "set" && Array.isArray(plain)) {
    return JSON.stringify([...new Set(plain.map((item) => JSON.stringify(item)))].sort());
  }
  return JSON.stringify(sortKeys(plain));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as PropertyMap)[key])]),
    );
  }
  return value;
}

/** Terraform's `HasChange` for one property: old and new differ once both are read as the property's type. */
export function differs(spec: PropertySpec, before: unknown, after: unknown): boolean {
  return canonical(spec, before) !== canonical(spec, after);
}

/** The value a resource works with (Terraform's `d.Get`): the input, else the state's for a computed one, else zero. */
export function effectiveInputs(properties: Properties, news: PropertyMap, olds: PropertyMap = {}): PropertyMap {
  const values: PropertyMap = {};
  for (const [name, spec] of Object.entries(properties)) {
    const given = news[name] ?? (spec.computed ? olds[name] : undefined) ?? spec.default;
    values[name] = reveal(given ?? zeroOf(spec));
  }
  return values;
}

/** The bridge's Check: required inputs present, known values valid, Terraform defaults filled in. */
export function checkInputs(
  properties: Properties,
  news: PropertyMap,
): { inputs: PropertyMap; failures: CheckFailure[] } {
  const inputs: PropertyMap = { ...news };
  const failures: CheckFailure[] = [];
  for (const [name, spec] of Object.entries(properties)) {
    const value = news[name];
    if (value === undefined || value === null) {
      if (spec.required) failures.push({ property: name, reason: `${name} is required` });
      else if (spec.default !== undefined) inputs[name] = spec.default;
      continue;
    }
    if (containsUnknown(value)) continue;
    const reason = spec.validate?.(reveal(value));
    if (reason) failures.push({ property: name, reason: `${name}: ${reason}` });
  }
  return { inputs, failures };
}

/**
 * The bridge's Diff, seen from the state: every input the program gives (or its zero value, unless Optional+Computed)
 * against the state's value; an unknown value is a change. Inputs the real provider marks ForceNew replace.
 */
export function diffInputs(
  properties: Properties,
  replaceOnChanges: readonly string[],
  olds: PropertyMap,
  news: PropertyMap,
): DiffResult {
  const changed = Object.entries(properties)
    .filter(([name, spec]) => {
      const after = news[name];
      if (after === undefined && spec.computed) return false;
      return containsUnknown(after) || differs(spec, olds[name], after ?? spec.default);
    })
    .map(([name]) => name);
  const replaces = changed.filter((name) => replaceOnChanges.includes(name));
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
}

/** What `pulumi import` and refresh record as inputs: the input properties the state holds, empty ones left out. */
export function inputsFromState(properties: Properties, state: PropertyMap): PropertyMap {
  return Object.fromEntries(
    Object.keys(properties)
      .filter((name) => {
        const value = state[name];
        if (value === undefined || value === null || value === "") return false;
        if (Array.isArray(value) && value.length === 0) return false;
        return true;
      })
      .map((name) => [name, state[name]]),
  );
}

export { unknownValue };
