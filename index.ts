import { existingServiceTier } from "./components/apimService";
import { catalogueArgs, EntraProtectedApis } from "./components/entraProtectedApis";
import { loadCatalogue } from "./config/load";
import { assertServiceTier, projectName } from "./config/validate";

/**
 * The program: the stack's catalogue (config keys `apim-entra-auth:*`) as one EntraProtectedApis component. The config
 * and the existing APIM service's tier are checked before anything is registered, with errors naming the stack's
 * keys; the component checks its arguments again, as it does for any program. Pulumi runs the exported function;
 * its result is the stack's outputs.
 */
export = async () => {
  const catalogue = loadCatalogue();
  const tier = await existingServiceTier(catalogue.apim);
  if (tier) assertServiceTier(catalogue, tier);
  const protectedApis = new EntraProtectedApis(projectName, catalogueArgs(catalogue));
  return {
    authorityHost: protectedApis.authorityHost,
    tenantId: protectedApis.tenantId,
    gatewayUrl: protectedApis.gatewayUrl,
    clients: protectedApis.clients,
    apis: protectedApis.apis,
  };
};
