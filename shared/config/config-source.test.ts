import { describe, expect, it } from "vitest";
import {
  configMapInput,
  decideConfig,
  heldIpsOf,
  isKept,
  keptCauses,
  nothingLoaded,
  refuseLoad,
  type ConfigInputs,
  type ConfigState,
  type HeldIps,
} from "./config-source.ts";

const ns = "metallb-system";
const name = "config";

const twoPools = `address-pools:
- name: default
  protocol: layer2
  addresses: [10.0.0.0/29]
- name: lan
  protocol: layer2
  addresses: [10.0.1.0/29]
`;
const defaultOnly = `address-pools:
- name: default
  protocol: layer2
  addresses: [10.0.0.0/29]
`;
const shrunk = `address-pools:
- name: default
  protocol: layer2
  addresses: [10.0.0.4/30]
`;

/** The ConfigMap with `data` (undefined: no data at all), or absent. */
const cm = (data: Record<string, string> | undefined, uid = "uid-1"): ConfigInputs => ({ configMap: { state: "present", namespace: ns, name, uid, data } });
const text = (config: string, uid?: string) => cm({ config }, uid);
const absent: ConfigInputs = { configMap: { state: "absent", namespace: ns, name } };

type Step = [ConfigInputs, HeldIps[]?];

function run(steps: readonly Step[], from: ConfigState = nothingLoaded): ConfigState[] {
  const states: ConfigState[] = [];
  let state = from;
  for (const [inputs, holders] of steps) {
    state = decideConfig(state, inputs, holders ?? []);
    states.push(state);
  }
  return states;
}

const last = (steps: readonly Step[]) => run(steps).at(-1)!;
const poolNames = (state: ConfigState) => state.inForce?.pools.map((p) => p.name);
const web: HeldIps = { service: "default/web", ips: ["10.0.0.1"] };
const dns: HeldIps = { service: "kube-system/dns", ips: ["10.0.1.2"] };

describe("decideConfig: what stays in force", () => {
  it.each<[string, Step[], string, string[] | undefined, string]>([
    [
      "absent before any good config: nothing in force",
      [[absent]],
      "kept-because-deleted",
      undefined,
      'ConfigMap metallb-system/config does not exist; create it with the address-pools YAML under data.config (example: manifests/examples/config.yaml); no config is in force yet, so no Service gets an IP and none is announced',
    ],
    [
      "invalid before any good config: nothing in force",
      [[text("address-pools: [")]],
      "kept-because-invalid",
      undefined,
      "no config is in force yet, so no Service gets an IP and none is announced",
    ],
    [
      "key missing before any good config: nothing in force",
      [[cm(undefined)]],
      "kept-because-key-missing",
      undefined,
      'ConfigMap metallb-system/config has no "config" key; put the address-pools YAML under data.config; no config is in force yet',
    ],
    [
      "key removed: the last good config stays",
      [[text(twoPools)], [cm({})]],
      "kept-because-key-missing",
      ["default", "lan"],
      'ConfigMap metallb-system/config has no "config" key; put the address-pools YAML under data.config; the last good config stays in force (pools default, lan)',
    ],
    [
      "key misspelt: the message lists the keys there are",
      [[text(twoPools)], [cm({ confg: twoPools })]],
      "kept-because-key-missing",
      ["default", "lan"],
      'ConfigMap metallb-system/config has no "config" key (its keys: confg); put the address-pools YAML under data.config',
    ],
    [
      "key set to the empty string: the last good config stays",
      [[text(twoPools)], [text("")]],
      "kept-because-empty",
      ["default", "lan"],
      'ConfigMap metallb-system/config has an empty "config" key; put the address-pools YAML there (a config without pools is written "address-pools: []"); the last good config stays in force (pools default, lan)',
    ],
    [
      "key holding only blanks and comments counts as empty",
      [[text(twoPools)], [text("  \n# pools moved to git\n")]],
      "kept-because-empty",
      ["default", "lan"],
      'has an empty "config" key',
    ],
    [
      "ConfigMap deleted: the last good config stays",
      [[text(twoPools)], [absent]],
      "kept-because-deleted",
      ["default", "lan"],
      "ConfigMap metallb-system/config was deleted; recreate it with the address-pools YAML under data.config; the last good config stays in force (pools default, lan)",
    ],
    [
      "invalid YAML: every parse error, and the last good config stays",
      [[text(twoPools)], [text("address-pools:\n- name: default\n  protocol: layer2\n  adresses: [10.0.0.0/29]\n")]],
      "kept-because-invalid",
      ["default", "lan"],
      'ConfigMap metallb-system/config, key "config": pool "default": unknown key "adresses"; allowed keys: name, protocol, addresses, auto-assign, avoid-buggy-ips, namespaces; ' +
        'pool "default": missing addresses; add a list of CIDRs, ranges or IPs, e.g. addresses: [192.168.1.240/28]; the last good config stays in force (pools default, lan)',
    ],
    [
      "a removed range a Service holds: every Service and IP listed",
      [[text(twoPools)], [text(shrunk), [web, dns]]],
      "kept-because-it-would-orphan",
      ["default", "lan"],
      "ConfigMap metallb-system/config: the new config would take IPs away from Services: default/web holds 10.0.0.1 (10.0.0.1 is in no pool of the new config); " +
        "kube-system/dns holds 10.0.1.2 (10.0.1.2 is in no pool of the new config). Delete those Services or give them other IPs first; " +
        "the new config is applied as soon as they are gone; the last good config stays in force (pools default, lan)",
    ],
    [
      "an explicit empty pool list while a Service holds an IP",
      [[text(twoPools)], [text("address-pools: []\n"), [web]]],
      "kept-because-it-would-orphan",
      ["default", "lan"],
      "default/web holds 10.0.0.1 (10.0.0.1 is in no pool of the new config)",
    ],
    [
      "a new namespaces restriction that excludes a holder",
      [[text(defaultOnly)], [text(`${defaultOnly}  namespaces: [shop]\n`), [web]]],
      "kept-because-it-would-orphan",
      ["default"],
      'default/web holds 10.0.0.1 (under the new config pool "default" is restricted to namespaces [shop] and the Service is in "default")',
    ],
    [
      "avoid-buggy-ips turned on under a Service holding a .0 address",
      [[text(defaultOnly)], [text(`${defaultOnly}  avoid-buggy-ips: true\n`), [{ service: "default/zero", ips: ["10.0.0.0"] }]]],
      "kept-because-it-would-orphan",
      ["default"],
      'default/zero holds 10.0.0.0 (under the new config 10.0.0.0 ends in .0 and pool "default" has avoid-buggy-ips: true; use another address or set avoid-buggy-ips: false)',
    ],
    [
      "a range moved out of the pool a Service names",
      [
        [text(twoPools)],
        [
          text("address-pools:\n- name: default\n  protocol: layer2\n  addresses: [10.0.0.0/30]\n- name: lan\n  protocol: layer2\n  addresses: [10.0.0.4/30, 10.0.1.0/29]\n"),
          [{ service: "default/named", ips: ["10.0.0.5"], pool: "default" }],
        ],
      ],
      "kept-because-it-would-orphan",
      ["default", "lan"],
      'default/named holds 10.0.0.5 (the Service requests pool "default" (metallb.universe.tf/address-pool) and the new config puts 10.0.0.5 in pool "lan")',
    ],
    [
      "a dual-stack Service's IPs split across two pools",
      [
        [text("address-pools:\n- name: ds\n  protocol: layer2\n  addresses: [10.0.0.0/29, 'fd00::/120']\n")],
        [
          text("address-pools:\n- name: ds\n  protocol: layer2\n  addresses: [10.0.0.0/29]\n- name: v6\n  protocol: layer2\n  addresses: ['fd00::/120']\n"),
          [{ service: "default/ds", ips: ["10.0.0.1", "fd00::1"] }],
        ],
      ],
      "kept-because-it-would-orphan",
      ["ds"],
      `default/ds holds 10.0.0.1 (the new config splits the Service's IPs across pools (10.0.0.1 in pool "ds", fd00::1 in pool "v6")); default/ds holds fd00::1 (`,
    ],
  ])("%s", (_name, steps, kind, pools, message) => {
    const state = last(steps);
    expect(state.verdict.kind).toBe(kind);
    expect(poolNames(state)).toEqual(pools);
    expect(state.refusal).toBe(state.verdict);
    expect(isKept(state.verdict) && state.verdict.message).toContain(message);
  });

  it.each<[string, Step[], string[]]>([
    ["the first good config, with Services already holding IPs outside it", [[text(shrunk), [web, dns]]], ["default"]],
    ["a good config after an invalid first one", [[text("address-pools: [")], [text(twoPools)]], ["default", "lan"]],
    ["a good config after the ConfigMap appears", [[absent], [text(twoPools)]], ["default", "lan"]],
    ["a shrunk config that takes away no held IP", [[text(twoPools)], [text(shrunk), [{ service: "default/web", ips: ["10.0.0.5"] }]]], ["default"]],
    ["a config that still leaves uncovered an IP that was uncovered already", [[text(shrunk), [web]], [text(defaultOnly.replace("/29", "/30")), [web]]], ["default"]],
    ["an explicit empty pool list while nothing is held", [[text(twoPools)], [text("address-pools: []\n")]], []],
    ["the deleted ConfigMap recreated with the same config", [[text(twoPools)], [absent], [text(twoPools, "uid-2")]], ["default", "lan"]],
  ])("loads %s", (_name, steps, pools) => {
    const state = last(steps);
    expect(state.verdict).toEqual({ kind: "loaded", message: `Config loaded: ${pools.length} pool(s) (${pools.join(", ") || "none"})` });
    expect(poolNames(state)).toEqual(pools);
    expect(state.refusal).toBeUndefined();
  });
});

describe("decideConfig: what is reported again", () => {
  it.each<[string, Step[]]>([
    ["the same good config", [[text(twoPools)], [text(twoPools)]]],
    ["the same invalid config", [[text(twoPools)], [text("address-pools: [")], [text("address-pools: [")]]],
    ["the key still missing", [[text(twoPools)], [cm({})], [cm({ other: "x" })]]],
    ["the ConfigMap still deleted", [[text(twoPools)], [absent], [absent]]],
    ["the same refused config with the same holders", [[text(twoPools)], [text(shrunk), [web]], [text(shrunk), [web]]]],
  ])("nothing for %s", (_name, steps) => {
    const states = run(steps);
    const [before, after] = states.slice(-2);
    expect(after.verdict).toEqual({ kind: "unchanged" });
    expect(after.inForce).toBe(before.inForce);
    expect(after.refusal).toBe(before.refusal);
  });

  it("keeps the last known uid of a deleted ConfigMap, to name it in Events", () => {
    const state = last([[text(twoPools, "uid-7")], [absent], [absent]]);
    expect(state.configMap).toEqual({ namespace: ns, name, uid: "uid-7" });
  });

  it("retries a refused config when the holders change, and applies it once none is blocking", () => {
    const [, refused, stillOne, applied] = run([[text(twoPools)], [text(shrunk), [web, dns]], [text(shrunk), [web]], [text(shrunk), []]]);
    expect(refused.verdict.kind).toBe("kept-because-it-would-orphan");
    expect(isKept(stillOne.verdict) && stillOne.verdict.takenAway).toEqual([{ service: "default/web", ip: "10.0.0.1", reason: "10.0.0.1 is in no pool of the new config" }]);
    expect(poolNames(stillOne)).toEqual(["default", "lan"]);
    expect(applied.verdict).toEqual({ kind: "loaded", message: "Config applied now that no Service holds an IP it removes: 1 pool(s) (default)" });
    expect(poolNames(applied)).toEqual(["default"]);
  });

  it("drops a refused config that is replaced by the one in force", () => {
    const [, , back, later] = run([[text(twoPools)], [text(shrunk), [web]], [text(twoPools), [web]], [text(twoPools), []]]);
    expect(back.verdict.kind).toBe("loaded");
    expect(back.refusal).toBeUndefined();
    expect(later.verdict).toEqual({ kind: "unchanged" });
    expect(poolNames(later)).toEqual(["default", "lan"]);
  });
});

describe("refuseLoad: the caller's own check overrules a load", () => {
  const blocked = [{ service: "default/new", ip: "10.0.1.3", reason: "10.0.1.3 is in no pool of the new config" }];

  it("keeps the previous config and lists what the caller says is taken away", () => {
    const [previous] = run([[text(twoPools)]]);
    const loaded = decideConfig(previous, text(shrunk), []);
    const refused = refuseLoad(previous, loaded, blocked);
    expect(refused.verdict.kind).toBe("kept-because-it-would-orphan");
    expect(isKept(refused.verdict) && refused.verdict.message).toContain("default/new holds 10.0.1.3 (10.0.1.3 is in no pool of the new config)");
    expect(poolNames(refused)).toEqual(["default", "lan"]);
  });

  it("retries the refused config on the next step, and does not report the same refusal twice", () => {
    const [previous] = run([[text(twoPools)]]);
    const refused = refuseLoad(previous, decideConfig(previous, text(shrunk), []), blocked);
    const retried = decideConfig(refused, text(shrunk), []);
    expect(retried.verdict.kind).toBe("loaded");
    expect(refuseLoad(refused, retried, blocked).verdict).toEqual({ kind: "unchanged" });
  });

  it("refuses to overrule a step that did not load", () => {
    const kept = decideConfig(nothingLoaded, absent, []);
    expect(() => refuseLoad(nothingLoaded, kept, blocked)).toThrow('refuseLoad needs a "loaded" step and at least one IP taken away; got verdict "kept-because-deleted"');
  });
});

describe("adapters from Kubernetes objects", () => {
  it("reads a ConfigMap, its missing data and its absence", () => {
    expect(configMapInput({ metadata: { uid: "u" }, data: { config: "x" } }, ns, name)).toEqual({ state: "present", namespace: ns, name, uid: "u", data: { config: "x" } });
    expect(configMapInput({ metadata: {} }, ns, name)).toEqual({ state: "present", namespace: ns, name, uid: undefined, data: undefined });
    expect(configMapInput(undefined, ns, name)).toEqual({ state: "absent", namespace: ns, name });
  });

  it("reads the IPs a Service shows and the pool it names under either prefix", () => {
    const svc = (annotations: Record<string, string>, ingress: { ip?: string }[]) => ({ metadata: { namespace: "shop", name: "web", annotations }, status: { loadBalancer: { ingress } } });
    expect(heldIpsOf(svc({ "metallb.io/address-pool": "lan" }, [{ ip: "10.0.0.1" }, {}]))).toEqual({ service: "shop/web", ips: ["10.0.0.1"], pool: "lan" });
    expect(heldIpsOf(svc({ "metallb.universe.tf/address-pool": "a", "metallb.io/address-pool": "b" }, [{ ip: "10.0.0.1" }]))?.pool).toBeUndefined();
    expect(heldIpsOf(svc({}, []))).toBeUndefined();
  });

  it("names one cause per kept verdict", () => {
    expect(keptCauses).toEqual(["invalid", "key-missing", "empty", "deleted", "would-orphan-ips"]);
  });
});
