import { isGuid } from "../../config/schema";
import { InputError } from "../cli";
import {
  type GraphApplication,
  type GraphAppRoleAssignment,
  type GraphClient,
  type GraphDelegatedGrant,
  GraphError,
  type GraphServicePrincipal,
  odataString,
} from "./graph";

/** One app registration as found: the app, its service principal (when it has one) and that principal's owners. */
export interface ObservedApp {
  /** The command-line argument that named it (`--api My-APIM-API`). */
  argument: string;
  application: GraphApplication;
  servicePrincipal?: GraphServicePrincipal;
  servicePrincipalOwners: string[];
  /** Owners of the app registration itself: who may update it with Application.ReadWrite.OwnedBy. */
  applicationOwners: string[];
}

/** What the tenant holds of the listed apps and of the grants between them. */
export interface Observation {
  tenantId: string;
  apis: ObservedApp[];
  clients: ObservedApp[];
  /** App role assignments on the listed APIs' principals, to anyone (the listed clients' among them). */
  assignments: GraphAppRoleAssignment[];
  /** Delegated permission grants of the listed clients to the listed APIs. */
  delegatedGrants: GraphDelegatedGrant[];
}

const notFound = (error: unknown) => error instanceof GraphError && error.status === 404;

async function getOrUndefined<T>(graph: GraphClient, path: string): Promise<T | undefined> {
  try {
    return await graph.get<T>(path);
  } catch (error) {
    if (notFound(error)) return undefined;
    throw error;
  }
}

/**
 * Why a GUID that is no client id of this tenant was given: the object it is instead (an app's or a service principal's
 * object id), or a service principal of an app registered in another tenant; undefined when it names nothing here.
 */
async function wrongKind(graph: GraphClient, flag: string, id: string, tenantId: string): Promise<string | undefined> {
  const app = await getOrUndefined<GraphApplication>(graph, `/applications/${id}`);
  if (app) {
    return `${flag} ${id}: is the object id of the app registration "${app.displayName}", not its client id; give its application (client) id ${app.appId}, or its display name.`;
  }
  const principal =
    (await getOrUndefined<GraphServicePrincipal>(graph, `/servicePrincipals/${id}`)) ??
    (await graph.list<GraphServicePrincipal>(`/servicePrincipals?$filter=appId eq ${odataString(id)}`))[0];
  if (!principal) return undefined;
  const owner = principal.appOwnerOrganizationId;
  if (owner && owner.toLowerCase() !== tenantId.toLowerCase()) {
    return `${flag} ${id}: "${principal.displayName}" is registered in another tenant (${owner}); this tenant (${tenantId}) only holds its service principal, which cannot be adopted here: adopt it with a stack and credentials of tenant ${owner}.`;
  }
  return `${flag} ${id}: is the object id of the service principal of "${principal.displayName}", not the app's client id; give its application (client) id ${principal.appId}, or its display name.`;
}

/** The app registration an argument names: a client id (GUID) or a display name, exactly one of this tenant's. */
export async function findApplication(
  graph: GraphClient,
  flag: string,
  argument: string,
  tenantId: string,
): Promise<GraphApplication> {
  const byId = isGuid(argument);
  const matches = await graph.list<GraphApplication>(
    `/applications?$filter=${byId ? "appId" : "displayName"} eq ${odataString(argument)}`,
  );
  if (matches.length === 1) return matches[0] as GraphApplication;
  if (matches.length > 1) {
    const ids = matches.map((app) => app.appId).join(", ");
    throw new InputError(
      `${flag} ${argument}: ${matches.length} app registrations have this display name (client ids ${ids}); give the client id of the one to adopt.`,
    );
  }
  if (byId) {
    const other = await wrongKind(graph, flag, argument, tenantId);
    throw new InputError(other ?? `${flag} ${argument}: no app registration in tenant ${tenantId} has this client id.`);
  }
  throw new InputError(
    `${flag} ${argument}: no app registration in tenant ${tenantId} has this display name (Graph compares it exactly); give its client id, or the name as the portal shows it.`,
  );
}

const idsOf = (objects: { id: string }[]) => objects.map((object) => object.id);

/** Reads an app's service principal and the owners of both. */
async function observeApp(graph: GraphClient, argument: string, application: GraphApplication): Promise<ObservedApp> {
  const [servicePrincipal] = await graph.list<GraphServicePrincipal>(
    `/servicePrincipals?$filter=appId eq ${odataString(application.appId)}`,
  );
  return {
    argument,
    application,
    servicePrincipal,
    servicePrincipalOwners: servicePrincipal
      ? idsOf(await graph.list<{ id: string }>(`/servicePrincipals/${servicePrincipal.id}/owners`))
      : [],
    applicationOwners: idsOf(await graph.list<{ id: string }>(`/applications/${application.id}/owners`)),
  };
}

/**
 * Reads the apps the arguments name, their principals and owners, every app role assignment on the APIs' principals,
 * and the listed clients' delegated grants to the listed APIs. Refuses, naming the argument, an id that names nothing or
 * the wrong kind of object, an app of another tenant, and one app given twice.
 */
export async function observeTenant(
  graph: GraphClient,
  tenantId: string,
  args: { apis: string[]; clients: string[] },
): Promise<Observation> {
  const find = async (flag: string, argument: string) =>
    observeApp(graph, argument, await findApplication(graph, flag, argument, tenantId));
  const apis: ObservedApp[] = [];
  for (const argument of args.apis) apis.push(await find("--api", argument));
  const clients: ObservedApp[] = [];
  for (const argument of args.clients) clients.push(await find("--client", argument));
  const seen = new Map<string, string>();
  for (const [flag, observed] of [
    ...apis.map((app) => ["--api", app] as const),
    ...clients.map((app) => ["--client", app] as const),
  ]) {
    const named = `${flag} ${observed.argument}`;
    const first = seen.get(observed.application.id);
    if (first) {
      throw new InputError(
        `${named}: names "${observed.application.displayName}" (client id ${observed.application.appId}), which ${first} names already; one app registration is adopted by one stack entry, as an API or as a client.`,
      );
    }
    seen.set(observed.application.id, named);
  }
  const assignments = (
    await Promise.all(
      apis.flatMap((api) =>
        api.servicePrincipal
          ? [graph.list<GraphAppRoleAssignment>(`/servicePrincipals/${api.servicePrincipal.id}/appRoleAssignedTo`)]
          : [],
      ),
    )
  ).flat();
  const apiPrincipals = new Set(apis.flatMap((api) => (api.servicePrincipal ? [api.servicePrincipal.id] : [])));
  const delegatedGrants = (
    await Promise.all(
      clients.flatMap((client) =>
        client.servicePrincipal
          ? [
              graph.list<GraphDelegatedGrant>(
                `/oauth2PermissionGrants?$filter=clientId eq ${odataString(client.servicePrincipal.id)}`,
              ),
            ]
          : [],
      ),
    )
  )
    .flat()
    .filter((grant) => apiPrincipals.has(grant.resourceId));
  return { tenantId, apis, clients, assignments, delegatedGrants };
}
