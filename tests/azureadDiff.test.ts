import { describe, expect, it } from "vitest";
import { resourceTypes } from "../local/providers/azuread/provider";
import { replaceOnChanges } from "../tools/preview/replaceOnChanges";
import { administrator, applicationRole, configuredProvider, tokens, urnOf } from "./support/azureadHarness";

// The local provider replaces on exactly the inputs tools/preview/replaceOnChanges.ts lists (the plan's table, read
// from terraform-provider-azuread's ForceNew fields), so the local engine's plan and the offline plan agree.

const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const azureadTokens = Object.keys(replaceOnChanges).filter((token) => token.startsWith("azuread:"));

describe("Diff and the replace-on-change table", () => {
  it("implements every azuread type the table lists, and the table lists every type it implements", () => {
    expect([...resourceTypes.keys()].sort()).toEqual(azureadTokens.sort());
  });

  it.each([...resourceTypes.keys()])(
    "%s: a change of an input replaces exactly when the table lists it",
    async (token) => {
      const h = await configuredProvider();
      const urn = urnOf(token, "x");
      for (const name of Object.keys(resourceTypes.get(token)!.properties)) {
        const diff = await h.provider.diff("id", urn, { [name]: "before" }, { [name]: unknown });
        expect(diff, name).toEqual({
          changes: true,
          replaces: replaceOnChanges[token]!.includes(name) ? [name] : [],
          deleteBeforeReplace: false,
        });
      }
    },
  );
});

describe("a second preview after up", () => {
  it("shows no changes for any resource created with the program's inputs", async () => {
    const h = await configuredProvider();
    const roleId = "3b1f4e2a-1111-4c4c-8d8d-000000000001";
    const scopeId = "3b1f4e2a-1111-4c4c-8d8d-000000000003";
    const created: {
      token: string;
      name: string;
      id: string;
      outs: Record<string, unknown>;
      inputs: Record<string, unknown>;
    }[] = [];
    const make = async (token: string, name: string, inputs: Record<string, unknown>) => {
      const resource = await h.create(token, name, inputs);
      created.push({ token, name, inputs, ...resource });
      return resource;
    };
    const api = await make(tokens.application, "api-app", {
      displayName: "orders-dev",
      signInAudience: "AzureADMyOrg",
      requestedAccessTokenVersion: 2,
    });
    await make(tokens.identifierUri, "api-uri", { applicationId: api.id, identifierUri: `api://${api.outs.clientId}` });
    await make(tokens.scope, "api-scope", {
      applicationId: api.id,
      scopeId,
      value: "access_as_user",
      type: "Admin",
      adminConsentDisplayName: "Access orders-dev",
      adminConsentDescription: "Admins only",
    });
    await make(tokens.appRole, "api-role", applicationRole(api.id, roleId));
    const apiSp = await make(tokens.servicePrincipal, "api-sp", {
      clientId: api.outs.clientId,
      appRoleAssignmentRequired: true,
      owners: [administrator.objectId],
    });
    const client = await make(tokens.application, "client-app", {
      displayName: "portal-dev",
      signInAudience: "AzureADMyOrg",
    });
    const clientSp = await make(tokens.servicePrincipal, "client-sp", {
      clientId: client.outs.clientId,
      owners: [administrator.objectId],
    });
    await make(tokens.password, "client-secret-2026-11-01", {
      applicationId: client.id,
      displayName: "rotated 2026-11-01",
      endDate: "2027-05-01T00:00:00Z",
      rotateWhenChanged: { rotatedOn: "2026-11-01" },
    });
    await make(tokens.federatedCredential, "client-federated-main", {
      applicationId: client.id,
      displayName: "main",
      issuer: "https://token.actions.githubusercontent.com",
      subject: "repo:contoso/apis:environment:dev",
      audiences: ["api://AzureADTokenExchange"],
    });
    await make(tokens.apiAccess, "client-permission", {
      applicationId: client.id,
      apiClientId: api.outs.clientId,
      roleIds: [roleId],
      scopeIds: [scopeId],
    });
    await make(tokens.assignment, "client-consent", {
      appRoleId: roleId,
      principalObjectId: clientSp.outs.objectId,
      resourceObjectId: apiSp.outs.objectId,
    });
    await make(tokens.delegatedGrant, "client-delegated", {
      servicePrincipalObjectId: clientSp.outs.objectId,
      resourceServicePrincipalObjectId: apiSp.outs.objectId,
      claimValues: ["access_as_user"],
    });
    await make(tokens.redirectUris, "client-redirects", {
      applicationId: client.id,
      type: "Web",
      redirectUris: ["https://portal.contoso.example/signin-oidc"],
    });
    await make(tokens.fallbackPublicClient, "client-public", { applicationId: client.id, enabled: true });

    expect(new Set(created.map(({ token }) => token))).toEqual(new Set(resourceTypes.keys()));
    for (const { token, name, id, outs, inputs } of created) {
      const urn = urnOf(token, name);
      const refreshed = await h.provider.read(id, urn, outs);
      const checked = (await h.provider.check(urn, refreshed.inputs, inputs)).inputs;
      expect(await h.provider.diff(id, urn, refreshed.props, checked), name).toEqual({
        changes: false,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });
});
