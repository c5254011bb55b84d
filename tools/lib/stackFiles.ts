import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { projectName } from "../../config/validate";

/** What a secure config value shows as: the plan never decrypts it. */
export const secretPlaceholder = "[secret]";

export interface StackFileConfig {
  /** The project's config keys without the `<project>:` prefix. */
  config: Record<string, unknown>;
  /** Keys holding a `secure:` value (anywhere inside). */
  secretKeys: string[];
}

/** Replaces every `{ secure: … }` by the placeholder; reports whether any was found. */
function hideSecure(value: unknown): { value: unknown; secret: boolean } {
  if (Array.isArray(value)) {
    const items = value.map(hideSecure);
    return { value: items.map((item) => item.value), secret: items.some((item) => item.secret) };
  }
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (Object.keys(record).length === 1 && "secure" in record) return { value: secretPlaceholder, secret: true };
    const entries = Object.entries(record).map(([key, item]) => [key, hideSecure(item)] as const);
    return {
      value: Object.fromEntries(entries.map(([key, item]) => [key, item.value])),
      secret: entries.some(([, item]) => item.secret),
    };
  }
  return { value, secret: false };
}

/** The stacks that have a `Pulumi.<stack>.yaml` in the project directory. */
export function stackNames(projectDir: string): string[] {
  return fs
    .readdirSync(projectDir)
    .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

function readProjectFile(projectDir: string): { name?: string; config?: Record<string, unknown> } {
  return parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) ?? {};
}

/** The project's name from its `Pulumi.yaml`: the namespace of its config keys and part of every URN. */
export const projectNameOf = (projectDir: string): string => readProjectFile(projectDir).name ?? projectName;

/**
 * The configuration Pulumi would give the program for a stack: `Pulumi.yaml` defaults, overridden by
 * `Pulumi.<stack>.yaml`. Keys of other namespaces (providers) are left out; secure values are not decrypted.
 */
export function readStackConfig(projectDir: string, stack: string): StackFileConfig {
  const stackFile = ["yaml", "yml"].map((ext) => path.join(projectDir, `Pulumi.${stack}.${ext}`)).find(fs.existsSync);
  if (!stackFile) {
    const known = stackNames(projectDir);
    throw new Error(`No Pulumi.${stack}.yaml in ${projectDir}; stacks with a file: ${known.join(", ") || "none"}.`);
  }
  const project = readProjectFile(projectDir);
  const namespace = project.name ?? projectName;
  const config: Record<string, unknown> = {};
  for (const [key, declaration] of Object.entries(project.config ?? {})) {
    const defaultValue =
      declaration && typeof declaration === "object" ? (declaration as { default?: unknown }).default : declaration;
    if (defaultValue !== undefined) config[key.replace(`${namespace}:`, "")] = defaultValue;
  }
  const stackYaml = (parse(fs.readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const secretKeys: string[] = [];
  for (const [fullKey, raw] of Object.entries(stackYaml.config ?? {})) {
    const [keyNamespace, key] = fullKey.includes(":") ? fullKey.split(":", 2) : [namespace, fullKey];
    if (keyNamespace !== namespace || key === undefined) continue;
    const { value, secret } = hideSecure(raw);
    config[key] = value;
    if (secret) secretKeys.push(key);
  }
  return { config, secretKeys };
}
