import { errorMatches, GraphError } from "../graphClient";
import * as ids from "../ids";
import { failed, type ResourceType } from "../resourceType";
import { items, nonEmptyString, uuid } from "../validation";
import { requireServicePrincipal } from "./servicePrincipalObject";

interface GraphGrant {
  id?: string;
  clientId?: string;
  consentType?: string | null;
  principalId?: string | null;
  resourceId?: string;
  scope?: string | null;
}

const grantPath = (grantId: string) => `/oauth2PermissionGrants/${grantId}`;

/** `strings.Join(claim_values, " ")` through nullable.NoZero: no claims is null. */
const scopeOf = (claims: unknown) => (claims as string[]).join(" ") || null;

/**
 * terraform-provider-azuread internal/services/serviceprincipals/service_principal_delegated_permission_grant_resource.go:
 * both service principals must exist, then POST /oauth2PermissionGrants (AllPrincipals unless a user is named),
 * retried on 404 and on 400 "does not exist or one of its queried reference-property objects are not present".
 */
export const servicePrincipalDelegatedPermissionGrant: ResourceType = {
  token: "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
  properties: {
    claimValues: { type: "set", required: true, validate: items(nonEmptyString, { min: 1 }) },
    resourceServicePrincipalObjectId: { type: "string", required: true, validate: uuid },
    servicePrincipalObjectId: { type: "string", required: true, validate: uuid },
    userObjectId: { type: "string", validate: uuid },
  },
  timeouts: { create: 5, read: 5, update: 5, delete: 5 },

  async create(op, inputs) {
    const clientId = inputs.servicePrincipalObjectId as string;
    const resourceId = inputs.resourceServicePrincipalObjectId as string;
    const client = ids.servicePrincipalId(clientId);
    const resource = ids.servicePrincipalId(resourceId);
    await requireServicePrincipal(op, clientId, `${client} was not found)`, `Could not retrieve ${client}`);
    await requireServicePrincipal(
      op,
      resourceId,
      `${resource} not found for resource`,
      `Could not retrieve ${resource} for resource`,
    );
    const user = inputs.userObjectId as string;
    let grant: GraphGrant;
    try {
      const response = await op.graph.call(
        {
          method: "POST",
          path: "/oauth2PermissionGrants",
          body: {
            clientId,
            resourceId,
            scope: scopeOf(inputs.claimValues),
            ...(user ? { principalId: user, consentType: "Principal" } : { consentType: "AllPrincipals" }),
            "@odata.type": "#microsoft.graph.oAuth2PermissionGrant",
          },
          expected: [200, 201, 202, 204],
          retryWhen: (status, error) =>
            status === 404 ||
            (status === 400 &&
              errorMatches(error, /does not exist or one of its queried reference-property objects are not present/)),
        },
        op.deadline,
      );
      grant = (response.body ?? {}) as GraphGrant;
    } catch (error) {
      throw failed("Could not create delegated permission grant", error);
    }
    if (!grant.id) throw failed("Bad API response", "ID returned for delegated permission grant is nil");
    return { id: ids.delegatedPermissionGrantId(grant.id) };
  },

  async read(op, id) {
    const grantId = ids.parseDelegatedPermissionGrantId(id);
    let grant: GraphGrant;
    try {
      grant = (await op.graph.call({ method: "GET", path: grantPath(grantId), expected: [200] }, op.deadline))
        .body as GraphGrant;
    } catch (error) {
      if (error instanceof GraphError && error.status === 404) return undefined;
      throw failed(`Retrieving Delegated Permission Grant with ID ${JSON.stringify(id)}`, error);
    }
    return {
      claimValues: (grant.scope ?? "")
        .split(" ")
        .map((claim) => claim.trim())
        .filter((claim) => claim !== ""),
      resourceServicePrincipalObjectId: grant.resourceId ?? "",
      servicePrincipalObjectId: grant.clientId ?? "",
      userObjectId: grant.principalId ?? "",
    };
  },

  // Update: only the claims can change in place.
  async update(op, id, _olds, news) {
    const grantId = ids.parseDelegatedPermissionGrantId(id);
    await op.graph
      .call(
        {
          method: "PATCH",
          path: grantPath(grantId),
          body: { scope: scopeOf(news.claimValues), "@odata.type": "#microsoft.graph.oAuth2PermissionGrant" },
          expected: [200, 202, 204],
        },
        op.deadline,
      )
      .catch((error: unknown) => {
        throw failed(`Updating ${id}`, error);
      });
  },

  async delete(op, id) {
    const grantId = ids.parseDelegatedPermissionGrantId(id);
    await op.graph
      .call({ method: "DELETE", path: grantPath(grantId), expected: [200, 204] }, op.deadline)
      .catch((error: unknown) => {
        throw failed(`Deleting ${id}`, error);
      });
  },
};
