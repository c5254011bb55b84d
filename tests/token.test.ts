import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  explainAadsts,
  type RetryNotice,
  replicationCodes,
  requestToken,
  TokenRequestError,
} from "../tools/sign-in/clientCredentials";
import { chooseApi, chooseClient, parseStackOutputs, readStackOutputs } from "../tools/sign-in/stackOutputs";
import { usage as smokeUsage } from "../tools/smoke";
import { assertionSources, runToken, type TokenIo, usage } from "../tools/token";

const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const secret = "Zq8~s3cr3t.value_never-printed";
const request = {
  tokenEndpoint: `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`,
  clientId: "c11e0000-aaaa-4bbb-8ccc-000000000002",
  clientSecret: secret,
  scope: "api://a91e0000-aaaa-4bbb-8ccc-000000000010/.default",
};

function entraError(code: number, description = "Something went wrong.", status = 400): Response {
  const traceId = "0a1b2c3d-0000-4000-8000-000000000000";
  return Response.json(
    {
      error: "invalid_request",
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${traceId} Timestamp: 2026-01-15 12:00:00Z`,
      error_codes: [code],
    },
    { status },
  );
}

const tokenResponse = (accessToken = "header.payload.signature") =>
  Response.json({ token_type: "Bearer", expires_in: 3599, access_token: accessToken });

/** A fetch that answers from a script and records each request's URL and form. */
function scriptedFetch(...answers: (Response | Error)[]) {
  const calls: { url: string; method?: string; contentType?: string; form: URLSearchParams }[] = [];
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({
      url: String(url),
      method: init?.method,
      contentType: new Headers(init?.headers).get("content-type") ?? undefined,
      form: new URLSearchParams(String(init?.body ?? "")),
    });
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (answer instanceof Error) throw answer;
    return (answer as Response).clone();
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

describe("requestToken", () => {
  it("posts a client-credentials form to the token endpoint", async () => {
    const { fetch, calls } = scriptedFetch(tokenResponse("a.b.c"));

    const token = await requestToken(request, { fetch });

    expect(token).toEqual({ accessToken: "a.b.c", expiresIn: 3599 });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(request.tokenEndpoint);
    expect(calls[0]?.method).toBe("POST");
    expect(calls[0]?.contentType).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(calls[0]?.form ?? [])).toEqual({
      grant_type: "client_credentials",
      client_id: request.clientId,
      client_secret: secret,
      scope: request.scope,
    });
  });

  it("backs off exponentially from 2 s, capped at 30 s, and gives up after 6 attempts with the sentence", async () => {
    const { fetch, calls } = scriptedFetch(entraError(700016));
    const { delays, sleep } = recordingSleep();
    const notices: RetryNotice[] = [];

    const failure = await requestToken(request, { fetch, sleep, onRetry: (n) => notices.push(n) }).catch((e) => e);

    expect(failure).toBeInstanceOf(TokenRequestError);
    expect(failure.message).toBe(
      "The client application was not found in the tenant: it was just created and has not replicated yet, or the client id or tenant is wrong. (AADSTS700016; gave up after 6 attempts)",
    );
    expect(failure.code).toBe(700016);
    expect(failure.attempts).toBe(6);
    expect(calls).toHaveLength(6);
    expect(delays).toEqual([2000, 4000, 8000, 16000, 30000]);
    expect(notices.map((n) => [n.attempt, n.maxAttempts, n.delayMs, n.code])).toEqual([
      [2, 6, 2000, 700016],
      [3, 6, 4000, 700016],
      [4, 6, 8000, 700016],
      [5, 6, 16000, 700016],
      [6, 6, 30000, 700016],
    ]);
  });

  it("honours base, cap and attempts", async () => {
    const { fetch, calls } = scriptedFetch(entraError(7000215, "Invalid client secret provided.", 401));
    const { delays, sleep } = recordingSleep();

    await expect(
      requestToken(request, { fetch, sleep, maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 5000 }),
    ).rejects.toThrow("(AADSTS7000215; gave up after 5 attempts)");
    expect(calls).toHaveLength(5);
    expect(delays).toEqual([1000, 2000, 4000, 5000]);
  });

  it.each(replicationCodes.map((code) => [code]))("retries AADSTS%i and succeeds when it clears", async (code) => {
    const { fetch, calls } = scriptedFetch(entraError(code), entraError(code), tokenResponse());
    const { delays, sleep } = recordingSleep();

    await expect(requestToken(request, { fetch, sleep })).resolves.toEqual({
      accessToken: "header.payload.signature",
      expiresIn: 3599,
    });
    expect(calls).toHaveLength(3);
    expect(delays).toEqual([2000, 4000]);
  });

  it("reads the code from the description when error_codes is absent", async () => {
    const body = {
      error: "invalid_resource",
      error_description: "AADSTS500011: The resource principal was not found.",
    };
    const { fetch, calls } = scriptedFetch(Response.json(body, { status: 400 }), tokenResponse());
    const { delays, sleep } = recordingSleep();

    await requestToken(request, { fetch, sleep });

    expect(calls).toHaveLength(2);
    expect(delays).toEqual([2000]);
  });

  it.each([
    [1002012, "scope is not valid"],
    [90002, "Tenant not found"],
    [7000218, "must contain client_secret"],
  ])("fails at once on AADSTS%i", async (code, description) => {
    const { fetch, calls } = scriptedFetch(entraError(code, description));
    const { delays, sleep } = recordingSleep();

    const failure = await requestToken(request, { fetch, sleep }).catch((e) => e);

    expect(failure.message).toBe(`${explainAadsts(code, undefined)} (AADSTS${code})`);
    expect(failure.code).toBe(code);
    expect(failure.attempts).toBe(1);
    expect(calls).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("fails at once, without the secret, when the endpoint cannot be reached or answers no JSON", async () => {
    const unreachable = scriptedFetch(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") }));
    const offline = await requestToken(request, { fetch: unreachable.fetch }).catch((e) => e);
    expect(offline.message).toBe(
      `The token endpoint ${request.tokenEndpoint} could not be reached. (fetch failed: connect ECONNREFUSED)`,
    );
    expect(unreachable.calls).toHaveLength(1);

    const html = scriptedFetch(new Response("<html>bad gateway</html>", { status: 502 }));
    const notJson = await requestToken(request, { fetch: html.fetch }).catch((e) => e);
    expect(notJson.message).toBe(`The token endpoint ${request.tokenEndpoint} did not answer with JSON. (HTTP 502)`);
    expect(`${offline.message}${notJson.message}`).not.toContain(secret);
  });
});

describe("explainAadsts", () => {
  it.each([
    [500011, "The API (resource principal) was not found in the tenant"],
    [700016, "The client application was not found in the tenant"],
    [7000215, "The client secret is invalid: send the secret's value (not its id)"],
    [7000218, "The request carried no client credential"],
    [70021, "No federated identity credential on the app matches the assertion's issuer and subject"],
    [700213, "No federated identity credential on the app matches the assertion's issuer and subject"],
    [700211, "No federated identity credential on the app has the assertion's issuer"],
    [700212, "The assertion's audience is not the federated identity credential's"],
    [7002138, "matches a federated identity credential only when case is ignored"],
    [700024, "The client assertion is not within its valid time range"],
    [7000272, "The key that signed the client assertion is not among its issuer's published keys"],
    [501051, "The client is not assigned a role on the API"],
    [1002012, "it must be the API's identifier URI followed by /.default"],
    [90002, "The tenant was not found"],
    [700027, "The client assertion's signature is invalid"],
    [50049, "The authority is unknown or invalid"],
  ])("AADSTS%i has its own sentence", (code, start) => {
    const sentence = explainAadsts(code, "Entra's text");
    expect(sentence).toContain(start);
    expect(sentence).toMatch(/\.$/);
    expect(sentence).not.toContain("Entra's text");
  });

  it("falls back to Entra's description without the code and trace lines", () => {
    expect(
      explainAadsts(
        50034,
        "AADSTS50034: The user account does not exist in the directory. Trace ID: 1 Correlation ID: 2 Timestamp: 3",
      ),
    ).toBe("The user account does not exist in the directory.");
    expect(explainAadsts(undefined, undefined)).toBe("Entra ID refused the token request without a description.");
  });
});

const outputs = {
  authorityHost: "https://login.microsoftonline.com",
  tenantId: tenant,
  gatewayUrl: "https://apim-test.azure-api.net",
  clients: {
    reporting: {
      clientId: "c11e0000-aaaa-4bbb-8ccc-00000000000a",
      tenantId: tenant,
      tokenEndpoint: `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`,
      credential: "secret",
      scopes: { orders: "api://a91e0000-aaaa-4bbb-8ccc-000000000010/.default" },
      clientSecret: secret,
      secretEndDate: "2027-05-22T00:00:00Z",
    },
    billing: {
      clientId: "c11e0000-aaaa-4bbb-8ccc-00000000000b",
      tenantId: tenant,
      tokenEndpoint: `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`,
      credential: "federated",
      scopes: {},
    },
  },
  apis: {
    orders: {
      clientId: "a91e0000-aaaa-4bbb-8ccc-000000000010",
      identifierUri: "api://a91e0000-aaaa-4bbb-8ccc-000000000010",
      appRole: "access_as_app",
      appRoleId: "0d0e0000-0000-4000-8000-000000000001",
      tokenVersion: 2,
      url: "https://apim-test.azure-api.net/orders",
      policy: "<policies />",
      tokenRequest: "curl …",
      apiCall: "curl …",
    },
    invoices: {
      clientId: "a91e0000-aaaa-4bbb-8ccc-000000000011",
      identifierUri: "api://a91e0000-aaaa-4bbb-8ccc-000000000011",
      appRole: "access_as_app",
      appRoleId: "0d0e0000-0000-4000-8000-000000000002",
      tokenVersion: 1,
      url: "https://apim-test.azure-api.net/invoices",
      policy: "<policies />",
    },
  },
};

let dir: string;
let outputsFile: string;
let jwt: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "token-"));
  outputsFile = join(dir, "outputs.json");
  await writeFile(outputsFile, JSON.stringify(outputs));
  const { privateKey } = await generateKeyPair("RS256");
  jwt = await new SignJWT({ aud: "a91e0000-aaaa-4bbb-8ccc-000000000010", roles: ["access_as_app"], ver: "2.0" })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: "k1" })
    .sign(privateKey);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cli(env: Record<string, string> = {}, ...answers: (Response | Error)[]) {
  const out: string[] = [];
  const err: string[] = [];
  const { delays, sleep } = recordingSleep();
  const scripted = scriptedFetch(...(answers.length > 0 ? answers : [tokenResponse(jwt)]));
  const execs: { file: string; args: string[] }[] = [];
  const io: TokenIo = {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    env,
    sleep,
    fetch: scripted.fetch,
    exec: async (file, args) => {
      execs.push({ file, args });
      return { stdout: JSON.stringify(outputs), stderr: "" };
    },
  };
  const sent = () => Object.fromEntries(scripted.calls[0]?.form ?? []);
  return { io, out, err, delays, execs, calls: scripted.calls, sent, all: () => [...out, ...err].join("\n") };
}

describe("runToken", () => {
  it("takes every value from the stack's outputs: the only granted API's scope and the v2 endpoint", async () => {
    const run = cli();

    const status = await runToken(["--outputs", outputsFile, "--client", "reporting"], run.io);

    expect(status).toBe(0);
    expect(run.out).toEqual([jwt]);
    expect(run.calls[0]?.url).toBe(`https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`);
    expect(run.sent()).toEqual({
      grant_type: "client_credentials",
      client_id: "c11e0000-aaaa-4bbb-8ccc-00000000000a",
      client_secret: secret,
      scope: "api://a91e0000-aaaa-4bbb-8ccc-000000000010/.default",
    });
    expect(run.execs).toEqual([]);
  });

  it("signs in where the client's token endpoint says when the outputs name no authority host", async () => {
    // A program using the component may export its clients but not authorityHost: a sovereign cloud's client must
    // not be sent to the public cloud.
    const sovereign = `https://login.microsoftonline.us/${tenant}/oauth2/v2.0/token`;
    const { authorityHost: _, ...rest } = outputs;
    const file = join(dirname(outputsFile), "outputs-without-authority.json");
    await writeFile(
      file,
      JSON.stringify({ ...rest, clients: { reporting: { ...rest.clients.reporting, tokenEndpoint: sovereign } } }),
    );
    const run = cli();

    expect(await runToken(["--outputs", file, "--client", "reporting"], run.io)).toBe(0);
    expect(run.calls[0]?.url).toBe(sovereign);
  });

  it("prefers flags over environment variables over the outputs", async () => {
    const env = {
      TENANT_ID: "11111111-2222-3333-4444-555555555555",
      CLIENT_ID: "env-client",
      CLIENT_SECRET: "env-secret",
      SCOPE: "api://env-api/.default",
      AUTHORITY_HOST: "https://login.microsoftonline.us",
    };
    const fromEnv = cli(env);
    expect(await runToken(["--outputs", outputsFile, "--client", "reporting"], fromEnv.io)).toBe(0);
    expect(fromEnv.calls[0]?.url).toBe(
      "https://login.microsoftonline.us/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token",
    );
    expect(fromEnv.sent()).toMatchObject({
      client_id: "env-client",
      client_secret: "env-secret",
      scope: "api://env-api/.default",
    });

    const fromFlags = cli(env);
    const flags = [
      ["--tenant", "99999999-8888-7777-6666-555555555555"],
      ["--client-id", "flag-client"],
      ["--client-secret", "flag-secret"],
      ["--scope", "api://flag-api/.default"],
      ["--authority", "https://login.chinacloudapi.cn"],
    ].flat();
    expect(await runToken(["--outputs", outputsFile, ...flags], fromFlags.io)).toBe(0);
    expect(fromFlags.calls[0]?.url).toBe(
      "https://login.chinacloudapi.cn/99999999-8888-7777-6666-555555555555/oauth2/v2.0/token",
    );
    expect(fromFlags.sent()).toMatchObject({
      client_id: "flag-client",
      client_secret: "flag-secret",
      scope: "api://flag-api/.default",
    });

    const mixed = cli({ CLIENT_SECRET: "env-secret" });
    expect(await runToken(["--outputs", outputsFile, "--client", "reporting", "--api", "invoices"], mixed.io)).toBe(0);
    expect(mixed.sent()).toMatchObject({
      client_id: "c11e0000-aaaa-4bbb-8ccc-00000000000a",
      client_secret: "env-secret",
      scope: "api://a91e0000-aaaa-4bbb-8ccc-000000000011/.default",
    });
  });

  it("needs no outputs when flags and environment give every value", async () => {
    const run = cli({ TENANT_ID: tenant, CLIENT_ID: "c", CLIENT_SECRET: secret, SCOPE: "api://x/.default" });

    expect(await runToken([], run.io)).toBe(0);
    expect(run.execs).toEqual([]);
    expect(run.calls[0]?.url).toBe(`https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`);
  });

  it("reads the outputs with the pulumi CLI, secrets shown, for --stack", async () => {
    const run = cli();

    expect(await runToken(["--stack", "dev", "--client", "reporting"], run.io)).toBe(0);
    expect(run.execs).toEqual([
      { file: "pulumi", args: ["stack", "output", "--json", "--show-secrets", "--stack", "dev"] },
    ]);
  });

  it("says how to go on when the pulumi CLI is missing", async () => {
    const run = cli();
    run.io.exec = async () => {
      throw Object.assign(new Error("spawn pulumi ENOENT"), { code: "ENOENT" });
    };

    expect(await runToken(["--stack", "dev"], run.io)).toBe(2);
    expect(run.err[0]).toMatch(/^error: the pulumi CLI was not found on PATH: install it/);
    expect(run.err[0]).toContain("pass --outputs <file>");
    expect(run.err[0]).toContain("(--tenant/TENANT_ID, --client-id/CLIENT_ID, CLIENT_SECRET, --scope/SCOPE)");
  });

  it("prints the decoded header and claims with --decode", async () => {
    const run = cli();

    expect(await runToken(["--outputs", outputsFile, "--client", "reporting", "--decode"], run.io)).toBe(0);
    expect(JSON.parse(run.out[0] as string)).toEqual({
      header: { alg: "RS256", typ: "JWT", kid: "k1" },
      claims: { aud: "a91e0000-aaaa-4bbb-8ccc-000000000010", roles: ["access_as_app"], ver: "2.0" },
    });
  });

  it("reports retries on stderr and exits 1 with the sentence when Entra refuses", async () => {
    const run = cli({}, entraError(700016), entraError(1002012, "The provided value for scope is not valid."));

    expect(await runToken(["--outputs", outputsFile, "--client", "reporting"], run.io)).toBe(1);
    expect(run.out).toEqual([]);
    expect(run.err).toEqual([
      `attempt 2 of 6 in 2 s: AADSTS700016 ${explainAadsts(700016, undefined)}`,
      `error: ${explainAadsts(1002012, undefined)} (AADSTS1002012)`,
    ]);
    expect(run.delays).toEqual([2000]);
  });

  it("never prints the secret, whatever happens", async () => {
    const runs = [
      [["--outputs", outputsFile, "--client", "reporting"], []],
      [["--outputs", outputsFile, "--client", "reporting", "--decode"], []],
      [["--outputs", outputsFile, "--client", "reporting"], [entraError(7000215, "Invalid client secret provided.")]],
      [["--outputs", outputsFile, "--client", "reporting", "--client-secret", secret], [entraError(1002012)]],
      [["--client-secret", secret, "--tenant", tenant, "--bogus"], []],
      [["--client-secret", secret, secret], []],
      [
        ["--client-secret", secret, "--client-id", "c", "--scope", "s", "--tenant", tenant, "--authority", "http://x"],
        [],
      ],
      [["--outputs", outputsFile, "--client", "reporting"], [new Error(`boom ${"x"}`)]],
    ] as const;
    for (const [argv, answers] of runs) {
      const run = cli({}, ...answers);
      await runToken([...argv], run.io);
      expect(run.all(), argv.join(" ")).not.toContain(secret);
    }
  });

  it.each([
    [["--bogus"], "error: Unknown option '--bogus'"],
    [["positional"], "error: this command takes no positional arguments"],
    [["--stack", "dev", "--outputs", "x.json"], "error: give --stack or --outputs, not both"],
    [["--outputs", "__missing__.json"], "error: --outputs __missing__.json cannot be read (ENOENT)"],
    [["--client", "reporting"], undefined],
  ])("exits 2 on usage and input errors: %j", async (argv, message) => {
    const run = cli();
    run.io.exec = async () => ({ stdout: "not json", stderr: "" });

    expect(await runToken(argv, run.io)).toBe(2);
    expect(run.err[0]).toBe(message ?? "error: the selected stack is not JSON");
    expect(run.calls).toHaveLength(0);
  });

  it("exits 2 naming the choices when the client or API is ambiguous, or the authority is not https", async () => {
    const noClient = cli();
    expect(await runToken(["--outputs", outputsFile], noClient.io)).toBe(2);
    expect(noClient.err[0]).toBe(
      "error: the stack has 2 clients (reporting, billing); choose one with --client <name>",
    );

    const federated = cli();
    expect(await runToken(["--outputs", outputsFile, "--client", "billing", "--api", "orders"], federated.io)).toBe(2);
    expect(federated.err[0]).toBe(
      `error: client billing has a federated credential, so it signs in with a client assertion (a token from the credential's issuer), not a secret: give one with ${assertionSources}`,
    );

    const noApi = cli({ CLIENT_SECRET: "s" });
    expect(await runToken(["--outputs", outputsFile, "--client", "billing"], noApi.io)).toBe(2);
    expect(noApi.err[0]).toBe(
      "error: client billing is granted no API; name one with --api <name> (the stack's APIs: orders, invoices)",
    );

    const plainHttp = cli();
    expect(
      await runToken(
        ["--outputs", outputsFile, "--client", "reporting", "--authority", "http://login.example"],
        plainHttp.io,
      ),
    ).toBe(2);
    expect(plainHttp.err[0]).toBe(
      "error: authority http://login.example must be https:// (http:// only on a loopback host)",
    );
    expect(plainHttp.calls).toHaveLength(0);
  });

  it("prints its usage with --help, and the usage says to prefer CLIENT_SECRET", async () => {
    const run = cli();
    expect(await runToken(["--help"], run.io)).toBe(0);
    expect(run.out).toEqual([usage]);
    expect(usage).toContain("prefer the environment variable");
  });
});

describe("stack outputs", () => {
  it("chooses the only client and its only granted API, and names the choices otherwise", () => {
    const parsed = parseStackOutputs(JSON.stringify(outputs));
    expect(chooseClient(parsed, "reporting").client.clientId).toBe("c11e0000-aaaa-4bbb-8ccc-00000000000a");
    expect(chooseApi(parsed, "reporting").name).toBe("orders");
    expect(() => chooseClient(parsed, "nobody")).toThrow(
      "the stack has no client nobody; its clients: reporting, billing",
    );
    expect(() => chooseApi(parsed, "reporting", "nothing")).toThrow(
      "the stack has no API nothing; its APIs: orders, invoices",
    );
    const single = parseStackOutputs({ ...outputs, clients: { reporting: outputs.clients.reporting } });
    expect(chooseClient(single).name).toBe("reporting");
  });

  it("reports the pulumi CLI's own error", async () => {
    const exec = async () => {
      throw Object.assign(new Error("exit 255"), { code: 255, stderr: "error: no stack named 'prod' found\n" });
    };
    await expect(readStackOutputs({ stack: "prod" }, exec)).rejects.toThrow(
      "`pulumi stack output --json --show-secrets --stack prod` failed: error: no stack named 'prod' found",
    );
  });

  it("refuses outputs that are not this project's", () => {
    expect(() => parseStackOutputs({ clients: {} })).toThrow(
      "the stack outputs: not this project's stack outputs (apis:",
    );
  });
});

/** A JWT-shaped value whose text is recognisable in any output; the tools never verify it, Entra does. */
function fakeAssertion(label: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT" })}.${part({ sub: label, aud: "api://AzureADTokenExchange" })}.${Buffer.from(`signature-${label}`).toString("base64url")}`;
}

describe("client assertions", () => {
  const assertions = {
    flag: fakeAssertion("flag"),
    file: fakeAssertion("client-assertion-file"),
    azure: fakeAssertion("azure-federated-token-file"),
    env: fakeAssertion("client-assertion"),
  };
  const files = { flag: "", file: "", azure: "", empty: "" };
  const billing = ["--outputs", "", "--client", "billing", "--api", "orders"];

  beforeAll(async () => {
    billing[1] = outputsFile;
    for (const name of ["flag", "file", "azure"] as const) {
      files[name] = join(dir, `${name}.jwt`);
      await writeFile(files[name], `${assertions[name]}\n`);
    }
    files.empty = join(dir, "empty.jwt");
    await writeFile(files.empty, "\n");
  });

  it("requestToken posts the assertion and its type instead of a secret", async () => {
    const { fetch, calls } = scriptedFetch(tokenResponse("a.b.c"));
    const { clientSecret: _secret, ...withoutSecret } = request;

    await requestToken({ ...withoutSecret, clientAssertion: assertions.flag }, { fetch });

    expect(Object.fromEntries(calls[0]?.form ?? [])).toEqual({
      grant_type: "client_credentials",
      client_id: request.clientId,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertions.flag,
      scope: request.scope,
    });
  });

  it("takes the assertion from the flag, else CLIENT_ASSERTION_FILE, else AZURE_FEDERATED_TOKEN_FILE, else CLIENT_ASSERTION", async () => {
    const env = {
      CLIENT_ASSERTION_FILE: files.file,
      AZURE_FEDERATED_TOKEN_FILE: files.azure,
      CLIENT_ASSERTION: assertions.env,
    };
    const cases: [string[], Record<string, string>, string][] = [
      [["--client-assertion-file", files.flag], env, assertions.flag],
      [[], env, assertions.file],
      [[], { AZURE_FEDERATED_TOKEN_FILE: files.azure, CLIENT_ASSERTION: assertions.env }, assertions.azure],
      [[], { CLIENT_ASSERTION: assertions.env }, assertions.env],
    ];
    for (const [flags, given, expected] of cases) {
      const run = cli(given);

      expect(await runToken([...billing, ...flags], run.io), run.all()).toBe(0);
      expect(run.sent()).toEqual({
        grant_type: "client_credentials",
        client_id: "c11e0000-aaaa-4bbb-8ccc-00000000000b",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: expected,
        scope: "api://a91e0000-aaaa-4bbb-8ccc-000000000010/.default",
      });
    }
  });

  it("sends a given assertion instead of a secret client's stack secret, and needs no outputs when every value is given", async () => {
    const fromStack = cli({ CLIENT_ASSERTION: assertions.env });
    expect(await runToken(["--outputs", outputsFile, "--client", "reporting"], fromStack.io)).toBe(0);
    expect(fromStack.sent()).toMatchObject({ client_assertion: assertions.env });
    expect(fromStack.sent()).not.toHaveProperty("client_secret");

    const fromEnv = cli({
      TENANT_ID: tenant,
      CLIENT_ID: "c",
      SCOPE: "api://x/.default",
      CLIENT_ASSERTION: assertions.env,
    });
    expect(await runToken([], fromEnv.io)).toBe(0);
    expect(fromEnv.execs).toEqual([]);
    expect(fromEnv.sent()).toEqual({
      grant_type: "client_credentials",
      client_id: "c",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertions.env,
      scope: "api://x/.default",
    });
  });

  it.each([
    [
      "a federated client without an assertion",
      [],
      {},
      `error: client billing has a federated credential, so it signs in with a client assertion (a token from the credential's issuer), not a secret: give one with ${assertionSources}`,
    ],
    [
      "a federated client with only a secret",
      [],
      { CLIENT_SECRET: secret },
      `error: client billing has a federated credential, so it signs in with a client assertion (a token from the credential's issuer), not a secret: give one with ${assertionSources}`,
    ],
    [
      "a secret and an assertion from the environment",
      [],
      { CLIENT_SECRET: secret, CLIENT_ASSERTION: fakeAssertion("both") },
      `error: give a client secret or a client assertion (${assertionSources}), not both`,
    ],
    [
      "a secret flag and an assertion file",
      ["--client-secret", secret, "--client-assertion-file", "FLAG"],
      {},
      `error: give a client secret or a client assertion (${assertionSources}), not both`,
    ],
    [
      "an unreadable assertion file",
      ["--client-assertion-file", "/nonexistent/token.jwt"],
      {},
      "error: --client-assertion-file /nonexistent/token.jwt cannot be read (ENOENT)",
    ],
    [
      "an empty token file",
      [],
      { AZURE_FEDERATED_TOKEN_FILE: "EMPTY" },
      "error: AZURE_FEDERATED_TOKEN_FILE EMPTY is empty",
    ],
    [
      "an assertion that is not a JWT",
      [],
      { CLIENT_ASSERTION: "not-a-jwt-but-secret-looking" },
      "error: the client assertion from CLIENT_ASSERTION is not a signed JWT (three base64url parts)",
    ],
  ])("exits 2 for %s, sending nothing", async (_case, flags, env, message) => {
    const paths = (text: string) => text.replace("FLAG", files.flag).replace("EMPTY", files.empty);
    const run = cli(Object.fromEntries(Object.entries(env).map(([key, value]) => [key, paths(value)])));

    expect(await runToken([...billing, ...flags.map(paths)], run.io)).toBe(2);
    expect(run.err[0]).toBe(paths(message));
    expect(run.err.slice(1)).toEqual([usage]);
    expect(run.calls).toHaveLength(0);
    expect(run.all()).not.toContain(secret);
    expect(run.all()).not.toContain("not-a-jwt-but-secret-looking");
    expect(run.all()).not.toContain(assertions.flag);
  });

  it("never prints the assertion, whatever happens", async () => {
    const env = { CLIENT_ASSERTION_FILE: files.file };
    const runs: [string[], Record<string, string>, (Response | Error)[]][] = [
      [billing, env, []],
      [[...billing, "--decode"], env, []],
      [billing, env, [entraError(700213, "No matching federated identity record found.")]],
      [billing, env, [entraError(700024, "Client assertion is not within its valid time range.", 401)]],
      [billing, env, [new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") })]],
      [billing, { ...env, CLIENT_SECRET: secret }, []],
      [[...billing, "--bogus"], env, []],
      [[...billing, "--authority", "http://login.example"], env, []],
    ];
    for (const [argv, given, answers] of runs) {
      const run = cli(given, ...answers);
      await runToken(argv, run.io);
      expect(run.all(), argv.join(" ")).not.toContain(assertions.file);
    }
  });

  // What smoke does with a client that gets no token here (user-facing, federated without an assertion) is in
  // tests/smokeWithoutToken.test.ts.
  it("smoke takes the same assertion sources as token", () => {
    expect(smokeUsage).toContain("[--client-assertion-file <path>]");
    expect(usage).toContain("[--client-assertion-file <path>]");
    expect(usage).toContain(
      "read from --client-assertion-file <path>, else\nthe file named by CLIENT_ASSERTION_FILE, else the file named by AZURE_FEDERATED_TOKEN_FILE",
    );
  });
});
