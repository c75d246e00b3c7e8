import { describe, expect, it } from "vitest";
import { formatIp } from "./address.ts";
import { cidrRange, formatRange, intersectRanges, parseIpRange, rangeContains, rangeSize } from "./range.ts";
import type { IpRange } from "./range.ts";

function parsed(text: string): IpRange {
  const result = parseIpRange(text);
  if (!result.ok) throw new Error(result.message);
  return result.range;
}

function bounds(range: IpRange): [string, string] {
  return [formatIp({ family: range.family, value: range.first }), formatIp({ family: range.family, value: range.last })];
}

describe("parseIpRange", () => {
  it.each([
    ["10.0.0.0/28", "cidr", "10.0.0.0", "10.0.0.15"],
    ["10.0.0.7/30", "cidr", "10.0.0.4", "10.0.0.7"],
    ["0.0.0.0/0", "cidr", "0.0.0.0", "255.255.255.255"],
    ["192.168.126.40-192.168.126.45", "range", "192.168.126.40", "192.168.126.45"],
    ["192.168.126.40 - 192.168.126.45", "range", "192.168.126.40", "192.168.126.45"],
    [" 10.0.0.5 ", "ip", "10.0.0.5", "10.0.0.5"],
    ["10.0.0.5-10.0.0.5", "range", "10.0.0.5", "10.0.0.5"],
    ["fd00:1::/120", "cidr", "fd00:1::", "fd00:1::ff"],
    ["fd00::/64", "cidr", "fd00::", "fd00::ffff:ffff:ffff:ffff"],
    ["fd00::10-fd00::20", "range", "fd00::10", "fd00::20"],
    ["fd00::1", "ip", "fd00::1", "fd00::1"],
  ])("reads %j as a %s from %s to %s", (text, notation, first, last) => {
    const result = parseIpRange(text);
    expect(result.ok && result.notation).toBe(notation);
    expect(bounds(parsed(text))).toEqual([first, last]);
  });

  it.each([
    ["10.0.0.300/24", '"10.0.0.300/24" is not a valid CIDR (octet 300 > 255); write it as a.b.c.d/len'],
    ["10.0.0.0/33", '"10.0.0.0/33" is not a valid CIDR (prefix length 33 > 32 for IPv4); use a length from 0 to 32'],
    ["fd00::/129", '"fd00::/129" is not a valid CIDR (prefix length 129 > 128 for IPv6); use a length from 0 to 128'],
    ["10.0.0.0/", '"10.0.0.0/" is not a valid CIDR (prefix length "" is not a number); write it as a.b.c.d/len'],
    ["10.0.0.0/024", '"10.0.0.0/024" is not a valid CIDR (prefix length "024" is not a number); write it as a.b.c.d/len'],
    ["fd00::g/64", '"fd00::g/64" is not a valid CIDR (bad character detected in address: g); write it as an IPv6 prefix such as fd00::/120'],
    ["10.0.0.9-10.0.0.1", '"10.0.0.9-10.0.0.1" is not a valid range (start 10.0.0.9 is after end 10.0.0.1); write the lower address first'],
    ["10.0.0.1-fd00::1", '"10.0.0.1-fd00::1" is not a valid range (start is IPv4, end is IPv6); keep a range within one family'],
    ["10.0.0.1-10.0.0.256", '"10.0.0.1-10.0.0.256" is not a valid range (end "10.0.0.256": octet 256 > 255); write it as a.b.c.d-e.f.g.h'],
    ["10.0.0.1-", '"10.0.0.1-" is not a valid range (end "": empty address); write it as a.b.c.d-e.f.g.h'],
    ["1.1.1.1-1.1.1.2-1.1.1.3", '"1.1.1.1-1.1.1.2-1.1.1.3" is not a valid range (2 dashes, expected one); write it as a.b.c.d-e.f.g.h'],
    ["10.0.0.0/24-10.0.1.0/24", '"10.0.0.0/24-10.0.1.0/24" is not a valid range (start "10.0.0.0/24": a prefix length is not allowed here); write it as a.b.c.d-e.f.g.h'],
    ["10.0.0", '"10.0.0" is not a valid IP address, CIDR or range (expected 4 dot-separated octets, found 3); write a.b.c.d, a.b.c.d/len or a.b.c.d-e.f.g.h'],
    ["", '"" is empty; write a CIDR (a.b.c.d/len), a range (a.b.c.d-e.f.g.h) or an IP'],
  ])("refuses %j", (text, message) => {
    expect(parseIpRange(text)).toEqual({ ok: false, message });
  });
});

describe("range math", () => {
  it("sizes an IPv6 /64 and an IPv4 /8 without enumerating them", () => {
    expect(rangeSize(parsed("fd00::/64"))).toBe(1n << 64n);
    expect(rangeSize(parsed("10.0.0.0/8"))).toBe(1n << 24n);
    expect(rangeSize(parsed("10.0.0.1"))).toBe(1n);
  });

  it("intersects overlapping ranges and nothing else", () => {
    const shared = intersectRanges(parsed("10.0.0.0/28"), parsed("10.0.0.8-10.0.0.20"));
    expect(shared && formatRange(shared)).toBe("10.0.0.8-10.0.0.15");
    expect(intersectRanges(parsed("10.0.0.0/28"), parsed("10.0.0.16/28"))).toBeUndefined();
    expect(intersectRanges(parsed("0.0.0.0/0"), parsed("::/0"))).toBeUndefined();
  });

  it("checks containment by family and bounds", () => {
    const range = parsed("10.0.0.0/30");
    expect(rangeContains(range, { family: 4, value: 0x0a000003n })).toBe(true);
    expect(rangeContains(range, { family: 4, value: 0x0a000004n })).toBe(false);
    expect(rangeContains(range, { family: 6, value: 0x0a000003n })).toBe(false);
  });

  it("clears host bits of a CIDR and formats single-address ranges as one address", () => {
    expect(bounds(cidrRange({ family: 6, value: 0xfd00000000000000000000000000abcdn }, 112))).toEqual(["fd00::", "fd00::ffff"]);
    expect(formatRange(parsed("10.0.0.9"))).toBe("10.0.0.9");
  });
});
