import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { z } from "zod";

const clientOutputs = z.object({
  clientId: z.string(),
  tenantId: z.string().optional(),
  tokenEndpoint: z.string().optional(),
  credential: z.enum(["secret", "federated", "none"]),
  scopes: z.record(z.string(), z.string()),
  clientSecret: z.string().optional().nullable(),
  secretEndDate: z.string().optional().nullable(),
  /** Absent in stacks deployed before client kinds: a daemon. */
  kind: z.enum(["daemon", "web", "spa", "native", "managedIdentity"]).optional(),
  redirectUris: z.array(z.string()).optional(),
});

const apiOutputs = z.object({
  clientId: z.string(),
  identifierUri: z.string(),
  appRole: z.string(),
  appRoleId: z.string(),
  tokenVersion: z.union([z.literal(1), z.literal(2)]),
  url: z.string(),
  policy: z.string(),
  tokenRequest: z.string().optional(),
  apiCall: z.string().optional(),
});

const stackOutputs = z.object({
  authorityHost: z.string().optional(),
  tenantId: z.string().optional(),
  gatewayUrl: z.string().optional(),
  clients: z.record(z.string(), clientOutputs),
  apis: z.record(z.string(), apiOutputs),
});

export type StackClientOutputs = z.infer<typeof clientOutputs>;
export type StackApiOutputs = z.infer<typeof apiOutputs>;
export type StackOutputs = z.infer<typeof stackOutputs>;

/** The stack's outputs are missing, unreadable or do not name what was asked for: a usage or input error. */
export class StackOutputsError extends Error {
  override name = "StackOutputsError";
}

export interface StackSource {
  /** Passed to `pulumi stack output --stack`; the selected stack when absent. */
  stack?: string;
  /** A file holding `pulumi stack output --json --show-secrets`; the pulumi CLI is not run. */
  outputsFile?: string;
}

export type Exec = (file: string, args: string[]) => Promise<{ stdout: string; stderr: string }>;

const execFileAsync = promisify(execFile);
/** Runs a command without a shell, as the tools read `pulumi stack output`. */
export const defaultExec: Exec = (file, args) =>
  execFileAsync(file, args, { maxBuffer: 32 * 1024 * 1024, timeout: 120_000, encoding: "utf8" });

export const pulumiMissingMessage =
  "the pulumi CLI was not found on PATH: install it (https://www.pulumi.com/docs/install/), or pass --outputs <file> " +
  "holding `pulumi stack output --json --show-secrets`, or give the values as flags or environment variables " +
  "(--tenant/TENANT_ID, --client-id/CLIENT_ID, CLIENT_SECRET, --scope/SCOPE)";

/** Reads the stack's outputs from a file, else from `pulumi stack output` (run without a shell). */
export async function readStackOutputs(source: StackSource, exec: Exec = defaultExec): Promise<StackOutputs> {
  if (source.outputsFile !== undefined) {
    let text: string;
    try {
      text = await readFile(source.outputsFile, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      throw new StackOutputsError(`--outputs ${source.outputsFile} cannot be read (${code})`);
    }
    return parseStackOutputs(text, `--outputs ${source.outputsFile}`);
  }
  const args = ["stack", "output", "--json", "--show-secrets", ...(source.stack ? ["--stack", source.stack] : [])];
  let stdout: string;
  try {
    ({ stdout } = await exec("pulumi", args));
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === "ENOENT") throw new StackOutputsError(pulumiMissingMessage);
    const detail = (failure.stderr ?? "").trim() || failure.message;
    throw new StackOutputsError(`\`pulumi ${args.join(" ")}\` failed: ${detail}`);
  }
  return parseStackOutputs(stdout, source.stack ? `stack ${source.stack}` : "the selected stack");
}

/** Parses and checks the outputs JSON; `origin` names where it came from in error messages. */
export function parseStackOutputs(text: string | unknown, origin = "the stack outputs"): StackOutputs {
  let value: unknown = text;
  if (typeof text === "string") {
    try {
      value = JSON.parse(text);
    } catch {
      throw new StackOutputsError(`${origin} is not JSON`);
    }
  }
  const parsed = stackOutputs.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") || "(root)";
    throw new StackOutputsError(
      `${origin}: not this project's stack outputs (${where}: ${issue?.message ?? "invalid"})`,
    );
  }
  return parsed.data;
}

/** The named client, or the stack's only client. */
export function chooseClient(outputs: StackOutputs, name?: string): { name: string; client: StackClientOutputs } {
  const names = Object.keys(outputs.clients);
  if (name === undefined) {
    if (names.length !== 1) {
      throw new StackOutputsError(
        names.length === 0
          ? "the stack has no clients"
          : `the stack has ${names.length} clients (${names.join(", ")}); choose one with --client <name>`,
      );
    }
    name = names[0] as string;
  }
  const client = outputs.clients[name];
  if (!client)
    throw new StackOutputsError(`the stack has no client ${name}; its clients: ${names.join(", ") || "none"}`);
  return { name, client };
}

/**
 * The named API (any of the stack's, granted or not, so a refusal can be tested), or the client's only granted API.
 */
export function chooseApi(
  outputs: StackOutputs,
  clientName: string,
  name?: string,
): { name: string; api: StackApiOutputs } {
  if (name === undefined) {
    const granted = Object.keys(outputs.clients[clientName]?.scopes ?? {});
    if (granted.length !== 1) {
      throw new StackOutputsError(
        granted.length === 0
          ? `client ${clientName} is granted no API; name one with --api <name> (the stack's APIs: ${Object.keys(outputs.apis).join(", ") || "none"})`
          : `client ${clientName} is granted ${granted.length} APIs (${granted.join(", ")}); choose one with --api <name>`,
      );
    }
    name = granted[0] as string;
  }
  const api = outputs.apis[name];
  if (!api) {
    throw new StackOutputsError(
      `the stack has no API ${name}; its APIs: ${Object.keys(outputs.apis).join(", ") || "none"}`,
    );
  }
  return { name, api };
}
