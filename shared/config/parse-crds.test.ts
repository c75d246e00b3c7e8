import { describe, expect, it } from "vitest";
import { formatRange } from "../ip/range.ts";
import { canonicalJson, readIPAddressPool, readL2Advertisement } from "./parse-crds.ts";
import type { CustomResourceInput } from "./parse-crds.ts";

const ns = "metallb-system";
const pool = (spec: unknown, labels?: Record<string, string>): CustomResourceInput => ({ name: "lan", namespace: ns, uid: "u1", generation: 3, labels, spec });
const adv = (spec: unknown): CustomResourceInput => ({ name: "l2", namespace: ns, spec });

describe("readIPAddressPool accepts MetalLB's documentation examples", () => {
  it("a simple pool, with defaults autoAssign true and avoidBuggyIPs false", () => {
    const read = readIPAddressPool(pool({ addresses: ["192.168.10.0/24", "192.168.9.1-192.168.9.5", "fc00:f853:0ccd:e799::/124"] }));
    expect(read.problems).toEqual([]);
    expect(read.pool).toEqual({
      name: "lan",
      protocol: "layer2",
      ranges: read.ranges,
      autoAssign: true,
      avoidBuggyIps: false,
      source: "IPAddressPool metallb-system/lan",
      labels: {},
    });
    expect(read.ranges.map((r) => `${r.index}:${r.text}=${formatRange(r)}`)).toEqual([
      "0:192.168.10.0/24=192.168.10.0-192.168.10.255",
      "1:192.168.9.1-192.168.9.5=192.168.9.1-192.168.9.5",
      "2:fc00:f853:0ccd:e799::/124=fc00:f853:ccd:e799::-fc00:f853:ccd:e799::f",
    ]);
  });

  it("a pool with serviceAllocation: priority, namespaces and selectors", () => {
    const read = readIPAddressPool(
      pool(
        {
          addresses: ["192.168.20.0/24"],
          autoAssign: false,
          avoidBuggyIPs: true,
          serviceAllocation: {
            priority: 50,
            namespaces: ["namespace-a", "namespace-b"],
            namespaceSelectors: [{ matchLabels: { foo: "bar" } }],
            serviceSelectors: [{ matchExpressions: [{ key: "serviceType", operator: "In", values: ["serviceTypeA"] }] }],
          },
        },
        { zone: "east" },
      ),
    );
    expect(read.problems).toEqual([]);
    const { ranges: _ranges, ...rest } = read.pool!;
    expect(rest).toEqual({
      name: "lan",
      protocol: "layer2",
      autoAssign: false,
      avoidBuggyIps: true,
      namespaces: ["namespace-a", "namespace-b"],
      serviceAllocation: {
        priority: 50,
        namespaceSelectors: [{ matchLabels: { foo: "bar" } }],
        serviceSelectors: [{ matchExpressions: [{ key: "serviceType", operator: "In", values: ["serviceTypeA"] }] }],
      },
      source: "IPAddressPool metallb-system/lan",
      labels: { zone: "east" },
    });
  });

  it.each<[string, unknown, object]>([
    ["priority 0 means no priority, as MetalLB's omitempty int", { priority: 0, namespaces: ["a"] }, { namespaces: ["a"], serviceAllocation: {} }],
    ["a negative priority is kept (it sorts before 1)", { priority: -3 }, { serviceAllocation: { priority: -3 } }],
    ["an empty serviceAllocation restricts nothing, but is kept: MetalLB orders such pools first", {}, { serviceAllocation: {} }],
    ["empty lists restrict nothing", { namespaces: [], namespaceSelectors: [], serviceSelectors: [] }, { serviceAllocation: {} }],
    ["no serviceAllocation", null, {}],
  ])("%s", (_name, serviceAllocation, expected) => {
    const read = readIPAddressPool(pool({ addresses: ["10.0.0.0/30"], serviceAllocation }));
    expect(read.problems).toEqual([]);
    const { namespaces, serviceAllocation: allocation } = read.pool!;
    expect({ ...(namespaces ? { namespaces } : {}), ...(allocation ? { serviceAllocation: allocation } : {}) }).toEqual(expected);
  });
});

describe("readIPAddressPool rejects, naming the field and the fix", () => {
  it.each<[string, unknown, string[]]>([
    ["no spec", undefined, ["spec.addresses: missing; list the pool's CIDRs or ranges, e.g. addresses: [192.168.10.0/24]"]],
    ["a spec that is a list", ["10.0.0.0/24"], ["spec: must be an object with addresses, e.g. {addresses: [192.168.10.0/24]}; got a list"]],
    ["an empty addresses list", { addresses: [] }, ["spec.addresses: is empty, so the pool has no addresses; list at least one CIDR or range, e.g. 192.168.10.0/24"]],
    ["addresses as a string", { addresses: "10.0.0.0/24" }, ['spec.addresses: must be a list of CIDRs or ranges, e.g. [192.168.10.0/24]; got "10.0.0.0/24"']],
    ["a bad CIDR", { addresses: ["10.0.0.0/24", "10.0.0.300/24"] }, ['spec.addresses[1]: "10.0.0.300/24" is not a valid CIDR (octet 300 > 255); write it as a.b.c.d/len']],
    [
      "a backwards range",
      { addresses: ["192.168.9.5-192.168.9.1"] },
      ['spec.addresses[0]: "192.168.9.5-192.168.9.1" is not a valid range (start 192.168.9.5 is after end 192.168.9.1); write the lower address first'],
    ],
    ["an address that is a number", { addresses: [10] }, ["spec.addresses[0]: must be a CIDR, range or IP written as text; got 10"]],
    [
      "overlapping entries within the pool",
      { addresses: ["10.0.0.0/30", "10.0.0.2-10.0.0.9"] },
      ["spec.addresses[1] 10.0.0.2-10.0.0.9 overlaps spec.addresses[0] 10.0.0.0/30 (they share 10.0.0.2-10.0.0.3); remove the overlap"],
    ],
    ["the same entry twice", { addresses: ["fd00::/120", "fd00::/120"] }, ["spec.addresses[1] fd00::/120 overlaps spec.addresses[0] fd00::/120 (they share fd00::-fd00::ff); remove the overlap"]],
    [
      "a field in the wrong case",
      { addresses: ["10.0.0.0/30"], autoassign: false },
      ['spec: unknown field "autoassign"; an IPAddressPool spec has addresses, autoAssign, avoidBuggyIPs, serviceAllocation; did you mean autoAssign? (field names are case-sensitive)'],
    ],
    [
      "the legacy spelling of a field",
      { addresses: ["10.0.0.0/30"], "auto-assign": false },
      ['spec: unknown field "auto-assign"; an IPAddressPool spec has addresses, autoAssign, avoidBuggyIPs, serviceAllocation'],
    ],
    ["autoAssign as a string", { addresses: ["10.0.0.0/30"], autoAssign: "false" }, ['spec.autoAssign: must be true or false; got "false"']],
    ["avoidBuggyIPs as a number", { addresses: ["10.0.0.0/30"], avoidBuggyIPs: 1 }, ["spec.avoidBuggyIPs: must be true or false; got 1"]],
    [
      "serviceAllocation as a list",
      { addresses: ["10.0.0.0/30"], serviceAllocation: [] },
      ["spec.serviceAllocation: must be an object with priority, namespaces, namespaceSelectors, serviceSelectors; got a list"],
    ],
    [
      "an unknown serviceAllocation field",
      { addresses: ["10.0.0.0/30"], serviceAllocation: { namespace: ["a"] } },
      ['spec.serviceAllocation: unknown field "namespace"; serviceAllocation has priority, namespaces, namespaceSelectors, serviceSelectors'],
    ],
    ["a fractional priority", { addresses: ["10.0.0.0/30"], serviceAllocation: { priority: 1.5 } }, ["spec.serviceAllocation.priority: must be a whole number (lower is preferred); got 1.5"]],
    ["a priority as text", { addresses: ["10.0.0.0/30"], serviceAllocation: { priority: "1" } }, ['spec.serviceAllocation.priority: must be a whole number (lower is preferred); got "1"']],
    [
      "an invalid namespace name",
      { addresses: ["10.0.0.0/30"], serviceAllocation: { namespaces: ["Team_A"] } },
      ['spec.serviceAllocation.namespaces[0]: "Team_A" is not a valid namespace name; use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit'],
    ],
    ["a namespace listed twice", { addresses: ["10.0.0.0/30"], serviceAllocation: { namespaces: ["a", "a"] } }, ['spec.serviceAllocation.namespaces[1]: "a" is listed twice; remove one']],
    ["a namespace that is empty", { addresses: ["10.0.0.0/30"], serviceAllocation: { namespaces: [""] } }, ["spec.serviceAllocation.namespaces[0]: must be a namespace name; got an empty string"]],
    [
      "a bad namespace selector",
      { addresses: ["10.0.0.0/30"], serviceAllocation: { namespaceSelectors: [{ matchExpressions: [{ key: "team", operator: "in", values: ["a"] }] }] } },
      ['spec.serviceAllocation.namespaceSelectors[0].matchExpressions[0]: operator "in" is not supported; use one of In, NotIn, Exists, DoesNotExist (case matters)'],
    ],
    [
      "the same service selector twice, as MetalLB refuses",
      { addresses: ["10.0.0.0/30"], serviceAllocation: { serviceSelectors: [{ matchLabels: { a: "1", b: "2" } }, { matchLabels: { b: "2", a: "1" } }] } },
      ["spec.serviceAllocation.serviceSelectors[1]: the same selector as spec.serviceAllocation.serviceSelectors[0] (b=2,a=1); remove one"],
    ],
  ])("%s", (_name, spec, problems) => {
    const read = readIPAddressPool(pool(spec));
    expect(read.problems).toEqual(problems);
    expect(read.pool).toBeUndefined();
  });

  it("reports every problem, and keeps the entries that parsed for overlap checks between pools", () => {
    const read = readIPAddressPool(pool({ addresses: ["10.0.0.0/30", "nope"], autoAssign: "yes" }));
    expect(read.problems).toEqual([
      'spec.addresses[1]: "nope" is not a valid IP address, CIDR or range (expected 4 dot-separated octets, found 1); write a.b.c.d, a.b.c.d/len or a.b.c.d-e.f.g.h',
      'spec.autoAssign: must be true or false; got "yes"',
    ]);
    expect(read.ranges.map((r) => r.text)).toEqual(["10.0.0.0/30"]);
  });
});

describe("readL2Advertisement", () => {
  it.each<[string, unknown, object]>([
    ["no spec: every pool from every node", undefined, {}],
    ["an advertisement by pool list", { ipAddressPools: ["first-pool"] }, { ipAddressPools: ["first-pool"] }],
    [
      "one with nodeSelectors",
      { ipAddressPools: ["first-pool"], nodeSelectors: [{ matchLabels: { "kubernetes.io/hostname": "NodeA" } }, { matchLabels: { "kubernetes.io/hostname": "NodeB" } }] },
      { ipAddressPools: ["first-pool"], nodeSelectors: [{ matchLabels: { "kubernetes.io/hostname": "NodeA" } }, { matchLabels: { "kubernetes.io/hostname": "NodeB" } }] },
    ],
    ["one with interfaces, duplicates folded", { ipAddressPools: ["third-pool"], interfaces: ["eth0", "eth1", "eth0"] }, { ipAddressPools: ["third-pool"], interfaces: ["eth0", "eth1"] }],
    [
      "one with pool selectors and service selectors",
      { ipAddressPoolSelectors: [{ matchExpressions: [{ key: "tier", operator: "In", values: ["gold"] }] }], serviceSelectors: [{ matchLabels: { app: "web" } }] },
      { ipAddressPoolSelectors: [{ matchExpressions: [{ key: "tier", operator: "In", values: ["gold"] }] }], serviceSelectors: [{ matchLabels: { app: "web" } }] },
    ],
    [
      "weighted preferred nodes",
      { preferredNodeSelectors: [{ weight: 100, preference: { matchLabels: { zone: "a" } } }, { weight: 1, preference: {} }] },
      { preferredNodeSelectors: [{ weight: 100, preference: { matchLabels: { zone: "a" } } }, { weight: 1, preference: {} }] },
    ],
  ])("reads %s", (_name, spec, fields) => {
    const read = readL2Advertisement(adv(spec));
    expect(read.problems).toEqual([]);
    expect(read.advertisement).toEqual({
      source: "L2Advertisement metallb-system/l2",
      name: "l2",
      ipAddressPools: [],
      ipAddressPoolSelectors: [],
      nodeSelectors: [],
      interfaces: [],
      serviceSelectors: [],
      preferredNodeSelectors: [],
      ...fields,
    });
  });

  it.each<[string, unknown, string[]]>([
    ["a spec that is text", "all", ['spec: must be an object (ipAddressPools, nodeSelectors, interfaces, …) or absent; got "all"']],
    [
      "an unknown field",
      { ipAddressPool: ["a"] },
      ['spec: unknown field "ipAddressPool"; an L2Advertisement spec has ipAddressPools, ipAddressPoolSelectors, nodeSelectors, interfaces, serviceSelectors, preferredNodeSelectors'],
    ],
    ["ipAddressPools as a string", { ipAddressPools: "a" }, ['spec.ipAddressPools: must be a list of pool names; got "a"']],
    ["a pool listed twice, as MetalLB refuses", { ipAddressPools: ["a", "a"] }, ['spec.ipAddressPools[1]: "a" is listed twice; remove one']],
    ["an empty interface name", { interfaces: [""] }, ["spec.interfaces[0]: must be an interface name; got an empty string"]],
    [
      "a bad node selector",
      { nodeSelectors: [{ matchLabels: { zone: "a b" } }] },
      [`spec.nodeSelectors[0].matchLabels.zone: label value "a b" is invalid; a value is empty or at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit`],
    ],
    ["the same node selector twice", { nodeSelectors: [{}, {}] }, ["spec.nodeSelectors[1]: the same selector as spec.nodeSelectors[0] (<everything>); remove one"]],
    ["a weight of 0", { preferredNodeSelectors: [{ weight: 0, preference: {} }] }, ["spec.preferredNodeSelectors[0].weight: must be a whole number from 1 to 100; got 0"]],
    ["a weight of 101", { preferredNodeSelectors: [{ weight: 101, preference: {} }] }, ["spec.preferredNodeSelectors[0].weight: must be a whole number from 1 to 100; got 101"]],
    [
      "a missing weight and preference",
      { preferredNodeSelectors: [{}] },
      [
        "spec.preferredNodeSelectors[0].weight: missing; set a weight from 1 to 100 (weights of matching entries add up)",
        "spec.preferredNodeSelectors[0].preference: missing; set the label selector of the preferred nodes, e.g. {matchLabels: {zone: a}}",
      ],
    ],
    [
      "a preference written as nodeSelector",
      { preferredNodeSelectors: [{ weight: 5, nodeSelector: {} }] },
      [
        'spec.preferredNodeSelectors[0]: unknown field "nodeSelector"; a preferred node selector has weight, preference',
        "spec.preferredNodeSelectors[0].preference: missing; set the label selector of the preferred nodes, e.g. {matchLabels: {zone: a}}",
      ],
    ],
  ])("rejects %s", (_name, spec, problems) => {
    const read = readL2Advertisement(adv(spec));
    expect(read.problems).toEqual(problems);
    expect(read.advertisement).toBeUndefined();
  });

  it("keeps the usable pool names of an invalid advertisement, with their index", () => {
    const read = readL2Advertisement(adv({ ipAddressPools: ["a", 7, "b"], interfaces: 3 }));
    expect(read.poolNames).toEqual([
      { name: "a", index: 0 },
      { name: "b", index: 2 },
    ]);
  });
});

describe("canonicalJson", () => {
  it("gives equal text for equal content whatever the key order", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson(undefined)).toBe("null");
  });
});
