// The round trip the local tenant adds to each Microsoft Graph and ARM request (`npm run local -- start --latency
// graph=150,arm=300`): on loopback a request costs about a millisecond, so without it a deployment's wall time says
// nothing about how it would go against Azure, where the engine's parallelism and the program's dependency chains
// decide how many round trips are paid one after another.
import type { MountedHandler } from "./server";

/** Milliseconds each request waits before the service answers it. */
export interface Latency {
  graph: number;
  arm: number;
}

export const noLatency: Latency = { graph: 0, arm: 0 };

/** The largest delay a request may be given: above it, providers' and the CLI's own timeouts would fire first. */
const maxLatencyMs = 10_000;

/**
 * `graph=150,arm=300` (either may be left out: it stays 0) as a {@link Latency}; throws with the flag, the bad part and
 * the allowed form.
 */
export function parseLatency(flag: string, text: string): Latency {
  const latency = { ...noLatency };
  const form = `<service>=<ms>[,<service>=<ms>] with service graph or arm and ms a whole number from 0 to ${maxLatencyMs}, e.g. graph=150,arm=300`;
  for (const part of text.split(",")) {
    const match = /^(graph|arm)=(\d+)$/.exec(part.trim());
    if (!match || Number(match[2]) > maxLatencyMs) throw new Error(`${flag}: "${part}" is not ${form}`);
    latency[match[1] as keyof Latency] = Number(match[2]);
  }
  return latency;
}

/** `Graph 150 ms, ARM 300 ms per request`, or undefined when neither is delayed. */
export function describeLatency(latency: Latency | undefined): string | undefined {
  if (!latency || (latency.graph === 0 && latency.arm === 0)) return undefined;
  return `Graph ${latency.graph} ms, ARM ${latency.arm} ms per request`;
}

export type Sleep = (ms: number) => Promise<void>;

const sleepFor: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The delayed services, by the prefix the tenant mounts them under. */
const servicesByMount: Record<string, keyof Latency> = { "/graph": "graph", "/arm": "arm" };

/**
 * Delays each request to Graph and ARM by its service's latency (`sleep` is injectable: a test observes the delay
 * without waiting for it) and counts the requests each service answered and the most answered at once, which
 * `/local/status` reports.
 */
export function serviceDelays(latency: Latency, sleep: Sleep = sleepFor) {
  const requests: Record<keyof Latency, number> = { graph: 0, arm: 0 };
  /** Graph and ARM requests being answered now, and the most there have been at once. */
  const inFlight = { now: 0, most: 0 };
  return {
    latency,
    requests,
    inFlight,
    /** The handler mounted under `prefix`, delayed when it serves Graph or ARM; any other as it is. */
    wrap(prefix: string, handler: MountedHandler): MountedHandler {
      const service = servicesByMount[prefix];
      if (!service) return handler;
      return async (request, response, path) => {
        requests[service] += 1;
        inFlight.now += 1;
        inFlight.most = Math.max(inFlight.most, inFlight.now);
        try {
          if (latency[service] > 0) await sleep(latency[service]);
          return await handler(request, response, path);
        } finally {
          inFlight.now -= 1;
        }
      };
    },
  };
}
