import * as pulumi from "@pulumi/pulumi";

/** A catalogue entry as far as renames go: its current name and the names it had before, oldest first. */
export interface Renamable {
  name: string;
  formerNames?: string[];
}

/**
 * Pulumi aliases that carry an entry's resources over from its former names. Children follow their component
 * because their names start with the component's (`orders-app`), which Pulumi's child aliases rely on.
 */
export const renameAliases = (entry: Renamable) => (entry.formerNames ?? []).map((name) => ({ name }));

/** The entry's first name: the key of everything that must not change with a rename (role ids, APIM API id). */
export const originalName = (entry: Renamable) => entry.formerNames?.[0] ?? entry.name;

/** The name of the grant of `api` to `client`; `--` cannot occur inside a catalogue name. */
export const grantName = (client: string, api: string) => `${client}--${api}`;

/** The name of a user-facing client's sign-in settings (components/clientSignIn.ts). */
export const signInName = (client: string) => `${client}-sign-in`;

/** Aliases for a grant whose client or API was renamed: every earlier pairing of their names. */
export function grantAliases(client: Renamable, api: Renamable): { name: string }[] {
  const current = grantName(client.name, api.name);
  return [client.name, ...(client.formerNames ?? [])]
    .flatMap((clientName) => [api.name, ...(api.formerNames ?? [])].map((apiName) => grantName(clientName, apiName)))
    .filter((name) => name !== current)
    .map((name) => ({ name }));
}

/**
 * A resource's rename aliases, under its current parent and under none: before the EntraProtectedApis component
 * became its parent it was registered at the stack's root, under its current name or a former one. `parent:
 * undefined` (the SDK's `rootStackResource`) means "no parent"; the resource's children inherit these aliases.
 */
export const stackRootAliases = (renames: { name: string }[] = []) => [
  ...renames,
  { parent: pulumi.rootStackResource },
  ...renames.map((alias) => ({ ...alias, parent: pulumi.rootStackResource })),
];
