import type { MetallbObject } from "../shared/kube/metallb-resources.ts";
import type { V1ConfigMap, V1EndpointSlice, V1Lease, V1Node, V1Service } from "@kubernetes/client-node";
import { configMapInput, customResourceInput, decideConfig, heldIpsOf, type ConfigInputs, type ConfigState } from "../shared/config/config-source.ts";
import { parseIp } from "../shared/ip/address.ts";
import { rangeContains } from "../shared/ip/range.ts";
import { isOurService } from "../shared/kube/service-class.ts";
import { canonicalIp } from "./address-bytes.ts";
import type { AnnouncedService } from "./announce-plan.ts";
import type { SpeakerSnapshot } from "./desired-announcements.ts";
import type { EndpointInfo, NodeInfo } from "./election.ts";
import { nodeOfLease } from "./own-lease.ts";

const serviceNameLabel = "kubernetes.io/service-name";
/** Annotation on a speaker's Lease: "true" when its node fails the strictARP check under `--strict-arp=refuse`. */
export const strictArpRefusedAnnotation = "baremetal-lb.io/strict-arp-refused";

/** A `metallb.io/v1beta1` custom resource as an informer lists it (IPAddressPool, L2Advertisement). */
/** What the informers hold, as plain lists. */
export interface InformerLists {
  services: readonly V1Service[];
  slices: readonly V1EndpointSlice[];
  nodes: readonly V1Node[];
  leases: readonly V1Lease[];
  /** The pool ConfigMap, or undefined when it does not exist. */
  configMap: V1ConfigMap | undefined;
  /**
   * MetalLB's IPAddressPools and L2Advertisements in our namespace (empty while their CRDs are not
   * installed). Both undefined: the CRs are not watched and only the ConfigMap counts.
   */
  ipAddressPools?: readonly MetallbObject[];
  l2Advertisements?: readonly MetallbObject[];
}

export interface SnapshotOptions {
  namespace: string;
  configMapName: string;
  lbClass: string | undefined;
  /** This node fails the strictARP check and `--strict-arp=refuse` is set. */
  selfRefused: boolean;
  self: string;
}

/**
 * Projects the informers' objects into the immutable snapshot the election reads, after deciding
 * which config is in force (the ConfigMap and, when watched, MetalLB's IPAddressPools and
 * L2Advertisements) with the one module the controller uses too (shared/config/config-source.ts): a
 * missing key, an empty value, an invalid config, a deleted ConfigMap or a config the controller would
 * refuse for holding Services keeps the last good one, so no VIP the controller still assigns is
 * dropped for a config reason. Each Service IP carries its pool and the Service its labels, and the
 * snapshot the pools and advertisements in force, for the advertisement policy.
 *
 * @example
 * const { snapshot, config } = buildSnapshot(lists, previousConfig, { namespace, configMapName: "config", lbClass: undefined, selfRefused: false, self: "node-1" });
 */
export function buildSnapshot(lists: InformerLists, previousConfig: ConfigState, opts: SnapshotOptions): { snapshot: SpeakerSnapshot; config: ConfigState } {
  const ours = lists.services.filter((s) => isOurService(s, opts.lbClass));
  const holders = ours.map(heldIpsOf).filter((h) => h !== undefined);
  const inputs: ConfigInputs = { configMap: configMapInput(lists.configMap, opts.namespace, opts.configMapName) };
  const config = decideConfig(
    previousConfig,
    lists.ipAddressPools && lists.l2Advertisements
      ? { ...inputs, crds: { pools: lists.ipAddressPools.map(customResourceInput), advertisements: lists.l2Advertisements.map(customResourceInput) } }
      : inputs,
    holders,
  );
  const pools = config.inForce?.pools ?? [];
  const poolOfIp = (ip: string): string | undefined => {
    const parsed = parseIp(ip);
    return parsed.ok ? pools.find((p) => p.ranges.some((r) => rangeContains(r, parsed.ip)))?.name : undefined;
  };

  const endpoints = new Map<string, EndpointInfo[]>();
  for (const slice of lists.slices) {
    const svcName = slice.metadata?.labels?.[serviceNameLabel];
    if (!svcName) continue;
    const key = `${slice.metadata?.namespace}/${svcName}`;
    let list = endpoints.get(key);
    if (!list) endpoints.set(key, (list = []));
    for (const e of slice.endpoints ?? []) list.push({ nodeName: e.nodeName, ready: e.conditions?.ready, serving: e.conditions?.serving });
  }
  const services: AnnouncedService[] = [];
  for (const svc of ours) {
    const ips: string[] = [];
    const poolOf: Record<string, string> = {};
    for (const ingress of svc.status?.loadBalancer?.ingress ?? []) {
      const ip = ingress.ip ? canonicalIp(ingress.ip) : undefined;
      const pool = ip === undefined ? undefined : poolOfIp(ip);
      if (ip === undefined || pool === undefined) continue;
      ips.push(ip);
      poolOf[ip] = pool;
    }
    if (ips.length === 0) continue;
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    services.push({
      key,
      externalTrafficPolicy: svc.spec?.externalTrafficPolicy,
      ips,
      endpoints: endpoints.get(key) ?? [],
      labels: svc.metadata?.labels,
      poolOf,
    });
  }
  const nodes: NodeInfo[] = lists.nodes.map((n) => ({
    name: n.metadata?.name ?? "",
    labels: n.metadata?.labels,
    conditions: (n.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status })),
  }));
  const strictArpRefused = new Set<string>();
  for (const lease of lists.leases) {
    const node = nodeOfLease(lease);
    if (node && node !== opts.self && lease.metadata?.annotations?.[strictArpRefusedAnnotation] === "true") strictArpRefused.add(node);
  }
  if (opts.selfRefused) strictArpRefused.add(opts.self);
  const advertising = config.inForce ? { pools, advertisements: config.inForce.advertisements } : undefined;
  return { snapshot: { services, nodes, strictArpRefused, advertising }, config };
}

