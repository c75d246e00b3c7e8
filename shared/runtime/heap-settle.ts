/**
 * When to give memory back to the operating system: the pure rule behind heap-settler.ts.
 *
 * After a burst of allocation (the first list of 10,000 Services, a resync, a storm of updates) V8 keeps
 * what the burst made it take: a young generation grown to its limit and a pool of freed pages it keeps
 * for reuse, 50 MB and more that stay resident. Its own memory reducer should return them once the
 * process is quiet, but it judges quiet by the allocation rate of the last GC, and a quiet process
 * makes no GC to update it, so it never does (`--trace-memory-reducer`: "high alloc" for ever).
 * A memory-reducing collection (V8's last-resort flavour) returns them, at the cost of one pause of
 * about 2 ms per MiB of live heap. This rule decides when that pause is worth it:
 *
 * - never before the process is ready, nor while the event loop is busy (`utilization` is the event
 *   loop's utilization since the previous reading, 0 to 1);
 * - once when it has first settled after start;
 * - after that only when resident memory has grown by `regrowthBytes` since the last settle, and at
 *   most every `minIntervalMs`, so steady churn costs one pause per interval at most;
 * - never with more than `maxLiveBytes` of heap in use, where the pause would outgrow a normal GC's. The heap in
 *   use counts garbage not yet collected too, so right after a burst the rule may wait for V8's next
 *   collection before it settles.
 *
 * @example
 * let state = initialHeapSettleState;
 * const verdict = decideHeapSettle(state, { now: 5_000, rss: 180e6, heapUsed: 45e6, utilization: 0.04, ready: true });
 * // { kind: "settle" }; after the collection:
 * state = settled({ now: 5_090, rss: 140e6 });
 */

/** What the rule reads at each check. */
export interface HeapReading {
  /** Milliseconds on a monotonic clock. */
  readonly now: number;
  /** Resident set size, bytes. */
  readonly rss: number;
  /** Live V8 heap, bytes. */
  readonly heapUsed: number;
  /** Event-loop utilization since the previous reading, 0 to 1. */
  readonly utilization: number;
  /** Whether the process has finished starting (for the speaker: ready, its first decisions made). */
  readonly ready: boolean;
}

export interface HeapSettleOptions {
  /** How often heap-settler.ts reads; the rule itself does not use it. */
  readonly checkEveryMs: number;
  /** The event loop counts as quiet at or below this utilization. */
  readonly quietUtilization: number;
  /** Growth of the resident set since the last settle that makes another worth its pause. */
  readonly regrowthBytes: number;
  /** The least time between two settles. */
  readonly minIntervalMs: number;
  /** Above this much heap in use (live objects and garbage not yet collected) no settle runs: its pause would be too long. */
  readonly maxLiveBytes: number;
}

const MiB = 1024 * 1024;

/**
 * The defaults: read every 5 s; quiet below 25 % utilization; settle again after 16 MiB of regrowth, at
 * most every 5 minutes; never above 64 MiB live (a pause of about 140 ms; 10,000 VIPs hold about 45 MiB).
 */
export const defaultHeapSettleOptions: HeapSettleOptions = {
  checkEveryMs: 5_000,
  quietUtilization: 0.25,
  regrowthBytes: 16 * MiB,
  minIntervalMs: 300_000,
  maxLiveBytes: 64 * MiB,
};

/** The last settle, if any: when it ended and the resident set it left. */
export interface HeapSettleState {
  readonly last?: { readonly at: number; readonly rssAfter: number };
}

export const initialHeapSettleState: HeapSettleState = {};

/** Why no settle runs now. */
export type HeapSettleWait = "not-ready" | "busy" | "too-soon" | "small-regrowth";

export type HeapSettleVerdict =
  | { readonly kind: "settle" }
  | { readonly kind: "wait"; readonly reason: HeapSettleWait }
  /** Worth settling, but the live heap is above `maxLiveBytes`. */
  | { readonly kind: "too-large"; readonly heapUsed: number };

/**
 * The verdict for one reading.
 *
 * @example decideHeapSettle(initialHeapSettleState, { now: 0, rss: 80e6, heapUsed: 11e6, utilization: 0.9, ready: true }, defaultHeapSettleOptions);
 * // { kind: "wait", reason: "busy" }
 */
export function decideHeapSettle(state: HeapSettleState, reading: HeapReading, options: HeapSettleOptions = defaultHeapSettleOptions): HeapSettleVerdict {
  if (!reading.ready) return { kind: "wait", reason: "not-ready" };
  if (reading.utilization > options.quietUtilization) return { kind: "wait", reason: "busy" };
  const last = state.last;
  if (last !== undefined) {
    if (reading.now - last.at < options.minIntervalMs) return { kind: "wait", reason: "too-soon" };
    if (reading.rss - last.rssAfter < options.regrowthBytes) return { kind: "wait", reason: "small-regrowth" };
  }
  if (reading.heapUsed > options.maxLiveBytes) return { kind: "too-large", heapUsed: reading.heapUsed };
  return { kind: "settle" };
}

/**
 * The state after a settle that ended at `now` and left `rss` resident.
 *
 * @example settled({ now: 5_090, rss: 140e6 }); // { last: { at: 5090, rssAfter: 140000000 } }
 */
export function settled(after: { readonly now: number; readonly rss: number }): HeapSettleState {
  return { last: { at: after.now, rssAfter: after.rss } };
}
