import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from "jose";

import type { TokenCheckSpec } from "../../policies/readTokenCheck";

import { notTheTokenResponse, sendBearer } from "./fixes";

import { Rejection } from "./verdict";

/** Where the request carries the token. */
export interface TokenInput {
  spec: TokenCheckSpec;
  /** The raw value of the header the policy reads (the Authorization header unless it names another). */
  authorizationHeader?: string;
  /** The bare token, as read from a query parameter or token-value; skips the header and scheme checks. */
  token?: string;
}

/** The token from where the policy reads it, after the scheme check APIM makes on the Authorization header. */
export function extractToken(input: TokenInput): string {
  const { spec } = input;
  if (input.token !== undefined) {
    if (input.token.trim() === "") throw new Rejection("header", "the token is empty: the client sent no token");
    return input.token.trim();
  }
  const source = spec.tokenSource;
  const value = input.authorizationHeader?.trim();
  if (!value) {
    const where = source.kind === "query" ? `${source.name} query parameter` : `${sourceName(source)} header`;
    const scheme = (spec.kind === "validate-jwt" ? spec.requireScheme : undefined) ?? "Bearer";
    const fix = isAuthorizationHeader(source) ? sendBearer(scheme) : `send the token in the ${where}`;
    throw new Rejection("header", `the request has no ${where}: the client sent no token`, { fix });
  }
  if (!isAuthorizationHeader(source)) return value;
  const required = spec.kind === "validate-jwt" ? spec.requireScheme : "Bearer";
  const [scheme = "", ...rest] = value.split(/\s+/);
  if (required) {
    if (rest.length === 0) {
      throw new Rejection(
        "scheme",
        `the Authorization header has no scheme; this policy requires "${required} <token>"`,
        { fix: sendBearer(required) },
      );
    }
    if (scheme.toLowerCase() !== required.toLowerCase()) {
      throw new Rejection(
        "scheme",
        `the Authorization header uses the ${scheme} scheme; this policy requires ${required}`,
        { fix: sendBearer(required) },
      );
    }
  }
  return rest.length > 0 ? rest.join(" ") : value;
}

function isAuthorizationHeader(source: TokenCheckSpec["tokenSource"]): boolean {
  return source.kind === "header" && source.name.toLowerCase() === "authorization";
}

function sourceName(source: TokenCheckSpec["tokenSource"]): string {
  return source.kind === "value" ? "token-value" : source.name;
}

/** The token's header and claims, not yet trusted: the signature is checked next. */
export function decode(token: string): { header: ProtectedHeaderParameters; claims: JWTPayload } {
  const parts = token.split(".");
  if (parts.length === 5) {
    throw new Rejection("signature", "the token is encrypted (JWE), and this evaluator cannot decrypt it");
  }
  if (parts.length !== 3) {
    throw new Rejection("signature", "the token is not a JWT: expected three base64url parts separated by dots", {
      fix: notTheTokenResponse,
    });
  }
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    throw new Rejection("signature", "the token is not a JWT: its header or payload is not base64url-encoded JSON", {
      fix: notTheTokenResponse,
    });
  }
}
