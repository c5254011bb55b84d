// An APIM service made in the local subscription as a person makes one in the portal, before any stack names it.
import { localSubscriptionId } from "../../../local/server";
import type { LocalSession } from "./localSession";

/** The service's ARM id. */
export function apimServiceId(resourceGroupName: string, serviceName: string): string {
  return `/subscriptions/${localSubscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.ApiManagement/service/${serviceName}`;
}

/** Its resource group and a Developer tier service, through the local ARM as the administrator; the service's id. */
export async function putApimService(
  session: LocalSession,
  resourceGroupName: string,
  serviceName: string,
): Promise<string> {
  const location = "westeurope";
  const group = `/subscriptions/${localSubscriptionId}/resourceGroups/${resourceGroupName}`;
  await session.restOk("PUT", `arm:${group}?api-version=2021-04-01`, { location });
  const service = apimServiceId(resourceGroupName, serviceName);
  await session.restOk("PUT", `arm:${service}?api-version=2024-05-01`, {
    location,
    sku: { name: "Developer", capacity: 1 },
    properties: { publisherName: "Contoso", publisherEmail: "apim@contoso.example" },
  });
  return service;
}
