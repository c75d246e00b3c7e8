import { describe, expect, it } from "vitest";
import { customResourceInput, decideConfig, isKept, nothingLoaded, refuseLoad } from "./config-source.ts";
import type { ConfigInputs, ConfigMapInput, ConfigState, CustomResourceInput, HeldIps, ObjectReadiness } from "./config-source.ts";

const ns = "metallb-system";
const CM = "ConfigMap metallb-system/config";

const cm = (config: string, uid = "cm-1"): ConfigMapInput => ({ state: "present", namespace: ns, name: "config", uid, data: { config } });
const cmData = (data: Record<string, string> | undefined): ConfigMapInput => ({ state: "present", namespace: ns, name: "config", uid: "cm-1", data });
const noCm: ConfigMapInput = { state: "absent", namespace: ns, name: "config" };
const legacyDefault = cm("address-pools:\n- name: default\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n");

interface Meta {
  readonly uid?: string;
  readonly generation?: number;
  readonly labels?: Record<string, string>;
  readonly namespace?: string;
}
const pool = (name: string, spec: unknown, meta: Meta = {}): CustomResourceInput => ({
  name,
  namespace: meta.namespace ?? ns,
  uid: meta.uid ?? `uid-${name}`,
  generation: meta.generation ?? 1,
  labels: meta.labels,
  spec,
});
const addresses = (name: string, list: string[], meta?: Meta) => pool(name, { addresses: list }, meta);
const l2 = (name: string, spec?: unknown, meta: Meta = {}): CustomResourceInput => ({
  name,
  namespace: meta.namespace ?? ns,
  uid: meta.uid ?? `uid-${name}`,
  generation: meta.generation ?? 1,
  labels: meta.labels,
  spec,
});
const inputs = (configMap: ConfigMapInput, pools: CustomResourceInput[] = [], advertisements: CustomResourceInput[] = []): ConfigInputs => ({
  configMap,
  crds: { pools, advertisements },
});

type Step = [ConfigInputs, HeldIps[]?];
function run(steps: readonly Step[], from: ConfigState = nothingLoaded): ConfigState[] {
  const states: ConfigState[] = [];
  let state = from;
  for (const [input, holders] of steps) states.push((state = decideConfig(state, input, holders ?? [])));
  return states;
}
const last = (steps: readonly Step[]) => run(steps).at(-1)!;
const poolNames = (state: ConfigState) => state.inForce?.pools.map((p) => p.name);
/** `Kind name: reason`, ready or not, per object. */
const verdicts = (state: ConfigState) => state.objects.map((o) => `${o.kind} ${o.namespace}/${o.name}: ${o.ready ? "ready" : "not ready"}, ${o.reason}`);
const objectOf = (state: ConfigState, kind: string, name: string): ObjectReadiness => state.objects.find((o) => o.kind === kind && o.name === name)!;
const message = (state: ConfigState) => (isKept(state.verdict) ? state.verdict.message : state.verdict.kind === "loaded" ? state.verdict.message : "");

const web: HeldIps = { service: "default/web", ips: ["10.0.0.200"] };
const lanPool = addresses("lan", ["192.168.10.0/24"]);
const all = l2("all");

describe("decideConfig with CRs: what is in force", () => {
  it.each<[string, Step[], string, string[] | undefined, string]>([
    [
      "no ConfigMap and no IPAddressPool, never seen: nothing in force, and both ways to configure named",
      [[inputs(noCm)]],
      "kept-because-deleted",
      undefined,
      "no IPAddressPool exists in metallb-system and ConfigMap metallb-system/config does not exist; create an IPAddressPool and an L2Advertisement in metallb-system, " +
        "or the ConfigMap with the address-pools YAML under data.config (example: manifests/examples/config.yaml); no config is in force yet, so no Service gets an IP and none is announced",
    ],
    [
      "the ConfigMap deleted and no IPAddressPool: the last good config stays",
      [[inputs(legacyDefault)], [inputs(noCm, [], [all])]],
      "kept-because-deleted",
      ["default"],
      "ConfigMap metallb-system/config was deleted and no IPAddressPool exists in metallb-system; create an IPAddressPool and an L2Advertisement in metallb-system, " +
        "or recreate the ConfigMap with the address-pools YAML under data.config; the last good config stays in force (pools default)",
    ],
    [
      "no ConfigMap, IPAddressPools alone: they are the config",
      [[inputs(noCm, [lanPool], [all])]],
      "loaded",
      ["lan"],
      "Config loaded: 1 pool(s) (lan) from 1 IPAddressPool, 1 L2Advertisement in metallb-system",
    ],
    [
      "both sources: ConfigMap pools first, then IPAddressPools by name",
      [[inputs(legacyDefault, [addresses("b", ["10.2.0.0/24"]), addresses("a", ["10.1.0.0/24"])], [all])]],
      "loaded",
      ["default", "a", "b"],
      "Config loaded: 3 pool(s) (default, a, b) from ConfigMap metallb-system/config + 2 IPAddressPools, 1 L2Advertisement",
    ],
    [
      "CRs watched but none exist: the ConfigMap exactly as before",
      [[inputs(legacyDefault)]],
      "loaded",
      ["default"],
      "Config loaded: 1 pool(s) (default)",
    ],
    [
      "the ConfigMap's key missing keeps the config, even with valid CRs",
      [[inputs(legacyDefault)], [inputs(cmData({}), [lanPool], [all])]],
      "kept-because-key-missing",
      ["default"],
      'ConfigMap metallb-system/config has no "config" key; put the address-pools YAML under data.config; the last good config stays in force (pools default)',
    ],
    [
      "the ConfigMap's key empty keeps the config, even with valid CRs",
      [[inputs(legacyDefault)], [inputs(cm("# moved to CRs\n"), [lanPool], [all])]],
      "kept-because-empty",
      ["default"],
      'ConfigMap metallb-system/config has an empty "config" key; put the address-pools YAML there (a config without pools is written "address-pools: []"); the last good config stays in force (pools default)',
    ],
    [
      "an invalid ConfigMap and an invalid CR: every problem of every object",
      [[inputs(legacyDefault)], [inputs(cm("address-pools: ["), [addresses("bad", ["10.0.0.300/24"])])]],
      "kept-because-invalid",
      ["default"],
      "ConfigMap metallb-system/config, key \"config\": config is not valid YAML at line 1, column 17: Flow sequence in block collection must be sufficiently indented and end with a ]; fix the syntax; " +
        'IPAddressPool metallb-system/bad: spec.addresses[0]: "10.0.0.300/24" is not a valid CIDR (octet 300 > 255); write it as a.b.c.d/len; the last good config stays in force (pools default)',
    ],
    [
      "a new pool overlapping one in force: the pool's problem, and the last good config stays",
      [[inputs(noCm, [lanPool], [all]), [{ service: "shop/web", ips: ["192.168.10.7"] }]], [inputs(noCm, [lanPool, addresses("b", ["10.9.0.0/24", "192.168.10.128/25"])], [all])]],
      "kept-because-invalid",
      ["lan"],
      'IPAddressPool metallb-system/b: spec.addresses[1] 192.168.10.128/25 overlaps pool "lan" (IPAddressPool metallb-system/lan, spec.addresses[0] 192.168.10.0/24), ' +
        "sharing 192.168.10.128-192.168.10.255; give each pool distinct addresses; the last good config stays in force (pools lan)",
    ],
    [
      "an L2Advertisement naming a missing pool keeps the whole config",
      [[inputs(noCm, [lanPool], [all])], [inputs(noCm, [lanPool], [all, l2("typo", { ipAddressPools: ["lna"] })])]],
      "kept-because-invalid",
      ["lan"],
      'L2Advertisement metallb-system/typo: spec.ipAddressPools[0]: no pool is named "lna" (the pools are lan); create an IPAddressPool named "lna" or correct the name; the last good config stays in force (pools lan)',
    ],
    [
      "a migration that would take a held IP away: the Services named",
      [[inputs(legacyDefault)], [inputs(noCm, [addresses("default", ["10.0.0.0/25"])], [all]), [web]]],
      "kept-because-it-would-orphan",
      ["default"],
      "1 IPAddressPool, 1 L2Advertisement in metallb-system: the new config would take IPs away from Services: default/web holds 10.0.0.200 (10.0.0.200 is in no pool of the new config). " +
        "Delete those Services or give them other IPs first; the new config is applied as soon as they are gone; the last good config stays in force (pools default)",
    ],
    [
      "a migration that keeps every held IP: the CRs replace the ConfigMap",
      [[inputs(legacyDefault)], [inputs(legacyDefault, [addresses("default", ["10.0.0.0/24"])], [all]), [web]], [inputs(noCm, [addresses("default", ["10.0.0.0/24"])], [all]), [web]]],
      "loaded",
      ["default"],
      "Config loaded: 1 pool(s) (default) from 1 IPAddressPool, 1 L2Advertisement in metallb-system",
    ],
  ])("%s", (_name, steps, kind, pools, text) => {
    const state = last(steps);
    expect(state.verdict.kind).toBe(kind);
    expect(poolNames(state)).toEqual(pools);
    expect(message(state)).toBe(text);
  });

  it("only reads CRs in the ConfigMap's namespace, and reports the others as ignored", () => {
    const state = last([[inputs(noCm, [lanPool, addresses("elsewhere", ["10.9.0.0/24"], { namespace: "default" })], [all, l2("l2x", undefined, { namespace: "kube-system" })])]]);
    expect(poolNames(state)).toEqual(["lan"]);
    expect(state.inForce?.source).toBe("1 IPAddressPool, 1 L2Advertisement in metallb-system");
    expect(objectOf(state, "IPAddressPool", "elsewhere")).toEqual({
      kind: "IPAddressPool",
      namespace: "default",
      name: "elsewhere",
      uid: "uid-elsewhere",
      generation: 1,
      ready: false,
      reason: "WrongNamespace",
      message: "ignored: only IPAddressPools in namespace metallb-system are read (the namespace baremetal-lb runs in, as MetalLB reads only its own); create it in metallb-system",
    });
    expect(objectOf(state, "L2Advertisement", "l2x").reason).toBe("WrongNamespace");
  });

  it("keeps inForce's pools, and adds its advertisements and a description of every source", () => {
    const state = last([[inputs(legacyDefault, [lanPool], [l2("b-adv", { ipAddressPools: ["lan"] }), l2("a-adv")])]]);
    expect(state.inForce?.source).toBe("ConfigMap metallb-system/config + 1 IPAddressPool, 2 L2Advertisements");
    expect(state.inForce?.pools.map((p) => p.source)).toEqual([CM, "IPAddressPool metallb-system/lan"]);
    expect(state.inForce?.advertisements.map((a) => `${a.source} [${a.ipAddressPools.join(", ")}]`)).toEqual([
      `${CM} [default]`,
      "L2Advertisement metallb-system/a-adv []",
      "L2Advertisement metallb-system/b-adv [lan]",
    ]);
  });
});

describe("decideConfig with CRs: the same inputs are decided once", () => {
  it.each<[string, ConfigInputs, ConfigInputs]>([
    ["a new uid and generation alone", inputs(noCm, [lanPool], [all]), inputs(noCm, [addresses("lan", ["192.168.10.0/24"], { uid: "uid-2", generation: 7 })], [l2("all", undefined, { uid: "u9" })])],
    ["the same spec with its keys in another order", inputs(noCm, [pool("lan", { addresses: ["10.0.0.0/24"], autoAssign: false })], [all]), inputs(noCm, [pool("lan", { autoAssign: false, addresses: ["10.0.0.0/24"] })], [all])],
    ["the same objects listed in another order", inputs(noCm, [lanPool, addresses("b", ["10.1.0.0/24"])], [all]), inputs(noCm, [addresses("b", ["10.1.0.0/24"]), lanPool], [all])],
    ["a label change on an L2Advertisement (nothing selects advertisements)", inputs(noCm, [lanPool], [all]), inputs(noCm, [lanPool], [l2("all", undefined, { labels: { team: "x" } })])],
    ["a change in another namespace", inputs(noCm, [lanPool], [all]), inputs(noCm, [lanPool, addresses("x", ["10.0.0.0/8"], { namespace: "default" })], [all])],
  ])("%s is unchanged", (_name, first, second) => {
    const [before, after] = run([[first], [second]]);
    expect(before.verdict.kind).toBe("loaded");
    expect(after.verdict).toEqual({ kind: "unchanged" });
    expect(after.inForce).toBe(before.inForce);
  });

  it("carries the objects' current uid and generation on an unchanged step", () => {
    const [, after] = run([[inputs(noCm, [lanPool], [all])], [inputs(noCm, [addresses("lan", ["192.168.10.0/24"], { uid: "uid-2", generation: 7 })], [all])]]);
    expect(objectOf(after, "IPAddressPool", "lan")).toMatchObject({ uid: "uid-2", generation: 7, ready: true, reason: "Accepted" });
  });

  it.each<[string, ConfigInputs, ConfigInputs]>([
    ["a label change on an IPAddressPool (pool selectors read it)", inputs(noCm, [lanPool], [all]), inputs(noCm, [addresses("lan", ["192.168.10.0/24"], { labels: { tier: "gold" } })], [all])],
    ["a new L2Advertisement", inputs(noCm, [lanPool], [all]), inputs(noCm, [lanPool], [all, l2("more", { interfaces: ["eth1"] })])],
    ["a spec change", inputs(noCm, [lanPool], [all]), inputs(noCm, [pool("lan", { addresses: ["192.168.10.0/24"], avoidBuggyIPs: true })], [all])],
  ])("%s is decided again", (_name, first, second) => {
    const [, after] = run([[first], [second]]);
    expect(after.verdict.kind).toBe("loaded");
  });

  it("picks up pool labels, so pool selectors see the change", () => {
    const selecting = l2("gold", { ipAddressPoolSelectors: [{ matchLabels: { tier: "gold" } }] });
    const [before, after] = run([[inputs(noCm, [lanPool], [selecting])], [inputs(noCm, [addresses("lan", ["192.168.10.0/24"], { labels: { tier: "gold" } })], [selecting])]]);
    expect(objectOf(before, "IPAddressPool", "lan").message).toBe(
      'in force: 192.168.10.0/24 (autoAssign); not announced: no L2Advertisement selects pool "lan", so its IPs are assigned but unreachable; create an L2Advertisement that names it in spec.ipAddressPools',
    );
    expect(objectOf(after, "IPAddressPool", "lan").message).toBe("in force: 192.168.10.0/24 (autoAssign)");
    expect(objectOf(after, "L2Advertisement", "gold").message).toBe("in force: announces pools lan from every node on every interface");
  });
});

describe("decideConfig with CRs: per-object readiness", () => {
  it("marks every object of a loaded config Accepted, saying what of it is in force", () => {
    const state = last([
      [
        inputs(
          legacyDefault,
          [
            pool("gold", { addresses: ["192.168.20.0/24", "fd00::/120"], autoAssign: false, avoidBuggyIPs: true, serviceAllocation: { priority: 5, namespaces: ["shop"], serviceSelectors: [{ matchLabels: { tier: "gold" } }] } }),
            lanPool,
          ],
          [l2("zone-a", { ipAddressPools: ["gold"], nodeSelectors: [{ matchLabels: { zone: "a" } }], interfaces: ["eth0"], preferredNodeSelectors: [{ weight: 50, preference: { matchLabels: { rack: "1" } } }] }), all],
        ),
      ],
    ]);
    expect(state.objects).toEqual([
      { kind: "ConfigMap", namespace: ns, name: "config", uid: "cm-1", ready: true, reason: "Accepted", message: "in force: pools default" },
      {
        kind: "IPAddressPool",
        namespace: ns,
        name: "gold",
        uid: "uid-gold",
        generation: 1,
        ready: true,
        reason: "Accepted",
        message: "in force: 192.168.20.0/24, fd00::/120 (autoAssign: false, avoidBuggyIPs, priority 5, namespaces shop, Services matching tier=gold)",
      },
      { kind: "IPAddressPool", namespace: ns, name: "lan", uid: "uid-lan", generation: 1, ready: true, reason: "Accepted", message: "in force: 192.168.10.0/24 (autoAssign)" },
      { kind: "L2Advertisement", namespace: ns, name: "all", uid: "uid-all", generation: 1, ready: true, reason: "Accepted", message: "in force: announces pools default, gold, lan from every node on every interface" },
      {
        kind: "L2Advertisement",
        namespace: ns,
        name: "zone-a",
        uid: "uid-zone-a",
        generation: 1,
        ready: true,
        reason: "Accepted",
        message: "in force: announces pools gold from nodes matching zone=a on interfaces eth0, preferring nodes matching rack=1 (weight 50)",
      },
    ]);
  });

  it("an overlap with a pool in force: only the newcomer is not ready, the pool in force stays Accepted, the others NotApplied", () => {
    const b = addresses("b", ["10.9.0.0/24", "192.168.10.128/25"]);
    const state = last([[inputs(noCm, [lanPool], [all])], [inputs(noCm, [lanPool, b, addresses("c", ["10.3.0.0/24"])], [all])]]);
    expect(verdicts(state)).toEqual([
      "IPAddressPool metallb-system/b: not ready, OverlappingPools",
      "IPAddressPool metallb-system/c: not ready, NotApplied",
      "IPAddressPool metallb-system/lan: ready, Accepted",
      "L2Advertisement metallb-system/all: ready, Accepted",
    ]);
    expect(objectOf(state, "IPAddressPool", "b").message).toBe(
      'spec.addresses[1] 192.168.10.128/25 overlaps pool "lan" (IPAddressPool metallb-system/lan, spec.addresses[0] 192.168.10.0/24), sharing 192.168.10.128-192.168.10.255; give each pool distinct addresses',
    );
    expect(objectOf(state, "IPAddressPool", "c").message).toBe(
      "not applied because other config objects have problems: IPAddressPool metallb-system/b (OverlappingPools); fix them; the last good config stays in force (pools lan)",
    );
  });

  it("two new overlapping pools on the first load: both not ready, each naming the other", () => {
    const state = last([[inputs(noCm, [addresses("a", ["192.168.10.0/24"]), addresses("b", ["10.9.0.0/24", "192.168.10.128/25"])], [all])]]);
    expect(state.objects.map((o) => [o.name, o.reason, o.message])).toEqual([
      ["a", "OverlappingPools", 'spec.addresses[0] 192.168.10.0/24 overlaps pool "b" (IPAddressPool metallb-system/b, spec.addresses[1] 192.168.10.128/25), sharing 192.168.10.128-192.168.10.255; give each pool distinct addresses'],
      ["b", "OverlappingPools", 'spec.addresses[1] 192.168.10.128/25 overlaps pool "a" (IPAddressPool metallb-system/a, spec.addresses[0] 192.168.10.0/24), sharing 192.168.10.128-192.168.10.255; give each pool distinct addresses'],
      ["all", "NotApplied", "not applied because other config objects have problems: IPAddressPool metallb-system/a (OverlappingPools), IPAddressPool metallb-system/b (OverlappingPools); fix them; no config is in force yet, so no Service gets an IP and none is announced"],
    ]);
  });

  it("a migration in progress: the ConfigMap in force stays Accepted; the converted pools wait for its deletion", () => {
    const state = last([[inputs(legacyDefault)], [inputs(legacyDefault, [addresses("default", ["10.0.0.0/24"])], [all])]]);
    expect(verdicts(state)).toEqual([
      "ConfigMap metallb-system/config: ready, Accepted",
      "IPAddressPool metallb-system/default: not ready, DuplicatePoolName",
      "L2Advertisement metallb-system/all: not ready, NotApplied",
    ]);
    expect(objectOf(state, "IPAddressPool", "default").message).toBe(
      'metadata.name: pool "default" is also defined by ConfigMap metallb-system/config, and pool names must be unique across both (Services name pools by name); ' +
        "rename this IPAddressPool, or remove the pool from the ConfigMap (delete the ConfigMap if the IPAddressPools replace it); " +
        'spec.addresses[0] 10.0.0.0/24 overlaps pool "default" (ConfigMap metallb-system/config, addresses[0] 10.0.0.0/24), sharing 10.0.0.0-10.0.0.255; ' +
        "give each pool distinct addresses (or delete the ConfigMap if the IPAddressPools replace it)",
    );
  });

  it("a ConfigMap whose key is missing: InvalidSpec on it, NotApplied on the CRs naming it", () => {
    const state = last([[inputs(cmData({ confg: "x" }), [lanPool], [all])]]);
    expect(state.objects.map((o) => [o.kind, o.reason, o.message])).toEqual([
      ["ConfigMap", "InvalidSpec", 'ConfigMap metallb-system/config has no "config" key (its keys: confg); put the address-pools YAML under data.config'],
      ["IPAddressPool", "NotApplied", "not applied because other config objects have problems: ConfigMap metallb-system/config (InvalidSpec); fix them; no config is in force yet, so no Service gets an IP and none is announced"],
      ["L2Advertisement", "NotApplied", "not applied because other config objects have problems: ConfigMap metallb-system/config (InvalidSpec); fix them; no config is in force yet, so no Service gets an IP and none is announced"],
    ]);
  });

  it("no pool at all: an L2Advertisement says what is missing", () => {
    const state = last([[inputs(noCm, [], [all])]]);
    expect(state.objects).toEqual([
      {
        kind: "L2Advertisement",
        namespace: ns,
        name: "all",
        uid: "uid-all",
        generation: 1,
        ready: false,
        reason: "NotApplied",
        message:
          "not applied: no IPAddressPool exists in metallb-system and ConfigMap metallb-system/config does not exist; create an IPAddressPool and an L2Advertisement in metallb-system, " +
          "or the ConfigMap with the address-pools YAML under data.config (example: manifests/examples/config.yaml); no config is in force yet, so no Service gets an IP and none is announced",
      },
    ]);
  });

  it("an object with problems of several kinds: the first kind is the reason, every message is kept", () => {
    const state = last([[inputs(legacyDefault, [addresses("default", ["10.0.0.0/24", "bad"])], [all])]]);
    const object = objectOf(state, "IPAddressPool", "default");
    expect(object.reason).toBe("InvalidSpec");
    expect(object.message.split("; ")[0]).toBe('spec.addresses[1]: "bad" is not a valid IP address, CIDR or range (expected 4 dot-separated octets, found 1)');
    expect(object.message).toContain('metadata.name: pool "default" is also defined by ConfigMap metallb-system/config');
    expect(object.message).toContain('spec.addresses[0] 10.0.0.0/24 overlaps pool "default" (ConfigMap metallb-system/config, addresses[0] 10.0.0.0/24)');
  });

  it("a changed pool that would take a held IP away: WouldTakeIPs on it, naming the Service and the IP", () => {
    const shrunk = addresses("lan", ["192.168.10.0/25"], { generation: 2 });
    const holder: HeldIps = { service: "shop/web", ips: ["192.168.10.200"] };
    const state = last([[inputs(noCm, [lanPool, addresses("other", ["10.5.0.0/24"])], [all]), [holder]], [inputs(noCm, [shrunk, addresses("other", ["10.6.0.0/24"])], [all]), [holder]]]);
    expect(state.verdict.kind).toBe("kept-because-it-would-orphan");
    expect(state.objects.map((o) => [o.name, o.generation, o.reason, o.message])).toEqual([
      [
        "lan",
        2,
        "WouldTakeIPs",
        "this change would take IPs away from Services: shop/web holds 192.168.10.200 (192.168.10.200 is in no pool of the new config). " +
          "Delete those Services or give them other IPs first, or keep those addresses in spec.addresses; the change is applied as soon as they are gone; the last good config stays in force (pools lan, other)",
      ],
      [
        "other",
        1,
        "NotApplied",
        "not applied: 2 IPAddressPools, 1 L2Advertisement in metallb-system: the new config would take IPs away from Services: " +
          "shop/web holds 192.168.10.200 (192.168.10.200 is in no pool of the new config). Delete those Services or give them other IPs first; the new config is applied as soon as they are gone; " +
          "the last good config stays in force (pools lan, other)",
      ],
      ["all", 1, "Accepted", "in force: announces pools lan, other from every node on every interface"],
    ]);
  });

  it("a migration that would take a held IP: WouldTakeIPs on the IPAddressPool replacing the ConfigMap pool of the same name", () => {
    const state = last([[inputs(legacyDefault)], [inputs(noCm, [addresses("default", ["10.0.0.0/25"])], [all]), [web]]]);
    expect(verdicts(state)).toEqual(["IPAddressPool metallb-system/default: not ready, WouldTakeIPs", "L2Advertisement metallb-system/all: not ready, NotApplied"]);
  });

  it("a ConfigMap change that would take a held IP: WouldTakeIPs on the ConfigMap", () => {
    const state = last([[inputs(legacyDefault, [lanPool], [all])], [inputs(cm("address-pools:\n- name: default\n  protocol: layer2\n  addresses: [10.0.0.0/25]\n"), [lanPool], [all]), [web]]]);
    expect(verdicts(state)).toEqual([
      "ConfigMap metallb-system/config: not ready, WouldTakeIPs",
      "IPAddressPool metallb-system/lan: ready, Accepted",
      "L2Advertisement metallb-system/all: ready, Accepted",
    ]);
    expect(objectOf(state, "ConfigMap", "config").message).toContain("or keep those addresses in their pool;");
  });

  it("applies a refused config once the holder is gone, and every object becomes Accepted", () => {
    const [, refused, applied] = run([[inputs(legacyDefault)], [inputs(noCm, [addresses("default", ["10.0.0.0/25"])], [all]), [web]], [inputs(noCm, [addresses("default", ["10.0.0.0/25"])], [all]), []]]);
    expect(refused.verdict.kind).toBe("kept-because-it-would-orphan");
    expect(applied.verdict).toEqual({ kind: "loaded", message: "Config applied now that no Service holds an IP it removes: 1 pool(s) (default) from 1 IPAddressPool, 1 L2Advertisement in metallb-system" });
    expect(verdicts(applied)).toEqual(["IPAddressPool metallb-system/default: ready, Accepted", "L2Advertisement metallb-system/all: ready, Accepted"]);
  });

  it("refuseLoad: the allocator's refusal lays WouldTakeIPs on the pool object", () => {
    const [previous] = run([[inputs(noCm, [lanPool], [all])]]);
    const loaded = decideConfig(previous, inputs(noCm, [addresses("lan", ["192.168.10.0/25"], { generation: 2 })], [all]), []);
    expect(loaded.verdict.kind).toBe("loaded");
    const refused = refuseLoad(previous, loaded, [{ service: "shop/db", ip: "192.168.10.130", reason: "the Service's labels no longer match" }]);
    expect(poolNames(refused)).toEqual(["lan"]);
    expect(refused.inForce?.pools[0].ranges.map((r) => r.text)).toEqual(["192.168.10.0/24"]);
    expect(isKept(refused.verdict) && refused.verdict.message).toBe(
      "1 IPAddressPool, 1 L2Advertisement in metallb-system: the new config would take IPs away from Services: shop/db holds 192.168.10.130 (the Service's labels no longer match). " +
        "Delete those Services or give them other IPs first; the new config is applied as soon as they are gone; the last good config stays in force (pools lan)",
    );
    expect(verdicts(refused)).toEqual(["IPAddressPool metallb-system/lan: not ready, WouldTakeIPs", "L2Advertisement metallb-system/all: ready, Accepted"]);
    expect(objectOf(refused, "IPAddressPool", "lan").generation).toBe(2);
  });

  it("reports the ConfigMap alone when CRs are not watched", () => {
    const state = decideConfig(nothingLoaded, { configMap: legacyDefault }, []);
    expect(state.objects).toEqual([{ kind: "ConfigMap", namespace: ns, name: "config", uid: "cm-1", ready: true, reason: "Accepted", message: "in force: pools default" }]);
  });
});

describe("customResourceInput", () => {
  it("reads an informer's object", () => {
    expect(customResourceInput({ metadata: { name: "lan", namespace: ns, uid: "u", generation: 2, labels: { a: "b" } }, spec: { addresses: ["10.0.0.0/24"] } })).toEqual({
      name: "lan",
      namespace: ns,
      uid: "u",
      generation: 2,
      labels: { a: "b" },
      spec: { addresses: ["10.0.0.0/24"] },
    });
    expect(customResourceInput({ metadata: { name: "l2", namespace: ns, labels: null } })).toEqual({ name: "l2", namespace: ns, uid: undefined, generation: undefined, labels: undefined, spec: undefined });
  });
});
