import { describe, expect, it } from "vitest";
import type { LbConfig } from "./config-types.ts";
import { mergeSources } from "./merge-sources.ts";
import type { LegacyPart, ObjectProblem } from "./merge-sources.ts";
import { parseConfig } from "./parse-config.ts";
import { readIPAddressPool, readL2Advertisement } from "./parse-crds.ts";

const ns = "metallb-system";
const CM = "ConfigMap metallb-system/config";

function legacy(text: string): LegacyPart {
  const parsed = parseConfig(text, CM);
  if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
  return { source: CM, config: parsed.config };
}
const cmPools = (...pools: [string, string][]) =>
  legacy(`address-pools:\n${pools.map(([name, cidr]) => `- name: ${name}\n  protocol: layer2\n  addresses: [${cidr}]\n`).join("")}`);
const pool = (name: string, addresses: unknown, labels?: Record<string, string>) => readIPAddressPool({ name, namespace: ns, labels, spec: { addresses } });
const adv = (name: string, spec?: unknown) => readL2Advertisement({ name, namespace: ns, spec });

const names = (config: LbConfig) => ({ pools: config.pools.map((p) => `${p.name} (${p.source})`), advertisements: config.advertisements.map((a) => a.source) });

describe("mergeSources: order", () => {
  it("puts the ConfigMap's pools first in config order, then IPAddressPools by name (the tie-break for equal priorities)", () => {
    const merged = mergeSources({
      legacy: cmPools(["zeta", "10.0.9.0/24"], ["alpha", "10.0.8.0/24"]),
      pools: [pool("c", ["10.0.3.0/24"]), pool("a", ["10.0.1.0/24"]), pool("b", ["10.0.2.0/24"])],
      advertisements: [adv("second"), adv("first")],
    });
    expect(merged.problems).toEqual([]);
    expect(names(merged.config)).toEqual({
      pools: [
        `zeta (${CM})`,
        `alpha (${CM})`,
        "a (IPAddressPool metallb-system/a)",
        "b (IPAddressPool metallb-system/b)",
        "c (IPAddressPool metallb-system/c)",
      ],
      advertisements: [CM, "L2Advertisement metallb-system/first", "L2Advertisement metallb-system/second"],
    });
  });

  it.each<[string, LegacyPart | undefined, string[]]>([
    ["IPAddressPools alone", undefined, ["a (IPAddressPool metallb-system/a)"]],
    ["the ConfigMap alone", cmPools(["default", "10.0.0.0/24"]), [`default (${CM})`, "a (IPAddressPool metallb-system/a)"]],
    ["an unreadable ConfigMap: its pools are unknown", { source: CM, unreadable: true }, ["a (IPAddressPool metallb-system/a)"]],
  ])("merges %s", (_name, legacyPart, pools) => {
    const merged = mergeSources({ legacy: legacyPart, pools: [pool("a", ["10.1.0.0/24"])], advertisements: [] });
    expect(merged.problems).toEqual([]);
    expect(names(merged.config).pools).toEqual(pools);
  });
});

describe("mergeSources: conflicts, each laid on the objects at fault", () => {
  const overlapAB = (fix = "give each pool distinct addresses"): ObjectProblem[] => [
    {
      source: "IPAddressPool metallb-system/a",
      reason: "OverlappingPools",
      message: `spec.addresses[0] 192.168.10.0/24 overlaps pool "b" (IPAddressPool metallb-system/b, spec.addresses[1] 192.168.10.128/25), sharing 192.168.10.128-192.168.10.255; ${fix}`,
    },
    {
      source: "IPAddressPool metallb-system/b",
      reason: "OverlappingPools",
      message: `spec.addresses[1] 192.168.10.128/25 overlaps pool "a" (IPAddressPool metallb-system/a, spec.addresses[0] 192.168.10.0/24), sharing 192.168.10.128-192.168.10.255; ${fix}`,
    },
  ];
  const a = pool("a", ["192.168.10.0/24"]);
  const b = pool("b", ["10.9.0.0/24", "192.168.10.128/25"]);

  it.each<[string, ReadonlySet<string> | undefined, ObjectProblem[]]>([
    ["two new pools overlapping: both at fault", undefined, overlapAB()],
    ["a new pool overlapping one in force: only the newcomer", new Set(["IPAddressPool metallb-system/a"]), overlapAB().slice(1)],
    ["the other way round", new Set(["IPAddressPool metallb-system/b"]), overlapAB().slice(0, 1)],
  ])("%s", (_name, inForce, problems) => {
    expect(mergeSources({ pools: [b, a], advertisements: [], inForce }).problems).toEqual(problems);
  });

  it("an IPAddressPool overlapping a ConfigMap pool, naming both pools and both sources", () => {
    const merged = mergeSources({ legacy: cmPools(["default", "10.0.0.0/24"]), pools: [pool("lan", ["10.0.0.128-10.0.0.140"])], advertisements: [] });
    const fix = "give each pool distinct addresses (or delete the ConfigMap if the IPAddressPools replace it)";
    expect(merged.problems).toEqual([
      {
        source: CM,
        reason: "OverlappingPools",
        message: `pool "default" addresses[0] 10.0.0.0/24 overlaps pool "lan" (IPAddressPool metallb-system/lan, spec.addresses[0] 10.0.0.128-10.0.0.140), sharing 10.0.0.128-10.0.0.140; ${fix}`,
      },
      {
        source: "IPAddressPool metallb-system/lan",
        reason: "OverlappingPools",
        message: `spec.addresses[0] 10.0.0.128-10.0.0.140 overlaps pool "default" (ConfigMap metallb-system/config, addresses[0] 10.0.0.0/24), sharing 10.0.0.128-10.0.0.140; ${fix}`,
      },
    ]);
  });

  it("a pool name defined by both sources; with the ConfigMap in force, only the IPAddressPool is at fault", () => {
    const merged = mergeSources({ legacy: cmPools(["default", "10.0.0.0/24"]), pools: [pool("default", ["10.1.0.0/24"])], advertisements: [], inForce: new Set([CM]) });
    expect(merged.problems).toEqual([
      {
        source: "IPAddressPool metallb-system/default",
        reason: "DuplicatePoolName",
        message:
          'metadata.name: pool "default" is also defined by ConfigMap metallb-system/config, and pool names must be unique across both (Services name pools by name); ' +
          "rename this IPAddressPool, or remove the pool from the ConfigMap (delete the ConfigMap if the IPAddressPools replace it)",
      },
    ]);
  });

  it("a pool name defined by both sources, both new: both at fault", () => {
    const merged = mergeSources({ legacy: cmPools(["default", "10.0.0.0/24"]), pools: [pool("default", ["10.1.0.0/24"])], advertisements: [] });
    expect(merged.problems.map((p) => [p.source, p.reason, p.message])).toEqual([
      [CM, "DuplicatePoolName", 'pool "default" is also defined by IPAddressPool metallb-system/default, and pool names must be unique across both; remove one of them or rename it'],
      [
        "IPAddressPool metallb-system/default",
        "DuplicatePoolName",
        'metadata.name: pool "default" is also defined by ConfigMap metallb-system/config, and pool names must be unique across both (Services name pools by name); ' +
          "rename this IPAddressPool, or remove the pool from the ConfigMap (delete the ConfigMap if the IPAddressPools replace it)",
      ],
    ]);
  });

  it.each<[string, LegacyPart | undefined, string[]]>([
    ["a name that no source defines", cmPools(["default", "10.0.0.0/24"]), ['spec.ipAddressPools[1]: no pool is named "lna" (the pools are default, lan); create an IPAddressPool named "lna" or correct the name']],
    ["any name while there are no pools", undefined, [
      'spec.ipAddressPools[0]: no pool is named "lan" (there are no pools); create an IPAddressPool named "lan" or correct the name',
      'spec.ipAddressPools[1]: no pool is named "lna" (there are no pools); create an IPAddressPool named "lna" or correct the name',
    ]],
    ["no name while the ConfigMap is unreadable: its pools are unknown", { source: CM, unreadable: true }, []],
  ])("an L2Advertisement naming a missing pool: %s", (_name, legacyPart, messages) => {
    const pools = legacyPart === undefined ? [] : [pool("lan", ["10.1.0.0/24"])];
    const merged = mergeSources({ legacy: legacyPart, pools, advertisements: [adv("l2", { ipAddressPools: ["lan", "lna"] })] });
    expect(merged.problems).toEqual(messages.map((message) => ({ source: "L2Advertisement metallb-system/l2", reason: "PoolNotFound", message })));
  });

  it("names a ConfigMap pool from an L2Advertisement without a problem", () => {
    const merged = mergeSources({ legacy: cmPools(["default", "10.0.0.0/24"]), pools: [], advertisements: [adv("l2", { ipAddressPools: ["default"] })] });
    expect(merged.problems).toEqual([]);
  });

  it("collects every problem of every object, in object order: ConfigMap, pools by name, advertisements by name", () => {
    const merged = mergeSources({
      legacy: cmPools(["default", "10.0.0.0/24"]),
      pools: [pool("z", ["10.0.0.0/28"]), pool("bad", ["10.0.0.300/24"])],
      advertisements: [adv("y", { ipAddressPools: ["nope"] }), adv("x", { interfaces: [""] })],
      inForce: new Set([CM]),
    });
    expect(merged.problems.map((p) => `${p.source} ${p.reason}`)).toEqual([
      "IPAddressPool metallb-system/bad InvalidSpec",
      "IPAddressPool metallb-system/z OverlappingPools",
      "L2Advertisement metallb-system/x InvalidSpec",
      "L2Advertisement metallb-system/y PoolNotFound",
    ]);
    expect(names(merged.config).pools).toEqual([`default (${CM})`, "z (IPAddressPool metallb-system/z)"]);
  });
});
