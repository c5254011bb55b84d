// The local azure-native provider launched as the engine launches a provider plugin (its entry file with an engine
// address; it prints its port) and called over gRPC the way the engine calls it. What this cannot prove: the
// engine's side of the protocol (the engine tier runs the real CLI against it).
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as providerProto from "@pulumi/pulumi/proto/provider_pb";

const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = fromPulumi("@grpc/grpc-js") as { credentials: { createInsecure(): unknown } };
const { ResourceProviderClient } = require("@pulumi/pulumi/proto/provider_grpc_pb") as {
  ResourceProviderClient: new (
    address: string,
    credentials: unknown,
  ) => Record<string, (request: unknown, callback: (error: Error | null, value: never) => void) => void>;
};
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb") as {
  Struct: { fromJavaScript(value: object): never };
};
const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb") as { Empty: new () => unknown };
const { version: sdkVersion } = require("@pulumi/azure-native/package.json") as { version: string };

let plugin: ChildProcess;
let client: InstanceType<typeof ResourceProviderClient>;
const call = <T>(method: string, request: unknown) =>
  new Promise<T>((resolve, reject) =>
    client[method]?.(request, (error, value) => (error ? reject(error) : resolve(value))),
  );
const apiUrn = "urn:pulumi:dev::apim-entra-auth::azure-native:apimanagement:Api::orders";

beforeAll(async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ARM_")));
  plugin = spawn(process.execPath, ["--import", "tsx", "local/providers/azure-native/index.ts", "127.0.0.1:1"], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<string>((resolve, reject) => {
    plugin.stdout?.once("data", (data: Buffer) => resolve(data.toString().trim()));
    plugin.once("exit", (code) => reject(new Error(`the plugin exited with ${code}`)));
  });
  expect(port).toMatch(/^\d+$/);
  client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(() => {
  plugin?.kill();
});

describe("the azure-native plugin", () => {
  it("reports the version of the @pulumi/azure-native SDK, so the engine takes it for that SDK's resources", async () => {
    const info = await call<{ getVersion(): string }>("getPluginInfo", new Empty());
    expect(info.getVersion()).toBe(sdkVersion);
  });

  it("reads azure-native config from Configure and announces preview support", async () => {
    const request = new providerProto.ConfigureRequest();
    request.setArgs(
      Struct.fromJavaScript({ metadataHost: "127.0.0.1:1", clientId: "c11e0000-aaaa-4bbb-8ccc-00000000000d" }),
    );
    const response = await call<providerProto.ConfigureResponse>("configure", request);
    expect([response.getSupportspreview(), response.getAcceptsecrets()]).toEqual([true, true]);
    const create = new providerProto.CreateRequest();
    create.setUrn(apiUrn);
    create.setProperties(
      Struct.fromJavaScript({ resourceGroupName: "rg", serviceName: "apim", apiId: "orders", path: "orders" }),
    );
    // Only the settings Configure did not carry (and the environment lacks) are missing.
    await expect(call("create", create)).rejects.toThrow(
      "The local azure-native provider needs azure-native:tenantId (or ARM_TENANT_ID), azure-native:clientSecret (or ARM_CLIENT_SECRET), azure-native:subscriptionId (or ARM_SUBSCRIPTION_ID)",
    );
  });

  it("answers Check with the property and reason of each failure", async () => {
    const request = new providerProto.CheckRequest();
    request.setUrn(apiUrn);
    request.setOlds(Struct.fromJavaScript({}));
    request.setNews(
      Struct.fromJavaScript({ resourceGroupName: "rg", serviceName: "-apim", apiId: "orders", path: "orders" }),
    );
    const response = await call<providerProto.CheckResponse>("check", request);
    expect(response.getFailuresList().map((failure) => [failure.getProperty(), failure.getReason()])).toEqual([
      [
        "serviceName",
        '"-apim" does not match ^[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$: use letters, digits and hyphens, starting with a letter and not ending with a hyphen (azure-rest-api-specs apimanagement 2024-05-01 apimanagement.json ServiceNameParameter)',
      ],
    ]);
  });

  it("previews a create without calling ARM", async () => {
    const request = new providerProto.CreateRequest();
    request.setUrn(apiUrn);
    request.setPreview(true);
    request.setProperties(Struct.fromJavaScript({ apiId: "orders", path: "orders" }));
    const response = await call<providerProto.CreateResponse>("create", request);
    expect([response.getId(), response.getProperties()?.toJavaScript()]).toEqual([
      "",
      { apiId: "orders", path: "orders" },
    ]);
  });
});
