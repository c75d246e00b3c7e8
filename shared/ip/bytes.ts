/**
 * IP addresses as the bytes packets carry them: 4 for IPv4, 16 for IPv6, in network order. The ARP and NDP
 * codecs and the responder work on these bytes, so the one IP formatter works on bytes as well:
 * `formatIp` (address.ts) is {@link formatIpBytes} applied to an address's bytes, and the per-frame path calls
 * it on the frame's own bytes without building a bigint.
 */
import type { IpAddress } from "./ip-value.ts";

/**
 * How to print an IPv4-mapped IPv6 address (`::ffff:0:0/96`). `"keep"` (the default) prints the IPv6 address it
 * is, `::ffff:c000:201`; `"unmap"` prints the IPv4 address it maps, `192.0.2.1`, as Go's `net.IP.String()`
 * does.
 */
export interface FormatIpOptions {
  ipv4Mapped?: "keep" | "unmap";
}

/**
 * The 4 (IPv4) or 16 (IPv6) bytes of an address, in network order.
 *
 * @example ipToBytes({ family: 4, value: 0xc0000201n }) // Uint8Array [192, 0, 2, 1]
 */
export function ipToBytes(ip: IpAddress): Uint8Array {
  if (ip.family === 4) return wordBytes(new Uint8Array(4), 0, Number(ip.value));
  const out = new Uint8Array(16);
  for (let word = 0; word < 4; word++) wordBytes(out, 4 * word, Number((ip.value >> BigInt(96 - 32 * word)) & 0xffffffffn));
  return out;
}

/**
 * The address 4 or 16 bytes hold, or undefined for any other length. An IPv4-mapped IPv6 address stays IPv6.
 *
 * @example ipFromBytes(Uint8Array.of(192, 0, 2, 1)) // { family: 4, value: 3221225985n }
 */
export function ipFromBytes(bytes: Uint8Array): IpAddress | undefined {
  if (bytes.length !== 4 && bytes.length !== 16) return undefined;
  let value = 0n;
  for (let i = 0; i < bytes.length; i += 4) {
    value = (value << 32n) | BigInt(((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0);
  }
  return { family: bytes.length === 4 ? 4 : 6, value };
}

/**
 * Formats 4 or 16 bytes canonically: dotted decimal for IPv4, RFC 5952 for IPv6 (lowercase, no leading zeros,
 * the longest run of two or more zero groups as `::`, the first on a tie), which is also what Go's
 * `net.IP.String()` prints. For IPv4-mapped IPv6 see {@link FormatIpOptions}. Any other length gives "?" and
 * the hex bytes, so a bad value shows in a log instead of throwing.
 *
 * @example formatIpBytes(Uint8Array.of(192, 0, 2, 10)) // "192.0.2.10"
 * @example formatIpBytes(mappedBytes, { ipv4Mapped: "unmap" }) // "192.0.2.1" (the default prints "::ffff:c000:201")
 */
export function formatIpBytes(bytes: Uint8Array, options?: FormatIpOptions): string {
  if (bytes.length === 4) return dottedQuad(bytes, 0);
  if (bytes.length !== 16) return "?" + Buffer.from(bytes).toString("hex");
  if (options?.ipv4Mapped === "unmap" && isIpv4Mapped(bytes)) return dottedQuad(bytes, 12);
  // The longest run of two or more zero groups becomes "::", the first one on a tie.
  let bestStart = -1;
  let bestLength = 0;
  for (let g = 0; g < 8; ) {
    if (bytes[2 * g] === 0 && bytes[2 * g + 1] === 0) {
      let end = g;
      while (end < 8 && bytes[2 * end] === 0 && bytes[2 * end + 1] === 0) end++;
      if (end - g > bestLength) {
        bestStart = g;
        bestLength = end - g;
      }
      g = end;
    } else {
      g++;
    }
  }
  if (bestLength < 2) bestStart = -1; // a single zero group is never compressed
  let out = "";
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      out += "::";
      g += bestLength - 1;
      continue;
    }
    if (out !== "" && !out.endsWith(":")) out += ":";
    out += ((bytes[2 * g] << 8) | bytes[2 * g + 1]).toString(16);
  }
  return out;
}

function wordBytes(out: Uint8Array, at: number, word: number): Uint8Array {
  out[at] = word >>> 24;
  out[at + 1] = word >>> 16;
  out[at + 2] = word >>> 8;
  out[at + 3] = word;
  return out;
}

function dottedQuad(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

function isIpv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}
