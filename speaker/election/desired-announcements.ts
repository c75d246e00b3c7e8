import { announceInterfaces, unionInterfaces } from "./advertisement-policy.ts";
import { planAnnouncements, type Advertising, type AnnouncedService, type IpPlan } from "./announce-plan.ts";
import type { NodeInfo } from "./election.ts";
import type { MembershipView } from "../cluster/membership-view.ts";

/** The cluster as the informers last showed it: only the fields the election reads. Immutable. */
export interface SpeakerSnapshot {
  /** Our Services with their assigned IPs inside the pools in force, and their endpoints. */
  services: readonly AnnouncedService[];
  nodes: readonly NodeInfo[];
  /** Nodes refused by the strictARP check (`--strict-arp=refuse`), from their Leases and our own check. */
  strictArpRefused: ReadonlySet<string>;
  /**
   * The pools and L2Advertisements in force (the legacy ConfigMap's implicit one included). Absent: no
   * advertisement policy, every IP is announced from any node on every interface.
   */
  advertising?: Advertising;
}

/** What this node should announce, and why for every IP. */
export interface DesiredAnnouncements {
  /** IPs this node should announce now (before the takeover gate). */
  owned: ReadonlySet<string>;
  /** The election's owner of every IP in our view (whether or not we may announce). */
  owners: ReadonlyMap<string, string | undefined>;
  plans: ReadonlyMap<string, IpPlan>;
  /**
   * One line per IP: "owner node-2", "nobody: no ready endpoints", "not announcing: hearing 1 of 3 …",
   * "not announced: no L2Advertisement selects pool \"lan\"".
   */
  reasons: ReadonlyMap<string, string>;
  /**
   * For each IP this node owns, the interfaces its L2Advertisements list for this node (sorted), or
   * undefined for every eligible interface.
   */
  interfaces: ReadonlyMap<string, readonly string[] | undefined>;
  /** IPs assigned to Services that no L2Advertisement applies to: nobody announces them. */
  unadvertised: readonly string[];
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
    advertising: snapshot.advertising,
  });
  const owned = new Set<string>();
  const owners = new Map<string, string | undefined>();
  const reasons = new Map<string, string>();
  const interfaces = new Map<string, readonly string[] | undefined>();
  const unadvertised: string[] = [];
  const selfLive = view.live.has(self);
  const selfNode = snapshot.nodes.find((n) => n.name === self);
  // Thousands of IPs share a handful of reasons ("owner node-2"): one string each, not one per IP.
  const said = new Map<string, string>();
  const reason = (text: string): string => {
    const known = said.get(text);
    if (known !== undefined) return known;
    said.set(text, text);
    return text;
  };
  for (const plan of plans.values()) {
    owners.set(plan.ip, plan.owner);
    if (plan.unadvertised) {
      unadvertised.push(plan.ip);
      reasons.set(plan.ip, plan.reason ?? "not announced");
    } else if (plan.owner === undefined) reasons.set(plan.ip, reason(`nobody: ${plan.reason}`));
    else if (plan.owner !== self) reasons.set(plan.ip, reason(`owner ${plan.owner}`));
    else if (!view.quorum) reasons.set(plan.ip, reason(`not announcing: ${view.quorumReason}`));
    else if (!selfLive) reasons.set(plan.ip, "not announcing: this speaker is not a candidate yet");
    else {
      owned.add(plan.ip);
      interfaces.set(plan.ip, selfNode ? interfacesOn(plan, selfNode) : undefined);
      reasons.set(plan.ip, reason(`owner ${self}`));
    }
  }
  return { owned, owners, plans, reasons, interfaces, unadvertised };
}

/** The interfaces `node` announces a plan's IP on: the union over its Services' advertisements. */
function interfacesOn(plan: IpPlan, node: NodeInfo): readonly string[] | undefined {
  let chosen: readonly string[] | undefined = [];
  for (const svc of plan.services) {
    if (svc.advertisements === undefined) return undefined;
    if (svc.advertisements.length === 0) continue;
    chosen = unionInterfaces(chosen, announceInterfaces(svc.advertisements, node));
    if (chosen === undefined) return undefined;
  }
  return chosen;
}
