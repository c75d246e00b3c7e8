/**
 * Addresses as bytes: the codecs carry MAC and IP addresses as `Uint8Array`s; this module turns them into the
 * strings used in logs, metric labels and VIP sets, and back.
 *
 * IP text is canonical in exactly the form Go's `net.IP.String()` prints (dotted quad; RFC 5952 for IPv6, with
 * IPv4-mapped IPv6 addresses shown as dotted quads). The election hashes this text, so matching Go here is what
 * makes our owner choice identical to MetalLB's.
 */
import { Address6 } from "ip-address";

/**
 * Formats a 6-byte MAC address as lowercase, colon-separated hex.
 *
 * @example formatMac(Uint8Array.of(2, 0, 0, 0, 0, 0x0a)) // "02:00:00:00:00:0a"
 */
export function formatMac(mac: Uint8Array): string {
  let out = "";
  for (let i = 0; i < mac.length; i++) {
    if (i > 0) out += ":";
    out += HEX_BYTE[mac[i]];
  }
  return out;
}

/**
 * Parses a MAC address written as six hex pairs separated by ":" or "-"; undefined if it is anything else.
 *
 * @example parseMac("02:00:00:00:00:0A") // Uint8Array [2, 0, 0, 0, 0, 10]
 */
export function parseMac(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(text)) return undefined;
  return Uint8Array.from(text.split(/[:-]/), (pair) => parseInt(pair, 16));
}

/**
 * Formats a 4-byte (IPv4) or 16-byte (IPv6) address the way Go's `net.IP.String()` does.
 * Any other length gives "?" followed by the hex bytes, so a bad value is visible in a log rather than thrown.
 *
 * @example formatIp(Uint8Array.of(192, 0, 2, 10)) // "192.0.2.10"
 * @example formatIp(parseIp("2001:0db8:0:0:0:0:0:1")!) // "2001:db8::1"
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) return "?" + Buffer.from(bytes).toString("hex");
  if (isIpv4Mapped(bytes)) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  // Longest run of two or more zero groups becomes "::" (the first one on a tie), as RFC 5952 and Go do.
  let bestStart = -1;
  let bestLen = 0;
  for (let g = 0; g < 8; ) {
    if (bytes[2 * g] === 0 && bytes[2 * g + 1] === 0) {
      let end = g;
      while (end < 8 && bytes[2 * end] === 0 && bytes[2 * end + 1] === 0) end++;
      if (end - g > bestLen) {
        bestStart = g;
        bestLen = end - g;
      }
      g = end;
    } else {
      g++;
    }
  }
  if (bestLen < 2) bestStart = -1;
  let out = "";
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      out += "::";
      g += bestLen - 1;
      continue;
    }
    if (out !== "" && !out.endsWith(":")) out += ":";
    out += ((bytes[2 * g] << 8) | bytes[2 * g + 1]).toString(16);
  }
  return out;
}

/**
 * Parses an IPv4 literal (four decimal octets, no leading zeros) or an IPv6 literal (no prefix, no zone) into
 * 4 or 16 bytes; undefined for anything else.
 *
 * @example parseIp("192.0.2.10") // Uint8Array [192, 0, 2, 10]
 * @example parseIp("10.0.0.1/24") // undefined
 */
export function parseIp(text: string): Uint8Array | undefined {
  const v4 = parseIpv4(text);
  if (v4) return v4;
  if (!text.includes(":") || text.includes("/") || text.includes("%")) return undefined;
  if (!Address6.isValid(text)) return undefined;
  const bytes = new Address6(text).toUnsignedByteArray();
  const out = new Uint8Array(16);
  out.set(bytes.slice(-16), 16 - Math.min(16, bytes.length));
  return out;
}

/**
 * The canonical text of an IP literal (see the module comment), or undefined if the text is not an IP.
 *
 * @example canonicalIp("2001:DB8:0::1") // "2001:db8::1"
 * @example canonicalIp("::ffff:192.0.2.1") // "192.0.2.1"
 */
export function canonicalIp(text: string): string | undefined {
  const bytes = parseIp(text);
  return bytes ? formatIp(bytes) : undefined;
}

/**
 * Byte-wise equality of two arrays.
 *
 * @example bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)) // true
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function isIpv4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}
