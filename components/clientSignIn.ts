import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { type Adoption, adoptedAs } from "./adoption";
import { replaceable } from "./protection";

/** The user-facing client kinds and the Entra platform their redirect URIs belong to. */
export const redirectUriTypes = { web: "Web", spa: "SPA", native: "PublicClient" } as const;

export interface ClientSignInArgs {
  /** The client app registration's resource id (`/applications/<object id>`). */
  applicationId: pulumi.Input<string>;
  /** web: confidential, authorization code; spa: public, authorization code with PKCE; native: public. */
  kind: keyof typeof redirectUriTypes;
  /** Where Entra may return the signed-in user; already checked for the kind. Required for web and spa. */
  redirectUris: string[];
  /** The kind's redirect URIs on a registration made by hand: imported, then set to `redirectUris`. */
  existingRedirectUris?: Adoption;
}

/**
 * How a user-facing client signs users in: its redirect URIs on the kind's platform (Web, SPA or PublicClient) and,
 * for a native client, public client flows (device code) allowed. The implicit grant is never enabled: the
 * registration leaves implicit access and ID token issuance off.
 */
export class ClientSignIn extends pulumi.ComponentResource {
  constructor(name: string, args: ClientSignInArgs, opts?: pulumi.ComponentResourceOptions) {
    super("apim-entra-auth:identity:ClientSignIn", name, {}, opts);
    if (args.kind !== "native" && args.redirectUris.length === 0) {
      throw new Error(`ClientSignIn ${name}: a ${args.kind} client needs at least one redirect URI`);
    }
    if (args.redirectUris.length > 0) {
      new azuread.ApplicationRedirectUris(
        `${name}-redirect-uris`,
        { applicationId: args.applicationId, type: redirectUriTypes[args.kind], redirectUris: args.redirectUris },
        { ...replaceable(this), ...adoptedAs(args.existingRedirectUris) },
      );
    }
    if (args.kind === "native") {
      // Device code (and any flow without a client credential) needs "Allow public client flows".
      new azuread.ApplicationFallbackPublicClient(
        `${name}-public-client`,
        { applicationId: args.applicationId, enabled: true },
        replaceable(this),
      );
    }
    this.registerOutputs({});
  }
}
