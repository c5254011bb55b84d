// The critical path of a deployed stack: the chain of resources, each waiting for the one before it, that takes longest
// when every resource costs its weight (one request's latency, or the time its create took). Read from the state
// (`pulumi stack export`): each resource's `dependencies` are what the engine waited for before creating it.

/** A resource as `pulumi stack export` writes it (the fields this reads). */
export interface StateResource {
  urn: string;
  type: string;
  custom?: boolean;
  parent?: string;
  dependencies?: string[];
}

export interface CriticalPath {
  /** The sum of the weights along the heaviest chain. */
  cost: number;
  /** Its resources, first to last (custom resources only: components cost nothing and wait for nothing). */
  chain: string[];
}

/** Provider resources (`pulumi:providers:*`) and components stand in no chain: the engine makes no request for them. */
const deploysSomething = (resource: StateResource) =>
  resource.custom === true && !resource.type.startsWith("pulumi:providers:");

/**
 * The heaviest chain of dependencies among the resources that deploy something, each costing `weight(resource)`. A
 * dependency on a component stands for every resource below it (the Node.js SDK waits for a component's children).
 */
export function criticalPath(resources: StateResource[], weight: (resource: StateResource) => number): CriticalPath {
  const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
  const children = new Map<string, StateResource[]>();
  for (const resource of resources) {
    if (resource.parent) children.set(resource.parent, [...(children.get(resource.parent) ?? []), resource]);
  }
  const deployedBelow = (urn: string): StateResource[] =>
    (children.get(urn) ?? []).flatMap((child) => [
      ...(deploysSomething(child) ? [child] : []),
      ...deployedBelow(child.urn),
    ]);
  const waitsFor = (resource: StateResource): StateResource[] =>
    (resource.dependencies ?? []).flatMap((urn) => {
      const dependency = byUrn.get(urn);
      if (!dependency) throw new Error(`${resource.urn} depends on ${urn}, which the state does not hold`);
      return deploysSomething(dependency) ? [dependency] : deployedBelow(urn);
    });

  const longest = new Map<string, CriticalPath>();
  const visiting = new Set<string>();
  const pathTo = (resource: StateResource): CriticalPath => {
    const known = longest.get(resource.urn);
    if (known) return known;
    if (visiting.has(resource.urn)) throw new Error(`the dependencies of ${resource.urn} form a cycle`);
    visiting.add(resource.urn);
    let before: CriticalPath = { cost: 0, chain: [] };
    for (const dependency of waitsFor(resource)) {
      const candidate = pathTo(dependency);
      if (candidate.cost > before.cost) before = candidate;
    }
    visiting.delete(resource.urn);
    const path = { cost: before.cost + weight(resource), chain: [...before.chain, resource.urn] };
    longest.set(resource.urn, path);
    return path;
  };

  let heaviest: CriticalPath = { cost: 0, chain: [] };
  for (const resource of resources.filter(deploysSomething)) {
    const path = pathTo(resource);
    if (path.cost > heaviest.cost || (path.cost === heaviest.cost && path.chain.length > heaviest.chain.length)) {
      heaviest = path;
    }
  }
  return heaviest;
}
