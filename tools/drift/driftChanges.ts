// A refreshed preview read as drift: each step is what `pulumi up` would do to put the tenant back as the program
// declares it, in the plan diff's words, and the `!` line says who the edit made outside the program breaks now. The
// program is the same on both sides, so its catalogue says who is granted what.
import { isDeepStrictEqual } from "node:util";
import { projectName } from "../../config/validate";
import { type BreakageContext, grantedClients, whoBreaks, whoBreaksUpdate } from "../preview/breakage";
import type { DiffResource, PlannedChange } from "../preview/planDiff";
import { type PlanEntries, readPlanEntries } from "../preview/planEntries";
import { asDiffResource, nameOfUrn, type PreviewDigest, type PreviewStep } from "./previewDigest";

/** Steps that change nothing in the cloud: the refresh's own reads, and resources already as declared. */
const unchanged = new Set(["same", "refresh", "read", "read-discard", "discard"]);

/** The stack itself, providers and the program's components hold nothing in the tenant. */
const holdsNothing = (type: string) =>
  type === "pulumi:pulumi:Stack" || type.startsWith("pulumi:providers:") || type.startsWith(`${projectName}:`);

const types = {
  apiPolicy: "azure-native:apimanagement:ApiPolicy",
  redirectUris: "azuread:index/applicationRedirectUris:ApplicationRedirectUris",
} as const;

/** The inputs whose values differ between the tenant (as refreshed) and the program. */
function differingInputs(step: PreviewStep): string[] {
  const before = step.oldState?.inputs ?? {};
  const after = step.newState?.inputs ?? {};
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((key) => !isDeepStrictEqual(before[key], after[key]))
    .sort();
}

/**
 * Who an edit breaks that the plan diff's rules do not name, because a program never makes it: a policy the gateway
 * enforces that the program did not render, and sign-in redirect URIs the program does not list.
 */
function whoBreaksEdit(program: DiffResource, keys: string[], entries: PlanEntries): string | undefined {
  if (program.type === types.apiPolicy && keys.includes("value")) {
    const api = entries.entryOf(program.urn);
    if (api?.role !== "api") return undefined;
    const clients = entries.grants?.filter((grant) => grant.api === api.name).map((grant) => grant.client);
    return `breaks ${grantedClients(clients, api.name)}, or lets through calls the program refuses: the gateway enforces a policy for ${api.name} that the program did not render (smoke's calls without a token and with a tampered one show whether it still checks tokens)`;
  }
  if (program.type === types.redirectUris && keys.includes("redirectUris")) {
    const { client } = entries.partiesOf(program);
    if (client === undefined) return undefined;
    return `breaks client ${client}'s sign-ins: its registration answers redirect URIs the program does not list, so Entra ID sends its users' authorization codes to an added one, and refuses a removed one (AADSTS50011)`;
  }
  return undefined;
}

/**
 * What drifted, as plan-diff changes: `+ create` an object deleted outside the program, `~ update` one edited (keys:
 * the inputs whose values differ), `+- replace` one edited in a key that forces a new object, `- delete` one the state
 * holds and the program no longer declares.
 */
export function driftChanges(digest: PreviewDigest): PlannedChange[] {
  const steps = (digest.steps ?? []).filter((step) => !unchanged.has(step.op));
  const program = (digest.steps ?? [])
    .filter((step) => step.op !== "refresh" && step.newState)
    .map((step) => asDiffResource(step.newState as NonNullable<PreviewStep["newState"]>));
  const entries = readPlanEntries(program);
  const context: BreakageContext = {
    base: entries,
    stays: (entry) => entries.componentsOf(entry).length > 0,
    head: entries,
  };
  const breaks = (text: string | undefined) => (text === undefined ? {} : { breaks: text });

  return steps.flatMap((step): PlannedChange[] => {
    const state = step.newState ?? step.oldState;
    const type = state?.type ?? "";
    if (!state || holdsNothing(type)) return [];
    const name = nameOfUrn(step.urn);
    const declared = step.newState && asDiffResource(step.newState);
    const deployed = step.oldState && asDiffResource(step.oldState);
    switch (step.op) {
      case "create":
        return [
          { kind: "create", type, name, keys: [], ...breaks(declared && whoBreaks(declared, "deleted", context)) },
        ];
      case "update": {
        const keys = step.diffReasons?.length ? [...step.diffReasons].sort() : differingInputs(step);
        // The edit went from what the program declares to what the tenant holds.
        const text =
          declared && deployed
            ? (whoBreaksUpdate(declared, deployed, keys, context) ?? whoBreaksEdit(declared, keys, entries))
            : undefined;
        return [{ kind: "update", type, name, keys, ...breaks(text) }];
      }
      case "replace": {
        const keys = step.replaceReasons?.length ? [...step.replaceReasons].sort() : differingInputs(step);
        return [{ kind: "replace", type, name, keys, ...breaks(declared && whoBreaks(declared, "replaced", context)) }];
      }
      case "delete":
        return [
          { kind: "delete", type, name, keys: [], ...breaks(deployed && whoBreaks(deployed, "deleted", context)) },
        ];
      case "import":
        return [{ kind: "import", type, name, keys: [] }];
      default:
        // create-replacement, delete-replaced and the like: halves of a replace the digest already shows.
        return [];
    }
  });
}
