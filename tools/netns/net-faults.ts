/**
 * Network faults for a test LAN (see topology.ts), made with iptables/ip6tables DROP rules inside the test's own
 * namespaces, so they vanish with the namespaces. Each function installs its rules and returns the heal: an
 * idempotent function that deletes exactly those rules (and ignores a namespace that is already gone).
 *
 * - {@link blockApi}: the API server is unreachable for everyone who uses it from the LAN: the controller (in the
 *   infra namespace) and the speakers (routed through the infra namespace), both ways, on the infra namespace's
 *   host link. The test process itself still reaches its in-process simulator.
 * - {@link cutApiHost}: the infra namespace (the API host, where the controller runs) is cut from the LAN: the
 *   speakers lose the API, the controller keeps it.
 * - {@link cutNode}: IP traffic between one node and its peers is dropped: both directions (a partition, with rules
 *   on both sides), or one direction only (an asymmetric cut). ARP is not IP, so the client still sees every node.
 *
 * @example
 * const heal = await blockApi(topo);
 * try { ... } finally { await heal(); }
 */
import { mustRunIn, runIn } from "./run.ts";
import type { Topology, TopologyNode } from "./topology.ts";

/** Deletes the rules a fault installed; safe to call twice. */
export type Heal = () => Promise<void>;

/** Which traffic of the cut node is dropped. */
export type CutDirection = "both" | "outbound" | "inbound";

interface Rule {
  ns: string;
  tool: "iptables" | "ip6tables";
  /** Chain and match, without -A/-D; the target is always DROP. */
  spec: string[];
}

async function install(rules: Rule[]): Promise<Heal> {
  const added: Rule[] = [];
  let healed = false;
  const heal: Heal = async () => {
    if (healed) return;
    healed = true;
    for (const r of added.splice(0).reverse()) await runIn(r.ns, [r.tool, "-w", "-D", ...r.spec, "-j", "DROP"]);
  };
  try {
    for (const r of rules) {
      // -I: ahead of anything else in the chain (the topology's own rules only ACCEPT or NAT).
      await mustRunIn(r.ns, [r.tool, "-w", "-I", ...r.spec, "-j", "DROP"]);
      added.push(r);
    }
  } catch (err) {
    await heal();
    throw err;
  }
  return heal;
}

/** Both directions of every packet through `ifname` of `ns`, whether it ends there, starts there or is routed. */
function linkRules(ns: string, ifname: string): Rule[] {
  const rules: Rule[] = [];
  for (const tool of ["iptables", "ip6tables"] as const) {
    rules.push(
      { ns, tool, spec: ["INPUT", "-i", ifname] },
      { ns, tool, spec: ["OUTPUT", "-o", ifname] },
      { ns, tool, spec: ["FORWARD", "-i", ifname] },
      { ns, tool, spec: ["FORWARD", "-o", ifname] },
    );
  }
  return rules;
}

/**
 * An API-server outage: drops everything on the infra namespace's link to the host, where the simulator listens.
 * The controller and the speakers reach the API only through it.
 */
export function blockApi(topo: Topology): Promise<Heal> {
  return install(linkRules(topo.infra.ns, "host0"));
}

/** Cuts the infra namespace (the API host) from the LAN: speakers lose the API, the controller keeps it. */
export function cutApiHost(topo: Topology): Promise<Heal> {
  return install(linkRules(topo.infra.ns, "eth0"));
}

/**
 * Drops IP traffic (v4 and v6) between `node` and each of `peers`. "both": rules in the node's and in each peer's
 * namespace, so neither side hears the other; "outbound": the node's packets to its peers are lost (they stop
 * hearing it, it still hears them); "inbound": the peers' packets to the node are lost.
 */
export function cutNode(node: TopologyNode, peers: readonly TopologyNode[], direction: CutDirection = "both"): Promise<Heal> {
  const rules: Rule[] = [];
  for (const peer of peers) {
    for (const [tool, mine, theirs] of [
      ["iptables", node.ipv4, peer.ipv4],
      ["ip6tables", node.ipv6, peer.ipv6],
    ] as const) {
      if (direction !== "inbound") rules.push({ ns: node.ns, tool, spec: ["OUTPUT", "-d", theirs] });
      if (direction !== "outbound") rules.push({ ns: node.ns, tool, spec: ["INPUT", "-s", theirs] });
      if (direction === "both") {
        rules.push({ ns: peer.ns, tool, spec: ["OUTPUT", "-d", mine] }, { ns: peer.ns, tool, spec: ["INPUT", "-s", mine] });
      }
    }
  }
  return install(rules);
}
