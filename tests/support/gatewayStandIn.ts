import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { evaluateToken } from "../../tools/gateway/evaluateToken";
import { loadDocument } from "../../tools/gateway/keys";
import { readTokenCheck, type TokenCheckSpec } from "../../policies/readTokenCheck";
import { BodyTooLarge, listenBounded, readBody, sendJson } from "./boundedServer";

export interface GatewayApi {
  /** First path segment(s) the API is published under, e.g. `orders` for `/orders/...`. */
  path: string;
  policyXml: string;
  backendUrl: string;
}

export interface GatewayStandInOptions {
  apis: GatewayApi[];
  /** Defaults to the wall clock. */
  now?: () => Date;
  /** Authority for validate-azure-ad-token policies; defaults to Entra's public cloud. */
  authorityHost?: string;
}

export interface RunningStandIn {
  url: string;
  close(): Promise<void>;
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

/**
 * An imitation of the APIM gateway's inbound token check: each request is judged by the API's policy,
 * rejected with the policy's status and generic message, or relayed to the backend.
 */
export async function startGatewayStandIn(options: GatewayStandInOptions): Promise<RunningStandIn> {
  const apis = options.apis.map((api) => ({
    prefix: `/${api.path.replace(/^\/+|\/+$/g, "")}`,
    spec: readTokenCheck(api.policyXml),
    backendUrl: api.backendUrl.replace(/\/+$/, ""),
  }));
  const documents = new Map<string, Promise<unknown>>();
  const fetchDocument = (url: string): Promise<unknown> => {
    let pending = documents.get(url);
    if (!pending) {
      pending = loadDocument(url);
      pending.catch(() => documents.delete(url));
      documents.set(url, pending);
    }
    return pending;
  };

  return listenBounded(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://gateway");
    const api = apis.find(
      (candidate) => url.pathname === candidate.prefix || url.pathname.startsWith(`${candidate.prefix}/`),
    );
    if (!api) return sendJson(response, 404, { statusCode: 404, message: "Resource not found" });
    const verdict = await evaluateToken({
      spec: api.spec,
      ...tokenInput(api.spec, request, url),
      now: options.now?.() ?? new Date(),
      keys: {},
      fetchDocument,
      ...(options.authorityHost ? { authorityHost: options.authorityHost } : {}),
    });
    if (!verdict.accepted) {
      const status = api.spec.failedValidationHttpCode;
      const message =
        api.spec.failedValidationErrorMessage ??
        (verdict.check === "header" ? "JWT not present." : "JWT validation failed.");
      return sendJson(response, status, { statusCode: status, message });
    }
    const target = `${api.backendUrl}${url.pathname.slice(api.prefix.length)}${url.search}`;
    await relay(request, response, target);
  });
}

function tokenInput(spec: TokenCheckSpec, request: IncomingMessage, url: URL) {
  const source = spec.tokenSource;
  if (source.kind === "query") return { token: url.searchParams.get(source.name) ?? "" };
  if (source.kind === "value") throw new Error("token-value expressions are not evaluated by the gateway stand-in");
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

/** A backend that answers every request with 200 and a JSON echo of its method and path. */
export async function startBackendStandIn(): Promise<RunningStandIn & { readonly requests: number }> {
  let requests = 0;
  const server = await listenBounded(async (request, response) => {
    requests += 1;
    await readBody(request);
    sendJson(response, 200, { method: request.method, path: request.url });
  });
  return {
    url: server.url,
    close: server.close,
    get requests() {
      return requests;
    },
  };
}
