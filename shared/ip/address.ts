/**
 * IP addresses as plain values: a family and a `bigint`. This module owns how every part of baremetal-lb reads
 * and prints IP text; bytes.ts turns the same values into the bytes packets carry. IPv4 text is checked here in
 * full; IPv6 goes through the `ip-address` package, and the checks in front of it only exist to give a precise
 * reason ("zone ... is not allowed") instead of a generic "invalid".
 *
 * The callers differ in one rule only, IPv4-mapped IPv6 (`::ffff:192.0.2.1`), so that rule is an option:
 * {@link ParseIpOptions} when reading text, and FormatIpOptions (bytes.ts) when printing a frame's bytes.
 */
import { Address6 } from "ip-address";
import { formatIpBytes, ipToBytes } from "./bytes.ts";
import type { IpAddress, IpFamily } from "./ip-value.ts";

export type { IpAddress, IpFamily } from "./ip-value.ts";

/** Result of {@link parseIp}: the address, or a short reason such as `octet 300 > 255`. */
export type IpParseResult = { ok: true; ip: IpAddress } | { ok: false; reason: string };

/**
 * What to do with IPv4-mapped IPv6 text (`::ffff:192.0.2.1`, any spelling of `::ffff:0:0/96`):
 * - `"refuse"` (the default): refuse it with a hint to write the IPv4 form. Pools, Service specs and the
 *   controller's allocations, where a mapped address can only be a typo.
 * - `"unmap"`: read it as the IPv4 address it maps, family 4. The speaker's VIP text, which must be Go's
 *   `net.IP.String()` form for the election to pick the owner MetalLB picks.
 * - `"keep"`: read it as the IPv6 address it is, family 6.
 */
export interface ParseIpOptions {
  ipv4Mapped?: "refuse" | "unmap" | "keep";
}

const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96

/**
 * Parses one IPv4 or IPv6 address (no prefix length, no zone, no surrounding spaces, no leading zeros in IPv4
 * octets). IPv4-mapped IPv6 text is refused unless {@link ParseIpOptions} says otherwise.
 *
 * @example
 * parseIp("10.0.0.1");                                    // { ok: true, ip: { family: 4, value: 167772161n } }
 * parseIp("10.0.0.300");                                  // { ok: false, reason: "octet 300 > 255" }
 * parseIp("::ffff:10.0.0.1", { ipv4Mapped: "unmap" });    // { ok: true, ip: { family: 4, value: 167772161n } }
 */
export function parseIp(text: string, options?: ParseIpOptions): IpParseResult {
  if (text === "") return { ok: false, reason: "empty address" };
  if (/\s/.test(text)) return { ok: false, reason: "contains whitespace" };
  if (text.includes("/")) return { ok: false, reason: "a prefix length is not allowed here" };
  return text.includes(":") ? parseIpv6(text, options?.ipv4Mapped ?? "refuse") : parseIpv4(text);
}

/** Four decimal octets without leading zeros: the shape of every IPv4 address (and of 999.0.0.0). */
const IPV4_SHAPE = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;

function parseIpv4(text: string): IpParseResult {
  const shape = IPV4_SHAPE.exec(text);
  if (shape) {
    const a = Number(shape[1]);
    const b = Number(shape[2]);
    const c = Number(shape[3]);
    const d = Number(shape[4]);
    if (a <= 255 && b <= 255 && c <= 255 && d <= 255) {
      return { ok: true, ip: { family: 4, value: BigInt(((a << 24) | (b << 16) | (c << 8) | d) >>> 0) } };
    }
  }
  return { ok: false, reason: ipv4Refusal(text) };
}

/** Why `text` is not an IPv4 address, naming the first octet at fault. */
function ipv4Refusal(text: string): string {
  const octets = text.split(".");
  if (octets.length !== 4) return `expected 4 dot-separated octets, found ${octets.length}`;
  for (const octet of octets) {
    if (!/^[0-9]+$/.test(octet)) return octet === "" ? "empty octet" : `octet "${octet}" is not a decimal number`;
    if (octet.length > 1 && octet.startsWith("0")) return `octet "${octet}" has a leading zero`;
    if (Number(octet) > 255) return `octet ${octet} > 255`;
  }
  return "not an IPv4 address"; // not reached: such text has IPV4_SHAPE
}

function parseIpv6(text: string, ipv4Mapped: "refuse" | "unmap" | "keep"): IpParseResult {
  const zone = text.indexOf("%");
  if (zone >= 0) return { ok: false, reason: `zone "${text.slice(zone)}" is not allowed; drop it` };
  let value: bigint;
  try {
    value = new Address6(text).bigInt();
  } catch (error) {
    return { ok: false, reason: lowerFirst((error as Error).message) };
  }
  if (ipv4Mapped !== "keep" && value >> 32n === MAPPED_PREFIX >> 32n) {
    const v4: IpAddress = { family: 4, value: value & 0xffffffffn };
    if (ipv4Mapped === "unmap") return { ok: true, ip: v4 };
    return { ok: false, reason: `IPv4-mapped IPv6 address; write it as ${formatIp(v4)}` };
  }
  return { ok: true, ip: { family: 6, value } };
}

/**
 * Formats an address canonically: dotted decimal for IPv4, RFC 5952 for IPv6 (lowercase, no leading zeros,
 * the longest run of two or more zero groups as `::`). It is formatIpBytes (bytes.ts) with its default: an
 * IPv6 address prints as IPv6 even when it is IPv4-mapped. One argument only, so `ips.map(formatIp)` stays
 * safe; to print a mapped address as IPv4, parse it with `ipv4Mapped: "unmap"` in the first place.
 *
 * @example
 * formatIp({ family: 6, value: 0xfd000000000000000000000000000001n }); // "fd00::1"
 */
export function formatIp(ip: IpAddress): string {
  return formatIpBytes(ipToBytes(ip));
}

/**
 * The canonical text of an IP literal ({@link parseIp} then {@link formatIp}), or undefined if it is not one.
 * With `{ ipv4Mapped: "unmap" }` this is exactly the text Go's `net.IP.String()` prints for it.
 *
 * @example canonicalIp("2001:DB8:0::1")                               // "2001:db8::1"
 * @example canonicalIp("::ffff:192.0.2.1", { ipv4Mapped: "unmap" })  // "192.0.2.1"
 * @example canonicalIp("::ffff:192.0.2.1")                            // undefined (refused)
 */
export function canonicalIp(text: string, options?: ParseIpOptions): string | undefined {
  const parsed = parseIp(text, options);
  return parsed.ok ? formatIp(parsed.ip) : undefined;
}

/** Number of bits in an address of this family: 32 or 128. @example addressBits(6) // 128 */
export function addressBits(family: IpFamily): 32 | 128 {
  return family === 4 ? 32 : 128;
}

/** Kubernetes' name of the family. @example familyName(4) // "IPv4" */
export function familyName(family: IpFamily): "IPv4" | "IPv6" {
  return family === 4 ? "IPv4" : "IPv6";
}

function lowerFirst(message: string): string {
  return message.charAt(0).toLowerCase() + message.slice(1).replace(/\.$/, "");
}
