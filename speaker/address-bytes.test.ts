import { describe, expect, it } from "vitest";
import { bytesEqual, canonicalIp, formatIp, formatMac, parseIp, parseMac } from "./address-bytes.ts";

describe("IP text", () => {
  it.each([
    ["192.0.2.10", "192.0.2.10"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first of two equal zero runs
    ["2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"], // longest run, not the first
    ["2001:db8:1:1:1:1:0:1", "2001:db8:1:1:1:1:0:1"], // a single zero group is not shortened
    ["::", "::"],
    ["::1", "::1"],
    ["fe80::", "fe80::"],
    ["::ffff:192.0.2.1", "192.0.2.1"], // IPv4-mapped prints dotted, as Go does
    ["ff02::1:ff00:b", "ff02::1:ff00:b"],
  ])("canonicalIp(%j) is %j, as Go's net.IP.String() prints it", (input, expected) => {
    expect(canonicalIp(input)).toBe(expected);
  });

  it.each(["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4/32", "2001:db8::1/64", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "x"])(
    "rejects %j",
    (input) => {
      expect(parseIp(input)).toBeUndefined();
    },
  );

  it("parses to 4 or 16 bytes and formats back", () => {
    expect([...parseIp("192.0.2.10")!]).toEqual([192, 0, 2, 10]);
    const v6 = parseIp("2001:db8::b")!;
    expect(v6.length).toBe(16);
    expect(formatIp(v6)).toBe("2001:db8::b");
  });

  it("shows a wrong-length address as hex instead of throwing", () => {
    expect(formatIp(Uint8Array.of(1, 2, 3))).toBe("?010203");
  });
});

describe("MAC text", () => {
  it("formats and parses lowercase colon-separated hex", () => {
    const mac = parseMac("02:00:00:00:00:0A")!;
    expect([...mac]).toEqual([2, 0, 0, 0, 0, 10]);
    expect(formatMac(mac)).toBe("02:00:00:00:00:0a");
    expect(formatMac(parseMac("33-33-ff-00-00-0b")!)).toBe("33:33:ff:00:00:0b");
  });

  it.each(["", "02:00:00:00:00", "02:00:00:00:00:0g", "0200.0000.000a"])("rejects %j", (input) => {
    expect(parseMac(input)).toBeUndefined();
  });

  it("compares bytes", () => {
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1), Uint8Array.of(1, 2))).toBe(false);
  });
});
