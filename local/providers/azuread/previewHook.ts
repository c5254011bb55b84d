import type { CreateResult, UpdateResult } from "@pulumi/pulumi/provider";
import type { PropertyMap } from "./properties";
import { type GrpcCallback, grpcError, messages, Struct, wrapProviderService } from "./sdkProviderServer";

/** What a preview's Create and Update are answered from: plans, never Graph calls. */
export interface PreviewPlanner {
  planCreate(urn: string, inputs: PropertyMap): CreateResult;
  planUpdate(id: string, urn: string, olds: PropertyMap, news: PropertyMap): UpdateResult;
}

interface JsStruct {
  toJavaScript(): PropertyMap;
}
interface ResourceRequest {
  getPreview(): boolean;
  getUrn(): string;
  getId(): string;
  getProperties(): JsStruct;
  getOlds(): JsStruct;
  getNews(): JsStruct;
}
type Call = { request: ResourceRequest };

/**
 * @pulumi/pulumi's provider `main` (provider/server.js, 3.276) answers Configure without `supportsPreview` and drops
 * the `preview` flag of Create and Update, so the engine never asks a Node.js provider to plan: in a preview it takes an
 * update's inputs as its outputs, and every computed output turns unknown (a service principal's objectId, so each
 * admin consent naming it previews as a replace; an adopted application's clientId, so its service principal does),
 * though `up` replaces nothing. The bridged azuread provider plans (pulumi-terraform-bridge pkg/tfbridge/provider.go:
 * Configure answers `SupportsPreview: true`; Create and Update with `req.GetPreview()` return the proposed state and
 * call no API). This does the same: it says so in Configure's answer and answers a preview's Create and Update from
 * `planner`, leaving the rest to the SDK. Call before `main`.
 */
export function answerPreviews(planner: PreviewPlanner): void {
  wrapProviderService((implementation) => {
    const configure = implementation.configure!.bind(implementation);
    implementation.configure = (call, callback) =>
      configure(call, (error, response) => {
        (response as { setSupportspreview(value: boolean): void } | undefined)?.setSupportspreview(true);
        callback(error, response);
      });

    const create = implementation.create!.bind(implementation);
    implementation.create = (call: Call, callback: GrpcCallback) => {
      if (!call.request.getPreview()) return create(call as never, callback);
      answer(callback, () => {
        const planned = planner.planCreate(call.request.getUrn(), call.request.getProperties().toJavaScript());
        const response = new messages.CreateResponse();
        response.setId(planned.id);
        response.setProperties(Struct.fromJavaScript(planned.outs));
        return response;
      });
    };

    const update = implementation.update!.bind(implementation);
    implementation.update = (call: Call, callback: GrpcCallback) => {
      if (!call.request.getPreview()) return update(call as never, callback);
      answer(callback, () => {
        const { request } = call;
        const planned = planner.planUpdate(
          request.getId(),
          request.getUrn(),
          request.getOlds().toJavaScript(),
          request.getNews().toJavaScript(),
        );
        const response = new messages.UpdateResponse();
        response.setProperties(Struct.fromJavaScript(planned.outs ?? {}));
        return response;
      });
    };
  });
}

function answer(callback: GrpcCallback, respond: () => unknown): void {
  try {
    callback(null, respond());
  } catch (error) {
    callback(grpcError(error));
  }
}
