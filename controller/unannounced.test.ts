import { describe, expect, it } from "vitest";
import { advertisement } from "../test/fixtures/config-objects.ts";
import type { Advertisement, Pool } from "../shared/config/config-types.ts";
import { parseIpRange } from "../shared/ip/range.ts";
import { announcesEveryIp, unannouncedIps } from "./unannounced.ts";

function pool(name: string, cidr: string, labels?: Record<string, string>): Pool {
  const r = parseIpRange(cidr);
  if (!r.ok) throw new Error(cidr);
  return { name, protocol: "layer2", ranges: [{ ...r.range, text: cidr, index: 0 }], autoAssign: true, avoidBuggyIps: false, labels };
}
const ad = advertisement;

const pools = [pool("lan", "192.0.2.0/28", { tier: "lan" }), pool("dmz", "198.51.100.0/28")];

describe("unannouncedIps", () => {
  it("names the IP, its pool and the fix when no advertisement selects the pool", () => {
    expect(unannouncedIps(["198.51.100.3"], { pools, advertisements: [ad("l2", { ipAddressPools: ["lan"] })] }, {})).toEqual([
      {
        ip: "198.51.100.3",
        pool: "dmz",
        message: '198.51.100.3 from pool "dmz" is not announced: no L2Advertisement selects pool "dmz"; create one that does (spec.ipAddressPools: [dmz])',
      },
    ]);
  });

  it.each<[string, Advertisement[], Record<string, string>, string[]]>([
    ["an advertisement naming no pool covers all", [ad("all")], {}, []],
    ["a pool selector", [ad("sel", { ipAddressPoolSelectors: [{ matchLabels: { tier: "lan" } }] })], {}, ["198.51.100.3"]],
    ["no advertisement at all", [], {}, ["192.0.2.3", "198.51.100.3"]],
    ["a service selector the Service matches", [ad("web", { serviceSelectors: [{ matchLabels: { app: "web" } }] })], { app: "web" }, []],
    ["a service selector it does not match", [ad("web", { serviceSelectors: [{ matchLabels: { app: "web" } }] })], { app: "db" }, ["192.0.2.3", "198.51.100.3"]],
  ])("%s", (_name, advertisements, labels, dark) => {
    expect(unannouncedIps(["192.0.2.3", "198.51.100.3"], { pools, advertisements }, labels).map((u) => u.ip)).toEqual(dark);
  });

  it("says which serviceSelectors left the Service out", () => {
    const [u] = unannouncedIps(["192.0.2.3"], { pools, advertisements: [ad("web", { serviceSelectors: [{ matchLabels: { app: "web" } }] })] }, {});
    expect(u.message).toBe(
      '192.0.2.3 from pool "lan" is not announced: the L2Advertisements selecting pool "lan" do not select the Service: L2Advertisement metallb-system/web (serviceSelectors app=web); label the Service to match one of them, or add an L2Advertisement without serviceSelectors for the pool',
    );
  });

  it("ignores IPs in no pool and text that is no IP", () => {
    expect(unannouncedIps(["203.0.113.1", "nope"], { pools, advertisements: [] }, {})).toEqual([]);
  });

  it("names the advertisements whose nodeSelectors match no node", () => {
    const edge = ad("edge", { nodeSelectors: [{ matchLabels: { role: "edge" } }] });
    const nodes = [{ labels: { role: "worker" } }, {}];
    expect(unannouncedIps(["192.0.2.3"], { pools, advertisements: [edge] }, {}, nodes)).toEqual([
      {
        ip: "192.0.2.3",
        pool: "lan",
        message:
          '192.0.2.3 from pool "lan" is not announced: no node matches the nodeSelectors of L2Advertisement metallb-system/edge (role=edge); label a node to match, or change the nodeSelectors',
      },
    ]);
    expect(unannouncedIps(["192.0.2.3"], { pools, advertisements: [edge] }, {}, [...nodes, { labels: { role: "edge" } }])).toEqual([]);
    expect(unannouncedIps(["192.0.2.3"], { pools, advertisements: [edge, ad("all")] }, {}, nodes)).toEqual([]);
    expect(unannouncedIps(["192.0.2.3"], { pools, advertisements: [edge] }, {}, undefined)).toEqual([]);
    expect(unannouncedIps(["192.0.2.3"], { pools, advertisements: [ad("all")] }, {}, [])).toEqual([]);
  });
});

describe("announcesEveryIp", () => {
  it.each<[string, Advertisement[], boolean]>([
    ["one advertisement for all pools, all Services, all nodes", [ad("all")], true],
    ["one advertisement per pool", [ad("a", { ipAddressPools: ["lan"] }), ad("b", { ipAddressPools: ["dmz"] })], true],
    ["a pool no advertisement selects", [ad("a", { ipAddressPools: ["lan"] })], false],
    ["the only advertisement selects Services", [ad("all", { serviceSelectors: [{ matchLabels: { app: "web" } }] })], false],
    ["the only advertisement selects nodes", [ad("all", { nodeSelectors: [{ matchLabels: { role: "edge" } }] })], false],
    ["a selective one and a catch-all", [ad("edge", { nodeSelectors: [{ matchLabels: { role: "edge" } }] }), ad("all")], true],
  ])("%s: %s", (_name, advertisements, expected) => {
    expect(announcesEveryIp({ pools, advertisements })).toBe(expected);
    // Whenever it says so, no IP of any pool is unannounced, whatever the Service's labels or the nodes.
    if (expected) expect(unannouncedIps(["192.0.2.3", "198.51.100.3"], { pools, advertisements }, { app: "x" }, [])).toEqual([]);
  });
});
