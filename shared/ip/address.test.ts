import { Address6 } from "ip-address";
import { describe, expect, it } from "vitest";
import { canonicalIp, formatIp, parseIp } from "./address.ts";

describe("parseIp", () => {
  it.each([
    ["10.0.0.1", 4, 0x0a000001n],
    ["0.0.0.0", 4, 0n],
    ["255.255.255.255", 4, 0xffffffffn],
    ["fd00::1", 6, 0xfd000000000000000000000000000001n],
    ["FD00::A", 6, 0xfd00000000000000000000000000000an],
    ["::", 6, 0n],
    ["2001:db8:0:0:1:0:0:1", 6, 0x20010db8000000000001000000000001n],
    ["64:ff9b::192.0.2.33", 6, 0x0064ff9b0000000000000000c0000221n],
  ])("reads %s as IPv%i", (text, family, value) => {
    expect(parseIp(text)).toEqual({ ok: true, ip: { family, value } });
  });

  it.each([
    ["10.0.0.300", "octet 300 > 255"],
    ["10.0.0", "expected 4 dot-separated octets, found 3"],
    ["1.2.3.4.5", "expected 4 dot-separated octets, found 5"],
    ["10.0.0.01", 'octet "01" has a leading zero'],
    ["10.0..1", "empty octet"],
    ["10.0.0.x", 'octet "x" is not a decimal number'],
    ["", "empty address"],
    [" 10.0.0.1", "contains whitespace"],
    ["10.0.0.1/32", "a prefix length is not allowed here"],
    ["fe80::1%eth0", 'zone "%eth0" is not allowed; drop it'],
    ["::ffff:10.0.0.1", "IPv4-mapped IPv6 address; write it as 10.0.0.1"],
    ["fd00:::1", "address failed regex: :::"],
    ["gggg::1", "bad characters detected in address: gggg"],
    ["1:2:3:4:5:6:7:8:9", "incorrect number of groups found"],
  ])("refuses %j: %s", (text, reason) => {
    expect(parseIp(text)).toEqual({ ok: false, reason });
  });
});

describe("parseIp with an IPv4-mapped policy", () => {
  it("refuses IPv4-mapped text by default, reads it as IPv4 with unmap and as IPv6 with keep", () => {
    expect(parseIp("::ffff:10.0.0.1").ok).toBe(false);
    expect(parseIp("::ffff:10.0.0.1", { ipv4Mapped: "unmap" })).toEqual({ ok: true, ip: { family: 4, value: 0x0a000001n } });
    expect(parseIp("::ffff:10.0.0.1", { ipv4Mapped: "keep" })).toEqual({ ok: true, ip: { family: 6, value: 0xffff0a000001n } });
  });

  it("gives every other address the same value under every policy", () => {
    for (const text of ["10.0.0.1", "fd00::1", "::10.0.0.1", "64:ff9b::10.0.0.1", "::ffff:0:10.0.0.1"]) {
      expect(parseIp(text, { ipv4Mapped: "unmap" })).toEqual(parseIp(text));
      expect(parseIp(text, { ipv4Mapped: "keep" })).toEqual(parseIp(text));
    }
  });
});

describe("canonicalIp", () => {
  it.each([
    ["192.0.2.10", "192.0.2.10"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:0db8:0:1:0:0:0:0001", "2001:db8:0:1::1"],
    ["::ffff:192.0.2.1", "192.0.2.1"], // IPv4-mapped prints dotted, as Go does
    ["::ffff:c000:201", "192.0.2.1"],
    ["ff02::1:ff00:b", "ff02::1:ff00:b"],
  ])("with ipv4Mapped: unmap, %j is %j, as Go's net.IP.String() prints it", (input, expected) => {
    expect(canonicalIp(input, { ipv4Mapped: "unmap" })).toBe(expected);
  });

  it.each(["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4/32", "2001:db8::1/64", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "x"])(
    "is undefined for %j",
    (input) => {
      expect(canonicalIp(input, { ipv4Mapped: "unmap" })).toBeUndefined();
    },
  );
});

describe("formatIp", () => {
  it.each([
    [{ family: 4, value: 0x0a000001n }, "10.0.0.1"],
    [{ family: 4, value: 0xffffffffn }, "255.255.255.255"],
    [{ family: 6, value: 0n }, "::"],
    [{ family: 6, value: 1n }, "::1"],
    [{ family: 6, value: 0xfd000000000000000000000000000000n }, "fd00::"],
    // a single zero group is not compressed
    [{ family: 6, value: 0x20010db8000000010001000100010001n }, "2001:db8:0:1:1:1:1:1"],
    // the longest run wins; on a tie the first one
    [{ family: 6, value: 0x20010db8000000000001000000000001n }, "2001:db8::1:0:0:1"],
    [{ family: 6, value: 0x20010000000000010000000000010001n }, "2001::1:0:0:1:1"],
    [{ family: 6, value: 0x20010000000000010000000000000001n }, "2001:0:0:1::1"],
    [{ family: 6, value: 0x00010000000000000000000000000000n }, "1::"],
  ] as const)("formats %o as %s", (ip, text) => {
    expect(formatIp(ip)).toBe(text);
  });

  it("round-trips through parseIp and agrees with ip-address on IPv6", () => {
    const samples = [0n, 1n, 0xfd00n << 112n, (0xfd00n << 112n) | 0xabcdn, (1n << 128n) - 1n, 0x00000000000000010000000000000000n];
    for (const value of samples) {
      const text = formatIp({ family: 6, value });
      expect(text).toBe(Address6.fromBigInt(value).correctForm());
      expect(parseIp(text)).toEqual({ ok: true, ip: { family: 6, value } });
    }
  });
});
