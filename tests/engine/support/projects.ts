// Project folders an engine test deploys instead of the repository's: its own stack files beside a Pulumi.yaml whose
// main points at a program (this repository's, an old commit's, or a test-only copy with an edit), so the committed
// Pulumi.<stack>.yaml files are never written.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument, stringify } from "yaml";
import { projectRoot } from "../../../local/engine";

const made: string[] = [];

/** A new temporary folder, removed by {@link removeTemporaryProjects}. */
export function temporaryDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTemporaryProjects(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A project folder with `programDir`'s Pulumi.yaml, its main pointing back at `programDir`'s program, and these
 * stack files (name → YAML text or config object).
 */
export function projectWithStacks(stacks: Record<string, string | Record<string, unknown>>, programDir = projectRoot) {
  const dir = temporaryDir("engine-project-");
  const project = parseDocument(fs.readFileSync(path.join(programDir, "Pulumi.yaml"), "utf8"));
  const main = path.join(programDir, String(project.get("main") ?? "."));
  project.set("main", path.relative(dir, main));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), project.toString());
  for (const [stack, file] of Object.entries(stacks)) writeStackFile(dir, stack, file);
  return dir;
}

/**
 * Writes Pulumi.<stack>.yaml of a test's project: YAML text, or a config object of project keys (no prefix). Strings
 * are quoted as YAML 1.1 needs: the CLI reads an unquoted 2026-11-23 as a timestamp, not the date string it was.
 */
export function writeStackFile(projectDir: string, stack: string, file: string | Record<string, unknown>): void {
  const text =
    typeof file === "string"
      ? file
      : // Every string value quoted: Pulumi's YAML reads a plain 2026-11-23 as a timestamp, which the program refuses.
        stringify(
          {
            config: Object.fromEntries(Object.entries(file).map(([key, value]) => [`apim-entra-auth:${key}`, value])),
          },
          { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" },
        );
  fs.writeFileSync(path.join(projectDir, `Pulumi.${stack}.yaml`), text);
}

/** A committed stack file's config, without the `apim-entra-auth:` prefix: the start of a test's own edits. */
export function committedStackConfig(stack: string): Record<string, unknown> {
  const file = parseDocument(fs.readFileSync(path.join(projectRoot, `Pulumi.${stack}.yaml`), "utf8")).toJS() as {
    config: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(file.config).map(([key, value]) => [key.replace(/^apim-entra-auth:/, ""), value]),
  );
}

/** The program's own files: what Pulumi runs for the project (index.ts and what it imports) and its settings. */
const programFiles = [
  "index.ts",
  "components",
  "config",
  "entra",
  "policies",
  "Pulumi.yaml",
  "package.json",
  "tsconfig.json",
];

/**
 * A test-only copy of the program with `edits` made (file → [text to find, its replacement]; each must be found,
 * so an edit that no longer applies fails the test instead of testing the unedited program). node_modules is this
 * checkout's, linked.
 */
export function programCopy(edits: Record<string, [string, string]>): string {
  const dir = temporaryDir("engine-program-");
  for (const file of programFiles) fs.cpSync(path.join(projectRoot, file), path.join(dir, file), { recursive: true });
  fs.symlinkSync(path.join(projectRoot, "node_modules"), path.join(dir, "node_modules"));
  for (const [file, [find, replacement]] of Object.entries(edits)) {
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    if (!text.includes(find)) throw new Error(`${file} no longer holds the text the test edits: ${find}`);
    fs.writeFileSync(path.join(dir, file), text.replace(find, replacement));
  }
  return dir;
}
