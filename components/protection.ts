import type * as pulumi from "@pulumi/pulumi";

/**
 * Options of a child that must stay replaceable: credentials, grants, assignments, sign-in settings, the identifier
 * URI, roles and scope, operations, policy and portal server, and every component (what must not be lost is protected
 * resource by resource, with `kept`). `protect` is stated because Pulumi gives a child its parent's `protect` when it
 * has none (@pulumi/pulumi resource.js): `protect: true` as a resource option on EntraProtectedApis would otherwise
 * block every rotation and revocation.
 */
export const replaceable = (parent: pulumi.Resource) => ({ parent, protect: false });

/** Options of a child that must not be lost (app registration, service principal, APIM API or service). */
export const kept = (parent: pulumi.Resource, protect: boolean | undefined) => ({ parent, protect: protect ?? false });
