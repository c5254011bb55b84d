// The local stacks' own project folder (.local/project): a Pulumi.yaml whose `main` (and every other path it names)
// points back at the program, and beside it, for each of the project's stack files, a copy with the local tenant's
// settings. The Pulumi CLI writes into the stack file of the project it runs in (`stack init` adds encryptionsalt,
// `config set` its values): here it writes into the copy, and the project's own Pulumi.<stack>.yaml is never touched.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Document, isMap, isScalar, parseDocument } from "yaml";
import { projectNameOf, stackNames } from "../tools/preview/stackFiles";

/** Providers whose settings (where they connect, as whom) the local tenant's replace: every key of theirs. */
export const localProviderNamespaces = ["azuread", "azure-native"];

/** Keys of a stack file that belong to its own backend's secrets provider, which a local run does not use. */
const secretsProviderKeys = ["secretsprovider", "encryptedkey", "encryptionsalt"];

export interface ShadowProject {
  dir: string;
  /** For each stack file copied: the keys left out of it (the providers' settings). */
  leftOut: Record<string, string[]>;
}

/**
 * Writes the shadow project for `projectDir` into `dir`: Pulumi.yaml as the project has it but for the paths it
 * names, and each Pulumi.<stack>.yaml as the project has it (and one for each of `stacks` the project has no file
 * for: a program that holds its own settings needs none), without the providers' settings and the project's secrets
 * provider, with `<project>:authorityHost` set to the tenant's, keeping the encryptionsalt the CLI wrote into the
 * copy before.
 */
export function writeShadowProject(
  projectDir: string,
  dir: string,
  authorityHost: string,
  stacks: string[] = [],
): ShadowProject {
  fs.mkdirSync(dir, { recursive: true });
  const project = parseDocument(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"));
  pointPathsBack(project, projectDir, dir);
  project.commentBefore = withHeader(
    project.commentBefore,
    `Written by npm run local from ${path.join(projectDir, "Pulumi.yaml")}; its paths point back at the program.`,
  );
  writeIfChanged(path.join(dir, "Pulumi.yaml"), project.toString({ lineWidth: 0 }));

  const namespace = projectNameOf(projectDir);
  const leftOut: Record<string, string[]> = {};
  for (const stack of [...new Set([...stackNames(projectDir), ...stacks])]) {
    const source = ["yaml", "yml"].map((ext) => path.join(projectDir, `Pulumi.${stack}.${ext}`)).find(fs.existsSync);
    const copy = parseDocument(source ? fs.readFileSync(source, "utf8") : "config: {}\n");
    if (copy.errors.length > 0) continue; // the CLI reports the syntax error of the project's own file
    if (!isMap(copy.get("config"))) copy.set("config", copy.createNode({}));
    const config = copy.get("config") as { items: { key: unknown }[] };
    const keys = config.items.map((item) => String((item.key as { value?: unknown })?.value ?? item.key));
    leftOut[stack] = keys.filter((key) => localProviderNamespaces.includes(key.split(":")[0] ?? ""));
    for (const key of leftOut[stack]) copy.deleteIn(["config", key]);
    copy.setIn(["config", `${namespace}:authorityHost`], authorityHost);
    for (const key of secretsProviderKeys) copy.delete(key);
    const target = path.join(dir, `Pulumi.${stack}.yaml`);
    const salt = fs.existsSync(target)
      ? parseDocument(fs.readFileSync(target, "utf8")).get("encryptionsalt")
      : undefined;
    if (typeof salt === "string") copy.set("encryptionsalt", salt);
    copy.commentBefore = withHeader(
      copy.commentBefore,
      source
        ? `Written by npm run local from ${source} with the local tenant's settings; edit that file, not this copy.`
        : `Written by npm run local with the local tenant's settings: ${projectDir} has no Pulumi.${stack}.yaml.`,
    );
    writeIfChanged(target, copy.toString({ lineWidth: 0 }));
  }
  return { dir, leftOut };
}

/**
 * The paths of Pulumi.yaml that are relative to the project's folder, made to name the same places from the shadow:
 * `main` (the program), the local sources of `packages` (`pulumi package add <path>` writes them relative), and the
 * Python host's `runtime.options.virtualenv`. The CLI and the YAML host resolve a package's path from different
 * folders (the project's, the program's), so those become absolute.
 */
function pointPathsBack(project: Document, projectDir: string, dir: string): void {
  const main = path.join(projectDir, String(project.get("main") ?? "."));
  project.set("main", path.relative(dir, main).split(path.sep).join("/"));
  const packages = project.get("packages");
  if (isMap(packages)) {
    for (const item of packages.items) {
      const source = isMap(item.value) ? item.value.get("source") : isScalar(item.value) ? item.value.value : undefined;
      if (typeof source !== "string" || !isLocalPath(source)) continue;
      const absolute = path.resolve(projectDir, source);
      if (isMap(item.value)) item.value.set("source", absolute);
      else item.value = project.createNode(absolute);
    }
  }
  const virtualenv = project.getIn(["runtime", "options", "virtualenv"]);
  if (typeof virtualenv === "string" && !path.isAbsolute(virtualenv)) {
    project.setIn(["runtime", "options", "virtualenv"], path.resolve(projectDir, virtualenv));
  }
}

/** A package source Pulumi reads as a folder for its prefix (IsLocalPluginPath in sdk/go/common/resource/plugin). */
const isLocalPath = (source: string) => ["./", "..", "/"].some((prefix) => source.startsWith(prefix));

/** The document's leading comment with `header` above it (once). */
function withHeader(comment: string | null | undefined, header: string): string {
  const own = (comment ?? "").split("\n").filter((line) => !line.startsWith(" Written by npm run local"));
  return [` ${header}`, ...own].join("\n").trimEnd();
}

function writeIfChanged(file: string, text: string): void {
  if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return;
  fs.writeFileSync(file, text);
}
