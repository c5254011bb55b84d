import { importIds } from "../../entra/importIds";

/**
 * What the provider reads of the registrations a stack's config adopts (`apis[].existing`, `clients[].existing`) that
 * their import ids do not carry: each app's client id, by its import id. With it the mock engine plans an adopted app's
 * identifier URI, service principal and grants with the ids they have, not placeholders. Tolerates any config: a bad
 * one is the program's to refuse.
 */
export function importedStateOf(config: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const entries = [config.apis, config.clients].flatMap((section) => (Array.isArray(section) ? section : []));
  return Object.fromEntries(
    entries.flatMap((entry: unknown) => {
      const existing = (entry as { existing?: { objectId?: unknown; clientId?: unknown } } | null)?.existing;
      return typeof existing?.objectId === "string" && typeof existing.clientId === "string"
        ? [[importIds.application(existing.objectId), { clientId: existing.clientId }]]
        : [];
    }),
  );
}
