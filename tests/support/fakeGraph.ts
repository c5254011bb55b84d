/**
 * TEMPORARY: a tiny in-process Microsoft Graph for the azuread provider's tests, until the local tenant's
 * local/graph.ts + local/directory.ts land (another branch). It follows Graph v1.0's documented shapes for the calls
 * the provider makes and only the rules those tests need: Application.ReadWrite.OwnedBy acting on owned objects, a
 * role/scope removed only once disabled, unique identifier URIs, app role assignments only for existing roles. It is
 * not the tenant; replace it by local/graph.ts when that exists.
 */
import { randomUUID } from "node:crypto";
import { UnsecuredJWT } from "jose";

export interface FakeCaller {
  clientId: string;
  clientSecret: string;
  objectId: string;
  /** Graph application permissions: "Application.ReadWrite.All" or "Application.ReadWrite.OwnedBy". */
  permissions: string[];
}

export interface RecordedCall {
  method: string;
  /** Version and path, e.g. `/v1.0/applications/<id>`. */
  path: string;
  query: Record<string, string>;
  body: unknown;
}

type Json = Record<string, unknown>;
type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

export const fakeHost = "tenant.test:8443";
const base = `https://${fakeHost}`;

const graphError = (status: number, code: string, message: string): Reply => ({
  status,
  body: { error: { code, message, innerError: { date: "2026-11-23T00:00:00", "request-id": randomUUID() } } },
});
const notFound = (id: string) =>
  graphError(
    404,
    "Request_ResourceNotFound",
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );
const forbidden = () =>
  graphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");

/** Graph's PATCH: the given properties replace the stored ones; a complex property is merged one level down. */
function merge(target: Json, patch: Json): void {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (value && typeof value === "object" && !Array.isArray(value) && current && typeof current === "object") {
      merge(current as Json, value as Json);
    } else {
      target[key] = value;
    }
  }
}

/** JSON with keys in order, so two objects compare by content. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === "object" && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );

export class FakeGraph {
  readonly tenantId = "11111111-1111-4111-8111-111111111111";
  readonly calls: RecordedCall[] = [];
  readonly tokenRequests: { url: string; form: Record<string, string> }[] = [];
  readonly applications = new Map<string, Json>();
  readonly servicePrincipals = new Map<string, Json>();
  readonly assignments = new Map<string, Json>();
  readonly grants = new Map<string, Json>();
  /** Answers to give instead of the real one, first match first, each used once. */
  private readonly injected: { match: (call: RecordedCall) => boolean; reply: Reply }[] = [];
  private caller?: FakeCaller;

  constructor(private readonly callers: FakeCaller[]) {}

  /** The next call `match` accepts gets `reply` instead, e.g. a replication 404. */
  inject(match: (call: RecordedCall) => boolean, reply: Reply): void {
    this.injected.push({ match, reply });
  }

  /** What a person does in the portal: changes behind the provider's back. */
  application(objectId: string): Json {
    const app = this.applications.get(objectId);
    if (!app) throw new Error(`no application ${objectId}`);
    return app;
  }

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const body = typeof init?.body === "string" ? init.body : undefined;
    const reply = this.answer(init?.method ?? "GET", url, body);
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { "content-type": "application/json", ...reply.headers },
    });
  };

  private answer(method: string, url: URL, text: string | undefined): Reply {
    if (url.pathname === "/metadata/endpoints") {
      return {
        status: 200,
        body: {
          name: "AzureLocal",
          resourceManager: `${base}/`,
          microsoftGraphResourceId: `${base}/`,
          authentication: { loginEndpoint: base, audiences: [`${base}/`] },
        },
      };
    }
    if (url.pathname === `/${this.tenantId}/oauth2/v2.0/token`) {
      const form = Object.fromEntries(new URLSearchParams(text ?? ""));
      this.tokenRequests.push({ url: url.toString(), form });
      const caller = this.callers.find((c) => c.clientId === form.client_id && c.clientSecret === form.client_secret);
      if (!caller)
        return {
          status: 401,
          body: { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." },
        };
      this.caller = caller;
      const token = new UnsecuredJWT({
        oid: caller.objectId,
        tid: this.tenantId,
        appid: caller.clientId,
        roles: caller.permissions,
      }).encode();
      return { status: 200, body: { token_type: "Bearer", expires_in: 3599, access_token: token } };
    }
    const call: RecordedCall = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: text === undefined ? undefined : JSON.parse(text),
    };
    this.calls.push(call);
    const injected = this.injected.findIndex((candidate) => candidate.match(call));
    if (injected >= 0) return this.injected.splice(injected, 1)[0]!.reply;
    return this.route(call);
  }

  private may(owners: string[]): boolean {
    const caller = this.caller!;
    return caller.permissions.includes("Application.ReadWrite.All") || owners.includes(caller.objectId);
  }

  private route(call: RecordedCall): Reply {
    const { method, body } = call;
    const parts = call.path.split("/").slice(2);
    const [collection, id, sub, subId, ref] = parts;
    const input = (body ?? {}) as Json;
    if (collection === "applications") {
      if (!id) return method === "POST" ? this.createApplication(input) : graphError(405, "Request_BadRequest", "");
      const app = this.applications.get(id);
      if (!app) return notFound(id);
      const owners = app.owners as string[];
      if (!sub) {
        if (method === "GET") return { status: 200, body: this.applicationView(app) };
        if (!this.may(owners)) return forbidden();
        if (method === "DELETE") return (this.applications.delete(id), { status: 204 });
        return this.patchApplication(app, input);
      }
      if (!this.may(owners)) return forbidden();
      const passwords = app.passwordCredentials as Json[];
      // Dates are kept as posted: Graph writes "2027-05-01T00:00:00Z" back as it came, not with ".000Z".
      if (sub === "addPassword") {
        const credential = { ...(input.passwordCredential as Json), keyId: randomUUID(), hint: "sec" };
        passwords.push(credential);
        return { status: 200, body: { ...credential, secretText: `secret-${credential.keyId}` } };
      }
      if (sub === "removePassword") {
        app.passwordCredentials = passwords.filter((p) => p.keyId !== input.keyId);
        return { status: 204 };
      }
      const credentials = app.federatedIdentityCredentials as Json[];
      if (!subId && method === "POST") {
        const credential = { ...input, id: randomUUID() };
        credentials.push(credential);
        return { status: 201, body: credential };
      }
      const credential = credentials.find((c) => c.id === subId);
      if (!credential) return notFound(subId ?? "");
      if (method === "GET") return { status: 200, body: credential };
      if (method === "DELETE")
        return ((app.federatedIdentityCredentials = credentials.filter((c) => c !== credential)), { status: 204 });
      return (merge(credential, input), { status: 204 });
    }
    if (collection === "servicePrincipals") return this.servicePrincipalRoute(call, id, sub, subId, ref, input);
    if (collection === "oauth2PermissionGrants") {
      if (!id) {
        const grant = { ...input, id: randomUUID() };
        this.grants.set(grant.id, grant);
        return { status: 201, body: grant };
      }
      const grant = this.grants.get(id);
      if (!grant) return notFound(id);
      if (method === "GET") return { status: 200, body: grant };
      if (method === "DELETE") return (this.grants.delete(id), { status: 204 });
      return (merge(grant, input), { status: 204 });
    }
    return graphError(400, "BadRequest", `Resource not found for the segment '${collection}'.`);
  }

  private createApplication(input: Json): Reply {
    const id = randomUUID();
    const app: Json = {
      identifierUris: [],
      appRoles: [],
      passwordCredentials: [],
      federatedIdentityCredentials: [],
      requiredResourceAccess: [],
      isFallbackPublicClient: null,
      publisherDomain: "tenant.test",
      spa: { redirectUris: [] },
      publicClient: { redirectUris: [] },
      ...input,
      api: { oauth2PermissionScopes: [], ...(input.api as Json) },
      web: { redirectUris: [], ...(input.web as Json) },
      id,
      appId: randomUUID(),
      owners: [this.caller!.objectId],
    };
    this.applications.set(id, app);
    return { status: 201, body: this.applicationView(app) };
  }

  private applicationView(app: Json): Json {
    const { owners: _owners, federatedIdentityCredentials: _credentials, ...view } = app;
    return structuredClone(view);
  }

  private patchApplication(app: Json, input: Json): Reply {
    const entitlements = (source: Json) => [
      ...((source.appRoles as Json[] | undefined) ?? []),
      ...(((source.api as Json | undefined)?.oauth2PermissionScopes as Json[] | undefined) ?? []),
    ];
    const next = structuredClone(app);
    merge(next, input);
    // An enabled role or scope may not be removed or changed (msgraph-bicep-types #197).
    for (const before of entitlements(app).filter((item) => item.isEnabled === true)) {
      const after = entitlements(next).find((item) => item.id === before.id);
      const changed = after && canonical({ ...after, isEnabled: true }) !== canonical(before);
      if (!after || (after.isEnabled === true && changed)) {
        return graphError(
          400,
          "CannotDeleteOrUpdateEnabledEntitlement",
          "Permission (scope or role) cannot be deleted or updated unless disabled first.",
        );
      }
    }
    const values = entitlements(next).map((item) => item.value);
    if (new Set(values).size !== values.length) {
      return graphError(400, "Request_BadRequest", "Property value is invalid. It contains duplicate value.");
    }
    for (const uri of (next.identifierUris as string[]) ?? []) {
      const other = [...this.applications.values()].find(
        (a) => a !== app && (a.identifierUris as string[]).includes(uri),
      );
      if (other)
        return graphError(
          400,
          "Request_BadRequest",
          "Another object with the same value for property identifierUris already exists.",
        );
    }
    Object.assign(app, next);
    return { status: 204 };
  }

  private servicePrincipalView(sp: Json): Json {
    const app = [...this.applications.values()].find((a) => a.appId === sp.appId);
    const { owners: _owners, ...view } = sp;
    return structuredClone({
      ...view,
      displayName: app?.displayName ?? null,
      appRoles: app?.appRoles ?? [],
      oauth2PermissionScopes: (app?.api as Json | undefined)?.oauth2PermissionScopes ?? [],
      servicePrincipalNames: [sp.appId, ...((app?.identifierUris as string[]) ?? [])],
      // Graph answers null for the empty settings the provider posts on every create; were it `{}`, every service
      // principal would read back a SAML block the program never set, and show a change on every preview.
      samlSingleSignOnSettings: null,
      replyUrls: [],
      servicePrincipalType: "Application",
      appOwnerOrganizationId: this.tenantId,
    });
  }

  private servicePrincipalRoute(
    call: RecordedCall,
    id?: string,
    sub?: string,
    subId?: string,
    ref?: string,
    input: Json = {},
  ): Reply {
    const { method } = call;
    if (!id) {
      if (method === "GET") {
        const match = /^(appId|displayName) eq '(.*)'$/.exec(call.query.$filter ?? "");
        const all = [...this.servicePrincipals.values()].map((sp) => this.servicePrincipalView(sp));
        return { status: 200, body: { value: match ? all.filter((sp) => sp[match[1]!] === match[2]) : all } };
      }
      const app = [...this.applications.values()].find((a) => a.appId === input.appId);
      if (!app)
        return graphError(
          400,
          "Request_BadRequest",
          `The appId '${String(input.appId)}' of the service principal does not reference a valid application object.`,
        );
      const owners = ((input["owners@odata.bind"] as string[]) ?? []).map((bound) => bound.split("/").pop()!);
      const sp: Json = { ...input, id: randomUUID(), owners };
      delete sp["owners@odata.bind"];
      this.servicePrincipals.set(sp.id as string, sp);
      return { status: 201, body: this.servicePrincipalView(sp) };
    }
    const sp = this.servicePrincipals.get(id);
    if (!sp) return notFound(id);
    const owners = sp.owners as string[];
    if (!sub) {
      if (method === "GET") {
        const view = this.servicePrincipalView(sp);
        return { status: 200, body: call.path.startsWith("/beta/") ? { id, samlMetadataUrl: null } : view };
      }
      if (!this.may(owners)) return forbidden();
      if (method === "DELETE") return (this.servicePrincipals.delete(id), { status: 204 });
      return (merge(sp, input), { status: 204 });
    }
    if (sub === "owners") {
      if (method === "GET")
        return {
          status: 200,
          body: { value: owners.map((owner) => ({ "@odata.type": "#microsoft.graph.servicePrincipal", id: owner })) },
        };
      if (!this.may(owners)) return forbidden();
      if (method === "POST") return (owners.push(String(input["@odata.id"]).split("/").pop()!), { status: 204 });
      if (!owners.includes(subId!) || ref !== "$ref") return notFound(subId ?? "");
      return ((sp.owners = owners.filter((owner) => owner !== subId)), { status: 204 });
    }
    // appRoleAssignedTo
    if (!subId) {
      const role = (this.servicePrincipalView(sp).appRoles as Json[]).find(
        (r) => r.id === input.appRoleId && r.isEnabled,
      );
      if (!role) return graphError(400, "Request_BadRequest", "Permission being assigned was not found on application");
      const assignment = {
        ...input,
        id: randomUUID(),
        principalType: "ServicePrincipal",
        principalDisplayName: "principal",
        resourceDisplayName: this.servicePrincipalView(sp).displayName,
      };
      this.assignments.set(assignment.id, assignment);
      return { status: 201, body: assignment };
    }
    const assignment = this.assignments.get(subId);
    if (!assignment || assignment.resourceId !== id) return notFound(subId);
    if (method === "GET") return { status: 200, body: assignment };
    return (this.assignments.delete(subId), { status: 204 });
  }
}

/** A clock that never waits: `sleep` moves time on and records how long the provider asked to wait. */
export class FakeClock {
  time = Date.UTC(2026, 10, 23);
  readonly sleeps: number[] = [];
  now = () => this.time;
  sleep = async (milliseconds: number) => {
    this.sleeps.push(milliseconds);
    this.time += milliseconds;
  };
}
