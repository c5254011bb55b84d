import type { JWTPayload } from "jose";

import {
  acceptedIssuers,
  checkAudience,
  checkClaim,
  checkClientApplication,
  checkIssuer,
  checkLifetime,
  requiredClaimsFor,
} from "./claims";

import type { KeySource } from "./keys";

import { decode, extractToken, type TokenInput } from "./readToken";

import { verifySignature } from "./signature";

import { type Verdict, verdictOf } from "./verdict";

export interface EvaluateTokenInput extends TokenInput, KeySource {
  now: Date;
}

/** Judges a token the way the policy's check would, in APIM's order, and names the first failing check. */
export function evaluateToken(input: EvaluateTokenInput): Promise<Verdict> {
  return verdictOf((notes) => judge(input, notes));
}

async function judge(input: EvaluateTokenInput, notes: string[]): Promise<JWTPayload> {
  const { spec } = input;
  const token = extractToken(input);
  const { header, claims } = decode(token);
  const material = await verifySignature(token, header, input, notes);
  const skew = spec.kind === "validate-jwt" ? spec.clockSkewSeconds : 0;
  const requireExpiry = spec.kind === "validate-jwt" ? spec.requireExpirationTime : true;
  checkLifetime(claims, input.now, skew, requireExpiry);
  checkAudience(claims, spec.audiences);
  checkIssuer(claims, acceptedIssuers(spec, material.metadataIssuers, input.authorityHost), spec.kind);
  if (spec.kind === "validate-azure-ad-token") checkClientApplication(claims, spec);
  for (const claim of requiredClaimsFor(spec, claims)) checkClaim(claims, claim, spec);
  return claims;
}
