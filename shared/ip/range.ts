/**
 * Inclusive IP ranges (`first`..`last` of one family) and the three ways to write them:
 * a CIDR (`10.0.0.0/28`), a dash range (`10.0.0.1 - 10.0.0.9`) or a single address.
 */
import { addressBits, familyName, formatIp, parseIp } from "./address.ts";
import type { IpAddress, IpFamily } from "./address.ts";

/** An inclusive range of addresses of one family, `first <= last`. */
export interface IpRange {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
}

/** How a range was written. */
export type RangeNotation = "cidr" | "range" | "ip";

/**
 * Result of {@link parseIpRange}. The error message starts with the quoted input and ends with
 * how to fix it, so callers only prefix where it came from.
 */
export type RangeParseResult =
  | { ok: true; range: IpRange; notation: RangeNotation }
  | { ok: false; message: string };

/**
 * Parses a CIDR, an `a-b` range (spaces around the dash allowed) or a single address.
 * A CIDR with host bits set (`10.0.0.7/24`) means its whole network, as in Go's ParseCIDR.
 *
 * @example
 * parseIpRange("10.0.0.0/30");          // ok, 10.0.0.0..10.0.0.3, notation "cidr"
 * parseIpRange("10.0.0.1 - 10.0.0.5");  // ok, notation "range"
 * parseIpRange("10.0.0.300/24");        // message: "\"10.0.0.300/24\" is not a valid CIDR (octet 300 > 255); write it as a.b.c.d/len"
 */
export function parseIpRange(text: string): RangeParseResult {
  const entry = text.trim();
  if (entry === "") {
    return { ok: false, message: `"${text}" is empty; write a CIDR (a.b.c.d/len), a range (a.b.c.d-e.f.g.h) or an IP` };
  }
  if (entry.includes("-")) return parseDashRange(entry);
  if (entry.includes("/")) return parseCidr(entry);
  const parsed = parseIp(entry);
  if (!parsed.ok) {
    return {
      ok: false,
      message: `"${entry}" is not a valid IP address, CIDR or range (${parsed.reason}); write a.b.c.d, a.b.c.d/len or a.b.c.d-e.f.g.h`,
    };
  }
  return { ok: true, range: { family: parsed.ip.family, first: parsed.ip.value, last: parsed.ip.value }, notation: "ip" };
}

function parseCidr(entry: string): RangeParseResult {
  const slash = entry.lastIndexOf("/");
  const addressText = entry.slice(0, slash);
  const lengthText = entry.slice(slash + 1);
  const hint = addressText.includes(":") ? "write it as an IPv6 prefix such as fd00::/120" : "write it as a.b.c.d/len";
  const address = parseIp(addressText);
  if (!address.ok) return { ok: false, message: `"${entry}" is not a valid CIDR (${address.reason}); ${hint}` };
  const bits = addressBits(address.ip.family);
  if (!/^(0|[1-9][0-9]*)$/.test(lengthText)) {
    return { ok: false, message: `"${entry}" is not a valid CIDR (prefix length "${lengthText}" is not a number); ${hint}` };
  }
  const length = Number(lengthText);
  if (length > bits) {
    return {
      ok: false,
      message: `"${entry}" is not a valid CIDR (prefix length ${length} > ${bits} for ${familyName(address.ip.family)}); use a length from 0 to ${bits}`,
    };
  }
  return { ok: true, range: cidrRange(address.ip, length), notation: "cidr" };
}

function parseDashRange(entry: string): RangeParseResult {
  const parts = entry.split("-");
  const hint = entry.includes(":") ? "write it as start-end, e.g. fd00::10-fd00::20" : "write it as a.b.c.d-e.f.g.h";
  if (parts.length !== 2) {
    return { ok: false, message: `"${entry}" is not a valid range (${parts.length - 1} dashes, expected one); ${hint}` };
  }
  const [startText, endText] = parts.map((p) => p.trim());
  const start = parseIp(startText);
  if (!start.ok) return { ok: false, message: `"${entry}" is not a valid range (start "${startText}": ${start.reason}); ${hint}` };
  const end = parseIp(endText);
  if (!end.ok) return { ok: false, message: `"${entry}" is not a valid range (end "${endText}": ${end.reason}); ${hint}` };
  if (start.ip.family !== end.ip.family) {
    return {
      ok: false,
      message: `"${entry}" is not a valid range (start is ${familyName(start.ip.family)}, end is ${familyName(end.ip.family)}); keep a range within one family`,
    };
  }
  if (start.ip.value > end.ip.value) {
    return {
      ok: false,
      message: `"${entry}" is not a valid range (start ${formatIp(start.ip)} is after end ${formatIp(end.ip)}); write the lower address first`,
    };
  }
  return { ok: true, range: { family: start.ip.family, first: start.ip.value, last: end.ip.value }, notation: "range" };
}

/**
 * The network of `address/length`: host bits of `address` are cleared.
 *
 * @example
 * cidrRange({ family: 4, value: 167772167n }, 30); // 10.0.0.4..10.0.0.7
 */
export function cidrRange(address: IpAddress, length: number): IpRange {
  const hostBits = BigInt(addressBits(address.family) - length);
  const first = (address.value >> hostBits) << hostBits;
  return { family: address.family, first, last: first + (1n << hostBits) - 1n };
}

/** Number of addresses in the range. @example rangeSize(cidrRange(fd00::, 64)) // 18446744073709551616n */
export function rangeSize(range: IpRange): bigint {
  return range.last - range.first + 1n;
}

/** Whether the range holds the address (same family, within bounds). */
export function rangeContains(range: IpRange, ip: IpAddress): boolean {
  return range.family === ip.family && range.first <= ip.value && ip.value <= range.last;
}

/**
 * The addresses two ranges share, or `undefined` when they are disjoint or of different families.
 *
 * @example
 * intersectRanges(10.0.0.0/28, 10.0.0.8-10.0.0.20); // 10.0.0.8..10.0.0.15
 */
export function intersectRanges(a: IpRange, b: IpRange): IpRange | undefined {
  if (a.family !== b.family) return undefined;
  const first = a.first > b.first ? a.first : b.first;
  const last = a.last < b.last ? a.last : b.last;
  return first <= last ? { family: a.family, first, last } : undefined;
}

/** Formats a range as `first-last`, or as one address when it holds one. @example "10.0.0.8-10.0.0.15" */
export function formatRange(range: IpRange): string {
  const first = formatIp({ family: range.family, value: range.first });
  if (range.first === range.last) return first;
  return `${first}-${formatIp({ family: range.family, value: range.last })}`;
}
