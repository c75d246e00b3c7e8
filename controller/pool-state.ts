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
  /** `total` split by family. */
  readonly totalByFamily: Readonly<Record<IpFamily, bigint>>;
  readonly #inUse: Record<IpFamily, number> = { 4: 0, 6: 0 };

  constructor(pool: Pool) {
    this.pool = pool;
    this.ranges = pool.ranges.map((range) => ({ range, slots: rangeSlots(range, pool.avoidBuggyIps), used: new IntervalSet() }));
    const byFamily: Record<IpFamily, bigint> = { 4: 0n, 6: 0n };
    for (const r of this.ranges) byFamily[r.range.family] += r.slots.size;
    this.totalByFamily = byFamily;
    this.total = byFamily[4] + byFamily[6];
  }

  get name(): string {
    return this.pool.name;
  }

  /** Addresses of this pool held by at least one Service. */
  get inUse(): number {
    return this.#inUse[4] + this.#inUse[6];
  }

  /** Addresses of `family` held by at least one Service. */
  inUseOf(family: IpFamily): number {
    return this.#inUse[family];
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
   * Why a Service in `namespace` may not hold `ip` from this pool, or undefined when it may: the
   * pool's `namespaces` list (only when it has no `namespaceSelectors`: with them, which namespaces
   * may use the pool depends on labels, and a label change never takes a held IP away) and
   * avoid-buggy-ips. Label-based admission of new addresses is pool-choice.ts's. Assumes `contains(ip)`.
   */
  refusal(ip: IpAddress, namespace: string): string | undefined {
    const namespaces = this.pool.namespaces;
    const byLabelsToo = (this.pool.serviceAllocation?.namespaceSelectors ?? []).length > 0;
    if (namespaces !== undefined && namespaces.length > 0 && !byLabelsToo && !namespaces.includes(namespace)) {
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
    this.#inUse[ip.family]++;
  }

  /** Records `ip` as free again. */
  markFree(ip: IpAddress): void {
    const [state, slot] = this.#slotOf(ip);
    if (!state.used.delete(slot)) throw new Error(`allocator bug: ${formatIp(ip)} freed twice in pool "${this.name}"`);
    this.#inUse[ip.family]--;
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
