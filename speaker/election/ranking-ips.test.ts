import { describe, expect, it } from "vitest";
import { seededRandom } from "../../shared/seeded-random.ts";
import { rankingIps as rankingIpOf, type RankedService } from "./ranking-ips.ts";

/** Each IP's ranking IP, checking that every Service listing an IP gets the same one. */
function rankingIps(services: readonly RankedService[]): Map<string, string> {
  const rankingIp = rankingIpOf(services);
  const out = new Map<string, string>();
  for (const svc of services) {
    for (const ip of svc.ips) {
      const ranked = rankingIp(svc, ip);
      expect(out.get(ip) ?? ranked, `${svc.key} ranks ${ip} another way`).toBe(ranked);
      out.set(ip, ranked);
    }
  }
  return out;
}

const v4 = "192.168.126.43";
const v6 = "fd00:126::43";

describe("rankingIps", () => {
  it("ranks each IP of a Service by its first IP, in ingress order (MetalLB: toAnnounce[0])", () => {
    expect(rankingIps([{ key: "default/web", ips: [v4, v6] }])).toEqual(new Map([[v4, v4], [v6, v4]]));
    expect(rankingIps([{ key: "default/web", ips: [v6, v4] }])).toEqual(new Map([[v6, v6], [v4, v6]]));
  });

  it("Services without a shared IP rank by their own first IPs", () => {
    const ranks = rankingIps([
      { key: "default/web", ips: ["10.0.0.1", "fd00::1"] },
      { key: "default/api", ips: ["fd00::2", "10.0.0.2"] },
      { key: "default/db", ips: ["10.0.0.3"] },
    ]);
    expect(Object.fromEntries(ranks)).toEqual({
      "10.0.0.1": "10.0.0.1",
      "fd00::1": "10.0.0.1",
      "fd00::2": "fd00::2",
      "10.0.0.2": "fd00::2",
      "10.0.0.3": "10.0.0.3",
    });
  });

  it("Services sharing a dual-stack pair in the same order rank by their common first IP, as MetalLB does", () => {
    const ranks = rankingIps([
      { key: "kube-system/dns-udp", ips: [v4, v6] },
      { key: "kube-system/dns-tcp", ips: [v4, v6] },
    ]);
    expect(ranks).toEqual(new Map([[v4, v4], [v6, v4]]));
  });

  it("a dual-stack Service sharing only its IPv6 address ranks with its sharer: the first Service by key decides", () => {
    // MetalLB would rank shop/web by 192.168.126.43 and shop/api by fd00:126::43, and could elect two nodes
    // for fd00:126::43. Here both rank by one IP, so shop/web keeps both its IPs on one node.
    const web = { key: "shop/web", ips: [v4, v6] };
    expect(rankingIps([web, { key: "shop/api", ips: [v6] }])).toEqual(new Map([[v4, v6], [v6, v6]]));
    expect(rankingIps([web, { key: "shop/zzz", ips: [v6] }])).toEqual(new Map([[v4, v4], [v6, v4]]));
  });

  it("Services listing a shared pair in opposite family order rank by the first Service by key's first IP", () => {
    const ranks = rankingIps([
      { key: "default/b-v6-first", ips: [v6, v4] },
      { key: "default/a-v4-first", ips: [v4, v6] },
    ]);
    expect(ranks).toEqual(new Map([[v4, v4], [v6, v4]]));
  });

  it("a chain of Services linked through shared IPs ranks by one IP; an unrelated Service keeps its own", () => {
    const ranks = rankingIps([
      { key: "ns/c", ips: ["10.0.0.3", "fd00::2"] },
      { key: "ns/b", ips: ["fd00::2", "10.0.0.2"] },
      { key: "ns/a", ips: ["10.0.0.2"] },
      { key: "ns/other", ips: ["10.0.0.9", "fd00::9"] },
    ]);
    expect(Object.fromEntries(ranks)).toEqual({
      "10.0.0.3": "10.0.0.2",
      "fd00::2": "10.0.0.2",
      "10.0.0.2": "10.0.0.2",
      "10.0.0.9": "10.0.0.9",
      "fd00::9": "10.0.0.9",
    });
  });

  it("gives the same answer whatever order the Services are listed in (200 seeded shuffles)", () => {
    const random = seededRandom(13);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const v4s = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];
    const v6s = ["fd00::1", "fd00::2", "fd00::3", "fd00::4"];
    for (let round = 0; round < 200; round++) {
      const services = Array.from({ length: 6 }, (_, i) => {
        const kind = pick(["v4", "v6", "v4v6", "v6v4"] as const);
        const ips = kind === "v4" ? [pick(v4s)] : kind === "v6" ? [pick(v6s)] : kind === "v4v6" ? [pick(v4s), pick(v6s)] : [pick(v6s), pick(v4s)];
        return { key: `ns/svc-${i}`, ips };
      });
      const expected = rankingIps(services);
      const shuffled = [...services];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
      }
      expect(rankingIps(shuffled)).toEqual(expected);
      // Every IP of a Service shares one ranking IP.
      for (const svc of services) expect(new Set(svc.ips.map((ip) => expected.get(ip))).size).toBe(1);
    }
  });
});
