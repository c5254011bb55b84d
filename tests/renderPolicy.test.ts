import { readFileSync } from "node:fs";
import * as path from "node:path";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { type TokenVersion, tokenProfile } from "../entra/tokenProfile";
import { defaultPolicyTemplatePath, renderApiPolicy, type TokenCheck } from "../policies/renderPolicy";

const tenantId = "11111111-2222-3333-4444-555555555555";
const apiClientId = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const clientA = "0a0a0a0a-0000-0000-0000-00000000000a";
const clientB = "0b0b0b0b-0000-0000-0000-00000000000b";
const defaultTemplate = readFileSync(defaultPolicyTemplatePath, "utf8");
const failedCheck =
  "context.LastError.Source == &quot;validate-jwt&quot; || context.LastError.Source == &quot;validate-azure-ad-token&quot;";

/** The `<on-error>` choose that answers a refused token with WWW-Authenticate, for the given scope, at depth 2. */
function challengeLinesFor(scope: string): string[] {
  return [
    "    <choose>",
    `      <when condition="@((${failedCheck}) &amp;&amp; context.LastError.Reason == &quot;TokenNotPresent&quot;)">`,
    '        <set-header name="WWW-Authenticate" exists-action="override">',
    `          <value>Bearer scope="${scope}"</value>`,
    "        </set-header>",
    "      </when>",
    `      <when condition="@(${failedCheck})">`,
    '        <set-header name="WWW-Authenticate" exists-action="override">',
    `          <value>Bearer error="invalid_token", scope="${scope}"</value>`,
    "        </set-header>",
    "      </when>",
    "    </choose>",
  ];
}
const challengeLines = challengeLinesFor("api://aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/.default");

function profileFor(tokenVersion: TokenVersion, authorityHost = "https://login.microsoftonline.com") {
  return tokenProfile({ authorityHost, tenantId, apiClientId, tokenVersion });
}

function jwtCheck(tokenVersion: TokenVersion, overrides: Partial<TokenCheck> = {}): TokenCheck {
  return {
    validation: "validate-jwt",
    profile: profileFor(tokenVersion),
    tenantId,
    appRole: "access_as_app",
    clockSkewSeconds: 60,
    ...overrides,
  };
}

function adTokenCheck(tokenVersion: TokenVersion, overrides: Partial<TokenCheck> = {}): TokenCheck {
  return jwtCheck(tokenVersion, { validation: "validate-azure-ad-token", allowedClientIds: [clientA], ...overrides });
}

/** The lines of the rendered policy from the token check's opening tag to its closing tag. */
function tokenCheckLines(policy: string): string {
  const lines = policy.split("\n");
  const start = lines.findIndex((line) => /^ {4}<validate-(jwt|azure-ad-token) /.test(line));
  const end = lines.findIndex((line, i) => i > start && /^ {4}<\/validate-/.test(line));
  return lines.slice(start, end + 1).join("\n");
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => ["claim", "value", "audience", "issuer", "application-id"].includes(name),
});

interface ParsedClaim {
  "@_name": string;
  "@_match": string;
  value: string[];
}

function parsedValidateJwt(policy: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-side navigation of a parsed document
  const jwt = (parser.parse(policy) as any).policies.inbound["validate-jwt"];
  return {
    metadataUrl: jwt["openid-config"]["@_url"] as string,
    audiences: jwt.audiences.audience as string[],
    issuers: jwt.issuers.issuer as string[],
    claims: jwt["required-claims"].claim as ParsedClaim[],
  };
}

describe.each([
  {
    tokenVersion: 1 as const,
    audience: "api://aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    issuer: "https://sts.windows.net/11111111-2222-3333-4444-555555555555/",
    metadataUrl:
      "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/.well-known/openid-configuration",
    clientIdClaim: "appid",
  },
  {
    tokenVersion: 2 as const,
    audience: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    issuer: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0",
    metadataUrl:
      "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration",
    clientIdClaim: "azp",
  },
])("validate-jwt for token version $tokenVersion", ({ tokenVersion, audience, issuer, metadataUrl, clientIdClaim }) => {
  it("pins exactly the audience, issuer and metadata document of that version", () => {
    const parsed = parsedValidateJwt(renderApiPolicy(jwtCheck(tokenVersion), defaultTemplate));
    expect(parsed.metadataUrl).toBe(metadataUrl);
    expect(parsed.audiences).toEqual([audience]);
    expect(parsed.issuers).toEqual([issuer]);
  });

  it.each([
    { allowedClientIds: undefined, allowed: [] },
    { allowedClientIds: [], allowed: [] },
    { allowedClientIds: [clientB], allowed: [clientB] },
    { allowedClientIds: [clientB, clientA, clientB, clientA], allowed: [clientA, clientB] },
  ])("requires the role, and allow-lists $allowedClientIds on the client-id claim", ({ allowedClientIds, allowed }) => {
    const policy = renderApiPolicy(jwtCheck(tokenVersion, { allowedClientIds }), defaultTemplate);
    const expected = [{ "@_name": "roles", "@_match": "any", value: ["access_as_app"] }];
    if (allowed.length > 0) expected.push({ "@_name": clientIdClaim, "@_match": "any", value: allowed });
    expect(parsedValidateJwt(policy).claims).toEqual(expected);
  });
});

describe("validate-jwt element", () => {
  it("renders the v1 token check with attributes in a fixed order", () => {
    const policy = renderApiPolicy(jwtCheck(1, { clockSkewSeconds: 0, allowedClientIds: [clientA] }), defaultTemplate);
    expect(tokenCheckLines(policy)).toBe(
      [
        '    <validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized" require-expiration-time="true" require-signed-tokens="true" clock-skew="0">',
        '      <openid-config url="https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/.well-known/openid-configuration" />',
        "      <audiences>",
        "        <audience>api://aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee</audience>",
        "      </audiences>",
        "      <issuers>",
        "        <issuer>https://sts.windows.net/11111111-2222-3333-4444-555555555555/</issuer>",
        "      </issuers>",
        "      <required-claims>",
        '        <claim name="roles" match="any">',
        "          <value>access_as_app</value>",
        "        </claim>",
        '        <claim name="appid" match="any">',
        "          <value>0a0a0a0a-0000-0000-0000-00000000000a</value>",
        "        </claim>",
        "      </required-claims>",
        "    </validate-jwt>",
      ].join("\n"),
    );
  });

  it.each([
    { clockSkewSeconds: -1, shown: "-1" },
    { clockSkewSeconds: 1.5, shown: "1.5" },
    { clockSkewSeconds: Number.NaN, shown: "null" },
  ])("rejects clock-skew $clockSkewSeconds", ({ clockSkewSeconds, shown }) => {
    expect(() => renderApiPolicy(jwtCheck(2, { clockSkewSeconds }), defaultTemplate)).toThrow(
      new Error(`TokenCheck.clockSkewSeconds must be a whole number of seconds >= 0, got ${shown}`),
    );
  });

  it("rejects an unknown validation kind", () => {
    const check = { ...jwtCheck(2), validation: "validate-token" } as unknown as TokenCheck;
    expect(() => renderApiPolicy(check, defaultTemplate)).toThrow(
      new Error('TokenCheck.validation must be "validate-jwt" or "validate-azure-ad-token", got "validate-token"'),
    );
  });
});

describe("validate-azure-ad-token element", () => {
  it("renders tenant, sorted unique client ids, audience and role for v2", () => {
    const check = adTokenCheck(2, { allowedClientIds: [clientB, clientA, clientB] });
    expect(tokenCheckLines(renderApiPolicy(check, defaultTemplate))).toBe(
      [
        '    <validate-azure-ad-token tenant-id="11111111-2222-3333-4444-555555555555" header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized">',
        "      <client-application-ids>",
        "        <application-id>0a0a0a0a-0000-0000-0000-00000000000a</application-id>",
        "        <application-id>0b0b0b0b-0000-0000-0000-00000000000b</application-id>",
        "      </client-application-ids>",
        "      <audiences>",
        "        <audience>aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee</audience>",
        "      </audiences>",
        "      <required-claims>",
        '        <claim name="roles" match="any">',
        "          <value>access_as_app</value>",
        "        </claim>",
        "      </required-claims>",
        "    </validate-azure-ad-token>",
      ].join("\n"),
    );
  });

  it.each([
    { tokenVersion: 1 as const, authorityHost: "https://login.microsoftonline.com", audience: `api://${apiClientId}` },
    {
      tokenVersion: 2 as const,
      authorityHost: "https://login.microsoftonline.us",
      audience: apiClientId,
      endpoint: "https://login.microsoftonline.us",
    },
  ])(
    "uses the v$tokenVersion audience and names the $authorityHost authority only outside the public cloud",
    ({ tokenVersion, authorityHost, audience, endpoint }) => {
      const check = adTokenCheck(tokenVersion, { profile: profileFor(tokenVersion, authorityHost) });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-side navigation of a parsed document
      const parsed = (parser.parse(renderApiPolicy(check, defaultTemplate)) as any).policies.inbound;
      const element = parsed["validate-azure-ad-token"];
      expect(element["@_authentication-endpoint"]).toBe(endpoint);
      expect(element.audiences.audience).toEqual([audience]);
      expect(parsed["validate-jwt"]).toBeUndefined();
    },
  );

  it.each([{ allowedClientIds: undefined }, { allowedClientIds: [] }])(
    "refuses to render without client ids ($allowedClientIds)",
    ({ allowedClientIds }) => {
      expect(() => renderApiPolicy(adTokenCheck(2, { allowedClientIds }), defaultTemplate)).toThrow(
        new Error(
          "TokenCheck.allowedClientIds must list at least one client application id for validate-azure-ad-token (its <client-application-ids> is required)",
        ),
      );
    },
  );
});

describe("hostile values", () => {
  it.each([
    {
      what: "app role with XML metacharacters",
      check: jwtCheck(2, { appRole: `a"b'c&d<e>f` }),
      line: `          <value>a"b'c&amp;d&lt;e&gt;f</value>`,
    },
    {
      what: "app role with @( and } not at the start",
      check: jwtCheck(2, { appRole: "role@(x)}}" }),
      line: "          <value>role@(x)}}</value>",
    },
    {
      what: "client id with XML metacharacters",
      check: jwtCheck(2, { allowedClientIds: [`id"&<>`] }),
      line: `          <value>id"&amp;&lt;&gt;</value>`,
    },
    {
      what: "azure-ad-token client id with XML metacharacters",
      check: adTokenCheck(2, { allowedClientIds: [`<id a="1">&`] }),
      line: `        <application-id>&lt;id a="1"&gt;&amp;</application-id>`,
    },
    {
      what: "metadata URL with quotes and ampersands in an attribute",
      check: jwtCheck(2, {
        profile: { ...profileFor(2), metadataUrl: `https://login.example/x?a=1&b="2"<>` },
      }),
      line: `      <openid-config url="https://login.example/x?a=1&amp;b=&quot;2&quot;&lt;&gt;" />`,
    },
    {
      what: "issuer URL with an ampersand",
      check: jwtCheck(1, { profile: { ...profileFor(1), issuer: "https://sts.example/t/?a&b" } }),
      line: "        <issuer>https://sts.example/t/?a&amp;b</issuer>",
    },
    {
      what: "tenant id with quotes in an attribute",
      check: adTokenCheck(2, { tenantId: `t"<&>` }),
      line: `    <validate-azure-ad-token tenant-id="t&quot;&lt;&amp;&gt;" header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized">`,
    },
  ])("escapes the $what", ({ check, line }) => {
    expect(renderApiPolicy(check, defaultTemplate).split("\n")).toContain(line);
  });

  it.each([
    {
      what: "a policy expression as the app role",
      check: jwtCheck(2, { appRole: "@(context.Request.Url.Host)" }),
      error:
        'TokenCheck.appRole "@(context.Request.Url.Host)" starts with "@", which APIM evaluates as a policy expression; APIM documents no escape for a literal leading "@"',
    },
    {
      what: "an app role whose first non-blank character is @",
      check: jwtCheck(2, { appRole: " @{return 1;}" }),
      error:
        'TokenCheck.appRole " @{return 1;}" starts with "@", which APIM evaluates as a policy expression; APIM documents no escape for a literal leading "@"',
    },
    {
      what: "a named-value reference in the app role",
      check: jwtCheck(2, { appRole: "role-{{secret}}" }),
      error:
        'TokenCheck.appRole "role-{{secret}}" contains "{{", which APIM reads as a named-value reference; APIM documents no escape for a literal "{{"',
    },
    {
      what: "a named-value reference in the second client id",
      check: jwtCheck(2, { allowedClientIds: [clientA, "{{client}}"] }),
      error:
        'TokenCheck.allowedClientIds[1] "{{client}}" contains "{{", which APIM reads as a named-value reference; APIM documents no escape for a literal "{{"',
    },
    {
      what: "a policy expression as an azure-ad-token client id",
      check: adTokenCheck(2, { allowedClientIds: ["@(context.Variables)"] }),
      error:
        'TokenCheck.allowedClientIds[0] "@(context.Variables)" starts with "@", which APIM evaluates as a policy expression; APIM documents no escape for a literal leading "@"',
    },
    {
      what: "a named-value reference in the metadata URL",
      check: jwtCheck(2, {
        profile: { ...profileFor(2), metadataUrl: "https://{{host}}/.well-known/openid-configuration" },
      }),
      error:
        'TokenCheck.profile.metadataUrl "https://{{host}}/.well-known/openid-configuration" contains "{{", which APIM reads as a named-value reference; APIM documents no escape for a literal "{{"',
    },
    {
      what: "a policy expression as the audience",
      check: jwtCheck(2, { profile: { ...profileFor(2), audience: "@(context.Api.Id)" } }),
      error:
        'TokenCheck.profile.audience "@(context.Api.Id)" starts with "@", which APIM evaluates as a policy expression; APIM documents no escape for a literal leading "@"',
    },
    {
      what: "an entity reference in the issuer",
      check: jwtCheck(2, { profile: { ...profileFor(2), issuer: "https://issuer/&lt;x" } }),
      error:
        'TokenCheck.profile.issuer "https://issuer/&lt;x" contains an XML character or entity reference; pass the character itself',
    },
    {
      what: "a newline in the app role",
      check: jwtCheck(2, { appRole: "a\nb" }),
      error: 'TokenCheck.appRole "a\\nb" contains a control character (tab, newline, …), which policy XML cannot carry',
    },
    {
      what: "an empty app role",
      check: jwtCheck(2, { appRole: " " }),
      error: 'TokenCheck.appRole must be a non-empty string, got " "',
    },
    {
      what: "an empty tenant id for validate-azure-ad-token",
      check: adTokenCheck(2, { tenantId: "" }),
      error: 'TokenCheck.tenantId must be a non-empty string, got ""',
    },
    {
      what: "a metadata URL that is not a URL",
      check: jwtCheck(2, { profile: { ...profileFor(2), metadataUrl: "login.microsoftonline.com/t" } }),
      error: 'TokenCheck.profile.metadataUrl must be an absolute URL, got "login.microsoftonline.com/t"',
    },
  ])("rejects $what", ({ check, error }) => {
    expect(() => renderApiPolicy(check, defaultTemplate)).toThrow(new Error(error));
  });
});

describe("determinism", () => {
  const reversed = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).reverse()) as T;

  it.each([
    { name: "validate-jwt v1", check: jwtCheck(1, { allowedClientIds: [clientB, clientA] }) },
    { name: "validate-azure-ad-token v2", check: adTokenCheck(2, { allowedClientIds: [clientB, clientA] }) },
  ])("$name: key order of the input and order of the ids don't change the output", ({ check }) => {
    const expected = renderApiPolicy(check, defaultTemplate);
    const shuffled = reversed({
      ...check,
      profile: reversed(check.profile),
      allowedClientIds: [...(check.allowedClientIds ?? [])].reverse(),
    });
    expect(Object.keys(shuffled)[0]).not.toBe(Object.keys(check)[0]);
    expect(renderApiPolicy(shuffled, defaultTemplate)).toBe(expected);
    expect(renderApiPolicy(check, defaultTemplate)).toBe(expected);
  });

  it.each([
    {
      name: "all on one line",
      template:
        "<policies><inbound><base/><entra-token-check/></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/><entra-token-challenge/></on-error></policies>",
    },
    {
      name: "CRLF, tabs and an XML declaration",
      template:
        '<?xml version="1.0" encoding="utf-8"?>\r\n<policies>\r\n\t<inbound>\r\n\t\t<base />\r\n\t\t<entra-token-check />\r\n\t</inbound>\r\n\t<backend>\r\n\t\t<base />\r\n\t</backend>\r\n\t<outbound>\r\n\t\t<base />\r\n\t</outbound>\r\n\t<on-error>\r\n\t\t<base />\r\n\t\t<entra-token-challenge />\r\n\t</on-error>\r\n</policies>\r\n',
    },
  ])("template whitespace doesn't change the output: $name", ({ template }) => {
    const check = jwtCheck(2);
    expect(renderApiPolicy(check, template)).toBe(renderApiPolicy(check, defaultTemplate));
  });

  it.each([
    { name: "validate-jwt", check: jwtCheck(1) },
    { name: "validate-azure-ad-token", check: adTokenCheck(1) },
  ])("$name: LF only, 2-space indentation, no XML declaration, one trailing newline", ({ check }) => {
    const policy = renderApiPolicy(check, defaultTemplate);
    expect(policy).not.toContain("\r");
    expect(policy).not.toContain("\t");
    expect(policy.startsWith("<policies>\n  <inbound>\n    <base />\n")).toBe(true);
    expect(policy.endsWith("</policies>\n")).toBe(true);
    expect(policy.endsWith("\n\n")).toBe(false);
    for (const line of policy.trimEnd().split("\n")) expect(line).toMatch(/^( {2})*<\S/);
  });
});

describe("policy template", () => {
  it("default template path is the absolute path of policies/api-policy.xml", () => {
    expect(path.isAbsolute(defaultPolicyTemplatePath)).toBe(true);
    expect(defaultPolicyTemplatePath).toBe(path.resolve(__dirname, "..", "policies", "api-policy.xml"));
  });

  it.each([
    {
      what: "no marker",
      template: "<policies><inbound><base /></inbound></policies>",
      error: "custom.xml: has no <entra-token-check /> marker; put exactly one directly inside <policies><inbound>",
    },
    {
      what: "two markers",
      template: "<policies><inbound><entra-token-check /><entra-token-check /></inbound></policies>",
      error: "custom.xml: has 2 <entra-token-check /> markers; keep exactly one, directly inside <policies><inbound>",
    },
    {
      what: "the marker in outbound",
      template: "<policies><inbound><base /></inbound><outbound><entra-token-check /></outbound></policies>",
      error:
        "custom.xml: <entra-token-check /> must be directly inside <policies><inbound>, found it inside <policies><outbound>",
    },
    {
      what: "the marker inside a condition in inbound",
      template:
        '<policies><inbound><choose><when condition="@(true)"><entra-token-check /></when></choose></inbound></policies>',
      error:
        "custom.xml: <entra-token-check /> must be directly inside <policies><inbound>, found it inside <policies><inbound><choose><when>",
    },
    {
      what: "a marker with an attribute",
      template: '<policies><inbound><entra-token-check version="2" /></inbound></policies>',
      error: "custom.xml: <entra-token-check /> takes no attributes or content",
    },
    {
      what: "a mismatched closing tag",
      template: "<policies>\n  <inbound>\n    <entra-token-check />\n  </outbound>\n</policies>",
      error:
        "custom.xml: not well-formed XML: Expected closing tag 'inbound' (opened in line 2, col 3) instead of closing tag 'outbound'. (line 4, column 3)",
    },
    {
      what: "an unescaped ampersand",
      template:
        '<policies><inbound><entra-token-check /><choose><when condition="@(a && b)" /></choose></inbound></policies>',
      error:
        'custom.xml: not well-formed XML: "&" must start &amp;, &lt;, &gt;, &quot;, &apos; or a character reference (line 1, column 70)',
    },
    {
      what: "an undeclared entity",
      template:
        "<policies>\n  <inbound>\n    <entra-token-check />\n    <!-- &ok; -->\n    <set-body>a&nbsp;b</set-body>\n  </inbound>\n</policies>",
      error:
        'custom.xml: not well-formed XML: "&" must start &amp;, &lt;, &gt;, &quot;, &apos; or a character reference (line 5, column 16)',
    },
    {
      what: "two root elements",
      template: "<policies><inbound><entra-token-check /></inbound></policies><policies />",
      error:
        "custom.xml: not well-formed XML: The operation would yield an incorrect node tree. Document already has a document element node. Node is policies.",
    },
    {
      what: "an empty file",
      template: "",
      error: "custom.xml: not well-formed XML: Start tag expected. (line 1)",
    },
    {
      what: "another root element",
      template: "<fragment><entra-token-check /></fragment>",
      error: "custom.xml: root element must be <policies>, found <fragment>",
    },
    {
      what: "no challenge marker",
      template: "<policies><inbound><entra-token-check /></inbound><on-error><base /></on-error></policies>",
      error:
        "custom.xml: has no <entra-token-challenge /> marker; put exactly one directly inside <policies><on-error>",
    },
    {
      what: "the challenge marker in inbound",
      template: "<policies><inbound><entra-token-check /><entra-token-challenge /></inbound></policies>",
      error:
        "custom.xml: <entra-token-challenge /> must be directly inside <policies><on-error>, found it inside <policies><inbound>",
    },
    {
      what: "two challenge markers",
      template:
        "<policies><inbound><entra-token-check /></inbound><on-error><entra-token-challenge /><entra-token-challenge /></on-error></policies>",
      error:
        "custom.xml: has 2 <entra-token-challenge /> markers; keep exactly one, directly inside <policies><on-error>",
    },
    {
      what: "a challenge marker with content",
      template:
        "<policies><inbound><entra-token-check /></inbound><on-error><entra-token-challenge>x</entra-token-challenge></on-error></policies>",
      error: "custom.xml: <entra-token-challenge /> takes no attributes or content",
    },
    {
      what: "a DOCTYPE",
      template: '<!DOCTYPE policies [<!ENTITY x "y">]><policies><inbound><entra-token-check /></inbound></policies>',
      error: "custom.xml: must not declare a DOCTYPE",
    },
  ])("rejects a template with $what", ({ template, error }) => {
    const check = jwtCheck(2);
    expect(() => renderApiPolicy(check, template, "custom.xml")).toThrow(new Error(error));
  });

  it("names the template as 'policy template' when no name is given", () => {
    expect(() => renderApiPolicy(jwtCheck(2), "<policies />")).toThrow(
      new Error(
        "policy template: has no <entra-token-check /> marker; put exactly one directly inside <policies><inbound>",
      ),
    );
  });

  it("keeps the user's own elements and comments", () => {
    const template = [
      "<!-- template notes: not part of the policy -->",
      "<policies>",
      "  <inbound>",
      "    <base />",
      "    <!-- check the caller first -->",
      "    <entra-token-check />",
      '    <rate-limit calls="10" renewal-period="60" />',
      "  </inbound>",
      "  <backend>",
      "    <base />",
      "  </backend>",
      "  <outbound>",
      "    <base />",
      '    <set-header name="X-Powered-By" exists-action="delete" />',
      '    <set-header name="X-Request-Id" exists-action="override">',
      "      <value>@(context.RequestId.ToString())</value>",
      "    </set-header>",
      "  </outbound>",
      "  <on-error>",
      "    <base />",
      "    <entra-token-challenge />",
      '    <set-header name="X-Error" exists-action="override">',
      "      <value>@(context.LastError.Reason)</value>",
      "    </set-header>",
      "  </on-error>",
      "</policies>",
    ].join("\n");
    const policy = renderApiPolicy(jwtCheck(2), template, "custom.xml");
    const [before, after] = policy.split(tokenCheckLines(policy));
    expect(before).toBe("<policies>\n  <inbound>\n    <base />\n    <!-- check the caller first -->\n");
    expect(after).toBe(
      [
        "",
        '    <rate-limit calls="10" renewal-period="60" />',
        "  </inbound>",
        "  <backend>",
        "    <base />",
        "  </backend>",
        "  <outbound>",
        "    <base />",
        '    <set-header name="X-Powered-By" exists-action="delete" />',
        '    <set-header name="X-Request-Id" exists-action="override">',
        "      <value>@(context.RequestId.ToString())</value>",
        "    </set-header>",
        "  </outbound>",
        "  <on-error>",
        "    <base />",
        ...challengeLines,
        '    <set-header name="X-Error" exists-action="override">',
        "      <value>@(context.LastError.Reason)</value>",
        "    </set-header>",
        "  </on-error>",
        "</policies>",
        "",
      ].join("\n"),
    );
  });
});

describe("golden", () => {
  it("renders the default template for a v2 API exactly", () => {
    const check = jwtCheck(2, { allowedClientIds: [clientA] });
    expect(renderApiPolicy(check, defaultTemplate, defaultPolicyTemplatePath)).toBe(`<policies>
  <inbound>
    <base />
    <validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized" require-expiration-time="true" require-signed-tokens="true" clock-skew="60">
      <openid-config url="https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration" />
      <audiences>
        <audience>aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee</audience>
      </audiences>
      <issuers>
        <issuer>https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0</issuer>
      </issuers>
      <required-claims>
        <claim name="roles" match="any">
          <value>access_as_app</value>
        </claim>
        <claim name="azp" match="any">
          <value>0a0a0a0a-0000-0000-0000-00000000000a</value>
        </claim>
      </required-claims>
    </validate-jwt>
  </inbound>
  <backend>
    <base />
  </backend>
  <outbound>
    <base />
  </outbound>
  <on-error>
    <base />
${challengeLines.join("\n")}
  </on-error>
</policies>
`);
  });
});

describe("the 401's WWW-Authenticate header", () => {
  it.each([
    { callers: undefined, scope: "api://aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/.default" },
    { callers: ["applications", "users"] as const, scope: "api://aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/.default" },
    { callers: ["users"] as const, scope: "api://aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/access_as_user" },
  ])("names the scope to request for callers $callers, v1 and v2 alike", ({ callers, scope }) => {
    for (const tokenVersion of [1, 2] as const) {
      const check = jwtCheck(tokenVersion, { callers, scope: "access_as_user" });
      const onError = renderApiPolicy(check, defaultTemplate).split("  <on-error>\n")[1]?.split("\n") ?? [];
      expect(onError.slice(0, 14)).toEqual(["    <base />", ...challengeLinesFor(scope), "  </on-error>"]);
    }
  });

  it("is the same for validate-azure-ad-token, whose failures land in on-error under its own name", () => {
    const policy = renderApiPolicy(adTokenCheck(2), defaultTemplate);
    expect(policy).toContain(challengeLines.join("\n"));
  });

  it("refuses a scope a quoted WWW-Authenticate attribute cannot carry", () => {
    const check = jwtCheck(2, { callers: ["users"], scope: 'a"b' });
    expect(() => renderApiPolicy(check, defaultTemplate)).toThrow(
      new Error(
        'the scope "api://aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/a\\"b" cannot be carried in a WWW-Authenticate scope attribute',
      ),
    );
  });
});

describe("client limits", () => {
  const counterKey = (claim: string) =>
    `@(context.Api.Id + &quot;|&quot; + ((Jwt)context.Variables[&quot;validated-token&quot;]).Claims.GetValueOrDefault(&quot;${claim}&quot;, &quot;&quot;))`;
  const clientIs = (claim: string, id: string) =>
    `@(((Jwt)context.Variables[&quot;validated-token&quot;]).Claims.GetValueOrDefault(&quot;${claim}&quot;, &quot;&quot;) == &quot;${id}&quot;)`;
  /** The lines between the token check and the end of inbound. */
  const afterCheck = (policy: string) => {
    const lines = policy.split("\n");
    const end = lines.findIndex((line) => /^ {4}<\/validate-/.test(line));
    return lines.slice(end + 1, lines.indexOf("  </inbound>"));
  };

  it("without limits, the check sets no output variable and nothing follows it", () => {
    for (const limits of [undefined, { everyClient: {} }, { everyClient: {}, clients: [] }]) {
      const policy = renderApiPolicy(jwtCheck(2, { limits }), defaultTemplate);
      expect(policy).toBe(renderApiPolicy(jwtCheck(2), defaultTemplate));
      expect(policy).not.toContain("output-token-variable-name");
      expect(afterCheck(policy)).toEqual([]);
    }
  });

  it.each([
    { tokenVersion: 2 as const, claim: "azp" },
    { tokenVersion: 1 as const, claim: "appid" },
  ])(
    "v$tokenVersion: every client's limits follow the check, keyed on the validated $claim",
    ({ tokenVersion, claim }) => {
      const check = jwtCheck(tokenVersion, { limits: { everyClient: { callsPerMinute: 100, callsPerDay: 10000 } } });
      const policy = renderApiPolicy(check, defaultTemplate);
      expect(tokenCheckLines(policy).split("\n")[0]).toBe(
        '    <validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized" require-expiration-time="true" require-signed-tokens="true" clock-skew="60" output-token-variable-name="validated-token">',
      );
      expect(afterCheck(policy)).toEqual([
        `    <rate-limit-by-key calls="100" renewal-period="60" counter-key="${counterKey(claim)}" />`,
        `    <quota-by-key calls="10000" renewal-period="86400" counter-key="${counterKey(claim)}" />`,
      ]);
    },
  );

  it("validate-azure-ad-token sets the same output variable", () => {
    const policy = renderApiPolicy(adTokenCheck(2, { limits: { everyClient: { callsPerDay: 5 } } }), defaultTemplate);
    expect(tokenCheckLines(policy).split("\n")[0]).toBe(
      '    <validate-azure-ad-token tenant-id="11111111-2222-3333-4444-555555555555" header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized" output-token-variable-name="validated-token">',
    );
    expect(afterCheck(policy)).toEqual([
      `    <quota-by-key calls="5" renewal-period="86400" counter-key="${counterKey("azp")}" />`,
    ]);
  });

  it("clients with limits of their own get a branch each, compared with their id in lower case, sorted by id", () => {
    const limits = {
      everyClient: { callsPerMinute: 10 },
      clients: [
        { clientId: clientB.toUpperCase(), limits: { callsPerMinute: 1000, callsPerDay: 50000 } },
        { clientId: clientA, limits: { callsPerDay: 7 } },
      ],
    };
    const policy = renderApiPolicy(jwtCheck(2, { limits }), defaultTemplate);
    expect(afterCheck(policy)).toEqual([
      "    <choose>",
      `      <when condition="${clientIs("azp", clientA)}">`,
      `        <quota-by-key calls="7" renewal-period="86400" counter-key="${counterKey("azp")}" />`,
      "      </when>",
      `      <when condition="${clientIs("azp", clientB)}">`,
      `        <rate-limit-by-key calls="1000" renewal-period="60" counter-key="${counterKey("azp")}" />`,
      `        <quota-by-key calls="50000" renewal-period="86400" counter-key="${counterKey("azp")}" />`,
      "      </when>",
      "      <otherwise>",
      `        <rate-limit-by-key calls="10" renewal-period="60" counter-key="${counterKey("azp")}" />`,
      "      </otherwise>",
      "    </choose>",
    ]);
    const reversed = { ...limits, clients: [...limits.clients].reverse() };
    expect(renderApiPolicy(jwtCheck(2, { limits: reversed }), defaultTemplate)).toBe(policy);
  });

  it("limits only some clients when every client's are empty: no otherwise", () => {
    const limits = { everyClient: {}, clients: [{ clientId: clientA, limits: { callsPerMinute: 3 } }] };
    expect(afterCheck(renderApiPolicy(jwtCheck(1, { limits }), defaultTemplate))).toEqual([
      "    <choose>",
      `      <when condition="${clientIs("appid", clientA)}">`,
      `        <rate-limit-by-key calls="3" renewal-period="60" counter-key="${counterKey("appid")}" />`,
      "      </when>",
      "    </choose>",
    ]);
  });

  it.each([
    {
      what: "a client id that would end the string literal",
      limits: { everyClient: {}, clients: [{ clientId: 'x" || true || "', limits: { callsPerMinute: 1 } }] },
      error:
        'ClientLimits.clients[0].clientId must be a client id (a GUID: letters, digits and hyphens), got "x\\" || true || \\""',
    },
    {
      what: "a named value as a client id",
      limits: { everyClient: {}, clients: [{ clientId: "{{client}}", limits: { callsPerMinute: 1 } }] },
      error:
        'ClientLimits.clients[0].clientId must be a client id (a GUID: letters, digits and hyphens), got "{{client}}"',
    },
    {
      what: "the same client twice, in another case",
      limits: {
        everyClient: {},
        clients: [
          { clientId: clientA, limits: { callsPerMinute: 1 } },
          { clientId: clientA.toUpperCase(), limits: { callsPerDay: 1 } },
        ],
      },
      error: `ClientLimits.clients lists the client id ${clientA} more than once`,
    },
    {
      what: "a client without a limit",
      limits: { everyClient: { callsPerDay: 1 }, clients: [{ clientId: clientA, limits: {} }] },
      error: "ClientLimits.clients[0].limits sets no limit; give callsPerMinute and/or callsPerDay",
    },
    {
      what: "no calls per minute",
      limits: { everyClient: { callsPerMinute: 0 } },
      error: "ClientLimits.everyClient.callsPerMinute must be a whole number from 1 to 2147483647, got 0",
    },
    {
      what: "a fraction of a call per day",
      limits: { everyClient: { callsPerDay: 1.5 } },
      error: "ClientLimits.everyClient.callsPerDay must be a whole number from 1 to 2147483647, got 1.5",
    },
    {
      what: "more calls than a 32-bit integer",
      limits: { everyClient: {}, clients: [{ clientId: clientA, limits: { callsPerDay: 2 ** 31 } }] },
      error: "ClientLimits.clients[0].limits.callsPerDay must be a whole number from 1 to 2147483647, got 2147483648",
    },
  ])("refuses $what", ({ limits, error }) => {
    expect(() => renderApiPolicy(jwtCheck(2, { limits }), defaultTemplate)).toThrow(new Error(error));
  });
});
