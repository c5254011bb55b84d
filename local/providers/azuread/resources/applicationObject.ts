import { GraphError } from "../graphClient";
import * as ids from "../ids";
import { failed, type Operation } from "../resourceType";

/** The parts of Graph's `application` resource the provider reads. */
export interface GraphApplication {
  id: string;
  appId?: string;
  displayName?: string | null;
  description?: string | null;
  groupMembershipClaims?: string | null;
  notes?: string | null;
  publisherDomain?: string | null;
  serviceManagementReference?: string | null;
  signInAudience?: string | null;
  disabledByMicrosoftStatus?: string | null;
  identifierUris?: string[] | null;
  isFallbackPublicClient?: boolean | null;
  appRoles?: Record<string, unknown>[] | null;
  api?: {
    requestedAccessTokenVersion?: number | null;
    oauth2PermissionScopes?: Record<string, unknown>[] | null;
  } | null;
  info?: Record<string, string | null> | null;
  web?: {
    homePageUrl?: string | null;
    logoutUrl?: string | null;
    redirectUris?: string[] | null;
    implicitGrantSettings?: {
      enableAccessTokenIssuance?: boolean | null;
      enableIdTokenIssuance?: boolean | null;
    } | null;
  } | null;
  spa?: { redirectUris?: string[] | null } | null;
  publicClient?: { redirectUris?: string[] | null } | null;
  requiredResourceAccess?: { resourceAppId: string; resourceAccess?: { id: string; type: string }[] | null }[] | null;
  passwordCredentials?: Record<string, unknown>[] | null;
}

/** The name every application write locks on (applications/constants.go `applicationResourceName`). */
export function lockApplication<T>(op: Operation, objectId: string, work: () => Promise<T>): Promise<T> {
  return op.locks.with(`azuread_application:${objectId}`, work);
}

/** go-azure-sdk application client `GetApplication`: GET /applications/{id}. */
export async function getApplication(op: Operation, objectId: string): Promise<GraphApplication> {
  const response = await op.graph.call(
    { method: "GET", path: `/applications/${objectId}`, expected: [200] },
    op.deadline,
  );
  return response.body as GraphApplication;
}

/** GetApplication before a read-modify-write: any failure, 404 included, is "retrieving /applications/<id>: …". */
export function applicationToChange(op: Operation, objectId: string): Promise<GraphApplication> {
  return getApplication(op, objectId).catch((error: unknown) => {
    throw failed(`retrieving ${ids.applicationId(objectId)}`, error);
  });
}

/** GetApplication where a 404 means the object is gone (the resources' Read). */
export async function findApplication(op: Operation, objectId: string): Promise<GraphApplication | undefined> {
  try {
    return await getApplication(op, objectId);
  } catch (error) {
    if (error instanceof GraphError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * go-azure-sdk application client `UpdateApplication`: PATCH /applications/{id} with only the given properties; the
 * SDK's `stable.Application` marshaller adds the `@odata.type` discriminator to every body.
 */
export async function patchApplication(op: Operation, objectId: string, properties: Record<string, unknown>) {
  await op.graph.call(
    {
      method: "PATCH",
      path: `/applications/${objectId}`,
      body: { ...properties, "@odata.type": "#microsoft.graph.application" },
      expected: [200, 202, 204],
    },
    op.deadline,
  );
}

/** A name for an application in errors, as go-azure-sdk's id `String()` prints it. */
export const describeApplication = (objectId: string) => `Application (Application ID: ${JSON.stringify(objectId)})`;

/** One item a split resource adds to an application (a role, scope, identifier URI, API entry, redirect URIs). */
export interface ApplicationAddition {
  objectId: string;
  /** The new resource's id. */
  id: string;
  /** Terraform's resource name, for the "already exists" error. */
  resourceName: string;
  /** Go's id `String()`, for the "creating …" error. */
  description: string;
  exists(app: GraphApplication): boolean;
  /** The PATCH properties that add it. */
  patch(app: GraphApplication): Record<string, unknown>;
}

/**
 * The split resources' create: under the application's lock, GET it, refuse an item already there
 * (tf.ImportAsExistsError), and PATCH the property back with the item added.
 */
export function addToApplication(op: Operation, addition: ApplicationAddition): Promise<{ id: string }> {
  return lockApplication(op, addition.objectId, async () => {
    const app = await applicationToChange(op, addition.objectId);
    if (addition.exists(app)) throw alreadyExists(addition.resourceName, addition.id);
    await patchApplication(op, addition.objectId, addition.patch(app)).catch((error: unknown) => {
      throw failed(`creating ${addition.description}`, error);
    });
    return { id: addition.id };
  });
}

/** tf.ImportAsExistsError's text. */
function alreadyExists(resourceName: string, id: string): Error {
  return new Error(
    `a resource with the ID ${JSON.stringify(id)} already exists - to be managed via Terraform this resource needs to be imported into the State. Please see the resource documentation for ${JSON.stringify(resourceName)} for more information`,
  );
}
