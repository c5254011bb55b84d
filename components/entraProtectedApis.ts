import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { apimService } from "./apimService";
import { type ApiAccess, apiOutputs, type ClientAccess, clientOutputs } from "./catalogueOutputs";
import { registerGateway } from "./gatewayWiring";
import { registerIdentity } from "./identityWiring";
import { assertComponentServiceTier, validateComponentArgs } from "../config/componentArgs";
import { projectName, type Catalogue } from "../config/validate";
import { today } from "../config/clock";

/** To create the APIM service instead of looking it up (30–60+ minutes). */
export interface ApimCreationSpec {
  /** Pricing tier: Consumption, Developer, Basic, Standard, BasicV2, StandardV2 or Premium. */
  sku: string;
  /** Scale units: 0 on Consumption, 1–12 on the other tiers. Default 0 on Consumption, else 1. */
  capacity?: number;
  /** Azure region name, e.g. westeurope. */
  location: string;
  /** Publisher name shown in the developer portal: 1–100 characters. */
  publisherName: string;
  /** Publisher e-mail address: at most 100 characters. */
  publisherEmail: string;
}

/** The APIM service the APIs are published on: an existing one (the default), or one created here. */
export interface ApimServiceSpec {
  /** Resource group of the service: 1–90 letters, digits, '-', '_', '.', '(' or ')', not ending with '.'. */
  resourceGroupName: string;
  /** Name of the service: 1–50 letters, digits or hyphens, starting with a letter, not ending with a hyphen. */
  serviceName: string;
  /** Create the service with these settings; absent, the existing service is looked up. */
  create?: ApimCreationSpec;
}

/** The developer portal's OAuth 2.0 authorization server for one API (APIM test console). */
export interface PortalSpec {
  /** Whether the authorization server is made. Default true. */
  enabled?: boolean;
  /** Name of the client (in `clients`) whose id and secret the portal uses; it needs credential "secret". */
  client: string;
}

/** The service principal of a registration made by hand. */
export interface ExistingServicePrincipalSpec {
  /** The service principal's object id (GUID). */
  objectId: string;
  /** Object ids of its owners; they stay owners beside the deploying identity. Default none. */
  owners?: string[];
}

/** A role or scope that exists on a registration made by hand: managed from now on, with its id kept. */
export interface ExistingPermissionSpec {
  /** Its id (GUID): consents and assignments name it. */
  id: string;
  /** Its value as it exists. */
  value: string;
}

/** An API registration made by hand (npm run adopt writes this): imported, kept in the tenant on destroy. */
export interface ExistingApiSpec {
  /** The app registration's object id (GUID). */
  objectId: string;
  /** Its application (client) id (GUID): the audience stays. */
  clientId: string;
  /** Its service principal, when it has one. */
  servicePrincipal?: ExistingServicePrincipalSpec;
  /** api://<clientId> when the app has it (the only URI the program manages). */
  identifierUri?: string;
  /** The scope that `scope` manages, when it exists. */
  scope?: ExistingPermissionSpec;
  /** The app role that `appRole` manages, when it exists. */
  appRole?: ExistingPermissionSpec;
  /** Leave the adopted objects in the tenant when they are deleted (pulumi destroy included). Default true. */
  retainOnDelete?: boolean;
}

/** A grant between two adopted registrations that exists, wholly or partly. */
export interface ExistingGrantSpec {
  /** The API granted: a name in the client's apis. */
  api: string;
  /** The client's API permissions list the API. Default false. */
  permissionListed?: boolean;
  /** A daemon's admin consent: the id of the app role assignment of the API's existing role. */
  appRoleAssignmentId?: string;
  /** A signed-in user's client's admin consent: the id of the delegated permission grant. */
  delegatedPermissionGrantId?: string;
}

/** A client registration made by hand (npm run adopt writes this): imported, kept in the tenant on destroy. */
export interface ExistingClientSpec {
  /** The app registration's object id (GUID). */
  objectId: string;
  /** Its application (client) id (GUID): callers keep using it, and their secrets made in the portal keep working. */
  clientId: string;
  /** Its service principal, when it has one. */
  servicePrincipal?: ExistingServicePrincipalSpec;
  /** The redirect URIs of the client kind's platform that exist. */
  redirectUris?: string[];
  /** The grants that exist between it and adopted APIs. */
  grants?: ExistingGrantSpec[];
  /** Leave the adopted objects in the tenant when they are deleted (pulumi destroy included). Default true. */
  retainOnDelete?: boolean;
}

/** Calls one client may make to one API, counted on the client id of the token the gateway validated. */
export interface CallLimitsSpec {
  /** Calls per 60-second sliding window (rate-limit-by-key), 1–2147483647: beyond it, 429 with Retry-After. */
  callsPerMinute?: number;
  /** Calls per day from midnight UTC (quota-by-key), 1–2147483647: beyond it, 403 with Retry-After; not on v2 tiers. */
  callsPerDay?: number;
}

/** An API's client limits: every client's, and clients with limits of their own. Not on the Consumption tier. */
export interface LimitsSpec {
  /** Calls per 60-second sliding window for every client not in `clients` (rate-limit-by-key), 1–2147483647. */
  callsPerMinute?: number;
  /** Calls per day from midnight UTC for every client not in `clients` (quota-by-key), 1–2147483647. */
  callsPerDay?: number;
  /** Limits of their own, by client name (in `clients`) or client id GUID; a number left out is the API's. */
  clients?: Record<string, CallLimitsSpec>;
}

/** One API that APIM protects with an Entra ID token check. */
export interface ApiSpec {
  /** Stable key in every resource name and the APIM API id: 1–32 lowercase letters, digits, single hyphens. */
  name: string;
  /** Display name of the API app registration (suffixed with nameSuffix) and the APIM API: 1–120 characters. */
  displayName: string;
  /** URL suffix on the gateway, without a leading or trailing slash: 1–400 characters. */
  path: string;
  /** The backend APIM forwards to: an absolute http(s) URL of at most 2000 characters. */
  backendUrl: string;
  /** Application permission (app role) value that client-credentials tokens carry in `roles`. Default access_as_app. */
  appRole?: string;
  /** Admins-only delegated scope value, carried in `scp`; must differ from appRole. Default access_as_user. */
  scope?: string;
  /** The API app's access token version, 1 or 2: it decides the token's aud, iss and client-id claim. Default 2. */
  tokenVersion?: number;
  /** Path of an OpenAPI document (.json, .yaml or .yml) that describes the operations; default catch-all operations. */
  openApiFile?: string;
  /** The gateway's token check: "validate-jwt" (default) or "validate-azure-ad-token". */
  validation?: string;
  /** Clock skew the token check tolerates, in whole seconds from 0 to 300. Default 60. */
  clockSkewSeconds?: number;
  /** Only these clients' tokens pass: names in `clients` or client id GUIDs. Default: any granted client. */
  allowedClients?: string[];
  /** The developer portal's OAuth 2.0 authorization server; not available on the Consumption tier. */
  authorizationServer?: PortalSpec;
  /** Names this API had before, oldest first: a rename then keeps its registrations, ids and APIM API. */
  formerNames?: string[];
  /** Who may call: "applications" (app role in `roles`) and/or "users" (the scope in `scp`). Default applications. */
  callers?: string[];
  /** Object ids (GUIDs) of the users or groups assigned to the API; only they get a token for it (callers "users"). */
  assignedPrincipals?: string[];
  /** The registration made by hand this entry adopts: imported instead of created, keeping its ids and name. */
  existing?: ExistingApiSpec;
  /** Calls per minute and per day, per client; beyond them the gateway answers 429 or 403 with Retry-After. */
  limits?: LimitsSpec;
}

/** One client secret: valid from rotatedOn for lifetimeDays. */
export interface SecretSpec {
  /** The day the secret is issued (YYYY-MM-DD), at the latest today; unique per client, it names the secret. */
  rotatedOn: string;
  /** Lifetime in whole days from 1 to 730. Default 180. */
  lifetimeDays?: number;
}

/** A federated identity credential: tokens of this issuer and subject stand in for a secret. */
export interface FederatedCredentialSpec {
  /** Credential name: 3–120 letters, digits, '-' or '_', starting with a letter or digit. */
  name: string;
  /** The issuer exactly as its tokens carry it (https URL, at most 600 characters, no stray trailing slash). */
  issuer: string;
  /** The exact subject of the issuer's tokens (at most 600 characters, no wildcards). */
  subject: string;
}

/** Where a managed identity the program creates lives. */
export interface ManagedIdentitySpec {
  /** Resource group of the identity, which must exist: 1–90 letters, digits, '-', '_', '.', '(' or ')', not ending with '.'. */
  resourceGroupName: string;
  /** Azure region name, e.g. westeurope. */
  location: string;
}

/** One client allowed to call APIs: an app registration with a service principal and its credential. */
export interface ClientSpec {
  /** Stable key in every resource name: 1–32 lowercase letters, digits, single hyphens. */
  name: string;
  /** Display name of the client app registration (suffixed with nameSuffix): 1–120 characters. */
  displayName: string;
  /** "secret", "federated" or "none". Default "none" for spa and native clients (they may have no other), else "secret". */
  credential?: string;
  /** The client's secrets (credential "secret"): one, or two during a rotation. */
  secrets?: SecretSpec[];
  /** Shorthand for a one-entry secrets list: the day the secret is issued (YYYY-MM-DD). */
  secretRotatedOn?: string;
  /** Shorthand for secrets[0].lifetimeDays. */
  secretLifetimeDays?: number;
  /** This client is one API's developer portal client and is used for nothing else (required with protect). */
  portal?: boolean;
  /** kind managedIdentity: create a user-assigned identity (named `<name>-<nameSuffix>`) here; or give principalId. */
  identity?: ManagedIdentitySpec;
  /** kind managedIdentity: the object id (GUID) of an existing managed identity's service principal; or give identity. */
  principalId?: string;
  /** Federated credentials (credential "federated"): at most 20. */
  federatedCredentials?: FederatedCredentialSpec[];
  /** Names of the APIs this client is granted (admin consent): at most 50. */
  apis?: string[];
  /** Names this client had before, oldest first: a rename then keeps its registration and secret. */
  formerNames?: string[];
  /** "daemon" (default: client credentials), a client that acts for a user ("web", "spa" or "native"), or "managedIdentity". */
  kind?: string;
  /** Where Entra may return a signed-in user (web, spa, native): https, or http on 127.0.0.1 or localhost. */
  redirectUris?: string[];
  /** The registration made by hand this entry adopts: imported instead of created, keeping its ids and name. */
  existing?: ExistingClientSpec;
}

/**
 * The catalogue, as the component's arguments. Every field is a plain value, not an Input: each one decides which
 * resources exist, so all of them are checked before anything is registered.
 */
export interface EntraProtectedApisArgs {
  /** The APIM service the APIs are published on. */
  apim: ApimServiceSpec;
  /** The APIs APIM protects; at least one. */
  apis: ApiSpec[];
  /** The clients allowed to call them. Default none. */
  clients?: ClientSpec[];
  /** Entra tenant GUID. Default: the deploying identity's tenant. */
  tenantId?: string;
  /** Entra authority host, e.g. https://login.microsoftonline.us in a sovereign cloud. Default https://login.microsoftonline.com. */
  authorityHost?: string;
  /** Appended to every app registration's display name (registrations are tenant-wide): up to 20 letters, digits or hyphens, "" for none. Default: the stack name. */
  nameSuffix?: string;
  /** Protect app registrations, service principals, APIM APIs and a created service from deletion (never credentials or grants); the resource option `protect: true` on the component does the same. Default false. */
  protect?: boolean;
}

/**
 * A stack's validated config as the component's arguments: secrets in their list form (the shorthand is already
 * folded in), defaults filled in. Validating these again yields the same config.
 */
export function catalogueArgs(config: Catalogue): EntraProtectedApisArgs {
  const { tenantId, authorityHost, nameSuffix, protect, apim, apis } = config;
  const clients = config.clients.map((client) => {
    const { secretRotatedOn: _shorthand, secretLifetimeDays: _lifetime, secrets, ...rest } = client;
    return client.credential === "secret" ? { ...rest, secrets } : rest;
  });
  return { apim, apis, clients, authorityHost, nameSuffix, protect, ...(tenantId ? { tenantId } : {}) };
}

/**
 * Everything a client needs to get an Entra ID token and call an API behind APIM that checks it: the API and client
 * app registrations, the grants with admin consent, and the APIM APIs whose policies accept exactly those tokens.
 * Its children are named after the catalogue's entries, and URNs do not carry the component's name: declare one per
 * stack (a second one with the same entry names is refused by Pulumi as duplicate URNs).
 */
export class EntraProtectedApis extends pulumi.ComponentResource {
  /** The Entra authority host tokens come from. */
  public readonly authorityHost: pulumi.Output<string>;
  /** The Entra tenant the registrations live in. */
  public readonly tenantId: pulumi.Output<string>;
  /** The APIM gateway's base URL. */
  public readonly gatewayUrl: pulumi.Output<string>;
  /** Per client: what a token request needs; the newest secret stays a Pulumi secret. */
  public readonly clients: Record<string, ClientAccess>;
  /** Per API: the ids its tokens carry, its gateway URL, its rendered policy and the guide's commands. */
  public readonly apis: Record<string, ApiAccess>;

  constructor(name: string, args: EntraProtectedApisArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before the component itself is registered: bad arguments leave nothing behind. `protect: true` as this
    // component's resource option protects what the `protect` argument does, and nothing more (components/protection.ts).
    const validated = validateComponentArgs(args, name, pulumi.getStack(), today());
    const catalogue = { ...validated, protect: validated.protect || opts?.protect === true };
    super(`${projectName}:index:EntraProtectedApis`, name, {}, opts);

    const service = apimService(catalogue, this);
    // Asked once per run: the deploying identity owns every service principal, and its tenant is the default one.
    const deployer = azuread.getClientConfigOutput({ parent: this });
    const tenantId: pulumi.Output<string> = catalogue.tenantId ? pulumi.output(catalogue.tenantId) : deployer.tenantId;
    const identity = registerIdentity(catalogue, this, deployer.objectId);
    const gateway = registerGateway(catalogue, identity, service, tenantId, this, (skuName) =>
      assertComponentServiceTier(catalogue, name, skuName),
    );

    this.authorityHost = pulumi.output(catalogue.authorityHost);
    this.tenantId = tenantId;
    this.gatewayUrl = service.gatewayUrl;
    this.clients = clientOutputs(catalogue, identity, gateway);
    this.apis = apiOutputs(catalogue, identity, gateway, service);
    this.registerOutputs({
      authorityHost: this.authorityHost,
      tenantId: this.tenantId,
      gatewayUrl: this.gatewayUrl,
      clients: this.clients,
      apis: this.apis,
    });
  }
}
