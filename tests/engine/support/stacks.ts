// A local stack made ready for a CLI command other than `npm run local -- up` (which does this itself): the APIM
// service its stack file names as existing is in the local subscription, and the stack exists in the session's
// backend.
import { projectRoot } from "../../../local/engine";
import { checkStackFile, ensureExistingService, localAuthorityHost } from "../../../local/localStack";
import { localTenantPaths } from "../../../local/server";
import { runningTenant } from "../../../local/tenantProcess";
import type { LocalSession } from "./localSession";

export async function prepareStack(session: LocalSession, stack: string, projectDir = projectRoot): Promise<void> {
  const paths = localTenantPaths(session.root);
  const running = runningTenant(paths);
  if (!running) throw new Error("the session's tenant is not running");
  const catalogue = checkStackFile(projectDir, stack, localAuthorityHost(paths, running));
  await ensureExistingService(paths, running, catalogue.apim);
  await session.localOk(["pulumi", "stack", "select", "--create", "--non-interactive", stack], { projectDir });
}
