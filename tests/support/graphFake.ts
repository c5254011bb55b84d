import * as path from "node:path";
import { UnsecuredJWT } from "jose";
import { runAdopt } from "../../tools/adopt";
import type {
  GraphApplication,
  GraphAppRoleAssignment,
  GraphDelegatedGrant,
  GraphServicePrincipal,
} from "../../tools/adopt/graph";

/**
 * A tenant as Microsoft Graph v1.0 shows it, for `npm run adopt` under test: the objects the portal's steps make (the
 * seed helpers below), the GET calls adopt makes, the token endpoint of client credentials, paging through
 * `@odata.nextLink` (every list comes in pages of `pageSize`), and Graph's 404 and 403 answers. It is a fetch function;
 * what it cannot prove is that real Graph answers these calls with these shapes (the local tenant's Graph does).
 */
export class GraphFake {
  readonly applications: GraphApplication[] = [];
  readonly servicePrincipals: (GraphServicePrincipal & { owners: string[] })[] = [];
  readonly applicationOwners = new Map<string, string[]>();
  readonly assignments: GraphAppRoleAssignment[] = [];
  readonly delegatedGrants: GraphDelegatedGrant[] = [];
  /** Every GET made, path and query, in order. */
  readonly calls: string[] = [];
  /** Answer every Graph call with 403, as Graph does for an identity without Application.Read.All. */
  forbidden = false;
  private next = 1;

  constructor(
    readonly tenantId: string,
    /** The signed-in identity's object id: the `oid` of the tokens it issues. */
    readonly callerObjectId: string,
    readonly graphBase = "https://graph.test",
    readonly authorityHost = "https://login.test",
    readonly pageSize = 2,
  ) {}

  /** A fresh GUID, readable in failures: its last group counts up. */
  guid(): string {
    return `5eed0000-0000-4000-8000-${(this.next++).toString(16).padStart(12, "0")}`;
  }

  /** Portal: App registrations → New registration. The portal also makes its service principal, owned by the user. */
  register(
    displayName: string,
    owner: string,
  ): { application: GraphApplication; servicePrincipal: GraphServicePrincipal } {
    const application: GraphApplication = {
      id: this.guid(),
      appId: this.guid(),
      displayName,
      signInAudience: "AzureADMyOrg",
      identifierUris: [],
      api: { requestedAccessTokenVersion: null, oauth2PermissionScopes: [] },
      appRoles: [],
      requiredResourceAccess: [],
      web: {
        redirectUris: [],
        implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
      },
      spa: { redirectUris: [] },
      publicClient: { redirectUris: [] },
      passwordCredentials: [],
      keyCredentials: [],
    };
    this.applications.push(application);
    this.applicationOwners.set(application.id, [owner]);
    const servicePrincipal = {
      id: this.guid(),
      appId: application.appId,
      displayName,
      appRoleAssignmentRequired: false,
      appOwnerOrganizationId: this.tenantId,
      accountEnabled: true,
      owners: [owner],
    };
    this.servicePrincipals.push(servicePrincipal);
    return { application, servicePrincipal };
  }

  principalOf(application: GraphApplication): GraphServicePrincipal & { owners: string[] } {
    const principal = this.servicePrincipals.find((each) => each.appId === application.appId);
    if (!principal) throw new Error(`no service principal for ${application.displayName}`);
    return principal;
  }

  /** The token endpoint and Graph's GETs. */
  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    if (`${url.origin}` === this.authorityHost && url.pathname === `/${this.tenantId}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(String(init?.body ?? ""));
      if (form.get("scope") !== `${this.graphBase}/.default`) return json(400, { error: "invalid_scope" });
      const token = new UnsecuredJWT({ tid: this.tenantId, oid: this.callerObjectId, aud: this.graphBase }).encode();
      return json(200, { access_token: token, token_type: "Bearer", expires_in: 3599 });
    }
    if (!url.href.startsWith(`${this.graphBase}/v1.0/`))
      return json(404, { error: { code: "NoRoute", message: url.href } });
    this.calls.push(
      `${url.pathname.slice(`${new URL(this.graphBase).pathname.replace(/\/$/, "")}/v1.0`.length)}${url.search}`,
    );
    if (this.forbidden) {
      return json(403, {
        error: { code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation." },
      });
    }
    return this.answer(url);
  };

  private answer(url: URL): Response {
    const segments = url.pathname.split("/v1.0/")[1]?.split("/") ?? [];
    const filter = parseFilter(url.searchParams.get("$filter"));
    const [collection, id, relation] = segments;
    const list = (items: unknown[]) => this.page(url, items);
    const missing = () =>
      json(404, { error: { code: "Request_ResourceNotFound", message: `Resource '${id}' does not exist.` } });
    if (collection === "applications") {
      if (!id) return list(this.applications.filter((app) => matches(app, filter)));
      const app = this.applications.find((each) => each.id === id);
      if (!app) return missing();
      if (relation === "owners")
        return list((this.applicationOwners.get(app.id) ?? []).map((owner) => ({ id: owner })));
      return json(200, app);
    }
    if (collection === "servicePrincipals") {
      if (!id) return list(this.servicePrincipals.filter((sp) => matches(sp, filter)).map(withoutOwners));
      const principal = this.servicePrincipals.find((each) => each.id === id);
      if (!principal) return missing();
      if (relation === "owners") return list(principal.owners.map((owner) => ({ id: owner })));
      if (relation === "appRoleAssignedTo") return list(this.assignments.filter((each) => each.resourceId === id));
      return json(200, withoutOwners(principal));
    }
    if (collection === "oauth2PermissionGrants" && !id) {
      return list(this.delegatedGrants.filter((grant) => matches(grant, filter)));
    }
    return json(404, { error: { code: "NoRoute", message: url.pathname } });
  }

  private page(url: URL, items: unknown[]): Response {
    const skip = Number(url.searchParams.get("$skiptoken") ?? "0");
    const value = items.slice(skip, skip + this.pageSize);
    const next = new URL(url.href);
    next.searchParams.set("$skiptoken", String(skip + this.pageSize));
    return json(200, { value, ...(skip + this.pageSize < items.length ? { "@odata.nextLink": next.href } : {}) });
  }
}

const withoutOwners = ({ owners: _owners, ...principal }: GraphServicePrincipal & { owners: string[] }) => principal;

/** `appId eq '…'`, `displayName eq '…'`, `clientId eq '…'`: the one-term filters adopt sends. */
function parseFilter(filter: string | null): [string, string] | undefined {
  if (!filter) return undefined;
  const match = /^(\w+) eq '((?:[^']|'')*)'$/.exec(filter);
  if (!match) throw new Error(`the Graph fake does not understand $filter=${filter}`);
  return [match[1] as string, (match[2] as string).replace(/''/g, "'")];
}

function matches(object: object, filter: [string, string] | undefined): boolean {
  if (!filter) return true;
  const value = (object as Record<string, unknown>)[filter[0]];
  return typeof value === "string" && value.toLowerCase() === filter[1].toLowerCase();
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** The tenant, deployer and portal user of the guide's seeding; the portal secret's value. */
export const guideTenant = {
  tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  deployer: "d0d0d0d0-1111-4222-8333-444455556666",
  portalUser: "ab12cd34-5678-4abc-9def-0123456789ab",
  portalSecret: "Xy7~the-secret-made-in-the-portal",
};
const { portalUser, portalSecret } = guideTenant;

/** The scope the guide's "Expose an API" step adds: access_as_app, admins only. */
export const guideScope = (id: string) => ({
  id,
  value: "access_as_app",
  type: "Admin",
  isEnabled: true,
  adminConsentDisplayName: "access_as_app",
  adminConsentDescription: "This token can be used to access my API.",
});

/**
 * The guide's steps, in the portal: My-Client-App with a client secret; My-APIM-API with api://<its client id> and the
 * admins-only scope access_as_app (token version left null: v1 tokens); then My-Client-App's "Application permission"
 * on access_as_app — the scope's id listed as a role — whose admin consent cannot be granted (it is no app role), so the
 * grant exists only partly: listed, never consented.
 */
export function seedLikeTheGuide(fake: GraphFake) {
  const client = fake.register("My-Client-App", portalUser);
  client.application.passwordCredentials = [
    { keyId: fake.guid(), displayName: "portal", endDateTime: "2027-05-23T10:00:00Z", hint: portalSecret.slice(0, 3) },
  ];
  const api = fake.register("My-APIM-API", portalUser);
  const scopeId = fake.guid();
  api.application.identifierUris = [`api://${api.application.appId}`];
  api.application.api = {
    requestedAccessTokenVersion: null,
    oauth2PermissionScopes: [guideScope(scopeId)],
  };
  client.application.requiredResourceAccess = [
    { resourceAppId: api.application.appId, resourceAccess: [{ id: scopeId, type: "Role" }] },
  ];
  return { client: client.application, api: api.application, scopeId };
}

/** What an adopt run printed, and the project it ran in. */
export interface AdoptRun {
  code: number;
  out: string;
  err: string;
  dir: string;
  stackFile: string;
}

/**
 * Runs `npm run adopt -- --stack dev …` in `dir` against the fake, signed in as the deployer with a client secret
 * (ARM_*), with Graph and the authority host pointed at the fake; `env` overrides those variables.
 */
export async function runAdoptAgainst(
  fake: GraphFake,
  dir: string,
  argv: string[],
  env: Record<string, string | undefined> = {},
): Promise<AdoptRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdopt(["--stack", "dev", ...argv], {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    env: {
      ARM_TENANT_ID: fake.tenantId,
      ARM_CLIENT_ID: "c1c1c1c1-2222-4333-8444-555566667777",
      ARM_CLIENT_SECRET: "deployer-secret",
      GRAPH_URL: fake.graphBase,
      AUTHORITY_HOST: fake.authorityHost,
      ...env,
    },
    fetch: fake.fetch,
    projectDir: dir,
    // The program afresh for each run, as the plan command's tests evaluate it.
    evaluate: async (request) => {
      const { evaluate } = await import("./evaluate.js");
      return evaluate(request.config, request.stack, request.invokeResults);
    },
  });
  return { code, out: out.join("\n"), err: err.join("\n"), dir, stackFile: path.join(dir, "Pulumi.dev.yaml") };
}
