/**
 * Overlap detection between address entries, within one pool and across pools.
 * Internal to `parseConfig`.
 */
import { formatRange, intersectRanges } from "../ip/range.ts";
import type { PoolRange } from "./config-types.ts";

/** An address entry and the label of the pool it belongs to (`pool "lan"`). */
export interface LabelledRange {
  readonly poolLabel: string;
  readonly range: PoolRange;
}

/**
 * One message per overlapping pair, naming the later entry first, in config order.
 * Sorts by start address and sweeps, so disjoint configs cost O(k log k).
 *
 * @example
 * findOverlaps([{ poolLabel: 'pool "default"', range: r0 }, { poolLabel: 'pool "lan"', range: r1 }]);
 * // ['pool "lan" addresses[0] 10.0.0.8-10.0.0.20 overlaps pool "default" addresses[1] 10.0.0.0/28 (they share 10.0.0.8-10.0.0.15); remove the overlap']
 */
export function findOverlaps(entries: readonly LabelledRange[]): string[] {
  const order = entries.map((entry, position) => ({ entry, position }));
  order.sort((a, b) => {
    const x = a.entry.range;
    const y = b.entry.range;
    if (x.family !== y.family) return x.family - y.family;
    return x.first < y.first ? -1 : x.first > y.first ? 1 : a.position - b.position;
  });
  const pairs: { later: number; earlier: number; message: string }[] = [];
  let active: typeof order = [];
  for (const current of order) {
    const range = current.entry.range;
    active = active.filter(({ entry }) => entry.range.family === range.family && entry.range.last >= range.first);
    for (const other of active) {
      const shared = intersectRanges(other.entry.range, range);
      if (shared === undefined) continue;
      const [earlier, later] = other.position < current.position ? [other, current] : [current, other];
      pairs.push({
        later: later.position,
        earlier: earlier.position,
        message:
          `${describe(later.entry)} overlaps ${describe(earlier.entry)} ` +
          `(they share ${formatRange(shared)}); remove the overlap`,
      });
    }
    active.push(current);
  }
  pairs.sort((a, b) => a.later - b.later || a.earlier - b.earlier);
  return pairs.map((pair) => pair.message);
}

function describe(entry: LabelledRange): string {
  return `${entry.poolLabel} addresses[${entry.range.index}] ${entry.range.text}`;
}
