import { describe, expect, it } from "vitest";
import { AzureadProvider } from "../local/providers/azuread/provider";
import { administrator, configuredProvider, ownedByDeployer, tokens, urnOf } from "./support/azureadHarness";
import { FakeClock, FakeGraph, fakeHost } from "./support/fakeGraph";

// How the provider finds and authenticates to the tenant, what it answers for the program's invokes, and what Check
// refuses. Against a temporary in-process Graph (tests/support/fakeGraph.ts); the gRPC path is in
// azureadPlugin.test.ts.

const microsoftGraphAppId = "00000003-0000-0000-c000-000000000000";

describe("Configure: metadata host, client credentials, the caller's claims", () => {
  it("discovers the cloud from the metadata host and asks the login endpoint for a Graph token", async () => {
    const h = await configuredProvider(ownedByDeployer);

    expect(h.graph.tokenRequests).toEqual([
      {
        url: `https://${fakeHost}/${h.graph.tenantId}/oauth2/v2.0/token`,
        form: {
          client_id: ownedByDeployer.clientId,
          client_secret: ownedByDeployer.clientSecret,
          grant_type: "client_credentials",
          scope: `https://${fakeHost}/.default`,
        },
      },
    ]);
    expect(await h.provider.invoke("azuread:index/getClientConfig:getClientConfig", {})).toEqual({
      outputs: {
        clientId: ownedByDeployer.clientId,
        objectId: ownedByDeployer.objectId,
        tenantId: h.graph.tenantId,
        id: `${h.graph.tenantId}-${ownedByDeployer.clientId}-${ownedByDeployer.objectId}`,
      },
    });
  });

  it("takes ARM_* variables when the stack's config leaves them out", async () => {
    const graph = new FakeGraph([administrator]);
    const provider = new AzureadProvider({
      transport: graph.fetch,
      clock: new FakeClock(),
      env: {
        ARM_METADATA_HOSTNAME: fakeHost,
        ARM_TENANT_ID: graph.tenantId,
        ARM_CLIENT_ID: administrator.clientId,
        ARM_CLIENT_SECRET: administrator.clientSecret,
      },
    });
    await provider.configure({});
    expect(graph.tokenRequests[0]!.form.client_id).toBe(administrator.clientId);
  });

  it("refuses to run without a metadata host, or with a secret the tenant rejects, saying what to set", async () => {
    const graph = new FakeGraph([administrator]);
    const provider = new AzureadProvider({ transport: graph.fetch, clock: new FakeClock(), env: {} });
    const settings = { tenantId: graph.tenantId, clientId: administrator.clientId, clientSecret: "wrong" };

    await expect(provider.configure(settings)).rejects.toThrow(
      "Set azuread:metadataHost or ARM_METADATA_HOSTNAME to the local tenant's <host>:<port>",
    );
    await expect(provider.configure({ metadataHost: fakeHost, tenantId: graph.tenantId })).rejects.toThrow(
      "missing azuread:clientId (or ARM_CLIENT_ID), azuread:clientSecret (or ARM_CLIENT_SECRET)",
    );
    await expect(provider.configure({ ...settings, metadataHost: fakeHost })).rejects.toThrow(
      "building client: unable to obtain access token: clientCredentialsToken: received HTTP status 401 with response:",
    );
    expect(graph.calls).toEqual([]);
  });
});

describe("getServicePrincipal (service_principal_data_source.go)", () => {
  it("finds Microsoft Graph's principal by client id and maps its roles by value", async () => {
    const h = await configuredProvider();
    const app = await h.create(tokens.application, "graph-app", { displayName: "Microsoft Graph" });
    const objectId = app.outs.objectId as string;
    h.graph.application(objectId).appId = microsoftGraphAppId;
    h.graph.application(objectId).appRoles = [
      { id: "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", value: "Application.Read.All", isEnabled: true },
      { id: "18a4783c-866b-4cc7-a460-3d5e5662c884", value: "Application.ReadWrite.OwnedBy", isEnabled: true },
    ];
    const sp = await h.create(tokens.servicePrincipal, "graph-sp", { clientId: microsoftGraphAppId });
    const start = h.graph.calls.length;

    const { outputs } = await h.provider.invoke("azuread:index/getServicePrincipal:getServicePrincipal", {
      clientId: microsoftGraphAppId,
    });

    expect(h.callsSince(start)).toEqual([
      "GET /v1.0/servicePrincipals",
      `GET /beta/servicePrincipals/${sp.outs.objectId}`,
    ]);
    expect(h.graph.calls[start + 1]!.query).toEqual({ $select: "samlMetadataUrl" });
    expect(outputs).toMatchObject({
      id: sp.id,
      objectId: sp.outs.objectId,
      clientId: microsoftGraphAppId,
      appRoleIds: {
        "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
        "Application.ReadWrite.OwnedBy": "18a4783c-866b-4cc7-a460-3d5e5662c884",
      },
    });
    expect(outputs!.appRoles).toContainEqual({
      id: "18a4783c-866b-4cc7-a460-3d5e5662c884",
      allowedMemberTypes: [],
      description: "",
      displayName: "",
      enabled: true,
      value: "Application.ReadWrite.OwnedBy",
    });
  });
});

describe("Check", () => {
  it("fills in the schema's defaults and refuses bad values, naming the property, the value and the form", async () => {
    const h = await configuredProvider();
    const urn = (token: string) => urnOf(token, "x");

    expect((await h.provider.check(urn(tokens.application), {}, { displayName: "a" })).inputs).toEqual({
      displayName: "a",
      requestedAccessTokenVersion: 2,
      signInAudience: "AzureADMyOrg",
    });
    expect(
      (await h.provider.check(urn(tokens.servicePrincipal), {}, { clientId: administrator.clientId })).inputs,
    ).toEqual({ clientId: administrator.clientId, accountEnabled: true });
    expect(
      (await h.provider.check(urn(tokens.identifierUri), {}, { applicationId: "a1b2", identifierUri: "api://x" }))
        .failures,
    ).toEqual([
      {
        property: "applicationId",
        reason:
          'applicationId: "a1b2" is not an application resource id: expected /applications/{objectId}, e.g. an ApplicationRegistration\'s id',
      },
    ]);
    expect(
      (
        await h.provider.check(
          urn(tokens.appRole),
          {},
          {
            applicationId: "/applications/3b1f4e2a-1111-4c4c-8d8d-000000000001",
            roleId: "3b1f4e2a-1111-4c4c-8d8d-000000000002",
            allowedMemberTypes: ["Robot"],
            displayName: "d",
            description: "d",
            value: ".hidden",
          },
        )
      ).failures,
    ).toEqual([
      { property: "allowedMemberTypes", reason: 'allowedMemberTypes: "Robot" is not one of "Application", "User"' },
      { property: "value", reason: 'value: ".hidden" must not begin with a period' },
    ]);
    expect((await h.provider.check(urn(tokens.password), {}, {})).failures).toEqual([
      { property: "applicationId", reason: "applicationId is required" },
    ]);
  });

  it("lets an input still unknown in preview through unchecked", async () => {
    const h = await configuredProvider();
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const checked = await h.provider.check(
      urnOf(tokens.identifierUri, "x"),
      {},
      { applicationId: unknown, identifierUri: unknown },
    );
    expect(checked).toEqual({ inputs: { applicationId: unknown, identifierUri: unknown }, failures: [] });
  });
});
