/**
 * The typed form of the MetalLB legacy ConfigMap (`config` key), as produced by `parseConfig`.
 */
import type { IpRange } from "../ip/range.ts";

/** One `addresses` entry of a pool: the range it covers plus the entry as written and its index. */
export interface PoolRange extends IpRange {
  /** The entry as written, trimmed, e.g. `"192.168.126.40-192.168.126.45"`. */
  readonly text: string;
  /** Position in the pool's `addresses` list, for messages such as `addresses[1]`. */
  readonly index: number;
}

/**
 * A layer-2 address pool.
 *
 * @example
 * { name: "default", protocol: "layer2", ranges: [...], autoAssign: true, avoidBuggyIps: false }
 */
export interface Pool {
  readonly name: string;
  readonly protocol: "layer2";
  /** In config order; allocation walks them in this order. Never overlapping. */
  readonly ranges: readonly PoolRange[];
  /** `auto-assign`, default true. When false, only Services naming the pool or one of its IPs get addresses from it. */
  readonly autoAssign: boolean;
  /** `avoid-buggy-ips`, default false. When true, IPv4 addresses ending in .0 or .255 are never handed out. */
  readonly avoidBuggyIps: boolean;
  /** Extension `namespaces`: when set, only Services in these namespaces may use the pool. */
  readonly namespaces?: readonly string[];
}

/** A parsed, validated configuration: pools in config order, no two ranges overlapping. */
export interface LbConfig {
  readonly pools: readonly Pool[];
}

/** Result of `parseConfig`: the config, or every problem found (each says what, where and how to fix). */
export type ConfigParseResult = { ok: true; config: LbConfig } | { ok: false; errors: string[] };
