/**
 * Replay protection and freshness for authenticated heartbeats. Pure: the caller passes the wall clock.
 *
 * Per sender node it keeps the newest process seen (identity, startedAt) and the highest seq. A heartbeat of
 * that process passes only with a higher seq; one of another process only if it started later (a restart);
 * anything else is `replayed`. A heartbeat whose sentAt is more than the freshness window (default 60 s) from
 * our wall clock is `stale`, so a datagram captured long ago cannot be replayed once its sender is forgotten.
 * This requires node clocks to agree within the window, as any Kubernetes cluster's certificates already do.
 *
 * Memory: an entry is created only by an authenticated heartbeat (a node of the cluster) and forgotten after
 * `forgetAfterMs` (default 10 min, at least twice the window) without an accepted heartbeat from that node.
 */
import type { Heartbeat } from "./heartbeat-message.ts";

/** Why an authentic heartbeat was refused. */
export type HeartbeatReplayDropReason = "replayed" | "stale";

export interface ReplayGuardOptions {
  /** Largest accepted |our wall clock − sentAt|; default 60 s. */
  freshnessMs?: number;
  /** Forget a sender silent this long; default 10 min, and at least twice `freshnessMs`. */
  forgetAfterMs?: number;
}

interface SenderState {
  identity: string;
  startedAt: number;
  seq: number;
  /** Our wall clock when its last heartbeat was accepted. */
  acceptedAt: number;
}

/** The verdict on one heartbeat; `detail` is an operator-facing sentence for the drop log. */
export type ReplayVerdict = { ok: true } | { ok: false; reason: HeartbeatReplayDropReason; detail: string };

/**
 * @example
 * const guard = new HeartbeatReplayGuard();
 * const verdict = guard.admit(heartbeat, Date.now());
 * if (!verdict.ok) onDrop(verdict.reason);
 */
export class HeartbeatReplayGuard {
  readonly freshnessMs: number;
  readonly forgetAfterMs: number;
  readonly #senders = new Map<string, SenderState>();
  #lastSweep = -Infinity;

  constructor(opts: ReplayGuardOptions = {}) {
    this.freshnessMs = opts.freshnessMs ?? 60_000;
    this.forgetAfterMs = opts.forgetAfterMs ?? 600_000;
    if (!(this.freshnessMs > 0)) throw new Error(`heartbeat freshness window must be positive, got ${this.freshnessMs} ms`);
    // A datagram older than the last one accepted was sent at most `freshnessMs` after our acceptedAt; it is
    // stale only once we are `2 × freshnessMs` past that, so forgetting earlier would let it be replayed.
    if (!(this.forgetAfterMs >= 2 * this.freshnessMs)) {
      throw new Error(`heartbeat senders must be remembered at least twice the freshness window (${2 * this.freshnessMs} ms), got ${this.forgetAfterMs} ms`);
    }
  }

  /** Checks a heartbeat that passed authentication and, if it is new and fresh, records it. */
  admit(hb: Pick<Heartbeat, "node" | "identity" | "startedAt" | "seq" | "sentAt">, wallNow: number): ReplayVerdict {
    this.#sweep(wallNow);
    const skew = wallNow - hb.sentAt;
    if (Math.abs(skew) > this.freshnessMs) {
      const how = skew > 0 ? `${(skew / 1000).toFixed(1)} s before` : `${(-skew / 1000).toFixed(1)} s after`;
      return {
        ok: false,
        reason: "stale",
        detail: `heartbeat from ${hb.node} was sent ${how} our wall clock; node clocks must agree within ${this.freshnessMs / 1000} s (the heartbeat freshness window, as the cluster's certificates already require): check NTP on both nodes`,
      };
    }
    const known = this.#senders.get(hb.node);
    if (known) {
      const sameProcess = hb.identity === known.identity;
      if (sameProcess && (hb.startedAt !== known.startedAt || hb.seq <= known.seq)) {
        return { ok: false, reason: "replayed", detail: `heartbeat from ${hb.node} (${hb.identity}) repeats seq ${hb.seq}; the highest seen is ${known.seq}` };
      }
      if (!sameProcess && hb.startedAt <= known.startedAt) {
        return {
          ok: false,
          reason: "replayed",
          detail: `heartbeat from ${hb.node} comes from process ${hb.identity} started at ${hb.startedAt}, not newer than ${known.identity} started at ${known.startedAt}`,
        };
      }
    }
    this.#senders.set(hb.node, { identity: hb.identity, startedAt: hb.startedAt, seq: hb.seq, acceptedAt: wallNow });
    return { ok: true };
  }

  /** How many senders are remembered. */
  get size(): number {
    return this.#senders.size;
  }

  #sweep(wallNow: number): void {
    // At most a few sweeps per forget period: cheap however many heartbeats arrive.
    if (wallNow - this.#lastSweep < this.forgetAfterMs / 4 && wallNow >= this.#lastSweep) return;
    this.#lastSweep = wallNow;
    for (const [node, s] of this.#senders) {
      if (wallNow - s.acceptedAt > this.forgetAfterMs) this.#senders.delete(node);
    }
  }
}
