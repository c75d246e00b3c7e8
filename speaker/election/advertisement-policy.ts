/**
 * Where an IP is announced from, by the L2Advertisements that apply to it (which ones apply is
 * shared/config/advertisements-for.ts, one rule for both binaries). Pure functions of the
 * advertisements and the Nodes in the snapshot, so every speaker computes the same placement and the
 * election stays one owner per IP. MetalLB's rules (speaker/layer2_controller.go, and the
 * "Preferred Node Selection for L2 Mode" design on its main branch):
 *
 * - `nodeSelectors`: a node may win the IP's election when at least one applicable advertisement
 *   selects it; an advertisement without `nodeSelectors` selects every node (`adsMatchNodeL2`).
 * - `preferredNodeSelectors`: a node's score is, over the applicable advertisements that select it, the
 *   sum of the weights of the entries whose `preference` matches its labels. An advertisement never
 *   raises a node it does not select (MetalLB scores per advertisement, inside its own eligible set).
 *   The highest score wins; the hash breaks ties; with no preferred node eligible, the plain hash.
 * - `interfaces`: a node announces the IP on the union of the interfaces listed by the applicable
 *   advertisements that select it; one of them listing none means every eligible interface
 *   (`ipAdvertisementFor`). Whether a listed interface exists is local to each node, so it is not part
 *   of the election: a node whose listed interfaces are all missing can still win, and then says so
 *   (speaker/l2/announcer.ts: a log line and `baremetal_lb_owned_ips_without_interface`). MetalLB does the same
 *   (it wins, then refuses to announce with "the specified interfaces used to announce LB IP don't exist").
 */
import type { Advertisement } from "../../shared/config/config-types.ts";
import { selectsNode } from "../../shared/config/advertisements-for.ts";
import { matchesSelector } from "../../shared/config/label-selector.ts";
import type { NodeInfo, NodePlacement } from "./election.ts";

/**
 * Which nodes may win an IP the advertisements `ads` apply to, and their preference scores; undefined
 * when the advertisements restrict nothing (no `nodeSelectors`, no `preferredNodeSelectors`: every node,
 * plain hash, as the legacy ConfigMap's implicit advertisement).
 *
 * @example
 * nodePlacement([{ ...ad, nodeSelectors: [{ matchLabels: { zone: "a" } }] }], [{ name: "n1", labels: { zone: "a" } }, { name: "n2" }]);
 * // { selected: Set { "n1" }, scores: Map {} }
 */
export function nodePlacement(ads: readonly Advertisement[], nodes: readonly NodeInfo[]): NodePlacement | undefined {
  if (ads.every((ad) => ad.nodeSelectors.length === 0 && ad.preferredNodeSelectors.length === 0)) return undefined;
  const selected = new Set<string>();
  const scores = new Map<string, number>();
  for (const node of nodes) {
    let isSelected = false;
    let score = 0;
    for (const ad of ads) {
      if (!selectsNode(ad, node)) continue;
      isSelected = true;
      for (const p of ad.preferredNodeSelectors) if (matchesSelector(p.preference, node.labels)) score += p.weight;
    }
    if (isSelected) selected.add(node.name);
    if (score > 0) scores.set(node.name, score);
  }
  return { selected, scores };
}

/**
 * The interfaces `node` announces an IP on: the union of those listed by the advertisements in `ads`
 * that select the node, sorted; undefined means every eligible interface (one of them lists none).
 * Empty when no advertisement selects the node (it cannot win the IP then).
 *
 * @example announceInterfaces([{ ...ad, interfaces: ["eth1"] }, { ...ad, interfaces: ["eth0"] }], { name: "n1" }) // ["eth0", "eth1"]
 */
export function announceInterfaces(ads: readonly Advertisement[], node: NodeInfo): readonly string[] | undefined {
  const names = new Set<string>();
  for (const ad of ads) {
    if (!selectsNode(ad, node)) continue;
    if (ad.interfaces.length === 0) return undefined;
    for (const name of ad.interfaces) names.add(name);
  }
  return [...names].sort();
}

/**
 * Two interface choices for one IP combined (Services sharing the IP): undefined (every interface) wins.
 *
 * @example unionInterfaces(["eth0"], ["eth1"]) // ["eth0", "eth1"]
 */
export function unionInterfaces(a: readonly string[] | undefined, b: readonly string[] | undefined): readonly string[] | undefined {
  if (a === undefined || b === undefined) return undefined;
  return [...new Set([...a, ...b])].sort();
}
