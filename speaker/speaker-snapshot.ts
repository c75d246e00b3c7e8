import type { V1ConfigMap, V1EndpointSlice, V1Lease, V1Node, V1Service } from "@kubernetes/client-node";
import { configMapInput, decideConfig, heldIpsOf, type ConfigState } from "../shared/config/config-source.ts";
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

/** What the informers hold, as plain lists. */
export interface InformerLists {
  services: readonly V1Service[];
  slices: readonly V1EndpointSlice[];
  nodes: readonly V1Node[];
  leases: readonly V1Lease[];
  /** The pool ConfigMap, or undefined when it does not exist. */
  configMap: V1ConfigMap | undefined;
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
 * which config is in force with the one module the controller uses too
 * (shared/config/config-source.ts): a missing key, an empty value, an invalid config, a deleted
 * ConfigMap or a config the controller would refuse for holding Services keeps the last good one,
 * so no VIP the controller still assigns is dropped for a config reason.
 *
 * @example
 * const { snapshot, config } = buildSnapshot(lists, previousConfig, { namespace, configMapName: "config", lbClass: undefined, selfRefused: false, self: "node-1" });
 */
export function buildSnapshot(lists: InformerLists, previousConfig: ConfigState, opts: SnapshotOptions): { snapshot: SpeakerSnapshot; config: ConfigState } {
  const ours = lists.services.filter((s) => isOurService(s, opts.lbClass));
  const holders = ours.map(heldIpsOf).filter((h) => h !== undefined);
  const config = decideConfig(previousConfig, { configMap: configMapInput(lists.configMap, opts.namespace, opts.configMapName) }, holders);
  const pools = config.inForce?.pools ?? [];
  const inPools = (ip: string) => {
    const parsed = parseIp(ip);
    return parsed.ok && pools.some((p) => p.ranges.some((r) => rangeContains(r, parsed.ip)));
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
    const ips = (svc.status?.loadBalancer?.ingress ?? [])
      .map((i) => (i.ip ? canonicalIp(i.ip) : undefined))
      .filter((ip): ip is string => ip !== undefined && inPools(ip));
    if (ips.length === 0) continue;
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    services.push({ key, externalTrafficPolicy: svc.spec?.externalTrafficPolicy, ips, endpoints: endpoints.get(key) ?? [] });
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
  return { snapshot: { services, nodes, strictArpRefused }, config };
}
