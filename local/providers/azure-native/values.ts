import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

/**
 * Property values as the engine hands them to a provider: secrets wrapped in `{<sig>: <secret sig>, value}`, and,
 * during a preview, values not known yet as the unknown marker string.
 */
export type PropertyMap = Record<string, unknown>;

export function isSecret(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[specialSigKey] === specialSecretSig
  );
}

export function secret(value: unknown): unknown {
  return isSecret(value) ? value : { [specialSigKey]: specialSecretSig, value };
}

/** The value without secret wrappers, at any depth. */
export function reveal(value: unknown): unknown {
  if (isSecret(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map(reveal);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, reveal(item)]));
  }
  return value;
}

/** True when the value, or anything in it, is not known yet (a preview's unknown marker). */
export function isUnknown(value: unknown): boolean {
  const plain = reveal(value);
  if (plain === unknownValue) return true;
  if (Array.isArray(plain)) return plain.some(isUnknown);
  if (typeof plain === "object" && plain !== null) return Object.values(plain).some(isUnknown);
  return false;
}

/** Deep equality of two property values, secrets compared by what they hold. */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(sorted(reveal(a))) === JSON.stringify(sorted(reveal(b)));
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sorted((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
