import { electOwner, type ElectionOptions, type EndpointInfo, type NodeInfo } from "./election.ts";

/** A LoadBalancer Service as the speaker sees it: ours, with the IPs the controller assigned. */
export interface AnnouncedService {
  /** namespace/name */
  key: string;
  externalTrafficPolicy?: string;
  /** Canonical IP text, from status.loadBalancer.ingress, already filtered to our pools. */
  ips: readonly string[];
  endpoints: readonly EndpointInfo[];
}

/** Who announces one IP, and for which Services. */
export interface IpPlan {
  ip: string;
  /** The announcing node, or undefined with the reason nobody does. */
  owner: string | undefined;
  reason: string | undefined;
  /** Services using this IP (more than one when shared), each with its own election outcome. */
  services: { key: string; owner: string | undefined; reason: string | undefined }[];
}

/**
 * Runs the election for every Service IP. A shared IP is announced when any of its Services has
 * an owner; the rules make them agree (ranking is per IP, and Services sharing an IP with
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
  options: ElectionOptions = {},
): Map<string, IpPlan> {
  const plans = new Map<string, IpPlan>();
  for (const svc of services) {
    for (const ip of svc.ips) {
      const result = electOwner(ip, { externalTrafficPolicy: svc.externalTrafficPolicy, endpoints: svc.endpoints }, nodes, liveSpeakers, options);
      const owner = "owner" in result ? result.owner : undefined;
      const reason = "reason" in result ? result.reason : undefined;
      let plan = plans.get(ip);
      if (!plan) {
        plan = { ip, owner: undefined, reason, services: [] };
        plans.set(ip, plan);
      }
      plan.services.push({ key: svc.key, owner, reason });
      if (owner !== undefined && plan.owner === undefined) {
        plan.owner = owner;
        plan.reason = undefined;
      }
    }
  }
  return plans;
}
