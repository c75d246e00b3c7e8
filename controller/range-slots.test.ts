import { describe, expect, it } from "vitest";
import { formatIp } from "../shared/ip/address.ts";
import { parseIpRange } from "../shared/ip/range.ts";
import type { IpRange } from "../shared/ip/range.ts";
import { isBuggyIpv4, rangeSlots } from "./range-slots.ts";

function range(text: string): IpRange {
  const result = parseIpRange(text);
  if (!result.ok) throw new Error(result.message);
  return result.range;
}

/** Brute force over a small range: the usable addresses in order. */
function usable(r: IpRange, avoid: boolean): bigint[] {
  const out: bigint[] = [];
  for (let a = r.first; a <= r.last; a++) if (!avoid || r.family !== 4 || !isBuggyIpv4(a)) out.push(a);
  return out;
}

describe("rangeSlots", () => {
  it.each([
    ["10.0.0.0/24", true, 254n],
    ["10.0.0.0/16", true, 256n * 254n],
    ["10.0.0.0/8", true, 65536n * 254n],
    ["10.0.0.0/8", false, 1n << 24n],
    ["10.0.0.255-10.0.1.0", true, 0n],
    ["10.0.0.0", true, 0n],
    ["255.255.255.255", true, 0n],
    ["0.0.0.0-0.0.0.1", true, 1n],
    ["10.0.0.250-10.0.1.5", true, 10n],
    ["fd00::/120", true, 256n],
    ["fd00::/64", true, 1n << 64n],
  ] as const)("counts %s with avoid-buggy-ips %s as %i usable addresses, arithmetically", (text, avoid, size) => {
    expect(rangeSlots(range(text), avoid).size).toBe(size);
  });

  it.each(["10.0.0.0/23", "10.0.0.250-10.0.2.3", "10.0.0.255-10.0.1.255", "10.0.1.0-10.0.1.0", "10.0.0.7"])(
    "numbers the usable addresses of %s in order, skipping .0 and .255",
    (text) => {
      const r = range(text);
      const slots = rangeSlots(r, true);
      const expected = usable(r, true);
      expect(slots.size).toBe(BigInt(expected.length));
      expected.forEach((address, i) => {
        expect(formatIp({ family: 4, value: slots.addressAt(BigInt(i)) })).toBe(formatIp({ family: 4, value: address }));
        expect(slots.slotOf(address)).toBe(BigInt(i));
      });
      for (let a = r.first; a <= r.last; a++) if (isBuggyIpv4(a)) expect(slots.slotOf(a)).toBeUndefined();
    },
  );

  it("gives no slot to addresses outside the range", () => {
    const slots = rangeSlots(range("10.0.0.10-10.0.0.20"), false);
    expect([slots.slotOf(0x0a000009n), slots.slotOf(0x0a00000an), slots.slotOf(0x0a000015n)]).toEqual([undefined, 0n, undefined]);
  });
});
