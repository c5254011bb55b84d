import { readTokenCheck } from "../../policies/readTokenCheck";
import type { BoundedServer } from "../../local/http";
import { type GatewayApi, startEchoBackend, startGateway } from "../../local/gateway";

export type RunningStandIn = BoundedServer;

export interface GatewayStandInOptions {
  apis: (GatewayApi & { policyXml: string })[];
  /** Defaults to the wall clock. */
  now?: () => Date;
  /** Authority for validate-azure-ad-token policies; defaults to Entra's public cloud. */
  authorityHost?: string;
}

/**
 * The local tenant's gateway (local/gateway.ts) over a fixed list of APIs: each request is judged by its API's
 * policy, rejected with the policy's status and generic message, or relayed to the backend. A policy the gateway
 * cannot read stops the stand-in before it listens.
 */
export function startGatewayStandIn(options: GatewayStandInOptions): Promise<RunningStandIn> {
  for (const api of options.apis) readTokenCheck(api.policyXml);
  const apis = [...options.apis];
  return startGateway({ ...options, apis: () => apis });
}

/** A backend that answers every request with 200 and a JSON echo of its method and path. */
export const startBackendStandIn = startEchoBackend;
