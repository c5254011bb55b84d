import { z } from "zod";
import { isCalendarDate } from "./clock";
import { authorityHostFault } from "../entra/loopback";
import { publicCloudAuthorityHost } from "../entra/tokenProfile";
import { maxCalls } from "../policies/clientLimits";

/**
 * Builds an error message that shows the bad value and the allowed form. Given the key's length limits, a value outside
 * them is also counted ("it has 135 characters"): a long value's length cannot be read off the message.
 */
export function badValue(allowed: string, length?: { min?: number; max: number }) {
  return (issue: { input?: unknown }) => {
    const size = typeof issue.input === "string" ? [...issue.input].length : 0;
    const outside = length !== undefined && size > 0 && (size > length.max || size < (length.min ?? 0));
    return `${JSON.stringify(issue.input)} is not allowed${outside ? ` (it has ${size} characters)` : ""}; ${allowed}`;
  };
}

/** A list longer than its limit: how many entries it has, and the limit with its reason. */
export const tooMany = (limit: string) => (issue: { input?: unknown }) =>
  `${(issue.input as unknown[]).length} entries is not allowed; ${limit}`;

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const pseudoTenants = ["common", "organizations", "consumers"];

export const isGuid = (value: string) => guidPattern.test(value);

const catalogueName = z.string().regex(/^(?!.*--)[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/, {
  error: badValue(
    "use 1–32 lowercase letters, digits or single hyphens, starting with a letter and not ending with a hyphen (it becomes part of every resource name)",
    { max: 32 },
  ),
});

// Entra: application displayName ≤ 256 (Graph "application resource type"); with "-" and a ≤20-character suffix
// this stays ≤ 141. APIM: ApiContractProperties.displayName 1–300 (azure-rest-api-specs apimanagement 2024-05-01).
const displayName = z
  .string()
  .regex(/^[^\p{Cc}]{1,120}$/u, { error: badValue("use 1–120 characters without control characters", { max: 120 }) });

/**
 * App role and scope values reach the token and the policy, so they are kept to a plain token. Graph allows at
 * most 120 characters, not starting with "." (Graph "appRole" and "permissionScope" resource types, `value`).
 */
const permissionValue = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/, {
  error: badValue("use 1–120 letters, digits, '.', '_' or '-', starting with a letter or digit (no spaces)", {
    max: 120,
  }),
});

const httpsUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return url.protocol === "https:" && !url.username && !url.password && !url.search && !url.hash;
    } catch {
      return false;
    }
  },
  { error: badValue("use an https:// URL without credentials, query or fragment") },
);

const authorityHost = z.string().superRefine((value, context) => {
  const fault = authorityHostFault(value);
  if (!fault) return;
  const allowed =
    fault === "not-host-alone"
      ? "use the authority host alone, without a path or tenant (e.g. https://login.microsoftonline.com)"
      : "use an https:// URL (http:// only for a loopback stand-in such as http://127.0.0.1:8400)";
  context.addIssue({ code: "custom", message: badValue(allowed)({ input: value }) });
});

const tenantId = z
  .string()
  .refine((value) => !pseudoTenants.includes(value.toLowerCase()), {
    error: badValue(
      `"common", "organizations" and "consumers" are not tenants; a token's issuer names one tenant, so use its GUID (e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47)`,
    ),
    abort: true,
  })
  .refine(isGuid, {
    error: badValue("use the tenant's GUID (e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47), not a domain name"),
  });

// APIM: ApiContractProperties.path maxLength 400 (azure-rest-api-specs apimanagement 2024-05-01, definitions.json).
// A trailing slash would make the API's URL end in "//" once a client appends its own path.
const apiPath = z.string().regex(/^(?=.{1,400}$)[A-Za-z0-9](?:[A-Za-z0-9._~-]|\/(?!\/|$))*$/, {
  error: badValue(
    "use a URL path of 1–400 characters without a leading or trailing slash, of letters, digits, '.', '_', '~', '-' and '/'",
    { max: 400 },
  ),
});

// APIM: ApiContractProperties.serviceUrl maxLength 2000 (azure-rest-api-specs apimanagement 2024-05-01).
const backendUrl = z.string().refine(
  (value) => {
    if (value.length > 2000) return false;
    try {
      const url = new URL(value);
      return (url.protocol === "https:" || url.protocol === "http:") && !url.username && !url.password;
    } catch {
      return false;
    }
  },
  { error: badValue("use an absolute http(s):// URL without credentials, at most 2000 characters", { max: 2000 }) },
);

/** A day that exists: Date.parse("2026-02-31") rolls over to March, so the date must read back unchanged. */
const isoDate = z.string().refine(isCalendarDate, {
  error: badValue("use a calendar date in the form YYYY-MM-DD (a day that exists)"),
});

// Azure: a resource group name has 1–90 letters, digits, '_', '-', '.', '(' or ')' and does not end with '.'
// (learn.microsoft.com "Naming rules and restrictions for Azure resources", Microsoft.Resources resourcegroups).
const resourceGroupName = z.string().regex(/^[-\w._()]{0,89}[-\w_()]$/u, {
  error: badValue("use 1–90 letters, digits, '-', '_', '.', '(' or ')', not ending with '.'", { max: 90 }),
});

// ARM names a region by its programmatic name, lowercase letters and digits (westeurope, eastus2); the display name
// ("West Europe") is accepted on create but read back as the name, which every later preview would show as a change.
const azureRegion = z.string().regex(/^[a-z][a-z0-9]{1,39}$/, {
  error: badValue("use an Azure region's name, lowercase letters and digits such as westeurope (not its display name)"),
});

const authorizationServer = z.strictObject({
  /** Whether the APIM OAuth 2.0 authorization server (developer portal / test console) is made. */
  enabled: z.boolean().default(true),
  /** The catalogue client whose id and secret the developer portal uses; it needs a secret credential. */
  client: catalogueName,
});

/** A Graph object's id: a GUID as the portal and Graph show it. `what` says which id, and where the portal shows it. */
const objectGuid = (what: string) => z.string().refine(isGuid, { error: badValue(`use ${what}, a GUID`) });

/**
 * An app role assignment's or delegated permission grant's id as Graph returns it: not a GUID, but a base64url string
 * (microsoftgraph/microsoft-graph-docs#11839); it becomes a path segment of the import id, so no other characters.
 */
const graphRelationshipId = (what: string) =>
  z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, {
    error: badValue(
      `use ${what} as Graph returns it (letters, digits, '-' and '_', e.g. 41W1zT6z1U-kJxf2S5JsRBUMOJp_AjVOqTnVqrLcP3M)`,
    ),
  });

/** A role or scope that exists on an adopted app: kept with its id, which every consent and assignment names. */
const existingPermission = (what: string) =>
  z.strictObject({ id: objectGuid(`the ${what}'s id`), value: permissionValue });

/** The service principal of an adopted app; its owners stay owners beside the deploying identity. */
const existingServicePrincipal = z.strictObject({
  objectId: objectGuid("the service principal's object id (portal: Enterprise applications → Object ID)"),
  owners: z.array(objectGuid("an owner's object id")).default([]),
});

/**
 * What `npm run adopt` observed of a registration made by hand: the program imports these objects instead of creating
 * new ones, keeps their ids (so client ids, audiences, consents and assignments stay), and leaves them in the tenant
 * when the stack is destroyed unless `retainOnDelete` is false.
 */
const adoptedRegistration = {
  objectId: objectGuid("the app registration's object id (portal: App registrations → Overview → Object ID)"),
  clientId: objectGuid("the app registration's application (client) id"),
  servicePrincipal: existingServicePrincipal.optional(),
  retainOnDelete: z.boolean({ error: badValue("use true or false") }).default(true),
};

export const existingApi = z.strictObject({
  ...adoptedRegistration,
  /** The identifier URI that exists: it can only be api://<clientId>, the audience the program's policy checks. */
  identifierUri: z.string().optional(),
  /** The scope `scope` manages; absent: the program adds its own scope. */
  scope: existingPermission("scope").optional(),
  /** The app role `appRole` manages; absent: the program adds its own role. */
  appRole: existingPermission("app role").optional(),
});

/** A grant of an adopted API to an adopted client that exists, wholly or partly. */
const existingGrant = z.strictObject({
  /** The API granted: a name in the client's `apis`. */
  api: catalogueName,
  /** The client's API permissions list the API (requiredResourceAccess). */
  permissionListed: z.boolean({ error: badValue("use true or false") }).default(false),
  /** The admin consent of a daemon's application permission: the assignment of the API's existing app role. */
  appRoleAssignmentId: graphRelationshipId("the app role assignment's id").optional(),
  /** The tenant-wide admin consent of a signed-in user's client: the delegated permission grant. */
  delegatedPermissionGrantId: graphRelationshipId("the delegated permission grant's id").optional(),
});

export const existingClient = z.strictObject({
  ...adoptedRegistration,
  /** The redirect URIs of the client kind's platform that exist (web, spa or native). */
  redirectUris: z.array(z.string()).optional(),
  grants: z.array(existingGrant).optional(),
});

// APIM documents no maximum for the calls of rate-limit-by-key or quota-by-key; 2^31 - 1 keeps them 32-bit integers.
const calls = (per: string) => {
  const allowed = badValue(`use a whole number of calls per ${per} from 1 to ${maxCalls}`);
  return z.int({ error: allowed }).min(1, { error: allowed }).max(maxCalls, { error: allowed }).optional();
};

/** Calls one client may make to one API: rate-limit-by-key per minute, quota-by-key per day (policies/clientLimits.ts). */
export const callLimits = z.strictObject({ callsPerMinute: calls("minute"), callsPerDay: calls("day") });

export const apiLimits = callLimits.extend({
  /** Clients with limits of their own, by catalogue client name or client id GUID; unset numbers are the API's. */
  clients: z.record(z.string(), callLimits).optional(),
});

export const apiEntry = z.strictObject({
  name: catalogueName,
  displayName,
  path: apiPath,
  backendUrl,
  appRole: permissionValue.default("access_as_app"),
  scope: permissionValue.default("access_as_user"),
  tokenVersion: z
    .union([z.literal(1), z.literal(2)], { error: badValue("use 1 or 2 (the API app's requestedAccessTokenVersion)") })
    .default(2),
  openApiFile: z
    .string()
    .regex(/^[^\0]+\.(json|ya?ml)$/, { error: badValue("use a path to an OpenAPI .json, .yaml or .yml file") })
    .optional(),
  validation: z
    .enum(["validate-jwt", "validate-azure-ad-token"], {
      error: badValue(`use "validate-jwt" or "validate-azure-ad-token"`),
    })
    .default("validate-jwt"),
  clockSkewSeconds: z
    .int({ error: badValue("use a whole number of seconds from 0 to 300") })
    .min(0, { error: badValue("use a whole number of seconds from 0 to 300") })
    .max(300, { error: badValue("use a whole number of seconds from 0 to 300") })
    .default(60),
  allowedClients: z
    .array(
      z.string().regex(/^(?:[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?|[0-9a-fA-F-]{36})$/, {
        error: badValue("use a catalogue client name or a client id GUID"),
      }),
    )
    .optional(),
  authorizationServer: authorizationServer.optional(),
  /** Names this API had before, oldest first: a rename then keeps its registrations, ids and APIM API. */
  formerNames: z.array(catalogueName).optional(),
  /** Who may call: applications (app role in `roles`), signed-in users (the scope in `scp`), or both. */
  callers: z
    .array(z.enum(["applications", "users"], { error: badValue(`use "applications" and/or "users"`) }))
    .min(1, { error: `list "applications" and/or "users"` })
    .default(["applications"]),
  /** Object ids of the users or groups assigned to the API (callers "users"): only they get a token for it. */
  assignedPrincipals: z
    .array(
      z.string().refine(isGuid, {
        error: badValue("use the object id (GUID) of a user or group in the API's tenant"),
      }),
    )
    .optional(),
  /** A registration made by hand that this entry adopts (npm run adopt writes it). */
  existing: existingApi.optional(),
  /** Calls per minute and per day, per client, counted on the client id of the token the gateway validated. */
  limits: apiLimits.optional(),
});

// Entra: name 3–120 characters, alphanumeric, '-' or '_', starting with a letter or digit; issuer and subject at
// most 600 characters; no wildcards (entra-docs workload-id/workload-identity-federation-considerations.md).
export const federatedCredential = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/, {
    error: badValue("use 3–120 letters, digits, '-' or '_', starting with a letter or digit", { min: 3, max: 120 }),
  }),
  issuer: httpsUrl.refine((value) => value.length <= 600, {
    error: badValue("use an issuer URL of at most 600 characters", { max: 600 }),
  }),
  // Entra compares the subject exactly, so a stray space or line break makes every token exchange fail.
  subject: z.string().regex(/^[^*?\s](?:[^*?\p{Cc}]{0,598}[^*?\s])?$/u, {
    error: badValue(
      "use the exact subject the issuer puts in its tokens (1–600 characters, no leading or trailing whitespace, no line breaks); wildcards are not supported",
      { max: 600 },
    ),
  }),
});

const secretLifetimeDays = z
  .int({ error: badValue("use a whole number of days from 1 to 730") })
  .min(1, { error: badValue("use a whole number of days from 1 to 730") })
  .max(730, { error: badValue("use a whole number of days from 1 to 730 (the portal's maximum is 24 months)") });

/** The lifetime of a secret whose entry gives none. */
export const defaultSecretLifetimeDays = 180;

/** One client secret: its resource name and inputs derive from this entry alone, never from its list position. */
const secretEntry = z.strictObject({
  /** The day the secret is issued; unique per client. */
  rotatedOn: isoDate,
  lifetimeDays: secretLifetimeDays.optional(),
});

export const clientEntry = z.strictObject({
  name: catalogueName,
  displayName,
  /** Default by kind (withDefaultCredentials): none for spa and native clients, a secret for the others. */
  credential: z
    .enum(["secret", "federated", "none"], { error: badValue(`use "secret", "federated" or "none"`) })
    .optional(),
  /** The client's secrets: one, or two during a rotation (the old one and the next). */
  secrets: z.array(secretEntry).optional(),
  /** Shorthand for a one-entry `secrets` list: the day the secret is issued. */
  secretRotatedOn: isoDate.optional(),
  /** Shorthand for `secrets[0].lifetimeDays`. */
  secretLifetimeDays: secretLifetimeDays.optional(),
  /** This client is the developer portal's: it is named by one API's authorizationServer and used for nothing else. */
  portal: z.boolean({ error: badValue("use true or false") }).optional(),
  /** kind managedIdentity: create a user-assigned identity in this resource group and region. */
  identity: z.strictObject({ resourceGroupName, location: azureRegion }).optional(),
  /** kind managedIdentity: an existing identity, named by its service principal's object id (e.g. an app's own). */
  principalId: z
    .string()
    .refine(isGuid, {
      error: badValue(
        "use the object id (GUID) of the managed identity's service principal (portal: the resource's Identity blade, Object (principal) ID)",
      ),
    })
    .optional(),
  federatedCredentials: z
    .array(federatedCredential)
    .max(20, { error: tooMany("Entra ID allows at most 20 federated credentials per app.") })
    .optional(),
  // Entra: an app's requiredResourceAccess names at most 50 resource apps, 400 permissions in all (entra-docs
  // identity-platform/supported-accounts-validation.md); each granted API is one resource app with one role.
  // The same page allows any number of secrets and scopes, and identifier URIs of 255 characters (ours: 42).
  apis: z
    .array(catalogueName)
    .max(50, { error: tooMany("grant at most 50 APIs per client (Entra's limit of resource apps per app).") })
    .default([]),
  /** Names this client had before, oldest first: a rename then keeps its registration and secret. */
  formerNames: z.array(catalogueName).optional(),
  /**
   * daemon: no user (client credentials); web, spa, native: act for a signed-in user (delegated scope);
   * managedIdentity: an Azure-hosted caller whose platform holds its credential (no app registration).
   */
  kind: z
    .enum(["daemon", "web", "spa", "native", "managedIdentity"], {
      error: badValue(`use "daemon", "web", "spa", "native" or "managedIdentity"`),
    })
    .default("daemon"),
  /** Where Entra may send a signed-in user's authorization code; checked per kind (config/clientKinds.ts). */
  redirectUris: z.array(z.string()).optional(),
  /** A registration made by hand that this entry adopts (npm run adopt writes it). */
  existing: existingClient.optional(),
});

/** Appended to every registration's display name (default: the stack name), so short and plain. */
export const nameSuffixMaxLength = 20;
export const nameSuffixPattern = new RegExp(`^[A-Za-z0-9-]{0,${nameSuffixMaxLength}}$`);
export const nameSuffixRule = `up to ${nameSuffixMaxLength} letters, digits or hyphens ("" for none)`;

const apimSku = z.enum(["Consumption", "Developer", "Basic", "Standard", "BasicV2", "StandardV2", "Premium"], {
  error: badValue("use Consumption, Developer, Basic, Standard, BasicV2, StandardV2 or Premium"),
});

const apimCreate = z.strictObject({
  sku: apimSku,
  capacity: z.int().min(0).max(12).optional(),
  location: azureRegion,
  // APIM: ApiManagementServiceProperties.publisherName and .publisherEmail maxLength 100 (azure-rest-api-specs
  // apimanagement 2024-05-01, apimdeployment.json).
  publisherName: z
    .string()
    .regex(/^[^\p{Cc}]{1,100}$/u, { error: badValue("use 1–100 characters without control characters", { max: 100 }) }),
  publisherEmail: z
    .email({ error: badValue("use an e-mail address of at most 100 characters", { max: 100 }) })
    .max(100, { error: badValue("use an e-mail address of at most 100 characters", { max: 100 }) }),
});

export const apimSettings = z.strictObject({
  resourceGroupName,
  serviceName: z.string().regex(/^[a-zA-Z](?:[a-zA-Z0-9-]{0,48}[a-zA-Z0-9])?$/, {
    error: badValue("use 1–50 letters, digits or hyphens, starting with a letter and not ending with a hyphen", {
      max: 50,
    }),
  }),
  create: apimCreate.optional(),
});

export const catalogueSchema = z.strictObject({
  tenantId: tenantId.optional(),
  authorityHost: authorityHost.default(publicCloudAuthorityHost),
  nameSuffix: z
    .string()
    .regex(nameSuffixPattern, { error: badValue(`use ${nameSuffixRule}`, { max: nameSuffixMaxLength }) })
    .optional(),
  protect: z.boolean({ error: badValue("use true or false") }).default(false),
  apim: apimSettings,
  apis: z.array(apiEntry).min(1, { error: "declare at least one API" }),
  clients: z.array(clientEntry).default([]),
});

type ParsedClient = z.output<typeof clientEntry>;

/** A spa or native client runs where its user can read it: a public client, which keeps no credential. */
export const isPublicClient = (kind: ParsedClient["kind"]): kind is "spa" | "native" =>
  kind === "spa" || kind === "native";

/**
 * A public client or a managed identity has no credential of the program's (Azure holds a managed identity's); a daemon
 * or web client has a secret unless it names another.
 */
const defaultCredential = (kind: ParsedClient["kind"]) =>
  isPublicClient(kind) || kind === "managedIdentity" ? "none" : "secret";

export type ApiEntry = z.output<typeof apiEntry>;
export type ExistingApi = z.output<typeof existingApi>;
export type ExistingClient = z.output<typeof existingClient>;
export type SecretEntry = z.output<typeof secretEntry>;
export type ApimSettings = z.output<typeof apimSettings>;
/** A client entry with its credential decided: the one it names, or its kind's default. */
export type ClientEntry = ParsedClient & { credential: NonNullable<ParsedClient["credential"]> };
/** The catalogue as parsed, with every client's credential decided. */
export type CatalogueSettings = Omit<z.output<typeof catalogueSchema>, "clients"> & { clients: ClientEntry[] };

/** Decides each client's credential: the one it names, or its kind's default. */
export function withDefaultCredentials(parsed: z.output<typeof catalogueSchema>): CatalogueSettings {
  return {
    ...parsed,
    clients: parsed.clients.map((client) => ({
      ...client,
      credential: client.credential ?? defaultCredential(client.kind),
    })),
  };
}
