import { createRequire } from "node:module";

/** @pulumi/pulumi's own copies of grpc-js and the generated messages: the provider server `main` runs uses these. */
const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
export const grpc = fromPulumi("@grpc/grpc-js") as {
  Server: { prototype: { addService(service: unknown, implementation: Record<string, Handler>): void } };
  status: { UNKNOWN: number };
};
export const messages = fromPulumi("./proto/provider_pb") as {
  CreateResponse: new () => { setId(id: string): void; setProperties(properties: unknown): void };
  UpdateResponse: new () => { setProperties(properties: unknown): void };
};
export const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb") as {
  Struct: { fromJavaScript(value: Record<string, unknown>): unknown };
};
const { ResourceProviderService } = fromPulumi("./proto/provider_grpc_pb") as { ResourceProviderService: unknown };

export interface GrpcError {
  code: number;
  details: string;
}
export type GrpcCallback = (error: GrpcError | null, response?: unknown) => void;
export type Handler = (call: { request: never }, callback: GrpcCallback) => void;

/** An error as the gRPC status the engine shows: its message. */
export function grpcError(error: unknown): GrpcError {
  return { code: grpc.status.UNKNOWN, details: error instanceof Error ? error.message : String(error) };
}

/**
 * Lets `wrap` replace handlers of the ResourceProvider service the SDK's provider `main` registers, before it is
 * served. Call before `main`.
 */
export function wrapProviderService(wrap: (implementation: Record<string, Handler>) => void): void {
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, implementation) {
    if (service === ResourceProviderService) wrap(implementation);
    return addService.call(this, service, implementation);
  };
}
