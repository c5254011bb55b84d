// `npm run local -- adopt …`: the same tools/adopt.ts a person runs against their tenant, signed in to the local
// tenant's Graph as the deployer (the administrator unless a test names one), with the tenant's CA trusted. Like the
// real command it reads only; --write merges the entries into the project's own Pulumi.<stack>.yaml, the file the
// next `npm run local -- up` deploys.
import { readFileSync } from "node:fs";
import { runAdopt } from "../tools/adopt";
import { administrator } from "./adminClient";
import { fetchWithCa } from "./http";
import type { LocalStackOptions } from "./localStack";
import { notRunning, runningTenant } from "./tenantProcess";

export async function localAdopt(args: string[], options: LocalStackOptions): Promise<number> {
  const running = runningTenant(options.paths);
  if (!running) {
    options.io.err(notRunning);
    return 1;
  }
  const admin = administrator(options.paths);
  const reader = options.deployer ?? admin;
  return runAdopt(args, {
    ...options.io,
    // Only the tenant's: a real tenant's ARM_* credentials in the caller's environment never reach it.
    env: {
      ARM_TENANT_ID: admin.tenantId,
      ARM_CLIENT_ID: reader.clientId,
      ARM_CLIENT_SECRET: reader.clientSecret,
      GRAPH_URL: running.endpoints.graph,
      AUTHORITY_HOST: running.endpoints.login,
    },
    fetch: fetchWithCa(readFileSync(running.caFile, "utf8")),
    projectDir: options.projectDir,
  });
}
