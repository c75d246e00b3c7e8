import { describe, expect, it } from "vitest";
import type { LabelSelector, Pool, ServiceAllocation } from "../shared/config/config-types.ts";
import { parseConfig } from "../shared/config/parse-config.ts";
import { parseIp } from "../shared/ip/address.ts";
import type { AllocationRequest } from "./allocation-request.ts";
import { Allocator } from "./allocator.ts";

/** Pools from a compact spec: `name[flags]: entry, entry` per line; flags: manual, buggy, ns=a|b. */
function pools(spec: string): Pool[] {
  const yaml = spec
    .trim()
    .split("\n")
    .map((line) => {
      const [head, entries] = line.split(":").length > 2 ? splitOnce(line) : (line.split(": ") as [string, string]);
      const [name, ...flags] = head.trim().split(" ");
      const lines = [`- name: ${name}`, "  protocol: layer2", "  addresses:", ...entries.split(",").map((e) => `  - "${e.trim()}"`)];
      if (flags.includes("manual")) lines.push("  auto-assign: false");
      if (flags.includes("buggy")) lines.push("  avoid-buggy-ips: true");
      const ns = flags.find((f) => f.startsWith("ns="));
      if (ns) lines.push(`  namespaces: [${ns.slice(3).split("|").join(", ")}]`);
      return lines.join("\n");
    })
    .join("\n");
  const result = parseConfig(`address-pools:\n${yaml}\n`);
  if (!result.ok) throw new Error(result.errors.join("\n"));
  return [...result.config.pools];
}

/** Splits `name flags: entries` at the first ": " (IPv6 entries contain colons). */
function splitOnce(line: string): [string, string] {
  const at = line.indexOf(": ");
  return [line.slice(0, at), line.slice(at + 2)];
}

type RequestSpec = Partial<Omit<AllocationRequest, "requestedIps">> & { ips?: string[] };

function request(spec: RequestSpec = {}): AllocationRequest {
  const { ips, ...rest } = spec;
  return {
    namespace: "default",
    ipFamilies: [4],
    ipFamilyPolicy: "SingleStack",
    ports: [{ protocol: "TCP", port: 80 }],
    externalTrafficPolicy: "Cluster",
    selector: { app: "web" },
    serviceLabels: {},
    namespaceLabels: undefined,
    ...rest,
    requestedIps: (ips ?? []).map((text) => {
      const parsed = parseIp(text);
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.ip;
    }),
  };
}

function allocator(spec: string): Allocator {
  const a = new Allocator();
  expect(a.setPools(pools(spec))).toEqual({ ok: true });
  return a;
}

function ipsOf(a: Allocator, service: string, spec: RequestSpec = {}): string[] | string {
  const result = a.allocate(service, request(spec));
  return result.ok ? result.ips : result.reason;
}

const TCP = (port: number) => ({ protocol: "TCP" as const, port });
const UDP = (port: number) => ({ protocol: "UDP" as const, port });
const NOT_AUTO = "(name it in metallb.universe.tf/address-pool to use it)";

describe("Allocator: choosing addresses", () => {
  it.each<[string, string, [string, RequestSpec][], (string[] | string)[]]>([
    ["takes the lowest free address", "a: 10.0.0.0/30", [["s1", {}], ["s2", {}], ["s3", {}]], [["10.0.0.0"], ["10.0.0.1"], ["10.0.0.2"]]],
    [
      "walks a pool's entries in config order",
      "a: 10.0.0.10-10.0.0.11, 10.0.0.1",
      [["s1", {}], ["s2", {}], ["s3", {}]],
      [["10.0.0.10"], ["10.0.0.11"], ["10.0.0.1"]],
    ],
    [
      "walks pools in config order",
      "first: 10.0.1.1\nsecond: 10.0.0.1",
      [["s1", {}], ["s2", {}]],
      [["10.0.1.1"], ["10.0.0.1"]],
    ],
    [
      "skips auto-assign: false pools by default",
      "manual manual: 10.0.0.1\nauto: 10.0.1.1",
      [["s1", {}], ["s2", {}]],
      [["10.0.1.1"], `no available IPv4 IPs: pool "auto" has no free IPv4 address; pool "manual" has auto-assign: false ${NOT_AUTO}`],
    ],
    [
      "uses an auto-assign: false pool when it is named",
      "manual manual: 10.0.0.1\nauto: 10.0.1.1",
      [["s1", { pool: "manual" }]],
      [["10.0.0.1"]],
    ],
    [
      "uses an auto-assign: false pool for a requested IP in it",
      "manual manual: 10.0.0.1-10.0.0.9\nauto: 10.0.1.1",
      [["s1", { ips: ["10.0.0.5"] }]],
      [["10.0.0.5"]],
    ],
    ["gives a requested IP in a pool", "a: 10.0.0.0/28", [["s1", { ips: ["10.0.0.9"] }], ["s2", {}]], [["10.0.0.9"], ["10.0.0.0"]]],
    [
      "refuses a requested IP outside every pool",
      "a: 10.0.0.0/28\nb: 10.0.1.0/28",
      [["s1", { ips: ["192.168.1.1"] }]],
      ["192.168.1.1 is not in any pool; request an address of a configured pool (a, b)"],
    ],
    [
      "refuses a requested IP outside the named pool",
      "a: 10.0.0.0/28\nb: 10.0.1.0/28",
      [["s1", { ips: ["10.0.0.3"], pool: "b" }]],
      ['10.0.0.3 is in pool "a", not in the requested pool "b"; request an address of pool "b" or change metallb.universe.tf/address-pool'],
    ],
    [
      "refuses a requested IP that another Service holds, naming it",
      "a: 10.0.0.0/28",
      [["default/one", {}], ["default/two", { ips: ["10.0.0.0"] }]],
      [
        ["10.0.0.0"],
        "cannot share 10.0.0.0 with default/one: neither Service has an allow-shared-ip key; request another IP, or give both the same metallb.universe.tf/allow-shared-ip value",
      ],
    ],
    [
      "picks the pool named by the annotation",
      "a: 10.0.0.0/28\nb: 10.0.1.0/28",
      [["s1", { pool: "b" }], ["s2", {}]],
      [["10.0.1.0"], ["10.0.0.0"]],
    ],
    [
      "refuses an unknown pool name",
      "a: 10.0.0.0/28",
      [["s1", { pool: "nope" }]],
      ['pool "nope" (from metallb.universe.tf/address-pool) does not exist; configured pools: a'],
    ],
    [
      "reports exhaustion, pool by pool",
      "a: 10.0.0.1\nb: fd00::1",
      [["s1", {}], ["s2", {}]],
      [["10.0.0.1"], 'no available IPv4 IPs: pool "a" has no free IPv4 address; pool "b" has no IPv4 addresses'],
    ],
    [
      "reports exhaustion of a named pool",
      "a: 10.0.0.1",
      [["s1", { pool: "a" }], ["s2", { pool: "a" }]],
      [["10.0.0.1"], 'no available IPv4 IPs in pool "a": pool "a" has no free IPv4 address'],
    ],
    ["reports a config without pools", "", [["s1", {}]], ["no address pools are configured; add one to the config"]],
  ])("%s", (_name, spec, steps, expected) => {
    const a = spec === "" ? new Allocator() : allocator(spec);
    expect(steps.map(([service, req]) => ipsOf(a, service, req))).toEqual(expected);
  });

  it("frees addresses on unassign and hands the lowest one out again", () => {
    const a = allocator("a: 10.0.0.0/30");
    for (const s of ["s0", "s1", "s2", "s3"]) ipsOf(a, s);
    expect(ipsOf(a, "s4")).toBe('no available IPv4 IPs: pool "a" has no free IPv4 address');
    expect(a.unassign("s2")).toEqual(["10.0.0.2"]);
    expect(a.unassign("s1")).toEqual(["10.0.0.1"]);
    expect(a.unassign("s1")).toEqual([]);
    expect(a.assignedTo("s1")).toBeUndefined();
    expect(ipsOf(a, "s4")).toEqual(["10.0.0.1"]);
    expect(ipsOf(a, "s5")).toEqual(["10.0.0.2"]);
  });
});

describe("Allocator: IP families", () => {
  const dual = "v4only: 10.0.0.0/30\ndual: 10.0.1.0/30, fd00::/126\nv6only: fd01::/126";
  it.each<[string, string, RequestSpec, string[] | string]>([
    ["SingleStack takes the first family", dual, { ipFamilies: [6, 4] }, ["fd00::"]],
    ["SingleStack IPv4", dual, { ipFamilies: [4, 6] }, ["10.0.0.0"]],
    ["PreferDualStack takes both from the first pool that has both", dual, { ipFamilies: [4, 6], ipFamilyPolicy: "PreferDualStack" }, ["10.0.1.0", "fd00::"]],
    ["PreferDualStack lists the primary family first", dual, { ipFamilies: [6, 4], ipFamilyPolicy: "PreferDualStack" }, ["fd00::", "10.0.1.0"]],
    ["PreferDualStack falls back to one family", "v4only: 10.0.0.0/30", { ipFamilies: [4, 6], ipFamilyPolicy: "PreferDualStack" }, ["10.0.0.0"]],
    ["PreferDualStack falls back to the secondary family", "v6only: fd01::/126", { ipFamilies: [4, 6], ipFamilyPolicy: "PreferDualStack" }, ["fd01::"]],
    ["PreferDualStack on a single-family cluster", dual, { ipFamilies: [6], ipFamilyPolicy: "PreferDualStack" }, ["fd00::"]],
    ["RequireDualStack takes both from one pool", dual, { ipFamilies: [4, 6], ipFamilyPolicy: "RequireDualStack" }, ["10.0.1.0", "fd00::"]],
    [
      "RequireDualStack fails without a dual pool, naming what each pool lacks",
      "v4only: 10.0.0.0/30\nv6only: fd01::/126",
      { ipFamilies: [4, 6], ipFamilyPolicy: "RequireDualStack" },
      'no available IPv4 and IPv6 IPs (RequireDualStack takes both from one pool): pool "v4only" has no IPv6 addresses; pool "v6only" has no IPv4 addresses',
    ],
    [
      "RequireDualStack needs two families in spec.ipFamilies",
      dual,
      { ipFamilies: [4], ipFamilyPolicy: "RequireDualStack" },
      "ipFamilyPolicy RequireDualStack needs both IPv4 and IPv6 in spec.ipFamilies, which lists only IPv4",
    ],
    [
      "a requested IP of the wrong family is refused",
      dual,
      { ips: ["fd00::1"] },
      "requests fd00::1 (IPv6) but the Service is SingleStack IPv4; request an IPv4 address or change spec.ipFamilies",
    ],
    ["RequireDualStack with both IPs requested", dual, { ips: ["fd00::2", "10.0.1.3"], ipFamilies: [4, 6], ipFamilyPolicy: "RequireDualStack" }, ["10.0.1.3", "fd00::2"]],
    [
      "RequireDualStack with one IP requested",
      dual,
      { ips: ["10.0.1.3"], ipFamilies: [4, 6], ipFamilyPolicy: "RequireDualStack" },
      "requests only 10.0.1.3 but ipFamilyPolicy RequireDualStack needs one IPv4 and one IPv6 address; request both or none",
    ],
    [
      "requested IPs from two pools",
      dual,
      { ips: ["10.0.0.1", "fd01::1"], ipFamilies: [4, 6], ipFamilyPolicy: "PreferDualStack" },
      '10.0.0.1 (pool "v4only") and fd01::1 (pool "v6only") are in different pools; use two IPs of one pool',
    ],
    [
      "two requested IPs of one family",
      dual,
      { ips: ["10.0.0.1", "10.0.0.2"], ipFamilies: [4, 6], ipFamilyPolicy: "PreferDualStack" },
      "requests 2 IPv4 addresses (10.0.0.1, 10.0.0.2); request at most one per family",
    ],
  ])("%s", (_name, spec, req, expected) => {
    expect(ipsOf(allocator(spec), "default/s", req)).toEqual(expected);
  });

  it("RequireDualStack keeps a valid IP and adds the other family when the policy is upgraded", () => {
    const a = allocator("dual: 10.0.1.0/30, fd00::/126");
    ipsOf(a, "s0");
    expect(ipsOf(a, "s", { ipFamilies: [4, 6] })).toEqual(["10.0.1.1"]);
    expect(ipsOf(a, "s", { ipFamilies: [4, 6], ipFamilyPolicy: "RequireDualStack" })).toEqual(["10.0.1.1", "fd00::"]);
  });

  it("PreferDualStack adds the missing family from its own pool once the pool has it", () => {
    const a = allocator("p: 10.0.0.0/30\nother: fd09::/126");
    const prefer: RequestSpec = { ipFamilies: [4, 6], ipFamilyPolicy: "PreferDualStack" };
    expect(ipsOf(a, "s", prefer)).toEqual(["10.0.0.0"]);
    expect(a.setPools(pools("p: 10.0.0.0/30, fd00::/126\nother: fd09::/126"))).toEqual({ ok: true });
    expect(ipsOf(a, "s", prefer)).toEqual(["10.0.0.0", "fd00::"]);
  });
});

describe("Allocator: avoid-buggy-ips", () => {
  it("skips .0 and .255 without enumerating and counts them out", () => {
    const a = allocator("p buggy: 10.0.0.254-10.0.1.1");
    expect([ipsOf(a, "s1"), ipsOf(a, "s2"), ipsOf(a, "s3")]).toEqual([
      ["10.0.0.254"],
      ["10.0.1.1"],
      'no available IPv4 IPs: pool "p" has no free IPv4 address',
    ]);
    expect(a.stats()).toMatchObject([{ pool: "p", total: 2, inUse: 2 }]);
  });

  it("refuses a requested .0 or .255 address", () => {
    const a = allocator("p buggy: 10.0.0.0/23");
    expect(ipsOf(a, "s1", { ips: ["10.0.0.255"] })).toBe(
      "10.0.0.255: 10.0.0.255 ends in .255 and pool \"p\" has avoid-buggy-ips: true; use another address or set avoid-buggy-ips: false",
    );
    expect(ipsOf(a, "s1", { ips: ["10.0.1.0"] })).toBe(
      "10.0.1.0: 10.0.1.0 ends in .0 and pool \"p\" has avoid-buggy-ips: true; use another address or set avoid-buggy-ips: false",
    );
    expect(ipsOf(a, "s1")).toEqual(["10.0.0.1"]);
  });

  it("hands out .0 and .255 when the pool does not avoid them, and never applies to IPv6", () => {
    expect(ipsOf(allocator("p: 10.0.0.0/24"), "s")).toEqual(["10.0.0.0"]);
    expect(ipsOf(allocator("p buggy: fd00::/120"), "s", { ipFamilies: [6] })).toEqual(["fd00::"]);
  });
});

describe("Allocator: sharing", () => {
  it.each<[string, [string, RequestSpec][], (string[] | string)[]]>([
    [
      "same key and distinct ports share the IP automatically",
      [["ns/a", { sharingKey: "k", ports: [TCP(80)] }], ["ns/b", { sharingKey: "k", ports: [TCP(443)] }]],
      [["10.0.0.0"], ["10.0.0.0"]],
    ],
    [
      "a requested shared IP is allowed when compatible",
      [["ns/a", { sharingKey: "k", ports: [TCP(80)] }], ["ns/b", { sharingKey: "k", ports: [TCP(443)], ips: ["10.0.0.0"] }]],
      [["10.0.0.0"], ["10.0.0.0"]],
    ],
    [
      "TCP/53 and UDP/53 share",
      [["ns/dns-udp", { sharingKey: "dns", ports: [UDP(53)] }], ["ns/dns-tcp", { sharingKey: "dns", ports: [TCP(53)], ips: ["10.0.0.0"] }]],
      [["10.0.0.0"], ["10.0.0.0"]],
    ],
    [
      "a different key is refused",
      [["ns/a", { sharingKey: "x", ports: [TCP(80)] }], ["ns/b", { sharingKey: "y", ports: [TCP(443)], ips: ["10.0.0.0"] }]],
      [["10.0.0.0"], 'cannot share 10.0.0.0 with ns/a: allow-shared-ip keys differ ("y" here, "x" there); use the same key on both'],
    ],
    [
      "an empty key is refused",
      [["ns/a", { sharingKey: "k", ports: [TCP(80)] }], ["ns/b", { sharingKey: "", ports: [TCP(443)], ips: ["10.0.0.0"] }]],
      [["10.0.0.0"], 'cannot share 10.0.0.0 with ns/a: this Service has no allow-shared-ip key; set metallb.universe.tf/allow-shared-ip: "k" to share it'],
    ],
    [
      "an overlapping port is refused, naming the other Service and the port",
      [["ns/web", { sharingKey: "k", ports: [TCP(80), TCP(443)] }], ["ns/b", { sharingKey: "k", ports: [TCP(443)], ips: ["10.0.0.0"] }]],
      [["10.0.0.0"], "cannot share 10.0.0.0 with ns/web: both use TCP/443; move one Service to another port or IP"],
    ],
    [
      "an overlapping port makes automatic allocation take a free address instead",
      [["ns/a", { sharingKey: "k", ports: [TCP(80)] }], ["ns/b", { sharingKey: "k", ports: [TCP(80)] }]],
      [["10.0.0.0"], ["10.0.0.1"]],
    ],
    [
      "Local with different selectors is refused",
      [
        ["ns/a", { sharingKey: "k", ports: [UDP(53)], externalTrafficPolicy: "Local", selector: { app: "a" } }],
        ["ns/b", { sharingKey: "k", ports: [TCP(53)], externalTrafficPolicy: "Local", selector: { app: "b" }, ips: ["10.0.0.0"] }],
      ],
      [["10.0.0.0"], "cannot share 10.0.0.0 with ns/a: with externalTrafficPolicy Local the selectors must be identical (app=b here, app=a there)"],
    ],
    [
      "Local with identical selectors is allowed",
      [
        ["ns/a", { sharingKey: "k", ports: [UDP(53)], externalTrafficPolicy: "Local", selector: { app: "dns" } }],
        ["ns/b", { sharingKey: "k", ports: [TCP(53)], externalTrafficPolicy: "Local", selector: { app: "dns" } }],
      ],
      [["10.0.0.0"], ["10.0.0.0"]],
    ],
    [
      "a third Service shares with two compatible holders and is refused by a clash with either",
      [
        ["ns/a", { sharingKey: "k", ports: [TCP(1)] }],
        ["ns/b", { sharingKey: "k", ports: [TCP(2)] }],
        ["ns/c", { sharingKey: "k", ports: [TCP(3)] }],
        ["ns/d", { sharingKey: "k", ports: [TCP(2)], ips: ["10.0.0.0"] }],
      ],
      [["10.0.0.0"], ["10.0.0.0"], ["10.0.0.0"], "cannot share 10.0.0.0 with ns/b: both use TCP/2; move one Service to another port or IP"],
    ],
  ])("%s", (_name, steps, expected) => {
    const a = allocator("p: 10.0.0.0/28");
    expect(steps.map(([service, req]) => ipsOf(a, service, req))).toEqual(expected);
  });

  it("prefers an address already shared under the key over a lower free one", () => {
    const a = allocator("p: 10.0.0.0/28");
    ipsOf(a, "ns/x");
    expect(ipsOf(a, "ns/a", { sharingKey: "k", ports: [TCP(80)] })).toEqual(["10.0.0.1"]);
    a.unassign("ns/x");
    expect(ipsOf(a, "ns/b", { sharingKey: "k", ports: [TCP(443)] })).toEqual(["10.0.0.1"]);
    expect(a.stats()).toMatchObject([{ pool: "p", total: 16, inUse: 1 }]);
  });

  it("frees a shared IP only when its last holder leaves", () => {
    const a = allocator("p: 10.0.0.0/28");
    ipsOf(a, "ns/a", { sharingKey: "k", ports: [TCP(80)] });
    ipsOf(a, "ns/b", { sharingKey: "k", ports: [TCP(443)] });
    expect(a.unassign("ns/a")).toEqual([]);
    expect(a.unassign("ns/b")).toEqual(["10.0.0.0"]);
    expect(ipsOf(a, "ns/c")).toEqual(["10.0.0.0"]);
  });

  it("lets a Service that holds an IP alone change its key, but moves a co-holder that changes it", () => {
    const a = allocator("p: 10.0.0.0/28");
    expect(ipsOf(a, "ns/a", { sharingKey: "k", ports: [TCP(80)] })).toEqual(["10.0.0.0"]);
    expect(ipsOf(a, "ns/a", { sharingKey: "new", ports: [TCP(80)] })).toEqual(["10.0.0.0"]);
    expect(ipsOf(a, "ns/b", { sharingKey: "new", ports: [TCP(443)] })).toEqual(["10.0.0.0"]);
    expect(a.satisfies("ns/b", request({ sharingKey: "other", ports: [TCP(443)] }))).toBe(
      'cannot share 10.0.0.0 with ns/a: allow-shared-ip keys differ ("other" here, "new" there); use the same key on both',
    );
    expect(ipsOf(a, "ns/b", { sharingKey: "other", ports: [TCP(443)] })).toEqual(["10.0.0.1"]);
    expect(a.assignedTo("ns/a")).toEqual(["10.0.0.0"]);
  });
});

describe("Allocator: namespaces extension", () => {
  const spec = "team ns=team-a|team-b: 10.0.0.0/30\nall: 10.0.1.0/30";
  it.each<[string, RequestSpec, string[] | string]>([
    ["a Service in a listed namespace gets the restricted pool", { namespace: "team-b" }, ["10.0.0.0"]],
    ["other namespaces skip it", { namespace: "default" }, ["10.0.1.0"]],
    [
      "naming it from another namespace is refused",
      { namespace: "default", pool: "team" },
      'pool "team" is restricted to namespaces [team-a, team-b] and the Service is in "default"',
    ],
    [
      "requesting its IP from another namespace is refused",
      { namespace: "default", ips: ["10.0.0.2"] },
      '10.0.0.2: pool "team" is restricted to namespaces [team-a, team-b] and the Service is in "default"',
    ],
  ])("%s", (_name, req, expected) => {
    expect(ipsOf(allocator(spec), `${req.namespace}/s`, req)).toEqual(expected);
  });

  it("explains a full pool set including the restricted pool", () => {
    const a = allocator("team ns=team-a: 10.0.0.0/30\nall: 10.0.1.0");
    ipsOf(a, "default/x");
    expect(ipsOf(a, "default/y")).toBe('no available IPv4 IPs: pool "all" has no free IPv4 address; pool "team" is restricted to namespaces [team-a]');
  });
});

describe("Allocator: idempotence and request changes", () => {
  it("gives a Service its existing IPs back when nothing changed", () => {
    const a = allocator("p: 10.0.0.0/28");
    const req: RequestSpec = { sharingKey: "k", ports: [TCP(80)] };
    expect(ipsOf(a, "s", req)).toEqual(["10.0.0.0"]);
    ipsOf(a, "t");
    expect(ipsOf(a, "s", req)).toEqual(["10.0.0.0"]);
    expect(a.stats()).toMatchObject([{ pool: "p", total: 16, inUse: 2 }]);
  });

  it("moves a Service whose pool annotation changed and reports it through satisfies", () => {
    const a = allocator("a: 10.0.0.0/28\nb: 10.0.1.0/28");
    ipsOf(a, "s");
    expect(a.satisfies("s", request({ pool: "b" }))).toBe(
      '10.0.0.0 is in pool "a", not in the requested pool "b"; request an address of pool "b" or change metallb.universe.tf/address-pool',
    );
    expect(ipsOf(a, "s", { pool: "b" })).toEqual(["10.0.1.0"]);
    expect(a.poolOf("s")).toBe("b");
    expect(a.stats().map((s) => s.inUse)).toEqual([0, 1]);
  });

  it("moves a Service to a newly requested IP", () => {
    const a = allocator("a: 10.0.0.0/28");
    ipsOf(a, "s");
    expect(a.satisfies("s", request({ ips: ["10.0.0.7"] }))).toBe("holds 10.0.0.0 but requests 10.0.0.7");
    expect(ipsOf(a, "s", { ips: ["10.0.0.7"] })).toEqual(["10.0.0.7"]);
    expect(a.satisfies("s", request({ ips: ["10.0.0.7"] }))).toBe(true);
    expect(a.satisfies("s", request())).toBe(true);
  });

  it("keeps the previous assignment when a new allocation fails", () => {
    const a = allocator("a: 10.0.0.0/28\nb: 10.0.1.0");
    ipsOf(a, "t", { pool: "b" });
    ipsOf(a, "s");
    expect(ipsOf(a, "s", { pool: "b" })).toBe('no available IPv4 IPs in pool "b": pool "b" has no free IPv4 address');
    expect(a.assignedTo("s")).toEqual(["10.0.0.0"]);
    expect(a.poolOf("s")).toBe("a");
    expect(ipsOf(a, "u")).toEqual(["10.0.0.1"]);
  });

  it("answers satisfies for a Service without IPs and for a family that no longer fits", () => {
    const a = allocator("p: 10.0.0.0/28, fd00::/120");
    expect(a.satisfies("nobody", request())).toBe("nobody holds no IP");
    ipsOf(a, "s");
    expect(a.satisfies("s", request({ ipFamilies: [6] }))).toBe("holds 10.0.0.0 (IPv4) but the Service is SingleStack IPv6");
    expect(a.satisfies("s", request({ ipFamilies: [4, 6], ipFamilyPolicy: "RequireDualStack" }))).toBe(
      "holds only 10.0.0.0 but ipFamilyPolicy RequireDualStack needs an IPv6 address too",
    );
    expect(a.satisfies("s", request({ ipFamilies: [4, 6], ipFamilyPolicy: "PreferDualStack" }))).toBe(true);
  });
});

describe("Allocator: restart", () => {
  it("learns existing assignments first, then never moves them when allocating new ones", () => {
    const a = allocator("p: 10.0.0.0/30");
    expect(a.assign("ns/old-b", ["10.0.0.2"], request())).toEqual({ ok: true, pool: "p" });
    expect(a.assign("ns/old-a", ["10.0.0.0"], request())).toEqual({ ok: true, pool: "p" });
    expect(ipsOf(a, "ns/new")).toEqual(["10.0.0.1"]);
    expect(ipsOf(a, "ns/old-a")).toEqual(["10.0.0.0"]);
    expect(ipsOf(a, "ns/old-b")).toEqual(["10.0.0.2"]);
  });

  it("keeps every IP when the controller restarts with full pools", () => {
    const a = allocator("p: 10.0.0.0/31\nq manual: 10.0.1.0");
    expect(a.assign("ns/x", ["10.0.0.1"], request())).toEqual({ ok: true, pool: "p" });
    expect(a.assign("ns/y", ["10.0.0.0"], request())).toEqual({ ok: true, pool: "p" });
    expect(a.assign("ns/z", ["10.0.1.0"], request())).toEqual({ ok: true, pool: "q" });
    expect(ipsOf(a, "ns/new")).toBe(`no available IPv4 IPs: pool "p" has no free IPv4 address; pool "q" has auto-assign: false ${NOT_AUTO}`);
    expect([ipsOf(a, "ns/x"), ipsOf(a, "ns/y"), ipsOf(a, "ns/z")]).toEqual([["10.0.0.1"], ["10.0.0.0"], ["10.0.1.0"]]);
    expect(a.stats()).toMatchObject([
      { pool: "p", total: 2, inUse: 2 },
      { pool: "q", total: 1, inUse: 1 },
    ]);
  });

  it("learns shared IPs and dual-stack assignments", () => {
    const a = allocator("p: 10.0.0.0/30, fd00::/126");
    expect(a.assign("ns/a", ["10.0.0.1", "fd00::1"], request({ sharingKey: "k", ports: [TCP(80)], ipFamilies: [4, 6], ipFamilyPolicy: "RequireDualStack" }))).toEqual({ ok: true, pool: "p" });
    expect(a.assign("ns/b", ["10.0.0.1"], request({ sharingKey: "k", ports: [UDP(53)] }))).toEqual({ ok: true, pool: "p" });
    expect(a.assignedTo("ns/a")).toEqual(["10.0.0.1", "fd00::1"]);
    expect(a.stats()).toMatchObject([{ pool: "p", total: 8, inUse: 2 }]);
  });

  it.each<[string, string[], RequestSpec, string]>([
    ["an IP outside every pool", ["192.168.0.1"], {}, "192.168.0.1 is not in any pool; request an address of a configured pool (p, q, team)"],
    ["invalid text", ["10.0.0.x"], {}, '"10.0.0.x" is not a valid IP address (octet "x" is not a decimal number)'],
    ["two IPs of one family", ["10.0.0.1", "10.0.0.2"], {}, "10.0.0.1, 10.0.0.2 holds two IPv4 addresses; a Service has at most one per family"],
    ["no IPs", [], {}, "no IPs given to assign"],
    [
      "a buggy IP",
      ["10.0.1.0"],
      {},
      '10.0.1.0: 10.0.1.0 ends in .0 and pool "q" has avoid-buggy-ips: true; use another address or set avoid-buggy-ips: false',
    ],
    ["a namespace the pool excludes", ["10.0.2.1"], {}, '10.0.2.1: pool "team" is restricted to namespaces [team-a] and the Service is in "default"'],
    ["IPs in two pools", ["10.0.0.1", "fd00::1"], {}, '10.0.0.1 (pool "p") and fd00::1 (pool "q") are in different pools; use two IPs of one pool'],
    ["an IP held without sharing", ["10.0.0.3"], {}, "cannot share 10.0.0.3 with default/holder: neither Service has an allow-shared-ip key; request another IP, or give both the same metallb.universe.tf/allow-shared-ip value"],
  ])("refuses to learn %s", (_name, ips, req, reason) => {
    const a = allocator("p: 10.0.0.0/30\nq buggy: 10.0.1.0/24, fd00::/120\nteam ns=team-a: 10.0.2.0/30");
    a.assign("default/holder", ["10.0.0.3"], request());
    expect(a.assign("default/s", ips, request(req))).toEqual({ ok: false, reason });
    expect(a.assignedTo("default/s")).toBeUndefined();
  });

  it("learns an IP that no longer matches the request, leaving the move to allocate", () => {
    const a = allocator("a: 10.0.0.0/30\nb: 10.0.1.0/30");
    expect(a.assign("s", ["10.0.0.2"], request({ pool: "b" }))).toEqual({ ok: true, pool: "a" });
    expect(ipsOf(a, "s", { pool: "b" })).toEqual(["10.0.1.0"]);
  });
});

describe("Allocator: config changes", () => {
  it("refuses pools that take away assigned IPs, naming every Service and IP, and accepts them once those are gone", () => {
    const a = allocator("p: 10.0.0.0/28\nq: fd00::/120");
    ipsOf(a, "ns/a");
    ipsOf(a, "ns/b", { sharingKey: "k", ports: [TCP(80)] });
    ipsOf(a, "ns/c", { sharingKey: "k", ports: [TCP(443)], ipFamilies: [6, 4], ipFamilyPolicy: "PreferDualStack" });
    expect(a.assignedTo("ns/c")).toEqual(["fd00::"]);
    const smaller = pools("p: 10.0.0.0");
    expect(a.setPools(smaller)).toEqual({
      ok: false,
      blocked: [
        { service: "ns/b", ip: "10.0.0.1", reason: "10.0.0.1 is in no pool of the new config" },
        { service: "ns/c", ip: "fd00::", reason: "fd00:: is in no pool of the new config" },
      ],
    });
    expect(a.stats().map((s) => s.pool)).toEqual(["p", "q"]); // nothing changed
    expect(ipsOf(a, "ns/d")).toEqual(["10.0.0.2"]);
    a.unassign("ns/b");
    expect(a.setPools(smaller)).toEqual({
      ok: false,
      blocked: [
        { service: "ns/c", ip: "fd00::", reason: "fd00:: is in no pool of the new config" },
        { service: "ns/d", ip: "10.0.0.2", reason: "10.0.0.2 is in no pool of the new config" },
      ],
    });
    a.unassign("ns/c");
    a.unassign("ns/d");
    expect(a.setPools(smaller)).toEqual({ ok: true });
    expect(a.assignedTo("ns/a")).toEqual(["10.0.0.0"]);
    expect(a.stats()).toMatchObject([{ pool: "p", total: 1, inUse: 1 }]);
    expect(ipsOf(a, "ns/e")).toBe('no available IPv4 IPs: pool "p" has no free IPv4 address');
  });

  it.each<[string, string, string]>([
    ["avoid-buggy-ips switched on", "p buggy: 10.0.0.0/24", '10.0.0.0 ends in .0 and pool "p" has avoid-buggy-ips: true; use another address or set avoid-buggy-ips: false'],
    ["a namespace restriction", "p ns=other: 10.0.0.0/24", 'pool "p" is restricted to namespaces [other] and the Service is in "default"'],
  ])("refuses %s that excludes a holder", (_name, spec, reason) => {
    const a = allocator("p: 10.0.0.0/24");
    ipsOf(a, "default/s");
    expect(a.setPools(pools(spec))).toEqual({ ok: false, blocked: [{ service: "default/s", ip: "10.0.0.0", reason: `under the new config ${reason}` }] });
  });

  it("refuses moving a named pool's IPs into another pool", () => {
    const a = allocator("old: 10.0.0.0/24");
    ipsOf(a, "default/s", { pool: "old" });
    ipsOf(a, "default/t");
    expect(a.setPools(pools("new: 10.0.0.0/24"))).toEqual({
      ok: false,
      blocked: [
        {
          service: "default/s",
          ip: "10.0.0.0",
          reason: 'the Service requests pool "old" (metallb.universe.tf/address-pool) and the new config puts 10.0.0.0 in pool "new"',
        },
      ],
    });
  });

  it("refuses splitting a dual-stack Service across pools", () => {
    const a = allocator("p: 10.0.0.0/30, fd00::/126");
    ipsOf(a, "default/s", { ipFamilies: [4, 6], ipFamilyPolicy: "RequireDualStack" });
    const reason = 'the new config splits the Service\'s IPs across pools (10.0.0.0 in pool "v4", fd00:: in pool "v6")';
    expect(a.setPools(pools("v4: 10.0.0.0/30\nv6: fd00::/126"))).toEqual({
      ok: false,
      blocked: [
        { service: "default/s", ip: "10.0.0.0", reason },
        { service: "default/s", ip: "fd00::", reason },
      ],
    });
  });

  it("carries assignments over to re-ordered and enlarged pools", () => {
    const a = allocator("p: 10.0.0.0/30");
    ipsOf(a, "s1");
    ipsOf(a, "s2", { sharingKey: "k", ports: [TCP(1)] });
    expect(a.setPools(pools("new: 10.0.5.0/30\np: 10.0.0.0/29"))).toEqual({ ok: true });
    expect(a.poolOf("s2")).toBe("p");
    expect(ipsOf(a, "s3", { pool: "p" })).toEqual(["10.0.0.2"]);
    expect(ipsOf(a, "s4", { pool: "p", sharingKey: "k", ports: [TCP(2)] })).toEqual(["10.0.0.1"]);
    expect(a.stats()).toMatchObject([
      { pool: "new", total: 4, inUse: 0 },
      { pool: "p", total: 8, inUse: 3 },
    ]);
  });
});

describe("Allocator: scale", () => {
  it("allocates from an IPv4 /8 and an IPv6 /64 without enumerating them", () => {
    const a = allocator("big: 10.0.0.0/8\nv6: fd00::/64");
    expect(ipsOf(a, "s0")).toEqual(["10.0.0.0"]);
    expect(ipsOf(a, "s1", { ips: ["10.255.255.255"] })).toEqual(["10.255.255.255"]);
    expect(ipsOf(a, "s2")).toEqual(["10.0.0.1"]);
    expect(ipsOf(a, "v6a", { ipFamilies: [6] })).toEqual(["fd00::"]);
    expect(ipsOf(a, "v6b", { ipFamilies: [6], ips: ["fd00::ffff:ffff:ffff:ffff"] })).toEqual(["fd00::ffff:ffff:ffff:ffff"]);
    expect(ipsOf(a, "v6c", { ipFamilies: [6] })).toEqual(["fd00::1"]);
    expect(a.stats()).toMatchObject([
      { pool: "big", total: 2 ** 24, inUse: 3 },
      { pool: "v6", total: 2 ** 63, inUse: 3 },
    ]);
  });

  it("completes 100k allocations and releases, reusing the lowest freed address", () => {
    const a = allocator("big buggy: 10.0.0.0/8\nv6: fd00::/64");
    for (let i = 0; i < 50_000; i++) a.allocate(`v4-${i}`, request());
    for (let i = 0; i < 50_000; i++) a.allocate(`v6-${i}`, request({ ipFamilies: [6] }));
    expect(a.assignedTo("v4-49999")).toEqual(["10.0.196.216"]); // 49999 = 196 blocks of 254 + 215, .0 and .255 skipped
    expect(a.assignedTo("v6-49999")).toEqual(["fd00::c34f"]);
    for (let i = 0; i < 50_000; i += 2) a.unassign(`v4-${i}`);
    expect(ipsOf(a, "again")).toEqual(["10.0.0.1"]);
    expect(a.stats()).toMatchObject([
      { pool: "big", total: 65536 * 254, inUse: 25_001 },
      { pool: "v6", total: 2 ** 63, inUse: 50_000 },
    ]);
  });
});

describe("Allocator: stats", () => {
  it("reports totals per pool in config order, buggy addresses excluded and huge pools capped at 2^63", () => {
    const a = allocator("small: 10.0.0.0/30\nbuggy buggy: 10.1.0.0/16\nv6: fd00::/64\nhuge: ::/1\nsingle: 10.2.0.1");
    expect(a.stats()).toMatchObject([
      { pool: "small", total: 4, inUse: 0 },
      { pool: "buggy", total: 65024, inUse: 0 },
      { pool: "v6", total: 2 ** 63, inUse: 0 },
      { pool: "huge", total: 2 ** 63, inUse: 0 },
      { pool: "single", total: 1, inUse: 0 },
    ]);
  });
});

/** `serviceAllocation` as an IPAddressPool spells it; `namespaces` maps to `Pool.namespaces`. */
interface AllocationSpec extends ServiceAllocation {
  readonly namespaces?: string[];
}

/**
 * A pool as an IPAddressPool gives it: `cr("gold: 10.0.1.1", { priority: 10 })`; flags as in
 * `pools` (`cr("vip manual: ...", ...)`); no allocation: a pool without `serviceAllocation`.
 */
function cr(line: string, allocation?: AllocationSpec): Pool {
  const [pool] = pools(line);
  if (allocation === undefined) return pool;
  const { namespaces, ...rest } = allocation;
  return { ...pool, ...(namespaces ? { namespaces } : {}), serviceAllocation: rest };
}

/** `sel("team=a,tier=fe")` → `{ matchLabels: { team: "a", tier: "fe" } }`. */
function sel(text: string): LabelSelector {
  return { matchLabels: Object.fromEntries(text.split(",").map((pair) => pair.split("=") as [string, string])) };
}

function allocatorOf(list: Pool[]): Allocator {
  const a = new Allocator();
  expect(a.setPools(list)).toEqual({ ok: true });
  return a;
}

const WEB = { serviceLabels: { app: "web" } };
const DB = { serviceLabels: { app: "db" } };

describe("Allocator: serviceAllocation precedence", () => {
  it.each<[string, Pool[], [string, RequestSpec][], (string[] | string)[]]>([
    [
      "tries pools by priority, lower first, whatever their config order, and falls through when one is full",
      [cr("silver: 10.0.2.1", { priority: 20 }), cr("gold: 10.0.1.1", { priority: 10 }), cr("bronze: 10.0.3.1", { priority: 30 })],
      [["a/s1", {}], ["a/s2", {}], ["a/s3", {}]],
      [["10.0.1.1"], ["10.0.2.1"], ["10.0.3.1"]],
    ],
    [
      "uses pools without a priority only after every pool with one",
      [cr("plain: 10.0.0.1"), cr("tenant: 10.0.5.1", { priority: 50 })],
      [["a/s1", {}], ["a/s2", {}]],
      [["10.0.5.1"], ["10.0.0.1"]],
    ],
    [
      "breaks equal priorities by config order",
      [cr("b: 10.0.2.1", { priority: 10 }), cr("a: 10.0.1.1", { priority: 10 })],
      [["a/s1", {}], ["a/s2", {}]],
      [["10.0.2.1"], ["10.0.1.1"]],
    ],
    [
      "reads priority 0 as unset, as MetalLB does",
      [cr("zero: 10.0.0.1", { priority: 0 }), cr("five: 10.0.5.1", { priority: 5 })],
      [["a/s1", {}], ["a/s2", {}]],
      [["10.0.5.1"], ["10.0.0.1"]],
    ],
    [
      "prefers a matching pool with a serviceAllocation and no priority over a pool without one (MetalLB's pinned pools)",
      [cr("default: 10.0.0.1-10.0.0.2"), cr("tenant: 10.0.9.1", { namespaces: ["team-a"] })],
      [["team-a/s1", { namespace: "team-a" }], ["default/s2", {}], ["team-a/s3", { namespace: "team-a" }]],
      [["10.0.9.1"], ["10.0.0.1"], ["10.0.0.2"]],
    ],
    [
      "keeps config order among pools without serviceAllocation (the legacy ConfigMap path)",
      [cr("first: 10.0.1.1"), cr("second: 10.0.0.1")],
      [["a/s1", {}], ["a/s2", {}]],
      [["10.0.1.1"], ["10.0.0.1"]],
    ],
    [
      "admits a namespace listed in namespaces or matching namespaceSelectors (the union)",
      [cr("team: 10.0.9.0/30", { namespaces: ["team-a"], namespaceSelectors: [sel("team=a")] }), cr("all: 10.0.0.0/30")],
      [
        ["team-a/s1", { namespace: "team-a", namespaceLabels: {} }],
        ["ops/s2", { namespace: "ops", namespaceLabels: { team: "a" } }],
        ["dev/s3", { namespace: "dev", namespaceLabels: { team: "b" } }],
      ],
      [["10.0.9.0"], ["10.0.9.1"], ["10.0.0.0"]],
    ],
    [
      "needs both the namespace and serviceSelectors to match (AND)",
      [cr("web: 10.0.9.0/30", { namespaces: ["shop"], serviceSelectors: [sel("app=web")] }), cr("all: 10.0.0.0/30")],
      [
        ["shop/web", { namespace: "shop", ...WEB }],
        ["shop/db", { namespace: "shop", ...DB }],
        ["blog/web", { namespace: "blog", ...WEB }],
      ],
      [["10.0.9.0"], ["10.0.0.0"], ["10.0.0.1"]],
    ],
    [
      "admits a Service matching any one of several serviceSelectors",
      [cr("fe: 10.0.9.0/30", { serviceSelectors: [sel("app=web"), sel("app=api")] }), cr("all: 10.0.0.0/30")],
      [["a/api", { serviceLabels: { app: "api" } }], ["a/db", DB]],
      [["10.0.9.0"], ["10.0.0.0"]],
    ],
    [
      "admits through the namespaces list only when the Namespace's labels are not known",
      [cr("team: 10.0.9.0/30", { namespaces: ["team-a"], namespaceSelectors: [sel("team=a")] }), cr("all: 10.0.0.0/30")],
      [
        ["team-a/s1", { namespace: "team-a", namespaceLabels: undefined }],
        ["ops/s2", { namespace: "ops", namespaceLabels: undefined }],
      ],
      [["10.0.9.0"], ["10.0.0.0"]],
    ],
    [
      "never auto-assigns from an auto-assign: false pool, even one whose serviceAllocation matches",
      [cr("vip manual: 10.0.9.1", { priority: 1, serviceSelectors: [sel("app=web")] }), cr("all: 10.0.0.1")],
      [["a/s1", WEB], ["a/s2", WEB]],
      [
        ["10.0.0.1"],
        `no available IPv4 IPs: pool "all" has no free IPv4 address; pool "vip" has auto-assign: false ${NOT_AUTO}`,
      ],
    ],
    [
      "names why each pool was skipped, in the order they were tried",
      [
        cr("all: 10.0.0.1"),
        cr("web: 10.0.9.0/30", { priority: 1, serviceSelectors: [sel("app=web")] }),
        cr("team: 10.0.8.0/30", { priority: 2, namespaceSelectors: [sel("team=a")] }),
        cr("names: 10.0.7.0/30", { namespaces: ["x", "y"], namespaceSelectors: [sel("team=x"), sel("tier=gold")] }),
      ],
      [["dev/s1", { namespace: "dev", namespaceLabels: { team: "b" }, ...DB }], ["dev/s2", { namespace: "dev", namespaceLabels: undefined, ...DB }]],
      [
        ["10.0.0.1"],
        'no available IPv4 IPs: pool "all" has no free IPv4 address; pool "web" serves only Services matching serviceSelectors [app=web]; ' +
          'pool "team" is restricted to namespaces matching [team=a] (the labels of namespace "dev" are not known); ' +
          'pool "names" is restricted to namespaces [x, y] or namespaces matching [team=x or tier=gold] (the labels of namespace "dev" are not known)',
      ],
    ],
    [
      "gives a named pool whose serviceAllocation admits the Service, priority aside",
      [cr("gold: 10.0.1.1", { priority: 1 }), cr("web: 10.0.9.0/30", { priority: 9, serviceSelectors: [sel("app=web")] })],
      [["a/s1", { ...WEB, pool: "web" }]],
      [["10.0.9.0"]],
    ],
    [
      "refuses a named pool whose serviceAllocation does not admit the Service (it stays pending, as in MetalLB)",
      [cr("web: 10.0.9.0/30", { serviceSelectors: [sel("app=web")] }), cr("all: 10.0.0.0/30")],
      [["a/s1", { ...DB, pool: "web" }]],
      ['pool "web" serves only Services matching serviceSelectors [app=web] and the Service\'s labels are {app=db}'],
    ],
    [
      "refuses a named pool restricted to other namespaces",
      [cr("team: 10.0.9.0/30", { namespaceSelectors: [sel("team=a")] })],
      [["dev/s1", { namespace: "dev", namespaceLabels: { team: "b" }, pool: "team" }]],
      ['pool "team" is restricted to namespaces matching [team=a] and the Service is in "dev"'],
    ],
    [
      "gives a requested IP whose pool admits the Service, even an auto-assign: false one",
      [cr("vip manual: 10.0.9.0/30", { serviceSelectors: [sel("app=web")] })],
      [["a/s1", { ...WEB, ips: ["10.0.9.2"] }]],
      [["10.0.9.2"]],
    ],
    [
      "refuses a requested IP whose pool's serviceAllocation does not admit the Service",
      [cr("vip manual: 10.0.9.0/30", { serviceSelectors: [sel("app=web")] }), cr("all: 10.0.0.0/30")],
      [["a/s1", { ...DB, ips: ["10.0.9.2"] }]],
      ['10.0.9.2: pool "vip" serves only Services matching serviceSelectors [app=web] and the Service\'s labels are {app=db}'],
    ],
    [
      "uses a pool with only a priority for every Service (MetalLB #2656)",
      [cr("plain: 10.0.0.1"), cr("preferred: 10.0.5.1", { priority: 3 })],
      [["x/s1", { namespace: "x", ...DB }]],
      [["10.0.5.1"]],
    ],
  ])("%s", (_name, list, steps, expected) => {
    const a = allocatorOf(list);
    expect(steps.map(([service, req]) => ipsOf(a, service, req))).toEqual(expected);
  });

  it("keeps a held IP when the Service's labels stop matching serviceSelectors", () => {
    const a = allocatorOf([cr("web: 10.0.9.0/30", { priority: 1, serviceSelectors: [sel("app=web")] }), cr("all: 10.0.0.0/30")]);
    expect(ipsOf(a, "a/s", WEB)).toEqual(["10.0.9.0"]);
    expect(a.satisfies("a/s", request(DB))).toBe(true);
    expect(ipsOf(a, "a/s", DB)).toEqual(["10.0.9.0"]);
    expect(ipsOf(a, "a/new", DB)).toEqual(["10.0.0.0"]);
  });

  it("keeps a held IP when its Namespace's labels change or become unknown", () => {
    const team = cr("team: 10.0.9.0/30", { namespaceSelectors: [sel("team=a")] });
    const a = allocatorOf([team, cr("all: 10.0.0.0/30")]);
    const ns = { namespace: "ops", namespaceLabels: { team: "a" } };
    expect(ipsOf(a, "ops/s", ns)).toEqual(["10.0.9.0"]);
    expect(ipsOf(a, "ops/s", { ...ns, namespaceLabels: { team: "b" } })).toEqual(["10.0.9.0"]);
    expect(ipsOf(a, "ops/s", { ...ns, namespaceLabels: undefined })).toEqual(["10.0.9.0"]);
  });

  it("keeps a held requested IP and a held named pool across label changes", () => {
    const a = allocatorOf([cr("web: 10.0.9.0/30", { serviceSelectors: [sel("app=web")] })]);
    expect(ipsOf(a, "a/ip", { ...WEB, ips: ["10.0.9.3"] })).toEqual(["10.0.9.3"]);
    expect(ipsOf(a, "a/ip", { ...DB, ips: ["10.0.9.3"] })).toEqual(["10.0.9.3"]);
    expect(ipsOf(a, "a/pool", { ...WEB, pool: "web" })).toEqual(["10.0.9.0"]);
    expect(ipsOf(a, "a/pool", { ...DB, pool: "web" })).toEqual(["10.0.9.0"]);
  });

  it("learns IPs on restart whatever the selectors say", () => {
    const a = allocatorOf([cr("web: 10.0.9.0/30", { namespaces: ["shop"], namespaceSelectors: [sel("team=a")], serviceSelectors: [sel("app=web")] })]);
    expect(a.assign("blog/s", ["10.0.9.1"], request({ namespace: "blog", ...DB }))).toEqual({ ok: true, pool: "web" });
  });

  it("chooses by the current labels once a Service has no valid IP", () => {
    const a = allocatorOf([cr("web: 10.0.9.0/30", { priority: 1, serviceSelectors: [sel("app=web")] }), cr("other: 10.0.5.0/30"), cr("all: 10.0.0.0/30")]);
    expect(ipsOf(a, "a/s", { ...DB, pool: "other" })).toEqual(["10.0.5.0"]);
    expect(ipsOf(a, "a/s", WEB)).toEqual(["10.0.5.0"]); // still valid: no move
    expect(ipsOf(a, "a/t", { ...WEB, ips: ["10.0.5.3"] })).toEqual(["10.0.5.3"]);
    expect(ipsOf(a, "a/t", { ...WEB, ips: ["10.0.0.3"] })).toEqual(["10.0.0.3"]);
    a.unassign("a/s");
    expect(ipsOf(a, "a/s", WEB)).toEqual(["10.0.9.0"]);
  });

  it("accepts a config whose selectors exclude a holder, and still refuses one whose namespaces list does", () => {
    const a = allocatorOf([cr("p: 10.0.0.0/24")]);
    ipsOf(a, "default/s");
    expect(a.setPools([cr("p: 10.0.0.0/24", { serviceSelectors: [sel("app=web")], namespaceSelectors: [sel("team=a")], namespaces: ["x"] })])).toEqual({ ok: true });
    expect(a.assignedTo("default/s")).toEqual(["10.0.0.0"]);
    expect(a.setPools([cr("p: 10.0.0.0/24", { namespaces: ["x"] })])).toEqual({
      ok: false,
      blocked: [{ service: "default/s", ip: "10.0.0.0", reason: 'under the new config pool "p" is restricted to namespaces [x] and the Service is in "default"' }],
    });
  });
});

describe("Allocator: stats per family", () => {
  it("counts assigned and available addresses per family, avoid-buggy-ips honoured and a shared IP once", () => {
    const a = allocator("dual buggy: 10.0.0.0/30, 10.0.1.254-10.0.2.1, fd00::/126\nv4: 10.1.0.0/29");
    expect(a.stats()).toEqual([
      // IPv4: .1-.3 of the /30, then .254 and 10.0.2.1 of the range (.0 and .255 skipped)
      { pool: "dual", total: 9, inUse: 0, assignedIPv4: 0, assignedIPv6: 0, availableIPv4: 5, availableIPv6: 4 },
      { pool: "v4", total: 8, inUse: 0, assignedIPv4: 0, assignedIPv6: 0, availableIPv4: 8, availableIPv6: 0 },
    ]);
    ipsOf(a, "ns/d", { pool: "dual", ipFamilies: [4, 6], ipFamilyPolicy: "RequireDualStack", sharingKey: "k", ports: [TCP(80)] });
    ipsOf(a, "ns/e", { pool: "dual", ipFamilies: [4, 6], ipFamilyPolicy: "RequireDualStack", sharingKey: "k", ports: [TCP(443)] });
    ipsOf(a, "ns/f", { pool: "dual", ipFamilies: [6] });
    expect(a.assignedTo("ns/e")).toEqual(["10.0.0.1", "fd00::"]);
    expect(a.stats()[0]).toEqual({ pool: "dual", total: 9, inUse: 3, assignedIPv4: 1, assignedIPv6: 2, availableIPv4: 4, availableIPv6: 2 });
    a.unassign("ns/d");
    a.unassign("ns/e");
    expect(a.stats()[0]).toEqual({ pool: "dual", total: 9, inUse: 1, assignedIPv4: 0, assignedIPv6: 1, availableIPv4: 5, availableIPv6: 3 });
  });

  it("caps huge IPv6 availability at Number.MAX_SAFE_INTEGER so it fits the status's int64", () => {
    const a = allocator("v6: fd00::/64\nmid: fd01::/76");
    ipsOf(a, "s", { ipFamilies: [6] });
    expect(a.stats()).toEqual([
      { pool: "v6", total: 2 ** 63, inUse: 1, assignedIPv4: 0, assignedIPv6: 1, availableIPv4: 0, availableIPv6: Number.MAX_SAFE_INTEGER },
      { pool: "mid", total: 2 ** 52, inUse: 0, assignedIPv4: 0, assignedIPv6: 0, availableIPv4: 0, availableIPv6: 2 ** 52 },
    ]);
  });
});
