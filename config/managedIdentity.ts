import { originalName } from "../components/renames";
import type { CatalogueSettings as Settings, ClientEntry } from "./schema";
import { configKey } from "./validate";

// Azure: a user-assigned identity's name has 3–128 letters, digits, '-' or '_' and starts with a letter or digit, unique
// in its resource group (learn.microsoft.com "Naming rules and restrictions for Azure resources",
// Microsoft.ManagedIdentity userAssignedIdentities).
const identityNamePattern = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/;

/**
 * The name of the user-assigned identity the program creates for a client: its first catalogue name and the stack's
 * suffix, so a rename keeps the identity (a new name would be a new identity, with a new client id and principal).
 */
export function userAssignedIdentityName(
  client: Pick<ClientEntry, "name" | "formerNames">,
  nameSuffix: string,
): string {
  return nameSuffix ? `${originalName(client)}-${nameSuffix}` : originalName(client);
}

/** What a managed identity has no use for: the platform holds its credential, and it signs no user in. */
const registrationKeys = [
  "credential",
  "secrets",
  "secretRotatedOn",
  "secretLifetimeDays",
  "federatedCredentials",
  "redirectUris",
  "portal",
  "existing",
] as const;

/**
 * Cross-key rules of `kind: managedIdentity`: exactly one of `identity` (create) and `principalId` (existing), no key of
 * an app registration, each existing identity once, and a created identity's name within Azure's limits; and neither
 * key on a client of another kind. One line per problem, naming the key, the value and the allowed form.
 */
export function managedIdentityProblems(settings: Settings, nameSuffix: string): string[] {
  const problems: string[] = [];
  settings.clients.forEach((client, index) => {
    const key = (...path: (string | number)[]) => configKey(["clients", index, ...path]);
    if (client.kind !== "managedIdentity") {
      for (const field of ["identity", "principalId"] as const) {
        if (client[field] !== undefined) {
          problems.push(
            `${key(field)}: only applies to kind "managedIdentity" (this client is a ${client.kind}); remove it or set kind: managedIdentity.`,
          );
        }
      }
      return;
    }
    if (client.identity && client.principalId) {
      problems.push(
        `${key("principalId")}: is given together with identity; a managed identity is either created by the program (identity: { resourceGroupName, location }) or an existing one named by its service principal's object id (principalId): remove one.`,
      );
    }
    if (!client.identity && !client.principalId) {
      problems.push(
        `${key("identity")}: is required with kind "managedIdentity": { resourceGroupName, location } to create a user-assigned identity, or give principalId, the object id of an existing identity's service principal (e.g. an App Service's system-assigned identity).`,
      );
    }
    for (const field of registrationKeys) {
      // `credential` is filled in by kind: "none", the one value that is true of a managed identity here.
      if (client[field] === undefined || (field === "credential" && client.credential === "none")) continue;
      problems.push(
        `${key(field)}: is not allowed for a managed identity: Azure holds its credential and it has no app registration (no secret, federated credential, redirect URI, portal role or registration to adopt); remove it.`,
      );
    }
    if (client.identity) {
      const name = userAssignedIdentityName(client, nameSuffix);
      if (!identityNamePattern.test(name)) {
        problems.push(
          `${key("name")}: "${client.name}" would name the user-assigned identity "${name}" (its first name and the nameSuffix), which Azure refuses: identity names take 3–128 letters, digits, '-' or '_': use a longer client name or a nameSuffix.`,
        );
      }
    }
  });
  const existing = settings.clients.flatMap((client, index) =>
    client.kind === "managedIdentity" && client.principalId ? [{ id: client.principalId.toLowerCase(), index }] : [],
  );
  for (const { id, index } of existing) {
    const first = existing.find((other) => other.id === id);
    if (first && first.index !== index) {
      problems.push(
        `${configKey(["clients", index, "principalId"])}: "${id}" is already the identity of ${configKey(["clients", first.index])}; Entra holds one app role assignment per principal and role, so name each identity once.`,
      );
    }
  }
  return problems;
}
