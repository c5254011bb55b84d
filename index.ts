import { existingServiceTier } from "./components/apimService";
import { catalogueArgs, EntraProtectedApis } from "./components/entraProtectedApis";
import { loadStackConfig } from "./config/load";
import { assertPortalTier, projectName } from "./config/validate";

/**
 * The program: the stack's catalogue (config keys `apim-entra-auth:*`) as one EntraProtectedApis component. The config
 * and the existing APIM service's tier are checked before anything is registered, with errors naming the stack's
 * keys; the component checks its arguments again, as it does for any program. Pulumi runs the exported function;
 * its result is the stack's outputs.
 */
export = async () => {
  const config = loadStackConfig();
  const tier = await existingServiceTier(config.apim);
  if (tier) assertPortalTier(config, tier);
  const catalogue = new EntraProtectedApis(projectName, catalogueArgs(config));
  return {
    authorityHost: catalogue.authorityHost,
    tenantId: catalogue.tenantId,
    gatewayUrl: catalogue.gatewayUrl,
    clients: catalogue.clients,
    apis: catalogue.apis,
  };
};
