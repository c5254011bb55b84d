import * as pulumi from "@pulumi/pulumi";
import { ConfigError, configKey, projectName, type StackConfig, validateStackConfig } from "./validate";

const scalarKeys = ["tenantId", "authorityHost", "nameSuffix"] as const;
const booleanKeys = ["protect"] as const;
const objectKeys = ["apim", "apis", "clients"] as const;

/**
 * Reads the stack's configuration and validates it before anything is registered.
 * Structured keys arrive as JSON text; a key that is not valid JSON is reported like any other bad value.
 */
export function loadStackConfig(): StackConfig {
  const config = new pulumi.Config(projectName);
  const stack = pulumi.getStack();
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of scalarKeys) {
    const value = config.get(key);
    if (value !== undefined) raw[key] = value;
  }
  for (const key of booleanKeys) {
    const value = config.get(key);
    if (value !== undefined) raw[key] = value === "true" ? true : value === "false" ? false : value;
  }
  for (const key of objectKeys) {
    const value = config.get(key);
    if (value === undefined) continue;
    try {
      raw[key] = JSON.parse(value);
    } catch {
      problems.push(`${configKey([key])}: ${JSON.stringify(value)} is not a YAML object or list.`);
    }
  }
  if (problems.length > 0) throw new ConfigError(stack, problems);
  return validateStackConfig(raw, stack);
}
