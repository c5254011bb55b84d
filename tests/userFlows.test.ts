import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenProfile } from "../entra/tokenProfile";
import { defaultPolicyTemplatePath, renderApiPolicy } from "../policies/renderPolicy";
import type { Caller } from "../policies/tokenCheck";
import { runToken, type TokenIo } from "../tools/token";
import { parseStackOutputs } from "../tools/sign-in/stackOutputs";
import {
  defaultTestUser,
  type EntraStandIn,
  type EntraStandInOptions,
  startEntraStandIn,
} from "./support/entraStandIn";
import { evaluate, guideApi, guideClient, guideConfig } from "./support/evaluate";
import { type RunningStandIn, startBackendStandIn, startGatewayStandIn } from "./support/gatewayStandIn";
import { userDirectoryOf } from "./support/stackDirectory";

// End to end on loopback: the token tool signs the stand-in's test user in (device code, or authorization code with
// PKCE on a loopback redirect), and the gateway stand-in judges the user's token with the rendered policy.
// What this cannot prove: Entra's real sign-in pages, consent prompts and conditional access; the stand-in signs its
// one test user in without a password wherever Entra would show a page.

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const template = readFileSync(defaultPolicyTemplatePath, "utf8");
const nativeClient = {
  clientId: "c11e0000-aaaa-4bbb-8ccc-0000000000a1",
  publicClient: true,
  redirectUris: ["http://127.0.0.1/native"],
  displayName: "Orders-Desktop",
};
const webClient = {
  clientId: "c11e0000-aaaa-4bbb-8ccc-0000000000b2",
  secret: "web-secret",
  redirectUris: ["http://127.0.0.1/signin-oidc", "https://oauth.pstmn.io/v1/callback"],
  displayName: "Orders-Web",
};

/**
 * The token CLI with a person at the keyboard: enters the device code at the `signInOnPoll`-th poll, and follows the
 * sign-in URL as a browser would (the stand-in signs its test user in and redirects to the loopback listener).
 */
function person(entra: EntraStandIn, signInOnPoll = 1) {
  const out: string[] = [];
  const err: string[] = [];
  let sleeps = 0;
  const io: TokenIo = {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    env: {},
    sleep: async () => {
      sleeps += 1;
      const code = /enter the code (\S+) to authenticate/.exec(err.join("\n"))?.[1];
      if (sleeps === signInOnPoll && code) entra.signInWithUserCode(code);
    },
    openUrl: async (url) => {
      const page = await fetch(url, { redirect: "manual" });
      const location = page.headers.get("location");
      await page.body?.cancel();
      if (location) await (await fetch(location)).text();
    },
  };
  return { io, out, err, polls: () => sleeps };
}

/** The stack outputs as `pulumi stack output --json --show-secrets` would print them, in a private temp file. */
async function writeOutputs(outputs: unknown): Promise<{ dir: string; outputsFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), "user-flows-"));
  const outputsFile = join(dir, "outputs.json");
  await writeFile(outputsFile, JSON.stringify(outputs), { mode: 0o600 });
  return { dir, outputsFile };
}

interface Api {
  name: string;
  clientId: string;
  callers: Caller[];
}

describe.each([1, 2] as const)("token version %i: users sign in and call the gateway", (tokenVersion) => {
  const apis: Api[] = [
    {
      name: "orders",
      clientId: `a91e0000-aaaa-4bbb-8ccc-00000000010${tokenVersion}`,
      callers: ["applications", "users"],
    },
    { name: "ledger", clientId: `a91e0000-aaaa-4bbb-8ccc-00000000020${tokenVersion}`, callers: ["applications"] },
  ];
  const identifierUri = (api: Api) => `api://${api.clientId}`;
  let entra: EntraStandIn;
  let backend: RunningStandIn & { readonly requests: number };
  let gateway: RunningStandIn;
  let dir: string;
  let outputsFile: string;

  beforeAll(async () => {
    entra = await startEntraStandIn({
      tenantId,
      clients: [nativeClient, webClient],
      apis: apis.map((api) => ({
        clientId: api.clientId,
        identifierUri: identifierUri(api),
        tokenVersion,
        appRoleAssignmentRequired: true,
        roles: [{ id: "0d0e0000-0000-4000-8000-000000000001", value: "access_as_app" }],
        scopes: [{ id: "0d0e0000-0000-4000-8000-000000000002", value: "access_as_user" }],
      })),
      assignments: [],
      // An administrator assigned the test user to both APIs, which require assignment (docs/user-clients.md).
      userAssignments: apis.map((api) => ({ userObjectId: defaultTestUser.objectId, apiClientId: api.clientId })),
      // Both clients hold consent for both APIs' scope, even the applications-only one (a consent made outside this
      // program): the gateway must still refuse the user's token there.
      delegatedGrants: apis.flatMap((api) =>
        [nativeClient, webClient].map((client) => ({
          clientId: client.clientId,
          apiClientId: api.clientId,
          scopes: ["access_as_user"],
        })),
      ),
    });
    backend = await startBackendStandIn();
    const policies = apis.map((api) => ({
      path: api.name,
      backendUrl: backend.url,
      policyXml: renderApiPolicy(
        {
          validation: "validate-jwt",
          profile: tokenProfile({
            authorityHost: entra.authorityHost,
            tenantId,
            apiClientId: api.clientId,
            tokenVersion,
          }),
          tenantId,
          appRole: "access_as_app",
          scope: "access_as_user",
          clockSkewSeconds: 60,
          callers: api.callers,
        },
        template,
      ),
    }));
    gateway = await startGatewayStandIn({ apis: policies });
    const scopes = Object.fromEntries(apis.map((api) => [api.name, `${identifierUri(api)}/access_as_user`]));
    const client = (entry: typeof nativeClient | typeof webClient, kind: string, credential: string) => ({
      clientId: entry.clientId,
      tenantId,
      credential,
      kind,
      redirectUris: entry.redirectUris,
      scopes,
      ...("secret" in entry ? { clientSecret: entry.secret } : {}),
    });
    const outputs = {
      authorityHost: entra.authorityHost,
      tenantId,
      gatewayUrl: gateway.url,
      clients: { desktop: client(nativeClient, "native", "none"), portal: client(webClient, "web", "secret") },
      apis: Object.fromEntries(
        apis.map((api, index) => [
          api.name,
          {
            clientId: api.clientId,
            identifierUri: identifierUri(api),
            appRole: "access_as_app",
            appRoleId: "0d0e0000-0000-4000-8000-000000000001",
            tokenVersion,
            url: `${gateway.url}/${api.name}`,
            policy: (policies[index] as { policyXml: string }).policyXml,
          },
        ]),
      ),
    };
    ({ dir, outputsFile } = await writeOutputs(outputs));
  });

  afterAll(async () => {
    await Promise.all([entra?.close(), backend?.close(), gateway?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const call = (api: string, token: string) =>
    fetch(`${gateway.url}/${api}/items`, { headers: { authorization: `Bearer ${token}` } });

  it("device code: the native client's user token carries the scope in scp, passes for users and gets 401 where only applications may call", async () => {
    const { io, out, err, polls } = person(entra, 2);
    const code = await runToken(
      ["--outputs", outputsFile, "--client", "desktop", "--api", "orders", "--device-code"],
      io,
    );
    expect(err.join("\n")).toMatch(
      /^To sign in, use a web browser to open the page http:\/\/127\.0\.0\.1:\d+\/devicelogin and enter the code \S+ to authenticate\.$/,
    );
    expect(code).toBe(0);
    expect(polls()).toBe(2);
    const token = out[0] as string;
    const claims = decodeJwt(token);
    const profile = tokenProfile({
      authorityHost: entra.authorityHost,
      tenantId,
      apiClientId: apis[0]?.clientId as string,
      tokenVersion,
    });
    expect(claims.aud).toBe(profile.audience);
    expect(claims.iss).toBe(profile.issuer);
    expect(claims.scp).toBe("access_as_user");
    expect(claims.roles).toBeUndefined();
    expect(claims[profile.clientIdClaim]).toBe(nativeClient.clientId);
    expect(claims.oid).toBe(defaultTestUser.objectId);
    expect((await call("orders", token)).status).toBe(200);

    const other = person(entra);
    expect(
      await runToken(["--outputs", outputsFile, "--client", "desktop", "--api", "ledger", "--device-code"], other.io),
    ).toBe(0);
    const ledgerToken = other.out[0] as string;
    expect(decodeJwt(ledgerToken).scp).toBe("access_as_user");
    const refused = await call("ledger", ledgerToken);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ statusCode: 401, message: "Unauthorized" });
  });

  it("device code --decode prints the user's claims", async () => {
    const { io, out } = person(entra);
    expect(
      await runToken(
        ["--outputs", outputsFile, "--client", "desktop", "--api", "orders", "--device-code", "--decode"],
        io,
      ),
    ).toBe(0);
    const decoded = JSON.parse(out[0] as string) as { header: { alg: string }; claims: Record<string, unknown> };
    expect(decoded.header.alg).toBe("RS256");
    expect(decoded.claims.scp).toBe("access_as_user");
    expect(decoded.claims.name).toBe(defaultTestUser.name);
  });

  it.each([
    { client: "portal", clientId: webClient.clientId },
    { client: "desktop", clientId: nativeClient.clientId },
  ])(
    "authorization code with PKCE on a loopback redirect: $client's user token passes for users, 401 for applications only",
    async ({ client, clientId }) => {
      const { io, out, err } = person(entra);
      expect(await runToken(["--outputs", outputsFile, "--client", client, "--api", "orders", "--auth-code"], io)).toBe(
        0,
      );
      const signInUrl = new URL(err.join("\n").split("\n").at(-1) as string);
      expect(signInUrl.searchParams.get("code_challenge_method")).toBe("S256");
      expect(signInUrl.searchParams.get("response_type")).toBe("code");
      expect(signInUrl.searchParams.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/(signin-oidc|native)$/);
      const token = out[0] as string;
      expect(decodeJwt(token)[tokenVersion === 2 ? "azp" : "appid"]).toBe(clientId);
      expect((await call("orders", token)).status).toBe(200);

      const other = person(entra);
      expect(
        await runToken(["--outputs", outputsFile, "--client", client, "--api", "ledger", "--auth-code"], other.io),
      ).toBe(0);
      expect((await call("ledger", other.out[0] as string)).status).toBe(401);
    },
  );

  it("the web client's code is redeemed only with its secret", async () => {
    const { io, err } = person(entra);
    const outputs = JSON.parse(readFileSync(outputsFile, "utf8")) as { clients: { portal: { clientSecret: string } } };
    outputs.clients.portal.clientSecret = "not-the-secret";
    const wrong = join(dir, "wrong-secret.json");
    await writeFile(wrong, JSON.stringify(outputs), { mode: 0o600 });
    expect(await runToken(["--outputs", wrong, "--client", "portal", "--api", "orders", "--auth-code"], io)).toBe(1);
    expect(err.at(-1)).toMatch(/^error: The client secret is invalid.*\(AADSTS7000215\)$/);
  });

  it("the token tool refuses a device-code sign-in for a web client, and any user sign-in for a daemon", async () => {
    const { io, err } = person(entra);
    expect(await runToken(["--outputs", outputsFile, "--client", "portal", "--device-code"], io)).toBe(2);
    expect(err[0]).toBe(
      "error: client portal is a web client: --device-code is for native (public) clients; use --auth-code",
    );
  });
});

describe("the Entra stand-in's authorization code + PKCE", () => {
  let entra: EntraStandIn;
  const api = {
    clientId: "a91e0000-aaaa-4bbb-8ccc-000000000301",
    identifierUri: "api://a91e0000-aaaa-4bbb-8ccc-000000000301",
    tokenVersion: 2 as const,
    appRoleAssignmentRequired: true,
    roles: [],
    scopes: [{ id: "0d0e0000-0000-4000-8000-000000000002", value: "access_as_user" }],
  };

  beforeAll(async () => {
    entra = await startEntraStandIn({
      tenantId,
      clients: [nativeClient],
      apis: [api],
      assignments: [],
      delegatedGrants: [{ clientId: nativeClient.clientId, apiClientId: api.clientId, scopes: ["access_as_user"] }],
      userAssignments: [{ userObjectId: defaultTestUser.objectId, apiClientId: api.clientId }],
    });
  });
  afterAll(async () => entra?.close());

  const endpoint = (path: string) => `${entra.authorityHost}/${tenantId}/oauth2/v2.0/${path}`;

  async function authorize(params: Record<string, string>) {
    const url = new URL(endpoint("authorize"));
    url.search = new URLSearchParams({
      client_id: nativeClient.clientId,
      response_type: "code",
      redirect_uri: "http://127.0.0.1:49152/native",
      scope: `${api.identifierUri}/access_as_user`,
      state: "s1",
      ...params,
    }).toString();
    return fetch(url, { redirect: "manual" });
  }

  const redeem = (fields: Record<string, string>) =>
    fetch(endpoint("token"), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: nativeClient.clientId,
        redirect_uri: "http://127.0.0.1:49152/native",
        ...fields,
      }),
    });

  const verifier = "a-code-verifier-of-at-least-forty-three-characters-long";
  const challenge = createHash("sha256").update(verifier).digest("base64url");

  it("refuses a verifier that does not match the challenge (AADSTS501481), and a code used twice", async () => {
    const response = await authorize({ code_challenge: challenge, code_challenge_method: "S256" });
    expect(response.status).toBe(302);
    const code = new URL(response.headers.get("location") as string).searchParams.get("code") as string;
    const wrong = await redeem({ code, code_verifier: `${verifier}x` });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error_codes: number[] }).error_codes).toEqual([501481]);
    const again = await redeem({ code, code_verifier: verifier });
    expect(((await again.json()) as { error_codes: number[] }).error_codes).toEqual([70000]);
  });

  it("redeems a code with the right verifier once", async () => {
    const response = await authorize({ code_challenge: challenge, code_challenge_method: "S256" });
    const back = new URL(response.headers.get("location") as string);
    expect(back.origin + back.pathname).toBe("http://127.0.0.1:49152/native");
    expect(back.searchParams.get("state")).toBe("s1");
    const ok = await redeem({ code: back.searchParams.get("code") as string, code_verifier: verifier });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { access_token: string; scope: string };
    expect(body.scope).toBe(`${api.identifierUri}/access_as_user`);
    expect(decodeJwt(body.access_token).scp).toBe("access_as_user");
  });

  it("sends a public client without PKCE back with an error, and shows an unregistered redirect URI its own error (AADSTS50011)", async () => {
    const noPkce = await authorize({});
    expect(new URL(noPkce.headers.get("location") as string).searchParams.get("error")).toBe("invalid_request");
    const elsewhere = await authorize({ redirect_uri: "http://127.0.0.1:49152/other", code_challenge: challenge });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.headers.get("location")).toBeNull();
    expect(((await elsewhere.json()) as { error_codes: number[] }).error_codes).toEqual([50011]);
  });

  it("refuses a scope the client holds no consent for (AADSTS65001)", async () => {
    const response = await authorize({ code_challenge: challenge, scope: `${api.identifierUri}/admin` });
    const code = new URL(response.headers.get("location") as string).searchParams.get("code") as string;
    const refused = await redeem({ code, code_verifier: challenge });
    expect(((await refused.json()) as { error_codes: number[] }).error_codes).toEqual([65001]);
  });
});

describe.each([1, 2] as const)(
  "token version %i, from the evaluated program to the gateway, for users",
  (tokenVersion) => {
    type Directory = Required<
      Pick<EntraStandInOptions, "clients" | "apis" | "assignments" | "delegatedGrants" | "userAssignments">
    >;
    const directory: Directory & { tenantId: string } = {
      tenantId: guideConfig().tenantId as string,
      clients: [],
      apis: [],
      assignments: [],
      delegatedGrants: [],
      userAssignments: [],
    };
    let entra: EntraStandIn;
    let backend: RunningStandIn & { readonly requests: number };
    let gateway: RunningStandIn;
    let dir: string;
    let outputsFile: string;

    beforeAll(async () => {
      entra = await startEntraStandIn(directory);
      const evaluation = await evaluate(
        guideConfig({
          authorityHost: entra.authorityHost,
          apis: [
            guideApi({
              tokenVersion,
              callers: ["applications", "users"],
              assignedPrincipals: [defaultTestUser.objectId],
            }),
            guideApi({ name: "ledger", displayName: "Ledger", path: "ledger", tokenVersion }),
          ],
          clients: [
            guideClient({ apis: ["orders", "ledger"] }),
            guideClient({
              name: "portal",
              displayName: "Orders-Web",
              kind: "web",
              redirectUris: ["http://127.0.0.1/signin-oidc"],
            }),
            {
              name: "desktop",
              displayName: "Orders-Desktop",
              kind: "native",
              credential: "none",
              redirectUris: ["http://127.0.0.1/native"],
              apis: ["orders"],
            },
          ],
        }),
      );
      const deployed = userDirectoryOf(evaluation);
      entra.seed(deployed);
      directory.clients.push(...deployed.clients);
      directory.apis.push(...deployed.apis);
      directory.assignments.push(...deployed.assignments);
      directory.delegatedGrants.push(...deployed.delegatedGrants);
      // Who may sign in to orders comes from the program's assignments (apis[].assignedPrincipals) too: everything the
      // stand-in knows is what the program registered.
      directory.userAssignments.push(...deployed.userAssignments);

      const outputs = parseStackOutputs(evaluation.outputs);
      backend = await startBackendStandIn();
      gateway = await startGatewayStandIn({
        apis: Object.entries(outputs.apis).map(([name, api]) => ({
          path: name,
          policyXml: api.policy,
          backendUrl: backend.url,
        })),
      });
      const deployedOutputs = structuredClone(evaluation.outputs) as { apis: Record<string, { url: string }> };
      for (const [name, api] of Object.entries(deployedOutputs.apis)) api.url = `${gateway.url}/${name}`;
      ({ dir, outputsFile } = await writeOutputs(deployedOutputs));
    });

    afterAll(async () => {
      await Promise.all([entra?.close(), backend?.close(), gateway?.close()]);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const status = async (api: string, token: string) =>
      (await fetch(`${gateway.url}/${api}/items`, { headers: { authorization: `Bearer ${token}` } })).status;

    it("registers what users' sign-ins need: redirect URIs, public client flows for the native client only, the delegated grants", () => {
      const byName = new Map(directory.clients.map((client) => [client.displayName, client]));
      expect(byName.get("desktop")).toMatchObject({ publicClient: true, redirectUris: ["http://127.0.0.1/native"] });
      expect(byName.get("portal")?.publicClient).toBeUndefined();
      expect(directory.delegatedGrants.map((grant) => grant.scopes)).toEqual([["access_as_user"], ["access_as_user"]]);
    });

    it.each([
      { client: "desktop", flow: "--device-code" },
      { client: "desktop", flow: "--auth-code" },
      { client: "portal", flow: "--auth-code" },
    ])("$client $flow: the user's token passes the gateway for orders", async ({ client, flow }) => {
      const run = person(entra);
      expect(await runToken(["--outputs", outputsFile, "--client", client, "--api", "orders", flow], run.io)).toBe(0);
      const claims = decodeJwt(run.out[0] as string);
      expect(claims.scp).toBe("access_as_user");
      expect(claims.ver).toBe(`${tokenVersion}.0`);
      expect(await status("orders", run.out[0] as string)).toBe(200);
    });

    it("assigns the listed user to orders only, with the API's user role", async () => {
      const orders = directory.apis.find((api) => api.displayName === "orders");
      expect(directory.userAssignments).toEqual([
        { userObjectId: defaultTestUser.objectId, apiClientId: orders?.clientId },
      ]);
    });

    it("a user not assigned to the API (it requires assignment) gets no token: AADSTS50105", async () => {
      const assignments = entra.directory
        .appRoleAssignments()
        .filter((assignment) => assignment.principalType === "User");
      expect(assignments).toHaveLength(1);
      for (const assignment of assignments)
        entra.directory.deleteAppRoleAssignment(assignment.resourceId, assignment.id);
      try {
        const run = person(entra);
        expect(
          await runToken(["--outputs", outputsFile, "--client", "desktop", "--api", "orders", "--device-code"], run.io),
        ).toBe(1);
        expect(run.err.at(-1)).toBe(
          "error: The signed-in user is not assigned to the API: its service principal requires assignment, so list the user's or one of their groups' object id in the API's apis[].assignedPrincipals. (AADSTS50105)",
        );
      } finally {
        entra.directory.seed({ appRoleAssignments: assignments });
      }
    });

    it("the daemon's application token passes both APIs; no user is assigned to the applications-only API", async () => {
      const daemon = person(entra);
      expect(await runToken(["--outputs", outputsFile, "--client", "reporting", "--api", "ledger"], daemon.io)).toBe(0);
      expect(await status("ledger", daemon.out[0] as string)).toBe(200);
      const orders = person(entra);
      expect(await runToken(["--outputs", outputsFile, "--client", "reporting", "--api", "orders"], orders.io)).toBe(0);
      expect(await status("orders", orders.out[0] as string)).toBe(200);

      const user = person(entra);
      const scope = `api://${directory.apis.find((api) => api.displayName === "ledger")?.clientId}/access_as_user`;
      expect(
        await runToken(["--outputs", outputsFile, "--client", "desktop", "--scope", scope, "--device-code"], user.io),
      ).toBe(1);
      // Entra checks the assignment before consent: ledger (applications only) cannot list assignedPrincipals.
      expect(user.err.at(-1)).toBe(
        "error: The signed-in user is not assigned to the API: its service principal requires assignment, so list the user's or one of their groups' object id in the API's apis[].assignedPrincipals. (AADSTS50105)",
      );
    });
  },
);
