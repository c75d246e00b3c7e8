import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { formatRange } from "../ip/range.ts";
import { decideConfig, nothingLoaded } from "./config-source.ts";
import type { ConfigMapInput, CustomResourceInput } from "./config-source.ts";
import type { Pool } from "./config-types.ts";
import { convertLegacyConfig } from "./convert-legacy.ts";
import { parseConfig } from "./parse-config.ts";
import { readIPAddressPool, readL2Advertisement } from "./parse-crds.ts";

const example = readFileSync(new URL("../../manifests/examples/config.yaml", import.meta.url), "utf8");

function converted(text: string): string {
  const result = convertLegacyConfig(text);
  if (!result.ok) throw new Error(result.errors.join("\n"));
  return result.yaml;
}

/** The converted objects, as an informer would hand them over. */
function objects(yaml: string): { pools: CustomResourceInput[]; advertisements: CustomResourceInput[] } {
  const docs = parseAllDocuments(yaml).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string }; spec: unknown });
  const input = (d: (typeof docs)[number]): CustomResourceInput => ({ name: d.metadata.name, namespace: d.metadata.namespace, spec: d.spec });
  return { pools: docs.filter((d) => d.kind === "IPAddressPool").map(input), advertisements: docs.filter((d) => d.kind === "L2Advertisement").map(input) };
}

/** What a pool serves, independent of how its addresses are written. */
const meaning = (pool: Pool) => ({
  name: pool.name,
  ranges: pool.ranges.map(formatRange),
  autoAssign: pool.autoAssign,
  avoidBuggyIps: pool.avoidBuggyIps,
  namespaces: pool.namespaces,
});

const HEADER = (namespace: string, name: string) =>
  [
    `# The IPAddressPools and L2Advertisement equivalent to ConfigMap ${namespace}/${name},`,
    "# written by `npm run convert-config`. The L2Advertisement names every pool, announced from every",
    "# node on every interface, as the ConfigMap's layer2 pools were.",
    "#",
    "# Next:",
    "# 1. kubectl apply -f <this file>",
    "#    While the ConfigMap still defines the same pools, these IPAddressPools show Ready=False",
    "#    (DuplicatePoolName, OverlappingPools) and the ConfigMap's config stays in force: nothing changes yet.",
    `# 2. kubectl -n ${namespace} delete configmap ${name}`,
    "#    The controller then puts these objects in force; Services keep their IPs. If a Service would lose",
    "#    its IP, it refuses instead (a Warning Event names each Service) and the last good config stays.",
    `# 3. kubectl -n ${namespace} get ipaddresspools,l2advertisements -o wide`,
    "#    READY is True once each object is in force; otherwise REASON and `kubectl describe` say why.",
    "",
  ].join("\n");

describe("convertLegacyConfig", () => {
  it("converts the example ConfigMap manifest: one IPAddressPool per pool, one L2Advertisement naming them all", () => {
    expect(converted(example)).toBe(
      HEADER("metallb-system", "config") +
        `---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: default
  namespace: metallb-system
spec:
  addresses:
    - 192.168.1.240-192.168.1.250
    - fd00:1::240-fd00:1::250
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: reserved
  namespace: metallb-system
spec:
  addresses:
    - 192.168.1.251/32
  autoAssign: false
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: l2-from-config
  namespace: metallb-system
spec:
  ipAddressPools:
    - default
    - reserved
`,
    );
  });

  it("converts the bare config text into metallb-system, writing non-default flags, namespaces and single IPs as /32 and /128", () => {
    const text = "address-pools:\n- name: p\n  protocol: layer2\n  addresses: [10.0.0.7, 'fd00::1', 10.1.0.1 - 10.1.0.9]\n  avoid-buggy-ips: true\n  auto-assign: true\n  namespaces: [shop, web]\n";
    expect(converted(text)).toBe(
      HEADER("metallb-system", "config") +
        `---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: p
  namespace: metallb-system
spec:
  addresses:
    - 10.0.0.7/32
    - fd00::1/128
    - 10.1.0.1 - 10.1.0.9
  avoidBuggyIPs: true
  serviceAllocation:
    namespaces:
      - shop
      - web
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: l2-from-config
  namespace: metallb-system
spec:
  ipAddressPools:
    - p
`,
    );
  });

  it("keeps the ConfigMap's namespace and name, and finds it among other documents", () => {
    const manifest = `apiVersion: v1\nkind: Namespace\nmetadata: {name: lb}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: pools, namespace: lb}\ndata:\n  config: |\n    address-pools:\n    - {name: a, protocol: layer2, addresses: [10.0.0.0/30]}\n`;
    const yaml = converted(manifest);
    expect(yaml.startsWith(HEADER("lb", "pools"))).toBe(true);
    expect(objects(yaml)).toEqual({
      pools: [{ name: "a", namespace: "lb", spec: { addresses: ["10.0.0.0/30"] } }],
      advertisements: [{ name: "l2-from-pools", namespace: "lb", spec: { ipAddressPools: ["a"] } }],
    });
  });

  it("notes when the CRs would try the auto-assign pools in another order than the ConfigMap", () => {
    const text = "address-pools:\n- {name: zeta, protocol: layer2, addresses: [10.0.9.0/24]}\n- {name: alpha, protocol: layer2, addresses: [10.0.1.0/24]}\n";
    expect(converted(text)).toContain(
      "#\n# Note: IPAddressPools are tried for new addresses by spec.serviceAllocation.priority, then those with a\n" +
        "# serviceAllocation, then by name: alpha, zeta; the ConfigMap tried zeta, alpha.\n" +
        "# To keep the ConfigMap's order, give each pool a spec.serviceAllocation.priority (lower is tried first).\n---\n",
    );
    expect(converted(example)).not.toContain("# Note:");
  });

  it("says there is nothing to convert for a config without pools", () => {
    expect(convertLegacyConfig("address-pools: []\n")).toEqual({
      ok: true,
      yaml: "# ConfigMap metallb-system/config defines no pools: there is nothing to convert. Delete the ConfigMap, and create an IPAddressPool and an L2Advertisement.\n",
    });
  });

  it.each<[string, string, string[]]>([
    [
      "an invalid config: every problem, named by the ConfigMap",
      "address-pools:\n- name: a\n  protocol: bgp\n  addresses: [10.0.0.300/24]\n",
      [
        'ConfigMap metallb-system/config: pool "a": protocol bgp is not supported (BGP mode is not supported; baremetal-lb implements layer2 only); set protocol: layer2',
        'ConfigMap metallb-system/config: pool "a", addresses[0]: "10.0.0.300/24" is not a valid CIDR (octet 300 > 255); write it as a.b.c.d/len',
      ],
    ],
    [
      "a pool name that is not an object name",
      "address-pools:\n- name: Lab_Pool\n  protocol: layer2\n  addresses: [10.0.0.0/30]\n",
      [
        'pool "Lab_Pool": not a valid IPAddressPool name (at most 253 lowercase letters, digits, "-" and ".", starting and ending with a letter or digit); ' +
          "rename the pool in the ConfigMap first, and the Services that name it in metallb.universe.tf/address-pool",
      ],
    ],
    [
      "a ConfigMap without the config key",
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config, namespace: metallb-system}\ndata: {confg: x}\n",
      ['ConfigMap metallb-system/config has no "config" key under data (its keys: confg); it holds the address-pools YAML to convert'],
    ],
  ])("refuses %s", (_name, text, errors) => {
    expect(convertLegacyConfig(text)).toEqual({ ok: false, errors });
  });
});

describe("convertLegacyConfig round trip", () => {
  const text =
    "address-pools:\n" +
    "- {name: default, protocol: layer2, addresses: [192.168.1.240-192.168.1.250, 'fd00:1::/120', 10.9.9.9]}\n" +
    "- {name: reserved, protocol: layer2, auto-assign: false, avoid-buggy-ips: true, addresses: [192.168.2.0/24], namespaces: [ops]}\n";

  it("reads back, through parse-crds, the same ranges and flags as the ConfigMap", () => {
    const legacy = parseConfig(text);
    if (!legacy.ok) throw new Error(legacy.errors.join("\n"));
    const crs = objects(converted(text));
    const pools = crs.pools.map((o) => readIPAddressPool(o));
    expect(pools.flatMap((r) => r.problems)).toEqual([]);
    expect(pools.map((r) => meaning(r.pool!))).toEqual(legacy.config.pools.map(meaning));
    const [advertisement] = crs.advertisements.map((o) => readL2Advertisement(o).advertisement!);
    expect(advertisement.ipAddressPools).toEqual(["default", "reserved"]);
    expect([advertisement.nodeSelectors, advertisement.interfaces]).toEqual([[], []]);
  });

  it("migrates without taking an IP away: apply the CRs (they wait), delete the ConfigMap (they load)", () => {
    const cm: ConfigMapInput = { state: "present", namespace: "metallb-system", name: "config", uid: "u", data: { config: text } };
    const absent: ConfigMapInput = { state: "absent", namespace: "metallb-system", name: "config" };
    const crds = objects(converted(text));
    const holders = [{ service: "ops/db", ips: ["192.168.2.7"], pool: "reserved" }, { service: "shop/web", ips: ["192.168.1.240", "fd00:1::1"] }];
    const before = decideConfig(nothingLoaded, { configMap: cm, crds: { pools: [], advertisements: [] } }, holders);
    const applied = decideConfig(before, { configMap: cm, crds }, holders);
    expect(applied.verdict.kind).toBe("kept-because-invalid");
    expect(applied.objects.map((o) => `${o.kind}/${o.name} ${o.reason}`)).toEqual([
      "ConfigMap/config Accepted",
      "IPAddressPool/default DuplicatePoolName",
      "IPAddressPool/reserved DuplicatePoolName",
      "L2Advertisement/l2-from-config NotApplied",
    ]);
    const migrated = decideConfig(applied, { configMap: absent, crds }, holders);
    expect(migrated.verdict).toEqual({ kind: "loaded", message: "Config loaded: 2 pool(s) (default, reserved) from 2 IPAddressPools, 1 L2Advertisement in metallb-system" });
    expect(migrated.inForce?.pools.map(meaning)).toEqual(before.inForce?.pools.map(meaning));
    expect(migrated.objects.every((o) => o.ready)).toBe(true);
  });
});
