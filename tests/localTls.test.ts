// The local tenant's TLS, as its clients see it: the azuread provider is Go (it trusts SSL_CERT_FILE), the tools are
// Node (NODE_EXTRA_CA_CERTS). Each client is run as its own process with nothing but that variable set, and refused
// without it, so the trust comes from the tenant's CA and nothing else.
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTls } from "../local/tls";
import { startTestTenant } from "./support/localTenant";

const run = promisify(execFile);

/** Runs a client process; its output, or its output and exit code when it fails. */
async function client(command: string, args: string[], env: NodeJS.ProcessEnv) {
  try {
    const { stdout } = await run(command, args, { env, timeout: 120_000 });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

describe("the CA and the server certificate", () => {
  const dir = mkdtempSync(join(tmpdir(), "local-tls-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("are made once: a second call keeps the CA and the server certificate", () => {
    const first = ensureTls(dir);
    const second = ensureTls(dir);
    expect(second.caPem).toBe(first.caPem);
    expect(second.cert).toBe(first.cert);
    expect(second.caFile).toBe(join(dir, "ca.pem"));
  });

  it("signs a server certificate for 127.0.0.1 (IP SAN) and localhost, for serving only", () => {
    const { caPem, cert } = ensureTls(dir);
    const ca = new X509Certificate(caPem);
    const server = new X509Certificate(cert);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.subjectAltName).toBe("IP Address:127.0.0.1, DNS:localhost");
    expect(server.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
  });

  it("makes a new server certificate near its expiry, under the same CA", () => {
    const { caPem, cert } = ensureTls(dir);
    const validTo = new Date(new X509Certificate(cert).validTo);
    const renewed = ensureTls(dir, new Date(validTo.getTime() - 3_600_000));
    expect(renewed.caPem).toBe(caPem);
    expect(renewed.cert).not.toBe(cert);
    expect(new X509Certificate(renewed.cert).verify(new X509Certificate(caPem).publicKey)).toBe(true);
  });
});

describe("clients trust the running tenant through its CA", () => {
  let tenant: Awaited<ReturnType<typeof startTestTenant>>;
  let url: string;
  const base = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GOCACHE: process.env.GOCACHE,
    GOPATH: process.env.GOPATH,
  };

  beforeAll(async () => {
    tenant = await startTestTenant();
    url = `${tenant.tenant.endpoints.login}/metadata/endpoints?api-version=2022-09-01`;
  });
  afterAll(async () => tenant?.close());

  const goClient = join(__dirname, "fixtures", "tlsClient", "main.go");

  it("Go (the azuread provider's language) with SSL_CERT_FILE", async () => {
    const trusted = await client("go", ["run", goClient, url], { ...base, SSL_CERT_FILE: tenant.tenant.caFile });
    expect(trusted.code, trusted.output).toBe(0);
    const [status, body] = trusted.output.split("\n");
    expect(status).toBe("200");
    expect(JSON.parse(body as string).microsoftGraphResourceId).toBe(tenant.tenant.endpoints.graph);

    const untrusted = await client("go", ["run", goClient, url], {
      ...base,
      SSL_CERT_FILE: join(tenant.root, "none.pem"),
    });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.output).toMatch(/certificate signed by unknown authority/);
  });

  it("Node (the tools) with NODE_EXTRA_CA_CERTS", async () => {
    const script = `fetch(${JSON.stringify(url)}).then(r => r.json()).then(b => console.log(b.resourceManager), e => { console.log(e.cause?.code ?? e.message); process.exit(1); })`;
    const trusted = await client(process.execPath, ["-e", script], {
      ...base,
      NODE_EXTRA_CA_CERTS: tenant.tenant.caFile,
    });
    expect(trusted).toEqual({ code: 0, output: `${tenant.tenant.endpoints.arm}\n` });

    const untrusted = await client(process.execPath, ["-e", script], base);
    expect(untrusted.code).toBe(1);
    expect(untrusted.output).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|unable to verify/i);
  });

  it("serves the certificate the CA signed", () => {
    expect(readFileSync(tenant.tenant.caFile, "utf8")).toBe(tenant.ca);
  });
});
