/**
 * A cluster CA and the certificates it signs (Nomad/Consul's `tls ca create` / `tls cert
 * create`): ECDSA P-256 keys from WebCrypto, X.509 built by @peculiar/x509, PEM out.
 */
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const dayMs = 24 * 3600 * 1000;

export interface Pem {
  cert: string;
  key: string;
}

async function keyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

function serial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0] as number) & 0x7f; // positive
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

export function validityDays(nowMs: number, days: number): Validity {
  return { notBefore: new Date(nowMs - 60_000), notAfter: new Date(nowMs + days * dayMs) };
}

export async function createCa(commonName: string, validity: Validity): Promise<Pem> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    ...validity,
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign |
          x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString("pem"), key: await keyPem(keys.privateKey) };
}

export interface LeafOptions {
  kind: "server" | "client";
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  validity: Validity;
}

/** A certificate signed by the CA; servers get serverAuth+clientAuth, clients clientAuth. */
export async function createLeaf(ca: Pem, o: LeafOptions): Promise<Pem> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await crypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(ca.key),
    alg,
    false,
    ["sign"],
  );
  const keys = await keyPair();
  const usages = o.kind === "server"
    ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]
    : [x509.ExtendedKeyUsage.clientAuth];
  const names = [
    ...o.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...o.ipAddresses.map((value) => ({ type: "ip" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${o.commonName}`,
    issuer: caCert.subject,
    ...o.validity,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(usages),
      ...(names.length === 0 ? [] : [new x509.SubjectAlternativeNameExtension(names)]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString("pem"), key: await keyPem(keys.privateKey) };
}
