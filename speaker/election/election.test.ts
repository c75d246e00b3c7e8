import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  EXCLUDE_LB_LABEL,
  electOwner,
  everyNodeExcludedByLabel,
  nodeEligibility,
  rankNodes,
  type ElectionOptions,
  type ElectionResult,
  type EndpointInfo,
  type NodeInfo,
} from "./election.ts";

// For 10.20.30.4 the hash order of node1..node3 is node2, node1, node3 (checked in "ranks by sha256" below).
const IP = "10.20.30.4";
const ready = (nodeName: string): EndpointInfo => ({ nodeName, ready: true });
const healthy = (name: string): NodeInfo => ({ name, conditions: [{ type: "Ready", status: "True" }, { type: "NetworkUnavailable", status: "False" }] });
const withCondition = (name: string, type: string, status: string): NodeInfo => ({ name, conditions: [{ type, status }] });
const labelled = (name: string): NodeInfo => ({ name, labels: { [EXCLUDE_LB_LABEL]: "" } });
const ALL_LIVE = new Set(["node1", "node2", "node3"]);
const THREE = [healthy("node1"), healthy("node2"), healthy("node3")];
const EVERYWHERE = [ready("node1"), ready("node2"), ready("node3")];

interface Case {
  name: string;
  ip?: string;
  policy?: string;
  endpoints?: EndpointInfo[];
  nodes?: NodeInfo[];
  live?: Set<string>;
  options?: ElectionOptions;
  expected: string | { reason: string };
}

const cases: Case[] = [
  { name: "all healthy, node 2 first by hash announces", expected: "node2" },
  { name: "node 2 not ready, node 1 announces", nodes: [healthy("node1"), withCondition("node2", "Ready", "False"), healthy("node3")], expected: "node1" },
  { name: "node 2 Ready=Unknown is left to speaker liveness, node 2 announces", nodes: [healthy("node1"), withCondition("node2", "Ready", "Unknown"), healthy("node3")], expected: "node2" },
  { name: "NetworkUnavailable excluded: node 2, node 1 announces", nodes: [healthy("node1"), withCondition("node2", "NetworkUnavailable", "True"), healthy("node3")], expected: "node1" },
  { name: "dead speaker skipped: node 2's speaker is not live, node 1 announces", live: new Set(["node1", "node3"]), expected: "node1" },
  { name: "node 2 excluded by label, node 1 announces", nodes: [healthy("node1"), labelled("node2"), healthy("node3")], expected: "node1" },
  { name: "node 2 labelled but --ignore-exclude-lb, node 2 announces", nodes: [healthy("node1"), labelled("node2"), healthy("node3")], options: { ignoreExcludeLb: true }, expected: "node2" },
  { name: "strictARP refused on node 2, node 1 announces", options: { strictArpRefusedNodes: new Set(["node2"]) }, expected: "node1" },
  { name: "ETP Local: only node with local endpoint (node 3) announces", policy: "Local", endpoints: [ready("node3")], expected: "node3" },
  { name: "ETP Local: the first by hash among nodes with endpoints", policy: "Local", endpoints: [ready("node1"), ready("node3")], expected: "node1" },
  { name: "ETP Local: a not-ready endpoint does not make its node eligible", policy: "Local", endpoints: [{ nodeName: "node2", ready: false }, ready("node3")], expected: "node3" },
  { name: "ETP Local: local endpoint only on a NotReady node, nobody announces", policy: "Local", endpoints: [ready("node2")], nodes: [healthy("node1"), withCondition("node2", "Ready", "False")], expected: { reason: "no ready endpoint on an eligible node (externalTrafficPolicy: Local)" } },
  { name: "ETP Cluster: endpoint only on node 3, node 2 still announces", policy: "Cluster", endpoints: [ready("node3")], expected: "node2" },
  { name: "no endpoints: nobody announces", endpoints: [], expected: { reason: "no ready endpoints" } },
  { name: "no ready or serving endpoint: nobody announces", endpoints: [{ nodeName: "node1", ready: false }, { nodeName: "node2", ready: false, serving: false }], expected: { reason: "no ready endpoints" } },
  { name: "terminating endpoint still serving keeps the Service announced", endpoints: [{ nodeName: "node1", ready: false, serving: true }], expected: "node2" },
  { name: "endpoint with unset ready counts as ready", endpoints: [{ nodeName: "node1" }], expected: "node2" },
  { name: "endpoint without a node counts for Cluster", endpoints: [{ ready: true }], expected: "node2" },
  { name: "all excluded: warn, nobody announces", nodes: [labelled("node1"), labelled("node2"), labelled("node3")], expected: { reason: "all nodes excluded by node.kubernetes.io/exclude-from-external-load-balancers" } },
  { name: "all excluded but --ignore-exclude-lb: node 2 announces", nodes: [labelled("node1"), labelled("node2"), labelled("node3")], options: { ignoreExcludeLb: true }, expected: "node2" },
  { name: "no live speaker: nobody announces", live: new Set(), expected: { reason: "no live speaker on an eligible node" } },
  { name: "live speaker without a Node object is not eligible", live: new Set(["node4"]), expected: { reason: "no live speaker on an eligible node" } },
  { name: "invalid IP: nobody announces", ip: "10.20.30.400", expected: { reason: "invalid IP" } },
];

describe("electOwner", () => {
  it.each(cases)("$name", (c) => {
    const result = electOwner(c.ip ?? IP, { externalTrafficPolicy: c.policy, endpoints: c.endpoints ?? EVERYWHERE }, c.nodes ?? THREE, c.live ?? ALL_LIVE, c.options);
    if (typeof c.expected === "string") expect(result).toMatchObject({ owner: c.expected });
    else expect(result).toEqual(c.expected);
  });

  it("ranks afresh when the node list changes, for the same IP (the ranking is kept per IP and node list)", () => {
    const names = (...n: string[]) => n.map(healthy);
    const everyone = new Set(["node1", "node2", "node3", "node4", "iris1", "iris2"]);
    for (const nodes of [names("node1", "node2", "node3"), names("node1", "node3"), names("node4", "node1"), names("node1", "node2", "node3"), names("iris1", "iris2")]) {
      const result = electOwner(IP, { endpoints: nodes.map((n) => ready(n.name)) }, nodes, everyone);
      expect(result).toEqual({ owner: rankNodes(nodes.map((n) => n.name), IP)[0], ranked: rankNodes(nodes.map((n) => n.name), IP) });
    }
    // A live set that shrinks on the same node list keeps the cached order, filtered.
    expect(electOwner(IP, { endpoints: EVERYWHERE }, THREE, new Set(["node1", "node3"]))).toEqual({ owner: "node1", ranked: ["node1", "node3"] });
  });

  it("returns the eligible nodes in rank order with the owner", () => {
    expect(electOwner(IP, { endpoints: EVERYWHERE }, THREE, ALL_LIVE)).toEqual({ owner: "node2", ranked: ["node2", "node1", "node3"] });
  });

  it("shared IP announced from the same node: Services with one IP and different endpoints agree", () => {
    const web = electOwner(IP, { endpoints: [ready("node1")] }, THREE, ALL_LIVE);
    const dns = electOwner(IP, { endpoints: [ready("node3")] }, THREE, ALL_LIVE);
    expect(web).toMatchObject({ owner: "node2" });
    expect(dns).toEqual(web);
  });

  it("every speaker computes the same owner whatever order it lists nodes in", () => {
    const forward = electOwner(IP, { endpoints: EVERYWHERE }, THREE, ALL_LIVE);
    const backward = electOwner(IP, { endpoints: EVERYWHERE }, [...THREE].reverse(), new Set([...ALL_LIVE].reverse()));
    expect(backward).toEqual(forward);
  });

  it("hashes the IP in canonical form, so spellings of one IPv6 address agree", () => {
    const a = electOwner("2001:db8::1", { endpoints: EVERYWHERE }, THREE, ALL_LIVE);
    expect(electOwner("2001:DB8:0:0::1", { endpoints: EVERYWHERE }, THREE, ALL_LIVE)).toEqual(a);
    expect(a).toMatchObject({ ranked: rankNodes(["node1", "node2", "node3"], "2001:db8::1") });
  });

  it("spreads IPs over the nodes", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const r = electOwner(`10.0.${i >> 8}.${i & 255}`, { endpoints: EVERYWHERE }, THREE, ALL_LIVE) as Extract<ElectionResult, { owner: string }>;
      counts.set(r.owner, (counts.get(r.owner) ?? 0) + 1);
    }
    for (const n of ["node1", "node2", "node3"]) {
      expect(counts.get(n)).toBeGreaterThan(850);
      expect(counts.get(n)).toBeLessThan(1150);
    }
  });
});

describe("rankNodes", () => {
  it("ranks by sha256(node + '#' + ip), compared as unsigned bytes", () => {
    const digest = (n: string) => createHash("sha256").update(`${n}#${IP}`).digest("hex");
    const byHex = ["node1", "node2", "node3"].sort((a, b) => (digest(a) < digest(b) ? -1 : 1));
    expect(rankNodes(["node1", "node2", "node3"], IP)).toEqual(byHex);
    expect(byHex).toEqual(["node2", "node1", "node3"]);
  });

  it("agrees with MetalLB's own test: iris2 announces 10.20.30.1, iris1 announces 10.20.30.2", () => {
    // speaker/layer2_controller_test.go, "Two services each with two endpoints across two hosts ...".
    expect(rankNodes(["iris1", "iris2"], "10.20.30.1")[0]).toBe("iris2");
    expect(rankNodes(["iris1", "iris2"], "10.20.30.2")[0]).toBe("iris1");
  });
});

describe("nodeEligibility", () => {
  it.each([
    ["a healthy node with a live speaker", healthy("node1"), {}, true],
    ["a node whose speaker is not live", healthy("node9"), {}, "speaker not live"],
    ["NetworkUnavailable=True", withCondition("node1", "NetworkUnavailable", "True"), {}, "NetworkUnavailable=True"],
    ["Ready=False", withCondition("node1", "Ready", "False"), {}, "Ready=False"],
    ["the exclude label (any value)", { name: "node1", labels: { [EXCLUDE_LB_LABEL]: "false" } }, {}, "excluded by label node.kubernetes.io/exclude-from-external-load-balancers"],
    ["the exclude label with --ignore-exclude-lb", labelled("node1"), { ignoreExcludeLb: true }, true],
    ["a failed strictARP check with --strict-arp=refuse", healthy("node1"), { strictArpRefusedNodes: new Set(["node1"]) }, "strictARP check failed (--strict-arp=refuse)"],
  ] as const)("%s → %s", (_name, node, options, expected) => {
    expect(nodeEligibility(node, ALL_LIVE, options)).toBe(expected);
  });
});

describe("everyNodeExcludedByLabel", () => {
  it("is true for a single-node kubeadm cluster whose only node carries the label", () => {
    expect(everyNodeExcludedByLabel([labelled("cp")])).toBe(true);
  });
  it("is false when one node lacks the label, or there are no nodes", () => {
    expect(everyNodeExcludedByLabel([labelled("cp"), healthy("worker")])).toBe(false);
    expect(everyNodeExcludedByLabel([])).toBe(false);
  });
});
