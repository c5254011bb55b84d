import { readFile } from "node:fs/promises";
import { decodeJwt } from "jose";
import { tokenEndpoint } from "../../entra/tokenProfile";
import { InputError } from "../cli";
import { type ClientProof, requestToken } from "../sign-in/clientCredentials";

/** Who adopt reads Graph as: a token, and the tenant and object id it was issued for. */
export interface GraphSignIn {
  accessToken: string;
  tenantId: string;
  /** The signed-in identity's object id (`oid`). */
  objectId: string;
  /** Its application (client) id. */
  clientId: string;
}

const nonEmpty = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

export const credentialVariables =
  "ARM_TENANT_ID, ARM_CLIENT_ID and ARM_CLIENT_SECRET, or a federated token in ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH or AZURE_FEDERATED_TOKEN_FILE";

/** The client secret or federated assertion in the environment, named as the azuread provider names them. */
async function proofFrom(env: Record<string, string | undefined>): Promise<ClientProof | undefined> {
  const secret = nonEmpty(env.ARM_CLIENT_SECRET);
  if (secret) return { clientSecret: secret };
  const assertion = nonEmpty(env.ARM_OIDC_TOKEN);
  if (assertion) return { clientAssertion: assertion };
  for (const variable of ["ARM_OIDC_TOKEN_FILE_PATH", "AZURE_FEDERATED_TOKEN_FILE"]) {
    const file = nonEmpty(env[variable]);
    if (!file) continue;
    const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new InputError(`${variable} ${file} cannot be read (${error.code ?? "unreadable"})`);
    });
    return { clientAssertion: text.trim() };
  }
  return undefined;
}

/**
 * A Microsoft Graph token by client credentials from the environment, as the azuread provider gets one (ARM_*), against
 * `authorityHost` for the Graph at `graphBase` (its `/.default` scope). The tenant is ARM_TENANT_ID, else the stack's;
 * a stack that names another tenant than the credentials is refused, naming both.
 */
export async function signInToGraph(options: {
  env: Record<string, string | undefined>;
  authorityHost: string;
  graphBase: string;
  stackTenantId?: string;
  fetch?: typeof fetch;
}): Promise<GraphSignIn> {
  const { env } = options;
  const tenant = nonEmpty(env.ARM_TENANT_ID) ?? options.stackTenantId;
  const clientId = nonEmpty(env.ARM_CLIENT_ID);
  const proof = await proofFrom(env);
  if (!tenant || !clientId || !proof) {
    throw new InputError(
      `adopt reads Microsoft Graph with client credentials, as the azuread provider does: set ${credentialVariables}, for the deployer or any identity with Application.Read.All.`,
    );
  }
  if (options.stackTenantId && options.stackTenantId.toLowerCase() !== tenant.toLowerCase()) {
    throw new InputError(
      `ARM_TENANT_ID is ${tenant}, but the stack's apim-entra-auth:tenantId is ${options.stackTenantId}: the registrations to adopt must be in the stack's tenant; sign in to ${options.stackTenantId}.`,
    );
  }
  const { accessToken } = await requestToken(
    {
      tokenEndpoint: tokenEndpoint(options.authorityHost, tenant),
      clientId,
      scope: `${options.graphBase.replace(/\/+$/, "")}/.default`,
      ...proof,
    },
    { fetch: options.fetch },
  );
  const claims = decodeJwt(accessToken);
  return {
    accessToken,
    tenantId: typeof claims.tid === "string" ? claims.tid : tenant,
    objectId: typeof claims.oid === "string" ? claims.oid : "",
    clientId,
  };
}
