/**
 * Overlap detection between address entries, within one pool and across pools: the pairs
 * ({@link findOverlappingPairs}), and the legacy ConfigMap's messages for them ({@link findOverlaps}).
 */
import { formatRange, intersectRanges } from "../ip/range.ts";
import type { IpRange } from "../ip/range.ts";
import type { PoolRange } from "./config-types.ts";

/** An address entry and the label of the pool it belongs to (`pool "lan"`). */
export interface LabelledRange {
  readonly poolLabel: string;
  readonly range: PoolRange;
}

/** Two overlapping entries, as positions in the list given, `earlier < later`, and what they share. */
export interface OverlappingPair {
  readonly earlier: number;
  readonly later: number;
  readonly shared: IpRange;
}

/**
 * Every overlapping pair of ranges, ordered by the later entry, then the earlier. Sorts by start
 * address and sweeps, so disjoint lists cost O(k log k).
 *
 * @example
 * findOverlappingPairs([r("10.0.0.0/28"), r("10.1.0.0/28"), r("10.0.0.8-10.0.0.20")]);
 * // [{ earlier: 0, later: 2, shared: 10.0.0.8-10.0.0.15 }]
 */
export function findOverlappingPairs(ranges: readonly IpRange[]): OverlappingPair[] {
  const order = ranges.map((range, position) => ({ range, position }));
  order.sort((a, b) => {
    if (a.range.family !== b.range.family) return a.range.family - b.range.family;
    return a.range.first < b.range.first ? -1 : a.range.first > b.range.first ? 1 : a.position - b.position;
  });
  const pairs: OverlappingPair[] = [];
  let active: typeof order = [];
  for (const current of order) {
    const range = current.range;
    active = active.filter((other) => other.range.family === range.family && other.range.last >= range.first);
    for (const other of active) {
      const shared = intersectRanges(other.range, range);
      if (shared === undefined) continue;
      const [earlier, later] = other.position < current.position ? [other.position, current.position] : [current.position, other.position];
      pairs.push({ earlier, later, shared });
    }
    active.push(current);
  }
  return pairs.sort((a, b) => a.later - b.later || a.earlier - b.earlier);
}

/**
 * One message per overlapping pair, naming the later entry first, in config order.
 *
 * @example
 * findOverlaps([{ poolLabel: 'pool "default"', range: r0 }, { poolLabel: 'pool "lan"', range: r1 }]);
 * // ['pool "lan" addresses[0] 10.0.0.8-10.0.0.20 overlaps pool "default" addresses[1] 10.0.0.0/28 (they share 10.0.0.8-10.0.0.15); remove the overlap']
 */
export function findOverlaps(entries: readonly LabelledRange[]): string[] {
  return findOverlappingPairs(entries.map((e) => e.range)).map(
    ({ earlier, later, shared }) => `${describe(entries[later])} overlaps ${describe(entries[earlier])} (they share ${formatRange(shared)}); remove the overlap`,
  );
}

function describe(entry: LabelledRange): string {
  return `${entry.poolLabel} addresses[${entry.range.index}] ${entry.range.text}`;
}
