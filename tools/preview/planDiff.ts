import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { projectName } from "../../config/validate";
import { placeholderPrefix } from "./mockEngine";
import type { PlanData } from "./planReport";
import { type BreakageContext, whoBreaks, whoBreaksUpdate } from "./breakage";
import { readPlanEntries } from "./planEntries";
import { replaceOnChanges } from "./replaceOnChanges";
import { renameHints } from "./renameHints";

/** One resource of one side, as the plan JSON holds it (`npm run plan -- --json`); older programs wrote less. */
export interface DiffResource {
  urn: string;
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** The component it belongs to; what says whose (which client's, which API's) a resource is. */
  parent?: string;
  /** Earlier URNs (aliases, own and inherited): the working tree's side is matched to the base through them. */
  aliases?: string[];
  /** Per input: the resources feeding it, so a replaced source's new outputs show downstream. */
  inputSources?: Record<string, string[]>;
  /** The existing object it takes over (the `import` option): imported unless the other side already did. */
  import?: string;
  /** Deleting it leaves the object where it is (`retainOnDelete`, as adopted objects have by default). */
  retainOnDelete?: true;
  /**
   * On the base side: an object that exists but is not in the stack yet (as `npm run adopt` reads it), so importing it
   * replaces nothing; a base resource without this is in the stack, and importing another object in its place
   * replaces it.
   */
  observed?: true;
}

export type ChangeKind = "create" | "delete" | "update" | "replace" | "rename" | "import";

export interface PlannedChange {
  kind: ChangeKind;
  type: string;
  name: string;
  /** update: the changed inputs; replace: the changed inputs that force it. */
  keys: string[];
  /** Matched through an alias: the name the base had (rename, and an update or replace of a renamed resource). */
  formerName?: string;
  /** For a delete or replace that breaks callers: who, and how (tools/preview/breakage.ts). */
  breaks?: string;
  /** On the first delete of an entry that a new entry looks like the rename of: how to keep its ids. */
  hint?: string;
  /** The import id of an object taken over; an update or replace with one happens right after the import. */
  importId?: string;
  /** The import takes the place of the resource the stack has, which Pulumi then deletes (an import-replacement). */
  importReplaces?: true;
  /** A delete of a resource with `retainOnDelete`: it leaves the stack, the object stays in the tenant. */
  retained?: true;
}

const isComponent = (type: string) => type.startsWith(`${projectName}:`);

/**
 * The mock engine names placeholders after resources (`mock-<name>-client-id`); a renamed resource kept by an alias
 * keeps its real ids, so its new placeholders are read as the old ones before comparing.
 */
function renamePlaceholders(value: unknown, renames: [string, string][]): unknown {
  if (typeof value === "string") {
    return renames.reduce(
      (text, [from, to]) => text.split(`${placeholderPrefix}${from}-`).join(`${placeholderPrefix}${to}-`),
      value,
    );
  }
  if (Array.isArray(value)) return value.map((item) => renamePlaceholders(item, renames));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renamePlaceholders(v, renames)]));
  }
  return value;
}

/** Matches the two sides by URN, honouring the working tree's aliases, and lists what would change. */
export function diffPlans(base: DiffResource[], head: DiffResource[]): PlannedChange[] {
  const baseByUrn = new Map(base.map((resource) => [resource.urn, resource]));
  const allPairs = head.map((resource) => {
    const earlier = [resource.urn, ...(resource.aliases ?? [])].find((urn) => baseByUrn.has(urn));
    return { head: resource, base: earlier === undefined ? undefined : baseByUrn.get(earlier) };
  });
  const matched = new Set(allPairs.flatMap(({ base: before }) => (before ? [before.urn] : [])));
  const matchedHead = new Set(allPairs.flatMap(({ head: after, base: before }) => (before ? [after.urn] : [])));
  const pairs = allPairs.filter(({ head: after }) => !isComponent(after.type));
  const renames = pairs
    .flatMap(({ head: after, base: before }): [string, string][] =>
      before && before.name !== after.name ? [[after.name, before.name]] : [],
    )
    .sort(([a], [b]) => b.length - a.length);

  // Keys whose values differ, then (until nothing more changes) keys fed by a created or replaced resource: their
  // new outputs (a new secret, a new object id) reach these inputs although the mock's placeholders look the same.
  const changedKeys = pairs.map(({ head: after, base: before }) => {
    if (!before) return [];
    const inputs = renamePlaceholders(after.inputs, renames) as Record<string, unknown>;
    return [...new Set([...Object.keys(before.inputs), ...Object.keys(inputs)])].filter(
      (key) => !isDeepStrictEqual(before.inputs[key], inputs[key]),
    );
  });
  const forcingOf = (i: number) =>
    (changedKeys[i] ?? []).filter((key) => (replaceOnChanges[pairs[i]?.head.type ?? ""] ?? []).includes(key));
  // An imported object is no new object, unless it takes the place of the one the stack has.
  const importReplaces = (after: DiffResource, before: DiffResource | undefined) =>
    before !== undefined && !before.observed && after.import !== undefined && after.import !== before.import;
  const renewed = () =>
    new Set(
      pairs.flatMap(({ head: after, base: before }, i) =>
        (!before && !after.import) || importReplaces(after, before) || forcingOf(i).length > 0 ? [after.urn] : [],
      ),
    );
  for (let grew = true; grew;) {
    const fresh = renewed();
    grew = false;
    pairs.forEach(({ head: after, base: before }, i) => {
      if (!before) return;
      for (const [key, sources] of Object.entries(after.inputSources ?? {})) {
        if (sources.some((urn) => fresh.has(urn)) && !changedKeys[i]?.includes(key)) {
          changedKeys[i]?.push(key);
          grew = true;
        }
      }
    });
  }

  const baseEntries = readPlanEntries(base);
  const context: BreakageContext = {
    base: baseEntries,
    stays: (entry) => baseEntries.componentsOf(entry).some((component) => matched.has(component.urn)),
  };
  const breaks = (resource: DiffResource, verb: "deleted" | "replaced") => {
    const text = whoBreaks(resource, verb, context);
    return text === undefined ? {} : { breaks: text };
  };
  const headEntries = readPlanEntries(head);
  const updateBreaks = (before: DiffResource, after: DiffResource, keys: string[]) => {
    const text = whoBreaksUpdate(before, after, keys, { ...context, head: headEntries });
    return text === undefined ? {} : { breaks: text };
  };
  const changes: PlannedChange[] = pairs.flatMap(({ head: after, base: before }, i): PlannedChange[] => {
    // Pulumi imports when the object is not yet in the stack under this import id, then updates what differs.
    const imported = after.import !== undefined && after.import !== before?.import ? { importId: after.import } : {};
    if (!before) {
      return [
        {
          kind: "importId" in imported ? "import" : "create",
          type: after.type,
          name: after.name,
          keys: [],
          ...imported,
        },
      ];
    }
    const moved = before.name === after.name ? {} : { formerName: before.name };
    if (importReplaces(after, before)) {
      return [
        {
          kind: "replace",
          type: after.type,
          name: after.name,
          keys: [],
          ...moved,
          ...imported,
          importReplaces: true,
          ...breaks(before, "replaced"),
        },
      ];
    }
    const keys = [...(changedKeys[i] ?? [])].sort();
    if (keys.length === 0) {
      if ("importId" in imported) return [{ kind: "import", type: after.type, name: after.name, keys, ...imported }];
      return "formerName" in moved ? [{ kind: "rename", type: after.type, name: after.name, keys, ...moved }] : [];
    }
    const forcing = forcingOf(i).sort();
    return [
      forcing.length > 0
        ? {
            kind: "replace",
            type: after.type,
            name: after.name,
            keys: forcing,
            ...moved,
            ...imported,
            ...breaks(before, "replaced"),
          }
        : {
            kind: "update",
            type: after.type,
            name: after.name,
            keys,
            ...moved,
            ...imported,
            ...updateBreaks(before, after, keys),
          },
    ];
  });
  const hints = renameHints(baseEntries, headEntries, {
    kept: context.stays,
    isNew: (entry) => headEntries.componentsOf(entry).every((component) => !matchedHead.has(component.urn)),
  });
  // Each hint once, on the first delete of the entry it is about.
  const hintOn = (resource: DiffResource) => {
    const entry = baseEntries.entryOf(resource.urn);
    const key = entry && `${entry.role}:${entry.name}`;
    const hint = key === undefined ? undefined : hints.get(key);
    if (key !== undefined) hints.delete(key);
    return hint === undefined ? {} : { hint };
  };
  for (const before of base.filter((resource) => !isComponent(resource.type) && !matched.has(resource.urn))) {
    changes.push({
      kind: "delete",
      type: before.type,
      name: before.name,
      keys: [],
      // Pulumi only forgets a resource with retainOnDelete: the object, made by hand, stays and breaks nobody.
      ...(before.retainOnDelete ? { retained: true as const } : breaks(before, "deleted")),
      ...hintOn(before),
    });
  }
  return changes;
}

const symbols: Record<ChangeKind, string> = {
  create: "+",
  delete: "-",
  update: "~",
  replace: "+-",
  rename: "=",
  import: "=",
};

/** `azuread:index/servicePrincipal:ServicePrincipal` → `ServicePrincipal`. */
const kindOf = (type: string) => type.split(":").pop() ?? type;

/**
 * One line per change in Pulumi's symbols (`=` a resource kept under a new name, or an existing object imported, then
 * updated or replaced where the program differs), `!` lines under the ones that break callers and `?` lines under a
 * delete that looks like half of a rename; `no changes` if none.
 */
export function formatPlanDiff(changes: PlannedChange[]): string[] {
  if (changes.length === 0) return ["no changes"];
  const lines = changes.flatMap((change) => {
    const keys =
      change.kind === "update"
        ? ` (${change.keys.join(", ")})`
        : change.kind === "replace"
          ? ` (${change.keys.join(", ")} forces it)`
          : "";
    const formerly = change.formerName ? `, formerly ${change.formerName}` : "";
    const what = `${kindOf(change.type)} ${change.name}`;
    const line =
      change.kind === "rename"
        ? `= rename ${kindOf(change.type)} ${change.formerName} → ${change.name}`
        : change.importReplaces
          ? `+- replace ${what} by importing ${change.importId}${formerly}: the stack's own object is deleted`
          : change.importId === undefined
            ? `${symbols[change.kind]} ${change.kind} ${what}${keys}${formerly}${change.retained ? " (it stays in the tenant: retainOnDelete)" : ""}`
            : `= import ${what} (${change.importId})${formerly}${change.kind === "import" ? "" : `, then ${symbols[change.kind]} ${change.kind}${keys}`}`;
    return [line, ...(change.breaks ? [`  ! ${change.breaks}`] : []), ...(change.hint ? [`  ? ${change.hint}`] : [])];
  });
  const count = (kind: ChangeKind) => changes.filter((change) => change.kind === kind).length;
  const renamed = count("rename") > 0 ? `, ${count("rename")} renamed` : "";
  const imports = changes.filter((change) => change.importId !== undefined).length;
  const imported = imports > 0 ? `, ${imports} to import` : "";
  return [
    ...lines,
    `${count("create")} to create, ${count("update")} to update, ${count("replace")} to replace, ${count("delete")} to delete${imported}${renamed}`,
  ];
}

/** Whether any change breaks callers (a `!` line): what `--fail-on-breaking` exits 1 on. */
export const breaksCallers = (changes: PlannedChange[]) => changes.some((change) => change.breaks !== undefined);

/**
 * The plan of a stack as the program at a git ref would make it: checks the ref out into a temporary worktree that
 * reuses this checkout's node_modules, runs that ref's own `plan --json`, and removes the worktree. A stack without
 * a stack file at that ref has no resources there.
 */
export function planAtRef(projectDir: string, ref: string, stack: string): PlanData["resources"] {
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: projectDir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const commit = git("rev-parse", "--verify", "--quiet", `${ref}^{commit}`).trim();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "plan-base-"));
  const tree = path.join(scratch, "tree");
  git("worktree", "add", "--detach", tree, commit);
  try {
    const stackFile = ["yaml", "yml"].some((ext) => fs.existsSync(path.join(tree, `Pulumi.${stack}.${ext}`)));
    if (!stackFile) return [];
    fs.symlinkSync(fs.realpathSync(path.join(projectDir, "node_modules")), path.join(tree, "node_modules"), "dir");
    const json = path.join(scratch, "plan.json");
    const tsx = path.join(projectDir, "node_modules", ".bin", "tsx");
    try {
      execFileSync(tsx, ["tools/plan.ts", "--stack", stack, "--json", json], { cwd: tree, stdio: "pipe" });
    } catch (error) {
      // A base whose plan fails its own guard still writes the JSON; anything else is reported.
      if (!fs.existsSync(json)) {
        const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
        throw new Error(`the program at ${ref} could not be planned for stack ${stack}: ${stderr}`, { cause: error });
      }
    }
    return (JSON.parse(fs.readFileSync(json, "utf8")) as PlanData).resources;
  } finally {
    git("worktree", "remove", "--force", tree);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
