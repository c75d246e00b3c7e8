import { LeaseObserver, type LeaseSnapshot } from "../shared/kube/lease-observer.ts";

/** Timing of the two liveness signals. */
export interface LivenessTiming {
  /** A peer heard from less recently than this over the fast path counts as silent. */
  heartbeatTimeoutMs: number;
  /** Overrides each Lease's own leaseDurationSeconds when set (tests). */
  leaseDurationMs?: number;
}

/** Why the fast path is or is not trusted right now. */
export type FastPathState =
  | { trusted: true; heard: number; leaseLive: number }
  | { trusted: false; heard: number; leaseLive: number; reason: string };

/**
 * Decides which speakers are live, from two signals:
 *
 * - **Leases** (authoritative): each speaker renews a Lease of its own; a Lease that has not
 *   changed for its duration, by our monotonic clock, is expired and its speaker is dead.
 * - **Heartbeats** (fast path): UDP heartbeats among speakers. A speaker whose Lease is still
 *   valid but which has been silent for `heartbeatTimeoutMs` counts as dead, but only while we
 *   hear a strict majority of the Lease-live speakers (counting ourselves). A speaker cut off
 *   from most of its peers therefore never takes over their VIPs on heartbeat silence alone; it
 *   falls back to Lease expiry, and its own fencing stops it when it cannot renew its Lease.
 *
 * A speaker that announced it is leaving (graceful shutdown) is dead at once.
 *
 * @example
 * const live = new Liveness("node-a", { heartbeatTimeoutMs: 600 });
 * live.observeLease("node-b", snapshot, now);
 * live.heard("node-b", now);
 * live.liveSpeakers(now); // Set { "node-a", "node-b" }
 */
export class Liveness {
  private readonly self: string;
  private readonly timing: LivenessTiming;
  private readonly leases = new LeaseObserver();
  private readonly lastHeard = new Map<string, number>();
  private readonly leaving = new Map<string, string>();
  /** What each peer last published (in its Lease) as the set of speakers it hears. */
  private readonly peerViews = new Map<string, ReadonlySet<string>>();

  constructor(self: string, timing: LivenessTiming) {
    this.self = self;
    this.timing = timing;
  }

  /** Records a read of `node`'s Lease (from the watch). */
  observeLease(node: string, snapshot: LeaseSnapshot, nowMs: number): void {
    const changed = this.leases.observe(node, snapshot, nowMs);
    // A renewed lease with a new holder identity means the speaker restarted: forget "leaving".
    const left = this.leaving.get(node);
    if (changed && left !== undefined && snapshot.holderIdentity !== "" && snapshot.holderIdentity !== left) {
      this.leaving.delete(node);
    }
  }

  /** Records that `node`'s Lease was deleted. */
  forgetLease(node: string): void {
    this.leases.forget(node);
    this.lastHeard.delete(node);
    this.peerViews.delete(node);
  }

  /** Records the set of speakers `node` says it hears (published with its Lease renewals). */
  observePeerView(node: string, hears: ReadonlySet<string>): void {
    this.peerViews.set(node, hears);
  }

  /** The speakers we hear now, ourselves included: what we publish for the others. */
  heardNow(nowMs: number): string[] {
    const heard = [this.self];
    for (const node of this.lastHeard.keys()) if (node !== this.self && this.recentlyHeard(node, nowMs)) heard.push(node);
    return heard.sort();
  }

  /**
   * True when a peer reports hearing a majority of the lease-live speakers without us: that peer
   * trusts its fast path, counts us dead and takes our VIPs, so we must stop announcing them. This
   * is the asymmetric cut (our heartbeats are lost but our API access works); without this check
   * both sides would answer ARP for the same VIPs until our Lease expired.
   */
  excludedByMajority(nowMs: number): string | undefined {
    const leaseLive = this.leaseLive(nowMs);
    leaseLive.add(this.self);
    for (const [peer, view] of this.peerViews) {
      if (peer === this.self || !leaseLive.has(peer) || view.has(this.self)) continue;
      let hears = 0;
      for (const node of view) if (leaseLive.has(node)) hears++;
      if (hears * 2 > leaseLive.size) {
        return `${peer} hears ${hears} of ${leaseLive.size} lease-live speakers without us`;
      }
    }
    return undefined;
  }

  /** Records a heartbeat from `node`. */
  heard(node: string, nowMs: number): void {
    this.lastHeard.set(node, nowMs);
  }

  /** Records that `node` announced a graceful shutdown under holder identity `identity`. */
  markLeaving(node: string, identity: string): void {
    this.leaving.set(node, identity);
  }

  /** Speakers whose Lease is valid (ourselves included when our Lease is). */
  leaseLive(nowMs: number): Set<string> {
    const live = new Set<string>();
    for (const node of this.knownNodes()) {
      if (!this.leases.isExpired(node, nowMs, this.timing.leaseDurationMs) && !this.isLeaving(node)) live.add(node);
    }
    return live;
  }

  /** Whether heartbeat silence may be trusted now, and the counts behind the answer. */
  fastPath(nowMs: number): FastPathState {
    const leaseLive = this.leaseLive(nowMs);
    leaseLive.add(this.self);
    let heard = 0;
    for (const node of leaseLive) if (node === this.self || this.recentlyHeard(node, nowMs)) heard++;
    if (heard * 2 > leaseLive.size) return { trusted: true, heard, leaseLive: leaseLive.size };
    return {
      trusted: false,
      heard,
      leaseLive: leaseLive.size,
      reason: `hearing ${heard} of ${leaseLive.size} lease-live speakers (counting ourselves), not a majority`,
    };
  }

  /**
   * The speakers that count as live for the election. We count ourselves as live; whether we
   * may announce at all (fencing) is decided by our own Lease renewals, not here.
   */
  liveSpeakers(nowMs: number): Set<string> {
    const live = this.leaseLive(nowMs);
    live.add(this.self);
    if (!this.fastPath(nowMs).trusted) return live;
    for (const node of live) {
      if (node !== this.self && !this.recentlyHeard(node, nowMs)) live.delete(node);
    }
    return live;
  }

  /** The earliest future time at which liveness may change without any new input, or undefined. */
  nextChangeAt(nowMs: number): number | undefined {
    let next: number | undefined;
    const consider = (t: number) => {
      if (t > nowMs && (next === undefined || t < next)) next = t;
    };
    for (const node of this.knownNodes()) {
      const changedAt = this.leases.changedAt(node);
      const snapshot = this.leases.get(node);
      if (changedAt !== undefined && snapshot) {
        consider(changedAt + (this.timing.leaseDurationMs ?? snapshot.leaseDurationSeconds * 1000));
      }
      const heardAt = this.lastHeard.get(node);
      if (heardAt !== undefined) consider(heardAt + this.timing.heartbeatTimeoutMs);
    }
    return next;
  }

  private recentlyHeard(node: string, nowMs: number): boolean {
    const at = this.lastHeard.get(node);
    return at !== undefined && nowMs - at < this.timing.heartbeatTimeoutMs;
  }

  private isLeaving(node: string): boolean {
    const identity = this.leaving.get(node);
    return identity !== undefined && this.leases.get(node)?.holderIdentity === identity;
  }

  private knownNodes(): string[] {
    return this.leases.names();
  }
}
