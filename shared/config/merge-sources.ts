/**
 * Merging the two config sources, the legacy ConfigMap and MetalLB's custom resources, into one
 * {@link LbConfig}, and finding the problems between objects. Pure.
 *
 * Order (what the allocator walks, so it is the deterministic tie-break where MetalLB picks at
 * random among pools of equal priority):
 * - pools: the ConfigMap's, in config order, then the IPAddressPools sorted by name;
 * - advertisements: the ConfigMap's implicit one, then the L2Advertisements sorted by name.
 *
 * Conflicts, each laid on the object(s) at fault:
 * - a bad field of an IPAddressPool or L2Advertisement (`InvalidSpec`, found by parse-crds);
 * - two pools with overlapping addresses, within the CRs or between a CR and the ConfigMap
 *   (`OverlappingPools`), and a pool name defined by both sources (`DuplicatePoolName`). When one
 *   side's content is already in force and the other's is not, only the newcomer is at fault: the
 *   pool that has been serving stays `Ready`;
 * - an L2Advertisement naming a pool that no source defines (`PoolNotFound`).
 */
import { formatRange } from "../ip/range.ts";
import type { Advertisement, LbConfig, Pool, PoolRange } from "./config-types.ts";
import { findOverlappingPairs } from "./find-overlaps.ts";
import type { AdvertisementObjectReading, PoolObjectReading } from "./parse-crds.ts";

/** Why an object is not fit to be in force (the `reason` of its `Ready=False` condition). */
export type ProblemReason = "InvalidSpec" | "DuplicatePoolName" | "OverlappingPools" | "PoolNotFound";

/** One problem of one object: `source` names it (`IPAddressPool metallb-system/b`). */
export interface ObjectProblem {
  readonly source: string;
  readonly reason: ProblemReason;
  /** Field path, what is wrong and the fix, without the object's name. */
  readonly message: string;
}

/** The legacy ConfigMap's part: its parsed config, or `unreadable` when it exists but did not parse. */
export type LegacyPart = { readonly source: string; readonly config: LbConfig } | { readonly source: string; readonly unreadable: true };

export interface SourcesToMerge {
  /** Absent when the ConfigMap does not count (it does not exist). */
  readonly legacy?: LegacyPart;
  readonly pools: readonly PoolObjectReading[];
  readonly advertisements: readonly AdvertisementObjectReading[];
  /** Sources whose current content is in force; a conflict is laid on the side(s) not in this set. */
  readonly inForce?: ReadonlySet<string>;
}

/** The merged config (meaningful only when `problems` is empty and the ConfigMap is readable) and every problem, in object order. */
export interface Merged {
  readonly config: LbConfig;
  readonly problems: readonly ObjectProblem[];
}

/** One address entry and the pool it belongs to. */
interface Owned {
  readonly source: string;
  readonly pool: string;
  readonly fromConfigMap: boolean;
  readonly range: PoolRange;
}

/**
 * Merges the sources and finds every problem.
 *
 * @example
 * const merged = mergeSources({ legacy: { source: "ConfigMap metallb-system/config", config }, pools: [readIPAddressPool(a)], advertisements: [] });
 * if (merged.problems.length === 0) use(merged.config);
 */
export function mergeSources(sources: SourcesToMerge): Merged {
  const pools = [...sources.pools].sort(byName);
  const advertisements = [...sources.advertisements].sort(byName);
  const legacy = sources.legacy && "config" in sources.legacy ? sources.legacy : undefined;
  const legacyPools = legacy?.config.pools ?? [];
  const inForce = sources.inForce ?? new Set<string>();
  const problems: ObjectProblem[] = [];
  const blame = (a: Party, b: Party, reason: ProblemReason) => {
    const [aIn, bIn] = [inForce.has(a.source), inForce.has(b.source)];
    if (!aIn || bIn) problems.push({ source: a.source, reason, message: a.message });
    if (!bIn || aIn) problems.push({ source: b.source, reason, message: b.message });
  };

  for (const reading of [...pools, ...advertisements]) {
    for (const message of reading.problems) problems.push({ source: reading.source, reason: "InvalidSpec", message });
  }

  for (const reading of pools) {
    if (legacy === undefined || !legacyPools.some((p) => p.name === reading.name)) continue;
    blame(
      {
        source: reading.source,
        message:
          `metadata.name: pool "${reading.name}" is also defined by ${legacy.source}, and pool names must be unique across both ` +
          `(Services name pools by name); rename this IPAddressPool, or remove the pool from the ConfigMap (delete the ConfigMap if the IPAddressPools replace it)`,
      },
      {
        source: legacy.source,
        message: `pool "${reading.name}" is also defined by ${reading.source}, and pool names must be unique across both; remove one of them or rename it`,
      },
      "DuplicatePoolName",
    );
  }

  const owned: Owned[] = [
    ...legacyPools.flatMap((p) => p.ranges.map((range) => ({ source: legacy!.source, pool: p.name, fromConfigMap: true, range }))),
    ...pools.flatMap((r) => r.ranges.map((range) => ({ source: r.source, pool: r.name, fromConfigMap: false, range }))),
  ];
  for (const { earlier, later, shared } of findOverlappingPairs(owned.map((o) => o.range))) {
    const [a, b] = [owned[later], owned[earlier]];
    if (a.source === b.source && (a.pool === b.pool || a.fromConfigMap)) continue; // found by the object's own reader
    const fix = a.fromConfigMap || b.fromConfigMap
      ? "give each pool distinct addresses (or delete the ConfigMap if the IPAddressPools replace it)"
      : "give each pool distinct addresses";
    const sharing = `sharing ${formatRange(shared)}`;
    blame(
      { source: a.source, message: `${ownWhere(a)} ${a.range.text} overlaps pool "${b.pool}" (${b.source}, ${otherWhere(b)} ${b.range.text}), ${sharing}; ${fix}` },
      { source: b.source, message: `${ownWhere(b)} ${b.range.text} overlaps pool "${a.pool}" (${a.source}, ${otherWhere(a)} ${a.range.text}), ${sharing}; ${fix}` },
      "OverlappingPools",
    );
  }

  if (sources.legacy === undefined || legacy !== undefined) {
    const known = new Set([...legacyPools.map((p) => p.name), ...pools.map((r) => r.name)]);
    const names = [...known];
    const list = names.length > 0 ? `the pools are ${names.join(", ")}` : "there are no pools";
    for (const reading of advertisements) {
      for (const { name, index } of reading.poolNames) {
        if (known.has(name)) continue;
        problems.push({
          source: reading.source,
          reason: "PoolNotFound",
          message: `spec.ipAddressPools[${index}]: no pool is named "${name}" (${list}); create an IPAddressPool named "${name}" or correct the name`,
        });
      }
    }
  }

  const order = new Map<string, number>([sources.legacy?.source ?? "", ...pools.map((r) => r.source), ...advertisements.map((r) => r.source)].map((s, i) => [s, i]));
  problems.sort((x, y) => order.get(x.source)! - order.get(y.source)!);
  const config: LbConfig = {
    pools: [...legacyPools, ...pools.flatMap((r): Pool[] => (r.pool ? [r.pool] : []))],
    advertisements: [...(legacy?.config.advertisements ?? []), ...advertisements.flatMap((r): Advertisement[] => (r.advertisement ? [r.advertisement] : []))],
  };
  return { config, problems };
}

interface Party {
  readonly source: string;
  readonly message: string;
}

/** Where an entry is, seen from its own object: `spec.addresses[0]`, or `pool "default" addresses[1]` in the ConfigMap. */
function ownWhere(o: Owned): string {
  return o.fromConfigMap ? `pool "${o.pool}" addresses[${o.range.index}]` : `spec.addresses[${o.range.index}]`;
}

/** Where an entry is, after its object's name. */
function otherWhere(o: Owned): string {
  return o.fromConfigMap ? `addresses[${o.range.index}]` : `spec.addresses[${o.range.index}]`;
}

function byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
