/**
 * When the speaker may next rebuild its decision from its inputs. A rebuild (snapshot, election of every IP,
 * ServiceL2Status) costs O(Services): about 60 ms at 10,000 Services. Rebuilt after every informer change, a
 * stream of changes (200 Service updates a second) keeps the event loop busy for seconds at a time, which
 * delays heartbeats and ARP replies. So informer changes are batched: the next rebuild waits until
 * {@link restFactor} times the last one's duration has passed since it ended (at least {@link minGapMs}, at most
 * {@link maxGapMs}). Rebuilds then take at most a fifth of the time, and a small cluster still reacts within
 * 20 ms. Heartbeats and membership changes are not paced: they decide at once on the current snapshot.
 *
 * @example
 * rebuildWaitMs({ endedAt: 1000, durationMs: 60 }, 1100) // 140: the next rebuild may start at 1240
 * rebuildWaitMs(undefined, 5) // 0: the first rebuild runs at once
 */

/** A finished rebuild, on the monotonic clock (ms). */
export interface RebuildTiming {
  endedAt: number;
  durationMs: number;
}

/** The gap after a rebuild is this many times its duration. */
export const restFactor = 4;
export const minGapMs = 20;
export const maxGapMs = 1_000;

/** Milliseconds from `now` until the next rebuild may start; 0 or less: now. */
export function rebuildWaitMs(last: RebuildTiming | undefined, now: number): number {
  if (!last) return 0;
  const gap = Math.min(maxGapMs, Math.max(minGapMs, restFactor * last.durationMs));
  return last.endedAt + gap - now;
}
