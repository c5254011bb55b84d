import * as apimanagement from "@pulumi/azure-native/apimanagement";
import * as pulumi from "@pulumi/pulumi";
import type { ApimSettings } from "../config/schema";

/** The APIM service the APIs are published on, whether this stack made it or found it. */
export interface ApimServiceReference {
  resourceGroupName: string;
  serviceName: string;
  /** e.g. `https://apim-contoso-dev.azure-api.net`. */
  gatewayUrl: pulumi.Output<string>;
  /** Known before anything is registered: read from the existing service, or the configured one. */
  skuName: string;
}

/** Creating a Developer or Premium service routinely takes 30–60 minutes and sometimes longer. */
export const serviceCreateTimeouts: pulumi.CustomTimeouts = { create: "120m", update: "120m", delete: "60m" };

/**
 * Looks up an existing APIM service (the default: creating one takes up to an hour), or creates it when the
 * config has a `create` block.
 */
export async function apimService(settings: ApimSettings, opts: { protect: boolean }): Promise<ApimServiceReference> {
  const { resourceGroupName, serviceName, create } = settings;
  if (!create) {
    const existing = await apimanagement.getApiManagementService({ resourceGroupName, serviceName });
    return {
      resourceGroupName,
      serviceName,
      gatewayUrl: pulumi.output(existing.gatewayUrl),
      skuName: existing.sku.name,
    };
  }
  const capacity = create.capacity ?? (create.sku === "Consumption" ? 0 : 1);
  const service = new apimanagement.ApiManagementService(
    serviceName,
    {
      resourceGroupName,
      serviceName,
      location: create.location,
      publisherName: create.publisherName,
      publisherEmail: create.publisherEmail,
      sku: { name: create.sku, capacity },
    },
    { protect: opts.protect, customTimeouts: serviceCreateTimeouts },
  );
  return { resourceGroupName, serviceName, gatewayUrl: service.gatewayUrl, skuName: create.sku };
}
