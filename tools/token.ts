import { readFile } from "node:fs/promises";
import { decodeJwt, decodeProtectedHeader } from "jose";
import {
  authorityHostOfTokenEndpoint,
  publicCloudAuthorityHost,
  tokenEndpoint,
  tokenProfile,
} from "../entra/tokenProfile";
import { type ClientProof, type RetryNotice, requestToken, type TokenRequest } from "./sign-in/clientCredentials";
import { authCodeSignIn, deviceCodeSignIn } from "./sign-in/userSignIn";
import { authorityHostFault } from "../entra/loopback";
import {
  chooseApi,
  chooseClient,
  type Exec,
  readStackOutputs,
  type StackApiOutputs,
  type StackClientOutputs,
  type StackOutputs,
  StackOutputsError,
} from "./sign-in/stackOutputs";
import { type CliIo, errorText, parseOrAnswer, reportInputError, runIfMain, UsageError } from "./cli";

export interface TokenIo extends CliIo {
  env: Record<string, string | undefined>;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  exec?: Exec;
  /** Called with the sign-in URL of --auth-code after it is printed (a test's browser). */
  openUrl?: (url: string) => void | Promise<void>;
}

export const valueHelp = `Each value comes from its flag, else its environment variable, else the stack's outputs:
  --tenant <id>             TENANT_ID       the tenant's GUID
  --client-id <id>          CLIENT_ID       the client app's client (application) id
  --client-secret <secret>  CLIENT_SECRET   prefer the environment variable: a flag shows in the process
                                            list and in shell history
  --scope <scope>           SCOPE           api://<api client id>/.default
  --authority <url>         AUTHORITY_HOST  default ${publicCloudAuthorityHost}
A client with a federated credential sends a client assertion instead of a secret: a token (JWT) from the
credential's issuer with audience api://AzureADTokenExchange, read from --client-assertion-file <path>, else
the file named by CLIENT_ASSERTION_FILE, else the file named by AZURE_FEDERATED_TOKEN_FILE (set by Azure
workload identity), else CLIENT_ASSERTION (the JWT itself). Give a secret or an assertion, not both.
The outputs come from --outputs <file> (\`pulumi stack output --json --show-secrets\`), else from the
pulumi CLI (--stack <stack>, or the selected stack); they are read only when a value is missing.
--client defaults to the stack's only client, --api to that client's only granted API.`;

export const usage = `usage: token [--stack <stack> | --outputs <file>] [--client <name>] [--api <name>] [--decode]
             [--tenant <id>] [--client-id <id>] [--scope <scope>] [--authority <url>]
             [--client-assertion-file <path>] [--device-code | --auth-code [--redirect-uri <uri>]]

Requests a client-credentials access token from Entra ID and prints it; with --decode, prints its
header and claims as JSON instead. Retries while new app registrations replicate.
A user-facing client gets a signed-in user's token instead: --device-code (native clients) shows a code
to enter at Entra's sign-in page; --auth-code (web and native clients) prints a sign-in URL and receives
the code on a loopback redirect URI (the client's http://127.0.0.1/... one, or --redirect-uri), with PKCE.
The scope is then the API's delegated scope (api://<api client id>/<scope>).
${valueHelp}
Exit status: 0 token printed, 1 token request failed, 2 usage or input error.`;

/** The flags that say where a token request's values come from; smoke.ts takes them too. */
export const tokenValueOptions = {
  stack: { type: "string" },
  outputs: { type: "string" },
  client: { type: "string" },
  api: { type: "string" },
  tenant: { type: "string" },
  "client-id": { type: "string" },
  "client-secret": { type: "string" },
  "client-assertion-file": { type: "string" },
  scope: { type: "string" },
  authority: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const options = {
  ...tokenValueOptions,
  decode: { type: "boolean" },
  "device-code": { type: "boolean" },
  "auth-code": { type: "boolean" },
  "redirect-uri": { type: "string" },
} as const;

export type TokenValues = Partial<Record<Exclude<keyof typeof tokenValueOptions, "help">, string>>;

export interface StackSelection {
  outputs: StackOutputs;
  clientName: string;
  client: StackClientOutputs;
  apiName?: string;
  api?: StackApiOutputs;
}

export interface ResolvedTokenRequest {
  request: TokenRequest;
  authorityHost: string;
  tenantId: string;
  /** Present when the stack's outputs were read. */
  stack?: StackSelection;
}

const nonEmpty = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim());

/** Where a client assertion comes from, in order of precedence. */
export const assertionSources =
  "--client-assertion-file <path>, CLIENT_ASSERTION_FILE, AZURE_FEDERATED_TOKEN_FILE or CLIENT_ASSERTION";

/**
 * The client assertion from the first source given: {@link assertionSources}. Files are read on every run, as
 * federated tokens live minutes and workload identity rewrites its file. Errors name the source, never the JWT.
 */
export async function readClientAssertion(
  values: TokenValues,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  const files: [string, string | undefined][] = [
    ["--client-assertion-file", nonEmpty(values["client-assertion-file"])],
    ["CLIENT_ASSERTION_FILE", nonEmpty(env.CLIENT_ASSERTION_FILE)],
    ["AZURE_FEDERATED_TOKEN_FILE", nonEmpty(env.AZURE_FEDERATED_TOKEN_FILE)],
  ];
  const file = files.find(([, path]) => path !== undefined);
  let assertion: string | undefined;
  let origin: string;
  if (file) {
    const [source, path] = file as [string, string];
    origin = `${source} ${path}`;
    try {
      assertion = (await readFile(path, "utf8")).trim();
    } catch (error) {
      throw new UsageError(`${origin} cannot be read (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
    }
    if (assertion === "") throw new UsageError(`${origin} is empty`);
  } else {
    assertion = nonEmpty(env.CLIENT_ASSERTION);
    origin = "CLIENT_ASSERTION";
    if (assertion === undefined) return undefined;
  }
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(assertion)) {
    throw new UsageError(`the client assertion from ${origin} is not a signed JWT (three base64url parts)`);
  }
  return assertion;
}

/** The values given as flags or environment variables, and the secret or assertion among them. */
async function givenValues(values: TokenValues, env: Record<string, string | undefined>) {
  const given = {
    tenant: nonEmpty(values.tenant) ?? nonEmpty(env.TENANT_ID),
    clientId: nonEmpty(values["client-id"]) ?? nonEmpty(env.CLIENT_ID),
    secret: nonEmpty(values["client-secret"]) ?? nonEmpty(env.CLIENT_SECRET),
    scope: nonEmpty(values.scope) ?? nonEmpty(env.SCOPE),
    authority: nonEmpty(values.authority) ?? nonEmpty(env.AUTHORITY_HOST),
  };
  if (values.stack !== undefined && values.outputs !== undefined) {
    throw new UsageError("give --stack or --outputs, not both");
  }
  const assertion = await readClientAssertion(values, env);
  if (assertion !== undefined && given.secret !== undefined) {
    throw new UsageError(`give a client secret or a client assertion (${assertionSources}), not both`);
  }
  const givenProof: ClientProof | undefined =
    assertion !== undefined
      ? { clientAssertion: assertion }
      : given.secret !== undefined
        ? { clientSecret: given.secret }
        : undefined;
  return { given, givenProof };
}

/**
 * Each value from its flag, else its environment variable, else the stack's outputs. The outputs are read only
 * when a value is missing or `needApi` asks for the API's facts (smoke).
 */
export async function resolveTokenRequest(
  values: TokenValues,
  env: Record<string, string | undefined>,
  exec?: Exec,
  { needApi = false }: { needApi?: boolean } = {},
): Promise<ResolvedTokenRequest> {
  const { given, givenProof } = await givenValues(values, env);
  if (given.tenant && given.clientId && givenProof && given.scope && !needApi) {
    const authorityHost = checkedAuthority(given.authority ?? publicCloudAuthorityHost);
    return {
      request: requestOf(authorityHost, checkedTenant(given.tenant), given.clientId, givenProof, given.scope),
      authorityHost,
      tenantId: given.tenant,
    };
  }

  const outputs = await readStackOutputs({ stack: values.stack, outputsFile: values.outputs }, exec);
  const { name: clientName, client } = chooseClient(outputs, values.client);
  const chosenApi = needApi || !given.scope ? chooseApi(outputs, clientName, values.api) : undefined;
  const tenantId = checkedTenant(given.tenant ?? client.tenantId ?? outputs.tenantId);
  const authorityHost = checkedAuthority(
    given.authority ??
      outputs.authorityHost ??
      authorityHostOfTokenEndpoint(client.tokenEndpoint, tenantId) ??
      publicCloudAuthorityHost,
  );
  const clientId = given.clientId ?? client.clientId;
  const proof = proofFor(clientName, client, clientId, givenProof);
  const scope =
    given.scope ??
    (chosenApi &&
      (client.scopes[chosenApi.name] ??
        tokenProfile({
          authorityHost,
          tenantId,
          apiClientId: chosenApi.api.clientId,
          tokenVersion: chosenApi.api.tokenVersion,
        }).scope));
  if (!scope) throw new UsageError("no scope: give --scope or SCOPE, or --api <name>");
  return {
    request: requestOf(authorityHost, tenantId, clientId, proof, scope),
    authorityHost,
    tenantId,
    stack: { outputs, clientName, client, apiName: chosenApi?.name, api: chosenApi?.api },
  };
}

function requestOf(
  authorityHost: string,
  tenantId: string,
  clientId: string,
  proof: ClientProof,
  scope: string,
): TokenRequest {
  return { tokenEndpoint: tokenEndpoint(authorityHost, tenantId), clientId, scope, ...proof };
}

/** The secret or assertion given, else the stack client's secret; a federated stack client needs an assertion. */
function proofFor(
  clientName: string,
  client: StackClientOutputs,
  clientId: string,
  given: ClientProof | undefined,
): ClientProof {
  if (clientId === client.clientId && client.kind === "managedIdentity") {
    throw new UsageError(managedIdentityWithoutToken(clientName));
  }
  if (clientId === client.clientId && client.credential === "federated" && given?.clientAssertion === undefined) {
    throw new UsageError(
      `client ${clientName} has a federated credential, so it signs in with a client assertion (a token from the credential's issuer), not a secret: give one with ${assertionSources}`,
    );
  }
  return given ?? { clientSecret: stackSecret(clientName, client, clientId) };
}

/** A managed identity's token comes from its Azure host's endpoint, never from a secret or assertion given here. */
export const managedIdentityWithoutToken = (clientName: string) =>
  `client ${clientName} is a managed identity: Azure holds its credential, so only code running on its Azure host gets its token (from the host's identity endpoint, e.g. with the stack's clients.${clientName}.examples); get it there and judge it with npm run explain`;

function stackSecret(clientName: string, client: StackClientOutputs, clientId: string): string {
  if (clientId !== client.clientId) {
    throw new UsageError(
      `the client id ${clientId} is not stack client ${clientName}'s (${client.clientId}), so its secret cannot come from the stack: give CLIENT_SECRET or a client assertion`,
    );
  }
  if (client.credential !== "secret") {
    throw new UsageError(
      `client ${clientName} has no credential in the stack: give CLIENT_SECRET or a client assertion (${assertionSources})`,
    );
  }
  if (!client.clientSecret || client.clientSecret === "[secret]") {
    throw new UsageError(
      `the outputs hide client ${clientName}'s secret: read them with --show-secrets, or give CLIENT_SECRET`,
    );
  }
  return client.clientSecret;
}

/** The secret or assertion is sent there, so only https, or http to a loopback stand-in. */
function checkedAuthority(value: string): string {
  switch (authorityHostFault(value)) {
    case "not-a-url":
      throw new UsageError(`authority ${value} is not a URL (e.g. ${publicCloudAuthorityHost})`);
    case "not-https":
      throw new UsageError(`authority ${value} must be https:// (http:// only on a loopback host)`);
    case "not-host-alone":
      throw new UsageError(`authority ${value} must be the host alone, e.g. ${publicCloudAuthorityHost}`);
  }
  return new URL(value).origin;
}

function checkedTenant(value: string | undefined): string {
  if (value === undefined) throw new UsageError("no tenant: give --tenant or TENANT_ID");
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(value)) throw new UsageError(`tenant ${value} is not a tenant id`);
  return value;
}

/** How a retry is reported on stderr. */
export function retryLine(notice: RetryNotice): string {
  return `attempt ${notice.attempt} of ${notice.maxAttempts} in ${notice.delayMs / 1000} s: AADSTS${notice.code} ${notice.sentence}`;
}

/** Reports a usage or input error and returns exit status 2; anything else is rethrown. */
export function usageFailure(error: unknown, io: Pick<CliIo, "err">, text: string): number {
  if (!(error instanceof UsageError || error instanceof StackOutputsError)) throw error;
  return reportInputError(io, error, text);
}

type SignIn = { flow: "device-code" | "auth-code"; clientName?: string } & UserSignInValues;

interface UserSignInValues {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  scope: string;
  redirectUri?: string;
  proof?: ClientProof;
}

/**
 * A user's sign-in: each value from its flag or environment variable, else the stack's outputs, whose client must
 * be user-facing (`kind`) and whose scope for the API is then the delegated one.
 */
export async function resolveUserSignIn(
  values: TokenValues & { "redirect-uri"?: string },
  flow: SignIn["flow"],
  env: Record<string, string | undefined>,
  exec?: Exec,
): Promise<SignIn> {
  const { given: common, givenProof } = await givenValues(values, env);
  const given = { ...common, redirectUri: nonEmpty(values["redirect-uri"]) };
  const complete = given.tenant && given.clientId && given.scope && (flow === "device-code" || given.redirectUri);
  if (complete) {
    return {
      flow,
      authorityHost: checkedAuthority(given.authority ?? publicCloudAuthorityHost),
      tenantId: checkedTenant(given.tenant),
      clientId: given.clientId as string,
      scope: given.scope as string,
      ...(given.redirectUri ? { redirectUri: given.redirectUri } : {}),
      ...(givenProof ? { proof: givenProof } : {}),
    };
  }
  const outputs = await readStackOutputs({ stack: values.stack, outputsFile: values.outputs }, exec);
  const { name: clientName, client } = chooseClient(outputs, values.client);
  const kind = client.kind ?? "daemon";
  const allowed = flow === "device-code" ? ["native"] : ["web", "native"];
  if (!allowed.includes(kind)) {
    throw new UsageError(
      kind === "daemon"
        ? `client ${clientName} is a daemon: it gets application tokens without a user; drop --${flow}`
        : kind === "spa"
          ? `client ${clientName} is a single-page app: Entra redeems its codes only from a browser (cross-origin), so sign in from the app itself, or use a native client`
          : `client ${clientName} is a ${kind} client: --device-code is for native (public) clients; use --auth-code`,
    );
  }
  const api = chooseApi(outputs, clientName, values.api);
  const scope = given.scope ?? client.scopes[api.name];
  if (!scope) throw new UsageError(`client ${clientName} is not granted API ${api.name}: give --scope or grant it`);
  const redirectUri =
    given.redirectUri ??
    (client.redirectUris ?? []).find((uri) => /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(uri));
  if (flow === "auth-code" && !redirectUri) {
    throw new UsageError(
      `client ${clientName} has no http loopback redirect URI (e.g. http://127.0.0.1/callback) to receive the code on this machine: add one to its redirectUris, or give --redirect-uri`,
    );
  }
  const proof =
    kind === "web" ? proofFor(clientName, client, given.clientId ?? client.clientId, givenProof) : givenProof;
  const tenantId = checkedTenant(given.tenant ?? client.tenantId ?? outputs.tenantId);
  return {
    flow,
    clientName,
    authorityHost: checkedAuthority(
      given.authority ??
        outputs.authorityHost ??
        authorityHostOfTokenEndpoint(client.tokenEndpoint, tenantId) ??
        publicCloudAuthorityHost,
    ),
    tenantId,
    clientId: given.clientId ?? client.clientId,
    scope,
    ...(redirectUri ? { redirectUri } : {}),
    ...(proof ? { proof } : {}),
  };
}

async function signInUser(signIn: SignIn, io: TokenIo): Promise<string> {
  const request = {
    endpointBase: tokenEndpoint(signIn.authorityHost, signIn.tenantId).replace(/\/token$/, ""),
    clientId: signIn.clientId,
    scope: signIn.scope,
  };
  if (signIn.flow === "device-code") {
    return deviceCodeSignIn(request, {
      fetch: io.fetch,
      sleep: io.sleep,
      onPrompt: (message) => io.err(message),
    });
  }
  return authCodeSignIn(
    { ...request, redirectUri: signIn.redirectUri as string, ...(signIn.proof ? { proof: signIn.proof } : {}) },
    {
      fetch: io.fetch,
      openUrl: async (url) => {
        io.err(`Open this URL in a browser on this machine and sign in:\n${url}`);
        await io.openUrl?.(url);
      },
    },
  );
}

/** The token CLI without process globals: returns the exit status. */
export async function runToken(argv: string[], io: TokenIo): Promise<number> {
  const values = parseOrAnswer(argv, options, io, usage);
  if (typeof values === "number") return values;
  let resolved: ResolvedTokenRequest | SignIn;
  try {
    if (values["device-code"] && values["auth-code"])
      throw new UsageError("give --device-code or --auth-code, not both");
    const flow = values["device-code"] ? "device-code" : values["auth-code"] ? "auth-code" : undefined;
    resolved = flow
      ? await resolveUserSignIn(values as TokenValues, flow, io.env, io.exec)
      : await resolveTokenRequest(values as TokenValues, io.env, io.exec);
  } catch (error) {
    return usageFailure(error, io, usage);
  }

  let accessToken: string;
  try {
    if ("flow" in resolved) {
      accessToken = await signInUser(resolved, io);
    } else {
      ({ accessToken } = await requestToken(resolved.request, {
        fetch: io.fetch,
        sleep: io.sleep,
        onRetry: (notice) => io.err(retryLine(notice)),
      }));
    }
  } catch (error) {
    io.err(`error: ${errorText(error)}`);
    return 1;
  }

  if (!values.decode) {
    io.out(accessToken);
    return 0;
  }
  try {
    io.out(JSON.stringify({ header: decodeProtectedHeader(accessToken), claims: decodeJwt(accessToken) }, null, 2));
  } catch {
    io.err("error: the token endpoint returned an access token that is not a JWT");
    return 1;
  }
  return 0;
}

runIfMain(module, (argv, io) => runToken(argv, { ...io, env: process.env }), 2);
