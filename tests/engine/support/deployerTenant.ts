// What an administrator has in the tenant before the deployer's first run: the APIM services (made in the portal,
// here through ARM as ensureExistingService makes them), a group of people, and Microsoft Graph's service principal.
import { ensureExistingService } from "../../../local/localStack";
import { localTenantPaths } from "../../../local/server";
import { runningTenant } from "../../../local/tenantProcess";
import type { LocalSession } from "./localSession";

/** Each APIM service there as a Developer tier service in the local subscription. */
export async function ensureServices(
  session: LocalSession,
  services: { resourceGroupName: string; serviceName: string }[],
): Promise<void> {
  const paths = localTenantPaths(session.root);
  const running = runningTenant(paths);
  if (!running) throw new Error("the tenant is not running");
  for (const service of services) {
    await ensureExistingService(paths, running, service);
  }
}

/** The object id of Microsoft Graph's service principal in the tenant: the resource of every Graph app role. */
export async function graphServicePrincipalId(session: LocalSession): Promise<string> {
  const graph = await session.restOk(
    "GET",
    "graph:/v1.0/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')",
  );
  return graph.id as string;
}
