// What `pulumi preview --json` says the engine will do, read from its steps (the CLI's PreviewDigest): each step's
// operation and the resource it acts on, named as a reviewer reads them.
import type { LocalOptions } from "../../../local/cli";
import type { LocalSession } from "./localSession";

export interface PreviewStep {
  op: string;
  urn: string;
  /** The resource's own type token, e.g. azuread:index/applicationPassword:ApplicationPassword. */
  type: string;
  name: string;
  diffReasons?: string[];
  replaceReasons?: string[];
}

/** `pulumi preview --json` of the local stack; throws with the CLI's output when the preview fails. */
export async function previewSteps(
  session: LocalSession,
  stack: string,
  options: Partial<LocalOptions> = {},
  extraArgs: string[] = [],
): Promise<PreviewStep[]> {
  const run = await session.local(["pulumi", "preview", "--json", "--stack", stack, ...extraArgs], options);
  if (run.code !== 0) throw new Error(`pulumi preview of ${stack} exited ${run.code}:\n${run.output}`);
  const digest = JSON.parse(run.out) as { steps?: Omit<PreviewStep, "type" | "name">[] };
  return (digest.steps ?? []).map((step) => ({ ...step, ...typeAndName(step.urn) }));
}

/** A URN's own type (the last of its parent-qualified types) and name. */
export function typeAndName(urn: string): { type: string; name: string } {
  const [, , qualifiedType = "", name = ""] = urn.split("::");
  return { type: qualifiedType.split("$").at(-1) ?? "", name };
}

/** The steps that change something, as `<op> <Type> <name>` (the type's last word), sorted. */
export function changes(steps: PreviewStep[]): string[] {
  return steps
    .filter((step) => step.op !== "same")
    .map((step) => `${step.op} ${step.type.split(":").at(-1)} ${step.name}`)
    .sort();
}
