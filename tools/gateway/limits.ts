import type { JWTPayload } from "jose";
import type { CallLimitSpec, ClientLimitsSpec } from "../../policies/readClientLimits";

export type LimitDecision =
  | { admitted: true }
  | {
      admitted: false;
      /** rate-limit-by-key answers 429 Too Many Requests, quota-by-key 403 Forbidden (APIM policy reference). */
      status: 429 | 403;
      /** The Retry-After header: whole seconds until the limit admits the client's next call. */
      retryAfterSeconds: number;
      /** APIM's message for the limit (error-handling reference: RateLimitExceeded, QuotaExceeded). */
      message: string;
    };

/** quota-by-key's default first-period-start, 0001-01-01T00:00:00Z: a day's quota renews at midnight UTC. */
const firstPeriodStart = Date.parse("0001-01-01T00:00:00Z");

/** The client id a counter key reads: `Claims.GetValueOrDefault(claim, "")` of the validated token. */
export function clientIdOf(spec: ClientLimitsSpec, claims: JWTPayload): string {
  const value = claims[spec.clientIdClaim];
  return typeof value === "string" ? value : "";
}

/** The limits that apply to a client: its own when the policy lists it, else every client's. */
export function limitsFor(spec: ClientLimitsSpec, clientId: string): { limits: CallLimitSpec[]; own: boolean } {
  const own = spec.clients.find((client) => client.clientId === clientId);
  return own ? { limits: own.limits, own: true } : { limits: spec.everyClient, own: false };
}

/** For explain, in one line: the limits that apply to the judged token's client. */
export function describeLimits(spec: ClientLimitsSpec, claims: JWTPayload): string {
  const clientId = clientIdOf(spec, claims);
  const { limits, own } = limitsFor(spec, clientId);
  const client = `client ${clientId || `(no ${spec.clientIdClaim} claim)`}`;
  if (limits.length === 0) return `none for ${client}`;
  const per = (seconds: number) => (seconds === 60 ? "minute" : seconds === 86_400 ? "day" : `${seconds} seconds`);
  const counts = limits.map((limit) => `${limit.calls} calls per ${per(limit.renewalPeriodSeconds)}`).join(", ");
  return `${counts} for ${client} (${own ? "its own" : "every client's"}; 429 or 403 with Retry-After beyond)`;
}

/**
 * The gateway's call counters, per API and client id, on an injected clock: rate-limit-by-key over a sliding window
 * of its renewal period, quota-by-key over fixed periods from first-period-start. Counts only what it admits.
 * What it cannot prove: APIM's own accuracy, which its reference says is never exact across gateway instances.
 */
export class CallCounters {
  private readonly windows = new Map<string, number[]>();
  private readonly periods = new Map<string, { start: number; calls: number }>();

  constructor(private readonly now: () => Date) {}

  /** Counts one call of a validated token's client to `api`; the first limit it exceeds refuses it. */
  admit(api: string, spec: ClientLimitsSpec, claims: JWTPayload): LimitDecision {
    const clientId = clientIdOf(spec, claims);
    const key = `${api}|${clientId}`;
    const now = this.now().getTime();
    for (const limit of limitsFor(spec, clientId).limits) {
      const decision = limit.policy === "rate-limit-by-key" ? this.rate(key, limit, now) : this.quota(key, limit, now);
      if (!decision.admitted) return decision;
    }
    return { admitted: true };
  }

  private rate(key: string, limit: CallLimitSpec, now: number): LimitDecision {
    const window = limit.renewalPeriodSeconds * 1000;
    const counterKey = `${limit.policy}|${key}`;
    const calls = (this.windows.get(counterKey) ?? []).filter((at) => at > now - window);
    this.windows.set(counterKey, calls);
    const oldest = calls[0];
    if (oldest !== undefined && calls.length >= limit.calls) {
      const retryAfterSeconds = Math.max(1, Math.ceil((oldest + window - now) / 1000));
      return {
        admitted: false,
        status: 429,
        retryAfterSeconds,
        message: `Rate limit is exceeded. Try again in ${retryAfterSeconds} seconds.`,
      };
    }
    calls.push(now);
    return { admitted: true };
  }

  private quota(key: string, limit: CallLimitSpec, now: number): LimitDecision {
    const length = limit.renewalPeriodSeconds * 1000;
    const start = firstPeriodStart + Math.floor((now - firstPeriodStart) / length) * length;
    const counterKey = `${limit.policy}|${key}`;
    const period = this.periods.get(counterKey);
    const counted = period?.start === start ? period : { start, calls: 0 };
    this.periods.set(counterKey, counted);
    if (counted.calls >= limit.calls) {
      const retryAfterSeconds = Math.max(1, Math.ceil((start + length - now) / 1000));
      return {
        admitted: false,
        status: 403,
        retryAfterSeconds,
        message: `Out of call volume quota. Quota will be replenished in ${clock(retryAfterSeconds)}.`,
      };
    }
    counted.calls += 1;
    return { admitted: true };
  }
}

function clock(seconds: number): string {
  const parts = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  return parts.map((part) => String(part).padStart(2, "0")).join(":");
}
