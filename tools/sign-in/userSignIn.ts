import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { isLoopbackHost } from "../../entra/loopback";
import {
  aadstsCodeOf,
  type ClientProof,
  explainAadsts,
  jwtBearerAssertionType,
  TokenRequestError,
} from "./clientCredentials";

/** A signed-in user's token request: the tenant's v2.0 endpoints, the client, and the API's delegated scope. */
export interface UserSignInRequest {
  /** `<authority>/<tenant>/oauth2/v2.0`, without a trailing slash. */
  endpointBase: string;
  clientId: string;
  /** `api://<api client id>/<scope>`. */
  scope: string;
}

export interface DeviceCodeOptions {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Shows Entra's instruction ("open … and enter the code …") to the person at the keyboard. */
  onPrompt: (message: string, userCode: string) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const deviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";

/**
 * The device authorization grant (RFC 8628) as Entra implements it: ask /devicecode for a user code, show it, then
 * poll the token endpoint at Entra's interval until the user has signed in, the code expires or Entra refuses.
 */
export async function deviceCodeSignIn(request: UserSignInRequest, options: DeviceCodeOptions): Promise<string> {
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? defaultSleep;
  const start = await postForm(doFetch, `${request.endpointBase}/devicecode`, {
    client_id: request.clientId,
    scope: request.scope,
  });
  if (!start.ok) throw refusal(start.json, start.status);
  const deviceCode = stringField(start.json, "device_code");
  const userCode = stringField(start.json, "user_code");
  const message =
    typeof start.json.message === "string"
      ? start.json.message
      : `Open ${stringField(start.json, "verification_uri")} and enter the code ${userCode}.`;
  options.onPrompt(message, userCode);
  let intervalSeconds = Number(start.json.interval ?? 5);
  const expiresIn = Number(start.json.expires_in ?? 900);
  for (let waited = 0; waited <= expiresIn; waited += intervalSeconds) {
    await sleep(intervalSeconds * 1000);
    const poll = await postForm(doFetch, `${request.endpointBase}/token`, {
      grant_type: deviceCodeGrant,
      client_id: request.clientId,
      device_code: deviceCode,
    });
    if (poll.ok && typeof poll.json.access_token === "string") return poll.json.access_token;
    if (poll.json.error === "authorization_pending") continue;
    if (poll.json.error === "slow_down") {
      intervalSeconds += 5;
      continue;
    }
    throw refusal(poll.json, poll.status);
  }
  throw new TokenRequestError(`The device code expired after ${expiresIn} s before the user signed in.`);
}

export interface AuthCodeRequest extends UserSignInRequest {
  /** A registered loopback redirect URI (http://127.0.0.1/<path> or http://localhost/<path>); its port is ignored. */
  redirectUri: string;
  /** A confidential (web) client's secret or assertion; absent for public clients. */
  proof?: ClientProof;
}

export interface AuthCodeOptions {
  fetch?: typeof fetch;
  /** Sends the person to the sign-in page: the CLI prints the URL; a test follows it. */
  openUrl: (url: string) => void | Promise<void>;
  /** How long to wait for the browser to come back; default 5 minutes. */
  timeoutMs?: number;
}

/**
 * The authorization code grant with PKCE (RFC 7636, S256) and a loopback redirect (RFC 8252 §7.3): listens on an
 * ephemeral port of the redirect URI's loopback host, sends the user to /authorize, takes the code (checking
 * `state`) and redeems it with the verifier. Never enables or uses the implicit grant.
 */
export async function authCodeSignIn(request: AuthCodeRequest, options: AuthCodeOptions): Promise<string> {
  const registered = new URL(request.redirectUri);
  if (registered.protocol !== "http:" || !isLoopbackHost(registered.hostname)) {
    throw new TokenRequestError(
      `redirect URI ${request.redirectUri} is not an http loopback URI (http://127.0.0.1/<path>); the token tool can only receive the code on this machine`,
    );
  }
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const state = randomBytes(16).toString("base64url");
  const callback = await listenForCode(registered, state, options.timeoutMs ?? 300_000);
  try {
    const authorize = new URL(`${request.endpointBase}/authorize`);
    authorize.search = new URLSearchParams({
      client_id: request.clientId,
      response_type: "code",
      redirect_uri: callback.redirectUri,
      response_mode: "query",
      scope: request.scope,
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    }).toString();
    await options.openUrl(authorize.toString());
    const code = await callback.code;
    const proof: Record<string, string> =
      request.proof?.clientAssertion !== undefined
        ? { client_assertion_type: jwtBearerAssertionType, client_assertion: request.proof.clientAssertion }
        : request.proof?.clientSecret !== undefined
          ? { client_secret: request.proof.clientSecret }
          : {};
    const redeemed = await postForm(options.fetch ?? fetch, `${request.endpointBase}/token`, {
      grant_type: "authorization_code",
      client_id: request.clientId,
      code,
      redirect_uri: callback.redirectUri,
      code_verifier: verifier,
      scope: request.scope,
      ...proof,
    });
    if (redeemed.ok && typeof redeemed.json.access_token === "string") return redeemed.json.access_token;
    throw refusal(redeemed.json, redeemed.status);
  } finally {
    await callback.close();
  }
}

interface PendingCallback {
  redirectUri: string;
  code: Promise<string>;
  close(): Promise<void>;
}

async function listenForCode(registered: URL, state: string, timeoutMs: number): Promise<PendingCallback> {
  let settle: { resolve(code: string): void; reject(error: Error): void } | undefined;
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  code.catch(() => undefined);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://loopback");
    if (url.pathname !== registered.pathname) {
      res.writeHead(404).end();
      return;
    }
    const error = url.searchParams.get("error");
    const finish = (text: string) => {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(text);
    };
    if (url.searchParams.get("state") !== state) {
      finish("Sign-in failed: the response does not belong to this sign-in. Close this window.");
      settle?.reject(new TokenRequestError("the redirect's state does not match this sign-in's: refused"));
    } else if (error) {
      finish("Sign-in failed. Close this window and see the terminal.");
      const description = url.searchParams.get("error_description") ?? error;
      const match = /AADSTS(\d+)/.exec(description);
      settle?.reject(new TokenRequestError(explainAadsts(match ? Number(match[1]) : undefined, description)));
    } else {
      finish("Signed in. You can close this window.");
      settle?.resolve(url.searchParams.get("code") ?? "");
    }
  });
  const host = registered.hostname === "localhost" ? "127.0.0.1" : registered.hostname.replace(/^\[|\]$/g, "");
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const timer = setTimeout(
    () => settle?.reject(new TokenRequestError(`no sign-in came back within ${timeoutMs / 1000} s`)),
    timeoutMs,
  );
  const redirect = new URL(registered);
  redirect.port = String((server.address() as AddressInfo).port);
  return {
    redirectUri: redirect.toString(),
    code,
    close: () =>
      new Promise<void>((resolve) => {
        clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function postForm(doFetch: typeof fetch, url: string, fields: Record<string, string>) {
  let response: Response;
  try {
    response = await doFetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams(fields),
      redirect: "error",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new TokenRequestError(
      `${url} could not be reached: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let json: Record<string, unknown>;
  try {
    json = (await response.json()) as Record<string, unknown>;
  } catch {
    throw new TokenRequestError(
      `${url} did not answer with JSON (HTTP ${response.status})`,
      undefined,
      response.status,
    );
  }
  return { ok: response.ok, status: response.status, json };
}

function refusal(json: Record<string, unknown>, status: number): TokenRequestError {
  const code = aadstsCodeOf(json);
  const description = typeof json.error_description === "string" ? json.error_description : undefined;
  const label = code === undefined ? `HTTP ${status}` : `AADSTS${code}`;
  return new TokenRequestError(
    `${explainAadsts(code, description ?? (json.error as string | undefined))} (${label})`,
    code,
    status,
  );
}

function stringField(json: Record<string, unknown>, name: string): string {
  const value = json[name];
  if (typeof value !== "string" || value === "") throw new TokenRequestError(`Entra's answer has no ${name}`);
  return value;
}
