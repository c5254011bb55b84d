import { STATUS_CODES } from "node:http";
import type { Clock } from "./clock";

/** Graph's OData error body (`{"error": {...}}`), as go-azure-sdk sdk/odata/errors.go reads it. */
export interface ODataError {
  code?: string;
  message?: string;
  innerError?: ODataError;
}

/** A request-specific reason to try again, like go-azure-sdk's `RequestRetryFunc` on an operation's options. */
export type RetryWhen = (status: number, error: ODataError | undefined) => boolean;

export interface GraphCall {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Below the version root, e.g. `/applications/<id>`. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** The statuses the operation accepts; any other fails it. */
  expected: number[];
  retryWhen?: RetryWhen;
  /** The real provider reads `samlMetadataUrl` from beta; everything else is v1.0. */
  version?: "v1.0" | "beta";
}

export interface GraphResponse {
  status: number;
  body: unknown;
}

/** A Graph answer outside the operation's expected statuses, with Graph's own code and message. */
export class GraphError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly odata: ODataError | undefined,
  ) {
    super(message);
  }
}

export type Transport = typeof fetch;

/**
 * Microsoft Graph as go-azure-sdk's base client calls it (sdk/client/client.go `Execute`, `retryableClient`):
 * 424 and 408 are retried, then the operation's own retry rule, then go-retryablehttp's default policy (429 and 5xx
 * except 501); the wait is Retry-After or 2^attempt seconds up to 61 s; the number of retries fits the operation's
 * deadline. Network errors are not retried (`extendedRetryPolicy` gives up on "dial tcp").
 */
export class GraphClient {
  constructor(
    /** The Graph resource from the cloud metadata, without a trailing slash. */
    readonly endpoint: string,
    private readonly token: () => Promise<string>,
    private readonly transport: Transport,
    private readonly clock: Clock,
  ) {}

  /** `<graph>/v1.0`: what go-azure-sdk's msgraph client prefixes to every path, and to `@odata.bind` references. */
  get baseUri(): string {
    return `${this.endpoint}/v1.0`;
  }

  async call(call: GraphCall, deadline: number): Promise<GraphResponse> {
    const maxRetries = retriesBefore(deadline - this.clock.now());
    for (let attempt = 0; ; attempt++) {
      const response = await this.send(call);
      const odata = odataError(response.body);
      if (attempt < maxRetries && shouldRetry(response.status, odata, call.retryWhen)) {
        await this.clock.sleep(backoff(attempt, response.retryAfter));
        continue;
      }
      if (call.expected.includes(response.status)) return { status: response.status, body: response.body };
      throw new GraphError(unexpectedStatus(response.status, odata, response.text), response.status, odata);
    }
  }

  /** A collection, following `@odata.nextLink` (go-azure-sdk `ExecutePaged`). */
  async list(call: GraphCall, deadline: number): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let page = await this.call(call, deadline);
    for (;;) {
      const body = page.body as { value?: Record<string, unknown>[]; "@odata.nextLink"?: string };
      items.push(...(body.value ?? []));
      const next = body["@odata.nextLink"];
      if (!next) return items;
      const url = new URL(next);
      const root = new URL(`${this.endpoint}/${call.version ?? "v1.0"}`).pathname;
      page = await this.call(
        { ...call, path: url.pathname.slice(root.length), query: Object.fromEntries(url.searchParams) },
        deadline,
      );
    }
  }

  private async send(call: GraphCall): Promise<{ status: number; body: unknown; text: string; retryAfter?: number }> {
    const url = new URL(`${this.endpoint}/${call.version ?? "v1.0"}${call.path}`);
    for (const [key, value] of Object.entries(call.query ?? {})) url.searchParams.set(key, value);
    const authorization = `Bearer ${await this.token()}`;
    let response: Response;
    try {
      response = await this.transport(url, {
        method: call.method,
        headers: {
          authorization,
          accept: "application/json",
          ...(call.body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
        },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
      });
    } catch (error) {
      throw new Error(`${call.method} ${JSON.stringify(url.toString())}: ${networkFailure(error)}`, { cause: error });
    }
    const text = await response.text();
    const retryAfter = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
    return {
      status: response.status,
      body: parseJson(text),
      text,
      retryAfter: isNaN(retryAfter) ? undefined : retryAfter,
    };
  }
}

/** A failed fetch says only "fetch failed"; the reason (e.g. ECONNREFUSED: the tenant is not running) is its cause. */
export function networkFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

function shouldRetry(status: number, odata: ODataError | undefined, retryWhen: RetryWhen | undefined): boolean {
  if (status === 424 || status === 408) return true;
  if (retryWhen?.(status, odata)) return true;
  return status === 429 || (status >= 500 && status !== 501);
}

/** go-azure-sdk `retryableClient`'s `safeRetryNumber`: as many retries as the default backoff fits before the deadline. */
function retriesBefore(milliseconds: number): number {
  const seconds = milliseconds / 1000;
  if (seconds <= 63) return Math.max(0, Math.floor(Math.log2(seconds + 1)) - 1);
  return Math.floor((seconds - 63) / 61) + 6;
}

function backoff(attempt: number, retryAfterSeconds: number | undefined): number {
  if (retryAfterSeconds !== undefined) return retryAfterSeconds * 1000;
  return Math.min(2 ** attempt * 1000, 61_000);
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function odataError(body: unknown): ODataError | undefined {
  if (!body || typeof body !== "object" || !("error" in body)) return undefined;
  const error = (body as { error: unknown }).error;
  return error && typeof error === "object" ? (error as ODataError) : undefined;
}

/** go-azure-sdk odata `Error.String()`: code, message and the inner error's, joined by ": ". */
export function describeODataError(error: ODataError): string {
  const parts: string[] = [];
  if (error.code) parts.push(error.code);
  if (typeof error.message === "string" && error.message) parts.push(error.message);
  if (error.innerError) {
    const inner = describeODataError(error.innerError);
    if (inner) parts.push(inner);
  }
  return parts.join(": ");
}

/** go-azure-sdk client.go's error text for an unexpected status: `unexpected status 403 (403 Forbidden) with error: …`. */
function unexpectedStatus(status: number, odata: ODataError | undefined, text: string): string {
  const label = `${status} (${status} ${STATUS_CODES[status] ?? ""})`;
  const described = odata ? describeODataError(odata) : "";
  if (described) return `unexpected status ${label} with error: ${described}`;
  if (text === "") return `unexpected status ${label} received with no body`;
  return `unexpected status ${label} with response: ${text}`;
}

/** Whether Graph's error text matches, as go-azure-sdk's `odata.Error.Match` (a regular expression on `String()`). */
export function errorMatches(error: ODataError | undefined, pattern: RegExp): boolean {
  return error !== undefined && pattern.test(describeODataError(error));
}
