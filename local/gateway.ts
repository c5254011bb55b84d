import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { XMLValidator } from "fast-xml-parser";
import { descendants, parseOrderedXml, tagOf, type XmlNode } from "../policies/orderedXml";
import { type ClientLimitsSpec, readClientLimits } from "../policies/readClientLimits";
import { readTokenChallenge, type TokenChallengeSpec } from "../policies/readTokenChallenge";
import { readTokenCheck, type TokenCheckSpec } from "../policies/readTokenCheck";
import { challengeFor } from "../tools/gateway/challenge";
import { evaluateToken } from "../tools/gateway/evaluateToken";
import { loadDocument } from "../tools/gateway/keys";
import { CallCounters } from "../tools/gateway/limits";
import { armTypes } from "./armResources";
import type { ArmStore } from "./armStore";
import { BodyTooLarge, type BoundedServer, listenBounded, readBody, sendJson } from "./http";

export interface GatewayOperation {
  method: string;
  /** APIM's URL template: `/orders/{id}`, `/*` for any path. */
  urlTemplate: string;
}

export interface GatewayApi {
  /** The path the API is published under, e.g. `orders` for `/orders/...` (a service's gateway may prefix it). */
  path: string;
  /** The API's policy exactly as deployed; undefined when none is, and APIM then forwards every request. */
  policyXml?: string;
  backendUrl: string;
  /** APIM answers 404 to a request that matches none of the API's operations; undefined matches any request. */
  operations?: readonly GatewayOperation[];
  /** APIM's default is true: a request without a valid subscription key gets 401 before any policy runs. */
  subscriptionRequired?: boolean;
}

export interface GatewayOptions {
  /** The APIs, read for every request so that a deployment takes effect at once. */
  apis: () => readonly GatewayApi[];
  /** Default: the wall clock. */
  now?: () => Date;
  /** Authority for validate-azure-ad-token policies; defaults to Entra's public cloud. */
  authorityHost?: string;
  /** Fetches openid-config and JWKS documents; default https (Node trusts a private CA via NODE_EXTRA_CA_CERTS). */
  fetchDocument?: (url: string) => Promise<unknown>;
  /** The path the gateway is served under; default the root. */
  mount?: string;
}

const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);

const notFound = { statusCode: 404, message: "Resource not found" };

// APIM's answers to a request without, or with an unknown, subscription key.
const missingKey =
  "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.";
const invalidKey =
  "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.";

/** Where the local tenant serves the gateway: each service's APIs under `<tenant>/gateway/<serviceName>/`. */
export const gatewayMount = "/gateway";

/** A service's gateway URL on the local tenant: what ARM answers as its gatewayUrl and the gateway serves. */
export const localGatewayUrl = (tenantUrl: string, serviceName: string) =>
  `${tenantUrl.replace(/\/+$/, "")}${gatewayMount}/${serviceName}`;

type PolicyReading =
  | { spec: TokenCheckSpec; challenge: TokenChallengeSpec; limits?: ClientLimitsSpec }
  | { none: true }
  | { problem: string };

/**
 * The token check of a policy. A well-formed policy without any token check lets every request through, as APIM
 * does; one the reader cannot evaluate is a problem, answered with 500 rather than guessed at.
 */
function readPolicy(policyXml: string | undefined): PolicyReading {
  if (policyXml === undefined) return { none: true };
  try {
    const limits = readClientLimits(policyXml);
    return { spec: readTokenCheck(policyXml), challenge: readTokenChallenge(policyXml), ...(limits ? { limits } : {}) };
  } catch (error) {
    if (XMLValidator.validate(policyXml) !== true) return { problem: (error as Error).message };
    const root = parseOrderedXml(policyXml) as XmlNode[];
    const hasCheck = root.some((node) =>
      [node, ...descendants(node)].some((element) =>
        ["validate-jwt", "validate-azure-ad-token"].includes(tagOf(element)),
      ),
    );
    return hasCheck ? { problem: (error as Error).message } : { none: true };
  }
}

/** Whether a request path (after the API's path) matches an APIM URL template. */
function templateMatches(urlTemplate: string, path: string): boolean {
  const template = (urlTemplate.split("?")[0] ?? "").replace(/\/+$/, "");
  const expression = template
    .split("/")
    .map((segment) =>
      segment === "*"
        ? ".*"
        : segment.replace(/\{[^}]+\}|[.+?^$()|[\]\\]/g, (part) => (part.startsWith("{") ? "[^/]+" : `\\${part}`)),
    )
    .join("/");
  return new RegExp(`^${expression}/?$`).test(path === "" ? "/" : path);
}

/**
 * The gateway's request handling: the API whose path is the longest prefix of the request's, then one of its
 * operations, then the token check of its policy (APIM's order), then the backend. A request outside every API, or
 * matching none of its operations, gets APIM's 404; a rejected token gets the policy's status and message, with the
 * WWW-Authenticate header its <on-error> sets; a call beyond its client limits gets 429 or 403 with Retry-After.
 */
export function gatewayHandler(
  options: GatewayOptions,
): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  const mount = (options.mount ?? "").replace(/\/+$/, "");
  const readings = new Map<string, PolicyReading>();
  const counters = new CallCounters(() => options.now?.() ?? new Date());
  const documents = new Map<string, Promise<unknown>>();
  const fetchDocument = (url: string): Promise<unknown> => {
    let pending = documents.get(url);
    if (!pending) {
      pending = (options.fetchDocument ?? loadDocument)(url);
      pending.catch(() => documents.delete(url));
      documents.set(url, pending);
    }
    return pending;
  };
  const policyOf = (api: GatewayApi): PolicyReading => {
    const cacheKey = api.policyXml ?? "";
    let reading = readings.get(cacheKey);
    if (!reading) {
      reading = readPolicy(api.policyXml);
      readings.set(cacheKey, reading);
    }
    return reading;
  };

  return async (request, response) => {
    const url = new URL(request.url ?? "/", "http://gateway");
    if (mount && url.pathname !== mount && !url.pathname.startsWith(`${mount}/`)) return false;
    const pathname = url.pathname.slice(mount.length) || "/";
    const api = options
      .apis()
      .map((candidate) => ({ ...candidate, prefix: `/${candidate.path.replace(/^\/+|\/+$/g, "")}`.replace(/\/$/, "") }))
      .filter((candidate) => pathname === candidate.prefix || pathname.startsWith(`${candidate.prefix}/`))
      .sort((a, b) => b.prefix.length - a.prefix.length)[0];
    if (!api) {
      sendJson(response, 404, notFound);
      return true;
    }
    const rest = pathname.slice(api.prefix.length);
    const method = (request.method ?? "GET").toUpperCase();
    if (
      api.operations &&
      !api.operations.some((op) => op.method.toUpperCase() === method && templateMatches(op.urlTemplate, rest))
    ) {
      sendJson(response, 404, notFound);
      return true;
    }
    if (api.subscriptionRequired) {
      // The local tenant holds no APIM subscriptions, so no key is valid.
      const key = request.headers["ocp-apim-subscription-key"] ?? url.searchParams.get("subscription-key");
      sendJson(response, 401, { statusCode: 401, message: key ? invalidKey : missingKey });
      return true;
    }
    const policy = policyOf(api);
    if ("problem" in policy) {
      sendJson(response, 500, {
        statusCode: 500,
        message: `The local gateway cannot enforce this API's policy: ${policy.problem}`,
      });
      return true;
    }
    if ("spec" in policy) {
      const { spec } = policy;
      const verdict = await evaluateToken({
        spec,
        ...tokenInput(spec, request, url),
        now: options.now?.() ?? new Date(),
        keys: {},
        fetchDocument,
        ...(options.authorityHost ? { authorityHost: options.authorityHost } : {}),
      });
      if (!verdict.accepted) {
        const status = spec.failedValidationHttpCode;
        const message =
          spec.failedValidationErrorMessage ??
          (verdict.check === "header" ? "JWT not present." : "JWT validation failed.");
        const challenge = challengeFor(policy.challenge, verdict.check);
        sendJson(response, status, { statusCode: status, message }, challenge ? { "www-authenticate": challenge } : {});
        return true;
      }
      const limited = policy.limits && counters.admit(api.prefix, policy.limits, verdict.claims);
      if (limited && !limited.admitted) {
        const { status, message, retryAfterSeconds } = limited;
        sendJson(response, status, { statusCode: status, message }, { "retry-after": String(retryAfterSeconds) });
        return true;
      }
    }
    await relay(request, response, `${api.backendUrl.replace(/\/+$/, "")}${rest}${url.search}`);
    return true;
  };
}

function tokenInput(spec: TokenCheckSpec, request: IncomingMessage, url: URL) {
  const source = spec.tokenSource;
  if (source.kind === "query") return { token: url.searchParams.get(source.name) ?? "" };
  if (source.kind === "value") throw new Error("token-value expressions are not evaluated by the local gateway");
  const value = request.headers[source.name.toLowerCase()];
  const header = Array.isArray(value) ? value[0] : value;
  return header === undefined ? {} : { authorizationHeader: header };
}

async function relay(request: IncomingMessage, response: ServerResponse, target: string): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(request);
  } catch (error) {
    if (error instanceof BodyTooLarge)
      return sendJson(response, 413, { statusCode: 413, message: "Request entity too large" });
    throw error;
  }
  const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !hopByHop.has(name)));
  const send = target.startsWith("https:") ? httpsRequest : httpRequest;
  await new Promise<void>((resolve, reject) => {
    const outgoing = send(
      target,
      { method: request.method, headers: { ...headers, "content-length": body.length }, agent: false, timeout: 10_000 },
      (upstream) => {
        const relayed = Object.fromEntries(Object.entries(upstream.headers).filter(([name]) => !hopByHop.has(name)));
        response.writeHead(upstream.statusCode ?? 502, relayed);
        upstream.pipe(response);
        upstream.on("end", resolve);
        upstream.on("error", (error) => {
          response.destroy();
          reject(error);
        });
      },
    );
    outgoing.on("timeout", () => outgoing.destroy(new Error(`backend ${target} timed out`)));
    outgoing.on("error", (error) => {
      if (!response.headersSent) sendJson(response, 502, { statusCode: 502, message: "Bad gateway" });
      reject(error);
    });
    outgoing.end(body);
  }).catch(() => undefined);
}

/** A gateway on its own loopback port (http), for tests and tools. */
export function startGateway(options: Omit<GatewayOptions, "mount">): Promise<BoundedServer> {
  const handle = gatewayHandler(options);
  return listenBounded(async (request, response) => {
    await handle(request, response);
  });
}

/** A backend that answers every request with 200 and a JSON echo of its method and path. */
export function echoHandler(): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  return async (request, response) => {
    await readBody(request);
    sendJson(response, 200, { method: request.method, path: request.url });
  };
}

/** The echo backend on its own loopback port, counting the requests that reach it. */
export async function startEchoBackend(): Promise<BoundedServer & { readonly requests: number }> {
  let requests = 0;
  const echo = echoHandler();
  const server = await listenBounded(async (request, response) => {
    requests += 1;
    await echo(request, response);
  });
  return {
    url: server.url,
    close: server.close,
    get requests() {
      return requests;
    },
  };
}

/**
 * The APIs deployed to a service in the ARM store, as the gateway serves them: each under
 * `<serviceName>/<api path>` (the service's gateway URL ends in its name), with the policy as it was deployed and
 * the operations APIM matches, all forwarding to `backendUrl` (the local echo) instead of the API's serviceUrl.
 */
export function deployedApis(store: ArmStore, backendUrl: string): GatewayApi[] {
  return store.ofType(armTypes.service).flatMap((service) => {
    const serviceName = service.id.slice(service.id.lastIndexOf("/") + 1);
    return store.childrenOf(service.id, armTypes.api).map((api) => {
      const properties = api.body.properties as { path?: string; subscriptionRequired?: boolean };
      const policy = store.childrenOf(api.id, armTypes.policy)[0]?.body.properties as { value?: string } | undefined;
      const operations = store.childrenOf(api.id, armTypes.operation).map((operation) => {
        const { method, urlTemplate } = operation.body.properties as { method: string; urlTemplate: string };
        return { method, urlTemplate };
      });
      return {
        path: `${serviceName}/${String(properties.path ?? "").replace(/^\/+|\/+$/g, "")}`,
        ...(policy?.value !== undefined ? { policyXml: policy.value } : {}),
        backendUrl,
        operations,
        subscriptionRequired: properties.subscriptionRequired ?? true,
      };
    });
  });
}
