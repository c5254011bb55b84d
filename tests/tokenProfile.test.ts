import { describe, expect, it } from "vitest";
import { federatedCredentialAudience, tokenProfile } from "../entra/tokenProfile";

const tenant = "11111111-2222-3333-4444-555555555555";
const api = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

// The expected strings are written out as domain.md's table gives them, not computed.
describe.each([
  {
    authority: "https://login.microsoftonline.com",
    version: 1 as const,
    ver: "1.0",
    audience: `api://${api}`,
    issuer: `https://sts.windows.net/${tenant}/`,
    metadataUrl: `https://login.microsoftonline.com/${tenant}/.well-known/openid-configuration`,
    clientIdClaim: "appid",
  },
  {
    authority: "https://login.microsoftonline.com",
    version: 2 as const,
    ver: "2.0",
    audience: api,
    issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
    metadataUrl: `https://login.microsoftonline.com/${tenant}/v2.0/.well-known/openid-configuration`,
    clientIdClaim: "azp",
  },
  {
    authority: "https://login.microsoftonline.us/",
    version: 1 as const,
    ver: "1.0",
    audience: `api://${api}`,
    issuer: `https://sts.windows.net/${tenant}/`,
    metadataUrl: `https://login.microsoftonline.us/${tenant}/.well-known/openid-configuration`,
    clientIdClaim: "appid",
  },
  {
    authority: "https://login.partner.microsoftonline.cn",
    version: 1 as const,
    ver: "1.0",
    audience: `api://${api}`,
    issuer: `https://sts.chinacloudapi.cn/${tenant}/`,
    metadataUrl: `https://login.partner.microsoftonline.cn/${tenant}/.well-known/openid-configuration`,
    clientIdClaim: "appid",
  },
  {
    authority: "https://login.partner.microsoftonline.cn",
    version: 2 as const,
    ver: "2.0",
    audience: api,
    issuer: `https://login.partner.microsoftonline.cn/${tenant}/v2.0`,
    metadataUrl: `https://login.partner.microsoftonline.cn/${tenant}/v2.0/.well-known/openid-configuration`,
    clientIdClaim: "azp",
  },
])("token version $version at $authority", (row) => {
  const profile = tokenProfile({
    authorityHost: row.authority,
    tenantId: tenant,
    apiClientId: api,
    tokenVersion: row.version,
  });

  it("gives the audience, issuer, metadata document and client-id claim of that version", () => {
    expect(profile.ver).toBe(row.ver);
    expect(profile.audience).toBe(row.audience);
    expect(profile.issuer).toBe(row.issuer);
    expect(profile.metadataUrl).toBe(row.metadataUrl);
    expect(profile.clientIdClaim).toBe(row.clientIdClaim);
  });

  it("requests the token at the v2.0 endpoint with the .default scope of api://<client id>", () => {
    const authority = row.authority.replace(/\/$/, "");
    expect(profile.tokenEndpoint).toBe(`${authority}/${tenant}/oauth2/v2.0/token`);
    expect(profile.identifierUri).toBe(`api://${api}`);
    expect(profile.scope).toBe(`api://${api}/.default`);
  });
});

// Entra's per-cloud audiences for federated credentials, written out (entra-docs, workload identity federation).
describe("the federated credential audience", () => {
  it.each([
    ["https://login.microsoftonline.com", "api://AzureADTokenExchange"],
    ["https://login.microsoftonline.us/", "api://AzureADTokenExchangeUSGov"],
    ["https://login.chinacloudapi.cn", "api://AzureADTokenExchangeChina"],
    ["https://login.partner.microsoftonline.cn", "api://AzureADTokenExchangeChina"],
    ["http://127.0.0.1:8400", "api://AzureADTokenExchange"],
  ])("at %s is %s", (authorityHost, audience) => {
    expect(federatedCredentialAudience(authorityHost)).toBe(audience);
  });
});
