/**
 * Is it safe to announce from this node with kube-proxy's IPVS mode? A pure verdict from kube-proxy's mode and the
 * node's effective ARP sysctls.
 *
 * In IPVS mode kube-proxy binds every LoadBalancer IP to the dummy interface kube-ipvs0, so with the default
 * `arp_ignore=0` every node's kernel answers ARP for every VIP, within microseconds, long before a userspace
 * responder does. `ipvs.strictARP: true` makes kube-proxy set `arp_ignore=1` (answer only for addresses on the
 * receiving interface) and `arp_announce=2` (never use such an address as the source of our own ARP requests).
 * The kernel applies the larger of `net.ipv4.conf.all.X` and `net.ipv4.conf.<if>.X` for both, so the check is
 * made per announcing interface on the effective value.
 *
 * The mode comes from, in order of trust: kube-proxy's own `/proxyMode` answer (what is running), the
 * `kube-system/kube-proxy` ConfigMap (`config.conf`; an empty mode means iptables on Linux), and, when neither
 * is available, the presence of kube-ipvs0.
 */
import { parse } from "yaml";

/** kube-proxy modes on Linux ("" is the default, which is iptables). */
export type KubeProxyMode = "" | "iptables" | "ipvs" | "nftables";

/** What `config.conf` of the kube-proxy ConfigMap says. */
export interface KubeProxyConfig {
  mode: KubeProxyMode;
  strictARP: boolean;
}

/** `arp_ignore` and `arp_announce` values. */
export interface ArpSysctls {
  arpIgnore: number;
  arpAnnounce: number;
}

/** The node's ARP sysctls: `net.ipv4.conf.all` and each announcing interface's own. */
export interface NodeArpSysctls {
  all: ArpSysctls;
  interfaces: Readonly<Record<string, ArpSysctls>>;
}

/** Everything the verdict looks at; absent sources are simply not used. */
export interface StrictArpInput {
  /** Body of http://127.0.0.1:10249/proxyMode, when kube-proxy answered. */
  proxyModeEndpoint?: string;
  /** The parsed kube-proxy ConfigMap, when it exists and parsed. */
  configMap?: KubeProxyConfig;
  /** Whether the kube-ipvs0 interface exists on the node (fallback signal). */
  kubeIpvs0Present?: boolean;
  sysctls: NodeArpSysctls;
}

/** The verdict: ok (with a detail for the log, and a warning when only arp_announce is off) or what is wrong and the fix. */
export type StrictArpVerdict =
  | { ok: true; mode: string; detail: string; warning?: string }
  | { ok: false; mode: "ipvs"; reason: string; fix: string; interfaces: string[] };

/** The fix for IPVS without strictARP, word for word as it goes into the Event and the log. */
export const STRICT_ARP_FIX =
  "edit the kube-proxy ConfigMap: kubectl -n kube-system edit configmap kube-proxy, and under config.conf set " +
  "ipvs.strictARP: true; then restart kube-proxy: kubectl -n kube-system rollout restart daemonset kube-proxy";

/** The fix when the ConfigMap already says strictARP: true but the running kube-proxy has not applied it. */
export const STRICT_ARP_RESTART_FIX =
  "restart kube-proxy so it applies ipvs.strictARP: true: kubectl -n kube-system rollout restart daemonset kube-proxy";

const MODES: readonly string[] = ["", "iptables", "ipvs", "nftables"];

/**
 * Parses `config.conf` of the `kube-system/kube-proxy` ConfigMap (a KubeProxyConfiguration YAML document) for
 * `mode` (default "") and `ipvs.strictARP` (default false).
 *
 * @example
 * parseKubeProxyConfig("mode: ipvs\nipvs:\n  strictARP: true\n") // { ok: true, config: { mode: "ipvs", strictARP: true } }
 */
export function parseKubeProxyConfig(
  text: string,
): { ok: true; config: KubeProxyConfig } | { ok: false; error: string } {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    return { ok: false, error: `kube-proxy ConfigMap config.conf is not valid YAML: ${(e as Error).message}` };
  }
  if (doc === null || doc === undefined) return { ok: true, config: { mode: "", strictARP: false } };
  if (typeof doc !== "object" || Array.isArray(doc)) {
    return {
      ok: false,
      error: "kube-proxy ConfigMap config.conf is not a YAML mapping (expected a KubeProxyConfiguration)",
    };
  }
  const record = doc as Record<string, unknown>;
  const mode = record.mode ?? "";
  if (typeof mode !== "string" || !MODES.includes(mode)) {
    return {
      ok: false,
      error: `kube-proxy ConfigMap config.conf: mode ${JSON.stringify(mode)} is not one of "", "iptables", "ipvs", "nftables"`,
    };
  }
  const ipvs = record.ipvs ?? {};
  if (typeof ipvs !== "object" || ipvs === null || Array.isArray(ipvs)) {
    return { ok: false, error: "kube-proxy ConfigMap config.conf: ipvs is not a mapping" };
  }
  const strictARP = (ipvs as Record<string, unknown>).strictARP ?? false;
  if (typeof strictARP !== "boolean") {
    return {
      ok: false,
      error: `kube-proxy ConfigMap config.conf: ipvs.strictARP ${JSON.stringify(strictARP)} is not true or false`,
    };
  }
  return { ok: true, config: { mode: mode as KubeProxyMode, strictARP } };
}

/**
 * The values the kernel applies on an interface: the larger of `all` and the interface's own, for each sysctl.
 *
 * @example
 * effectiveArpSysctls({ arpIgnore: 1, arpAnnounce: 0 }, { arpIgnore: 0, arpAnnounce: 2 }) // { arpIgnore: 1, arpAnnounce: 2 }
 */
export function effectiveArpSysctls(all: ArpSysctls, iface: ArpSysctls): ArpSysctls {
  return {
    arpIgnore: Math.max(all.arpIgnore, iface.arpIgnore),
    arpAnnounce: Math.max(all.arpAnnounce, iface.arpAnnounce),
  };
}

/**
 * Whether kube-proxy's IPVS mode (if on) has strictARP in effect on every announcing interface.
 *
 * @example
 * const sysctls = { all: { arpIgnore: 0, arpAnnounce: 0 }, interfaces: { eth0: { arpIgnore: 0, arpAnnounce: 0 } } };
 * strictArpVerdict({ proxyModeEndpoint: "ipvs", sysctls })
 * // { ok: false, mode: "ipvs", reason: "kube-proxy runs in IPVS mode without strictARP: ...",
 * //   fix: STRICT_ARP_FIX, interfaces: ["eth0"] }
 */
export function strictArpVerdict(input: StrictArpInput): StrictArpVerdict {
  const mode = effectiveMode(input);
  if (mode === "unknown") return { ok: true, mode, detail: "kube-proxy mode unknown and no kube-ipvs0: nothing to check" };
  if (mode !== "ipvs") return { ok: true, mode, detail: `kube-proxy mode ${mode}: no strictARP needed` };
  const { all, interfaces } = input.sysctls;
  const names = Object.keys(interfaces);
  const effective =
    names.length > 0 ? names.map((name) => ({ name, ...effectiveArpSysctls(all, interfaces[name]) })) : [{ name: "all", ...all }];
  const ignoring = effective.filter((e) => e.arpIgnore < 1);
  if (ignoring.length > 0) {
    const where = ignoring.map((e) => `${e.name} (arp_ignore=${e.arpIgnore})`).join(", ");
    const consequence = "so this node's kernel answers ARP for every LoadBalancer IP bound to kube-ipvs0";
    const applied = input.configMap?.strictARP === true;
    return {
      ok: false,
      mode: "ipvs",
      reason: applied
        ? `kube-proxy's ConfigMap sets ipvs.strictARP: true, but it is not in effect on ${where}, ${consequence}`
        : `kube-proxy runs in IPVS mode without strictARP: effective arp_ignore < 1 on ${where}, ${consequence}`,
      fix: applied ? STRICT_ARP_RESTART_FIX : STRICT_ARP_FIX,
      interfaces: ignoring.map((e) => e.name),
    };
  }
  const detail = `kube-proxy mode ipvs, strictARP in effect (arp_ignore >= 1 on ${effective.map((e) => e.name).join(", ")})`;
  const announcing = effective.filter((e) => e.arpAnnounce < 2);
  if (announcing.length === 0) return { ok: true, mode, detail };
  const where = announcing.map((e) => `${e.name} (arp_announce=${e.arpAnnounce})`).join(", ");
  const warning =
    `arp_announce < 2 on ${where}: this node may use a LoadBalancer IP as the source of its own ARP requests, ` +
    `which rewrites clients' entries; ${STRICT_ARP_FIX}`;
  return { ok: true, mode, detail, warning };
}

function effectiveMode(input: StrictArpInput): string {
  const fromEndpoint = input.proxyModeEndpoint?.trim();
  if (fromEndpoint) return fromEndpoint;
  if (input.configMap) return input.configMap.mode === "" ? "iptables" : input.configMap.mode;
  return input.kubeIpvs0Present ? "ipvs" : "unknown";
}
