import { planAnnouncements, type AnnouncedService, type IpPlan } from "./announce-plan.ts";
import type { NodeInfo } from "./election.ts";
import type { MembershipView } from "./membership-view.ts";

/** The cluster as the informers last showed it: only the fields the election reads. Immutable. */
export interface SpeakerSnapshot {
  /** Our Services with their assigned IPs inside the pools in force, and their endpoints. */
  services: readonly AnnouncedService[];
  nodes: readonly NodeInfo[];
  /** Nodes refused by the strictARP check (`--strict-arp=refuse`), from their Leases and our own check. */
  strictArpRefused: ReadonlySet<string>;
}

/** What this node should announce, and why for every IP. */
export interface DesiredAnnouncements {
  /** IPs this node should announce now (before the takeover gate). */
  owned: ReadonlySet<string>;
  /** The election's owner of every IP in our view (whether or not we may announce). */
  owners: ReadonlyMap<string, string | undefined>;
  plans: ReadonlyMap<string, IpPlan>;
  /** One line per IP: "owner node-2", "nobody: no ready endpoints", "not announcing: hearing 1 of 3 …". */
  reasons: ReadonlyMap<string, string>;
}

/**
 * Decides which VIPs `self` announces: the MetalLB election over the live speakers, and nothing
 * at all without quorum or before we are a candidate. Pure: the same inputs give the same answer
 * on every node, which is what keeps two nodes from announcing one IP.
 *
 * @example
 * desiredAnnouncements(snapshot, viewMembership(evidence, { nowMs, selfCandidate: true, timing }), "node-1", { ignoreExcludeLb: false });
 */
export function desiredAnnouncements(
  snapshot: SpeakerSnapshot,
  view: MembershipView,
  self: string,
  flags: { ignoreExcludeLb: boolean },
): DesiredAnnouncements {
  const plans = planAnnouncements(snapshot.services, snapshot.nodes, view.live, {
    ignoreExcludeLb: flags.ignoreExcludeLb,
    strictArpRefusedNodes: snapshot.strictArpRefused,
  });
  const owned = new Set<string>();
  const owners = new Map<string, string | undefined>();
  const reasons = new Map<string, string>();
  const selfLive = view.live.has(self);
  for (const plan of plans.values()) {
    owners.set(plan.ip, plan.owner);
    if (plan.owner === undefined) reasons.set(plan.ip, `nobody: ${plan.reason}`);
    else if (plan.owner !== self) reasons.set(plan.ip, `owner ${plan.owner}`);
    else if (!view.quorum) reasons.set(plan.ip, `not announcing: ${view.quorumReason}`);
    else if (!selfLive) reasons.set(plan.ip, "not announcing: this speaker is not a candidate yet");
    else {
      owned.add(plan.ip);
      reasons.set(plan.ip, `owner ${self}`);
    }
  }
  return { owned, owners, plans, reasons };
}
