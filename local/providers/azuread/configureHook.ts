import { createRequire } from "node:module";
import { configFromRequest } from "./settings";

/** What the engine's ConfigureRequest carries, as the SDK's generated protobuf class exposes it. */
interface ConfigureRequest {
  getVariablesMap(): { forEach(callback: (value: string, key: string) => void): void };
  getArgs(): { toJavaScript(): Record<string, unknown> } | undefined;
}

type GrpcCallback = (error: { code: number; details: string } | null, response?: unknown) => void;
type Handler = (call: { request: ConfigureRequest }, callback: GrpcCallback) => void;

/**
 * @pulumi/pulumi's provider `main` (provider/server.js, 3.270 to 3.276) answers Configure itself and drops the
 * request: a Node.js provider never sees its config. This hands the request's config to `onConfigure` first and
 * lets the SDK answer after it succeeds, by wrapping `configure` on the ResourceProvider service `main` registers.
 * Call before `main`. It reaches the SDK's own copies of grpc-js and the generated service, so it wraps only that.
 */
export function captureConfigure(onConfigure: (config: Record<string, unknown>) => Promise<void>): void {
  const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
  const grpc = fromPulumi("@grpc/grpc-js") as {
    Server: { prototype: { addService(service: unknown, implementation: Record<string, Handler>): void } };
    status: { UNKNOWN: number };
  };
  const { ResourceProviderService } = fromPulumi("./proto/provider_grpc_pb") as { ResourceProviderService: unknown };
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, implementation) {
    if (service === ResourceProviderService) {
      const answer = implementation.configure!.bind(implementation);
      implementation.configure = (call, callback) => {
        const variables = new Map<string, string>();
        call.request.getVariablesMap().forEach((value, key) => variables.set(key, value));
        const args = call.request.getArgs()?.toJavaScript() ?? {};
        onConfigure(configFromRequest(variables, args)).then(
          () => answer(call, callback),
          (error: unknown) =>
            callback({ code: grpc.status.UNKNOWN, details: error instanceof Error ? error.message : String(error) }),
        );
      };
    }
    return addService.call(this, service, implementation);
  };
}
