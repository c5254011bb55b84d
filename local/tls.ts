import { generateKeyPairSync, randomBytes, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import forge from "node-forge";

/** The local tenant's TLS: a CA made once per checkout, and the server certificate it signs for 127.0.0.1. */
export interface TlsMaterial {
  /** The CA certificate file: what SSL_CERT_FILE (Go) and NODE_EXTRA_CA_CERTS (Node) name to trust the tenant. */
  caFile: string;
  caPem: string;
  cert: string;
  key: string;
}

/** The names the server certificate covers: the tenant listens on 127.0.0.1 only; localhost for browsers. */
export const serverNames = { ip: "127.0.0.1", dns: "localhost" } as const;

const caYears = 10;
// Browsers and Apple platforms refuse server certificates valid longer than 825 days (Apple "Requirements for
// trusted certificates in iOS 13 and macOS 10.15"); Go and Node do not, but a person may open the tenant in a browser.
const serverDays = 825;
const day = 86_400_000;

/**
 * The CA and server certificate under `dir`, made on first use and kept: the CA is never replaced (clients were told
 * to trust it); the server certificate is made again when missing, expiring within a day, or not naming
 * {@link serverNames}.
 */
export function ensureTls(dir: string, now = new Date()): TlsMaterial {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = {
    ca: join(dir, "ca.pem"),
    caKey: join(dir, "ca-key.pem"),
    cert: join(dir, "server.pem"),
    key: join(dir, "server-key.pem"),
  };
  if (!existsSync(files.ca) || !existsSync(files.caKey)) {
    const ca = makeCa(now);
    writeFileSync(files.caKey, ca.key, { mode: 0o600 });
    writeFileSync(files.ca, ca.cert);
  }
  const caPem = readFileSync(files.ca, "utf8");
  if (!serverCertificateUsable(files, caPem, now)) {
    const server = makeServerCertificate(caPem, readFileSync(files.caKey, "utf8"), now);
    writeFileSync(files.key, server.key, { mode: 0o600 });
    writeFileSync(files.cert, server.cert);
  }
  return { caFile: files.ca, caPem, cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") };
}

function serverCertificateUsable(files: { cert: string; key: string }, caPem: string, now: Date): boolean {
  if (!existsSync(files.cert) || !existsSync(files.key)) return false;
  const certificate = new X509Certificate(readFileSync(files.cert));
  return (
    certificate.verify(new X509Certificate(caPem).publicKey) &&
    new Date(certificate.validTo).getTime() - now.getTime() > day &&
    certificate.checkIP(serverNames.ip) !== undefined &&
    certificate.checkHost(serverNames.dns) !== undefined
  );
}

// Keys come from Node's native generator (node-forge's own RSA generation is pure JavaScript and slow); forge builds
// and signs the certificates, which Node's crypto cannot.
function rsaKeys() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    pem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    forgePrivate: forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs1", format: "pem" }).toString()),
    forgePublic: forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString()),
  };
}

const caSubject = [{ name: "commonName", value: "apim-entra-auth local tenant CA" }];

function certificate(publicKey: forge.pki.PublicKey, notBefore: Date, notAfter: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial (RFC 5280 §4.1.2.2): a leading 01 byte keeps the DER integer from reading as negative.
  cert.serialNumber = `01${randomBytes(15).toString("hex")}`;
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  return cert;
}

function makeCa(now: Date): { cert: string; key: string } {
  const keys = rsaKeys();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + caYears);
  const cert = certificate(keys.forgePublic, new Date(now.getTime() - day), notAfter);
  cert.setSubject(caSubject);
  cert.setIssuer(caSubject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.forgePrivate, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem };
}

function makeServerCertificate(caPem: string, caKeyPem: string, now: Date): { cert: string; key: string } {
  const ca = forge.pki.certificateFromPem(caPem);
  const keys = rsaKeys();
  const cert = certificate(keys.forgePublic, new Date(now.getTime() - day), new Date(now.getTime() + serverDays * day));
  cert.setSubject([{ name: "commonName", value: serverNames.ip }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    // Go and Node match an IP address only against an IP SAN (RFC 6125 §1.7.2), never against the common name.
    {
      name: "subjectAltName",
      altNames: [
        { type: 7, ip: serverNames.ip },
        { type: 2, value: serverNames.dns },
      ],
    },
    { name: "authorityKeyIdentifier", keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(caKeyPem), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem };
}
