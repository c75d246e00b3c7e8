/**
 * Which node announces a LoadBalancer IP: a pure function of the Service's endpoints, the Nodes and the set of
 * live speakers, so every speaker computes the same owner without coordinating.
 *
 * 1. The Service needs an endpoint that can serve (MetalLB's `EndpointCanServe`): `ready` true or unset (an
 *    unset EndpointSlice condition means ready), or else `serving` true (a terminating endpoint still serving).
 * 2. A node is eligible when its speaker is live; it is not `NetworkUnavailable=True` and not `Ready=False`
 *    (`Ready=Unknown` is left to speaker liveness, which notices a dead node sooner); it does not carry the
 *    `node.kubernetes.io/exclude-from-external-load-balancers` label (any value), unless `ignoreExcludeLb`;
 *    and it is not in `strictArpRefusedNodes` (`--strict-arp=refuse`). A live speaker without a Node object
 *    is not eligible. Unlike MetalLB, `Ready=False` excludes a node.
 * 3. With a {@link NodePlacement} (from the L2Advertisements that apply to the IP, see advertisement-policy.ts),
 *    only eligible nodes that an advertisement's `nodeSelectors` select remain.
 * 4. With `externalTrafficPolicy: Local`, only eligible nodes with a serving endpoint of their own remain.
 * 5. The owner is the first node when ranked by preference score (`preferredNodeSelectors` weights, highest
 *    first; 0 without a placement), then by `sha256(nodeName + "#" + ip)`, the digests compared byte by byte
 *    as unsigned values (MetalLB: `bytes.Compare` in `ShouldAnnounce`). `ip` is hashed in Go's `net.IP.String()`
 *    form (`canonicalIp` with `ipv4Mapped: "unmap"`, shared/ip/address.ts), so "2001:DB8::1" ranks as
 *    "2001:db8::1" and "::ffff:192.0.2.1" as "192.0.2.1" do in MetalLB.
 *
 * `ip` is the ranking IP, not necessarily the IP being announced: announce-plan.ts passes the one ranking-ips.ts
 * gives, the Service's first IP as in MetalLB (both IPs of a dual-stack Service go to one node), or, where
 * Services sharing an IP list different first IPs, one IP for all of them (MetalLB could elect two nodes there).
 * The rank depends only on that IP, the eligible set and the scores, so Services sharing an IP with the same
 * eligible set are announced from one node, and IPs spread over the nodes. Where this differs from MetalLB:
 * `Ready=False` and the strictARP refusal exclude a node, and Services sharing an IP rank by one IP.
 */
import { createHash } from "node:crypto";
import { canonicalIp } from "../../shared/ip/address.ts";

/** The label that keeps a node from announcing (honoured unless `ignoreExcludeLb`). */
export const EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";

/** A Node condition, as in `status.conditions`: `status` is "True", "False" or "Unknown". */
export interface NodeCondition {
  type: string;
  status: string;
}

/** What the election needs of a Node. */
export interface NodeInfo {
  name: string;
  labels?: Readonly<Record<string, string>>;
  conditions?: readonly NodeCondition[];
}

/** One EndpointSlice endpoint; unset conditions follow the EndpointSlice API (unset `ready` means ready). */
export interface EndpointInfo {
  nodeName?: string;
  ready?: boolean;
  serving?: boolean;
}

/**
 * Where the L2Advertisements that apply to an IP let it be announced from, as plain data computed from the
 * snapshot (advertisement-policy.ts), so every speaker ranks alike.
 */
export interface NodePlacement {
  /** Nodes at least one applicable advertisement's `nodeSelectors` selects; no other node may win. */
  selected: ReadonlySet<string>;
  /** Summed `preferredNodeSelectors` weights of the selected nodes; a node not in the map scores 0. */
  scores: ReadonlyMap<string, number>;
}

/** What the election needs of a Service: its traffic policy ("Cluster" when unset), its endpoints and its placement. */
export interface ServiceInfo {
  externalTrafficPolicy?: string;
  endpoints: readonly EndpointInfo[];
  /** Absent: every node may win and none is preferred (the legacy ConfigMap's implicit advertisement). */
  placement?: NodePlacement;
}

/** Flags that change eligibility. */
export interface ElectionOptions {
  /** `--ignore-exclude-lb`: nodes with the exclude label stay eligible. */
  ignoreExcludeLb?: boolean;
  /** Nodes whose strictARP check failed while `--strict-arp=refuse` is set. */
  strictArpRefusedNodes?: ReadonlySet<string>;
}

/** Why a node cannot announce. */
export type NodeIneligibleReason =
  | "speaker not live"
  | "NetworkUnavailable=True"
  | "Ready=False"
  | "excluded by label node.kubernetes.io/exclude-from-external-load-balancers"
  | "strictARP check failed (--strict-arp=refuse)";

/** Why nobody announces an IP. */
export type NoOwnerReason =
  | "invalid IP"
  | "no ready endpoints"
  | "all nodes excluded by node.kubernetes.io/exclude-from-external-load-balancers"
  | "no live speaker on an eligible node"
  | "no node matches the nodeSelectors of the L2Advertisements for this IP"
  | "no live speaker on a node the L2Advertisements for this IP select (nodeSelectors)"
  | "no ready endpoint on an eligible node (externalTrafficPolicy: Local)";

/** The election's answer: the owner and the eligible nodes in rank order, or the reason there is no owner. */
export type ElectionResult = { owner: string; ranked: string[] } | { reason: NoOwnerReason };

/**
 * Elects the node that announces a Service's IP, ranking the nodes by `ip`, its ranking IP (see above).
 *
 * @example
 * electOwner("192.0.2.10", { externalTrafficPolicy: "Cluster", endpoints: [{ nodeName: "n1", ready: true }] },
 *   [{ name: "n1" }, { name: "n2" }], new Set(["n1", "n2"]))
 * // { owner: "n2", ranked: ["n2", "n1"] }: sha256("n2#192.0.2.10") = 6c55… sorts before sha256("n1#192.0.2.10") = 9870…
 */
export function electOwner(
  ip: string,
  service: ServiceInfo,
  nodes: readonly NodeInfo[],
  liveSpeakers: ReadonlySet<string>,
  options: ElectionOptions = {},
): ElectionResult {
  const ranking = rankingOf(ip, nodes);
  if (ranking === undefined) return { reason: "invalid IP" };
  if (!service.endpoints.some(canServe)) return { reason: "no ready endpoints" };
  if (!options.ignoreExcludeLb && everyNodeExcludedByLabel(nodes)) {
    return { reason: "all nodes excluded by node.kubernetes.io/exclude-from-external-load-balancers" };
  }
  const placement = service.placement;
  if (placement && !nodes.some((n) => placement.selected.has(n.name))) {
    return { reason: "no node matches the nodeSelectors of the L2Advertisements for this IP" };
  }
  let eligible = nodes.filter((n) => nodeEligibility(n, liveSpeakers, options) === true).map((n) => n.name);
  if (eligible.length === 0) return { reason: "no live speaker on an eligible node" };
  if (placement) {
    eligible = eligible.filter((name) => placement.selected.has(name));
    if (eligible.length === 0) return { reason: "no live speaker on a node the L2Advertisements for this IP select (nodeSelectors)" };
  }
  if (service.externalTrafficPolicy === "Local") {
    const withEndpoint = new Set(service.endpoints.filter(canServe).map((e) => e.nodeName));
    eligible = eligible.filter((name) => withEndpoint.has(name));
    if (eligible.length === 0) return { reason: "no ready endpoint on an eligible node (externalTrafficPolicy: Local)" };
  }
  const eligibleNames = new Set(eligible);
  const ranked = rankByPreference(
    ranking.filter((name) => eligibleNames.has(name)),
    placement?.scores,
  );
  return { owner: ranked[0], ranked };
}

/**
 * Every node of `nodes` in announce order for the ranking IP `ip` ({@link rankNodes}), or undefined for an invalid
 * IP. The order is total, so the eligible nodes' order is this one filtered: it is computed once per ranking IP
 * and node list and kept (a dual-stack Service's two IPs share one entry), and an election after a membership
 * change (a speaker went silent, or came back) hashes nothing. At 10,000 ranking IPs on 3 nodes that is 30,000
 * SHA-256 digests less per change; the cache holds about 1.5 MB.
 */
function rankingOf(ip: string, nodes: readonly NodeInfo[]): readonly string[] | undefined {
  let names = nodeNamesKey.get(nodes);
  if (names === undefined) {
    names = nodes.map((n) => n.name).join("\n");
    nodeNamesKey.set(nodes, names);
  }
  const cached = rankings.get(ip);
  if (cached && cached.names === names) return cached.ranked;
  const key = cached?.canonical ?? canonicalIp(ip, { ipv4Mapped: "unmap" });
  if (key === undefined) return undefined;
  if (rankings.size >= maxCachedRankings) rankings.clear();
  const ranked = rankNodes(
    nodes.map((n) => n.name),
    key,
  );
  rankings.set(ip, { canonical: key, names, ranked });
  return ranked;
}

/** Each node list's names, joined: the part of a cached ranking's key that says which nodes it ranks. */
const nodeNamesKey = new WeakMap<readonly NodeInfo[], string>();
/** Rankings by ranking IP text; emptied when it reaches {@link maxCachedRankings} (IPs come and go). */
const rankings = new Map<string, { canonical: string; names: string; ranked: readonly string[] }>();
const maxCachedRankings = 100_000;

/**
 * Whether `node` may announce at all, or the reason it may not (the first that applies, in the order above).
 *
 * @example nodeEligibility({ name: "n1", conditions: [{ type: "Ready", status: "False" }] }, new Set(["n1"])) // "Ready=False"
 */
export function nodeEligibility(
  node: NodeInfo,
  liveSpeakers: ReadonlySet<string>,
  options: ElectionOptions = {},
): true | NodeIneligibleReason {
  if (!liveSpeakers.has(node.name)) return "speaker not live";
  if (hasCondition(node, "NetworkUnavailable", "True")) return "NetworkUnavailable=True";
  if (hasCondition(node, "Ready", "False")) return "Ready=False";
  if (!options.ignoreExcludeLb && isExcludedByLabel(node)) {
    return "excluded by label node.kubernetes.io/exclude-from-external-load-balancers";
  }
  if (options.strictArpRefusedNodes?.has(node.name)) return "strictARP check failed (--strict-arp=refuse)";
  return true;
}

/**
 * Whether there is at least one node and every node carries the exclude label: the single-node kubeadm trap
 * (the control-plane node is labelled), where nothing is announced. The caller warns loudly, once.
 *
 * @example everyNodeExcludedByLabel([{ name: "cp", labels: { [EXCLUDE_LB_LABEL]: "" } }]) // true
 */
export function everyNodeExcludedByLabel(nodes: readonly NodeInfo[]): boolean {
  return nodes.length > 0 && nodes.every(isExcludedByLabel);
}

/**
 * Node names in announce order for `ip` (canonical text): ascending by sha256(name + "#" + ip), bytes compared
 * as unsigned values; names break the (astronomically unlikely) tie.
 *
 * @example rankNodes(["iris1", "iris2"], "10.20.30.1") // ["iris2", "iris1"], as in MetalLB's own test
 */
export function rankNodes(names: readonly string[], ip: string): string[] {
  const keyed = names.map((name) => ({ name, digest: createHash("sha256").update(`${name}#${ip}`).digest() }));
  keyed.sort((a, b) => Buffer.compare(a.digest, b.digest) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return keyed.map((k) => k.name);
}

/**
 * Nodes in hash order, reordered by preference score, highest first; equal scores keep their hash order
 * (MetalLB's preferred-node election: score descending, then the hash).
 *
 * @example rankByPreference(["n2", "n1", "n3"], new Map([["n3", 100]])) // ["n3", "n2", "n1"]
 */
export function rankByPreference(hashRanked: readonly string[], scores: ReadonlyMap<string, number> | undefined): string[] {
  if (!scores || scores.size === 0) return [...hashRanked];
  // Array.prototype.sort is stable: ties stay in hash order.
  return [...hashRanked].sort((a, b) => (scores.get(b) ?? 0) - (scores.get(a) ?? 0));
}

function canServe(e: EndpointInfo): boolean {
  return e.ready === undefined || e.ready || e.serving === true;
}

function hasCondition(node: NodeInfo, type: string, status: string): boolean {
  return node.conditions?.some((c) => c.type === type && c.status === status) ?? false;
}

function isExcludedByLabel(node: NodeInfo): boolean {
  return node.labels !== undefined && Object.hasOwn(node.labels, EXCLUDE_LB_LABEL);
}
