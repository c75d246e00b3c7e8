/**
 * IP addresses as plain values: a family and a `bigint`. Parsing and validation go through the
 * `ip-address` package; the checks in front of it only exist to give a precise reason
 * ("octet 300 > 255") instead of a generic "invalid".
 */
import { Address4, Address6 } from "ip-address";

/** IP family: 4 or 6. */
export type IpFamily = 4 | 6;

/** An IP address as a number: `{ family: 4, value: 167772161n }` is 10.0.0.1. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** Result of {@link parseIp}: the address, or a short reason such as `octet 300 > 255`. */
export type IpParseResult = { ok: true; ip: IpAddress } | { ok: false; reason: string };

const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96

/**
 * Parses one IPv4 or IPv6 address (no prefix length, no zone, no surrounding spaces).
 * IPv4-mapped IPv6 text (`::ffff:1.2.3.4`) is refused with a hint to write the IPv4 form.
 *
 * @example
 * parseIp("10.0.0.1");   // { ok: true, ip: { family: 4, value: 167772161n } }
 * parseIp("10.0.0.300"); // { ok: false, reason: "octet 300 > 255" }
 */
export function parseIp(text: string): IpParseResult {
  if (text === "") return { ok: false, reason: "empty address" };
  if (/\s/.test(text)) return { ok: false, reason: "contains whitespace" };
  if (text.includes("/")) return { ok: false, reason: "a prefix length is not allowed here" };
  return text.includes(":") ? parseIpv6(text) : parseIpv4(text);
}

function parseIpv4(text: string): IpParseResult {
  const octets = text.split(".");
  if (octets.length !== 4) {
    return { ok: false, reason: `expected 4 dot-separated octets, found ${octets.length}` };
  }
  for (const octet of octets) {
    if (!/^[0-9]+$/.test(octet)) {
      return { ok: false, reason: octet === "" ? "empty octet" : `octet "${octet}" is not a decimal number` };
    }
    if (octet.length > 1 && octet.startsWith("0")) return { ok: false, reason: `octet "${octet}" has a leading zero` };
    if (Number(octet) > 255) return { ok: false, reason: `octet ${octet} > 255` };
  }
  try {
    return { ok: true, ip: { family: 4, value: new Address4(text).bigInt() } };
  } catch (error) {
    return { ok: false, reason: lowerFirst((error as Error).message) };
  }
}

function parseIpv6(text: string): IpParseResult {
  const zone = text.indexOf("%");
  if (zone >= 0) return { ok: false, reason: `zone "${text.slice(zone)}" is not allowed; drop it` };
  let value: bigint;
  try {
    value = new Address6(text).bigInt();
  } catch (error) {
    return { ok: false, reason: lowerFirst((error as Error).message) };
  }
  if (value >> 32n === MAPPED_PREFIX >> 32n) {
    const v4 = formatIp({ family: 4, value: value & 0xffffffffn });
    return { ok: false, reason: `IPv4-mapped IPv6 address; write it as ${v4}` };
  }
  return { ok: true, ip: { family: 6, value } };
}

/**
 * Formats an address canonically: dotted decimal for IPv4, RFC 5952 for IPv6
 * (lowercase, no leading zeros, the longest run of two or more zero groups as `::`).
 *
 * @example
 * formatIp({ family: 6, value: 0xfd000000000000000000000000000001n }); // "fd00::1"
 */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((ip.value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
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
