import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Directory } from "../../local/directory";
import { type GraphPermission, graphPermissions } from "../../local/graph";
import { requestWithCa } from "../../local/http";
import { type RunningTenant, startTenant, type TenantOptions } from "../../local/server";
import { requestClientToken } from "../../local/tokens";

/** A local tenant in this process, on an ephemeral port, with its state in a temporary folder. */
export async function startTestTenant(options: Omit<TenantOptions, "root" | "port"> & { root?: string } = {}) {
  const root = options.root ?? mkdtempSync(join(tmpdir(), "local-tenant-"));
  const tenant = await startTenant({ ...options, root, port: 0 });
  const ca = readFileSync(tenant.caFile, "utf8");
  return {
    tenant,
    root,
    ca,
    async close(keep = false) {
      await tenant.close();
      if (!keep) rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  body: Record<string, unknown> & { value?: Record<string, unknown>[] };
  headers: Record<string, string | string[] | undefined>;
}

/** A client-credentials token from the tenant for `resource`, or the refusal. */
export async function tenantToken(
  tenant: RunningTenant,
  ca: string,
  client: { clientId: string; clientSecret: string },
  resource: string,
  tenantId = tenant.admin.tenantId,
): Promise<Answer> {
  const answer = await requestClientToken({ ...client, login: tenant.endpoints.login, tenantId, resource, ca });
  return { status: answer.status, body: JSON.parse(answer.text), headers: answer.headers };
}

/** Calls the tenant's Graph as `client` (default: the administrator), the way the azuread provider does. */
export function graphClient(
  tenant: RunningTenant,
  ca: string,
  client: { clientId: string; clientSecret: string } = tenant.admin,
) {
  let token: string | undefined;
  return async (method: string, path: string, body?: unknown): Promise<Answer> => {
    if (!token) {
      const issued = await tenantToken(tenant, ca, client, tenant.endpoints.graph);
      if (issued.status !== 200)
        throw new Error(`no Graph token for ${client.clientId}: ${JSON.stringify(issued.body)}`);
      token = issued.body.access_token as string;
    }
    const answer = await requestWithCa(`${tenant.endpoints.graph}${path}`, {
      method,
      ca,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: answer.status, body: answer.text === "" ? {} : JSON.parse(answer.text), headers: answer.headers };
  };
}

/**
 * An application with a service principal, a secret and exactly these Graph permissions (app role assignments on
 * Microsoft Graph's service principal): a deployer as bootstrap/ makes one.
 */
export function graphCaller(directory: Directory, displayName: string, permissions: GraphPermission[]) {
  const application = directory.createApplication({ displayName });
  const principal = directory.createServicePrincipal({ appId: application.appId });
  const secret = directory.addPassword(application.id, {});
  const graph = directory.servicePrincipalByAppId("00000003-0000-0000-c000-000000000000");
  if (!graph) throw new Error("the tenant holds no Microsoft Graph service principal");
  for (const permission of permissions) {
    directory.createAppRoleAssignment(graph.id, {
      principalId: principal.id,
      resourceId: graph.id,
      appRoleId: graphPermissions[permission],
    });
  }
  return {
    clientId: application.appId,
    clientSecret: secret.secretText,
    objectId: principal.id,
    applicationId: application.id,
  };
}
