import { describe, expect, it } from "vitest";
import { formatIp, parseIp } from "./address.ts";
import { formatIpBytes, ipFromBytes, ipToBytes } from "./bytes.ts";

describe("ipToBytes and ipFromBytes", () => {
  it.each([
    ["192.0.2.10", "c000020a"],
    ["0.0.0.0", "00000000"],
    ["255.255.255.255", "ffffffff"],
    ["2001:db8::b", "20010db800000000000000000000000b"],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffffffffffffffffffffffffffffffff"],
    ["::", "00000000000000000000000000000000"],
  ])("%s is the bytes %s, and back", (text, hex) => {
    const parsed = parseIp(text);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(Buffer.from(ipToBytes(parsed.ip)).toString("hex")).toBe(hex);
    expect(ipFromBytes(Buffer.from(hex, "hex"))).toEqual(parsed.ip);
  });

  it("reads no address from bytes of another length", () => {
    expect(ipFromBytes(Uint8Array.of(1, 2, 3))).toBeUndefined();
    expect(ipFromBytes(new Uint8Array(6))).toBeUndefined();
  });
});

describe("formatIpBytes", () => {
  it("prints a frame's 4 or 16 bytes as dotted decimal or RFC 5952 text", () => {
    expect(formatIpBytes(Buffer.from("c000020a", "hex"))).toBe("192.0.2.10");
    expect(formatIpBytes(Buffer.from("ff0200000000000000000001ff00000b", "hex"))).toBe("ff02::1:ff00:b");
  });

  it("prints an IPv4-mapped address as IPv6, or as the IPv4 it maps with ipv4Mapped: unmap", () => {
    const mapped = Buffer.from("00000000000000000000ffffc0000201", "hex");
    expect(formatIpBytes(mapped)).toBe("::ffff:c000:201");
    expect(formatIpBytes(mapped, { ipv4Mapped: "keep" })).toBe("::ffff:c000:201");
    expect(formatIpBytes(mapped, { ipv4Mapped: "unmap" })).toBe("192.0.2.1");
  });

  it("shows a wrong-length address as hex instead of throwing", () => {
    expect(formatIpBytes(Uint8Array.of(1, 2, 3))).toBe("?010203");
  });

  // The RFC 5952 cases (zero runs, ties, single zero groups) are formatIp's, in address.test.ts.
  it("is what formatIp prints for the same address", () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let n = 0; n < 2000; n++) {
      const bytes = Uint8Array.from({ length: n % 5 === 0 ? 4 : 16 }, () => (random() < 0.6 ? 0 : Math.floor(random() * 256)));
      if (n % 7 === 0 && bytes.length === 16) bytes.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
      expect(formatIp(ipFromBytes(bytes)!)).toBe(formatIpBytes(bytes));
    }
  });
});
