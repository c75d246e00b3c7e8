/**
 * When to send gratuitous announcements, as a pure schedule driven by the caller's clock.
 *
 * On gaining a VIP at time t: a burst of rounds at t, t+1.1 s, t+2.2 s, t+3.3 s and t+4.4 s (every 1.1 s while
 * less than 5 s after the gain, as MetalLB does). The 1.1 s spacing gets each round past the 1 s neighbour
 * locktime of Linux clients. Then a periodic re-announce every `reannounceIntervalMs` (0 turns it off).
 *
 * Every round sends, on each interface the VIP is announced on, both a request-style and a reply-style GARP for
 * IPv4 and one unsolicited NA for IPv6 (`announcementFrames`). The schedule only says when.
 *
 * Default re-announce interval, 60 s: switches age out FDB entries after 300 s by default (IEEE 802.1D), so
 * 60 s gives five chances per aging period even with loss; and a client whose cache missed the burst is fixed
 * within a minute. It is also half the broadcast load of 30 s: 10,000 IPv4 VIPs cost every host on the segment
 * 333 frames/s at 60 s. Re-announces are spread deterministically: each VIP's first re-announce comes at
 * 0.5-1.5 intervals after its last burst round (phase from a hash of the IP), then every interval, so VIPs gained
 * together (a failover moves many at once) do not re-announce together.
 *
 * Cost: a min-heap of next-due times, O(log n) per gain and per announcement; `due()` touches only the VIPs that
 * are due. Late calls coalesce: a VIP is announced at most once per `due()` call and then scheduled for its next
 * planned time after `now`.
 */
import { MinHeap } from "../../shared/min-heap.ts";

/** Default periodic re-announce interval (see the module comment). */
export const DEFAULT_REANNOUNCE_INTERVAL_MS = 60_000;

/** Timing of the schedule; every field has MetalLB's or our default. */
export interface AnnouncementScheduleOptions {
  /** Spacing of burst rounds. Default 1100 ms. */
  burstIntervalMs?: number;
  /** Rounds are sent while less than this long after the gain. Default 5000 ms. */
  burstDurationMs?: number;
  /** Periodic re-announce interval after the burst; 0 turns it off. Default 60,000 ms. */
  reannounceIntervalMs?: number;
}

/** One announcement round that is due: `kind` says whether it belongs to the gain burst or the periodic re-announce. */
export interface DueAnnouncement {
  ip: string;
  kind: "burst" | "reannounce";
}

interface VipState {
  generation: number;
  gainedAtMs: number;
  /** Index of the next burst round, or `burstRounds` once the burst is over. */
  nextBurstRound: number;
  /** Time of the next round, undefined when nothing more is planned. */
  nextAtMs: number | undefined;
}

interface HeapEntry {
  atMs: number;
  seq: number;
  ip: string;
  generation: number;
}

/**
 * The announcement schedule of all VIPs this node owns. Times are milliseconds on a monotonic clock
 * (`performance.now()`), supplied by the caller.
 *
 * @example
 * const schedule = new AnnouncementSchedule({ reannounceIntervalMs: 60_000 });
 * schedule.gain("192.0.2.10", performance.now());
 * // in the timer callback:
 * for (const { ip } of schedule.due(performance.now())) sendAll(announcementFrames(mac, vipBytes.get(ip)!));
 * const next = schedule.nextWakeupMs(); // arm the timer for this time
 */
export class AnnouncementSchedule {
  readonly #burstIntervalMs: number;
  readonly #burstRounds: number;
  readonly #reannounceIntervalMs: number;
  readonly #vips = new Map<string, VipState>();
  readonly #heap = new MinHeap<HeapEntry>((a, b) => a.atMs - b.atMs || a.seq - b.seq);
  #seq = 0;
  #generation = 0;
  #scheduled = 0;

  /** Throws a RangeError naming the option if a value is negative, not finite, or the burst interval is 0. */
  constructor(options: AnnouncementScheduleOptions = {}) {
    const burstIntervalMs = options.burstIntervalMs ?? 1100;
    const burstDurationMs = options.burstDurationMs ?? 5000;
    const reannounceIntervalMs = options.reannounceIntervalMs ?? DEFAULT_REANNOUNCE_INTERVAL_MS;
    requireNonNegative("burstDurationMs", burstDurationMs);
    requireNonNegative("reannounceIntervalMs", reannounceIntervalMs);
    requireNonNegative("burstIntervalMs", burstIntervalMs);
    if (burstIntervalMs === 0) throw new RangeError("AnnouncementSchedule burstIntervalMs must be > 0, got 0");
    this.#burstIntervalMs = burstIntervalMs;
    this.#burstRounds = Math.max(1, Math.ceil(burstDurationMs / burstIntervalMs));
    this.#reannounceIntervalMs = reannounceIntervalMs;
  }

  /** Number of VIPs in the schedule. */
  get size(): number {
    return this.#vips.size;
  }

  /** Entries in the internal queue, stale ones included; stays within 2 × size + 1024 (a gauge for memory). */
  get queuedEntries(): number {
    return this.#heap.size;
  }

  /** Whether `ip` is in the schedule. */
  has(ip: string): boolean {
    return this.#vips.has(ip);
  }

  /**
   * Starts the burst for `ip` at `nowMs`; its first round is due at once. Gaining an IP already in the schedule
   * restarts its burst (do that when the set of interfaces it is announced on changes).
   */
  gain(ip: string, nowMs: number): void {
    const state: VipState = { generation: ++this.#generation, gainedAtMs: nowMs, nextBurstRound: 0, nextAtMs: undefined };
    const previous = this.#vips.get(ip);
    if (previous?.nextAtMs !== undefined) this.#scheduled--;
    this.#vips.set(ip, state);
    this.#plan(ip, state, nowMs);
  }

  /** Stops announcing `ip`. Returns whether it was in the schedule. */
  lose(ip: string): boolean {
    const state = this.#vips.get(ip);
    if (!state) return false;
    if (state.nextAtMs !== undefined) this.#scheduled--;
    this.#vips.delete(ip);
    this.#compactIfStale();
    return true;
  }

  /** The rounds due at `nowMs`, in time order, each VIP at most once; advances each to its next planned round. */
  due(nowMs: number): DueAnnouncement[] {
    const out: DueAnnouncement[] = [];
    for (;;) {
      const top = this.#heap.peek();
      if (top === undefined || top.atMs > nowMs) break;
      this.#heap.pop();
      const state = this.#vips.get(top.ip);
      if (state === undefined || state.generation !== top.generation) continue;
      out.push({ ip: top.ip, kind: state.nextBurstRound < this.#burstRounds ? "burst" : "reannounce" });
      this.#scheduled--;
      state.nextAtMs = undefined;
      if (state.nextBurstRound < this.#burstRounds) state.nextBurstRound++;
      this.#plan(top.ip, state, nowMs, true);
    }
    return out;
  }

  /** When `due()` next has something to return, or undefined if nothing is planned. */
  nextWakeupMs(): number | undefined {
    for (;;) {
      const top = this.#heap.peek();
      if (top === undefined) return undefined;
      const state = this.#vips.get(top.ip);
      if (state !== undefined && state.generation === top.generation) return top.atMs;
      this.#heap.pop();
    }
  }

  /** Schedules the next round of `state`: the first planned round at or after `nowMs` (strictly after when `afterNow`). */
  #plan(ip: string, state: VipState, nowMs: number, afterNow = false): void {
    const isPast = (t: number): boolean => (afterNow ? t <= nowMs : t < nowMs);
    while (state.nextBurstRound < this.#burstRounds) {
      const at = state.gainedAtMs + state.nextBurstRound * this.#burstIntervalMs;
      if (!isPast(at)) return this.#push(ip, state, at);
      state.nextBurstRound++;
    }
    const interval = this.#reannounceIntervalMs;
    if (interval === 0) return;
    const lastBurstAt = state.gainedAtMs + (this.#burstRounds - 1) * this.#burstIntervalMs;
    const first = lastBurstAt + interval * (0.5 + phaseOf(ip));
    let at = first;
    if (isPast(at)) at = first + (Math.floor((nowMs - first) / interval) + 1) * interval;
    this.#push(ip, state, at);
  }

  #push(ip: string, state: VipState, atMs: number): void {
    state.nextAtMs = atMs;
    this.#scheduled++;
    this.#heap.push({ atMs, seq: this.#seq++, ip, generation: state.generation });
    this.#compactIfStale();
  }

  /** Drops heap entries of lost or re-gained VIPs once they outnumber the live ones, so churn cannot grow the heap. */
  #compactIfStale(): void {
    if (this.#heap.size <= 2 * this.#scheduled + 1024) return;
    const live: HeapEntry[] = [];
    for (const [ip, state] of this.#vips) {
      if (state.nextAtMs !== undefined) live.push({ atMs: state.nextAtMs, seq: this.#seq++, ip, generation: state.generation });
    }
    this.#heap.reset(live);
  }
}

/** A deterministic phase in [0, 1) from the IP text (32-bit FNV-1a). */
function phaseOf(ip: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ip.length; i++) {
    h ^= ip.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 0x1_0000_0000;
}

function requireNonNegative(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`AnnouncementSchedule ${field} must be a finite number >= 0, got ${value}`);
  }
}
