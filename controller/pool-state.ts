/**
 * The allocator's live view of one configured pool: which addresses are in use, per range, and
 * how to find the lowest free one. Internal to the allocator.
 */
import type { Pool, PoolRange } from "../shared/config/config-types.ts";
import { familyName, formatIp } from "../shared/ip/address.ts";
import type { IpAddress, IpFamily } from "../shared/ip/address.ts";
import { IntervalSet } from "./interval-set.ts";
import { rangeSlots } from "./range-slots.ts";
import type { RangeSlots } from "./range-slots.ts";

/** One `addresses` entry of a pool and its used slots. */
export interface RangeState {
  readonly range: PoolRange;
  readonly slots: RangeSlots;
  readonly used: IntervalSet;
}

/**
 * @example
 * const state = new PoolState(pool);
 * const ip = state.lowestFree(4); // { family: 4, value: ... } or undefined when full
 * state.markUsed(ip!);
 */
export class PoolState {
  readonly pool: Pool;
  readonly ranges: readonly RangeState[];
  /** Usable addresses (buggy ones excluded when avoid-buggy-ips), summed exactly. */
  readonly total: bigint;
  #inUse = 0;

  constructor(pool: Pool) {
    this.pool = pool;
    this.ranges = pool.ranges.map((range) => ({ range, slots: rangeSlots(range, pool.avoidBuggyIps), used: new IntervalSet() }));
    this.total = this.ranges.reduce((sum, r) => sum + r.slots.size, 0n);
  }

  get name(): string {
    return this.pool.name;
  }

  /** Addresses of this pool held by at least one Service. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Whether the pool has any range of this family. */
  hasFamily(family: IpFamily): boolean {
    return this.ranges.some((r) => r.range.family === family);
  }

  /** Whether the address lies in one of the pool's ranges (usable or not). */
  contains(ip: IpAddress): boolean {
    return this.#rangeOf(ip) !== undefined;
  }

  /**
   * Why a Service in `namespace` may not hold `ip` from this pool, or undefined when it may.
   * Assumes `contains(ip)`.
   */
  refusal(ip: IpAddress, namespace: string): string | undefined {
    const namespaces = this.pool.namespaces;
    if (namespaces !== undefined && !namespaces.includes(namespace)) {
      return `pool "${this.name}" is restricted to namespaces [${namespaces.join(", ")}] and the Service is in "${namespace}"`;
    }
    const range = this.#rangeOf(ip);
    if (range !== undefined && range.slots.slotOf(ip.value) === undefined) {
      const text = formatIp(ip);
      return `${text} ends in .${text.split(".")[3]} and pool "${this.name}" has avoid-buggy-ips: true; use another address or set avoid-buggy-ips: false`;
    }
    return undefined;
  }

  /** The lowest free usable address of `family`, walking ranges in config order; undefined when none is free. */
  lowestFree(family: IpFamily): IpAddress | undefined {
    for (const state of this.ranges) {
      if (state.range.family !== family) continue;
      const slot = state.used.lowestAbsent(0n, state.slots.size - 1n);
      if (slot !== undefined) return { family, value: state.slots.addressAt(slot) };
    }
    return undefined;
  }

  /** Records `ip` as in use. It must be a usable, free address of this pool. */
  markUsed(ip: IpAddress): void {
    const [state, slot] = this.#slotOf(ip);
    if (!state.used.add(slot)) throw new Error(`allocator bug: ${formatIp(ip)} marked used twice in pool "${this.name}"`);
    this.#inUse++;
  }

  /** Records `ip` as free again. */
  markFree(ip: IpAddress): void {
    const [state, slot] = this.#slotOf(ip);
    if (!state.used.delete(slot)) throw new Error(`allocator bug: ${formatIp(ip)} freed twice in pool "${this.name}"`);
    this.#inUse--;
  }

  /** Why the pool cannot give a `family` address right now: `has no free IPv4 address`, `has no IPv6 addresses`. */
  shortage(family: IpFamily): string {
    return this.hasFamily(family) ? `has no free ${familyName(family)} address` : `has no ${familyName(family)} addresses`;
  }

  #rangeOf(ip: IpAddress): RangeState | undefined {
    return this.ranges.find((r) => r.range.family === ip.family && r.range.first <= ip.value && ip.value <= r.range.last);
  }

  #slotOf(ip: IpAddress): [RangeState, bigint] {
    const state = this.#rangeOf(ip);
    const slot = state?.slots.slotOf(ip.value);
    if (state === undefined || slot === undefined) {
      throw new Error(`allocator bug: ${formatIp(ip)} is not a usable address of pool "${this.name}"`);
    }
    return [state, slot];
  }
}
