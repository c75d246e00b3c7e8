/**
 * The typed config: pools and advertisements, from the MetalLB legacy ConfigMap (`config` key, read
 * by `parseConfig`) and from MetalLB's IPAddressPool/L2Advertisement objects (read by `parse-crds`).
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
  /**
   * When set, only Services in these namespaces may use the pool: the ConfigMap's `namespaces` extension,
   * or an IPAddressPool's `serviceAllocation.namespaces`. With `serviceAllocation.namespaceSelectors` as
   * well, a namespace listed here or matching any selector may use the pool (MetalLB's union).
   */
  readonly namespaces?: readonly string[];
  /** An IPAddressPool's `serviceAllocation`, less `namespaces` (above); absent for ConfigMap pools. */
  readonly serviceAllocation?: ServiceAllocation;
  /** Where the pool is defined: `ConfigMap metallb-system/config` or `IPAddressPool metallb-system/lan`. */
  readonly source?: string;
  /** An IPAddressPool's labels, matched by `L2Advertisement.spec.ipAddressPoolSelectors`. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A Kubernetes `metav1.LabelSelector`, validated. An empty selector matches everything. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

/** One `matchExpressions` entry: `In`/`NotIn` need values, `Exists`/`DoesNotExist` have none. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  readonly values?: readonly string[];
}

/** `IPAddressPool.spec.serviceAllocation`, restricting and ordering which Services the pool serves. */
export interface ServiceAllocation {
  /** Lower is preferred; pools without a priority come after every pool with one. */
  readonly priority?: number;
  /** A Service's namespace must match one of these (or be in `Pool.namespaces`) when any is set. */
  readonly namespaceSelectors?: readonly LabelSelector[];
  /** A Service's labels must match one of these when any is set. */
  readonly serviceSelectors?: readonly LabelSelector[];
}

/** One `preferredNodeSelectors` entry: nodes matching `preference` score `weight` (1–100), summed. */
export interface WeightedNodeSelector {
  readonly weight: number;
  readonly preference: LabelSelector;
}

/**
 * Where and by whom a pool's IPs are announced: an L2Advertisement, or the implicit one the legacy
 * ConfigMap gives each of its pools (every node, every interface).
 */
export interface Advertisement {
  /** `L2Advertisement metallb-system/name`, or `ConfigMap metallb-system/config` for the implicit one. */
  readonly source: string;
  readonly name: string;
  /** Pool names (`ipAddressPools`). With no names and no selectors, the advertisement covers all pools. */
  readonly ipAddressPools: readonly string[];
  readonly ipAddressPoolSelectors: readonly LabelSelector[];
  /** Only matching nodes may win an IP's election; empty = every node. */
  readonly nodeSelectors: readonly LabelSelector[];
  /** Announce only from these interfaces; empty = every eligible interface. */
  readonly interfaces: readonly string[];
  /** Only Services matching one of these are advertised; empty = every Service. */
  readonly serviceSelectors: readonly LabelSelector[];
  /** Soft preference among the eligible nodes. */
  readonly preferredNodeSelectors: readonly WeightedNodeSelector[];
}

/** A parsed, validated configuration: pools in config order, no two ranges overlapping. */
export interface LbConfig {
  readonly pools: readonly Pool[];
  /**
   * The advertisements in force. A legacy ConfigMap's pools each get an implicit all-nodes one; a pool
   * that none selects is assigned from but not announced (MetalLB's rule).
   */
  readonly advertisements: readonly Advertisement[];
}

/** Result of `parseConfig`: the config, or every problem found (each says what, where and how to fix). */
export type ConfigParseResult = { ok: true; config: LbConfig } | { ok: false; errors: string[] };

/**
 * The config in force: its pools and advertisements, where they came from, and a fingerprint of
 * each object whose content it holds (to tell whether an object's current content is in force).
 */
export interface ConfigInForce extends LbConfig {
  /** All its sources: `ConfigMap metallb-system/config + 2 IPAddressPools, 1 L2Advertisement`. */
  readonly source: string;
  /** By object (`IPAddressPool metallb-system/lan`, `ConfigMap metallb-system/config`): its content's fingerprint. */
  readonly fingerprints: Readonly<Record<string, string>>;
}
