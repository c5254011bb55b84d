// What `pulumi preview --refresh --json --show-sames` prints: the engine's PreviewDigest (pulumi/pulumi
// pkg/display/json.go), one step per resource with the state before (oldState: as the refresh read it from the cloud)
// and after (newState: as the program declares it). Only the fields drift reads are checked.
import { z } from "zod";
import type { DiffResource } from "../preview/planDiff";

const resourceState = z.object({
  urn: z.string(),
  type: z.string(),
  parent: z.string().optional(),
  inputs: z.record(z.string(), z.unknown()).optional(),
  /** Per input, the resources whose outputs feed it: what says which client and API a grant joins. */
  propertyDependencies: z.record(z.string(), z.array(z.string())).optional(),
});

const previewStep = z.object({
  /** same, create, update, delete, replace, refresh, read, import, … (pkg/resource/deploy/step.go StepOp). */
  op: z.string(),
  urn: z.string(),
  oldState: resourceState.optional(),
  newState: resourceState.optional(),
  /** Set by providers that report a detailed diff; the local providers and older ones leave them out. */
  diffReasons: z.array(z.string()).optional(),
  replaceReasons: z.array(z.string()).optional(),
});

const previewDigest = z.object({
  steps: z.array(previewStep).optional(),
  diagnostics: z
    .array(z.object({ urn: z.string().optional(), message: z.string().optional(), severity: z.string().optional() }))
    .optional(),
  changeSummary: z.record(z.string(), z.number()).optional(),
});

export type PreviewStep = z.infer<typeof previewStep>;
export type PreviewDigest = z.infer<typeof previewDigest>;

/** The digest, or undefined when `text` is not one (a preview that failed before printing it). */
export function readPreviewDigest(text: string): PreviewDigest | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = previewDigest.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** `…::orders-policy` → `orders-policy`: the resource's name, the URN's last part. */
export const nameOfUrn = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** A state as the plan diff's resources are: its inputs, its parent, and which resources feed which input. */
export function asDiffResource(state: z.infer<typeof resourceState>): DiffResource {
  return {
    urn: state.urn,
    type: state.type,
    name: nameOfUrn(state.urn),
    inputs: state.inputs ?? {},
    ...(state.parent ? { parent: state.parent } : {}),
    ...(state.propertyDependencies ? { inputSources: state.propertyDependencies } : {}),
  };
}
