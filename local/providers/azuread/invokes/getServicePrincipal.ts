import * as ids from "../ids";
import { failed, type InvokeType } from "../resourceType";
import {
  findServicePrincipal,
  samlMetadataUrl,
  samlSingleSignOn,
  servicePrincipalFields,
  servicePrincipalsOfApp,
  type GraphServicePrincipal,
} from "../resources/servicePrincipalObject";

/**
 * terraform-provider-azuread internal/services/serviceprincipals/service_principal_data_source.go: by object id (GET),
 * by display name (a `displayName eq` filter that must match exactly one) or by client id (an `appId eq` filter),
 * then the beta read of `samlMetadataUrl`.
 */
export const getServicePrincipal: InvokeType = {
  token: "azuread:index/getServicePrincipal:getServicePrincipal",
  timeout: 5,
  async invoke(op, args) {
    let found: GraphServicePrincipal | undefined;
    if (args.objectId) {
      const objectId = String(args.objectId);
      found = await findServicePrincipal(op, objectId).catch((error: unknown) => {
        throw failed(`Retrieving ${ids.servicePrincipalId(objectId)}`, error);
      });
      if (!found) throw failed(`${ids.servicePrincipalId(objectId)} was not found`);
    } else if (args.displayName) {
      const displayName = String(args.displayName);
      const filter = `displayName eq '${displayName.replaceAll("'", "''")}'`;
      const matches = (await op.graph
        .list({ method: "GET", path: "/servicePrincipals", query: { $filter: filter }, expected: [200] }, op.deadline)
        .catch((error: unknown) => {
          throw failed(`Listing service principals for filter ${JSON.stringify(filter)}`, error);
        })) as unknown as GraphServicePrincipal[];
      if (matches.length === 0) {
        throw failed(
          "Service principal not found",
          `no service principals found matching filter: ${JSON.stringify(filter)}`,
        );
      }
      if (matches.length > 1) {
        throw failed(
          "Multiple service principals found",
          `found multiple service principals matching filter: ${JSON.stringify(filter)}`,
        );
      }
      found = matches.find((sp) => (sp.displayName ?? "").toLowerCase() === displayName.toLowerCase());
    } else {
      const clientId = String(args.clientId ?? "");
      const matches = await servicePrincipalsOfApp(op, clientId).catch((error: unknown) => {
        throw failed(`Listing service principals for filter "appId eq '${clientId}'"`, error);
      });
      found = matches.find((sp) => (sp.appId ?? "").toLowerCase() === clientId.toLowerCase());
    }
    if (!found) throw failed("No service principal found", "no service principal found");
    const id = ids.servicePrincipalId(found.id);
    const metadataUrl = await samlMetadataUrl(op, found.id).catch((error: unknown) => {
      throw failed(`Retrieving ${id} (beta API)`, error);
    });
    return { ...servicePrincipalFields(found, metadataUrl), samlSingleSignOns: samlSingleSignOn(found), id };
  },
};
