import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import {
  checkDisabledBeforeChange,
  checkEntitlementValues,
  checkFederatedCredentials,
  checkIdentifierUrisUnique,
} from "./entraRules";
import {
  addPasswordInput,
  type Application,
  applicationInput,
  applyServicePrincipal,
  type AppRole,
  type AppRoleAssignment,
  bindIds,
  DirectoryError,
  type FederatedIdentityCredential,
  federatedCredentialInput,
  grantInput,
  type Group,
  groupInput,
  groupView,
  mergeApplication,
  newApplication,
  type NewPasswordCredential,
  newServicePrincipal,
  type OAuth2PermissionGrant,
  parse,
  type PasswordCredential,
  type PermissionScope,
  sameId,
  type ServicePrincipal,
  servicePrincipalInput,
  type User,
  userInput,
} from "./graphObjects";

export * from "./graphObjects";

// The local tenant's directory: the one store the token endpoint, Microsoft Graph and the providers read, in
// Microsoft Graph v1.0's shapes (graphObjects.ts). Entra's rules (entraRules.ts, and the assignment rules below) are
// enforced on every change. Graph's permission checks live in graph.ts; what a token holds is decided in tokens.ts.

interface StoredApplication {
  application: Application;
  owners: string[];
  federatedIdentityCredentials: FederatedIdentityCredential[];
  /** SHA-256 of each password's secret by keyId; Graph never returns a secret after addPassword. */
  secretHashes: Record<string, string>;
}

interface StoredServicePrincipal {
  servicePrincipal: ServicePrincipal;
  owners: string[];
  /** For a first-party application registered in another tenant (Microsoft Graph, Azure Resource Manager). */
  firstParty?: { displayName: string; appRoles: AppRole[] };
  /** For a managed identity: the ARM id of the user-assigned identity Azure made it for. */
  managedIdentity?: { resourceId: string };
}

/** What .local/state.json holds: everything the directory knows. */
export interface DirectoryState {
  applications: StoredApplication[];
  servicePrincipals: StoredServicePrincipal[];
  appRoleAssignments: AppRoleAssignment[];
  oauth2PermissionGrants: OAuth2PermissionGrant[];
  users: User[];
  groups: (Group & { members: string[] })[];
  /** Graph's soft delete: DELETE moves applications and service principals here (restorable for 30 days). */
  deletedItems: { applications: StoredApplication[]; servicePrincipals: StoredServicePrincipal[] };
}

export function emptyDirectoryState(): DirectoryState {
  return {
    applications: [],
    servicePrincipals: [],
    appRoleAssignments: [],
    oauth2PermissionGrants: [],
    users: [],
    groups: [],
    deletedItems: { applications: [], servicePrincipals: [] },
  };
}

/** A refusal in Graph's terms: the HTTP status, Graph's error code and message, and the property it names. */
const notFound = (id: string) =>
  new DirectoryError(
    404,
    "Request_ResourceNotFound",
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

/**
 * Who reads: Microsoft Graph sees its own writes at once ("primary"); everything else — the token endpoint and
 * Graph's cross-object references — sees a new object only after the tenant's replication delay ("replicated"),
 * as Entra's replicas do (terraform-provider-azuread #1811 and PR #1896; msgraph-bicep-types #193: no SLA).
 */
export type View = "primary" | "replicated";

export interface DirectoryOptions {
  /** Milliseconds since the epoch; injected so tests never wait and never depend on the date. */
  now?: () => number;
  /** Seconds a new object stays invisible to the "replicated" view. Default 0. */
  replicationDelaySeconds?: number;
  /**
   * Called after every change with a way to take the whole state, e.g. to write .local/state.json; the copy is made
   * only when the caller asks, so a burst of changes costs one copy.
   */
  persist?: (snapshot: () => DirectoryState) => void;
}

/** Well-known applications registered in Microsoft's tenant, whose service principals every tenant holds. */
export const firstPartyApps = {
  microsoftGraph: { appId: "00000003-0000-0000-c000-000000000000", displayName: "Microsoft Graph" },
  azureResourceManager: {
    appId: "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    displayName: "Windows Azure Service Management API",
  },
} as const;

/** The person who signs in wherever Entra would show a sign-in page. */
export const localUser = {
  id: "0a11ce00-0000-4000-8000-00000000a11c",
  userPrincipalName: "test.user@contoso.example",
  displayName: "Test User",
};

/** Entra's "Default Access" role id: an assignment without a specific role, valid only on an app with no app roles. */
export const defaultAccessRoleId = "00000000-0000-0000-0000-000000000000";

export class Directory {
  private readonly state: DirectoryState;
  private readonly now: () => number;
  private replicationDelayMs: number;
  private readonly persist: (snapshot: () => DirectoryState) => void;
  /** When each new object becomes visible to replicas, by key; in memory only: after a restart all have replicated. */
  private readonly visibleFrom = new Map<string, number>();

  constructor(state: DirectoryState = emptyDirectoryState(), options: DirectoryOptions = {}) {
    this.state = state;
    this.now = options.now ?? Date.now;
    this.replicationDelayMs = (options.replicationDelaySeconds ?? 0) * 1000;
    this.persist = options.persist ?? (() => {});
  }

  /** A copy of the whole state, as persisted. */
  snapshot(): DirectoryState {
    return structuredClone(this.state);
  }

  setReplicationDelay(seconds: number): void {
    this.replicationDelayMs = seconds * 1000;
  }

  /** The directory's clock, for the token endpoint's iat/exp and password dates. */
  time(): number {
    return this.now();
  }

  counts(): Record<string, number> {
    return {
      applications: this.state.applications.length,
      servicePrincipals: this.state.servicePrincipals.length,
      appRoleAssignments: this.state.appRoleAssignments.length,
      oauth2PermissionGrants: this.state.oauth2PermissionGrants.length,
      users: this.state.users.length,
      groups: this.state.groups.length,
      deletedItems: this.state.deletedItems.applications.length + this.state.deletedItems.servicePrincipals.length,
    };
  }

  private created(key: string): void {
    if (this.replicationDelayMs > 0) this.visibleFrom.set(key, this.now() + this.replicationDelayMs);
  }

  private visible(key: string, view: View): boolean {
    if (view === "primary") return true;
    const from = this.visibleFrom.get(key);
    return from === undefined || this.now() >= from;
  }

  private changed(): void {
    this.persist(() => this.snapshot());
  }

  // ---- applications -------------------------------------------------------------------------------------------

  applications(view: View = "primary"): Application[] {
    return this.state.applications
      .filter((stored) => this.visible(`application:${stored.application.id}`, view))
      .map((stored) => structuredClone(stored.application));
  }

  application(id: string, view: View = "primary"): Application | undefined {
    const stored = this.storedApplication(id, view);
    return stored && structuredClone(stored.application);
  }

  applicationByAppId(appId: string, view: View = "primary"): Application | undefined {
    const stored = this.state.applications.find((candidate) => candidate.application.appId === appId.toLowerCase());
    return stored && this.visible(`application:${stored.application.id}`, view)
      ? structuredClone(stored.application)
      : undefined;
  }

  applicationOwners(id: string): string[] {
    return [...this.requireApplication(id).owners];
  }

  private storedApplication(id: string, view: View = "primary"): StoredApplication | undefined {
    const stored = this.state.applications.find((candidate) => candidate.application.id === id.toLowerCase());
    return stored && this.visible(`application:${stored.application.id}`, view) ? stored : undefined;
  }

  private requireApplication(id: string): StoredApplication {
    const stored = this.storedApplication(id);
    if (!stored) throw notFound(id);
    return stored;
  }

  /** POST /applications. The creator, when an application calls, becomes an owner as Graph makes it. */
  createApplication(body: unknown, creatorId?: string): Application {
    const input = parse(applicationInput, body, "microsoft.graph.application");
    // Graph makes the object id and the application (client) id; an id in the body is ignored.
    const id = randomUUID();
    const application = mergeApplication(newApplication(id, this.now()), input);
    this.checkApplication(application, undefined);
    const owners = [
      ...new Set([...(creatorId ? [creatorId.toLowerCase()] : []), ...bindIds(input["owners@odata.bind"])]),
    ];
    this.state.applications.push({ application, owners, federatedIdentityCredentials: [], secretHashes: {} });
    this.created(`application:${id}`);
    this.recordNewEntitlements(application, undefined);
    this.changed();
    return structuredClone(application);
  }

  /** PATCH /applications/{id}: objects merge, collections replace, as Graph's PATCH does. */
  updateApplication(id: string, body: unknown): Application {
    const stored = this.requireApplication(id);
    const input = parse(applicationInput, body, "microsoft.graph.application");
    if (input.id !== undefined && !sameId(input.id, id)) {
      throw new DirectoryError(400, "Request_BadRequest", "The id of an application cannot be changed.", "id");
    }
    const next = mergeApplication(structuredClone(stored.application), input);
    this.checkApplication(next, stored.application);
    const before = stored.application;
    stored.application = next;
    this.recordNewEntitlements(next, before);
    this.changed();
    return structuredClone(next);
  }

  /** DELETE /applications/{id}: soft-deleted with its service principal (Graph "Delete application"). */
  deleteApplication(id: string): void {
    const stored = this.requireApplication(id);
    const principal = this.state.servicePrincipals.find((sp) =>
      sameId(sp.servicePrincipal.appId, stored.application.appId),
    );
    if (principal) this.deleteServicePrincipal(principal.servicePrincipal.id);
    this.state.applications = this.state.applications.filter((candidate) => candidate !== stored);
    stored.application.deletedDateTime = new Date(this.now()).toISOString();
    this.state.deletedItems.applications.push(stored);
    this.changed();
  }

  /**
   * POST /applications/{id}/addPassword. Graph makes the secret and returns it once; `secretText` is only for
   * seeding a directory with a secret a test or the mock engine already chose. Without dates, the secret is valid
   * from now for two years (Graph "application: addPassword").
   */
  addPassword(
    id: string,
    body: unknown,
    secretText = randomBytes(30).toString("base64url").slice(0, 40),
  ): NewPasswordCredential {
    const stored = this.requireApplication(id);
    const input = parse(addPasswordInput, body, "microsoft.graph.passwordCredential").passwordCredential ?? {};
    const start = input.startDateTime ? Date.parse(input.startDateTime) : this.now();
    const end = input.endDateTime ? Date.parse(input.endDateTime) : addYears(start, 2);
    // "Key credential end date is invalid." is Graph's answer to an end date in the past or before the start
    // (hashicorp/terraform-provider-azuread acceptance tests; see reference azure-review.md item 4).
    if (Number.isNaN(start) || Number.isNaN(end) || end <= start || end <= this.now()) {
      throw new DirectoryError(400, "Request_BadRequest", "Key credential end date is invalid.", "endDateTime");
    }
    const credential: PasswordCredential = {
      customKeyIdentifier: null,
      displayName: input.displayName ?? null,
      endDateTime: graphDateTime(end),
      hint: secretText.slice(0, 3),
      keyId: randomUUID(),
      secretText: null,
      startDateTime: graphDateTime(start),
    };
    stored.application.passwordCredentials.push(credential);
    stored.secretHashes[credential.keyId] = sha256(secretText);
    this.created(`password:${credential.keyId}`);
    this.changed();
    return { ...credential, secretText };
  }

  /** POST /applications/{id}/removePassword. */
  removePassword(id: string, body: unknown): void {
    const stored = this.requireApplication(id);
    const { keyId } = parse(z.object({ keyId: z.string() }).strict(), body, "removePassword");
    const before = stored.application.passwordCredentials.length;
    stored.application.passwordCredentials = stored.application.passwordCredentials.filter(
      (credential) => !sameId(credential.keyId, keyId),
    );
    if (stored.application.passwordCredentials.length === before) {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        `No password credential found with keyId '${keyId}'.`,
        "keyId",
      );
    }
    delete stored.secretHashes[keyId];
    this.changed();
  }

  /**
   * The password of this application whose secret matches, if it is valid at `at`; which of them matched, or why
   * none did, for the token endpoint's answer.
   */
  checkSecret(appId: string, secret: string, at: number): "valid" | "expired" | "wrong" {
    const stored = this.state.applications.find((candidate) => candidate.application.appId === appId.toLowerCase());
    if (!stored) return "wrong";
    const hash = Buffer.from(sha256(secret));
    const matching = stored.application.passwordCredentials.filter((credential) => {
      const known = stored.secretHashes[credential.keyId];
      return (
        known !== undefined &&
        known.length === hash.length &&
        timingSafeEqual(Buffer.from(known), hash) &&
        this.visible(`password:${credential.keyId}`, "replicated")
      );
    });
    if (matching.length === 0) return "wrong";
    const current = matching.some(
      (credential) => Date.parse(credential.startDateTime) <= at && at < Date.parse(credential.endDateTime),
    );
    return current ? "valid" : "expired";
  }

  federatedIdentityCredentials(applicationId: string, view: View = "primary"): FederatedIdentityCredential[] {
    return this.requireApplication(applicationId)
      .federatedIdentityCredentials.filter((credential) => this.visible(`federated:${credential.id}`, view))
      .map((credential) => structuredClone(credential));
  }

  /** POST /applications/{id}/federatedIdentityCredentials. */
  createFederatedIdentityCredential(applicationId: string, body: unknown): FederatedIdentityCredential {
    const stored = this.requireApplication(applicationId);
    const input = parse(federatedCredentialInput, body, "microsoft.graph.federatedIdentityCredential");
    const credential: FederatedIdentityCredential = {
      id: randomUUID(),
      name: input.name,
      issuer: input.issuer,
      subject: input.subject,
      audiences: input.audiences,
      description: input.description ?? null,
    };
    checkFederatedCredentials([...stored.federatedIdentityCredentials, credential]);
    stored.federatedIdentityCredentials.push(credential);
    this.created(`federated:${credential.id}`);
    this.changed();
    return structuredClone(credential);
  }

  /** PATCH /applications/{id}/federatedIdentityCredentials/{id}; the name cannot change. */
  updateFederatedIdentityCredential(applicationId: string, credentialId: string, body: unknown): void {
    const stored = this.requireApplication(applicationId);
    const existing = stored.federatedIdentityCredentials.find((credential) => sameId(credential.id, credentialId));
    if (!existing) throw notFound(credentialId);
    const input = parse(federatedCredentialInput.partial(), body, "microsoft.graph.federatedIdentityCredential");
    if (input.name !== undefined && input.name !== existing.name) {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        "The name of a federated identity credential cannot be changed.",
        "name",
      );
    }
    const next = { ...existing, ...input, description: input.description ?? existing.description };
    checkFederatedCredentials(
      stored.federatedIdentityCredentials.map((credential) => (credential === existing ? next : credential)),
    );
    Object.assign(existing, next);
    this.changed();
  }

  deleteFederatedIdentityCredential(applicationId: string, credentialId: string): void {
    const stored = this.requireApplication(applicationId);
    const remaining = stored.federatedIdentityCredentials.filter((credential) => !sameId(credential.id, credentialId));
    if (remaining.length === stored.federatedIdentityCredentials.length) throw notFound(credentialId);
    stored.federatedIdentityCredentials = remaining;
    this.changed();
  }

  /** Entra's rules on an application as a whole: identifier URIs, roles and scopes. */
  private checkApplication(next: Application, before: Application | undefined): void {
    checkIdentifierUrisUnique(
      next,
      this.state.applications.map((stored) => stored.application),
    );
    checkEntitlementValues(next);
    if (before) {
      checkDisabledBeforeChange(before.appRoles, next.appRoles);
      checkDisabledBeforeChange(before.api.oauth2PermissionScopes, next.api.oauth2PermissionScopes);
    }
  }

  /** New roles and scopes replicate like new objects: an assignment of a role just added may not find it. */
  private recordNewEntitlements(next: Application, before: Application | undefined): void {
    const known = new Set(
      [...(before?.appRoles ?? []), ...(before?.api.oauth2PermissionScopes ?? [])].map((e) => e.id),
    );
    for (const entitlement of [...next.appRoles, ...next.api.oauth2PermissionScopes]) {
      if (!known.has(entitlement.id)) this.created(`entitlement:${next.id}:${entitlement.id}`);
    }
  }

  // ---- owners -------------------------------------------------------------------------------------------------

  /** POST /{applications|servicePrincipals}/{id}/owners/$ref. */
  addOwner(kind: "application" | "servicePrincipal", id: string, ownerId: string): void {
    const stored = kind === "application" ? this.requireApplication(id) : this.requireServicePrincipal(id);
    if (!this.directoryObject(ownerId)) throw notFound(ownerId);
    if (stored.owners.some((owner) => sameId(owner, ownerId))) {
      // Graph: "One or more added object references already exist for the following modified properties: 'owners'."
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        "One or more added object references already exist for the following modified properties: 'owners'.",
        "owners",
      );
    }
    stored.owners.push(ownerId.toLowerCase());
    this.changed();
  }

  /** DELETE /{applications|servicePrincipals}/{id}/owners/{ownerId}/$ref. */
  removeOwner(kind: "application" | "servicePrincipal", id: string, ownerId: string): void {
    const stored = kind === "application" ? this.requireApplication(id) : this.requireServicePrincipal(id);
    const remaining = stored.owners.filter((owner) => !sameId(owner, ownerId));
    if (remaining.length === stored.owners.length) throw notFound(ownerId);
    stored.owners = remaining;
    this.changed();
  }

  /** A user, group or service principal by object id, with its Graph type. */
  directoryObject(
    id: string,
  ): { type: "user" | "group" | "servicePrincipal" | "application"; object: unknown } | undefined {
    const user = this.state.users.find((candidate) => sameId(candidate.id, id));
    if (user) return { type: "user", object: user };
    const group = this.state.groups.find((candidate) => sameId(candidate.id, id));
    if (group) return { type: "group", object: groupView(group) };
    const principal = this.storedServicePrincipal(id);
    if (principal) return { type: "servicePrincipal", object: this.servicePrincipalView(principal) };
    const application = this.storedApplication(id);
    if (application) return { type: "application", object: structuredClone(application.application) };
    return undefined;
  }

  // ---- service principals -------------------------------------------------------------------------------------

  servicePrincipals(view: View = "primary"): ServicePrincipalView[] {
    return this.state.servicePrincipals
      .filter((stored) => this.visible(`servicePrincipal:${stored.servicePrincipal.id}`, view))
      .map((stored) => this.servicePrincipalView(stored));
  }

  servicePrincipal(id: string, view: View = "primary"): ServicePrincipalView | undefined {
    const stored = this.storedServicePrincipal(id, view);
    return stored && this.servicePrincipalView(stored);
  }

  servicePrincipalByAppId(appId: string, view: View = "primary"): ServicePrincipalView | undefined {
    const stored = this.state.servicePrincipals.find(
      (candidate) => candidate.servicePrincipal.appId === appId.toLowerCase(),
    );
    return stored && this.visible(`servicePrincipal:${stored.servicePrincipal.id}`, view)
      ? this.servicePrincipalView(stored)
      : undefined;
  }

  servicePrincipalOwners(id: string): string[] {
    return [...this.requireServicePrincipal(id).owners];
  }

  private storedServicePrincipal(id: string, view: View = "primary"): StoredServicePrincipal | undefined {
    const stored = this.state.servicePrincipals.find((candidate) => candidate.servicePrincipal.id === id.toLowerCase());
    return stored && this.visible(`servicePrincipal:${stored.servicePrincipal.id}`, view) ? stored : undefined;
  }

  private requireServicePrincipal(id: string): StoredServicePrincipal {
    const stored = this.storedServicePrincipal(id);
    if (!stored) throw notFound(id);
    return stored;
  }

  /**
   * The service principal as Graph shows it: its roles, scopes, names and reply URLs are its application's (Entra
   * keeps them in step); a first-party principal carries its own.
   */
  private servicePrincipalView(stored: StoredServicePrincipal, view: View = "primary"): ServicePrincipalView {
    const sp = stored.servicePrincipal;
    const application = this.state.applications.find(
      (candidate) => candidate.application.appId === sp.appId,
    )?.application;
    const replicated = <T extends { id: string }>(entries: T[]) =>
      application
        ? entries.filter((entry) => this.visible(`entitlement:${application.id}:${entry.id}`, view))
        : entries;
    return structuredClone({
      ...sp,
      appDescription: application?.description ?? null,
      appDisplayName: application?.displayName ?? stored.firstParty?.displayName ?? null,
      appOwnerOrganizationId: null,
      appRoles: replicated(application?.appRoles ?? stored.firstParty?.appRoles ?? []),
      disabledByMicrosoftStatus: null,
      homepage: application?.web.homePageUrl ?? null,
      info: application?.info ?? null,
      keyCredentials: [],
      logoutUrl: application?.web.logoutUrl ?? null,
      oauth2PermissionScopes: replicated(application?.api.oauth2PermissionScopes ?? []),
      passwordCredentials: [],
      replyUrls: application
        ? [...application.web.redirectUris, ...application.spa.redirectUris, ...application.publicClient.redirectUris]
        : [],
      resourceSpecificApplicationPermissions: [],
      servicePrincipalNames: [sp.appId, ...(application?.identifierUris ?? [])],
      servicePrincipalType: stored.managedIdentity ? "ManagedIdentity" : "Application",
      signInAudience: application?.signInAudience ?? "AzureADMultipleOrgs",
      tokenEncryptionKeyId: null,
      verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
    });
  }

  /** The app roles of a service principal as another endpoint sees them (new ones wait for replication). */
  appRolesOf(servicePrincipalId: string, view: View): AppRole[] {
    const stored = this.storedServicePrincipal(servicePrincipalId, view);
    return stored ? this.servicePrincipalView(stored, view).appRoles : [];
  }

  scopesOf(servicePrincipalId: string, view: View): PermissionScope[] {
    const stored = this.storedServicePrincipal(servicePrincipalId, view);
    return stored ? this.servicePrincipalView(stored, view).oauth2PermissionScopes : [];
  }

  /**
   * POST /servicePrincipals. The application must be one this tenant holds, as seen by a replica; `owners@odata.bind`
   * names the first owners (the azuread provider always binds its caller here).
   */
  createServicePrincipal(body: unknown): ServicePrincipalView {
    const input = parse(servicePrincipalInput.extend({ appId: z.string() }), body, "microsoft.graph.servicePrincipal");
    // The message the azuread provider retries on while a new application replicates (service_principal_resource.go).
    if (!this.applicationByAppId(input.appId, "replicated")) {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        `The appId '${input.appId}' of the service principal does not reference a valid application object.`,
        "appId",
      );
    }
    if (this.servicePrincipalByAppId(input.appId)) {
      throw new DirectoryError(
        409,
        "Request_MultipleObjectsWithSameKeyValue",
        `The service principal cannot be created, updated, or restored because the service principal name ${input.appId} is already in use.`,
        "servicePrincipalNames",
      );
    }
    const owners = bindIds(input["owners@odata.bind"]);
    for (const owner of owners) if (!this.directoryObject(owner)) throw notFound(owner);
    const application = this.applicationByAppId(input.appId);
    const stored: StoredServicePrincipal = {
      servicePrincipal: applyServicePrincipal(
        newServicePrincipal(input.appId, application?.displayName ?? null),
        input,
      ),
      owners,
    };
    this.state.servicePrincipals.push(stored);
    this.created(`servicePrincipal:${stored.servicePrincipal.id}`);
    this.changed();
    return this.servicePrincipalView(stored);
  }

  /** A first-party service principal (Microsoft Graph, ARM) with its app roles, once per tenant. */
  ensureFirstPartyServicePrincipal(appId: string, displayName: string, appRoles: AppRole[]): ServicePrincipalView {
    let stored = this.state.servicePrincipals.find(
      (candidate) => candidate.servicePrincipal.appId === appId.toLowerCase(),
    );
    if (!stored) {
      stored = {
        servicePrincipal: newServicePrincipal(appId, displayName),
        owners: [],
        firstParty: { displayName, appRoles },
      };
      this.state.servicePrincipals.push(stored);
    } else {
      stored.firstParty = { displayName, appRoles };
    }
    this.changed();
    return this.servicePrincipalView(stored);
  }

  /**
   * The service principal Azure creates for a user-assigned identity when ARM creates it: type ManagedIdentity, a client
   * id of its own, no application, and the identity's resource id among its alternative names (Graph servicePrincipal
   * `alternativeNames`: "full resource IDs for managed identities"; `isExplicit=True` marks a user-assigned one).
   */
  createManagedIdentityServicePrincipal(identity: { resourceId: string; name: string }): ServicePrincipalView {
    const servicePrincipal = {
      ...newServicePrincipal(randomUUID(), identity.name),
      alternativeNames: ["isExplicit=True", identity.resourceId],
    };
    const stored: StoredServicePrincipal = {
      servicePrincipal,
      owners: [],
      managedIdentity: { resourceId: identity.resourceId },
    };
    this.state.servicePrincipals.push(stored);
    this.changed();
    return this.servicePrincipalView(stored);
  }

  /** The managed identities' service principals, as a replica sees them. */
  managedIdentities(view: View = "primary"): ServicePrincipalView[] {
    return this.state.servicePrincipals
      .filter((stored) => stored.managedIdentity && this.storedServicePrincipal(stored.servicePrincipal.id, view))
      .map((stored) => this.servicePrincipalView(stored, view));
  }

  /** PATCH /servicePrincipals/{id}. */
  updateServicePrincipal(id: string, body: unknown): void {
    const stored = this.requireServicePrincipal(id);
    const input = parse(servicePrincipalInput, body, "microsoft.graph.servicePrincipal");
    if (input.id !== undefined && !sameId(input.id, id)) {
      throw new DirectoryError(400, "Request_BadRequest", "The id of a service principal cannot be changed.", "id");
    }
    stored.servicePrincipal = applyServicePrincipal(stored.servicePrincipal, input);
    this.changed();
  }

  /** DELETE /servicePrincipals/{id}: soft-deleted; its assignments and grants go with it. */
  deleteServicePrincipal(id: string): void {
    const stored = this.requireServicePrincipal(id);
    const spId = stored.servicePrincipal.id;
    this.state.servicePrincipals = this.state.servicePrincipals.filter((candidate) => candidate !== stored);
    this.state.appRoleAssignments = this.state.appRoleAssignments.filter(
      (assignment) => !sameId(assignment.principalId, spId) && !sameId(assignment.resourceId, spId),
    );
    this.state.oauth2PermissionGrants = this.state.oauth2PermissionGrants.filter(
      (grant) => !sameId(grant.clientId, spId) && !sameId(grant.resourceId, spId),
    );
    stored.servicePrincipal.deletedDateTime = new Date(this.now()).toISOString();
    this.state.deletedItems.servicePrincipals.push(stored);
    this.changed();
  }

  // ---- deleted items ------------------------------------------------------------------------------------------

  deletedItems(kind: "application" | "servicePrincipal"): unknown[] {
    return kind === "application"
      ? this.state.deletedItems.applications.map((stored) => structuredClone(stored.application))
      : this.state.deletedItems.servicePrincipals.map((stored) => this.servicePrincipalView(stored));
  }

  /** POST /directory/deletedItems/{id}/restore: back as it was, unless a live object took its names meanwhile. */
  restoreDeletedItem(id: string): unknown {
    const application = this.state.deletedItems.applications.find((stored) => sameId(stored.application.id, id));
    if (application) {
      checkIdentifierUrisUnique(
        application.application,
        this.state.applications.map((stored) => stored.application),
      );
      this.state.deletedItems.applications = this.state.deletedItems.applications.filter(
        (stored) => stored !== application,
      );
      application.application.deletedDateTime = null;
      this.state.applications.push(application);
      this.changed();
      return structuredClone(application.application);
    }
    const principal = this.state.deletedItems.servicePrincipals.find((stored) =>
      sameId(stored.servicePrincipal.id, id),
    );
    if (!principal) throw notFound(id);
    if (this.servicePrincipalByAppId(principal.servicePrincipal.appId)) {
      throw new DirectoryError(
        409,
        "Request_MultipleObjectsWithSameKeyValue",
        `The service principal cannot be created, updated, or restored because the service principal name ${principal.servicePrincipal.appId} is already in use.`,
      );
    }
    this.state.deletedItems.servicePrincipals = this.state.deletedItems.servicePrincipals.filter(
      (stored) => stored !== principal,
    );
    principal.servicePrincipal.deletedDateTime = null;
    this.state.servicePrincipals.push(principal);
    this.changed();
    return this.servicePrincipalView(principal);
  }

  /** DELETE /directory/deletedItems/{id}: gone for good. */
  purgeDeletedItem(id: string): void {
    const { applications, servicePrincipals } = this.state.deletedItems;
    const remainingApps = applications.filter((stored) => !sameId(stored.application.id, id));
    const remainingSps = servicePrincipals.filter((stored) => !sameId(stored.servicePrincipal.id, id));
    if (remainingApps.length === applications.length && remainingSps.length === servicePrincipals.length)
      throw notFound(id);
    this.state.deletedItems = { applications: remainingApps, servicePrincipals: remainingSps };
    this.changed();
  }

  // ---- app role assignments -----------------------------------------------------------------------------------

  appRoleAssignments(view: View = "primary"): AppRoleAssignment[] {
    return this.state.appRoleAssignments
      .filter((assignment) => this.visible(`appRoleAssignment:${assignment.id}`, view))
      .map((assignment) => ({ ...assignment }));
  }

  /**
   * POST /servicePrincipals/{resourceId}/appRoleAssignedTo. Entra's rules: the role must be one the resource's
   * application declares (as a replica sees it) and allow the principal's kind — `Application` for a service
   * principal, `User` for users and groups (Entra "Add app roles to your application"); the default access role only
   * on an application without roles (Graph "appRoleAssignment resource type"); groups only if security-enabled, with
   * no nesting (Entra "Manage users and groups assignment to an application"); one assignment per principal and role.
   */
  createAppRoleAssignment(resourceId: string, body: unknown): AppRoleAssignment {
    const resource = this.requireServicePrincipal(resourceId);
    const input = parse(
      z.object({ principalId: z.string(), resourceId: z.string().optional(), appRoleId: z.string() }).strict(),
      body,
      "microsoft.graph.appRoleAssignment",
    );
    if (input.resourceId !== undefined && !sameId(input.resourceId, resourceId)) {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        "The resourceId must be the service principal in the URL.",
        "resourceId",
      );
    }
    const principal = this.principalForAssignment(input.principalId);
    const appId = resource.servicePrincipal.appId;
    const roles = this.appRolesOf(resource.servicePrincipal.id, "replicated");
    const declared = this.servicePrincipalView(resource).appRoles;
    const role = roles.find((candidate) => sameId(candidate.id, input.appRoleId));
    const defaultAccess = sameId(input.appRoleId, defaultAccessRoleId) && declared.length === 0;
    // The message terraform-provider-azuread does not retry (azure-review.md item 5; PR #1896).
    if (!role && !defaultAccess) {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        `Permission being assigned was not found on application '${appId}'.`,
        "appRoleId",
      );
    }
    const memberType = principal.type === "servicePrincipal" ? "Application" : "User";
    if (role && (!role.isEnabled || !role.allowedMemberTypes.includes(memberType))) {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        `Permission being assigned is not allowed for a ${principal.type} on application '${appId}': the app role '${role.value}' allows ${role.allowedMemberTypes.join(", ") || "no one"}.`,
        "appRoleId",
      );
    }
    if (principal.type === "group" && !principal.securityEnabled) {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        "Only security-enabled groups can be assigned to an application.",
        "principalId",
      );
    }
    if (
      this.state.appRoleAssignments.some(
        (existing) =>
          existing.resourceId === resource.servicePrincipal.id &&
          existing.principalId === input.principalId.toLowerCase() &&
          existing.appRoleId === input.appRoleId.toLowerCase(),
      )
    ) {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        "Permission being assigned already exists on the object",
        "appRoleId",
      );
    }
    const assignment: AppRoleAssignment = {
      id: randomBytes(32).toString("base64url").slice(0, 43),
      appRoleId: input.appRoleId.toLowerCase(),
      createdDateTime: new Date(this.now()).toISOString(),
      deletedDateTime: null,
      principalDisplayName: principal.displayName,
      principalId: input.principalId.toLowerCase(),
      principalType:
        principal.type === "servicePrincipal" ? "ServicePrincipal" : principal.type === "user" ? "User" : "Group",
      resourceDisplayName: this.servicePrincipalView(resource).displayName,
      resourceId: resource.servicePrincipal.id,
    };
    this.state.appRoleAssignments.push(assignment);
    this.created(`appRoleAssignment:${assignment.id}`);
    this.changed();
    return { ...assignment };
  }

  /** The principal of a new assignment as a replica sees it; Graph's answer the azuread provider retries on. */
  private principalForAssignment(id: string): {
    type: "servicePrincipal" | "user" | "group";
    displayName: string | null;
    securityEnabled?: boolean;
  } {
    const principal = this.storedServicePrincipal(id, "replicated");
    if (principal) return { type: "servicePrincipal", displayName: this.servicePrincipalView(principal).displayName };
    const user = this.state.users.find(
      (candidate) => candidate.id === id.toLowerCase() && this.visible(`user:${candidate.id}`, "replicated"),
    );
    if (user) return { type: "user", displayName: user.displayName };
    const group = this.state.groups.find(
      (candidate) => candidate.id === id.toLowerCase() && this.visible(`group:${candidate.id}`, "replicated"),
    );
    if (group) return { type: "group", displayName: group.displayName, securityEnabled: group.securityEnabled };
    throw new DirectoryError(400, "Request_BadRequest", "Not a valid reference update.", "principalId");
  }

  deleteAppRoleAssignment(resourceId: string, id: string): void {
    const remaining = this.state.appRoleAssignments.filter(
      (assignment) => !(sameId(assignment.resourceId, resourceId) && assignment.id === id),
    );
    if (remaining.length === this.state.appRoleAssignments.length) throw notFound(id);
    this.state.appRoleAssignments = remaining;
    this.changed();
  }

  // ---- delegated permission grants ----------------------------------------------------------------------------

  oauth2PermissionGrants(view: View = "primary"): OAuth2PermissionGrant[] {
    return this.state.oauth2PermissionGrants
      .filter((grant) => this.visible(`grant:${grant.id}`, view))
      .map((grant) => ({ ...grant }));
  }

  /** POST /oauth2PermissionGrants: admin consent for all users (AllPrincipals) or one (Principal). */
  createOAuth2PermissionGrant(body: unknown): OAuth2PermissionGrant {
    const input = parse(grantInput, body, "microsoft.graph.oAuth2PermissionGrant");
    for (const id of [input.clientId, input.resourceId]) {
      // The reference error the azuread provider retries on while a new service principal replicates.
      if (!this.storedServicePrincipal(id, "replicated")) {
        throw new DirectoryError(
          400,
          "Request_BadRequest",
          `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
        );
      }
    }
    if ((input.consentType === "Principal") !== Boolean(input.principalId)) {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        "principalId is required when consentType is 'Principal' and must be empty when it is 'AllPrincipals'.",
        "principalId",
      );
    }
    const duplicate = this.state.oauth2PermissionGrants.some(
      (grant) =>
        sameId(grant.clientId, input.clientId) &&
        sameId(grant.resourceId, input.resourceId) &&
        grant.consentType === input.consentType &&
        (grant.principalId ?? "") === (input.principalId ?? "").toLowerCase(),
    );
    if (duplicate) throw new DirectoryError(409, "Request_BadRequest", "Permission entry already exists.");
    const grant: OAuth2PermissionGrant = {
      id: randomBytes(32).toString("base64url").slice(0, 43),
      clientId: input.clientId.toLowerCase(),
      consentType: input.consentType,
      principalId: input.principalId ? input.principalId.toLowerCase() : null,
      resourceId: input.resourceId.toLowerCase(),
      scope: input.scope ?? "",
    };
    this.state.oauth2PermissionGrants.push(grant);
    this.created(`grant:${grant.id}`);
    this.changed();
    return { ...grant };
  }

  /** PATCH /oauth2PermissionGrants/{id}: only the scope changes. */
  updateOAuth2PermissionGrant(id: string, body: unknown): void {
    const grant = this.state.oauth2PermissionGrants.find((candidate) => candidate.id === id);
    if (!grant) throw notFound(id);
    grant.scope = parse(z.object({ scope: z.string() }).strict(), body, "microsoft.graph.oAuth2PermissionGrant").scope;
    this.changed();
  }

  deleteOAuth2PermissionGrant(id: string): void {
    const remaining = this.state.oauth2PermissionGrants.filter((grant) => grant.id !== id);
    if (remaining.length === this.state.oauth2PermissionGrants.length) throw notFound(id);
    this.state.oauth2PermissionGrants = remaining;
    this.changed();
  }

  // ---- users and groups ---------------------------------------------------------------------------------------

  users(): User[] {
    return this.state.users.map((user) => ({ ...user }));
  }

  /** A user by object id or user principal name. */
  user(idOrUpn: string): User | undefined {
    const user = this.state.users.find(
      (candidate) =>
        sameId(candidate.id, idOrUpn) || candidate.userPrincipalName.toLowerCase() === idOrUpn.toLowerCase(),
    );
    return user && { ...user };
  }

  createUser(body: unknown): User {
    const input = parse(userInput, body, "microsoft.graph.user");
    if (this.user(input.userPrincipalName)) {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        "Another object with the same value for property userPrincipalName already exists.",
        "userPrincipalName",
        "ObjectConflict",
      );
    }
    const user: User = {
      id: (input.id ?? randomUUID()).toLowerCase(),
      displayName: input.displayName,
      userPrincipalName: input.userPrincipalName,
      accountEnabled: input.accountEnabled ?? true,
    };
    this.state.users.push(user);
    this.created(`user:${user.id}`);
    this.changed();
    return { ...user };
  }

  groups(): Group[] {
    return this.state.groups.map(groupView);
  }

  group(id: string): Group | undefined {
    const group = this.state.groups.find((candidate) => sameId(candidate.id, id));
    return group && groupView(group);
  }

  groupMembers(id: string): string[] {
    const group = this.state.groups.find((candidate) => sameId(candidate.id, id));
    if (!group) throw notFound(id);
    return [...group.members];
  }

  createGroup(body: unknown): Group {
    const input = parse(groupInput, body, "microsoft.graph.group");
    const group = {
      id: (input.id ?? randomUUID()).toLowerCase(),
      displayName: input.displayName,
      mailEnabled: input.mailEnabled,
      mailNickname: input.mailNickname,
      securityEnabled: input.securityEnabled,
      groupTypes: input.groupTypes ?? [],
      members: bindIds(input["members@odata.bind"]),
    };
    this.state.groups.push(group);
    this.created(`group:${group.id}`);
    this.changed();
    return groupView(group);
  }

  /** POST /groups/{id}/members/$ref. Only users are members: Entra ignores nested groups for app assignment. */
  addGroupMember(groupId: string, memberId: string): void {
    const group = this.state.groups.find((candidate) => sameId(candidate.id, groupId));
    if (!group) throw notFound(groupId);
    if (!this.user(memberId)) throw notFound(memberId);
    if (group.members.some((member) => sameId(member, memberId))) {
      throw new DirectoryError(
        400,
        "Request_BadRequest",
        "One or more added object references already exist for the following modified properties: 'members'.",
        "members",
      );
    }
    group.members.push(memberId.toLowerCase());
    this.changed();
  }

  /** The groups a user is a direct member of. */
  groupsOf(userId: string): Group[] {
    return this.state.groups.filter((group) => group.members.some((member) => sameId(member, userId))).map(groupView);
  }

  // ---- seeding ------------------------------------------------------------------------------------------------

  /**
   * Adds objects as Entra already holds them, without Graph's checks: what a test's stand-in directory or an
   * administrator's earlier portal clicks made. Each counts as created now for the replication delay.
   */
  seed(objects: Partial<SeedObjects>): void {
    for (const { application, owners = [], federatedIdentityCredentials = [], secrets = [] } of objects.applications ??
      []) {
      // Ids are kept in lower case, as Graph returns them, so look-ups compare them as they are.
      const full = mergeApplication(newApplication((application.id ?? randomUUID()).toLowerCase(), this.now()), {
        ...application,
        appId: application.appId.toLowerCase(),
      });
      const stored: StoredApplication = { application: full, owners, federatedIdentityCredentials, secretHashes: {} };
      this.state.applications.push(stored);
      this.created(`application:${full.id}`);
      for (const credential of federatedIdentityCredentials) this.created(`federated:${credential.id}`);
      for (const secret of secrets) this.addPassword(full.id, {}, secret);
    }
    for (const principal of objects.servicePrincipals ?? []) {
      const stored = {
        servicePrincipal: {
          ...newServicePrincipal(principal.appId, null),
          ...principal,
          id: principal.id.toLowerCase(),
          appId: principal.appId.toLowerCase(),
        },
        owners: [],
      };
      stored.servicePrincipal.displayName ??= this.applicationByAppId(principal.appId)?.displayName ?? null;
      this.state.servicePrincipals.push(stored);
      this.created(`servicePrincipal:${stored.servicePrincipal.id}`);
    }
    for (const user of objects.users ?? []) {
      this.state.users.push({ accountEnabled: true, ...user, id: user.id.toLowerCase() });
      this.created(`user:${user.id.toLowerCase()}`);
    }
    for (const assignment of objects.appRoleAssignments ?? []) {
      const full: AppRoleAssignment = {
        id: randomBytes(32).toString("base64url").slice(0, 43),
        createdDateTime: new Date(this.now()).toISOString(),
        deletedDateTime: null,
        principalDisplayName: null,
        resourceDisplayName: null,
        ...assignment,
        appRoleId: assignment.appRoleId.toLowerCase(),
        principalId: assignment.principalId.toLowerCase(),
        resourceId: assignment.resourceId.toLowerCase(),
      };
      this.state.appRoleAssignments.push(full);
      this.created(`appRoleAssignment:${full.id}`);
    }
    for (const grant of objects.oauth2PermissionGrants ?? []) {
      const full: OAuth2PermissionGrant = {
        id: randomBytes(32).toString("base64url").slice(0, 43),
        consentType: "AllPrincipals",
        principalId: null,
        ...grant,
        clientId: grant.clientId.toLowerCase(),
        resourceId: grant.resourceId.toLowerCase(),
      };
      this.state.oauth2PermissionGrants.push(full);
      this.created(`grant:${full.id}`);
    }
    this.changed();
  }
}

export type ServicePrincipalView = ServicePrincipal & {
  appDescription: string | null;
  appDisplayName: string | null;
  appOwnerOrganizationId: string | null;
  appRoles: AppRole[];
  oauth2PermissionScopes: PermissionScope[];
  replyUrls: string[];
  servicePrincipalNames: string[];
  servicePrincipalType: string;
  signInAudience: string;
};

/** What {@link Directory.seed} takes: Graph-shaped objects, with only the properties that matter given. */
export interface SeedObjects {
  applications: {
    application: Partial<Application> & { appId: string };
    owners?: string[];
    federatedIdentityCredentials?: FederatedIdentityCredential[];
    /** Secrets the application's passwords hold (valid from now, for two years). */
    secrets?: string[];
  }[];
  servicePrincipals: (Partial<ServicePrincipal> & { id: string; appId: string })[];
  users: (Omit<User, "accountEnabled"> & { accountEnabled?: boolean })[];
  appRoleAssignments: Pick<AppRoleAssignment, "appRoleId" | "principalId" | "resourceId" | "principalType">[];
  oauth2PermissionGrants: Pick<OAuth2PermissionGrant, "clientId" | "resourceId" | "scope">[];
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("base64url");
}

/**
 * A time as Graph writes a DateTimeOffset: in UTC, with a fraction of a second only when there is one, so a date
 * posted as `2027-05-22T00:00:00Z` reads back as posted (the azuread provider replaces a password whose end date
 * reads back otherwise).
 */
export function graphDateTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.?0+Z$/, "Z");
}

function addYears(epochMs: number, years: number): number {
  const date = new Date(epochMs);
  date.setUTCFullYear(date.getUTCFullYear() + years);
  return date.getTime();
}
