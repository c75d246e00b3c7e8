import type { MembershipEvidence } from "./membership-evidence.ts";

/** Timing of the fast path. `heartbeatTimeoutMs` must be at least four intervals (speaker/flags.ts checks). */
export interface MembershipTiming {
  heartbeatIntervalMs: number;
  /** A peer whose counter has not grown for this long is dead to the election. */
  heartbeatTimeoutMs: number;
  /** Our own Lease renew interval: API contact older than three of them counts as unreachable. */
  leaseRenewMs: number;
}

/** Who is alive and whether we may announce at all, at one instant. Immutable. */
export interface MembershipView {
  /** Sorted members: ourselves, every speaker with a Lease (whatever its age or holder), every speaker heard of. */
  members: readonly string[];
  /** Members heard within the quorum window that also heard us within it, ourselves included. */
  connected: readonly string[];
  /** Speakers that may own VIPs: candidates heard of within the heartbeat timeout, and ourselves when a candidate. */
  live: ReadonlySet<string>;
  /** Peers that heard us directly or by relay, with the highest of our seqs they relayed (see takeover-gate.ts). */
  acks: ReadonlyMap<string, number>;
  /**
   * Peers whose newest acknowledgement showed us as a candidate, of a heartbeat sent within the
   * timeout: they count us live.
   */
  countUsLive: ReadonlySet<string>;
  /** Peers we hear directly, candidates or not (only they can acknowledge us). */
  direct: ReadonlySet<string>;
  /** Peers heard of only through others' relays. */
  relayedOnly: ReadonlySet<string>;
  /** True when `connected` is a strict majority of `members`, or exactly half including the lowest-named member. */
  quorum: boolean;
  /** Why we have or lack quorum, for logs. */
  quorumReason: string;
  /**
   * The instant at which `quorum` lapses if no new heartbeat arrives: while it holds, the minority side of
   * any partition we could be on has not yet been taken over (the others wait two intervals longer), so
   * answering for VIPs up to here is safe whatever the event loop does meanwhile (speaker/l2/announcer.ts,
   * `answerUntil`). Infinity when we hold quorum alone (a one-node cluster); -Infinity without quorum.
   */
  quorumUntil: number;
  /**
   * Members that count only by their Lease: not heard of within the heartbeat timeout, and their
   * Lease released or not renewed for its duration (by our API-connected clock). They still count
   * against our quorum; a node that is gone for good leaves the membership when its Lease is deleted.
   */
  silentMembers: readonly string[];
  /** Members whose own heartbeat reached us within the last heartbeat interval, ourselves included. */
  recent: ReadonlySet<string>;
  /**
   * True when `recent` is a quorum of `members` by the same rule as `quorum`, and every member not
   * heard of within the timeout was already silent that long before the oldest of those heartbeats
   * went out. Then each such member had lost its quorum by then and has not been live to us since
   * (see {@link viewMembership}): it announces nothing it did not take back through the takeover gate.
   */
  recentQuorum: boolean;
  /**
   * Peers that have relayed our counter, as a candidate's, in every heartbeat they sent for a whole
   * quorum window (an acknowledgement that arrived a window ago, of a heartbeat of ours sent within
   * the timeout) and that we heard within the last interval.
   */
  settled: ReadonlySet<string>;
  /**
   * True when `settled` is a quorum of `members`: then every speaker that has quorum counts us live,
   * since its quorum shares a member with ours that told it about us (see {@link viewMembership}).
   */
  settledQuorum: boolean;
  apiReachable: boolean;
  /** How long since our last successful API call (0 while reachable). */
  apiUnreachableForMs: number;
  /** The earliest future instant at which this view changes without new input. */
  nextChangeAt: number | undefined;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The quorum window: a speaker that has not heard from a majority for this long stops
 * announcing. It is two heartbeat intervals shorter than the heartbeat timeout after which the
 * majority takes over its VIPs, so the minority side of a partition is quiet before the majority
 * side starts (see README, "How failover works").
 */
export function quorumWindowMs(t: MembershipTiming): number {
  return t.heartbeatTimeoutMs - 2 * t.heartbeatIntervalMs;
}

/**
 * The membership rule, a pure function of what we have recorded and the time. It assumes that a
 * heartbeat's one-way delay plus the receiver's event-loop lag stay below one heartbeat interval.
 *
 * - members = ourselves ∪ every speaker with a Lease ∪ speakers heard of within the heartbeat
 *   timeout. A Lease counts however long ago it was renewed and even once released: only its
 *   deletion (the node is gone for good) takes the node out. Membership that shrank by silence
 *   would be unsafe: a speaker cut off from its peers but not from the API server would see their
 *   Leases expire and, alone, make up a majority of what is left, while they (a real majority,
 *   perhaps cut off from the API server) go on announcing. Shrinking on a release is unsafe too: a
 *   speaker that saw the release and then got cut off keeps its smaller membership when the
 *   released node comes back and forms a majority with the others.
 * - quorum = the members connected both ways within the quorum window (we learned a new counter of
 *   theirs, and they relayed back a heartbeat of ours sent within it; ourselves included; never a
 *   speaker that said it is leaving) are a strict majority of the members, or exactly half of them
 *   including the lowest-named member (the tie-break that lets one side of an even split, and one
 *   node of a two-node cluster, go on). Since every speaker counts the same members, two quorums
 *   always share a speaker.
 * - live = candidates heard of within the heartbeat timeout, and ourselves when a candidate.
 * - recentQuorum = the members whose own heartbeat reached us within the last interval, ourselves
 *   included, are a quorum, and every member not heard of within the timeout was silent to us that
 *   long already one interval before the oldest of those heartbeats arrived. Each such heartbeat,
 *   sent at most a delay earlier, carried the newest counter its sender knew of every peer. So a
 *   silent member had had no acknowledgement from any of those members for a whole quorum window
 *   at one common instant (the timeout is two intervals longer than the window, and those
 *   heartbeats went out less than two intervals apart): it had lost its quorum then, and it has
 *   not been live to us since, so it has not taken anything back. The takeover gate needs this
 *   before any gain: a peer's silence seen only through a relay that has since gone quiet proves
 *   nothing, because the relay may have heard the peer again since.
 * - settledQuorum = the peers that acknowledged a heartbeat of ours sent within the timeout, and
 *   knew us as a candidate, already a quorum window ago, and that we heard within the last
 *   interval, are a quorum by themselves. Each of them has relayed our counter, fresh and as a
 *   candidate's, in every heartbeat it sent for the last quorum window (and has not restarted
 *   since, which takes longer than an interval). Any speaker with quorum heard one of them within
 *   that window, so it counts us live. The takeover gate uses this when it cannot ask every live
 *   peer directly. (We do not count ourselves: a peer connected to us may not yet have heard that
 *   we became a candidate.)
 *
 * @example
 * viewMembership(evidence, { nowMs: performance.now(), selfCandidate: true, timing: { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600, leaseRenewMs: 1000 } });
 */
export function viewMembership(
  ev: Readonly<MembershipEvidence>,
  input: { nowMs: number; selfCandidate: boolean; timing: MembershipTiming },
): MembershipView {
  const { nowMs, selfCandidate, timing } = input;
  const timeout = timing.heartbeatTimeoutMs;
  const window = quorumWindowMs(timing);
  // How recent a heartbeat must be for recentQuorum: the two intervals by which the timeout exceeds
  // the window, less the one interval a delay plus our lag may take (so one interval).
  const recentMs = timeout - window - timing.heartbeatIntervalMs;
  let next: number | undefined;
  const consider = (t: number) => {
    if (t > nowMs && (next === undefined || t < next)) next = t;
  };

  const members = new Set<string>([ev.self]);
  for (const node of ev.leases.keys()) members.add(node);
  const connected = new Set<string>([ev.self]);
  /** When each connected peer stops being connected, absent new heartbeats. */
  const connectedUntil = new Map<string, number>();
  const recent = new Set<string>([ev.self]);
  const live = new Set<string>();
  if (selfCandidate) live.add(ev.self);
  const acks = new Map<string, number>();
  const countUsLive = new Set<string>();
  const direct = new Set<string>();
  const relayedOnly = new Set<string>();
  const settled = new Set<string>();
  let oldestRecent = nowMs;
  for (const [node, rec] of ev.peers) {
    const age = nowMs - rec.learnedAt;
    const left = rec.leftStartedAt >= rec.startedAt;
    if (age < timeout) {
      members.add(node);
      consider(rec.learnedAt + timeout);
      if (rec.candidate) live.add(node);
      if (rec.ackedSeq >= 0) acks.set(node, rec.ackedSeq);
      if (rec.directAt !== undefined && nowMs - rec.directAt < timeout) {
        direct.add(node);
        consider(rec.directAt + timeout);
      } else relayedOnly.add(node);
    }
    // Connected means heard both ways: we learned its counter recently, and it relayed back one of
    // our heartbeats sent recently. A peer that does not hear us may count us dead and take our
    // VIPs, so it must not count toward our quorum. Nor does a peer that said it is leaving: it
    // hears nobody any more.
    const ackSentAt = rec.ackedSeq >= 0 ? ev.sentAt(rec.ackedSeq) : undefined;
    if (!left && age < window && ackSentAt !== undefined && nowMs - ackSentAt < window) {
      connected.add(node);
      connectedUntil.set(node, Math.min(rec.learnedAt, ackSentAt) + window);
      consider(rec.learnedAt + window);
      consider(ackSentAt + window);
    }
    // It counts us live when its newest acknowledgement showed us as a candidate (only such
    // acknowledgements are logged) and is of a heartbeat sent within the timeout.
    const lastAck = rec.ackLog.length > 0 ? rec.ackLog[rec.ackLog.length - 1] : undefined;
    if (lastAck !== undefined && lastAck.seq === rec.ackedSeq && ackSentAt !== undefined && nowMs - ackSentAt < timeout) {
      countUsLive.add(node);
      consider(ackSentAt + timeout);
    }
    if (left || rec.directAt === undefined || nowMs - rec.directAt >= recentMs) continue;
    recent.add(node);
    consider(rec.directAt + recentMs);
    if (rec.directAt < oldestRecent) oldestRecent = rec.directAt;
    // Settled: an acknowledgement of us as a candidate that arrived a window ago, of a heartbeat
    // sent within the timeout.
    let settledBy: { seq: number; at: number } | undefined;
    for (let i = rec.ackLog.length - 1; i >= 0; i--) {
      const a = rec.ackLog[i];
      if (a.at > nowMs - window) consider(a.at + window);
      else {
        settledBy = a;
        break;
      }
    }
    const settledSentAt = settledBy ? ev.sentAt(settledBy.seq) : undefined;
    if (settledSentAt !== undefined && nowMs - settledSentAt < timeout) {
      settled.add(node);
      consider(settledSentAt + timeout);
    }
  }

  // recentQuorum: the oldest recent heartbeat went out at most a delay (under an interval) before
  // it arrived; every member silent for a timeout must have been silent that long before then.
  const silentSince = oldestRecent - timing.heartbeatIntervalMs - timeout;
  let silentEnough = true;
  const connectedNow = ev.connectedTime(nowMs);
  const apiFrozen = nowMs > ev.lastApiContact + timing.leaseRenewMs;
  const silentMembers: string[] = [];
  for (const node of members) {
    if (node === ev.self) continue;
    const rec = ev.peers.get(node);
    if (rec && nowMs - rec.learnedAt < timeout) continue;
    // A speaker that said it is leaving had stopped announcing first.
    if (rec && rec.leftStartedAt < rec.startedAt && rec.learnedAt > silentSince) silentEnough = false;
    const lease = ev.leases.get(node);
    if (!lease) continue;
    const expiresAt = lease.changedAtConnected + lease.durationMs;
    if (lease.holderIdentity === "" || connectedNow >= expiresAt) silentMembers.push(node);
    else if (!apiFrozen) consider(nowMs + (expiresAt - connectedNow));
  }
  const sortedMembers = [...members].sort(byName);
  const lowest = sortedMembers[0];
  const n = sortedMembers.length;
  const isQuorum = (set: ReadonlySet<string>) => 2 * set.size > n || (2 * set.size === n && set.has(lowest));
  const sortedConnected = [...connected].sort(byName);
  const c = sortedConnected.length;
  const quorum = isQuorum(connected);
  const quorumUntil = quorum ? lapseOf(connected, connectedUntil, isQuorum) : -Infinity;
  const tieBreak = quorum && 2 * c === n;
  const quorumReason = quorum
    ? `hearing ${c} of ${n} speakers${tieBreak ? ` (half, including ${lowest}, the lowest-named)` : ""}`
    : `hearing ${c} of ${n} speakers, not a majority${2 * c === n ? ` (half, without ${lowest}, the lowest-named)` : ""}`;

  const unreachableAfter = ev.lastApiContact + 3 * timing.leaseRenewMs;
  const apiReachable = nowMs < unreachableAfter;
  if (apiReachable) consider(unreachableAfter);
  return {
    members: sortedMembers,
    connected: sortedConnected,
    live,
    acks,
    countUsLive,
    direct,
    relayedOnly,
    quorum,
    quorumReason,
    quorumUntil,
    silentMembers: silentMembers.sort(byName),
    recent,
    recentQuorum: isQuorum(recent) && silentEnough,
    settled,
    settledQuorum: isQuorum(settled),
    apiReachable,
    apiUnreachableForMs: apiReachable ? 0 : Number.isFinite(ev.lastApiContact) ? nowMs - ev.lastApiContact : Infinity,
    nextChangeAt: next,
  };
}

/**
 * When a quorum of `connected` lapses as its peers' evidence ages out (`until`: the instant each peer stops
 * being connected). Members are taken as they are now: the few that would leave by silence meanwhile only
 * make quorum easier, so the answer errs early.
 */
function lapseOf(connected: ReadonlySet<string>, until: ReadonlyMap<string, number>, isQuorum: (set: ReadonlySet<string>) => boolean): number {
  // Which peer lapses first matters through the tie-break (the lowest-named member): drop the peers in
  // expiry order and test the set left each time.
  const left = new Set(connected);
  for (const [node, at] of [...until].sort((a, b) => a[1] - b[1])) {
    left.delete(node);
    if (!isQuorum(left)) return at;
  }
  return Infinity;
}
