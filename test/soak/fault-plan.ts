/**
 * The chaos soak's choices, as a pure seeded plan: which fault comes next, on which node, for how long. Two slots
 * keep the cluster able to elect: at most one node fault (so two of the three nodes always form a majority) and at
 * most one API fault run at a time, so one or two faults are active at once. The same seed gives the same
 * sequence of choices; when they happen still depends on how fast the cluster recovers.
 *
 * @example
 * const plan = new FaultPlan(42);
 * const next = plan.next({ nodeSlotFree: true, apiSlotFree: true, remainingMs: 60_000 });
 * // [{ kind: "partition", target: "owner", durationMs: 5230 }, ...]
 */
import { seededRandom } from "../../shared/seeded-random.ts";

/** Faults that hit one node. */
export const nodeFaultKinds = ["partition", "asymmetric-cut", "speaker-kill", "link-flap", "node-crash"] as const;
/** Faults that hit the API server's reachability. */
export const apiFaultKinds = ["api-outage", "api-host-cut"] as const;

export type NodeFaultKind = (typeof nodeFaultKinds)[number];
export type ApiFaultKind = (typeof apiFaultKinds)[number];
export type FaultKind = NodeFaultKind | ApiFaultKind;

/**
 * What each kind does, and how long it lasts (ms, uniform in [min, max]):
 * - partition: the node's IP traffic to and from both peers dropped (iptables on both sides);
 * - asymmetric-cut: only the node's outbound, or only its inbound, traffic to its peers dropped;
 * - speaker-kill: kill -9 of the node's speaker, restarted after the duration;
 * - link-flap: the node's LAN link down for the duration (its speaker keeps running);
 * - node-crash: kill -9 of the speaker and the link down; link up and speaker restarted after the duration;
 * - api-outage: the API server unreachable for the controller and every speaker;
 * - api-host-cut: the API host (infra namespace, where the controller runs) cut from every node.
 */
export const durations: Record<FaultKind, { minMs: number; maxMs: number }> = {
  partition: { minMs: 2_000, maxMs: 12_000 },
  "asymmetric-cut": { minMs: 2_000, maxMs: 12_000 },
  "speaker-kill": { minMs: 1_000, maxMs: 8_000 },
  "link-flap": { minMs: 500, maxMs: 6_000 },
  "node-crash": { minMs: 1_000, maxMs: 8_000 },
  "api-outage": { minMs: 3_000, maxMs: 25_000 },
  "api-host-cut": { minMs: 3_000, maxMs: 20_000 },
};

/** A node fault to inject: on the node announcing the VIP, or on the `peer`-th other node (0 or 1). */
export interface PlannedNodeFault {
  kind: NodeFaultKind;
  target: "owner" | { peer: number };
  /** For asymmetric-cut: which direction of the node's traffic is lost. */
  direction?: "outbound" | "inbound";
  durationMs: number;
}

export interface PlannedApiFault {
  kind: ApiFaultKind;
  durationMs: number;
}

export type PlannedFault = PlannedNodeFault | PlannedApiFault;

/** The free slots and time left when the plan is asked. */
export interface PlanState {
  nodeSlotFree: boolean;
  apiSlotFree: boolean;
  remainingMs: number;
}


/** The seeded sequence of fault choices. */
export class FaultPlan {
  readonly #random: () => number;

  constructor(seed: number) {
    this.#random = seededRandom(seed);
  }

  /** Pause before the next decision: 0.5–3 s. */
  gapMs(): number {
    return Math.round(500 + this.#random() * 2_500);
  }

  /**
   * The faults to start now (none, one or two), within the free slots and the time left: a node fault with
   * probability 1/2 when its slot is free (on the owner half of the time), an API fault with probability 3/10.
   * A fault is cut to end 1 s before the time runs out, and left out when even its minimum would not fit.
   */
  next(state: PlanState): PlannedFault[] {
    // Every decision draws the same numbers, used or not, so the k-th decision depends on the seed alone.
    const r = Array.from({ length: 9 }, () => this.#random());
    const out: PlannedFault[] = [];
    if (state.nodeSlotFree && r[0] < 0.5) {
      const kind = nodeFaultKinds[Math.floor(r[1] * nodeFaultKinds.length)];
      const target = r[2] < 0.5 ? "owner" : { peer: r[3] < 0.5 ? 0 : 1 };
      const direction = r[4] < 0.5 ? "outbound" : "inbound";
      const durationMs = duration(kind, r[5], state.remainingMs);
      if (durationMs !== undefined) out.push({ kind, target, ...(kind === "asymmetric-cut" ? { direction } : {}), durationMs });
    }
    if (state.apiSlotFree && r[6] < 0.3) {
      const kind = r[7] < 0.65 ? "api-outage" : "api-host-cut";
      const durationMs = duration(kind, r[8], state.remainingMs);
      if (durationMs !== undefined) out.push({ kind, durationMs });
    }
    return out;
  }
}

/** A duration for `kind` from the uniform draw `u`, cut to end 1 s before `remainingMs`; undefined if even the minimum would not fit. */
function duration(kind: FaultKind, u: number, remainingMs: number): number | undefined {
  const { minMs, maxMs } = durations[kind];
  const room = remainingMs - 1_000;
  if (room < minMs) return undefined;
  return Math.min(Math.round(minMs + u * (maxMs - minMs)), room);
}

/** Whether a planned fault hits one node. */
export function isNodeFault(f: PlannedFault): f is PlannedNodeFault {
  return (nodeFaultKinds as readonly string[]).includes(f.kind);
}
