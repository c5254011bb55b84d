/**
 * Issuers whose exact form is documented. Entra compares a federated credential's issuer with the token's `iss`
 * character for character, so a trailing slash the issuer does not write makes every exchange fail.
 * - GitHub Actions: `https://token.actions.githubusercontent.com`, or `…/<enterprise>` with a custom issuer
 *   (GitHub docs, "About security hardening with OpenID Connect").
 * - Azure DevOps service connections: `https://vstoken.dev.azure.com/<organization id>` (Azure DevOps docs,
 *   "Workload identity federation").
 * - Entra ID itself (a managed identity or an Entra-issued token as the assertion):
 *   `https://login.microsoftonline.com/<tenant id>/v2.0` (entra-docs workload-identity-federation-config-app-trust-managed-identity.md).
 * - Google Cloud: `https://accounts.google.com` (entra-docs workload-identity-federation.md, supported scenarios).
 */
const wellKnownIssuers: RegExp[] = [
  /^https:\/\/token\.actions\.githubusercontent\.com(?:\/[A-Za-z0-9_-]+)?$/,
  /^https:\/\/vstoken\.dev\.azure\.com\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  /^https:\/\/login\.microsoftonline\.com\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/v2\.0$/i,
  /^https:\/\/accounts\.google\.com$/,
];

/**
 * The issuer as its tokens carry it, when `issuer` differs from a well-known issuer only by a trailing slash;
 * otherwise undefined (other issuers, such as AKS's OIDC issuer, do end with a slash).
 */
export function issuerWithoutStraySlash(issuer: string): string | undefined {
  if (!issuer.endsWith("/")) return undefined;
  const trimmed = issuer.replace(/\/+$/, "");
  return wellKnownIssuers.some((pattern) => pattern.test(trimmed)) ? trimmed : undefined;
}
