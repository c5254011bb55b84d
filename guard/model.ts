/**
 * What every guard rule sees: a resource's type, name and inputs, and which other resources feed each input.
 * The same shape comes from three places: `npm run plan` (the mock engine), a plan's JSON file, and CrossGuard
 * under `pulumi preview` (see guard/index.ts).
 */
export interface GuardResource {
  urn: string;
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Per input key: URNs of the resources whose outputs feed it (Pulumi's property dependencies). */
  inputSources?: Record<string, string[]>;
  protect?: boolean;
}

export interface GuardOptions {
  /** Longest a client password may live, from its start (rotation day) to its end date. */
  maxSecretLifetimeDays: number;
}

/** Microsoft's own ceiling for a client secret is 24 months in the portal; 730 days is the same figure. */
export const defaultMaxSecretLifetimeDays = 730;
export const defaultGuardOptions: GuardOptions = { maxSecretLifetimeDays: defaultMaxSecretLifetimeDays };

export type RuleLevel = "mandatory" | "advisory";

export interface Finding {
  rule: string;
  level: RuleLevel;
  /** The resource's logical name (or the stack's, for stack-wide findings). */
  resource: string;
  urn?: string;
  /** What is wrong and how to fix it, in one sentence. */
  fix: string;
}

export interface GuardRule {
  name: string;
  level: RuleLevel;
  description: string;
  /** The options the rule reads, offered as the pack's per-policy config. */
  reads?: (keyof GuardOptions)[];
  check(resources: GuardResource[], options: GuardOptions): Finding[];
}

/** A value CrossGuard could not know during preview (e.g. a new app's client id); rules skip what they can't see. */
export const unknownValue = Symbol("unknown during preview");
export const isUnknown = (value: unknown): boolean => value === unknownValue;

export const types = {
  application: "azuread:index/application:Application",
  applicationRegistration: "azuread:index/applicationRegistration:ApplicationRegistration",
  identifierUri: "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri",
  appRole: "azuread:index/applicationAppRole:ApplicationAppRole",
  permissionScope: "azuread:index/applicationPermissionScope:ApplicationPermissionScope",
  servicePrincipal: "azuread:index/servicePrincipal:ServicePrincipal",
  password: "azuread:index/applicationPassword:ApplicationPassword",
  federatedCredential: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
  apiAccess: "azuread:index/applicationApiAccess:ApplicationApiAccess",
  appRoleAssignment: "azuread:index/appRoleAssignment:AppRoleAssignment",
  delegatedPermissionGrant:
    "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
  redirectUris: "azuread:index/applicationRedirectUris:ApplicationRedirectUris",
  apimApi: "azure-native:apimanagement:Api",
  apimApiPolicy: "azure-native:apimanagement:ApiPolicy",
} as const;

export const isAppRegistration = (resource: GuardResource): boolean =>
  resource.type === types.applicationRegistration || resource.type === types.application;

/** The stack a URN belongs to: `urn:pulumi:<stack>::<project>::…`. */
export const stackOfUrn = (urn: string): string => urn.slice("urn:pulumi:".length).split("::")[0] ?? "";

/** Relations between resources, read from property dependencies (values such as object ids are outputs). */
export class ResourceGraph {
  private readonly byUrn: Map<string, GuardResource>;

  constructor(readonly resources: GuardResource[]) {
    this.byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
  }

  ofType(...wanted: string[]): GuardResource[] {
    return this.resources.filter((resource) => wanted.includes(resource.type));
  }

  /** The resources feeding `key` of `resource`. */
  sourcesOf(resource: GuardResource, key: string): GuardResource[] {
    return (resource.inputSources?.[key] ?? []).flatMap((urn) => this.byUrn.get(urn) ?? []);
  }

  /** Resources of the given types whose `key` input is fed by `source`. */
  fedBy(source: GuardResource, key: string, ...wanted: string[]): GuardResource[] {
    return this.ofType(...wanted).filter((resource) => resource.inputSources?.[key]?.includes(source.urn));
  }

  /** Whether any input of any resource is fed by `source`. */
  feedsAnything(source: GuardResource): boolean {
    return this.resources.some((resource) =>
      Object.values(resource.inputSources ?? {}).some((urns) => urns.includes(source.urn)),
    );
  }

  /** An app registration's service principals. */
  servicePrincipalsOf(app: GuardResource): GuardResource[] {
    return this.fedBy(app, "clientId", types.servicePrincipal);
  }

  /** The app registration a service principal or an application-scoped resource belongs to. */
  appOf(resource: GuardResource): GuardResource | undefined {
    const key = resource.type === types.servicePrincipal ? "clientId" : "applicationId";
    return this.sourcesOf(resource, key).find(isAppRegistration);
  }

  /** Apps exposing an API: with an identifier URI, an app role, or a service principal others are assigned to. */
  apiApps(): GuardResource[] {
    return this.resources
      .filter(isAppRegistration)
      .filter(
        (app) =>
          this.fedBy(app, "applicationId", types.identifierUri, types.appRole).length > 0 ||
          stringList(app.inputs.identifierUris).length > 0 ||
          this.servicePrincipalsOf(app).some(
            (sp) => this.fedBy(sp, "resourceObjectId", types.appRoleAssignment).length > 0,
          ),
      );
  }

  /**
   * Daemon clients: apps whose service principal holds an app role assignment (an application permission) and
   * that have no delegated permission (no delegated grant, no scope requested): they sign in as themselves only.
   */
  daemonApps(): GuardResource[] {
    return this.resources.filter(isAppRegistration).filter((app) => {
      const principals = this.servicePrincipalsOf(app);
      const assigned = principals.some((sp) => this.fedBy(sp, "principalObjectId", types.appRoleAssignment).length > 0);
      const delegated =
        principals.some(
          (sp) => this.fedBy(sp, "servicePrincipalObjectId", types.delegatedPermissionGrant).length > 0,
        ) ||
        this.fedBy(app, "applicationId", types.apiAccess).some(
          (access) => stringList(access.inputs.scopeIds).length > 0,
        );
      return assigned && !delegated;
    });
  }

  /** The names an API app answers to as an audience: its identifier URIs and, for `api://<id>`, the bare id. */
  audienceNamesOf(app: GuardResource): string[] {
    const uris = [
      ...stringList(app.inputs.identifierUris),
      ...this.fedBy(app, "applicationId", types.identifierUri).flatMap((uri) => stringList([uri.inputs.identifierUri])),
    ];
    return [...new Set(uris.flatMap((uri) => (uri.startsWith("api://") ? [uri, uri.slice("api://".length)] : [uri])))];
  }

  /** Values of the app roles an app offers to applications. */
  appRoleValuesOf(app: GuardResource): string[] {
    const split = this.fedBy(app, "applicationId", types.appRole).filter((role) =>
      stringList(role.inputs.allowedMemberTypes).includes("Application"),
    );
    const inline = Array.isArray(app.inputs.appRoles) ? (app.inputs.appRoles as Record<string, unknown>[]) : [];
    return [
      ...split.flatMap((role) => stringList([role.inputs.value])),
      ...inline
        .filter((role) => stringList(role.allowedMemberTypes).includes("Application"))
        .flatMap((role) => stringList([role.value])),
    ];
  }
}

/** The strings in a list input, skipping unknowns and other values. */
export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

export const finding = (
  rule: Pick<GuardRule, "name" | "level">,
  resource: Pick<GuardResource, "name" | "urn">,
  fix: string,
): Finding => ({ rule: rule.name, level: rule.level, resource: resource.name, urn: resource.urn, fix });
