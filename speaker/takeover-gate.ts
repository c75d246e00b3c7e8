import type { MembershipView } from "./membership-view.ts";

/** What the gate remembers between decisions. Immutable: each step returns a new one. */
export interface GateState {
  /** IPs announced now. */
  announced: ReadonlySet<string>;
  /** IPs we own but hold back until the peers acknowledged us: since when, and which of our seqs they must relay. */
  pending: ReadonlyMap<string, { since: number; needSeq: number }>;
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
  /** How long to hold an IP when some live peer is known only by relay and cannot acknowledge us directly. */
  relayWaitMs: number;
}

/**
 * Orders a handover so the old owner is quiet before the new one speaks. Losing an IP takes
 * effect at once. Gaining one takes effect at once only when the previous owner is dead in our
 * view while we had quorum (a crash, a partition's minority, or a "leaving" heartbeat: the old owner
 * is already silent). Any other gain (a speaker joining or coming back, quorum regained, a new
 * Service, a changed endpoint) waits until every live peer we hear has relayed back a heartbeat of
 * ours sent after the gain: by then it counts us live and has recomputed, so whoever held the IP
 * has let it go. Peers known only by relay add a fixed wait.
 *
 * @example
 * const { state, announce } = gateTakeovers(emptyGate, { desired, owners, view, self: "n1", nowMs, nextSeq, relayWaitMs: 300 });
 */
export function gateTakeovers(state: GateState, input: GateInput): { state: GateState; announce: ReadonlySet<string>; nextCheckAt: number | undefined } {
  const { desired, owners, view, self, nowMs, nextSeq } = input;
  const announced = new Set<string>();
  const pending = new Map<string, { since: number; needSeq: number }>();
  const relayOnly = view.relayedOnly.size > 0;
  let nextCheckAt: number | undefined;
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
      const ownerGone = prev !== undefined && prev.quorum && prevOwner !== undefined && prevOwner !== self && !view.live.has(prevOwner);
      if (ownerGone) {
        announced.add(ip);
        continue;
      }
      hold = { since: nowMs, needSeq: nextSeq };
    }
    const waitedEnough = !relayOnly || nowMs >= hold.since + input.relayWaitMs;
    if (waitedEnough && acked(hold.needSeq)) {
      announced.add(ip);
      continue;
    }
    pending.set(ip, hold);
    if (!waitedEnough) {
      const t = hold.since + input.relayWaitMs;
      if (nextCheckAt === undefined || t < nextCheckAt) nextCheckAt = t;
    }
  }
  return { state: { announced, pending, previous: { quorum: view.quorum, owners } }, announce: announced, nextCheckAt };
}
