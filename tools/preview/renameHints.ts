import { splitUrn } from "./mockEngine";
import type { DiffResource } from "./planDiff";
import type { Entry, PlanEntries } from "./planEntries";

/** Which entries of each side the other side has: a base entry kept, a working-tree entry new. */
export interface EntryMatches {
  kept(entry: Entry): boolean;
  isNew(entry: Entry): boolean;
}

const registration = "azuread:index/applicationRegistration:ApplicationRegistration";
const apimApi = "azure-native:apimanagement:Api";

/** What two entries share when one is the other renamed: the app registration's display name, the API's path. */
function likeness(entries: PlanEntries, entry: Entry): string[] {
  const resources = entries.resourcesOf(entry);
  const displayName = resources.find((resource) => resource.type === registration)?.inputs.displayName;
  const api = resources.find((resource) => resource.type === apimApi)?.inputs;
  return [
    // A secure display name reads `[secret]` on both sides: it says nothing.
    ...(typeof displayName === "string" && !displayName.includes("[secret]") ? [`display name ${displayName}`] : []),
    ...(api ? [`path ${String(api.serviceName)}/${String(api.path)}`] : []),
  ];
}

/** The names an entry had before its current one (its components' alias names), oldest first. */
function formerNamesOf(entries: PlanEntries, entry: Entry): string[] {
  const aliases = entries.componentsOf(entry).flatMap((component: DiffResource) => component.aliases ?? []);
  return [...new Set(aliases.map((urn) => splitUrn(urn).name))].filter((name) => name !== entry.name);
}

/**
 * A base entry the working tree drops, beside a new entry of the same kind with the same display name or (an API) the
 * same APIM path, is most likely a rename without `formerNames`: everything of it would be deleted and created anew,
 * with new ids. The hint, keyed `<role>:<old name>`, names the formerNames that keep them: the old entry's own former
 * names first (an API's role ids and APIM API id come from its first name), then its name.
 */
export function renameHints(base: PlanEntries, head: PlanEntries, matches: EntryMatches): Map<string, string> {
  const hints = new Map<string, string>();
  const created = head.entries.filter((entry) => entry.role !== "grant" && matches.isNew(entry));
  for (const dropped of base.entries.filter((entry) => entry.role !== "grant" && !matches.kept(entry))) {
    const traits = likeness(base, dropped);
    const renamed = created.find(
      (entry) => entry.role === dropped.role && likeness(head, entry).some((trait) => traits.includes(trait)),
    );
    if (!renamed) continue;
    created.splice(created.indexOf(renamed), 1);
    const formerNames = [...formerNamesOf(base, dropped), dropped.name].join(", ");
    const label = dropped.role === "api" ? "API" : "client";
    hints.set(
      `${dropped.role}:${dropped.name}`,
      `looks like a rename: add \`formerNames: [${formerNames}]\` to ${label} ${renamed.name} to keep ids`,
    );
  }
  return hints;
}
