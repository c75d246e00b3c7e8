/**
 * Converting a legacy ConfigMap (MetalLB ≤ 0.12) into the equivalent `metallb.io/v1beta1` custom
 * resources: one IPAddressPool per pool and one L2Advertisement naming them all (legacy layer2
 * pools are announced from every node on every interface). Pure: text in, YAML or errors out.
 * The CLI is tools/convert-config.ts.
 */
import { parseAllDocuments, stringify } from "yaml";
import type { Pool } from "./config-types.ts";
import { parseConfig } from "./parse-config.ts";
import { isPlainObject } from "./parse-pool.ts";

const DEFAULT_NAMESPACE = "metallb-system";
const DEFAULT_NAME = "config";
/** A Kubernetes object name (DNS-1123 subdomain), as IPAddressPool names must be. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The CRs as YAML (with a leading comment saying what to do next), or every problem found. */
export type Conversion = { ok: true; yaml: string } | { ok: false; errors: string[] };

/**
 * Converts a whole ConfigMap manifest (the first ConfigMap in the file; its namespace is kept,
 * default metallb-system) or the bare `config` text.
 *
 * - auto-assign and avoid-buggy-ips become `autoAssign`/`avoidBuggyIPs`, written only when not the default;
 * - `namespaces` becomes `serviceAllocation.namespaces`;
 * - a single IP becomes a /32 or /128 (MetalLB's CRs take only CIDRs and ranges); other entries stay as written.
 *
 * @example
 * convertLegacyConfig("address-pools:\n- name: default\n  protocol: layer2\n  addresses: [10.0.0.0/28]\n");
 * // { ok: true, yaml: "# ...\napiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n..." }
 */
export function convertLegacyConfig(text: string): Conversion {
  const found = findConfig(text);
  if (!found.ok) return found;
  const { namespace, name, config } = found;
  const source = `ConfigMap ${namespace}/${name}`;
  const parsed = parseConfig(config, source);
  if (!parsed.ok) return { ok: false, errors: parsed.errors.map((e) => `${source}: ${e}`) };
  const pools = parsed.config.pools;
  const errors = pools.flatMap((pool) =>
    pool.name.length <= 253 && OBJECT_NAME.test(pool.name)
      ? []
      : [
          `pool "${pool.name}": not a valid IPAddressPool name (at most 253 lowercase letters, digits, "-" and ".", starting and ending with a letter or digit); ` +
            `rename the pool in the ConfigMap first, and the Services that name it in metallb.universe.tf/address-pool`,
        ],
  );
  if (errors.length > 0) return { ok: false, errors };
  if (pools.length === 0) return { ok: true, yaml: `# ${source} defines no pools: there is nothing to convert. Delete the ConfigMap, and create an IPAddressPool and an L2Advertisement.\n` };

  const documents = [...pools.map((pool) => ipAddressPool(pool, namespace)), l2Advertisement(pools, name, namespace)];
  return { ok: true, yaml: header(source, namespace, name) + orderNote(pools) + documents.map((d) => `---\n${stringify(d)}`).join("") };
}

/**
 * A note when the CRs would try the auto-assign pools in another order than the ConfigMap did:
 * IPAddressPools are tried by priority, then those with a serviceAllocation (here: those with
 * namespaces), then by name (merge-sources.ts, controller/pool-choice.ts).
 */
function orderNote(pools: readonly Pool[]): string {
  const auto = pools.filter((p) => p.autoAssign);
  const rank = (p: Pool) => (p.namespaces ? 1 : 2);
  const tried = [...auto].sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (tried.every((p, i) => p === auto[i])) return "";
  return [
    "#",
    `# Note: IPAddressPools are tried for new addresses by spec.serviceAllocation.priority, then those with a`,
    `# serviceAllocation, then by name: ${tried.map((p) => p.name).join(", ")}; the ConfigMap tried ${auto.map((p) => p.name).join(", ")}.`,
    "# To keep the ConfigMap's order, give each pool a spec.serviceAllocation.priority (lower is tried first).",
    "",
  ].join("\n");
}

function ipAddressPool(pool: Pool, namespace: string): object {
  return {
    apiVersion: "metallb.io/v1beta1",
    kind: "IPAddressPool",
    metadata: { name: pool.name, namespace },
    spec: {
      addresses: pool.ranges.map((r) => (r.first === r.last && !r.text.includes("/") && !r.text.includes("-") ? `${r.text}/${r.family === 4 ? 32 : 128}` : r.text)),
      ...(pool.autoAssign ? {} : { autoAssign: false }),
      ...(pool.avoidBuggyIps ? { avoidBuggyIPs: true } : {}),
      ...(pool.namespaces ? { serviceAllocation: { namespaces: [...pool.namespaces] } } : {}),
    },
  };
}

function l2Advertisement(pools: readonly Pool[], configMapName: string, namespace: string): object {
  return {
    apiVersion: "metallb.io/v1beta1",
    kind: "L2Advertisement",
    metadata: { name: `l2-from-${configMapName}`, namespace },
    spec: { ipAddressPools: pools.map((p) => p.name) },
  };
}

function header(source: string, namespace: string, name: string): string {
  return [
    `# The IPAddressPools and L2Advertisement equivalent to ${source},`,
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
}

type Found = { ok: true; namespace: string; name: string; config: string } | { ok: false; errors: string[] };

/** The config text and the ConfigMap's namespace and name, from a manifest or from the bare text. */
function findConfig(text: string): Found {
  const documents = [...parseAllDocuments(text)].map((doc): unknown => {
    if (doc.errors.length > 0) return undefined;
    try {
      return doc.toJS();
    } catch {
      return undefined; // e.g. too many aliases: then it is no ConfigMap we can read
    }
  });
  const configMaps = documents.filter((d): d is Record<string, unknown> => isPlainObject(d) && d.kind === "ConfigMap");
  if (configMaps.length === 0) return { ok: true, namespace: DEFAULT_NAMESPACE, name: DEFAULT_NAME, config: text };
  const cm = configMaps[0];
  const metadata = isPlainObject(cm.metadata) ? cm.metadata : {};
  const namespace = typeof metadata.namespace === "string" && metadata.namespace !== "" ? metadata.namespace : DEFAULT_NAMESPACE;
  const name = typeof metadata.name === "string" && metadata.name !== "" ? metadata.name : DEFAULT_NAME;
  const data = isPlainObject(cm.data) ? cm.data : {};
  if (typeof data.config !== "string") {
    const keys = Object.keys(data);
    return { ok: false, errors: [`ConfigMap ${namespace}/${name} has no "config" key under data${keys.length > 0 ? ` (its keys: ${keys.join(", ")})` : ""}; it holds the address-pools YAML to convert`] };
  }
  return { ok: true, namespace, name, config: data.config };
}
