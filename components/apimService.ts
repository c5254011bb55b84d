import * as apimanagement from "@pulumi/azure-native/apimanagement";
import * as pulumi from "@pulumi/pulumi";
import type { ApimSettings } from "../config/schema";
import { stackRootAliases } from "./renames";

/** The APIM service the APIs are published on, whether this stack made it or found it. */
export interface ApimServiceReference {
  resourceGroupName: string;
  serviceName: string;
  /** e.g. `https://apim-contoso-dev.azure-api.net`. */
  gatewayUrl: pulumi.Output<string>;
  /** The pricing tier: the configured one, or what the lookup of the existing service answers. */
  skuName: pulumi.Output<string>;
}

/**
 * Existing services already looked up in this process: the program awaits the lookup before the component exists
 * (existingServiceTier), and the component then reuses that answer instead of asking Azure a second time.
 */
const answeredLookups = new Map<string, Promise<apimanagement.GetApiManagementServiceResult>>();
const lookupKey = (settings: Pick<ApimSettings, "resourceGroupName" | "serviceName">) =>
  `${settings.resourceGroupName}/${settings.serviceName}`;

/** Creating a Developer or Premium service routinely takes 30–60 minutes and sometimes longer. */
export const serviceCreateTimeouts: pulumi.CustomTimeouts = { create: "120m", update: "120m", delete: "60m" };

/**
 * Looks up an existing APIM service (the default: creating one takes up to an hour), or creates it under `parent`
 * when the settings have a `create` block.
 */
export function apimService(
  config: { apim: ApimSettings; protect: boolean },
  parent: pulumi.Resource,
): ApimServiceReference {
  const { resourceGroupName, serviceName, create } = config.apim;
  if (!create) {
    const answered = answeredLookups.get(lookupKey(config.apim));
    const existing = answered
      ? pulumi.output(answered)
      : apimanagement.getApiManagementServiceOutput({ resourceGroupName, serviceName }, { parent });
    return {
      resourceGroupName,
      serviceName,
      gatewayUrl: existing.gatewayUrl,
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
    {
      parent,
      protect: config.protect,
      customTimeouts: serviceCreateTimeouts,
      aliases: stackRootAliases(),
    },
  );
  return { resourceGroupName, serviceName, gatewayUrl: service.gatewayUrl, skuName: pulumi.output(create.sku) };
}

/**
 * The existing service's tier, read before anything is registered (a program can await it; a component cannot), so
 * that a portal on a Consumption service stops the program first. Undefined when the settings create the service.
 */
export async function existingServiceTier(settings: ApimSettings): Promise<string | undefined> {
  if (settings.create) return undefined;
  const { resourceGroupName, serviceName } = settings;
  const lookup = apimanagement.getApiManagementService({ resourceGroupName, serviceName });
  answeredLookups.set(lookupKey(settings), lookup);
  return (await lookup).sku.name;
}
