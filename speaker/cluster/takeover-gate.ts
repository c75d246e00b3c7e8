import type { MembershipView } from "./membership-view.ts";

/** An IP we own but hold back. */
export interface PendingGain {
  /** When we first owned it. */
  since: number;
  /** The seq of ours every direct peer must relay back before we announce it. */
  needSeq: number;
  /** Its previous owner died while we had quorum: no acknowledgements needed, only a recent quorum. */
  ownerGone?: boolean;
}

/** What the gate remembers between decisions. Immutable: each step returns a new one. */
export interface GateState {
  /** IPs announced now. */
  announced: ReadonlySet<string>;
  /** IPs we own but hold back until the peers acknowledged us. */
  pending: ReadonlyMap<string, PendingGain>;
  /** The previous decision: did we have quorum, and who owned each IP. */
  previous: { quorum: boolean; owners: ReadonlyMap<string, string | undefined> } | undefined;
}

export const emptyGate: GateState = { announced: new Set(), pending: new Map(), previous: undefined };

export interface GateInput {
  /** IPs the election gives us now. */
  desired: ReadonlySet<string>;
  /** The election's owner of every IP in our view now. */
  owners: ReadonlyMap<string, string | undefined>;
  view: MembershipView;
  self: string;
  nowMs: number;
  /** The seq our next heartbeat will carry. */
  nextSeq: number;
}

/**
 * Orders a handover so the old owner is quiet before the new one speaks. Losing an IP takes
 * effect at once. A gain takes effect only at a decision with a recent quorum
 * ({@link MembershipView.recentQuorum}): then no speaker we count dead can still be announcing.
 * A live speaker may still hold the IP, or take it as we do, while it does not count us live (we
 * just became a candidate, or came back): it ranks below us, so once it counts us live it leaves
 * the IP to us. So a gain also waits for one of:
 *
 * - every live peer acknowledged a heartbeat of ours that showed us as a candidate
 *   ({@link MembershipView.countUsLive}), and each relayed back one sent after the gain, or the
 *   previous owner died while we had quorum (a crash, a partition's minority, a "leaving"
 *   heartbeat; then the takeover is as fast as the acknowledgements that flow anyway);
 * - a settled quorum ({@link MembershipView.settledQuorum}): every speaker with quorum counts us
 *   live, which also covers peers we know only by relay (they cannot acknowledge us directly).
 *
 * @example
 * const { state, announce } = gateTakeovers(emptyGate, { desired, owners, view, self: "n1", nowMs, nextSeq });
 */
export function gateTakeovers(state: GateState, input: GateInput): { state: GateState; announce: ReadonlySet<string>; nextCheckAt: number | undefined } {
  const { desired, owners, view, self, nowMs, nextSeq } = input;
  if (announcesExactly(state, desired)) {
    // Nothing to gate (the usual decision, ten a second with thousands of IPs): the same set, no copy.
    const previous = state.previous?.quorum === view.quorum && state.previous.owners === owners ? state.previous : { quorum: view.quorum, owners };
    const same = previous === state.previous ? state : { announced: state.announced, pending: state.pending, previous };
    return { state: same, announce: state.announced, nextCheckAt: undefined };
  }
  const announced = new Set<string>();
  const pending = new Map<string, PendingGain>();
  // Every live peer counts us live: it heard a heartbeat of ours as a candidate's, recently.
  const liveCountUs = [...view.live].every((node) => node === self || view.countUsLive.has(node));
  const acked = (needSeq: number) => [...view.direct].every((peer) => (view.acks.get(peer) ?? -1) >= needSeq);
  for (const ip of desired) {
    if (state.announced.has(ip)) {
      announced.add(ip);
      continue;
    }
    let hold = state.pending.get(ip);
    if (!hold) {
      const prev = state.previous;
      const prevOwner = prev?.owners.get(ip);
      const ownerGone = prev !== undefined && prev.quorum && view.quorum && prevOwner !== undefined && prevOwner !== self && !view.live.has(prevOwner);
      hold = ownerGone ? { since: nowMs, needSeq: nextSeq, ownerGone } : { since: nowMs, needSeq: nextSeq };
    }
    const noLiveHolder = view.settledQuorum || (liveCountUs && (hold.ownerGone === true || acked(hold.needSeq)));
    if (view.recentQuorum && noLiveHolder) announced.add(ip);
    else pending.set(ip, hold);
  }
  // Every condition above changes with the view, whose nextChangeAt already names the deadline.
  return { state: { announced, pending, previous: { quorum: view.quorum, owners } }, announce: announced, nextCheckAt: undefined };
}

/** Whether `desired` is exactly what `state` announces, with nothing held back. */
function announcesExactly(state: GateState, desired: ReadonlySet<string>): boolean {
  if (state.pending.size > 0 || desired.size !== state.announced.size) return false;
  if (desired === state.announced) return true;
  for (const ip of desired) if (!state.announced.has(ip)) return false;
  return true;
}
