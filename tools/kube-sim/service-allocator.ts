/**
 * ClusterIP and NodePort allocation for Services, like kube-apiserver's allocators: cluster IPs from the service
 * CIDRs 10.96.0.0/12 and fd00:10:96::/108, node ports from 30000-32767, chosen at random among free values.
 * What is in use is derived from the stored Services (the allocator follows store events), so a failed or
 * dry-run create never leaks an allocation.
 *
 * @example
 * const alloc = new ServiceAllocator(store);
 * alloc.allocateClusterIP("IPv4"); // "10.99.12.7"
 * alloc.allocateNodePort();        // 31044
 */
import { isIPv4, isIPv6 } from "node:net";
import { Address6 } from "ip-address";
import { formatIp, parseIp } from "../../shared/ip/address.ts";
import type { KubeObject } from "./resources.ts";
import type { Store } from "./store.ts";

/** An IP family as Services name it. */
export type IPFamily = "IPv4" | "IPv6";

/** The node port range. */
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

interface Cidr {
  family: IPFamily;
  text: string;
  base: bigint;
  bits: number;
  size: bigint;
}

/** Numeric value of an IPv4 or IPv6 address (undefined when not an IP). */
export function ipToBigInt(ip: string): { family: IPFamily; value: bigint } | undefined {
  if (!isIPv4(ip) && !isIPv6(ip)) return undefined;
  const parsed = parseIp(ip);
  // parseIp refuses IPv4-mapped IPv6 text, which the apiserver accepts.
  if (!parsed.ok) return isIPv6(ip) ? { family: "IPv6", value: new Address6(ip).bigInt() } : undefined;
  return { family: parsed.ip.family === 4 ? "IPv4" : "IPv6", value: parsed.ip.value };
}

function cidr(family: IPFamily, text: string): Cidr {
  const [ip, bitsText] = text.split("/");
  const bits = Number(bitsText);
  const total = family === "IPv4" ? 32 : 128;
  const base = ipToBigInt(ip)!.value;
  return { family, text, base, bits, size: 1n << BigInt(total - bits) };
}

/** The simulated cluster's service CIDRs (dual-stack, IPv4 primary). */
export const SERVICE_CIDRS: Readonly<Record<IPFamily, Cidr>> = {
  IPv4: cidr("IPv4", "10.96.0.0/12"),
  IPv6: cidr("IPv6", "fd00:10:96::/108"),
};

/** True when `ip` lies inside the service CIDR of its family. */
export function inServiceRange(ip: string): boolean {
  const parsed = ipToBigInt(ip);
  if (!parsed) return false;
  const c = SERVICE_CIDRS[parsed.family];
  return parsed.value >= c.base && parsed.value < c.base + c.size;
}

function serviceKey(svc: KubeObject): string {
  return `${svc.metadata.namespace ?? ""}/${svc.metadata.name ?? ""}`;
}

interface AllocatedValues {
  ips: string[];
  nodePorts: number[];
}

function allocatedValues(svc: KubeObject): AllocatedValues {
  const spec = (svc.spec ?? {}) as { clusterIPs?: unknown; ports?: { nodePort?: unknown }[]; healthCheckNodePort?: unknown };
  const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs.filter((ip): ip is string => typeof ip === "string" && ip !== "None") : [];
  const nodePorts: number[] = [];
  if (Array.isArray(spec.ports)) for (const p of spec.ports) if (typeof p?.nodePort === "number" && p.nodePort > 0) nodePorts.push(p.nodePort);
  if (typeof spec.healthCheckNodePort === "number" && spec.healthCheckNodePort > 0) nodePorts.push(spec.healthCheckNodePort);
  return { ips: ips.map((ip) => canonicalIP(ip)), nodePorts };
}

/** The canonical text of an IP (IPv6 compressed, lower case). */
export function canonicalIP(ip: string): string {
  const parsed = ipToBigInt(ip);
  if (!parsed) return ip;
  return formatIp({ family: parsed.family === "IPv4" ? 4 : 6, value: parsed.value });
}

/** Tracks which cluster IPs and node ports stored Services hold, and hands out free ones. */
export class ServiceAllocator {
  readonly #ipOwner = new Map<string, string>();
  readonly #portOwner = new Map<number, string>();

  constructor(store: Store) {
    store.subscribe("/services", (e) => {
      if (e.previous) this.#release(e.previous.object);
      if (e.type !== "DELETED") this.#hold(e.current.object);
    });
  }

  #hold(svc: KubeObject): void {
    const key = serviceKey(svc);
    const v = allocatedValues(svc);
    for (const ip of v.ips) this.#ipOwner.set(ip, key);
    for (const p of v.nodePorts) this.#portOwner.set(p, key);
  }

  #release(svc: KubeObject): void {
    const key = serviceKey(svc);
    const v = allocatedValues(svc);
    for (const ip of v.ips) if (this.#ipOwner.get(ip) === key) this.#ipOwner.delete(ip);
    for (const p of v.nodePorts) if (this.#portOwner.get(p) === key) this.#portOwner.delete(p);
  }

  /** The Service ("ns/name") holding `ip`, if any. */
  ipOwner(ip: string): string | undefined {
    return this.#ipOwner.get(canonicalIP(ip));
  }

  /** The Service ("ns/name") holding node port `port`, if any. */
  nodePortOwner(port: number): string | undefined {
    return this.#portOwner.get(port);
  }

  /** A free cluster IP of `family`, or throws when the range is full. */
  allocateClusterIP(family: IPFamily, exclude: ReadonlySet<string> = new Set()): string {
    const c = SERVICE_CIDRS[family];
    const usable = Number(c.size - 2n);
    const start = Math.floor(Math.random() * usable);
    for (let i = 0; i < usable; i++) {
      // Offsets 2.. leave out the network address and .1 (the apiserver's own "kubernetes" Service address).
      const offset = BigInt(((start + i) % (usable - 1)) + 2);
      const value = c.base + offset;
      const ip = formatIp({ family: family === "IPv4" ? 4 : 6, value });
      if (!this.#ipOwner.has(ip) && !exclude.has(ip)) return ip;
    }
    throw new Error(`failed to allocate a serviceIP: range is full (no free ${family} address in ${c.text})`);
  }

  /** A free node port, or throws when the range is full. */
  allocateNodePort(exclude: ReadonlySet<number> = new Set()): number {
    const span = NODE_PORT_MAX - NODE_PORT_MIN + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const port = NODE_PORT_MIN + ((start + i) % span);
      if (!this.#portOwner.has(port) && !exclude.has(port)) return port;
    }
    throw new Error(`failed to allocate a nodePort: range is full (${NODE_PORT_MIN}-${NODE_PORT_MAX}; set allocateLoadBalancerNodePorts: false on LoadBalancer Services that need none)`);
  }
}
