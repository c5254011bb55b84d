import type { PolicyResource } from "@pulumi/policy";
import { type GuardResource, unknownValue } from "./model";

/** A plain copy of a value in which every value unknown during preview becomes {@link unknownValue}. */
function known(read: () => unknown): unknown {
  let value: unknown;
  try {
    value = read();
  } catch (error) {
    if ((error as Error).name === "UnknownValueError" || /can't be known during preview/.test(String(error))) {
      return unknownValue;
    }
    throw error;
  }
  if (Array.isArray(value)) return value.map((_, i) => known(() => (value as unknown[])[i]));
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(Object.keys(record).map((key) => [key, known(() => record[key])]));
  }
  return value;
}

export function guardResourceOf(resource: PolicyResource): GuardResource {
  return {
    urn: resource.urn,
    type: resource.type,
    name: resource.name,
    inputs: known(() => resource.props) as Record<string, unknown>,
    inputSources: Object.fromEntries(
      Object.entries(resource.propertyDependencies ?? {}).map(([key, sources]) => [key, sources.map((s) => s.urn)]),
    ),
    protect: resource.opts?.protect === true,
  };
}
