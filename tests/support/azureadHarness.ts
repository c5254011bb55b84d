import { AzureadProvider } from "../../local/providers/azuread/provider";
import { type FakeCaller, FakeClock, FakeGraph, fakeHost } from "./fakeGraph";

/** Callers of the fake tenant: an administrator and a deployer limited to what it owns. */
export const administrator: FakeCaller = {
  clientId: "a0000000-0000-4000-8000-000000000001",
  clientSecret: "admin-secret",
  objectId: "a0000000-0000-4000-8000-0000000000a1",
  permissions: [
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
  ],
};

export const ownedByDeployer: FakeCaller = {
  clientId: "d0000000-0000-4000-8000-000000000002",
  clientSecret: "deployer-secret",
  objectId: "d0000000-0000-4000-8000-0000000000d2",
  permissions: ["Application.ReadWrite.OwnedBy"],
};

export const urnOf = (token: string, name: string) =>
  `urn:pulumi:dev::apim-entra-auth::apim-entra-auth:identity:ApiRegistration$${token}::${name}`;

export const tokens = {
  application: "azuread:index/applicationRegistration:ApplicationRegistration",
  servicePrincipal: "azuread:index/servicePrincipal:ServicePrincipal",
  password: "azuread:index/applicationPassword:ApplicationPassword",
  federatedCredential: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
  identifierUri: "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri",
  appRole: "azuread:index/applicationAppRole:ApplicationAppRole",
  scope: "azuread:index/applicationPermissionScope:ApplicationPermissionScope",
  apiAccess: "azuread:index/applicationApiAccess:ApplicationApiAccess",
  redirectUris: "azuread:index/applicationRedirectUris:ApplicationRedirectUris",
  fallbackPublicClient: "azuread:index/applicationFallbackPublicClient:ApplicationFallbackPublicClient",
  assignment: "azuread:index/appRoleAssignment:AppRoleAssignment",
  delegatedGrant: "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
} as const;

/** An application permission (app role) of an API, as ApiRegistration declares it. */
export const applicationRole = (applicationId: string, roleId: string) => ({
  applicationId,
  roleId,
  value: "access_as_app",
  allowedMemberTypes: ["Application"],
  displayName: "Call",
  description: "Call",
});

export interface Harness {
  graph: FakeGraph;
  clock: FakeClock;
  provider: AzureadProvider;
  /** Check then Create, as the engine does on `up`; returns the id and outputs. */
  create(
    token: string,
    name: string,
    inputs: Record<string, unknown>,
  ): Promise<{ id: string; outs: Record<string, unknown> }>;
  /** The Graph calls made since `since` (an index into graph.calls), as `METHOD path`. */
  callsSince(since: number): string[];
}

/** A provider configured against a fresh fake Graph as `caller`. */
export async function configuredProvider(caller: FakeCaller = administrator): Promise<Harness> {
  const graph = new FakeGraph([administrator, ownedByDeployer]);
  const clock = new FakeClock();
  const provider = new AzureadProvider({ transport: graph.fetch, clock, env: {} });
  await provider.configure({
    metadataHost: fakeHost,
    tenantId: graph.tenantId,
    clientId: caller.clientId,
    clientSecret: caller.clientSecret,
  });
  return {
    graph,
    clock,
    provider,
    async create(token, name, inputs) {
      const urn = urnOf(token, name);
      const checked = await provider.check(urn, {}, inputs);
      if (checked.failures?.length) throw new Error(JSON.stringify(checked.failures));
      const { id, outs } = await provider.create(urn, checked.inputs);
      return { id, outs };
    },
    callsSince: (since) => graph.calls.slice(since).map((call) => `${call.method} ${call.path}`),
  };
}
