import type { MembershipEvidence } from "./membership-evidence.ts";

/** Timing of the fast path. `heartbeatTimeoutMs` must be at least four intervals (flags.ts checks). */
export interface MembershipTiming {
  heartbeatIntervalMs: number;
  /** A peer whose counter has not grown for this long is dead to the election. */
  heartbeatTimeoutMs: number;
  /** Our own Lease renew interval: API contact older than three of them counts as unreachable. */
  leaseRenewMs: number;
}

/** Who is alive and whether we may announce at all, at one instant. Immutable. */
export interface MembershipView {
  /** Sorted members: ourselves, every speaker whose Lease is live by our connected clock, every speaker heard of. */
  members: readonly string[];
  /** Members heard within the quorum window that also heard us within it, ourselves included. */
  connected: readonly string[];
  /** Speakers that may own VIPs: candidates heard of within the heartbeat timeout, and ourselves when a candidate. */
  live: ReadonlySet<string>;
  /** Peers that heard us directly or by relay, with the highest of our seqs they relayed (see takeover-gate.ts). */
  acks: ReadonlyMap<string, number>;
  /** Peers we hear directly, candidates or not (only they can acknowledge us). */
  direct: ReadonlySet<string>;
  /** Peers heard of only through others' relays. */
  relayedOnly: ReadonlySet<string>;
  /** True when `connected` is a strict majority of `members`, or exactly half including the lowest-named member. */
  quorum: boolean;
  /** Why we have or lack quorum, for logs. */
  quorumReason: string;
  apiReachable: boolean;
  /** How long since our last successful API call (0 while reachable). */
  apiUnreachableForMs: number;
  /** The earliest future instant at which this view changes without new input. */
  nextChangeAt: number | undefined;
}

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
 * The membership rule, a pure function of what we have recorded and the time:
 *
 * - members = ourselves ∪ speakers whose Lease is live (expiry counted only while we reach the
 *   API, so an outage freezes the set) ∪ speakers heard of within the heartbeat timeout;
 * - quorum = the members connected both ways within the quorum window (we learned a new counter of
 *   theirs, and they relayed back a heartbeat of ours sent within it; ourselves included) are a strict
 *   majority of the members, or exactly half of them including the lowest-named member (the
 *   tie-break that lets one side of an even split, and one node of a two-node cluster, go on);
 * - live = candidates heard of within the heartbeat timeout, and ourselves when a candidate.
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
  const connectedNow = ev.connectedTime(nowMs);
  const apiFrozen = nowMs > ev.lastApiContact + timing.leaseRenewMs;
  let next: number | undefined;
  const consider = (t: number) => {
    if (t > nowMs && (next === undefined || t < next)) next = t;
  };

  const members = new Set<string>([ev.self]);
  for (const [node, lease] of ev.leases) {
    if (node === ev.self || lease.holderIdentity === "") continue;
    const expiresInConnected = lease.changedAtConnected + lease.durationMs;
    if (connectedNow < expiresInConnected) {
      members.add(node);
      if (!apiFrozen) consider(nowMs + (expiresInConnected - connectedNow));
    }
  }
  const connected = new Set<string>([ev.self]);
  const live = new Set<string>();
  if (selfCandidate) live.add(ev.self);
  const acks = new Map<string, number>();
  const direct = new Set<string>();
  for (const [node, rec] of ev.peers) {
    const age = nowMs - rec.learnedAt;
    if (age < timeout) {
      members.add(node);
      consider(rec.learnedAt + timeout);
      if (rec.candidate) live.add(node);
      if (rec.ackedSeq >= 0) acks.set(node, rec.ackedSeq);
      if (rec.directAt !== undefined && nowMs - rec.directAt < timeout) {
        direct.add(node);
        consider(rec.directAt + timeout);
      }
    }
    // Connected means heard both ways: we learned its counter recently, and it relayed back one of
    // our heartbeats sent recently. A peer that does not hear us may count us dead and take our
    // VIPs, so it must not count toward our quorum.
    const ackSentAt = rec.ackedSeq >= 0 ? ev.sentAt(rec.ackedSeq) : undefined;
    if (age < window && ackSentAt !== undefined && nowMs - ackSentAt < window) {
      connected.add(node);
      consider(rec.learnedAt + window);
      consider(ackSentAt + window);
    }
  }
  const relayedOnly = new Set<string>();
  for (const [node, rec] of ev.peers) if (nowMs - rec.learnedAt < timeout && !direct.has(node)) relayedOnly.add(node);
  const sortedMembers = [...members].sort();
  const sortedConnected = [...connected].sort();
  const n = sortedMembers.length;
  const c = sortedConnected.length;
  const tieBreak = 2 * c === n && connected.has(sortedMembers[0]);
  const quorum = 2 * c > n || tieBreak;
  const quorumReason = quorum
    ? `hearing ${c} of ${n} speakers${tieBreak ? ` (half, including ${sortedMembers[0]}, the lowest-named)` : ""}`
    : `hearing ${c} of ${n} speakers, not a majority${2 * c === n ? ` (half, without ${sortedMembers[0]}, the lowest-named)` : ""}`;

  const unreachableAfter = ev.lastApiContact + 3 * timing.leaseRenewMs;
  const apiReachable = nowMs < unreachableAfter;
  if (apiReachable) consider(unreachableAfter);
  return {
    members: sortedMembers,
    connected: sortedConnected,
    live,
    acks,
    direct,
    relayedOnly,
    quorum,
    quorumReason,
    apiReachable,
    apiUnreachableForMs: apiReachable ? 0 : Number.isFinite(ev.lastApiContact) ? nowMs - ev.lastApiContact : Infinity,
    nextChangeAt: next,
  };
}
