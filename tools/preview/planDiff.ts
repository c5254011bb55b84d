import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { projectName } from "../../config/validate";
import { placeholderPrefix } from "./mockEngine";
import type { PlanData } from "./planReport";
import { replaceOnChanges } from "./replaceOnChanges";

/** One resource of one side: what the plan JSON holds, plus (working tree only) the URNs it was known by. */
export interface DiffResource {
  urn: string;
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Earlier URNs (aliases, own and inherited); the base side may come from an older program without them. */
  aliasUrns?: string[];
  /** Per input: the resources feeding it (working tree side), so a replaced source's new outputs show downstream. */
  inputSources?: Record<string, string[]>;
}

export type ChangeKind = "create" | "delete" | "update" | "replace";

export interface PlannedChange {
  kind: ChangeKind;
  type: string;
  name: string;
  /** update: the changed inputs; replace: the changed inputs that force it. */
  keys: string[];
  /** For a delete or replace that breaks clients: what stops working, in words. */
  breaks?: string;
}

/** What a delete or replace of these types does to callers. */
const breakage: Record<string, string> = {
  "azuread:index/applicationRegistration:ApplicationRegistration":
    "the app gets a new client id: every client's tokens stop working (new audience, new scope api://<id>/.default)",
  "azuread:index/application:Application":
    "the app gets a new client id: every client's tokens stop working (new audience, new scope api://<id>/.default)",
  "azuread:index/servicePrincipal:ServicePrincipal":
    "the admin consent (app role assignments) goes with it: every client's tokens stop working until it is granted again",
  "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri":
    "clients requesting api://<id>/.default get AADSTS500011: every client's tokens stop working",
  "azuread:index/applicationAppRole:ApplicationAppRole":
    "the role's assignments are lost and tokens lose it from `roles`: every client's tokens stop working",
  "azure-native:apimanagement:Api":
    "the gateway URL stops answering while the API is gone, and changes if its path does: every caller fails",
};

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
  const baseResources = base.filter((resource) => !isComponent(resource.type));
  const headResources = head.filter((resource) => !isComponent(resource.type));
  const baseByUrn = new Map(baseResources.map((resource) => [resource.urn, resource]));
  const pairs = headResources.map((resource) => {
    const earlier = [resource.urn, ...(resource.aliasUrns ?? [])].find((urn) => baseByUrn.has(urn));
    return { head: resource, base: earlier === undefined ? undefined : baseByUrn.get(earlier) };
  });
  const matched = new Set(pairs.flatMap(({ base: before }) => (before ? [before.urn] : [])));
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
  const renewed = () =>
    new Set(
      pairs.flatMap(({ head: after, base: before }, i) => (!before || forcingOf(i).length > 0 ? [after.urn] : [])),
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

  const changes: PlannedChange[] = pairs.flatMap(({ head: after, base: before }, i): PlannedChange[] => {
    if (!before) return [{ kind: "create", type: after.type, name: after.name, keys: [] }];
    const keys = [...(changedKeys[i] ?? [])].sort();
    if (keys.length === 0) return [];
    const forcing = forcingOf(i).sort();
    return [
      forcing.length > 0
        ? { kind: "replace", type: after.type, name: after.name, keys: forcing, ...breaks(after.type) }
        : { kind: "update", type: after.type, name: after.name, keys },
    ];
  });
  for (const before of baseResources.filter((resource) => !matched.has(resource.urn))) {
    changes.push({ kind: "delete", type: before.type, name: before.name, keys: [], ...breaks(before.type) });
  }
  return changes;
}

const breaks = (type: string) => (breakage[type] ? { breaks: breakage[type] } : {});

const symbols: Record<ChangeKind, string> = { create: "+", delete: "-", update: "~", replace: "+-" };

/** `azuread:index/servicePrincipal:ServicePrincipal` → `ServicePrincipal`. */
const kindOf = (type: string) => type.split(":").pop() ?? type;

/** One line per change in Pulumi's symbols, `!` lines under the ones that break clients; `no changes` if none. */
export function formatPlanDiff(changes: PlannedChange[]): string[] {
  if (changes.length === 0) return ["no changes"];
  const lines = changes.flatMap((change) => {
    const keys =
      change.kind === "update"
        ? ` (${change.keys.join(", ")})`
        : change.kind === "replace"
          ? ` (${change.keys.join(", ")} forces it)`
          : "";
    const line = `${symbols[change.kind]} ${change.kind} ${kindOf(change.type)} ${change.name}${keys}`;
    return change.breaks ? [line, `  ! ${change.breaks}`] : [line];
  });
  const count = (kind: ChangeKind) => changes.filter((change) => change.kind === kind).length;
  return [
    ...lines,
    `${count("create")} to create, ${count("update")} to update, ${count("replace")} to replace, ${count("delete")} to delete`,
  ];
}

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
