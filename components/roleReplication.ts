import * as pulumi from "@pulumi/pulumi";

// An app role assignment posted while the API's service principal does not show its role yet — a role added in the
// same run, still replicating — fails with Graph's 400 "Permission being assigned was not found on application". The
// azuread provider does not retry it (it retries only 404 and "Not a valid reference update":
// terraform-provider-azuread app_role_assignment_resource.go; PR #1896), and no ordering helps when users are added
// to a deployed API: the service principal exists, and Entra publishes no replication bound. So the program asks the
// engine to retry the create (a Pulumi error hook), on that answer only: Graph refused the POST, so a retry cannot
// duplicate an assignment that landed.

/** Graph's answer to an assignment of a role the API's service principal does not (yet) show. */
export const roleNotFoundMessage = "Permission being assigned was not found on application";

/** The wait before each retry: about two minutes in all, then the error stands (a role that never comes). */
export const roleReplicationWaitsMs: readonly number[] = [2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The error hook's decision: after a wait, retry a create Graph refused for a role it does not show yet. */
export async function retryWhileRoleReplicates(
  failure: Pick<pulumi.ErrorHookArgs, "failedOperation" | "errors">,
  wait: (ms: number) => Promise<void> = sleep,
): Promise<boolean> {
  if (failure.failedOperation !== "create" || !failure.errors[0]?.includes(roleNotFoundMessage)) return false;
  const delay = roleReplicationWaitsMs[failure.errors.length - 1];
  if (delay === undefined) return false;
  await wait(delay);
  return true;
}

let hook: pulumi.ErrorHook | undefined;

/**
 * Options for an app role assignment: the engine retries its create while the role replicates. Only where the
 * resource monitor registers error hooks: the mock monitor of the unit tests does not (nothing is created there).
 */
export function retriedWhileRoleReplicates(): pulumi.CustomResourceOptions {
  const monitor = pulumi.runtime.getMonitor() as { registerErrorHook?: unknown } | undefined;
  if (typeof monitor?.registerErrorHook !== "function") return {};
  hook ??= new pulumi.ErrorHook("retry-while-the-role-replicates", (failure) => retryWhileRoleReplicates(failure));
  return { hooks: { onError: [hook] } };
}
