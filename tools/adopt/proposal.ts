import { InputError } from "../cli";
import { proposeApi } from "./apiProposal";
import { proposeClient } from "./clientProposal";
import { strings } from "./entries";
import type { Observation } from "./observe";

/** A stack entry as written in the stack file: only what adopt reads of it. */
export interface WrittenEntry {
  name?: unknown;
  displayName?: unknown;
  path?: unknown;
  formerNames?: unknown;
  appRole?: unknown;
  scope?: unknown;
  tokenVersion?: unknown;
  kind?: unknown;
  apis?: unknown;
  credential?: unknown;
  secrets?: unknown;
  secretRotatedOn?: unknown;
  existing?: { objectId?: unknown };
}

/** One stack entry adopt writes: into an entry of the stack (`target`) or as a new one. */
export interface EntryPlan {
  section: "apis" | "clients";
  name: string;
  /** The index of the stack entry it merges into; undefined: a new entry, appended. */
  target?: number;
  /** The keys adopt sets; the other keys of an entry it merges into stay as written. */
  values: Record<string, unknown>;
  /** What adopt found and decided, one line each; a line starting with `! ` breaks a client unless acted on. */
  report: string[];
  /** `API My-APIM-API (client id …)`, and where it goes. */
  heading: string;
}

export interface ProposalInput {
  observation: Observation;
  /** The stack's entries as written. */
  written: { apis: WrittenEntry[]; clients: WrittenEntry[] };
  /** The suffix the program appends to the names of the registrations it makes (nameSuffix, else the stack name). */
  nameSuffix: string;
  /** Display names that exist in the tenant among the program's would-be names (`My-APIM-API-dev`). */
  registeredNames: ReadonlySet<string>;
  /** --path and --backend-url, in order, for the APIs that need a new entry. */
  newApis: { path?: string; backendUrl?: string }[];
  /** The day the program's own secret for an adopted client is issued. */
  today: string;
  /** The object id adopt signed in as (the token's `oid`). */
  signedInAs: string;
}

/** Names and paths in use by a section's entries, current and former. */
function namesOf(entries: WrittenEntry[]): Set<string> {
  return new Set(
    entries.flatMap((entry) =>
      [entry.name, ...strings(entry.formerNames)].filter((name): name is string => typeof name === "string"),
    ),
  );
}

/**
 * The stack entries that adopt the observed apps, with what was found and decided for each: observed token version,
 * identifier URI, role and scope (a role beside the guide's scope gets a value of its own), redirect URIs, the grants
 * between them and the `existing` blocks. Entries of the stack with the same display name are merged into, unless the
 * program's own registration for one exists (then the stack is deployed and a new entry is made).
 */
export function propose(input: ProposalInput): EntryPlan[] {
  const apiTaken = {
    names: namesOf(input.written.apis),
    paths: new Set(
      input.written.apis.flatMap((entry) => (typeof entry.path === "string" ? [entry.path.toLowerCase()] : [])),
    ),
  };
  const fresh = { count: 0 };
  const apis = input.observation.apis.map((app) => proposeApi(app, input, apiTaken, fresh));
  const clientNames = namesOf(input.written.clients);
  const freshClients = { count: 0 };
  const clients = input.observation.clients.map((client) =>
    proposeClient(client, apis, input, clientNames, freshClients),
  );
  const newApiCount = apis.filter((api) => api.plan.target === undefined).length;
  if (input.newApis.length > newApiCount) {
    throw new InputError(
      `--backend-url or --path is given ${input.newApis.length} times, but ${newApiCount} API(s) need a new stack entry; give one per new API, in the order of --api.`,
    );
  }
  return [...apis.map((api) => api.plan), ...clients];
}
