import type { Clock } from "./clock";

/** One poll: a found thing (or undefined when not found yet) and the state it is in. */
export interface Poll<T> {
  result: T | undefined;
  state: string;
}

export interface StateChange<T> {
  pending: string[];
  target: string[];
  /** Milliseconds the whole wait may take: what is left of the operation's deadline. */
  timeout: number;
  /** The shortest wait between polls. */
  minTimeout: number;
  /** How many polls in a row must see a target state. */
  continuousTargetOccurence?: number;
  refresh(): Promise<Poll<T>>;
}

/**
 * terraform-plugin-sdk v2 helper/retry `StateChangeConf.WaitForStateContext`, which the provider's create and delete
 * waits use: the first poll at once; then 100 ms doubling up to 10 s, but never under `minTimeout`, and no doubling
 * while a target state repeats; more than 20 polls in a row that find nothing fail ("couldn't find resource"); a
 * state that is neither pending nor target fails; so does the timeout.
 */
export async function waitForState<T>(conf: StateChange<T>, clock: Clock): Promise<T | undefined> {
  const notFoundChecks = 20;
  const occurrences = conf.continuousTargetOccurence ?? 1;
  const giveUpAt = clock.now() + conf.timeout;
  let wait = 0;
  let notFound = 0;
  let targetSeen = 0;
  let lastState = "";
  for (let first = true; ; first = false) {
    if (!first) {
      if (clock.now() + wait > giveUpAt) {
        throw new Error(
          `timeout while waiting for state to become '${conf.target.join(", ")}' (last state: '${lastState}', timeout: ${conf.timeout / 1000}s)`,
        );
      }
      await clock.sleep(wait);
    } else {
      wait = 100;
    }
    const { result, state } = await conf.refresh();
    lastState = state;
    if (result === undefined) {
      notFound++;
      if (notFound > notFoundChecks) throw new Error(`couldn't find resource (${notFound} retries)`);
    } else {
      notFound = 0;
      let known = false;
      if (conf.target.includes(state)) {
        known = true;
        targetSeen++;
        if (targetSeen === occurrences) return result;
      }
      if (conf.pending.includes(state)) {
        known = true;
        targetSeen = 0;
      }
      if (!known && conf.pending.length > 0) {
        throw new Error(`unexpected state '${state}', wanted target '${conf.target.join(", ")}'`);
      }
    }
    if (targetSeen === 0) wait *= 2;
    wait = Math.min(Math.max(wait, conf.minTimeout), Math.max(conf.minTimeout, 10_000));
  }
}

/**
 * terraform-provider-azuread internal/helpers/consistency/consistency.go `WaitForDeletion`: polls every 5 s until the
 * object has been absent five times in a row.
 */
export async function waitForDeletion(exists: () => Promise<boolean>, deadline: number, clock: Clock): Promise<void> {
  await waitForState(
    {
      pending: ["Waiting"],
      target: ["Deleted"],
      timeout: deadline - clock.now(),
      minTimeout: 5_000,
      continuousTargetOccurence: 5,
      refresh: async () => ({ result: "stub", state: (await exists()) ? "Waiting" : "Deleted" }),
    },
    clock,
  );
}

/**
 * The create waits for a new password or federated credential (application_password_resource.go,
 * application_federated_identity_credential_resource.go): found five polls in a row, at least 1 s apart; not found
 * is "not yet", and more than 20 of those in a row fail.
 */
export async function waitForReplication<T>(find: () => Promise<T | undefined>, deadline: number, clock: Clock) {
  return waitForState(
    {
      pending: ["Waiting"],
      target: ["Done"],
      timeout: deadline - clock.now(),
      minTimeout: 1_000,
      continuousTargetOccurence: 5,
      refresh: async () => {
        const result = await find();
        return { result, state: result === undefined ? "Waiting" : "Done" };
      },
    },
    clock,
  );
}
