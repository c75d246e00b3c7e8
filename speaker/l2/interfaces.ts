/**
 * Which network interfaces the speaker answers and announces on, as pure functions of a scan
 * (interface-scan.ts reads one from the machine).
 *
 * An interface is eligible when its name matches no exclude pattern, it is up (IFF_UP), not loopback,
 * broadcast-capable (IFF_BROADCAST), not NOARP, and not a lower device of another one: a bond slave (IFF_SLAVE,
 * or master of kind "bond"), or a port of a bridge, team or Open vSwitch. Such ports share the L2 segment of
 * their master, which is the interface that carries the addresses; answering on both would send two replies,
 * possibly with two MACs. A VRF member stays eligible (a VRF is a routing table, not an L2 device); a port of a
 * master of unknown kind is excluded, as older MetalLB excluded every interface with a master.
 *
 * Default exclude patterns: container, CNI and overlay devices, which have IFF_BROADCAST but lead into a node's
 * pods or tunnels, not onto the LAN: loopback, Docker (docker0 and its user bridges br-<12 hex>), veth pairs,
 * Calico, generic CNI bridges, Flannel, kube-proxy's IPVS dummy, Cilium, Antrea, OVN-Kubernetes, Weave,
 * kube-router, node-local-dns, VXLAN/Geneve/IPIP tunnels, LXC and libvirt NAT bridges. Named LAN bridges such as
 * br0, br-ex or br-lan are not excluded.
 */
import { addressBits, parseIp, type IpAddress, type IpFamily } from "../../shared/ip/address.ts";
import { cidrRange, rangeContains } from "../../shared/ip/range.ts";

/** One address on an interface, with its prefix length. */
export interface InterfaceAddress {
  /** 4 or 6 (os.networkInterfaces() says "IPv4" or "IPv6"; interface-scan.ts converts). */
  family: IpFamily;
  address: string;
  prefixLength: number;
}

/** Interface flags from /sys/class/net/<if>/flags. */
export interface InterfaceFlags {
  up: boolean;
  broadcast: boolean;
  loopback: boolean;
  noarp: boolean;
  /** IFF_SLAVE: set on bond slaves. */
  slave: boolean;
}

/** One network interface as scanned. */
export interface InterfaceInfo {
  name: string;
  index: number;
  /** MAC as lowercase colon-separated hex. */
  mac: string;
  flags: InterfaceFlags;
  /**
   * The device this one is enslaved to (/sys/class/net/<if>/master) and its kind, the master's uevent DEVTYPE:
   * "bond", "bridge", "team", "openvswitch", "vrf", or "" when it has none.
   */
  master?: { name: string; kind: string };
  /** /sys/class/net/<if>/operstate ("up", "down", "unknown", ...), for logs; eligibility does not use it. */
  operState?: string;
  /** Its addresses; empty while the link has no carrier (see interface-scan.ts). */
  addresses: InterfaceAddress[];
}

/** An interface that is not eligible, and why. */
export interface ExcludedInterface {
  name: string;
  reason: string;
}

/** Default exclude patterns (see the module comment); `--exclude-interfaces` replaces them. */
export const DEFAULT_EXCLUDE_PATTERNS: readonly RegExp[] = [
  /^lo$/,
  /^docker.*/,
  /^br-[0-9a-f]{12}$/,
  /^veth.*/,
  /^cali.*/,
  /^cni.*/,
  /^flannel.*/,
  /^kube-ipvs.*/,
  /^kube-bridge$/,
  /^kube-dummy-if$/,
  /^nodelocaldns$/,
  /^cilium.*/,
  /^lxc.*/,
  /^antrea-.*/,
  /^ovn-k8s-.*/,
  /^genev_sys.*/,
  /^vxlan.*/,
  /^tunl.*/,
  /^weave.*/,
  /^datapath$/,
  /^virbr.*/,
];

/** Kinds of master whose ports are not eligible. */
const LOWER_DEVICE_KINDS: Readonly<Record<string, string>> = {
  bond: "bond slave of",
  bridge: "port of bridge",
  team: "port of team",
  openvswitch: "port of Open vSwitch",
};

/**
 * Compiles exclude patterns given as text (one regular expression each), or says which one is invalid.
 *
 * @example parseExcludePatterns(["^lo$", "^eth9$"]) // { ok: true, patterns: [/^lo$/, /^eth9$/] }
 */
export function parseExcludePatterns(texts: readonly string[]): { ok: true; patterns: RegExp[] } | { ok: false; error: string } {
  const patterns: RegExp[] = [];
  for (const [i, text] of texts.entries()) {
    try {
      patterns.push(new RegExp(text));
    } catch (e) {
      const why = (e as Error).message;
      return { ok: false, error: `exclude pattern ${i + 1} ${JSON.stringify(text)} is not a valid regular expression: ${why}` };
    }
  }
  return { ok: true, patterns };
}

/**
 * Splits interfaces into the eligible ones (in input order) and the rest with their reason.
 *
 * @example
 * selectInterfaces(scanned).excluded // [{ name: "lo", reason: 'name matches exclude pattern /^lo$/' }, ...]
 */
export function selectInterfaces(
  interfaces: readonly InterfaceInfo[],
  excludePatterns: readonly RegExp[] = DEFAULT_EXCLUDE_PATTERNS,
): { eligible: InterfaceInfo[]; excluded: ExcludedInterface[] } {
  const eligible: InterfaceInfo[] = [];
  const excluded: ExcludedInterface[] = [];
  for (const iface of interfaces) {
    const reason = exclusionReason(iface, excludePatterns);
    if (reason === undefined) eligible.push(iface);
    else excluded.push({ name: iface.name, reason });
  }
  return { eligible, excluded };
}

/**
 * The eligible interfaces to announce `ip` on: those with an address of the same family whose subnet contains
 * it (`bySubnet: true`), or, when none has, all eligible interfaces (`bySubnet: false`). Throws a RangeError if
 * `ip` is not an IP literal.
 *
 * @example interfacesForVip(eligible, "192.0.2.10") // { names: ["eth0"], bySubnet: true }
 */
export function interfacesForVip(eligible: readonly InterfaceInfo[], ip: string): { names: string[]; bySubnet: boolean } {
  const vip = parseIp(ip, { ipv4Mapped: "keep" });
  if (!vip.ok) throw new RangeError(`interfacesForVip: ${JSON.stringify(ip)} is not an IP address`);
  const names = eligible.filter((iface) => iface.addresses.some((a) => subnetContains(a, vip.ip))).map((i) => i.name);
  if (names.length > 0) return { names, bySubnet: true };
  return { names: eligible.map((i) => i.name), bySubnet: false };
}

function exclusionReason(iface: InterfaceInfo, patterns: readonly RegExp[]): string | undefined {
  const pattern = patterns.find((p) => p.test(iface.name));
  if (pattern) return `name matches exclude pattern ${String(pattern)}`;
  if (iface.flags.loopback) return "loopback";
  if (!iface.flags.up) return "down (IFF_UP not set)";
  if (iface.flags.noarp) return "NOARP";
  if (!iface.flags.broadcast) return "not broadcast-capable (IFF_BROADCAST not set)";
  if (iface.master) {
    const label = LOWER_DEVICE_KINDS[iface.master.kind];
    if (label) return `${label} ${iface.master.name}`;
  }
  if (iface.flags.slave) return `bond slave${iface.master ? ` of ${iface.master.name}` : ""} (IFF_SLAVE)`;
  if (iface.master && iface.master.kind !== "vrf") {
    return `enslaved to ${iface.master.name}${iface.master.kind ? ` (kind ${iface.master.kind})` : " (unknown kind)"}`;
  }
  return undefined;
}

function subnetContains(address: InterfaceAddress, vip: IpAddress): boolean {
  const net = parseIp(address.address, { ipv4Mapped: "keep" });
  if (!net.ok) return false;
  const length = Math.min(Math.max(0, Math.trunc(address.prefixLength) || 0), addressBits(net.ip.family));
  return rangeContains(cidrRange(net.ip, length), vip);
}
