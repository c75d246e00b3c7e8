/**
 * A throwaway TLS identity for the simulator: a P-256 CA and a server certificate it signs (SANs: the given IPs
 * and DNS names), built as DER by hand because Node has no certificate-creation API. TLS matters because
 * client-go (kubectl) sends kubeconfig credentials only to https:// servers.
 *
 * @example
 * const tls = createServerTls(["127.0.0.1"], ["localhost"]);
 * https.createServer({ key: tls.keyPem, cert: tls.certPem }, handler); // clients trust tls.caPem
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";

/** PEM texts of the CA certificate, the server certificate and the server's private key. */
export interface ServerTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const octets = (b: Buffer) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const explicit = (n: number, c: Buffer) => tlv(0xa0 + n, c);
const bitString = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);

function integer(b: Buffer): Buffer {
  let bytes = b;
  while (bytes.length > 1 && bytes[0] === 0 && (bytes[1] & 0x80) === 0) bytes = bytes.subarray(1);
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const out = [40 * parts[0] + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = p >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

const name = (cn: string) => seq(set(seq(oid("2.5.4.3"), utf8(cn))));
const ecdsaWithSha256 = seq(oid("1.2.840.10045.4.3.2"));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function certificate(opts: {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  ca: boolean;
  ips?: string[];
  dnsNames?: string[];
}): string {
  const now = Date.now();
  const extensions: Buffer[] = [
    extension("2.5.29.19", true, opts.ca ? seq(bool(true)) : seq()),
    // keyUsage: CA = digitalSignature + keyCertSign; server = digitalSignature + keyEncipherment.
    extension("2.5.29.15", true, opts.ca ? bitString(Buffer.from([0x84]), 2) : bitString(Buffer.from([0xa0]), 5)),
  ];
  if (!opts.ca) {
    extensions.push(extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))));
    const names = [
      ...(opts.dnsNames ?? []).map((d) => tlv(0x82, Buffer.from(d, "ascii"))),
      ...(opts.ips ?? []).filter((ip) => isIPv4(ip) || isIPv6(ip)).map((ip) => tlv(0x87, ipBytes(ip))),
    ];
    extensions.push(extension("2.5.29.17", false, seq(...names)));
  }
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(randomBytes(16)),
    ecdsaWithSha256,
    name(opts.issuer),
    seq(time(new Date(now - 3600_000)), time(new Date(now + 365 * 24 * 3600_000))),
    name(opts.subject),
    opts.publicKey.export({ type: "spki", format: "der" }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign("sha256", tbs, opts.signingKey);
  const der = seq(tbs, ecdsaWithSha256, bitString(signature));
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n").trimEnd();
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** A fresh CA and a server certificate for `ips` and `dnsNames`, valid for one year. */
export function createServerTls(ips: readonly string[], dnsNames: readonly string[] = ["localhost"]): ServerTls {
  const ca = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const server = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const caPem = certificate({ subject: "kube-sim-ca", issuer: "kube-sim-ca", publicKey: ca.publicKey, signingKey: ca.privateKey, ca: true });
  const certPem = certificate({
    subject: "kube-sim",
    issuer: "kube-sim-ca",
    publicKey: server.publicKey,
    signingKey: ca.privateKey,
    ca: false,
    ips: [...ips],
    dnsNames: [...dnsNames],
  });
  const keyPem = server.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  return { caPem, certPem, keyPem };
}
