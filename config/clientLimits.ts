import type { CallLimits } from "../policies/clientLimits";
import { type ApiEntry, type CatalogueSettings as Settings, isGuid } from "./schema";
import { configKey, endWithSuggestion } from "./validate";

// APIM policy reference, "APPLIES TO": rate-limit-by-key on Developer, Basic, Basic v2, Standard, Standard v2, Premium
// and Premium v2; quota-by-key on Developer, Basic, Standard and Premium only. Neither on Consumption.
const withoutRateLimit = ["Consumption"];
const withoutQuota = ["Consumption", "BasicV2", "StandardV2", "PremiumV2"];

/** An API's limits per client entry: every client's, then each listed client's with the API's numbers filled in. */
export function limitsByClient(api: ApiEntry): {
  everyClient: CallLimits;
  clients: { client: string; limits: CallLimits }[];
} {
  const { clients = {}, ...everyClient } = api.limits ?? {};
  return {
    everyClient,
    clients: Object.entries(clients).map(([client, own]) => ({ client, limits: { ...everyClient, ...own } })),
  };
}

const setsLimit = (limits: CallLimits) => limits.callsPerMinute !== undefined || limits.callsPerDay !== undefined;

/** Cross-key rules of `apis[].limits`: each names a limit, and each listed client is one the API accepts. */
export function clientLimitProblems(settings: Settings): string[] {
  const problems: string[] = [];
  const clientNames = settings.clients.map((client) => client.name);
  settings.apis.forEach((api, index) => {
    const limits = api.limits;
    if (!limits) return;
    const key = (...path: string[]) => configKey(["apis", index, "limits", ...path]);
    const listed = Object.entries(limits.clients ?? {});
    if (!setsLimit(limits) && listed.length === 0) {
      problems.push(`${key()}: sets no limit; give callsPerMinute and/or callsPerDay (or clients), or remove it.`);
    }
    const seenIds: string[] = [];
    for (const [client, own] of listed) {
      if (!setsLimit(own)) {
        problems.push(
          `${key("clients", client)}: sets no limit; give callsPerMinute and/or callsPerDay, or remove it.`,
        );
      }
      if (isGuid(client)) {
        if (seenIds.includes(client.toLowerCase())) {
          problems.push(
            `${key("clients", client)}: the client id is already listed (client ids ignore case); keep one entry.`,
          );
        }
        seenIds.push(client.toLowerCase());
        continue;
      }
      const entry = settings.clients.find((candidate) => candidate.name === client);
      if (!entry) {
        problems.push(
          `${key("clients", client)}: "${client}" is neither a client in ${configKey(["clients"])} (${clientNames.join(", ") || "none declared"}) nor a client id GUID${endWithSuggestion(client, clientNames)}`,
        );
      } else if (!entry.apis.includes(api.name)) {
        problems.push(
          `${key("clients", client)}: "${client}" is not granted "${api.name}", so no token of it reaches these limits; grant it (its apis) or remove the entry.`,
        );
      }
    }
    const create = settings.apim.create;
    if (create)
      problems.push(
        ...tierProblems(api, index, create.sku, `choose another sku in ${configKey(["apim", "create", "sku"])}`),
      );
  });
  return problems;
}

/** Limits a tier cannot enforce: `remedy` says what to change (the sku, or that the existing service is on it). */
export function tierProblems(api: ApiEntry, index: number, sku: string, remedy: string): string[] {
  if (!api.limits) return [];
  const { everyClient, clients } = limitsByClient(api);
  const key = configKey(["apis", index, "limits"]);
  if (withoutRateLimit.includes(sku)) {
    return [
      `${key}: the ${sku} tier has neither rate-limit-by-key nor quota-by-key (APIM policy reference), so it cannot count calls per client (${remedy}); remove limits.`,
    ];
  }
  const perDay = [everyClient, ...clients.map((client) => client.limits)].some((limits) => limits.callsPerDay);
  if (perDay && withoutQuota.includes(sku)) {
    return [
      `${key}: callsPerDay needs quota-by-key, which the ${sku} tier does not have (APIM policy reference: Developer, Basic, Standard, Premium) (${remedy}); keep callsPerMinute only.`,
    ];
  }
  return [];
}
