import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { once } from "node:events";
import * as pulumiProvider from "@pulumi/pulumi/provider";
import { afterAll, describe, expect, it, vi } from "vitest";
import { captureConfigure } from "../local/providers/azuread/configureHook";
import { answerPreviews } from "../local/providers/azuread/previewHook";
import { unknownValue } from "../local/providers/azuread/properties";
import { AzureadProvider } from "../local/providers/azuread/provider";
import { ownedByDeployer, tokens, urnOf } from "./support/azureadHarness";
import { FakeClock, FakeGraph, fakeHost } from "./support/fakeGraph";

// The provider as the engine sees it: the SDK's gRPC server (provider.main) with Configure handed to the provider and
// a preview's Create and Update answered from its plan.
// What this cannot prove: the Pulumi CLI's own calls (the engine tier runs those).

const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = fromPulumi("@grpc/grpc-js");
const { ResourceProviderClient } = fromPulumi("./proto/provider_grpc_pb");
const messages = fromPulumi("./proto/provider_pb");
const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb");
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb");

type Client = Record<string, (request: unknown, callback: (error: Error | null, response: never) => void) => void>;

function rpc<T>(client: Client, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) =>
    client[method]!(request, (error, response) => (error ? reject(error) : resolve(response as T))),
  );
}

const clients: { close(): void }[] = [];
afterAll(() => clients.forEach((client) => client.close()));

function connect(port: string): Client {
  const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  clients.push(client);
  return client as Client;
}

describe("the plugin surface", () => {
  it("hands Configure's config to the provider, which then answers invokes as the configured caller", async () => {
    const graph = new FakeGraph([ownedByDeployer]);
    const azuread = new AzureadProvider({ transport: graph.fetch, clock: new FakeClock(), env: {} });
    captureConfigure((config) => azuread.configure(config));
    answerPreviews(azuread);
    const printed = vi.spyOn(console, "log").mockImplementation(() => undefined);
    await pulumiProvider.main(azuread, []);
    const port = String(printed.mock.calls[0]![0]);
    printed.mockRestore();
    const client = connect(port);

    const info = await rpc<{ getVersion(): string }>(client, "getPluginInfo", new Empty());
    expect(info.getVersion()).toBe("6.9.1");

    const refused = new messages.ConfigureRequest();
    refused.getVariablesMap().set("azuread:config:metadataHost", fakeHost);
    await expect(rpc(client, "configure", refused)).rejects.toThrow("missing azuread:tenantId (or ARM_TENANT_ID)");

    const request = new messages.ConfigureRequest();
    request.getVariablesMap().set("azuread:config:metadataHost", fakeHost);
    request.getVariablesMap().set("azuread:config:tenantId", graph.tenantId);
    request.setArgs(
      Struct.fromJavaScript({
        clientId: ownedByDeployer.clientId,
        clientSecret: {
          "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
          value: ownedByDeployer.clientSecret,
        },
      }),
    );
    const configured = await rpc<{ getAcceptsecrets(): boolean; getSupportspreview(): boolean }>(
      client,
      "configure",
      request,
    );
    expect(configured.getAcceptsecrets()).toBe(true);
    // Like the bridged provider: the engine then sends a preview's Create and Update here instead of guessing.
    expect(configured.getSupportspreview()).toBe(true);

    const callsBeforePreview = graph.calls.length;
    const previewCreate = new messages.CreateRequest();
    previewCreate.setUrn(urnOf(tokens.servicePrincipal, "api-sp"));
    previewCreate.setProperties(Struct.fromJavaScript({ clientId: unknownValue, accountEnabled: true }));
    previewCreate.setPreview(true);
    type Answer = { getId(): string; getProperties(): { toJavaScript(): Record<string, unknown> } };
    const planned = await rpc<Answer>(client, "create", previewCreate);
    expect(planned.getId()).toBe("");
    expect(planned.getProperties().toJavaScript()).toMatchObject({ clientId: unknownValue, objectId: unknownValue });

    const olds = { clientId: "c1", objectId: "o1", accountEnabled: true, owners: [] };
    const previewUpdate = new messages.UpdateRequest();
    previewUpdate.setId("/servicePrincipals/o1");
    previewUpdate.setUrn(urnOf(tokens.servicePrincipal, "api-sp"));
    previewUpdate.setOlds(Struct.fromJavaScript(olds));
    previewUpdate.setNews(Struct.fromJavaScript({ clientId: "c1", accountEnabled: true, owners: ["u1"] }));
    previewUpdate.setPreview(true);
    const plannedUpdate = await rpc<Answer>(client, "update", previewUpdate);
    expect(plannedUpdate.getProperties().toJavaScript()).toEqual({ ...olds, owners: ["u1"] });
    expect(graph.calls.length).toBe(callsBeforePreview);

    const invoke = new messages.InvokeRequest();
    invoke.setTok("azuread:index/getClientConfig:getClientConfig");
    invoke.setArgs(Struct.fromJavaScript({}));
    const answer = await rpc<{ getReturn(): { toJavaScript(): Record<string, unknown> } }>(client, "invoke", invoke);
    expect(answer.getReturn().toJavaScript()).toMatchObject({
      objectId: ownedByDeployer.objectId,
      tenantId: graph.tenantId,
    });
  });

  it("starts from its entry file as a plugin executable: prints its port and reports the version @pulumi/azuread asks for", async () => {
    const child = spawn(process.execPath, [require.resolve("tsx/cli"), "local/providers/azuread/main.ts"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const [chunk] = (await once(child.stdout, "data")) as [Buffer];
      const port = chunk.toString().trim();
      expect(port).toMatch(/^\d+$/);
      const info = await rpc<{ getVersion(): string }>(connect(port), "getPluginInfo", new Empty());
      expect(info.getVersion()).toBe("6.9.1");
    } finally {
      child.kill();
    }
  });
});
