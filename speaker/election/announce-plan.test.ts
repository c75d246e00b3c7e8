import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../shared/seeded-random.ts";
import { planAnnouncements, type AnnouncedService, type IpPlan } from "./announce-plan.ts";
import { rankNodes } from "./election.ts";

const nodes = [{ name: "node-1" }, { name: "node-2" }, { name: "node-3" }];
const live = new Set(["node-1", "node-2", "node-3"]);
const ready = (nodeName: string) => ({ nodeName, ready: true });

describe("planAnnouncements", () => {
  it("Services sharing an IP are announced from the same node", () => {
    const ip = "192.168.126.40";
    const services: AnnouncedService[] = [
      { key: "default/dns-tcp", ips: [ip], endpoints: [ready("node-1")] },
      { key: "default/dns-udp", ips: [ip], endpoints: [ready("node-2")] },
    ];
    const plan = planAnnouncements(services, nodes, live).get(ip)!;
    expect(plan.owner).toBe(rankNodes(["node-1", "node-2", "node-3"], ip)[0]);
    expect(plan.services.map((s) => s.owner)).toEqual([plan.owner, plan.owner]);
  });

  it("a shared IP is announced when only one of its Services has endpoints", () => {
    const ip = "192.168.126.41";
    const plan = planAnnouncements(
      [
        { key: "default/empty", ips: [ip], endpoints: [] },
        { key: "default/full", ips: [ip], endpoints: [ready("node-3")] },
      ],
      nodes,
      live,
    ).get(ip)!;
    expect(plan.owner).toBeDefined();
    expect(plan.services[0]).toMatchObject({ owner: undefined, reason: "no ready endpoints" });
  });

  it("no endpoints: nobody announces, and the reason says so", () => {
    const plan = planAnnouncements([{ key: "default/web", ips: ["192.168.126.42"], endpoints: [] }], nodes, live).get("192.168.126.42")!;
    expect(plan).toMatchObject({ owner: undefined, reason: "no ready endpoints" });
  });

  it("a dual-stack Service gets one plan per IP, both owned by the node its first IP ranks first (MetalLB's ShouldAnnounce)", () => {
    const all = ["node-1", "node-2", "node-3"];
    // Ranked alone, the two IPs would go to different nodes: node-3 and node-2.
    expect([rankNodes(all, "192.168.126.43")[0], rankNodes(all, "fd00:126::43")[0]]).toEqual(["node-3", "node-2"]);
    const plans = planAnnouncements(
      [{ key: "default/web", ips: ["192.168.126.43", "fd00:126::43"], endpoints: [ready("node-1"), ready("node-2"), ready("node-3")] }],
      nodes,
      live,
    );
    expect([...plans.keys()]).toEqual(["192.168.126.43", "fd00:126::43"]);
    expect([plans.get("192.168.126.43")!.owner, plans.get("fd00:126::43")!.owner]).toEqual(["node-3", "node-3"]);
    // IPv6 first (ipFamilies: [IPv6, IPv4]): the IPv6 address ranks.
    const v6first = planAnnouncements(
      [{ key: "default/web", ips: ["fd00:126::43", "192.168.126.43"], endpoints: [ready("node-1"), ready("node-2"), ready("node-3")] }],
      nodes,
      live,
    );
    expect([v6first.get("192.168.126.43")!.owner, v6first.get("fd00:126::43")!.owner]).toEqual(["node-2", "node-2"]);
  });
});

/** MetalLB's owner, computed as ShouldAnnounce does: nodes sorted by sha256(node + "#" + firstIp), the first wins. */
function metallbOwner(nodeNames: readonly string[], firstIp: string): string {
  const digest = (n: string) => createHash("sha256").update(`${n}#${firstIp}`).digest("hex");
  return [...nodeNames].sort((a, b) => (digest(a) < digest(b) ? -1 : digest(a) > digest(b) ? 1 : 0))[0];
}

function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const ownersOf = (plans: Map<string, IpPlan>) => new Map([...plans].map(([ip, p]) => [ip, p.owner]));

describe("planAnnouncements ranks as MetalLB's layer-2 election", () => {
  it("a dual-stack Service on iris1..iris4: both IPs go to the first node by sha256(node + '#' + first IP)", () => {
    const iris = ["iris1", "iris2", "iris3", "iris4"];
    // The vector (`printf 'iris4#10.20.30.1' | sha256sum`): iris1 e42ad61a…, iris2 af6cb4e7…, iris3 8c8b1b4b…,
    // iris4 398a1949…, so iris4 announces. Ranked alone, fd00:20:30::1 would go to iris2: iris1 b0d3e6b0…,
    // iris2 1b57d2c9…, iris3 7761b328…, iris4 9cd30eab….
    expect(metallbOwner(iris, "10.20.30.1")).toBe("iris4");
    expect(metallbOwner(iris, "fd00:20:30::1")).toBe("iris2");
    const plans = planAnnouncements([{ key: "default/web", ips: ["10.20.30.1", "fd00:20:30::1"], endpoints: iris.map(ready) }], iris.map((name) => ({ name })), new Set(iris));
    expect(ownersOf(plans)).toEqual(new Map([["10.20.30.1", "iris4"], ["fd00:20:30::1", "iris4"]]));
    // IPv6 first in the ingress: the IPv6 address ranks, and both go to iris2.
    const v6first = planAnnouncements([{ key: "default/web", ips: ["fd00:20:30::1", "10.20.30.1"], endpoints: iris.map(ready) }], iris.map((name) => ({ name })), new Set(iris));
    expect(ownersOf(v6first)).toEqual(new Map([["fd00:20:30::1", "iris2"], ["10.20.30.1", "iris2"]]));
  });

  it("when the owner's speaker dies, both IPs of a dual-stack Service move together to the next node by the first IP", () => {
    const iris = ["iris1", "iris2", "iris3", "iris4"];
    const nodeInfos = iris.map((name) => ({ name }));
    const svc: AnnouncedService = { key: "default/web", ips: ["10.20.30.1", "fd00:20:30::1"], endpoints: iris.map(ready) };
    // sha256 order for 10.20.30.1 (see above): iris4, iris3, iris2, iris1. The second plan reuses the cached ranking.
    expect(ownersOf(planAnnouncements([svc], nodeInfos, new Set(iris)))).toEqual(new Map([["10.20.30.1", "iris4"], ["fd00:20:30::1", "iris4"]]));
    const afterFailure = planAnnouncements([svc], nodeInfos, new Set(["iris1", "iris2", "iris3"]));
    expect(ownersOf(afterFailure)).toEqual(new Map([["10.20.30.1", "iris3"], ["fd00:20:30::1", "iris3"]]));
  });

  it("MetalLB's TestClusterPolicy: two Services on one IP, endpoints on different nodes, one speaker announces both", () => {
    // speaker/layer2_controller_test.go: for 10.20.30.1..255, svc1 (endpoint on iris1) and svc2 (endpoint on
    // iris2) share the IP with externalTrafficPolicy: Cluster; exactly one speaker announces, the same for both
    // Services, and each speaker wins some IPs.
    const iris = [{ name: "iris1" }, { name: "iris2" }];
    const won = new Set<string>();
    for (let i = 1; i < 256; i++) {
      const ip = `10.20.30.${i}`;
      const plan = planAnnouncements(
        [
          { key: "default/svc1", externalTrafficPolicy: "Cluster", ips: [ip], endpoints: [ready("iris1")] },
          { key: "default/svc2", externalTrafficPolicy: "Cluster", ips: [ip], endpoints: [ready("iris2")] },
        ],
        iris,
        new Set(["iris1", "iris2"]),
      ).get(ip)!;
      expect(plan.owner).toBe(metallbOwner(["iris1", "iris2"], ip));
      expect(plan.services.map((s) => s.owner)).toEqual([plan.owner, plan.owner]);
      won.add(plan.owner!);
    }
    expect(won).toEqual(new Set(["iris1", "iris2"]));
  });

  it("a dual-stack Service's two IPs land on one node, MetalLB's, over 500 seeded random node sets", () => {
    const random = seededRandom(20261129);
    for (let round = 0; round < 500; round++) {
      const names = shuffled(Array.from({ length: 12 }, (_, i) => `node-${i}`), random).slice(0, 1 + Math.floor(random() * 7));
      const live = names.filter(() => random() < 0.8);
      if (live.length === 0) live.push(names[0]);
      const a = `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`;
      const b = `fd00:${Math.floor(random() * 0xffff).toString(16)}::${(1 + Math.floor(random() * 0xfffe)).toString(16)}`;
      const ips = random() < 0.5 ? [a, b] : [b, a];
      const plans = planAnnouncements([{ key: "default/web", ips, endpoints: names.map(ready) }], names.map((name) => ({ name })), new Set(live));
      const expected = metallbOwner(live, ips[0]);
      expect([plans.get(ips[0])!.owner, plans.get(ips[1])!.owner], `nodes ${names.join(",")}, live ${live.join(",")}, ips ${ips.join(",")}`).toEqual([expected, expected]);
    }
  });

  it("Services sharing a dual-stack pair in the same order go to MetalLB's node; in opposite orders, to the first Service by key's", () => {
    const all = ["node-1", "node-2", "node-3"];
    const [v4, v6] = ["192.168.126.43", "fd00:126::43"];
    expect([metallbOwner(all, v4), metallbOwner(all, v6)]).toEqual(["node-3", "node-2"]);
    const sameOrder = planAnnouncements(
      [
        { key: "kube-system/dns-udp", ips: [v4, v6], endpoints: all.map(ready) },
        { key: "kube-system/dns-tcp", ips: [v4, v6], endpoints: all.map(ready) },
      ],
      nodes,
      live,
    );
    expect(ownersOf(sameOrder)).toEqual(new Map([[v4, "node-3"], [v6, "node-3"]]));
    // MetalLB would rank dns-tcp by the IPv6 address (node-2) and dns-udp by the IPv4 one (node-3): two nodes
    // would answer for each IP. Here the first by key, dns-tcp, ranks both.
    const opposite = planAnnouncements(
      [
        { key: "kube-system/dns-udp", ips: [v4, v6], endpoints: all.map(ready) },
        { key: "kube-system/dns-tcp", ips: [v6, v4], endpoints: all.map(ready) },
      ],
      nodes,
      live,
    );
    expect(ownersOf(opposite)).toEqual(new Map([[v4, "node-2"], [v6, "node-2"]]));
    for (const plan of opposite.values()) expect(plan.services.map((s) => s.owner)).toEqual(["node-2", "node-2"]);
  });

  it("a single-stack Service sharing a dual-stack Service's IPv6 address: one owner for it, and the dual-stack Service stays whole", () => {
    const all = ["node-1", "node-2", "node-3"];
    const [v4, v6] = ["192.168.126.43", "fd00:126::43"];
    const web: AnnouncedService = { key: "shop/web", ips: [v4, v6], endpoints: all.map(ready) };
    // shop/api sorts before shop/web: the pair ranks by shop/api's first IP, the IPv6 address (node-2).
    const withApi = planAnnouncements([web, { key: "shop/api", ips: [v6], endpoints: all.map(ready) }], nodes, live);
    expect(ownersOf(withApi)).toEqual(new Map([[v4, "node-2"], [v6, "node-2"]]));
    // shop/zzz sorts after: shop/web's first IP ranks (node-3), as MetalLB ranks shop/web.
    const withZzz = planAnnouncements([web, { key: "shop/zzz", ips: [v6], endpoints: all.map(ready) }], nodes, live);
    expect(ownersOf(withZzz)).toEqual(new Map([[v4, "node-3"], [v6, "node-3"]]));
  });

  it("random sharing: one owner per IP agreed by all its Services, whole Services, the same answer in any listing order", () => {
    const random = seededRandom(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const v4s = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"];
    const v6s = ["fd00::1", "fd00::2", "fd00::3", "fd00::4", "fd00::5"];
    for (let round = 0; round < 300; round++) {
      const names = Array.from({ length: 2 + Math.floor(random() * 5) }, (_, i) => `node-${i}`);
      const nodeInfos = names.map((name) => ({ name }));
      const everyone = new Set(names);
      const services: AnnouncedService[] = Array.from({ length: 1 + Math.floor(random() * 8) }, (_, i) => {
        const kind = pick(["v4", "v6", "v4v6", "v6v4"] as const);
        const ips = kind === "v4" ? [pick(v4s)] : kind === "v6" ? [pick(v6s)] : kind === "v4v6" ? [pick(v4s), pick(v6s)] : [pick(v6s), pick(v4s)];
        return { key: `ns/svc-${i}`, ips, endpoints: names.map(ready) };
      });
      const plans = planAnnouncements(services, nodeInfos, everyone);
      for (const plan of plans.values()) {
        expect(plan.owner).toBeDefined();
        expect(plan.services.every((s) => s.owner === plan.owner)).toBe(true);
      }
      for (const svc of services) expect(new Set(svc.ips.map((ip) => plans.get(ip)!.owner)).size).toBe(1);
      // Where every Service sharing an IP lists the same first IP, each is where MetalLB puts it.
      const firstIps = new Map<string, Set<string>>();
      for (const svc of services) for (const ip of svc.ips) firstIps.set(ip, (firstIps.get(ip) ?? new Set()).add(svc.ips[0]));
      if ([...firstIps.values()].every((s) => s.size === 1)) {
        for (const svc of services) expect(plans.get(svc.ips[0])!.owner).toBe(metallbOwner(names, svc.ips[0]));
      }
      const again = planAnnouncements(shuffled(services, random), shuffled(nodeInfos, random), new Set(shuffled(names, random)));
      expect(ownersOf(again)).toEqual(ownersOf(plans));
    }
  });
});
