/**
 * MAC addresses as the 6 bytes frames carry, and their text in logs, metric labels and the responder's set of
 * this node's MACs. IP addresses, as text, numbers or bytes, live in shared/ip.
 */

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
 * Byte-wise equality of two arrays: two MACs, or the two IPs of an ARP packet, compared without formatting them.
 *
 * @example bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)) // true
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
