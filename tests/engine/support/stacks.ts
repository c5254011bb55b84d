// A local stack made ready for a CLI command other than `npm run local -- up` (which does this itself): the APIM
// service its stack file names as existing is in the local subscription, and the stack exists in the session's
// backend.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Catalogue } from "../../../config/validate";
import { projectRoot } from "../../../local/engine";
import { checkStackFile, ensureExistingService, localAuthorityHost } from "../../../local/localStack";
import { localTenantPaths } from "../../../local/server";
import { runningTenant } from "../../../local/tenantProcess";
import type { LocalSession } from "./localSession";
import { temporaryDir } from "./projects";

export async function prepareStack(session: LocalSession, stack: string, projectDir = projectRoot): Promise<void> {
  const paths = localTenantPaths(session.root);
  const catalogue = checkStackFile(projectDir, stack, localAuthorityHost(paths, runningTenant(paths)));
  await ensureService(session, catalogue.apim);
  await session.localOk(["pulumi", "stack", "select", "--create", "--non-interactive", stack], { projectDir });
}

/** The APIM service a program names as existing, made in the session's subscription if it is not there. */
export async function ensureService(session: LocalSession, apim: Catalogue["apim"]): Promise<void> {
  const paths = localTenantPaths(session.root);
  const running = runningTenant(paths);
  if (!running) throw new Error("the session's tenant is not running");
  await ensureExistingService(paths, running, apim);
}

/** examples/yaml copied into a temporary project whose `packages:` entry names this checkout. */
export function yamlExampleProject(): string {
  const dir = temporaryDir("engine-yaml-");
  fs.cpSync(path.join(projectRoot, "examples", "yaml"), dir, { recursive: true });
  const projectFile = path.join(dir, "Pulumi.yaml");
  const project = fs.readFileSync(projectFile, "utf8");
  if (!project.includes("apim-entra-auth: ../..")) throw new Error("examples/yaml/Pulumi.yaml names no ../..");
  fs.writeFileSync(projectFile, project.replace("apim-entra-auth: ../..", `apim-entra-auth: ${projectRoot}`));
  return dir;
}
