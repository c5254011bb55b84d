import * as pulumi from "@pulumi/pulumi";
import { today } from "./clock";
import { ConfigError, configKey, projectName, type Catalogue, validateCatalogue } from "./validate";

const booleanKeys = new Set(["protect"]);
const structuredKeys = new Set(["apim", "apis", "clients"]);

/**
 * Every key of one project's namespace in the stack's config (so a misspelt key is reported, not ignored), with
 * booleans as booleans and structured keys, which arrive as JSON text from the engine, parsed.
 */
export function readNamespaceConfig(
  namespace: string,
  kinds: { booleanKeys: ReadonlySet<string>; structuredKeys: ReadonlySet<string> },
): Record<string, unknown> {
  const stack = pulumi.getStack();
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    const [keyNamespace, key] = fullKey.split(":", 2) as [string, string];
    if (keyNamespace !== namespace) continue;
    if (kinds.booleanKeys.has(key)) {
      raw[key] = value === "true" ? true : value === "false" ? false : value;
    } else if (kinds.structuredKeys.has(key)) {
      try {
        raw[key] = JSON.parse(value);
      } catch {
        problems.push(`${configKey([key], namespace)}: ${JSON.stringify(value)} is not a YAML object or list.`);
      }
    } else {
      raw[key] = value;
    }
  }
  if (problems.length > 0) throw new ConfigError(stack, problems);
  return raw;
}

/** Reads every `apim-entra-auth:` key of the stack and validates them, as of `date`, before anything is registered. */
export function loadCatalogue(date: string = today()): Catalogue {
  return validateCatalogue(readNamespaceConfig(projectName, { booleanKeys, structuredKeys }), pulumi.getStack(), date);
}
