import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { ConfigError, projectName } from "../../config/validate";

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

/**
 * A YAML file's content. A syntax error becomes a {@link ConfigError} naming the file and the line, in the
 * parser's one-line wording without its excerpt of the file; the errors after the first only follow from it.
 */
function readYaml(file: string, stack: string, text = fs.readFileSync(file, "utf8")): unknown {
  const document = parseDocument(text);
  const [error] = document.errors;
  if (!error) return document.toJS();
  const at = error.linePos?.[0];
  const where = at ? ` line ${at.line}, column ${at.col}` : "";
  const sentence = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
  throw new ConfigError(stack, [`${path.basename(file)}${where}: ${sentence}; check the indentation there.`]);
}

/** The stacks that have a `Pulumi.<stack>.yaml` in the project directory. */
export function stackNames(projectDir: string): string[] {
  return fs
    .readdirSync(projectDir)
    .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

/** `Pulumi.<stack>.yaml` (or `.yml`) in the project directory; says which stacks exist when it is missing. */
export function stackFileOf(projectDir: string, stack: string): string {
  const stackFile = ["yaml", "yml"].map((ext) => path.join(projectDir, `Pulumi.${stack}.${ext}`)).find(fs.existsSync);
  if (stackFile) return stackFile;
  const known = stackNames(projectDir);
  throw new Error(`No Pulumi.${stack}.yaml in ${projectDir}; stacks with a file: ${known.join(", ") || "none"}.`);
}

/** The checked-in plan of a stack: `plans/<stack>.md`, what `npm run plan -- --write` refreshes. */
export const planFileOf = (projectDir: string, stack: string) => path.join(projectDir, "plans", `${stack}.md`);

/** The project's `Pulumi.yaml`; a syntax error is reported under the stack being read. */
function readProjectFile(projectDir: string, stack = ""): { name?: string; config?: Record<string, unknown> } {
  return (readYaml(path.join(projectDir, "Pulumi.yaml"), stack) ?? {}) as {
    name?: string;
    config?: Record<string, unknown>;
  };
}

/** The project's name from its `Pulumi.yaml`: the namespace of its config keys and part of every URN. */
export const projectNameOf = (projectDir: string): string => readProjectFile(projectDir).name ?? projectName;

/**
 * The configuration Pulumi would give the program for a stack: `Pulumi.yaml` defaults, overridden by
 * `Pulumi.<stack>.yaml` (or by `stackText`, that file's text as it would be after an edit). Keys of other namespaces
 * (providers) are left out; secure values are not decrypted.
 */
export function readStackFileConfig(projectDir: string, stack: string, stackText?: string): StackFileConfig {
  const stackFile = stackFileOf(projectDir, stack);
  const project = readProjectFile(projectDir, stack);
  const namespace = project.name ?? projectName;
  const config: Record<string, unknown> = {};
  for (const [key, declaration] of Object.entries(project.config ?? {})) {
    const defaultValue =
      declaration && typeof declaration === "object" ? (declaration as { default?: unknown }).default : declaration;
    if (defaultValue !== undefined) config[key.replace(`${namespace}:`, "")] = defaultValue;
  }
  const stackYaml = (readYaml(stackFile, stack, stackText) ?? {}) as { config?: Record<string, unknown> };
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
