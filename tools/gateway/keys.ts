import type { JSONWebKeySet, JWK } from "jose";

import { insecureUrlFault } from "../../entra/loopback";

import { tenantAuthority } from "../../entra/tokenProfile";

import type { TokenCheckSpec } from "../../policies/readTokenCheck";

import { Rejection } from "./verdict";

export interface SigningMaterial {
  /** openid-config documents by URL, used instead of fetching them. */
  openIdConfigs?: Record<string, unknown>;
  /** Used instead of fetching each document's `jwks_uri`. */
  jwks?: JSONWebKeySet;
}

/** What decides which keys (and, without `<issuers>`, which issuers) the policy trusts. */
export interface KeySource {
  spec: TokenCheckSpec;
  keys: SigningMaterial;
  fetchDocument?: (url: string) => Promise<unknown>;
  /** Authority of validate-azure-ad-token's tenant; APIM uses the public cloud's. */
  authorityHost?: string;
}

export interface KeyMaterial {
  keys: JWK[];
  sources: string[];
  metadataIssuers: string[];
}

const maxDocumentBytes = 1024 * 1024;

/** The openid-config documents whose keys (and, without `<issuers>`, issuers) the policy trusts. */
export function openIdConfigUrlsOf(spec: TokenCheckSpec, authorityHost?: string): string[] {
  if (spec.kind === "validate-jwt") return spec.openIdConfigUrls;
  return [`${tenantAuthority(spec.tenantId, authorityHost)}/v2.0/.well-known/openid-configuration`];
}

export async function loadKeyMaterial(input: KeySource, needKeys: boolean): Promise<KeyMaterial> {
  const { spec, keys } = input;
  const fetchDocument = input.fetchDocument ?? loadDocument;
  const urls = openIdConfigUrlsOf(spec, input.authorityHost);
  const needMetadataIssuer = spec.kind === "validate-jwt" && spec.issuers.length === 0;
  const material: KeyMaterial = { keys: [], sources: [], metadataIssuers: [] };
  if (keys.jwks) {
    material.keys.push(...keys.jwks.keys);
    material.sources.push("the given JWKS");
  }
  if (spec.kind === "validate-jwt") {
    for (const key of spec.issuerSigningKeys) {
      if (key.kind === "rsa")
        material.keys.push({ kty: "RSA", n: key.n, e: key.e, ...(key.id ? { kid: key.id } : {}) });
    }
    if (spec.issuerSigningKeys.length > 0) material.sources.push("<issuer-signing-keys>");
  }
  const fetchKeys = needKeys && !keys.jwks;
  if (!fetchKeys && !needMetadataIssuer) return material;
  for (const url of urls) {
    const document = keys.openIdConfigs?.[url] ?? (await fetchOrReject(fetchDocument, url, "openid-config"));
    if (!isRecord(document)) throw new Rejection("signature", `the openid-config ${url} is not a JSON object`);
    if (typeof document.issuer === "string") material.metadataIssuers.push(document.issuer);
    if (!fetchKeys) continue;
    if (typeof document.jwks_uri !== "string") {
      throw new Rejection("signature", `the openid-config ${url} has no jwks_uri, so no signing keys are known`);
    }
    const jwks = await fetchOrReject(fetchDocument, document.jwks_uri, "JWKS");
    if (!isRecord(jwks) || !Array.isArray(jwks.keys)) {
      throw new Rejection("signature", `the JWKS ${document.jwks_uri} has no keys array`);
    }
    material.keys.push(...(jwks.keys as JWK[]));
    material.sources.push(document.jwks_uri);
  }
  return material;
}

async function fetchOrReject(fetchDocument: (url: string) => Promise<unknown>, url: string, what: string) {
  try {
    return await fetchDocument(url);
  } catch (error) {
    throw new Rejection(
      "signature",
      `the ${what} ${url} could not be loaded (${errorText(error)}), so no signing keys are known`,
      { keysUnavailable: true },
    );
  }
}

/**
 * Fetches a JSON document for key material: https only, or http to a loopback host (local stand-ins),
 * no redirects, bounded in time and size.
 */
export async function loadDocument(url: string): Promise<unknown> {
  if (insecureUrlFault(url) === "not-https") {
    throw new Error(`refusing to fetch ${url}: only https, or http on a loopback host, is allowed`);
  }
  const parsed = new URL(url);
  const response = await fetch(parsed, {
    redirect: "error",
    headers: { accept: "application/json" },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  return JSON.parse(await readBounded(response));
}

async function readBounded(response: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > maxDocumentBytes) throw new Error(`document larger than ${maxDocumentBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
