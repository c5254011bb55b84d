import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";

export interface BoundedServer {
  /** `http://127.0.0.1:<port>`, or `https://…` when listening with a certificate. */
  url: string;
  close(): Promise<void>;
}

export type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export interface ListenOptions {
  /** Default 0: an ephemeral port. */
  port?: number;
  /** PEM certificate and key: HTTPS instead of HTTP. */
  tls?: { cert: string; key: string };
  /** Connections open at once; more are dropped. Default 64. */
  maxConnections?: number;
}

const maxBodyBytes = 1024 * 1024;

/**
 * Listens on 127.0.0.1 with bounded timeouts and connections; close() drops every socket. An error a handler throws
 * answers 500 without its stack.
 */
export async function listenBounded(
  handler: Handler,
  options: ListenOptions = {},
): Promise<BoundedServer & { port: number }> {
  const limits = { requestTimeout: 10_000, headersTimeout: 5_000, maxHeaderSize: 16 * 1024 };
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: "stand_in_failure", message: String(error) });
      else res.destroy();
    });
  };
  const server: Server = options.tls
    ? createTlsServer({ ...limits, cert: options.tls.cert, key: options.tls.key }, serve)
    : createServer(limits, serve);
  server.maxConnections = options.maxConnections ?? 64;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export class BodyTooLarge extends Error {}

export async function readBody(request: IncomingMessage, limit = maxBodyBytes): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge(`request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** The request's path (repeated slashes folded, as Azure's front doors do) and query. */
export function requestUrl(request: IncomingMessage): URL {
  const url = new URL(request.url ?? "/", "http://local");
  url.pathname = url.pathname.replace(/\/{2,}/g, "/");
  return url;
}

export interface ClientResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One request over HTTPS trusting `ca` (the local tenant's CA), for tools that run before NODE_EXTRA_CA_CERTS could
 * be set: Node reads that variable only when it starts.
 */
export function requestWithCa(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; ca: string },
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      { method: init.method ?? "GET", headers: init.headers, ca: init.ca, timeout: 30_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer from ${url} within 30 s`)));
    request.on("error", reject);
    request.end(init.body);
  });
}

/** Statuses whose answer has no body: a Response refuses one. */
const bodilessStatuses = new Set([101, 204, 205, 304]);

/**
 * `fetch` over {@link requestWithCa}, for code that takes a fetch function (npm run adopt) run in a process that could
 * not trust the tenant's CA from its start. The request is normalised as fetch would send it (a URLSearchParams body
 * gets its content type); redirects are not followed and a signal is not observed.
 */
export function fetchWithCa(ca: string): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const body = request.body === null ? undefined : await request.text();
    const answer = await requestWithCa(request.url, {
      method: request.method,
      headers: Object.fromEntries(request.headers.entries()),
      body,
      ca,
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const each of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, each);
    }
    return new Response(bodilessStatuses.has(answer.status) ? null : answer.text, { status: answer.status, headers });
  };
}
