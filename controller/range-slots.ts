/**
 * Numbering of the usable addresses of a range as slots 0..size-1. Without avoid-buggy-ips a slot
 * is just the offset from the first address. With it, IPv4 addresses ending in .0 or .255 get no
 * slot: each /24 block contributes its 254 addresses .1–.254, numbered arithmetically, so no range
 * is ever enumerated and free-slot search never has to step over buggy addresses.
 */
import type { IpRange } from "../shared/ip/range.ts";

/**
 * @example
 * const slots = rangeSlots({ family: 4, first: 0x0a000000n, last: 0x0a0001ffn }, true); // 10.0.0.0-10.0.1.255
 * slots.size;                  // 508n
 * slots.addressAt(254n);       // 0x0a000101n (10.0.1.1)
 * slots.slotOf(0x0a0000ffn);   // undefined (10.0.0.255 is buggy)
 */
export interface RangeSlots {
  /** Number of usable addresses. */
  readonly size: bigint;
  /** The slot of a usable address of the range; undefined for a buggy address or one outside the range. */
  slotOf(address: bigint): bigint | undefined;
  /** The address in a slot, `0 <= slot < size`. */
  addressAt(slot: bigint): bigint;
}

/** Slots for `range`; buggy addresses are skipped only for IPv4 and only when `avoidBuggyIps`. */
export function rangeSlots(range: IpRange, avoidBuggyIps: boolean): RangeSlots {
  if (!avoidBuggyIps || range.family !== 4) {
    return {
      size: range.last - range.first + 1n,
      slotOf: (address) => (address >= range.first && address <= range.last ? address - range.first : undefined),
      addressAt: (slot) => range.first + slot,
    };
  }
  const firstIndex = usableIndexAtOrAfter(range.first);
  const lastIndex = usableIndexAtOrBefore(range.last);
  const size = lastIndex >= firstIndex ? lastIndex - firstIndex + 1n : 0n;
  return {
    size,
    slotOf(address) {
      if (address < range.first || address > range.last || isBuggyIpv4(address)) return undefined;
      return usableIndex(address) - firstIndex;
    },
    addressAt(slot) {
      const index = firstIndex + slot;
      return (index / 254n) * 256n + (index % 254n) + 1n;
    },
  };
}

/** Whether an IPv4 address (as a number) ends in .0 or .255. @example isBuggyIpv4(0x0a0000ffn) // true */
export function isBuggyIpv4(address: bigint): boolean {
  const last = address & 255n;
  return last === 0n || last === 255n;
}

/** Index of a usable address among all usable IPv4 addresses: x.y.z.1 of block q is 254q. */
function usableIndex(address: bigint): bigint {
  return (address >> 8n) * 254n + (address & 255n) - 1n;
}

function usableIndexAtOrAfter(address: bigint): bigint {
  const octet = address & 255n;
  if (octet === 0n) return usableIndex(address + 1n);
  if (octet === 255n) return usableIndex(address + 2n); // the .1 of the next block
  return usableIndex(address);
}

function usableIndexAtOrBefore(address: bigint): bigint {
  const octet = address & 255n;
  if (octet === 255n) return usableIndex(address - 1n);
  if (octet === 0n) return (address >> 8n) * 254n - 1n; // the .254 of the previous block (-1 before 0.0.0.1)
  return usableIndex(address);
}
