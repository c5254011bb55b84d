import type { Clock } from "./clock";
import { claimsOf, ClientSecretAuthorizer, discoverCloud } from "./cloud";
import { GraphClient, type Transport } from "./graphClient";
import { KeyedLocks } from "./locks";
import { failed, type Session } from "./resourceType";
import { servicePrincipalsOfApp } from "./resources/servicePrincipalObject";
import type { ProviderSettings } from "./settings";

/**
 * What Configure does in terraform-provider-azuread (internal/provider/provider.go `providerConfigure`,
 * internal/clients/builder.go and client.go `build`): the cloud from the metadata host, a client-secret authorizer
 * for Graph, and a token fetched at once so its claims name the caller; without an `oid` claim the caller is found
 * as the service principal of the configured client id.
 */
export async function connect(settings: ProviderSettings, transport: Transport, clock: Clock): Promise<Session> {
  const cloud = await discoverCloud(settings.metadataHost, transport);
  const authorizer = new ClientSecretAuthorizer(cloud, settings, transport, clock);
  let token: string;
  try {
    token = await authorizer.token();
  } catch (error) {
    throw failed("building client: unable to obtain access token", error);
  }
  const claims = claimsOf(token);
  const session: Session = {
    graph: new GraphClient(cloud.microsoftGraph, () => authorizer.token(), transport, clock),
    tenantId: settings.tenantId,
    clientId: settings.clientId,
    callerObjectId: claims.oid ?? "",
    locks: new KeyedLocks(),
    clock,
  };
  if (!session.callerObjectId) {
    const matches = await servicePrincipalsOfApp({ ...session, deadline: clock.now() + 5 * 60_000 }, settings.clientId);
    if (matches.length !== 1) {
      throw new Error(
        `building client: attempting to discover object ID for authenticated service principal: unexpected number of results, expected 1, received ${matches.length}`,
      );
    }
    session.callerObjectId = matches[0]!.id;
  }
  if (!session.callerObjectId) throw new Error("building client: parsing claims in access token: oid claim is empty");
  return session;
}
