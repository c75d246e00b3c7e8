/** What a Lease looked like when we last read it: the fields whose change proves its holder is alive. */
export interface LeaseSnapshot {
  holderIdentity: string;
  /** renewTime as the API returned it; compared as text, never against our wall clock. */
  renewTime: string;
  resourceVersion: string;
  leaseDurationSeconds: number;
}

/**
 * Judges Lease expiry by our own monotonic clock, as client-go's leader election does: a lease is
 * expired when it has not changed for `leaseDurationSeconds` since we first saw its current
 * version. Wall clocks of other nodes are never compared with ours.
 *
 * @example
 * const obs = new LeaseObserver();
 * obs.observe("node-a", snapshot, performance.now());
 * obs.isExpired("node-a", performance.now()); // false until it stops changing for its duration
 */
export class LeaseObserver {
  private readonly seen = new Map<string, { snapshot: LeaseSnapshot; changedAt: number }>();

  /** Records a read of lease `name` at monotonic time `nowMs`. Returns true when it changed. */
  observe(name: string, snapshot: LeaseSnapshot, nowMs: number): boolean {
    const prev = this.seen.get(name);
    if (
      prev &&
      prev.snapshot.holderIdentity === snapshot.holderIdentity &&
      prev.snapshot.renewTime === snapshot.renewTime &&
      prev.snapshot.resourceVersion === snapshot.resourceVersion
    ) {
      prev.snapshot = snapshot;
      return false;
    }
    this.seen.set(name, { snapshot, changedAt: nowMs });
    return true;
  }

  /** Names of every lease seen and not forgotten. */
  names(): string[] {
    return [...this.seen.keys()];
  }

  forget(name: string): void {
    this.seen.delete(name);
  }

  /** The last snapshot seen of `name`. */
  get(name: string): LeaseSnapshot | undefined {
    return this.seen.get(name)?.snapshot;
  }

  /** Monotonic time at which `name` last changed, or undefined if never seen. */
  changedAt(name: string): number | undefined {
    return this.seen.get(name)?.changedAt;
  }

  /**
   * True when the lease has no holder, or has not changed for its duration (or `overrideMs`).
   * An unseen lease counts as expired.
   */
  isExpired(name: string, nowMs: number, overrideMs?: number): boolean {
    const entry = this.seen.get(name);
    if (!entry || entry.snapshot.holderIdentity === "") return true;
    const durationMs = overrideMs ?? entry.snapshot.leaseDurationSeconds * 1000;
    return nowMs - entry.changedAt >= durationMs;
  }
}
