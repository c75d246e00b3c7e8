/**
 * What this speaker knows about its peers: the inputs of {@link viewMembership}, recorded as they
 * arrive, and nothing decided here.
 *
 * - **Heartbeat counters** (the fast path): every speaker process has an incarnation (`startedAt`,
 *   its wall-clock start, which orders the processes of one node) and a heartbeat `seq` that grows
 *   with every datagram. A speaker relays in each heartbeat the newest (incarnation, seq) it knows
 *   of every peer. A peer is fresh while we learned a newer counter of it recently, by our own
 *   monotonic clock. Counters cannot be inflated by relaying: a dead speaker's counter stops
 *   growing everywhere, so every speaker sees it go stale within the timeout plus the relay delay.
 *   Relaying keeps speakers that do not hear each other directly (a non-transitive cut) agreeing
 *   on who is alive.
 * - **Acknowledgements**: a peer that relays our own counter has heard us; see takeover-gate.ts.
 * - **Leases** (membership): a node with a speaker Lease is a member, however old the Lease and
 *   even once released; only a deleted Lease takes it out (see membership-view.ts for why silence
 *   must not). Lease age is judged on a clock that only runs while we reach the API server (our own
 *   Lease renewals succeed), so an API outage does not make every Lease look stale; it only says
 *   which members are silent, for operators.
 * - **Leaving**: a speaker that says it is leaving is dead at once and no longer connected, and
 *   nothing relayed about that incarnation revives it (nor do we relay it on).
 *
 * @example
 * const ev = new MembershipEvidence("node-a");
 * ev.heartbeat({ node: "node-b", startedAt: 1, seq: 9, candidate: true, leaving: false, hears: [] }, now);
 * viewMembership(ev, { now, selfCandidate: true, timing });
 */

/** One relayed counter: the newest heartbeat of `node` the sender knows of, and how long ago it learned it. */
export interface RelayedCounter {
  node: string;
  startedAt: number;
  seq: number;
  candidate: boolean;
  /** Milliseconds between the sender learning this counter and sending it (sender's monotonic clock). */
  ageMs: number;
}

/** The fields of an authenticated heartbeat that membership uses. */
export interface HeartbeatEvidence {
  node: string;
  startedAt: number;
  seq: number;
  candidate: boolean;
  leaving: boolean;
  hears: readonly RelayedCounter[];
}

/** What we know of one peer. */
export interface PeerRecord {
  /** Newest incarnation and counter known (directly or relayed). */
  startedAt: number;
  seq: number;
  /** Monotonic time at which the counter last grew. */
  learnedAt: number;
  /** Monotonic time of the last heartbeat received from the peer itself. */
  directAt: number | undefined;
  candidate: boolean;
  /** Highest seq of OUR current incarnation that this peer relayed back (it heard us). */
  ackedSeq: number;
  /** When each new highest `ackedSeq` that showed us as a candidate arrived (monotonic time), oldest first, for 10 s. */
  ackLog: { seq: number; at: number }[];
  /** Incarnations up to this one announced they were leaving. */
  leftStartedAt: number;
}

/** A Lease as membership sees it. */
export interface LeaseEvidence {
  holderIdentity: string;
  /** Changes whenever the holder renews. */
  version: string;
  durationMs: number;
  /** API-connected time (see {@link MembershipEvidence.connectedTime}) at which `version` was first seen. */
  changedAtConnected: number;
}

/**
 * Acknowledgements kept per peer: those that arrived within the last 10 s (far more than a
 * heartbeat timeout), and never more than our own sends remembered (see {@link MembershipEvidence.sent}).
 */
const ackLogMs = 10_000;
const maxAckLog = 256;

export class MembershipEvidence {
  readonly self: string;
  /** Our own incarnation, relayed back by peers that hear us. */
  selfStartedAt = 0;
  readonly peers = new Map<string, PeerRecord>();
  readonly leases = new Map<string, LeaseEvidence>();
  /** Monotonic time of our last successful contact with the API server (own Lease renewal). */
  lastApiContact = -Infinity;
  /** Monotonic time at which API contact was first lost, or undefined while it is not. */
  private connectedBase = 0;
  private readonly renewIntervalMs: number;
  /** The first seq of our current run of heartbeats that said "candidate" (Infinity outside one). */
  private candidateRunSeq = 0;
  /** Our recent heartbeats: seq and the monotonic time it was sent, oldest first. */
  private readonly sentLog: { seq: number; at: number }[] = [];

  constructor(self: string, renewIntervalMs = 1000) {
    this.self = self;
    this.renewIntervalMs = renewIntervalMs;
  }

  /**
   * Time that runs only while we reach the API server: it follows the monotonic clock up to one
   * renew interval after our last successful contact and stands still after that. Whether a
   * Lease is still being renewed is judged on it (`silentMembers` in membership-view.ts).
   */
  connectedTime(nowMs: number): number {
    return Math.min(nowMs, this.lastApiContact + this.renewIntervalMs) - this.connectedBase;
  }

  /** Records a successful API call of ours (a Lease renewal) at `nowMs`. */
  apiContact(nowMs: number): void {
    // Time spent unreachable is removed from connected time, so expiry resumes where it stopped.
    const frozenAt = this.lastApiContact + this.renewIntervalMs;
    if (Number.isFinite(frozenAt) && nowMs > frozenAt) this.connectedBase += nowMs - frozenAt;
    this.lastApiContact = nowMs;
  }

  /** Records a read of `node`'s speaker Lease (from the watch). */
  lease(node: string, holderIdentity: string, version: string, durationMs: number, nowMs: number): void {
    // A Lease read from the API is itself contact with the API.
    if (nowMs > this.lastApiContact) this.apiContact(nowMs);
    const prev = this.leases.get(node);
    if (prev && prev.version === version && prev.holderIdentity === holderIdentity) return;
    this.leases.set(node, { holderIdentity, version, durationMs, changedAtConnected: this.connectedTime(nowMs) });
  }

  /** Records that `node`'s Lease was deleted. */
  leaseGone(node: string): void {
    this.leases.delete(node);
  }

  /** Records an authenticated heartbeat received at `nowMs`. */
  heartbeat(hb: HeartbeatEvidence, nowMs: number): void {
    if (hb.node === this.self) return;
    const rec = this.record(hb.node);
    // A datagram of an incarnation older than one we know (a late one from before a restart) says
    // nothing about the running process: it must not count as its heartbeat nor as its
    // acknowledgement of ours.
    if (hb.startedAt <= rec.leftStartedAt || hb.startedAt < rec.startedAt) return;
    if (hb.leaving) {
      rec.leftStartedAt = Math.max(rec.leftStartedAt, hb.startedAt);
      rec.candidate = false;
      rec.directAt = undefined;
      return;
    }
    const reordered = hb.startedAt === rec.startedAt && hb.seq < rec.seq;
    this.learn(rec, hb.startedAt, hb.seq, hb.candidate, nowMs);
    rec.directAt = nowMs;
    if (!reordered) rec.candidate = hb.candidate;
    for (const relayed of hb.hears) {
      if (relayed.node === this.self) {
        if (relayed.startedAt === this.selfStartedAt && relayed.seq > rec.ackedSeq) {
          rec.ackedSeq = relayed.seq;
          // The log is for the settled quorum, which is about peers that count us live: only
          // counters they know as a candidate's count.
          if (relayed.candidate && relayed.seq >= this.candidateRunSeq) rec.ackLog.push({ seq: relayed.seq, at: nowMs });
          const keepAfter = nowMs - ackLogMs;
          let drop = 0;
          while (drop < rec.ackLog.length - 1 && (rec.ackLog[drop + 1].at <= keepAfter || rec.ackLog.length - drop > maxAckLog)) drop++;
          if (drop > 0) rec.ackLog.splice(0, drop);
        }
        continue;
      }
      if (relayed.node === hb.node) continue;
      const other = this.record(relayed.node);
      if (relayed.startedAt <= other.leftStartedAt) continue;
      this.learn(other, relayed.startedAt, relayed.seq, relayed.candidate, nowMs - Math.max(0, relayed.ageMs));
    }
  }

  /** Records that our heartbeat `seq` went out at `nowMs`. */
  sent(seq: number, nowMs: number, candidate = true): void {
    // Acknowledgements count us as a candidate only for the current run of heartbeats that said so:
    // once we said we are not (quorum lost), a peer may have taken our VIPs, and its earlier
    // acknowledgements prove nothing about now.
    if (!candidate) {
      this.candidateRunSeq = Infinity;
      for (const rec of this.peers.values()) rec.ackLog = [];
    } else if (this.candidateRunSeq === Infinity) this.candidateRunSeq = seq;
    this.sentLog.push({ seq, at: nowMs });
    if (this.sentLog.length > 256) this.sentLog.splice(0, this.sentLog.length - 256);
  }

  /** When our heartbeat `seq` went out, if it is still remembered. */
  sentAt(seq: number): number | undefined {
    for (let i = this.sentLog.length - 1; i >= 0; i--) {
      if (this.sentLog[i].seq <= seq) return this.sentLog[i].seq === seq ? this.sentLog[i].at : undefined;
    }
    return undefined;
  }

  /** Forgets peers that are neither members by Lease nor heard of for `afterMs`. */
  prune(nowMs: number, afterMs: number): void {
    for (const [node, rec] of this.peers) {
      if (!this.leases.has(node) && nowMs - rec.learnedAt > afterMs) this.peers.delete(node);
    }
  }

  private record(node: string): PeerRecord {
    let rec = this.peers.get(node);
    if (!rec) {
      rec = { startedAt: -Infinity, seq: -1, learnedAt: -Infinity, directAt: undefined, candidate: false, ackedSeq: -1, ackLog: [], leftStartedAt: -Infinity };
      this.peers.set(node, rec);
    }
    return rec;
  }

  /**
   * Takes a counter newer than the one we hold. `learnedAt` is when it was first learned by
   * whoever saw the datagram itself (a relay's age carried along), never later: a counter that
   * was stale where it came from stays stale here, so a speaker that reconnects to a relay does
   * not take old news for fresh.
   */
  private learn(rec: PeerRecord, startedAt: number, seq: number, candidate: boolean, learnedAt: number): void {
    if (startedAt > rec.startedAt) {
      rec.startedAt = startedAt;
      rec.seq = seq;
      rec.learnedAt = learnedAt;
      rec.candidate = candidate;
      // A new process: what we heard from or about the old one is not about it.
      rec.directAt = undefined;
      rec.ackedSeq = -1;
      rec.ackLog = [];
    } else if (startedAt === rec.startedAt && seq > rec.seq) {
      rec.seq = seq;
      rec.learnedAt = Math.max(rec.learnedAt, learnedAt);
      rec.candidate = candidate;
    }
  }

  /** The counters we relay in our next heartbeat: every peer heard of within `withinMs`. */
  relayed(nowMs: number, withinMs: number): RelayedCounter[] {
    const out: RelayedCounter[] = [];
    for (const [node, rec] of this.peers) {
      const age = nowMs - rec.learnedAt;
      if (age < withinMs && rec.seq >= 0 && rec.leftStartedAt < rec.startedAt) out.push({ node, startedAt: rec.startedAt, seq: rec.seq, candidate: rec.candidate, ageMs: Math.round(age) });
    }
    return out;
  }
}
