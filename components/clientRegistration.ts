import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { secretExpiryWarning } from "../lib/secretExpiry";

/** The audience Entra ID requires of every federated identity credential. */
export const tokenExchangeAudience = "api://AzureADTokenExchange";

export type ClientCredential =
  /** A client secret valid from creation until `rotatedOn + lifetimeDays`; changing either issues a new one. */
  | { kind: "secret"; rotatedOn: string; lifetimeDays: number }
  /** Secretless: the client presents a token from a trusted issuer (a pipeline, a workload) instead. */
  | { kind: "federated"; credentials: { name: string; issuer: string; subject: string }[] }
  | { kind: "none" };

export interface ClientRegistrationArgs {
  /** Display name of the client app registration in the tenant (already suffixed per environment). */
  displayName: pulumi.Input<string>;
  credential: ClientCredential;
  /** Protect the registration, its service principal and its secret from deletion. */
  protect?: boolean;
}

/** The fixed end date of a secret: a pure function of its rotation date and lifetime, never of the clock. */
export function secretEndDate(rotatedOn: string, lifetimeDays: number): string {
  const end = new Date(`${rotatedOn}T00:00:00Z`);
  end.setUTCDate(end.getUTCDate() + lifetimeDays);
  return end.toISOString().replace(".000Z", "Z");
}

/** The app registration a caller authenticates as, with its service principal and its credential. */
export class ClientRegistration extends pulumi.ComponentResource {
  public readonly clientId: pulumi.Output<string>;
  /** The app registration's resource id (`/applications/<object id>`). */
  public readonly applicationId: pulumi.Output<string>;
  public readonly servicePrincipalObjectId: pulumi.Output<string>;
  /** The client secret, a Pulumi secret; undefined unless the credential is `secret`. */
  public readonly clientSecret: pulumi.Output<string | undefined>;
  /** The secret's fixed end date; undefined unless the credential is `secret`. */
  public readonly secretEndDate: pulumi.Output<string | undefined>;

  constructor(name: string, args: ClientRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("apim-entra-auth:identity:ClientRegistration", name, {}, opts);
    const keep = { parent: this, protect: args.protect ?? false };

    const app = new azuread.ApplicationRegistration(
      `${name}-app`,
      { displayName: args.displayName, signInAudience: "AzureADMyOrg" },
      keep,
    );
    const servicePrincipal = new azuread.ServicePrincipal(`${name}-sp`, { clientId: app.clientId }, keep);

    let clientSecret: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let endDate: pulumi.Output<string | undefined> = pulumi.output(undefined);
    const credential = args.credential;
    if (credential.kind === "secret") {
      const fixedEndDate = secretEndDate(credential.rotatedOn, credential.lifetimeDays);
      // A log line only: the clock never reaches an input.
      const warning = secretExpiryWarning(name, fixedEndDate, new Date());
      if (warning) pulumi.log.warn(warning, this);
      const password = new azuread.ApplicationPassword(
        `${name}-secret`,
        {
          applicationId: app.id,
          displayName: `rotated ${credential.rotatedOn}`,
          endDate: fixedEndDate,
          rotateWhenChanged: { rotatedOn: credential.rotatedOn },
        },
        { ...keep, additionalSecretOutputs: ["value"] },
      );
      clientSecret = pulumi.secret(password.value);
      endDate = password.endDate;
    } else if (credential.kind === "federated") {
      for (const federated of credential.credentials) {
        new azuread.ApplicationFederatedIdentityCredential(
          `${name}-federated-${federated.name}`,
          {
            applicationId: app.id,
            displayName: federated.name,
            issuer: federated.issuer,
            subject: federated.subject,
            audiences: [tokenExchangeAudience],
          },
          { parent: this },
        );
      }
    }

    this.clientId = app.clientId;
    this.applicationId = app.id;
    this.servicePrincipalObjectId = servicePrincipal.objectId;
    this.clientSecret = clientSecret;
    this.secretEndDate = endDate;
    this.registerOutputs({
      clientId: this.clientId,
      applicationId: this.applicationId,
      servicePrincipalObjectId: this.servicePrincipalObjectId,
      clientSecret: this.clientSecret,
      secretEndDate: this.secretEndDate,
    });
  }
}
