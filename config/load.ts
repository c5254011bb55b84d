import * as pulumi from "@pulumi/pulumi";
import { today } from "../lib/clock";
import { ConfigError, configKey, projectName, type StackConfig, validateStackConfig } from "./validate";

const booleanKeys = new Set(["protect"]);
const structuredKeys = new Set(["apim", "apis", "clients"]);

/**
 * Reads every `apim-entra-auth:` key of the stack (so a misspelt key is reported, not ignored) and validates
 * them before anything is registered. Structured keys arrive as JSON text from the engine.
 */
export function loadStackConfig(date: string = today()): StackConfig {
  const stack = pulumi.getStack();
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    const [namespace, key] = fullKey.split(":", 2) as [string, string];
    if (namespace !== projectName) continue;
    if (booleanKeys.has(key)) {
      raw[key] = value === "true" ? true : value === "false" ? false : value;
    } else if (structuredKeys.has(key)) {
      try {
        raw[key] = JSON.parse(value);
      } catch {
        problems.push(`${configKey([key])}: ${JSON.stringify(value)} is not a YAML object or list.`);
      }
    } else {
      raw[key] = value;
    }
  }
  if (problems.length > 0) throw new ConfigError(stack, problems);
  return validateStackConfig(raw, stack, date);
}
