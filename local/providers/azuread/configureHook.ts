import { configFromRequest } from "./settings";
import { type GrpcCallback, grpcError, wrapProviderService } from "./sdkProviderServer";

/** What the engine's ConfigureRequest carries, as the SDK's generated protobuf class exposes it. */
interface ConfigureRequest {
  getVariablesMap(): { forEach(callback: (value: string, key: string) => void): void };
  getArgs(): { toJavaScript(): Record<string, unknown> } | undefined;
}

/**
 * @pulumi/pulumi's provider `main` (provider/server.js, 3.270 to 3.276) answers Configure itself and drops the
 * request: a Node.js provider never sees its config. This hands the request's config to `onConfigure` first and
 * lets the SDK answer after it succeeds, by wrapping `configure` on the ResourceProvider service `main` registers.
 * Call before `main`. It reaches the SDK's own copies of grpc-js and the generated service, so it wraps only that.
 */
export function captureConfigure(onConfigure: (config: Record<string, unknown>) => Promise<void>): void {
  wrapProviderService((implementation) => {
    const answer = implementation.configure!.bind(implementation);
    implementation.configure = (call: { request: ConfigureRequest }, callback: GrpcCallback) => {
      const variables = new Map<string, string>();
      call.request.getVariablesMap().forEach((value, key) => variables.set(key, value));
      const args = call.request.getArgs()?.toJavaScript() ?? {};
      onConfigure(configFromRequest(variables, args)).then(
        () => answer(call as never, callback),
        (error: unknown) => callback(grpcError(error)),
      );
    };
  });
}
