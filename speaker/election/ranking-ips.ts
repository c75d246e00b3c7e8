/**
 * Which IP's hash ranks the nodes for each Service IP (election.ts hashes `nodeName + "#" + rankingIp`).
 *
 * MetalLB ranks a Service's nodes by its first IP, `status.loadBalancer.ingress[0]` (speaker/layer2_controller.go,
 * ShouldAnnounce: `ipString := toAnnounce[0].String()`), so both IPs of a dual-stack Service go to one node. It
 * decides per Service, so when Services share an IP but list different first IPs (a dual-stack Service sharing
 * only its IPv6 address with a single-stack one, or two dual-stack Services listing their shared pair in opposite
 * family order), MetalLB can elect two nodes for the shared IP and both answer for it.
 *
 * Here one IP has one ranking IP, shared by every Service listing it: Services linked through shared IPs form a
 * group, and every IP of the group ranks by the first IP of the group's first Service by key (namespace/name).
 * - No IP shared, or every Service sharing an IP lists the same first IP (the usual case, for example TCP and UDP
 *   Services sharing one dual-stack pair): each Service ranks by its own first IP, exactly MetalLB's choice.
 * - Otherwise the whole group ranks by one IP, so each of its Services keeps all its IPs on one node (when their
 *   eligible nodes agree), and a shared IP is never ranked two ways.
 * The answer depends only on the set of Services and each one's IP order, not on the order the informers list
 * them in, so every speaker computes the same.
 *
 * A Service's IPs are its ingress IPs inside the pools in force, in ingress order
 * (speaker/snapshot/speaker-snapshot.ts). With an ingress IP outside them MetalLB announces none of the Service's
 * IPs; we announce the others, ranked by the first of them.
 *
 * @example
 * const web = { key: "default/web", ips: ["192.0.2.10", "2001:db8::10"] };
 * const rankingIp = rankingIps([web, { key: "default/api", ips: ["2001:db8::10"] }]);
 * rankingIp(web, "192.0.2.10"); // "2001:db8::10": default/api sorts first, and its first IP ranks the group
 */
export function rankingIps(services: readonly RankedService[]): (service: RankedService, ip: string) => string {
  // The first Service listing each IP, and pairs of Services listing one IP.
  const firstLister = new Map<string, number>();
  let sharing: number[] | undefined;
  for (let s = 0; s < services.length; s++) {
    for (const ip of services[s].ips) {
      const first = firstLister.get(ip);
      if (first === undefined) firstLister.set(ip, s);
      else if (first !== s) (sharing ??= []).push(first, s);
    }
  }
  const ownFirstIp = (service: RankedService): string => service.ips[0];
  if (!sharing) return ownFirstIp;
  // Union-find over Services: two Services listing one IP join one group.
  const parent = Array.from(services, (_, s) => s);
  const root = (s: number): number => {
    while (parent[s] !== s) s = parent[s] = parent[parent[s]];
    return s;
  };
  for (let i = 0; i < sharing.length; i += 2) {
    const a = root(sharing[i]);
    const b = root(sharing[i + 1]);
    if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
  }
  // Each group's first Service by key; equal keys (never from one informer) fall back to the smaller first IP.
  const leader = new Map<number, { key: string; ip: string; size: number }>();
  for (let s = 0; s < services.length; s++) {
    const { key, ips } = services[s];
    if (ips.length === 0) continue;
    const group = root(s);
    const known = leader.get(group);
    if (!known) leader.set(group, { key, ip: ips[0], size: 1 });
    else {
      known.size++;
      if (key < known.key || (key === known.key && ips[0] < known.ip)) Object.assign(known, { key, ip: ips[0] });
    }
  }
  // Only IPs of groups of several Services rank by another Service's first IP.
  const grouped = new Map<string, string>();
  for (const [ip, s] of firstLister) {
    const group = leader.get(root(s))!;
    if (group.size > 1) grouped.set(ip, group.ip);
  }
  return (service, ip) => grouped.get(ip) ?? service.ips[0];
}

/** What the ranking reads of a Service: its key (namespace/name) and its IPs in ingress order. */
export interface RankedService {
  key: string;
  ips: readonly string[];
}
