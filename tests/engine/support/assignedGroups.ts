// The groups a stack file's apis[].assignedPrincipals name, which a person would have made in the tenant before the
// stack is deployed (Pulumi.prod.yaml assigns a group of developers).
import type { LocalSession } from "./localSession";
import { committedStackConfig } from "./projects";

/** Makes a security group in the session's directory for every assigned principal of the committed `stack`. */
export async function createAssignedGroups(session: LocalSession, stack: string): Promise<void> {
  const apis = (committedStackConfig(stack).apis ?? []) as { assignedPrincipals?: string[] }[];
  for (const [index, id] of apis.flatMap((api) => api.assignedPrincipals ?? []).entries()) {
    await session.restOk("POST", "graph:/v1.0/groups", {
      id,
      displayName: `${stack} assigned group ${index + 1}`,
      mailEnabled: false,
      mailNickname: `${stack}-assigned-group-${index + 1}`,
      securityEnabled: true,
    });
  }
}
