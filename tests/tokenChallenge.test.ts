// The 401 that tells the client why: the WWW-Authenticate header the policy's <on-error> sets, read back from the XML
// and sent by the gateway stand-in exactly as the XML says. What this cannot prove: that APIM reaches <on-error> with
// the LastError its error-handling reference documents (Source validate-jwt, Reason TokenNotPresent); only a real
// gateway shows that.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenProfile } from "../entra/tokenProfile";
import { readTokenChallenge } from "../policies/readTokenChallenge";
import { defaultPolicyTemplatePath, renderApiPolicy } from "../policies/renderPolicy";
import { type RunningStandIn, startBackendStandIn, startGatewayStandIn } from "./support/gatewayStandIn";

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const apiClientId = "6e1a1d1c-aaaa-4bbb-8ccc-000000000001";
const scope = `api://${apiClientId}/.default`;
const profile = tokenProfile({
  authorityHost: "https://login.microsoftonline.com",
  tenantId,
  apiClientId,
  tokenVersion: 2,
});
const policy = renderApiPolicy(
  { validation: "validate-jwt", profile, tenantId, appRole: "access_as_app", clockSkewSeconds: 60 },
  readFileSync(defaultPolicyTemplatePath, "utf8"),
);
const missing = `Bearer scope="${scope}"`;
const invalid = `Bearer error="invalid_token", scope="${scope}"`;
/** The policy with its <on-error> section replaced. */
const withOnError = (onError: string) =>
  policy.replace(/<on-error>[\s\S]*<\/on-error>/, `<on-error>${onError}</on-error>`);
const setHeader = (value: string, action = "override") =>
  `<set-header name="WWW-Authenticate" exists-action="${action}"><value>${value}</value></set-header>`;
const when = (condition: string, body: string) => `<when condition="${condition}">${body}</when>`;
const failedCheck =
  "context.LastError.Source == &quot;validate-jwt&quot; || context.LastError.Source == &quot;validate-azure-ad-token&quot;";
const tokenMissing = `@((${failedCheck}) &amp;&amp; context.LastError.Reason == &quot;TokenNotPresent&quot;)`;
const tokenInvalid = `@(${failedCheck})`;

describe("reading the WWW-Authenticate header a policy sets", () => {
  it("reads the rendered choice: no error code without a token (RFC 6750 §3.1), invalid_token with a bad one", () => {
    expect(readTokenChallenge(policy)).toEqual({ tokenMissing: missing, tokenInvalid: invalid });
  });

  it.each([
    { what: "no on-error section", onError: null, spec: {} },
    { what: "an on-error without the header", onError: "<base />", spec: {} },
    {
      what: "an unconditional header",
      onError: `<base />${setHeader("Bearer")}`,
      spec: { tokenMissing: "Bearer", tokenInvalid: "Bearer" },
    },
    {
      what: "the broader condition first, which takes both cases",
      onError: `<choose>${when(tokenInvalid, setHeader("Bearer a"))}${when(tokenMissing, setHeader("Bearer b"))}</choose>`,
      spec: { tokenMissing: "Bearer a", tokenInvalid: "Bearer a" },
    },
    {
      what: "only the missing-token branch",
      onError: `<choose>${when(tokenMissing, setHeader("Bearer b"))}</choose>`,
      spec: { tokenMissing: "Bearer b" },
    },
    {
      what: "an otherwise branch",
      onError: `<choose>${when(tokenMissing, setHeader("Bearer b"))}<otherwise>${setHeader("Bearer c")}</otherwise></choose>`,
      spec: { tokenMissing: "Bearer b", tokenInvalid: "Bearer c" },
    },
  ])("reads $what", ({ onError, spec }) => {
    const xml = onError === null ? policy.replace(/\s*<on-error>[\s\S]*<\/on-error>/, "") : withOnError(onError);
    expect(readTokenChallenge(xml)).toEqual(spec);
  });

  const understood =
    "; this reader understands only the WWW-Authenticate header the renderer writes (policies/tokenChallenge.ts)";
  it.each([
    {
      what: "a value that is an expression",
      onError: setHeader('@(context.Request.Headers.GetValueOrDefault("Authorization", ""))'),
      error: `policy's WWW-Authenticate value is a policy expression, which could echo the request's token${understood}`,
    },
    {
      what: "another condition",
      onError: `<choose>${when("@(true)", setHeader("Bearer"))}</choose>`,
      error: `policy's <choose> that sets WWW-Authenticate has the condition "@(true)"${understood}`,
    },
    {
      what: "a header appended to one the backend sent",
      onError: setHeader("Bearer", "append"),
      error: `policy's <set-header name="WWW-Authenticate"> has exists-action="append"${understood}`,
    },
  ])("refuses $what", ({ onError, error }) => {
    expect(() => readTokenChallenge(withOnError(onError))).toThrow(new Error(error));
  });
});

describe("the gateway stand-in answers a refused token with the header its policy sets", () => {
  let backend: RunningStandIn & { readonly requests: number };
  let gateway: RunningStandIn;
  const edited = withOnError(`<base /><choose>${when(tokenInvalid, setHeader('Bearer realm="edited"'))}</choose>`);

  beforeAll(async () => {
    backend = await startBackendStandIn();
    gateway = await startGatewayStandIn({
      apis: [
        { path: "rendered", policyXml: policy, backendUrl: backend.url },
        { path: "edited", policyXml: edited, backendUrl: backend.url },
        { path: "silent", policyXml: withOnError("<base />"), backendUrl: backend.url },
      ],
    });
  });

  afterAll(async () => {
    await Promise.all([backend?.close(), gateway?.close()]);
  });

  const challengeOf = async (api: string, authorization?: string) => {
    const response = await fetch(`${gateway.url}/${api}/items`, {
      headers: authorization === undefined ? {} : { authorization },
    });
    await response.body?.cancel();
    return [response.status, response.headers.get("www-authenticate")];
  };

  it.each([
    { api: "rendered", authorization: undefined, expected: [401, missing] },
    { api: "rendered", authorization: "Basic dXNlcjpwYXNz", expected: [401, invalid] },
    { api: "rendered", authorization: "Bearer not-a-jwt", expected: [401, invalid] },
    { api: "edited", authorization: undefined, expected: [401, 'Bearer realm="edited"'] },
    { api: "edited", authorization: "Bearer not-a-jwt", expected: [401, 'Bearer realm="edited"'] },
    { api: "silent", authorization: "Bearer not-a-jwt", expected: [401, null] },
  ])("$api, Authorization $authorization: $expected", async ({ api, authorization, expected }) => {
    expect(await challengeOf(api, authorization)).toEqual(expected);
    expect(backend.requests).toBe(0);
  });
});
