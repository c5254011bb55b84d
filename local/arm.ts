import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { JWTPayload } from "jose";
import { BodyTooLarge, readBody } from "./http";
import { ArmError } from "./armError";
import { type ArmTarget, parseArmPath } from "./armIds";
import { type ResourceContext, type ResourceKind, armTypes, kindOf } from "./armResources";
import { isPermitted } from "./armRoles";
import type { ArmStore } from "./armStore";
import { detachedPrincipals, type ManagedIdentityPrincipals } from "./armManagedIdentities";

/** The audiences Azure Resource Manager accepts in a token's aud claim (its InvalidAuthenticationTokenAudience error). */
export const armAudiences: readonly string[] = [
  "https://management.core.windows.net/",
  "https://management.core.windows.net",
  "https://management.azure.com/",
  "https://management.azure.com",
];

export interface ArmOptions {
  /**
   * Verifies a bearer token's signature, lifetime and issuer and returns its claims; rejects an invalid token.
   * The local tenant passes its token service's verifier (local/tokens.ts).
   */
  verifyToken: (token: string) => Promise<JWTPayload>;
  /** The aud values accepted; default {@link armAudiences}. The local tenant adds its own resourceManager URL. */
  audiences?: readonly string[];
  /** A service's gateway URL: where the local gateway serves its APIs. */
  gatewayUrlOf: (serviceName: string) => string;
  /** Default: the wall clock. */
  now?: () => Date;
  /** The path ARM is served under, e.g. `/arm`; default the root. */
  mount?: string;
  /** A user-assigned identity's service principal: the local tenant's directory; default made-up ids. */
  managedIdentities?: ManagedIdentityPrincipals;
}

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Azure Resource Manager for the resources this project deploys (API Management 2024-05-01: services, APIs,
 * operations, policies, authorization servers; resource groups; role assignments and the built-in role
 * definitions), over a store. The handler answers requests under `<mount>/subscriptions/` and returns false for any
 * other path. Callers authenticate with a bearer token for ARM and are authorised by the role assignments the
 * store holds, as ARM does.
 */
export function armRoutes(store: ArmStore, options: ArmOptions): RouteHandler {
  const mount = (options.mount ?? "").replace(/\/+$/, "");
  return async (request, response) => {
    const url = new URL(request.url ?? "/", "https://management.local");
    if (!url.pathname.toLowerCase().startsWith(`${mount.toLowerCase()}/subscriptions/`)) return false;
    let answer: Answer;
    try {
      answer = await handle(store, options, request, url, url.pathname.slice(mount.length));
    } catch (error) {
      if (error instanceof ArmError) answer = { status: error.status, body: error.body };
      else if (error instanceof BodyTooLarge) {
        answer = { status: 413, body: new ArmError(413, "RequestEntityTooLarge", error.message).body };
      } else throw error;
    }
    send(response, answer);
    return true;
  };
}

function send(response: ServerResponse, answer: Answer): void {
  const text = answer.body === undefined ? "" : JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    ...(text ? { "content-type": "application/json; charset=utf-8" } : {}),
    "content-length": Buffer.byteLength(text),
    "x-ms-request-id": randomUUID(),
    ...answer.headers,
  });
  response.end(text);
}

async function handle(
  store: ArmStore,
  options: ArmOptions,
  request: IncomingMessage,
  url: URL,
  pathname: string,
): Promise<Answer> {
  const apiVersion = url.searchParams.get("api-version");
  if (!apiVersion) {
    throw new ArmError(
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  }
  const claims = await authenticate(request, options);
  const target = parseArmPath(pathname);
  if (!target)
    throw new ArmError(400, "InvalidRequestUri", `The request URI '${pathname}' is not a valid ARM resource path.`);
  const subscription = store.subscription(target.subscriptionId);
  if (!subscription) {
    throw new ArmError(404, "SubscriptionNotFound", `The subscription '${target.subscriptionId}' could not be found.`);
  }
  if (String(claims.tid ?? "").toLowerCase() !== subscription.tenantId.toLowerCase()) {
    throw new ArmError(
      401,
      "InvalidAuthenticationTokenTenant",
      `The access token is from the wrong issuer '${String(claims.iss)}'. It must match the tenant '${subscription.tenantId}' associated with this subscription.`,
    );
  }
  const kind = kindOf(target.type);
  if (!kind) {
    throw new ArmError(
      404,
      "InvalidResourceType",
      `The resource type '${target.type}' could not be found for api version '${apiVersion}'.`,
    );
  }
  const versions = kind.apiVersions;
  if (versions === "date" ? !/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion) : !versions.includes(apiVersion)) {
    throw new ArmError(
      400,
      "NoRegisteredProviderFound",
      `No registered resource provider found for API version '${apiVersion}' and type '${kind.type}'. The supported api-versions are '${versions === "date" ? "yyyy-mm-dd" : versions.join(", ")}'.`,
    );
  }
  const method = (request.method ?? "GET").toUpperCase();
  const caller = String(claims.oid ?? "");
  authorize(store, caller, target, kind, method);
  const context: ResourceContext = {
    store,
    target,
    now: options.now?.() ?? new Date(),
    caller,
    gatewayUrlOf: options.gatewayUrlOf,
    managedIdentities: options.managedIdentities ?? detachedPrincipals,
  };
  if (kind.virtual) {
    if (method !== "GET") throw methodNotAllowed(method);
    const body = kind.virtual(target);
    if (!body) throw kind.notFound(target);
    return { status: 200, body };
  }
  requireAncestors(store, target, kind);
  if (target.name === undefined) {
    if (method !== "GET") throw methodNotAllowed(method);
    const collectionParent = target.id.slice(0, target.id.lastIndexOf("/"));
    return {
      status: 200,
      body: { value: store.childrenOf(collectionParent, kind.type).map((r) => kind.present(r, context)) },
    };
  }
  const existing = store.get(target.id);
  if (target.action) {
    const action = kind.actions?.[target.action.toLowerCase()];
    if (method !== "POST" || !action) throw methodNotAllowed(method);
    if (!existing) throw kind.notFound(target);
    return { status: 200, body: action(existing) };
  }
  switch (method) {
    case "GET":
      if (!existing) throw kind.notFound(target);
      return { status: 200, body: kind.present(existing, context), headers: { etag: existing.etag } };
    case "PUT":
    case "PATCH": {
      if (!kind.accept) throw methodNotAllowed(method);
      if (method === "PATCH" && !existing) throw kind.notFound(target);
      checkIfMatch(request, existing?.etag);
      const sent = await readJsonBody(request);
      const body = method === "PATCH" && existing ? mergePatch(existing.body, sent) : sent;
      const accepted = kind.accept(body, context, existing);
      const { resource, created } = store.put(target.id, kind.type, accepted, context.now, caller);
      kind.afterPut?.(resource, context);
      return { status: created ? 201 : 200, body: kind.present(resource, context), headers: { etag: resource.etag } };
    }
    case "DELETE":
      if (!existing) return { status: 204 };
      checkIfMatch(request, existing.etag);
      store.delete(existing.id);
      kind.afterDelete?.(existing, context);
      return { status: 200 };
    default:
      throw methodNotAllowed(method);
  }
}

async function authenticate(request: IncomingMessage, options: ArmOptions): Promise<JWTPayload> {
  const header = request.headers.authorization;
  if (!header) {
    throw new ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
  }
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (!token) {
    throw new ArmError(
      401,
      "AuthenticationFailed",
      "Authentication failed. The 'Authorization' header is provided in an invalid format.",
    );
  }
  let claims: JWTPayload;
  try {
    claims = await options.verifyToken(token);
  } catch {
    throw new ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.");
  }
  const allowed = options.audiences ?? armAudiences;
  const audiences = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((aud) => allowed.includes(aud))) {
    throw new ArmError(
      401,
      "InvalidAuthenticationTokenAudience",
      `The access token has been obtained for wrong audience or resource '${audiences.join(", ")}'. It should exactly match with one of the allowed audiences ${allowed.map((aud) => `'${aud}'`).join(",")}.`,
    );
  }
  if (typeof claims.oid !== "string" || claims.oid === "") {
    throw new ArmError(401, "InvalidAuthenticationToken", "The access token has no oid claim naming its principal.");
  }
  return claims;
}

/** The RBAC action of a request, e.g. `Microsoft.ApiManagement/service/apis/write`. */
function actionOf(target: ArmTarget, kind: ResourceKind, method: string): string {
  const type = kind.type === armTypes.group ? "Microsoft.Resources/subscriptions/resourceGroups" : kind.type;
  if (target.action) return `${type}/${target.action}/action`;
  const verb = method === "GET" ? "read" : method === "DELETE" ? "delete" : "write";
  return `${type}/${verb}`;
}

function authorize(store: ArmStore, caller: string, target: ArmTarget, kind: ResourceKind, method: string): void {
  const action = actionOf(target, kind, method);
  const scope = target.name === undefined ? target.parentId : target.id;
  if (isPermitted(store, caller, action, scope)) return;
  throw new ArmError(
    403,
    "AuthorizationFailed",
    `The client '${caller}' with object id '${caller}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}

/** The resource group, then the parent resource (or an extension resource's scope), must exist. */
function requireAncestors(store: ArmStore, target: ArmTarget, kind: ResourceKind): void {
  const group = target.resourceGroup;
  if (group !== undefined && kind.type !== armTypes.group) {
    const groupId = `/subscriptions/${target.subscriptionId}/resourceGroups/${group}`;
    if (!store.get(groupId)) throw kindOf(armTypes.group)?.notFound(target) ?? new ArmError(404, "NotFound", groupId);
  }
  const parentIsScope = target.parentId.split("/").length <= 3;
  if (parentIsScope || store.get(target.parentId)) return;
  const parent = parseArmPath(target.parentId);
  const parentKind = parent && kindOf(parent.type);
  throw parentKind && parent
    ? parentKind.notFound(parent)
    : new ArmError(404, "ResourceNotFound", `${target.parentId} was not found.`);
}

function checkIfMatch(request: IncomingMessage, etag: string | undefined): void {
  const ifMatch = request.headers["if-match"];
  if (ifMatch === undefined || ifMatch === "*") return;
  if (ifMatch !== etag) {
    throw new ArmError(412, "PreconditionFailed", "The entity state (ETag) does not match the If-Match header.");
  }
}

async function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(request)).toString("utf8");
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === "object" && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.");
}

/** JSON merge patch (RFC 7396), what ARM's PATCH applies. */
function mergePatch(target: unknown, patch: unknown): Record<string, unknown> {
  if (!patch || typeof patch !== "object" || Array.isArray(patch)) return patch as Record<string, unknown>;
  const result: Record<string, unknown> =
    target && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else result[name] = mergePatch(result[name], value);
  }
  return result;
}

function methodNotAllowed(method: string): ArmError {
  return new ArmError(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`);
}
