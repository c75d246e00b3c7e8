import { advertisementsFor } from "../../shared/config/advertisements-for.ts";
import type { Advertisement, Pool } from "../../shared/config/config-types.ts";
import { nodePlacement } from "./advertisement-policy.ts";
import { electOwner, type ElectionOptions, type EndpointInfo, type NodeInfo, type NodePlacement } from "./election.ts";
import { rankingIps } from "./ranking-ips.ts";

/** A LoadBalancer Service as the speaker sees it: ours, with the IPs the controller assigned. */
export interface AnnouncedService {
  /** namespace/name */
  key: string;
  externalTrafficPolicy?: string;
  /** Canonical IP text, from status.loadBalancer.ingress, already filtered to our pools. */
  ips: readonly string[];
  endpoints: readonly EndpointInfo[];
  /** The Service's labels, matched by L2Advertisement `serviceSelectors`. */
  labels?: Readonly<Record<string, string>>;
  /**
   * The pool in force each IP lies in, in the order of `ips` (matched by L2Advertisement
   * `ipAddressPools`/`ipAddressPoolSelectors`). A list, not an object keyed by IP: every distinct
   * property name on an object literal adds a V8 hidden-class transition, and thousands of them make
   * the engine build every new object shape of the process in dictionary mode (about 450 bytes each).
   */
  pools?: readonly string[];
}

/** The config's pools and advertisements, which decide whether and where each IP is announced. */
export interface Advertising {
  pools: readonly Pool[];
  advertisements: readonly Advertisement[];
}

/** One Service's outcome for one IP. */
export interface ServiceOutcome {
  key: string;
  owner: string | undefined;
  reason: string | undefined;
  /**
   * The L2Advertisements that apply to this IP of this Service; empty when none does (never announced);
   * absent without an advertisement policy.
   */
  advertisements?: readonly Advertisement[];
}

/** Who announces one IP, and for which Services. */
export interface IpPlan {
  ip: string;
  /** The announcing node, or undefined with the reason nobody does. */
  owner: string | undefined;
  reason: string | undefined;
  /** No L2Advertisement applies to any Service of this IP: it is assigned and never announced (MetalLB's rule). Always set by planAnnouncements. */
  unadvertised?: boolean;
  /** Services using this IP (more than one when shared), by key, each with its own election outcome. */
  services: ServiceOutcome[];
}

/** What the plan needs besides the election's flags. */
export interface PlanOptions extends ElectionOptions {
  /** Absent: every IP is announced from any node on every interface (no advertisement policy). */
  advertising?: Advertising;
}

/**
 * Runs the election for every Service IP. An IP is announced only through the L2Advertisements that
 * apply to it (shared/config/advertisements-for.ts): with none, nobody announces it and its reason says
 * `not announced: …`. Their `nodeSelectors` and `preferredNodeSelectors` shape each election
 * (advertisement-policy.ts).
 *
 * Nodes are ranked by the IP {@link rankingIps} gives each IP: a Service's first IP, as in MetalLB, so a
 * dual-stack Service's two IPs go to one node; Services linked through shared IPs rank by one IP (the
 * first IP of their first Service by key), so a shared IP is ranked one way for all of its Services.
 *
 * A shared IP is announced when any of its Services has an owner: the owner of the first such Service
 * by key, so every speaker picks the same one whatever order its informers list Services in. Its
 * Services elect alike unless their eligible nodes differ: Services matching different
 * L2Advertisements (`serviceSelectors`), or one without endpoints (Services sharing an IP with
 * `externalTrafficPolicy: Local` have identical selectors, hence the same endpoints).
 *
 * @example
 * planAnnouncements([{ key: "default/web", ips: ["192.168.126.40"], endpoints: [{ nodeName: "n1", ready: true }] }],
 *   [{ name: "n1" }, { name: "n2" }], new Set(["n1", "n2"]));
 * // Map { "192.168.126.40" => { owner: "n2", services: [...] } }
 */
export function planAnnouncements(
  services: readonly AnnouncedService[],
  nodes: readonly NodeInfo[],
  liveSpeakers: ReadonlySet<string>,
  options: PlanOptions = {},
): Map<string, IpPlan> {
  const { advertising, ...election } = options;
  const placementOf = placements(nodes);
  const sharedAdvertisements = interning(advertising);
  const poolsByName = new Map(advertising?.pools.map((p) => [p.name, p]));
  const plans = new Map<string, IpPlan>();
  const rankingIp = rankingIps(services);
  for (const svc of services) {
    for (const [i, ip] of svc.ips.entries()) {
      let plan = plans.get(ip);
      if (!plan) {
        plan = { ip, owner: undefined, reason: undefined, unadvertised: false, services: [] };
        plans.set(ip, plan);
      }
      let advertisements: readonly Advertisement[] | undefined;
      if (advertising) {
        const poolName = svc.pools?.[i];
        const pool = poolName === undefined ? undefined : poolsByName.get(poolName);
        const match = pool ? advertisementsFor(pool, svc.labels, advertising.advertisements) : { ok: false as const, reason: `${ip} is in no pool in force` };
        if (!match.ok) {
          plan.services.push({ key: svc.key, owner: undefined, reason: `not announced: ${match.reason}`, advertisements: [] });
          continue;
        }
        advertisements = sharedAdvertisements(match.advertisements);
      }
      const placement = advertisements && placementOf(advertisements);
      const result = electOwner(rankingIp(svc, ip), { externalTrafficPolicy: svc.externalTrafficPolicy, endpoints: svc.endpoints, placement }, nodes, liveSpeakers, election);
      const owner = "owner" in result ? result.owner : undefined;
      const reason = "reason" in result ? result.reason : undefined;
      plan.services.push({ key: svc.key, owner, reason, advertisements });
    }
  }
  for (const plan of plans.values()) {
    // Sorted into a copy of exactly its length: an array grown by push keeps room for 16 more.
    plan.services = plan.services.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice();
    const advertised = plan.services.filter((s) => s.advertisements === undefined || s.advertisements.length > 0);
    plan.unadvertised = advertised.length === 0;
    const owned = advertised.find((s) => s.owner !== undefined);
    plan.owner = owned?.owner;
    plan.reason = owned ? undefined : (advertised[0] ?? plan.services[0]).reason;
  }
  return plans;
}

/**
 * One array per distinct list of advertisements: at 10k Services sharing one L2Advertisement, the
 * plans hold one list, not 10k equal copies.
 */
function interning(advertising: Advertising | undefined): (ads: readonly Advertisement[]) => readonly Advertisement[] {
  const index = new Map(advertising?.advertisements.map((ad, i) => [ad, i]));
  const lists = new Map<string, readonly Advertisement[]>();
  return (ads) => {
    const key = ads.map((ad) => index.get(ad)).join(",");
    let list = lists.get(key);
    if (!list) lists.set(key, (list = ads.slice()));
    return list;
  };
}

/**
 * The placement of each distinct list of advertisements (as `interning` returns them), computed once
 * per list: at 10k Services the election must not match every node against every selector for every IP.
 */
function placements(nodes: readonly NodeInfo[]): (ads: readonly Advertisement[]) => NodePlacement | undefined {
  const memo = new Map<readonly Advertisement[], NodePlacement | undefined>();
  return (ads) => {
    if (!memo.has(ads)) memo.set(ads, nodePlacement(ads, nodes));
    return memo.get(ads);
  };
}
