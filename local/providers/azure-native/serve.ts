import { createRequire } from "node:module";
import { main } from "@pulumi/pulumi/provider";
import * as providerProto from "@pulumi/pulumi/proto/provider_pb";
import type { AzureNativeProvider } from "./provider";
import type { PropertyMap } from "./values";

/** The gRPC and protobuf modules @pulumi/pulumi itself runs on (the one instance its server registers with). */
const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = fromPulumi("@grpc/grpc-js") as { Server: { prototype: { addService: AddService } } };
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb") as {
  Struct: { fromJavaScript(value: Record<string, unknown>): unknown };
};

type AddService = (this: unknown, service: unknown, implementation: Record<string, Handler>) => void;
type Callback = (error: unknown, value?: unknown) => void;
interface JsStruct {
  toJavaScript(): PropertyMap;
}
interface Request {
  getArgs?(): JsStruct | undefined;
  getVariablesMap?(): { toArray(): [string, string][] };
  getPreview?(): boolean;
  getProperties?(): JsStruct;
  getOlds?(): JsStruct;
  getNews?(): JsStruct;
}
type Handler = (call: { request: Request }, callback: Callback) => unknown;

/** Config from Configure: its `args` (keys without the package prefix), or the older `azure-native:config:*` map. */
function configureArguments(request: Request): PropertyMap {
  const args = request.getArgs?.();
  if (args) return args.toJavaScript();
  const variables = request.getVariablesMap?.().toArray() ?? [];
  return Object.fromEntries(variables.map(([key, value]) => [key.replace(/^azure-native:(config:)?/, ""), value]));
}

/**
 * @pulumi/pulumi's provider server (provider/server.js, 3.270–3.276) answers Configure without passing the config on
 * and without announcing preview support, and hands Create and Update no preview flag. These three methods are
 * answered here, for the provider to read `azure-native:*` config and for previews to show what an update keeps;
 * everything else is @pulumi/pulumi's.
 */
export function withLocalHooks(
  implementation: Record<string, Handler>,
  provider: AzureNativeProvider,
): Record<string, Handler> {
  const hooked = Object.create(implementation) as Record<string, Handler>;
  hooked.configure = (call, callback) => {
    try {
      provider.configure(configureArguments(call.request));
      const response = new providerProto.ConfigureResponse();
      response.setAcceptsecrets(true);
      response.setAcceptresources(true);
      response.setSupportspreview(true);
      callback(null, response);
    } catch (error) {
      callback(error);
    }
  };
  hooked.create = (call, callback) => {
    if (!call.request.getPreview?.()) return implementation.create?.call(hooked, call, callback);
    const response = new providerProto.CreateResponse();
    response.setId("");
    response.setProperties(
      Struct.fromJavaScript(provider.previewOutputs(call.request.getProperties?.().toJavaScript() ?? {})) as never,
    );
    callback(null, response);
  };
  hooked.update = (call, callback) => {
    if (!call.request.getPreview?.()) return implementation.update?.call(hooked, call, callback);
    const response = new providerProto.UpdateResponse();
    const outputs = provider.previewOutputs(
      call.request.getNews?.().toJavaScript() ?? {},
      call.request.getOlds?.().toJavaScript(),
    );
    response.setProperties(Struct.fromJavaScript(outputs) as never);
    callback(null, response);
  };
  return hooked;
}

/** Serves the provider as a plugin: `main` from @pulumi/pulumi/provider, with {@link withLocalHooks}. */
export async function serve(provider: AzureNativeProvider, args: string[]): Promise<void> {
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, implementation) {
    grpc.Server.prototype.addService = addService;
    return addService.call(this, service, withLocalHooks(implementation, provider));
  };
  await main(provider, args);
}
