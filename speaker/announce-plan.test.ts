import { describe, expect, it } from "vitest";
import { planAnnouncements, type AnnouncedService } from "./announce-plan.ts";
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
