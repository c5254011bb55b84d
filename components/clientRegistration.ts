import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { addDays } from "../config/clock";
import { secretExpiryWarning } from "../entra/secretExpiry";
import { type AdoptedClient, adoptedAs, ownersBeside } from "./adoption";
import { kept, replaceable } from "./protection";

/** One client secret: valid from creation until `rotatedOn + lifetimeDays`. */
export interface SecretSlot {
  rotatedOn: string;
  lifetimeDays: number;
}

export type ClientCredential =
  /** One secret, or two during a rotation; each is named and built from its own entry only. */
  | { kind: "secret"; secrets: SecretSlot[] }
  /** Secretless: the client presents a token from a trusted issuer (a pipeline, a workload) instead. */
  | {
      kind: "federated";
      /** The assertion audience Entra expects in this cloud (entra/tokenProfile.ts). */
      audience: string;
      credentials: { name: string; issuer: string; subject: string }[];
    }
  | { kind: "none" };

export interface ClientRegistrationArgs {
  /** Display name of the client app registration in the tenant (already suffixed per environment). */
  displayName: pulumi.Input<string>;
  credential: ClientCredential;
  /** Protect the registration and its service principal from deletion; never a credential, so rotation works. */
  protect?: boolean;
  /**
   * Object ids of the service principal's owners: list the deploying identity, since the provider removes the caller
   * from a service principal's owners unless they list it, and `Application.ReadWrite.OwnedBy` may update or delete
   * only what it owns. The app registration takes none: Graph makes its creator its owner, and the provider's
   * ApplicationOwner refuses an owner that already exists. Default none.
   */
  owners?: pulumi.Input<string>[];
  /** The date (`YYYY-MM-DD`) the expiry warning is computed for; it never reaches an input. */
  today?: string;
  /**
   * A registration made by hand that this one takes over: its app and service principal are imported instead of
   * created. Its credentials are not managed and never deleted; the program's own secret is added beside them.
   */
  existing?: AdoptedClient;
}

/** The fixed end date of a secret: a pure function of its rotation date and lifetime, never of the clock. */
export function secretEndDate(rotatedOn: string, lifetimeDays: number): string {
  return `${addDays(rotatedOn, lifetimeDays)}T00:00:00Z`;
}

/** The app registration a caller authenticates as, with its service principal and its credential. */
export class ClientRegistration extends pulumi.ComponentResource {
  public readonly clientId: pulumi.Output<string>;
  /** The app registration's resource id (`/applications/<object id>`). */
  public readonly applicationId: pulumi.Output<string>;
  public readonly servicePrincipalObjectId: pulumi.Output<string>;
  /** The newest client secret, a Pulumi secret; undefined unless the credential is `secret`. */
  public readonly clientSecret: pulumi.Output<string | undefined>;
  /** The newest secret's fixed end date; undefined unless the credential is `secret`. */
  public readonly secretEndDate: pulumi.Output<string | undefined>;
  /** Every secret's rotation date and end date, oldest first, without values. */
  public readonly secrets: { rotatedOn: string; endDate: string }[];

  constructor(name: string, args: ClientRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("apim-entra-auth:identity:ClientRegistration", name, {}, opts);
    const keep = kept(this, args.protect);

    const existing = args.existing;

    const app = new azuread.ApplicationRegistration(
      `${name}-app`,
      { displayName: args.displayName, signInAudience: "AzureADMyOrg" },
      { ...keep, ...adoptedAs(existing?.application) },
    );
    const adoptedPrincipal = existing?.servicePrincipal;
    const owners = adoptedPrincipal ? ownersBeside(args.owners ?? [], adoptedPrincipal.owners) : args.owners;
    const servicePrincipal = new azuread.ServicePrincipal(
      `${name}-sp`,
      { clientId: app.clientId, ...(owners ? { owners } : {}) },
      { ...keep, ...adoptedAs(adoptedPrincipal) },
    );

    let clientSecret = pulumi.output<string | undefined>(undefined);
    let endDate = pulumi.output<string | undefined>(undefined);
    let secrets: { rotatedOn: string; endDate: string }[] = [];
    const credential = args.credential;
    if (credential.kind === "secret") {
      const ordered = [...credential.secrets].sort((a, b) => a.rotatedOn.localeCompare(b.rotatedOn));
      const passwords = ordered.map((secret, position) => {
        const fixedEndDate = secretEndDate(secret.rotatedOn, secret.lifetimeDays);
        return new azuread.ApplicationPassword(
          `${name}-secret-${secret.rotatedOn}`,
          {
            applicationId: app.id,
            displayName: `rotated ${secret.rotatedOn}`,
            endDate: fixedEndDate,
            rotateWhenChanged: { rotatedOn: secret.rotatedOn },
          },
          {
            ...replaceable(this),
            additionalSecretOutputs: ["value"],
            // Before two-slot rotation a client's one password was named `<client>-secret`; this alias moves it
            // without replacement. Pulumi refuses two resources with one alias ("Two resources … aliased to the
            // same"), so only the oldest entry carries it: the one an existing stack's single password matches.
            aliases: position === 0 ? [{ name: `${name}-secret` }] : [],
          },
        );
      });
      const newest = ordered[ordered.length - 1] as SecretSlot;
      const newestPassword = passwords[passwords.length - 1] as azuread.ApplicationPassword;
      // A log line only: the clock never reaches an input. The older secret of a rotation is expected to run out.
      const warning = args.today
        ? secretExpiryWarning(name, secretEndDate(newest.rotatedOn, newest.lifetimeDays), args.today)
        : undefined;
      if (warning) pulumi.log.warn(warning, this);
      clientSecret = pulumi.secret(newestPassword.value);
      endDate = newestPassword.endDate;
      secrets = ordered.map((secret) => ({
        rotatedOn: secret.rotatedOn,
        endDate: secretEndDate(secret.rotatedOn, secret.lifetimeDays),
      }));
    } else if (credential.kind === "federated") {
      for (const federated of credential.credentials) {
        new azuread.ApplicationFederatedIdentityCredential(
          `${name}-federated-${federated.name}`,
          {
            applicationId: app.id,
            displayName: federated.name,
            issuer: federated.issuer,
            subject: federated.subject,
            audiences: [credential.audience],
          },
          replaceable(this),
        );
      }
    }

    this.clientId = app.clientId;
    this.applicationId = app.id;
    this.servicePrincipalObjectId = servicePrincipal.objectId;
    this.clientSecret = clientSecret;
    this.secretEndDate = endDate;
    this.secrets = secrets;
    this.registerOutputs({
      clientId: this.clientId,
      applicationId: this.applicationId,
      servicePrincipalObjectId: this.servicePrincipalObjectId,
      clientSecret: this.clientSecret,
      secretEndDate: this.secretEndDate,
    });
  }
}
