import { compactVerify, importJWK, type JWK, type ProtectedHeaderParameters } from "jose";

import { type KeyMaterial, type KeySource, loadKeyMaterial } from "./keys";

import { fromTokenEndpoint, notTheTokenResponse } from "./fixes";

import { Rejection } from "./verdict";

export const allowedAlgorithms = ["PS256", "RS256", "RS512"];

/** Checks the algorithm and the signature, trying every published key when no kid matches, as APIM does. */
export async function verifySignature(
  token: string,
  header: ProtectedHeaderParameters,
  input: KeySource,
  notes: string[],
): Promise<KeyMaterial> {
  const { spec } = input;
  const alg = header.alg ?? "none";
  const requireSigned = spec.kind === "validate-jwt" ? spec.requireSignedTokens : true;
  const unsigned = alg === "none";
  if (unsigned && requireSigned) {
    throw new Rejection("signature", "the token is unsigned (alg none) and the policy requires signed tokens");
  }
  if (!unsigned && !allowedAlgorithms.includes(alg)) {
    const kind = alg.startsWith("HS") ? ", a shared-secret algorithm Entra ID never uses for access tokens" : "";
    throw new Rejection(
      "signature",
      `the token is signed with ${alg}${kind}; the policy accepts only ${allowedAlgorithms.join(", ")} signatures`,
    );
  }
  const material = await loadKeyMaterial(input, !unsigned);
  if (unsigned) return material;
  const kid = header.kid;
  const usable = material.keys.filter(
    (jwk) =>
      jwk.kty === "RSA" && (jwk.use === undefined || jwk.use === "sig") && (jwk.alg === undefined || jwk.alg === alg),
  );
  const from = material.sources.join(", ") || "the policy";
  if (usable.length === 0)
    throw new Rejection("signature", `no RSA signing key for ${alg} was found in the keys from ${from}`);
  if (kid !== undefined && !usable.some((jwk) => jwk.kid === kid)) {
    // Microsoft.IdentityModel, which APIM validates with, tries every issuer signing key when no kid matches
    // (TryAllIssuerSigningKeys, on by default): a published key under another kid still verifies the token.
    for (const jwk of usable) {
      if (await verifiesWith(token, jwk, alg)) {
        notes.push(
          `kid ${kid} was not found in the keys from ${from}, but key ${jwk.kid ?? "(no kid)"} verifies the signature; APIM tries every signing key when no kid matches, so this is accepted`,
        );
        return material;
      }
    }
    throw new Rejection(
      "signature",
      `kid ${kid} was not found in the keys from ${from}, and none of its ${usable.length} signing keys verifies the signature: the token was issued by another tenant or authority, or its keys were rotated`,
      { fix: `request a new token from the tenant and authority this policy trusts: ${fromTokenEndpoint}` },
    );
  }
  const candidates = usable.filter((jwk) => kid === undefined || jwk.kid === undefined || jwk.kid === kid);
  for (const jwk of candidates) {
    if (await verifiesWith(token, jwk, alg)) return material;
  }
  throw new Rejection(
    "signature",
    `the token's signature does not verify with signing key ${kid ?? "(no kid)"} from ${from}: the token was altered after it was issued, or signed with another key`,
    { fix: notTheTokenResponse },
  );
}

async function verifiesWith(token: string, jwk: JWK, alg: string): Promise<boolean> {
  try {
    const key = await importJWK({ ...jwk, alg }, alg);
    await compactVerify(token, key, { algorithms: allowedAlgorithms });
    return true;
  } catch {
    return false;
  }
}
