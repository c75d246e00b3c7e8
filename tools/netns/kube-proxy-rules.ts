import { isIPv6 } from "node:net";
import { mustRunIn } from "./run.ts";

/**
 * Installs what kube-proxy would on a node for one LoadBalancer port: a DNAT from VIP:port to the
 * node's local backend. The VIP itself is never bound to an interface.
 *
 * @example
 * await addLoadBalancerDnat(node.ns, "192.168.126.40", 80, node.ipv4, 8080);
 */
export async function addLoadBalancerDnat(ns: string, vip: string, port: number, backendIp: string, backendPort: number): Promise<void> {
  const v6 = isIPv6(vip);
  const tool = v6 ? "ip6tables" : "iptables";
  const to = v6 ? `[${backendIp}]:${backendPort}` : `${backendIp}:${backendPort}`;
  await mustRunIn(ns, [tool, "-t", "nat", "-A", "PREROUTING", "-d", vip, "-p", "tcp", "--dport", String(port), "-j", "DNAT", "--to-destination", to]);
}
