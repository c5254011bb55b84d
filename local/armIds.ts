/** What a request path under `/subscriptions/` addresses. */
export interface ArmTarget {
  subscriptionId: string;
  resourceGroup?: string;
  /** The canonical type of the resource, or of a collection's items, e.g. `Microsoft.ApiManagement/service/apis`. */
  type: string;
  /** The resource's name; absent for a collection. */
  name?: string;
  /** The canonical id of the resource, or of the collection (its parent's id and the collection segment). */
  id: string;
  /** The resource or scope it lives under: the resource group, the parent resource, or an extension's scope. */
  parentId: string;
  /** A POST action after the resource, e.g. `listSecrets`. */
  action?: string;
}

/** ARM's fixed path words, in the casing its ids use (request paths may use any casing). */
const canonicalWords = new Map(
  [
    "subscriptions",
    "resourceGroups",
    "providers",
    "Microsoft.ApiManagement",
    "Microsoft.Authorization",
    "service",
    "apis",
    "operations",
    "policies",
    "authorizationServers",
    "roleAssignments",
    "roleDefinitions",
    "Microsoft.ManagedIdentity",
    "userAssignedIdentities",
  ].map((word) => [word.toLowerCase(), word]),
);

const canonical = (word: string) => canonicalWords.get(word.toLowerCase()) ?? word;

/**
 * Reads an ARM path: `/subscriptions/{s}[/resourceGroups/{rg}][/providers/{ns}/{type}/{name}…]` with an optional
 * extension resource (`…/providers/Microsoft.Authorization/{type}/{name}`) on any of those scopes, a trailing
 * collection segment (list) or a trailing action. Undefined when the path is not of that shape.
 */
export function parseArmPath(pathname: string): ArmTarget | undefined {
  let segments: string[];
  try {
    segments = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (segments[0]?.toLowerCase() !== "subscriptions" || !segments[1]) return undefined;
  const subscriptionId = segments[1];
  let id = `/subscriptions/${subscriptionId}`;
  let index = 2;
  let resourceGroup: string | undefined;
  let type = "Microsoft.Resources/subscriptions";
  let parentId = id;
  if (segments[index]?.toLowerCase() === "resourcegroups") {
    resourceGroup = segments[index + 1];
    if (resourceGroup === undefined) {
      return { subscriptionId, type: "Microsoft.Resources/resourceGroups", id: `${id}/resourceGroups`, parentId: id };
    }
    parentId = id;
    id = `${id}/resourceGroups/${resourceGroup}`;
    type = "Microsoft.Resources/resourceGroups";
    index += 2;
  }
  let namespace: string | undefined;
  let typePath: string[] = [];
  // The resource (or scope) the next type/name pair belongs to: the last resource read, or the scope before the
  // first pair of a provider block (an extension resource's scope is the resource it is attached to).
  let owner = id;
  while (index < segments.length) {
    const word = segments[index] as string;
    if (word.toLowerCase() === "providers" && segments[index + 1] && segments[index + 2]) {
      namespace = canonical(segments[index + 1] as string);
      typePath = [];
      owner = id;
      id = `${id}/providers/${namespace}`;
      index += 2;
      continue;
    }
    if (!namespace) return undefined;
    const itemType = canonical(word);
    const name = segments[index + 1];
    const itemTypeName = `${namespace}/${[...typePath, itemType].join("/")}`;
    if (name === undefined) {
      // A trailing word after a named resource is a collection of a known child type, or else an action.
      if (typePath.length > 0 && !canonicalWords.has(word.toLowerCase())) {
        return { subscriptionId, resourceGroup, type, name: lastName(id), id, parentId, action: word };
      }
      return { subscriptionId, resourceGroup, type: itemTypeName, id: `${id}/${itemType}`, parentId: owner };
    }
    parentId = owner;
    id = `${id}/${itemType}/${name}`;
    owner = id;
    typePath.push(itemType);
    type = itemTypeName;
    index += 2;
  }
  return {
    subscriptionId,
    resourceGroup,
    type,
    ...(type === "Microsoft.Resources/subscriptions" ? {} : { name: lastName(id) }),
    id,
    parentId,
  };
}

function lastName(id: string): string {
  return id.slice(id.lastIndexOf("/") + 1);
}

/** The id of the resource group an id lies in, if any. */
export function resourceGroupIdOf(target: ArmTarget): string | undefined {
  return target.resourceGroup === undefined
    ? undefined
    : `/subscriptions/${target.subscriptionId}/resourceGroups/${target.resourceGroup}`;
}

/** True when `scope` is `id` itself or one of its ancestors (whole segments, case-insensitive). */
export function isWithinScope(id: string, scope: string): boolean {
  const a = id.toLowerCase().replace(/\/+$/, "");
  const s = scope.toLowerCase().replace(/\/+$/, "");
  return a === s || a.startsWith(`${s}/`);
}
