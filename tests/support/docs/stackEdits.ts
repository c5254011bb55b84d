import { type Document, isMap, isSeq, parse, parseDocument } from "yaml";
import { projectName } from "../../../config/validate";

type ListKind = "apis" | "clients";
type Entry = Record<string, unknown> & { name?: string; formerNames?: string[] };

/**
 * Where a doc's edit goes in a stack file, as its info string names it (`edit=<target>`):
 * - `config`: keys under `config:` (`apim-entra-auth:apis: …`); list entries are matched as below,
 * - `apis[]`, `clients[]`: entries of that list; one with the name, or a former name, of an entry edits that
 *   entry, any other is added,
 * - `apis[<name>]`, `clients[<name>]`: the entry of that name, whatever name the fragment gives it (a rename
 *   without `formerNames`).
 */
const targetPattern = /^(?:config|(apis|clients)\[([^\]]*)\])$/;

export function isEditTarget(target: string): boolean {
  return targetPattern.test(target);
}

const listPath = (kind: ListKind) => ["config", `${projectName}:${kind}`];

function entriesOf(document: Document, kind: ListKind): Entry[] {
  const list = document.getIn(listPath(kind));
  return isSeq(list) ? (list.toJSON() as Entry[]) : [];
}

/** Renames the references to an entry, as the docs tell the user to: grants, a portal's client, allow-lists. */
function renameReferences(document: Document, kind: ListKind, from: string, to: string): void {
  const renameIn = (path: (string | number)[]) => {
    const names = document.getIn(path);
    if (!isSeq(names)) return;
    names.items.forEach((_, index) => {
      if (document.getIn([...path, index]) === from) document.setIn([...path, index], to);
    });
  };
  if (kind === "apis") {
    entriesOf(document, "clients").forEach((_, index) => renameIn([...listPath("clients"), index, "apis"]));
    return;
  }
  entriesOf(document, "apis").forEach((api, index) => {
    const server = [...listPath("apis"), index, "authorizationServer", "client"];
    if (document.getIn(server) === from) document.setIn(server, to);
    renameIn([...listPath("apis"), index, "allowedClients"]);
  });
}

/** Sets the fragment's keys on an entry; the other keys stay, as the docs' `# … as before` says. */
function overlayEntry(document: Document, kind: ListKind, index: number, fragment: Entry): void {
  const path = [...listPath(kind), index];
  const before = document.getIn([...path, "name"]) as string;
  // A `secrets` list replaces the one-secret shorthand (the same secret: config/validate.ts secretsOf).
  if ("secrets" in fragment)
    for (const key of ["secretRotatedOn", "secretLifetimeDays"]) document.deleteIn([...path, key]);
  for (const [key, value] of Object.entries(fragment)) document.setIn([...path, key], document.createNode(value));
  if (fragment.name !== undefined && fragment.name !== before) renameReferences(document, kind, before, fragment.name);
}

function editEntries(document: Document, kind: ListKind, fragments: Entry[]): void {
  for (const fragment of fragments) {
    const entries = entriesOf(document, kind);
    const index = [
      entries.findIndex((entry) => entry.name === fragment.name),
      entries.findIndex((entry) => entry.name !== undefined && fragment.formerNames?.includes(entry.name)),
    ].find((found) => found >= 0);
    if (index !== undefined) overlayEntry(document, kind, index, fragment);
    else if (isSeq(document.getIn(listPath(kind)))) document.addIn(listPath(kind), document.createNode(fragment));
    else document.setIn(listPath(kind), document.createNode([fragment]));
  }
}

const asEntries = (fragment: unknown, where: string): Entry[] => {
  const list = Array.isArray(fragment) ? fragment : [fragment];
  if (list.some((entry) => !entry || typeof entry !== "object" || Array.isArray(entry))) {
    throw new Error(`${where}: expected list entries (mappings)`);
  }
  return list as Entry[];
};

/**
 * The stack file after the edit a doc shows, made as a user would make it: only the edited keys change, and the
 * rest keeps its comments, quoting and flow or block style (the yaml library re-indents what it writes back).
 */
export function applyEdit(stackYaml: string, target: string, fragmentYaml: string): string {
  const match = targetPattern.exec(target);
  if (!match)
    throw new Error(`edit=${target}: not a target; use config, apis[], clients[], apis[<name>], clients[<name>]`);
  const document = parseDocument(stackYaml);
  const fragment: unknown = parse(fragmentYaml);
  const kind = match[1] as ListKind | undefined;
  const name = match[2];
  if (kind === undefined) {
    if (!fragment || typeof fragment !== "object" || Array.isArray(fragment)) {
      throw new Error(`edit=config: expected keys under config:`);
    }
    for (const [key, value] of Object.entries(fragment)) {
      const listKind = (["apis", "clients"] as const).find((list) => key === `${projectName}:${list}`);
      if (listKind) editEntries(document, listKind, asEntries(value, `edit=config ${key}`));
      else if (isMap(document.getIn(["config", key])) && value && typeof value === "object") {
        for (const [inner, innerValue] of Object.entries(value)) {
          document.setIn(["config", key, inner], document.createNode(innerValue));
        }
      } else document.setIn(["config", key], document.createNode(value));
    }
  } else if (name === "") editEntries(document, kind, asEntries(fragment, `edit=${target}`));
  else {
    const [entry, ...more] = asEntries(fragment, `edit=${target}`);
    if (!entry || more.length > 0) throw new Error(`edit=${target}: expected one entry`);
    const index = entriesOf(document, kind).findIndex((found) => found.name === name);
    if (index < 0) throw new Error(`edit=${target}: the stack has no ${kind} entry named "${name}"`);
    overlayEntry(document, kind, index, entry);
  }
  return document.toString();
}
