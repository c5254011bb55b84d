import type { InvokeType } from "../resourceType";

/**
 * terraform-provider-azuread internal/services/serviceprincipals/client_config_data_source.go: no Graph call. The
 * tenant and client ids are the configured ones (internal/clients/builder.go); the object id is the access token's
 * `oid` claim, read when the provider was configured (internal/clients/client.go).
 */
export const getClientConfig: InvokeType = {
  token: "azuread:index/getClientConfig:getClientConfig",
  timeout: 5,
  async invoke(op) {
    return {
      clientId: op.clientId,
      objectId: op.callerObjectId,
      tenantId: op.tenantId,
      id: `${op.tenantId}-${op.clientId}-${op.callerObjectId}`,
    };
  },
};
