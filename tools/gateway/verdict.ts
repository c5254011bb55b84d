import type { JWTPayload } from "jose";

export type Check =
  | "header"
  | "scheme"
  | "signature"
  | "expiry"
  | "not-before"
  | "audience"
  | "issuer"
  | `claim:${string}`
  | "client-application";

export type Verdict =
  | {
      accepted: true;
      claims: JWTPayload;
      /** What was unusual but allowed, e.g. a kid no published key has. */
      notes?: string[];
    }
  | {
      accepted: false;
      check: Check;
      reason: string;
      /** What to change so the gateway accepts the client's next token, when the failure has a known fix. */
      fix?: string;
      /**
       * The signing keys could not be loaded (offline, proxy): the gateway would refuse the request, but the token
       * itself was never judged.
       */
      keysUnavailable?: true;
    };

/** A failed check, thrown by the first check that fails and turned into the verdict by {@link verdictOf}. */
export class Rejection extends Error {
  constructor(
    readonly check: Check,
    readonly reason: string,
    readonly remedy: { fix?: string; keysUnavailable?: true } = {},
  ) {
    super(reason);
  }
}

/** Runs the checks in order: the claims if every check passes, else the first failing check and its reason. */
export async function verdictOf(judge: (notes: string[]) => Promise<JWTPayload>): Promise<Verdict> {
  try {
    const notes: string[] = [];
    const claims = await judge(notes);
    return { accepted: true, claims, ...(notes.length > 0 ? { notes } : {}) };
  } catch (error) {
    if (!(error instanceof Rejection)) throw error;
    return {
      accepted: false,
      check: error.check,
      reason: error.reason,
      ...error.remedy,
    };
  }
}
