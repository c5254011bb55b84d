/** The Microsoft Graph v1.0 objects `adopt` reads, with the properties it uses (Graph's resource type pages). */
export interface GraphPermissionScope {
  id: string;
  value: string | null;
  type: string | null;
  isEnabled: boolean;
  adminConsentDisplayName?: string | null;
  adminConsentDescription?: string | null;
  userConsentDisplayName?: string | null;
  userConsentDescription?: string | null;
}

export interface GraphAppRole {
  id: string;
  value: string | null;
  allowedMemberTypes: string[];
  isEnabled: boolean;
  displayName?: string | null;
  description?: string | null;
}

export interface GraphApplication {
  id: string;
  appId: string;
  displayName: string | null;
  signInAudience?: string | null;
  description?: string | null;
  notes?: string | null;
  groupMembershipClaims?: string | null;
  serviceManagementReference?: string | null;
  identifierUris?: string[];
  api?: { requestedAccessTokenVersion?: number | null; oauth2PermissionScopes?: GraphPermissionScope[] } | null;
  appRoles?: GraphAppRole[];
  requiredResourceAccess?: { resourceAppId: string; resourceAccess: { id: string; type: string }[] }[];
  web?: {
    redirectUris?: string[];
    homePageUrl?: string | null;
    logoutUrl?: string | null;
    implicitGrantSettings?: { enableAccessTokenIssuance?: boolean; enableIdTokenIssuance?: boolean } | null;
  } | null;
  spa?: { redirectUris?: string[] } | null;
  publicClient?: { redirectUris?: string[] } | null;
  info?: Partial<Record<"marketingUrl" | "privacyStatementUrl" | "supportUrl" | "termsOfServiceUrl", string | null>>;
  passwordCredentials?: {
    keyId: string;
    displayName: string | null;
    endDateTime: string | null;
    hint?: string | null;
  }[];
  keyCredentials?: { keyId: string; displayName?: string | null; endDateTime?: string | null }[];
}

export interface GraphServicePrincipal {
  id: string;
  appId: string;
  displayName?: string | null;
  appRoleAssignmentRequired?: boolean;
  /** The tenant the app is registered in; absent in some answers, and then the principal's own. */
  appOwnerOrganizationId?: string | null;
  accountEnabled?: boolean;
  alternativeNames?: string[];
  description?: string | null;
  loginUrl?: string | null;
  notes?: string | null;
  notificationEmailAddresses?: string[];
  preferredSingleSignOnMode?: string | null;
}

export interface GraphAppRoleAssignment {
  id: string;
  appRoleId: string;
  principalId: string;
  principalType?: string;
  principalDisplayName?: string | null;
  resourceId: string;
}

export interface GraphDelegatedGrant {
  id: string;
  /** The client's service principal object id. */
  clientId: string;
  consentType: string;
  principalId?: string | null;
  resourceId: string;
  scope: string;
}

/** A Graph call that failed: the HTTP status and Graph's error code and message. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "GraphError";
  }
}

/** GET on Graph v1.0; lists follow `@odata.nextLink` to their last page. */
export interface GraphClient {
  get<T>(path: string): Promise<T>;
  list<T>(path: string): Promise<T[]>;
}

export interface GraphClientOptions {
  /** Graph's base without a version, e.g. https://graph.microsoft.com, or the local tenant's …/graph. */
  baseUrl: string;
  accessToken: string;
  fetch?: typeof fetch;
}

/** `'` doubled, as OData string literals in `$filter` want it. */
export const odataString = (value: string) => `'${value.replace(/'/g, "''")}'`;

export function graphClient(options: GraphClientOptions): GraphClient {
  const doFetch = options.fetch ?? fetch;
  const base = `${options.baseUrl.replace(/\/+$/, "")}/v1.0`;
  async function getUrl<T>(url: string): Promise<T> {
    let response: Response;
    try {
      response = await doFetch(url, {
        headers: { authorization: `Bearer ${options.accessToken}`, accept: "application/json" },
        redirect: "error",
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      throw new GraphError(0, "Unreachable", `Microsoft Graph at ${base} could not be reached${cause}`);
    }
    const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!response.ok) {
      const code = body.error?.code ?? `HTTP ${response.status}`;
      throw new GraphError(response.status, code, `${code}: ${body.error?.message ?? response.statusText}`);
    }
    return body as T;
  }
  return {
    get: (path) => getUrl(`${base}${path}`),
    async list<T>(path: string) {
      const items: T[] = [];
      for (let url: string | undefined = `${base}${path}`; url;) {
        const page: { value?: T[]; "@odata.nextLink"?: string } = await getUrl(url);
        items.push(...(page.value ?? []));
        url = page["@odata.nextLink"];
      }
      return items;
    },
  };
}
