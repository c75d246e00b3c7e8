import { describe, expect, it } from "vitest";
import { advertisement } from "../../test/fixtures/config-objects.ts";
import type { Advertisement, LabelSelector, Pool } from "../../shared/config/config-types.ts";
import { parseConfig } from "../../shared/config/parse-config.ts";
import { announceInterfaces, nodePlacement, unionInterfaces } from "./advertisement-policy.ts";
import { planAnnouncements, type AnnouncedService, type Advertising } from "./announce-plan.ts";
import { desiredAnnouncements } from "./desired-announcements.ts";
import { electOwner, rankNodes, type NodeInfo } from "./election.ts";
import type { MembershipView } from "../cluster/membership-view.ts";

// For 10.20.30.4 the hash order of node1..node3 is node2, node1, node3 (election.test.ts checks it).
const IP = "10.20.30.4";
const NODES: NodeInfo[] = [
  { name: "node1", labels: { zone: "a", role: "lb", disk: "ssd" } },
  { name: "node2", labels: { zone: "b", role: "worker" } },
  { name: "node3", labels: { zone: "a", role: "edge" } },
];
const ALL_LIVE = new Set(["node1", "node2", "node3"]);
const EVERYWHERE = [{ nodeName: "node1", ready: true }, { nodeName: "node2", ready: true }, { nodeName: "node3", ready: true }];
const lan: Pool = { name: "lan", protocol: "layer2", ranges: [], autoAssign: true, avoidBuggyIps: false, labels: { tier: "gold" } };

const ad = advertisement;
const labels = (matchLabels: Record<string, string>): LabelSelector => ({ matchLabels });
const prefer = (weight: number, matchLabels: Record<string, string>) => ({ weight, preference: labels(matchLabels) });

function service(over: Partial<AnnouncedService> = {}): AnnouncedService {
  return { key: "shop/web", ips: [IP], endpoints: EVERYWHERE, labels: { app: "web" }, pools: ["lan"], ...over };
}

interface Case {
  name: string;
  ads: Advertisement[];
  svc?: Partial<AnnouncedService>;
  live?: Set<string>;
  expected: string | { reason: string | RegExp };
}

const cases: Case[] = [
  // Which pools an advertisement covers.
  { name: "an advertisement naming the pool: node 2, first by hash, announces", ads: [ad("l2", { ipAddressPools: ["lan"] })], expected: "node2" },
  { name: "an advertisement selecting the pool by its labels", ads: [ad("l2", { ipAddressPoolSelectors: [labels({ tier: "gold" })] })], expected: "node2" },
  { name: "an advertisement naming and selecting no pool covers every pool", ads: [ad("l2")], expected: "node2" },
  { name: "an advertisement naming another pool: not announced", ads: [ad("l2", { ipAddressPools: ["dmz"] })], expected: { reason: 'not announced: no L2Advertisement selects pool "lan"' } },
  { name: "a pool selector that does not match the pool's labels: not announced", ads: [ad("l2", { ipAddressPoolSelectors: [labels({ tier: "bronze" })] })], expected: { reason: 'not announced: no L2Advertisement selects pool "lan"' } },
  { name: "no advertisement at all: not announced", ads: [], expected: { reason: 'not announced: no L2Advertisement selects pool "lan"' } },
  // serviceSelectors.
  { name: "serviceSelectors matching the Service's labels", ads: [ad("l2", { serviceSelectors: [labels({ app: "web" })] })], expected: "node2" },
  { name: "serviceSelectors not matching the Service: not announced, naming the selectors", ads: [ad("l2", { serviceSelectors: [labels({ app: "db" })] })], expected: { reason: /^not announced: .*pool "lan" do not select the Service: .*app=db/ } },
  {
    name: "one advertisement excludes the Service by serviceSelectors, another applies",
    ads: [ad("db-only", { serviceSelectors: [labels({ app: "db" })] }), ad("all")],
    expected: "node2",
  },
  // nodeSelectors: who may win.
  { name: "nodeSelectors select node 1 and node 3: node 1, first by hash among them, announces", ads: [ad("l2", { nodeSelectors: [labels({ zone: "a" })] })], expected: "node1" },
  { name: "nodeSelectors of one advertisement OR together", ads: [ad("l2", { nodeSelectors: [labels({ role: "edge" }), labels({ role: "worker" })] })], expected: "node2" },
  {
    name: "nodeSelectors of two advertisements combine: node 3 by one, node 1 by the other, node 1 announces",
    ads: [ad("edge", { nodeSelectors: [labels({ role: "edge" })] }), ad("lb", { nodeSelectors: [labels({ role: "lb" })] })],
    expected: "node1",
  },
  {
    name: "an advertisement without nodeSelectors beside one with them: every node may announce",
    ads: [ad("edge", { nodeSelectors: [labels({ role: "edge" })] }), ad("all")],
    expected: "node2",
  },
  {
    name: "nodeSelectors of an advertisement that does not apply to the Service do not count",
    ads: [ad("db-on-edge", { nodeSelectors: [labels({ role: "edge" })], serviceSelectors: [labels({ app: "db" })] }), ad("lb", { nodeSelectors: [labels({ role: "lb" })] })],
    expected: "node1",
  },
  {
    name: "the selected node's speaker is not live: nobody announces",
    ads: [ad("l2", { nodeSelectors: [labels({ role: "edge" })] })],
    live: new Set(["node1", "node2"]),
    expected: { reason: "no live speaker on a node the L2Advertisements for this IP select (nodeSelectors)" },
  },
  { name: "nodeSelectors match no node: nobody announces", ads: [ad("l2", { nodeSelectors: [labels({ role: "gpu" })] })], expected: { reason: "no node matches the nodeSelectors of the L2Advertisements for this IP" } },
  {
    name: "ETP Local: only selected nodes with a local endpoint",
    ads: [ad("l2", { nodeSelectors: [labels({ zone: "a" })] })],
    svc: { externalTrafficPolicy: "Local", endpoints: [{ nodeName: "node2", ready: true }, { nodeName: "node3", ready: true }] },
    expected: "node3",
  },
  // preferredNodeSelectors: who wins among the eligible.
  { name: "a preferred node announces instead of the first by hash", ads: [ad("l2", { preferredNodeSelectors: [prefer(50, { role: "edge" })] })], expected: "node3" },
  {
    name: "weights add up: node 1 scores 60 + 50 and beats node 3's 100",
    ads: [ad("l2", { preferredNodeSelectors: [prefer(60, { zone: "a" }), prefer(50, { disk: "ssd" }), prefer(40, { role: "edge" })] })],
    expected: "node1",
  },
  {
    name: "weights of two advertisements add up: node 1 scores 70 + 30, node 3 80",
    ads: [ad("a", { preferredNodeSelectors: [prefer(70, { role: "lb" }), prefer(80, { role: "edge" })] }), ad("b", { preferredNodeSelectors: [prefer(30, { disk: "ssd" })] })],
    expected: "node1",
  },
  { name: "equal scores: the hash breaks the tie (node 1 before node 3)", ads: [ad("l2", { preferredNodeSelectors: [prefer(50, { zone: "a" })] })], expected: "node1" },
  {
    name: "the preferred node's speaker is dead: the next by score, then hash",
    ads: [ad("l2", { preferredNodeSelectors: [prefer(100, { role: "edge" }), prefer(10, { role: "worker" })] })],
    live: new Set(["node1", "node2"]),
    expected: "node2",
  },
  {
    name: "no preferred node eligible: plain hash among the eligible",
    ads: [ad("l2", { preferredNodeSelectors: [prefer(100, { role: "edge" })] })],
    live: new Set(["node1", "node2"]),
    expected: "node2",
  },
  {
    name: "a preference does not lift a node its advertisement does not select",
    ads: [ad("lb", { nodeSelectors: [labels({ role: "lb" }), labels({ role: "worker" })], preferredNodeSelectors: [prefer(100, { role: "edge" })] }), ad("edge", { nodeSelectors: [labels({ role: "edge" })] })],
    expected: "node2",
  },
  {
    name: "preferences of an advertisement that does not apply to the Service do not count",
    ads: [ad("db", { serviceSelectors: [labels({ app: "db" })], preferredNodeSelectors: [prefer(100, { role: "edge" })] }), ad("all")],
    expected: "node2",
  },
];

describe("planAnnouncements with L2Advertisements", () => {
  it.each(cases)("$name", (c) => {
    const advertising: Advertising = { pools: [lan], advertisements: c.ads };
    const plan = planAnnouncements([service(c.svc)], NODES, c.live ?? ALL_LIVE, { advertising }).get(IP)!;
    if (typeof c.expected === "string") expect(plan).toMatchObject({ owner: c.expected, reason: undefined, unadvertised: false });
    else {
      expect(plan.owner).toBeUndefined();
      if (typeof c.expected.reason === "string") expect(plan.reason).toBe(c.expected.reason);
      else expect(plan.reason).toMatch(c.expected.reason);
      expect(plan.unadvertised).toBe(plan.reason!.startsWith("not announced:"));
    }
  });

  it("the legacy ConfigMap's implicit advertisement elects exactly as no policy at all", () => {
    const parsed = parseConfig("address-pools:\n- name: default\n  protocol: layer2\n  addresses: [10.20.0.0/16]\n");
    if (!parsed.ok) throw new Error(parsed.errors.join("; "));
    const advertising = { pools: parsed.config.pools, advertisements: parsed.config.advertisements };
    const services = Array.from({ length: 200 }, (_, i) => {
      const ip = `10.20.${i >> 4}.${i & 15}`;
      return service({ key: `shop/svc-${i}`, ips: [ip], pools: ["default"], endpoints: i % 7 === 0 ? [] : EVERYWHERE });
    });
    for (const live of [ALL_LIVE, new Set(["node1", "node3"]), new Set<string>()]) {
      const withPolicy = planAnnouncements(services, NODES, live, { advertising });
      const without = planAnnouncements(services, NODES, live);
      expect([...withPolicy.values()].map((p) => [p.ip, p.owner, p.reason])).toEqual([...without.values()].map((p) => [p.ip, p.owner, p.reason]));
    }
  });

  it("a shared IP takes the owner of the first Service by key, whatever order the informers list them in", () => {
    // Services that match different advertisements may elect different nodes (MetalLB's caveat too);
    // one IP still gets one owner, the same on every speaker.
    const advertising = {
      pools: [lan],
      advertisements: [
        ad("edge", { nodeSelectors: [labels({ role: "edge" })], serviceSelectors: [labels({ proto: "tcp" })] }),
        ad("lb", { nodeSelectors: [labels({ role: "lb" })], serviceSelectors: [labels({ proto: "udp" })] }),
      ],
    };
    const tcp = service({ key: "kube-system/dns-tcp", labels: { proto: "tcp" } });
    const udp = service({ key: "kube-system/dns-udp", labels: { proto: "udp" } });
    const forward = planAnnouncements([tcp, udp], NODES, ALL_LIVE, { advertising }).get(IP)!;
    const backward = planAnnouncements([udp, tcp], NODES, ALL_LIVE, { advertising }).get(IP)!;
    expect(forward.services.map((s) => s.owner)).toEqual(["node3", "node1"]);
    expect(forward.owner).toBe("node3");
    expect(backward).toEqual(forward);
  });

  it("a shared IP is announced when one of its Services has an advertisement", () => {
    const advertising = { pools: [lan], advertisements: [ad("web-only", { serviceSelectors: [labels({ app: "web" })] })] };
    const plan = planAnnouncements([service({ key: "shop/a-db", labels: { app: "db" } }), service()], NODES, ALL_LIVE, { advertising }).get(IP)!;
    expect(plan).toMatchObject({ owner: "node2", unadvertised: false });
    expect(plan.services[0]).toMatchObject({ key: "shop/a-db", owner: undefined, reason: expect.stringMatching(/^not announced:/) });
  });

  it("an IP unadvertised and without endpoints says it is not announced (the config is the cause to fix)", () => {
    const plan = planAnnouncements([service({ endpoints: [] })], NODES, ALL_LIVE, { advertising: { pools: [lan], advertisements: [] } }).get(IP)!;
    expect(plan).toMatchObject({ unadvertised: true, reason: 'not announced: no L2Advertisement selects pool "lan"' });
  });
});

describe("electOwner with a placement", () => {
  it("ranks the eligible nodes by score, then by hash", () => {
    const placement = nodePlacement([ad("l2", { preferredNodeSelectors: [prefer(10, { zone: "a" }), prefer(5, { role: "edge" })] })], NODES)!;
    expect(placement.scores).toEqual(new Map([["node1", 10], ["node3", 15]]));
    expect(electOwner(IP, { endpoints: EVERYWHERE, placement }, NODES, ALL_LIVE)).toEqual({ owner: "node3", ranked: ["node3", "node1", "node2"] });
    expect(rankNodes(["node1", "node2", "node3"], IP)).toEqual(["node2", "node1", "node3"]);
  });

  it("every speaker computes the same owner whatever order it lists nodes in", () => {
    const placement = (nodes: NodeInfo[]) => nodePlacement([ad("l2", { nodeSelectors: [labels({ zone: "a" })], preferredNodeSelectors: [prefer(1, { role: "edge" })] })], nodes);
    const reversed = [...NODES].reverse();
    expect(electOwner(IP, { endpoints: EVERYWHERE, placement: placement(reversed) }, reversed, ALL_LIVE)).toEqual(
      electOwner(IP, { endpoints: EVERYWHERE, placement: placement(NODES) }, NODES, ALL_LIVE),
    );
  });
});

describe("nodePlacement", () => {
  it("is undefined when no advertisement restricts or prefers nodes (the legacy ConfigMap's case)", () => {
    expect(nodePlacement([ad("a", { interfaces: ["eth1"] }), ad("b")], NODES)).toBeUndefined();
  });
  it("selects the nodes any advertisement selects and scores only within each advertisement's own nodes", () => {
    const p = nodePlacement(
      [ad("lb", { nodeSelectors: [labels({ role: "lb" })], preferredNodeSelectors: [prefer(20, { zone: "a" })] }), ad("edge", { nodeSelectors: [labels({ role: "edge" })] })],
      NODES,
    )!;
    expect([...p.selected].sort()).toEqual(["node1", "node3"]);
    expect(p.scores).toEqual(new Map([["node1", 20]]));
  });
  it("an empty preference matches every node the advertisement selects", () => {
    const p = nodePlacement([ad("l2", { nodeSelectors: [labels({ zone: "a" })], preferredNodeSelectors: [{ weight: 7, preference: {} }] })], NODES)!;
    expect(p.scores).toEqual(new Map([["node1", 7], ["node3", 7]]));
  });
});

describe("announceInterfaces", () => {
  const node1 = NODES[0];
  it.each([
    ["one advertisement lists eth1", [ad("a", { interfaces: ["eth1"] })], ["eth1"]],
    ["two advertisements: the union, sorted", [ad("a", { interfaces: ["eth1"] }), ad("b", { interfaces: ["eth0", "eth1"] })], ["eth0", "eth1"]],
    ["one lists none: every eligible interface", [ad("a", { interfaces: ["eth1"] }), ad("b")], undefined],
    ["no interfaces anywhere: every eligible interface", [ad("a")], undefined],
    [
      "only advertisements that select this node count",
      [ad("a", { interfaces: ["eth1"], nodeSelectors: [labels({ role: "lb" })] }), ad("b", { nodeSelectors: [labels({ role: "edge" })] })],
      ["eth1"],
    ],
  ] as const)("%s", (_name, ads, expected) => {
    expect(announceInterfaces(ads, node1)).toEqual(expected);
  });

  it("combines the choices of Services sharing an IP: every interface wins", () => {
    expect(unionInterfaces(["eth1"], ["eth0"])).toEqual(["eth0", "eth1"]);
    expect(unionInterfaces(["eth1"], undefined)).toBeUndefined();
  });
});

describe("desiredAnnouncements with L2Advertisements", () => {
  const view = { live: ALL_LIVE, quorum: true, quorumReason: "3 of 3" } as unknown as MembershipView;
  const snapshot = (advertisements: Advertisement[], services: AnnouncedService[] = [service()]) => ({
    services,
    nodes: NODES,
    strictArpRefused: new Set<string>(),
    advertising: { pools: [lan], advertisements },
  });

  it("gives the owner the interfaces its advertisements list for it", () => {
    const ads = [ad("lb", { nodeSelectors: [labels({ role: "lb" })], interfaces: ["eth1"] }), ad("edge", { nodeSelectors: [labels({ role: "edge" })], interfaces: ["eth2"] })];
    const d = desiredAnnouncements(snapshot(ads), view, "node1", { ignoreExcludeLb: false });
    expect([...d.owned]).toEqual([IP]);
    expect(d.interfaces.get(IP)).toEqual(["eth1"]);
  });

  it("leaves the interfaces open (undefined) without an interfaces list", () => {
    const d = desiredAnnouncements(snapshot([ad("l2")]), view, "node2", { ignoreExcludeLb: false });
    expect(d.interfaces).toEqual(new Map([[IP, undefined]]));
  });

  it("unions the interfaces of every Service sharing the IP", () => {
    const ads = [ad("web", { serviceSelectors: [labels({ app: "web" })], interfaces: ["eth1"] }), ad("dns", { serviceSelectors: [labels({ app: "dns" })], interfaces: ["eth0"] })];
    const d = desiredAnnouncements(snapshot(ads, [service(), service({ key: "shop/dns", labels: { app: "dns" } })]), view, "node2", { ignoreExcludeLb: false });
    expect(d.interfaces.get(IP)).toEqual(["eth0", "eth1"]);
  });

  it("lists unadvertised IPs, owned by nobody, with the reason", () => {
    const d = desiredAnnouncements(snapshot([ad("l2", { ipAddressPools: ["dmz"] })]), view, "node2", { ignoreExcludeLb: false });
    expect(d.unadvertised).toEqual([IP]);
    expect(d.owned.size).toBe(0);
    expect(d.owners.get(IP)).toBeUndefined();
    expect(d.reasons.get(IP)).toBe('not announced: no L2Advertisement selects pool "lan"');
  });
});
