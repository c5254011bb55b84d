import { createRequire } from "node:module";

interface Struct {
  toJavaScript(): Record<string, unknown>;
}
interface ChangeRequest {
  getPreview(): boolean;
  getNews?(): Struct;
  getOlds?(): Struct;
  getProperties?(): Struct;
}
type GrpcCallback = (error: unknown, response?: unknown) => void;
type Handler = (call: { request: ChangeRequest }, callback: GrpcCallback) => void;

/**
 * Answers the engine's previews of a create or an update as the real azuread provider (the Terraform bridge) does,
 * with the planned state, instead of letting the engine fall back to the new inputs: @pulumi/pulumi's provider `main`
 * (provider/server.js, 3.276) neither says it supports previews nor passes the preview flag on. Without this, the
 * preview of an in-place update of an application hands back its inputs only, its client id becomes unknown, and
 * every service principal that names it previews as a replacement that `up` never makes (an adopted app's first
 * `pulumi up` is such an update). The plan: an update keeps the state it has, with the new inputs over it (what the
 * bridge plans for attributes nobody changes); a create has its inputs, the rest unknown until it exists. Nothing
 * reaches Graph during a preview. Call before `main`; it wraps only the SDK's own ResourceProvider service.
 */
export function answerPreviews(): void {
  const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
  const grpc = fromPulumi("@grpc/grpc-js") as {
    Server: { prototype: { addService(service: unknown, implementation: Record<string, Handler>): void } };
  };
  const { ResourceProviderService } = fromPulumi("./proto/provider_grpc_pb") as { ResourceProviderService: unknown };
  const proto = fromPulumi("./proto/provider_pb") as Record<string, new () => Record<string, (value: unknown) => void>>;
  const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb") as {
    Struct: { fromJavaScript(value: Record<string, unknown>): unknown };
  };
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, implementation) {
    if (service === ResourceProviderService) {
      const configure = implementation.configure!.bind(implementation);
      implementation.configure = (call, callback) =>
        configure(call, (error, response) => {
          (response as { setSupportspreview?(value: boolean): void } | undefined)?.setSupportspreview?.(true);
          callback(error, response);
        });
      const create = implementation.create!.bind(implementation);
      implementation.create = (call, callback) => {
        if (!call.request.getPreview()) return create(call, callback);
        const response = new proto.CreateResponse!();
        response.setId!("");
        response.setProperties!(Struct.fromJavaScript(call.request.getProperties!().toJavaScript()));
        callback(null, response);
      };
      const update = implementation.update!.bind(implementation);
      implementation.update = (call, callback) => {
        if (!call.request.getPreview()) return update(call, callback);
        const planned = { ...call.request.getOlds!().toJavaScript(), ...call.request.getNews!().toJavaScript() };
        const response = new proto.UpdateResponse!();
        response.setProperties!(Struct.fromJavaScript(planned));
        callback(null, response);
      };
    }
    return addService.call(this, service, implementation);
  };
}
