import { guardReport, runGuard } from "../../guard/rules";
import { type MockEvaluation, type MockedResource, splitUrn } from "./mockEngine";
import { secretPlaceholder } from "./stackFiles";

/** The plan as data: what `--json` writes and the Markdown report is made from. Secrets are redacted. */
export interface PlanData {
  stack: string;
  resources: {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    /** Every URN the resource was known by before (own and inherited aliases); empty unless renamed. */
    aliases: string[];
    inputs: Record<string, unknown>;
    /** Per input: the URNs of the resources whose outputs feed it; absent when none do. */
    inputSources?: Record<string, string[]>;
    /** Present (true) only for protected resources. */
    protect?: true;
    /** The provider id of the existing object the resource imports (the `import` option); absent when it creates. */
    import?: string;
    /** Present (true) only for resources whose deletion leaves the object in the tenant (`retainOnDelete`). */
    retainOnDelete?: true;
  }[];
  outputs: Record<string, unknown>;
  policies: Record<string, string>;
}

/** Replaces the values at the given dotted paths (`a.b[0].c`). */
function replaceAt(value: unknown, paths: string[], replacement: string, at = ""): unknown {
  if (at !== "" && paths.includes(at)) return replacement;
  if (Array.isArray(value)) return value.map((item, index) => replaceAt(item, paths, replacement, `${at}[${index}]`));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replaceAt(item, paths, replacement, at ? `${at}.${key}` : key)]),
    );
  }
  return value;
}

/** Replaces the secret values at the given dotted paths by `[secret]`. */
export const redact = (value: unknown, paths: string[]): unknown => replaceAt(value, paths, secretPlaceholder);

export function planData(evaluation: MockEvaluation): PlanData {
  const outputs = redact(evaluation.outputs, evaluation.secretOutputPaths) as Record<string, unknown>;
  const apis = (evaluation.outputs.apis ?? {}) as Record<string, { policy?: string }>;
  return {
    stack: evaluation.stack,
    resources: evaluation.resources.map((resource) => ({
      urn: resource.urn,
      type: resource.type,
      name: resource.name,
      ...(resource.parent ? { parent: resource.parent } : {}),
      aliases: resource.aliasUrns,
      inputs: redact(resource.inputs, resource.secretInputs) as Record<string, unknown>,
      ...(Object.keys(resource.inputSources).length > 0 ? { inputSources: resource.inputSources } : {}),
      ...(resource.protect ? { protect: true as const } : {}),
      ...(resource.import ? { import: resource.import } : {}),
      ...(resource.retainOnDelete ? { retainOnDelete: true as const } : {}),
    })),
    outputs,
    policies: Object.fromEntries(Object.entries(apis).map(([name, api]) => [name, api.policy ?? ""])),
  };
}

/** `azuread:index/applicationRegistration:ApplicationRegistration` → `ApplicationRegistration (azuread)`. */
function shortType(type: string): string {
  const [pkg] = type.split(":");
  const kind = type.split(":").pop() ?? type;
  return pkg === "apim-entra-auth" ? `${kind} (component)` : `${kind} (${pkg})`;
}

/**
 * Names the output that feeds an input: the source's provider-assigned property (else id, else input) whose
 * value the input holds — exactly if possible, else within it (e.g. `api://<clientId>`).
 */
function sourceLabel(source: MockedResource | undefined, input: unknown): string {
  if (!source) return "?";
  const text = typeof input === "string" ? input : JSON.stringify(input);
  const properties: [string, unknown][] = [
    ...Object.entries(source.state).filter(([key]) => !(key in source.inputs)),
    ["id", source.id],
    ...Object.entries(source.state).filter(([key]) => key in source.inputs),
  ];
  const candidates = properties.filter(([, value]) => typeof value === "string" && value.length >= 6);
  const exact = candidates.find(([, value]) => value === input);
  const within = candidates
    .filter(([, value]) => text.includes(value as string))
    .sort(([, a], [, b]) => String(b).length - String(a).length)[0];
  const match = exact ?? within;
  return match ? `${source.name}.${match[0]}` : source.name;
}

function showValue(key: string, value: unknown): string {
  if (typeof value === "string") {
    if (key === "value" && value.trimStart().startsWith("<policies")) return "(the API policy: see Policies)";
    if (value.includes("\n") || value.length > 160) return `(${value.length} characters)`;
    return value;
  }
  return JSON.stringify(value);
}

/** One-line explanations of inputs whose value looks wrong to a reviewer, by resource type and input. */
const inputNotes: Record<string, Record<string, string>> = {
  "azure-native:apimanagement:AuthorizationServer": {
    clientRegistrationEndpoint:
      // The REST API marks the field required and describes it as a link to a client registration page.
      "a placeholder: APIM requires a link to a client registration page, which nothing calls; this program registers the clients in Entra",
  },
};

/**
 * The names a resource had before a rename of its catalogue entry (`formerNames`). A component (an entry, a grant)
 * names its own former names; an Azure resource is named after its component (`orders-app`), so its former names are
 * its component's put in front of the rest of its name, as far as it has aliases for them. Other aliases of an Azure
 * resource (the first password's `<client>-secret`, kept for stacks deployed before two-slot rotation) are no rename:
 * only a diff against a base that had that name shows the move.
 */
function formerNames(resource: MockedResource, byUrn: Map<string, MockedResource>): string[] {
  const aliasNames = new Set(resource.aliasUrns.map((urn) => splitUrn(urn).name));
  aliasNames.delete(resource.name);
  if (!resource.custom) return [...aliasNames];
  const parent = resource.parent === undefined ? undefined : byUrn.get(resource.parent);
  if (!parent || !resource.name.startsWith(parent.name)) return [];
  const rest = resource.name.slice(parent.name.length);
  return formerNames(parent, byUrn)
    .map((name) => `${name}${rest}`)
    .filter((name) => aliasNames.has(name));
}

function resourceLines(resource: MockedResource, data: PlanData, byUrn: Map<string, MockedResource>): string[] {
  const redacted = data.resources.find((r) => r.urn === resource.urn)?.inputs ?? {};
  const former = formerNames(resource, byUrn);
  const flags = [
    ...(resource.protect ? ["protected"] : []),
    ...(resource.import ? [`imports \`${resource.import}\``] : []),
    ...(resource.retainOnDelete ? ["kept in the tenant when deleted"] : []),
    ...(former.length > 0 ? [`formerly ${former.map((name) => `\`${name}\``).join(", ")}`] : []),
  ]
    .map((flag) => ` — ${flag}`)
    .join("");
  const lines = [`- **${shortType(resource.type)}** \`${resource.name}\`${flags}`];
  for (const key of Object.keys(redacted).sort()) {
    const value = redacted[key];
    if (value === undefined) continue;
    const sources = (resource.inputSources[key] ?? []).map((urn) => sourceLabel(byUrn.get(urn), resource.inputs[key]));
    const fed = sources.length > 0 ? ` ← ${sources.join(", ")}` : "";
    const note = inputNotes[resource.type]?.[key];
    lines.push(`  - ${key}: \`${showValue(key, value)}\`${fed}${note ? ` (${note})` : ""}`);
  }
  return lines;
}

/** The human-readable plan: resource tree with inputs and data flow, policies, outputs and counts. */
export function renderPlanMarkdown(evaluation: MockEvaluation): string {
  const data = planData(evaluation);
  const byUrn = new Map(evaluation.resources.map((resource) => [resource.urn, resource]));
  const children = (parent?: string) => evaluation.resources.filter((resource) => resource.parent === parent);
  const tree = (parent: string | undefined, depth: number): string[] =>
    children(parent).flatMap((resource) => [
      ...resourceLines(resource, data, byUrn).map((line) => `${"  ".repeat(depth)}${line}`),
      ...tree(resource.urn, depth + 1),
    ]);

  const counts = new Map<string, number>();
  for (const resource of evaluation.resources) counts.set(resource.type, (counts.get(resource.type) ?? 0) + 1);
  const custom = evaluation.resources.filter((resource) => resource.custom).length;

  const outputsForReading = replaceAt(
    data.outputs,
    Object.keys(data.policies).map((name) => `apis.${name}.policy`),
    "(see Policies)",
  );

  return [
    `# Plan of stack \`${data.stack}\``,
    "",
    "> Evaluated offline under Pulumi's mock engine: nothing was deployed and no Azure API was called.",
    "> Values starting with `mock-` stand for what Azure assigns at deploy time (client and object ids, and the",
    "> tenant when `tenantId` is unset). `[secret]` marks secret values, which are never shown. `a ← b.c` means",
    "> input `a` is fed by output `c` of resource `b`, so `b` is created first.",
    ...(evaluation.resources.some((resource) => resource.import)
      ? [
          "> `imports <id>` marks an object made by hand that the resource takes over (Pulumi's `import`) instead of",
          "> creating one; `kept in the tenant when deleted` marks one that `pulumi destroy` leaves where it is.",
        ]
      : []),
    "",
    `## Resources (${custom} Azure resources in ${evaluation.resources.length - custom} components)`,
    "",
    ...tree(undefined, 0),
    "",
    "## Count by type",
    "",
    "| type | count |",
    "| --- | --- |",
    ...[...counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, count]) => `| \`${type}\` | ${count} |`),
    "",
    "## Policies",
    "",
    ...Object.entries(data.policies).flatMap(([name, xml]) => [`### ${name}`, "", "```xml", xml.trimEnd(), "```", ""]),
    "## Outputs",
    "",
    "```json",
    JSON.stringify(outputsForReading, null, 2),
    "```",
    "",
    "## Guard",
    "",
    "`npm run guard` over this plan (see guard/): every mandatory rule must pass before a merge.",
    "",
    "```",
    ...guardReport(runGuard(data.resources)),
    "```",
    "",
  ].join("\n");
}
