import { describe, expect, it } from "vitest";
import { bytesEqual, formatMac, parseMac } from "./mac.ts";

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
