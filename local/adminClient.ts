// Calls to the running tenant's Microsoft Graph or ARM as its administrator (.local/tenant/admin.json): what `rest`
// does for a person, and what `up` does to put the stack's existing APIM service there.
import { readFileSync } from "node:fs";
import { type ClientResponse, requestWithCa } from "./http";
import type { AdminCredentials, PidFile } from "./server";
import type { TenantPaths } from "./tenantProcess";
import { requestClientToken } from "./tokens";

export type AdminService = "graph" | "arm";

/** The administrator's credentials the tenant wrote on its first start. */
export function administrator(paths: TenantPaths): AdminCredentials {
  return JSON.parse(readFileSync(paths.admin, "utf8")) as AdminCredentials;
}

/** One call as the administrator: a client-credentials token for the service, then the request. */
export async function callAsAdministrator(
  paths: TenantPaths,
  running: PidFile,
  request: { method: string; service: AdminService; path: string; body?: string },
): Promise<ClientResponse> {
  const ca = readFileSync(running.caFile, "utf8");
  const service = request.service === "graph" ? running.endpoints.graph : running.endpoints.arm;
  const token = await requestClientToken({
    login: running.endpoints.login,
    ...administrator(paths),
    resource: service,
    ca,
  });
  const { access_token: accessToken } = JSON.parse(token.text) as { access_token?: string };
  if (!accessToken) throw new Error(`the tenant refused the administrator a token: ${token.text}`);
  return requestWithCa(`${service}${request.path}`, {
    method: request.method,
    ca,
    headers: {
      authorization: `Bearer ${accessToken}`,
      ...(request.body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: request.body,
  });
}
