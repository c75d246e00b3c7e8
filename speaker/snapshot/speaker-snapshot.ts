import { serviceKey } from "../../shared/service/service-key.ts";
import { configMapInput, customResourceInput, decideConfig, heldIpsOf, type ConfigInputs, type ConfigState } from "../../shared/config/config-source.ts";
import { formatIp, parseIp, type IpAddress } from "../../shared/ip/address.ts";
import { rangeContains } from "../../shared/ip/range.ts";
import type { ConfigMapObject } from "../../shared/kube/objects/config-map.ts";
import type { LeaseObject } from "../../shared/kube/objects/lease.ts";
import type { NodeObject } from "../../shared/kube/objects/node.ts";
import type { ServiceObject } from "../../shared/kube/objects/service.ts";
import { isOurService } from "../../shared/kube/service-class.ts";
import type { AnnouncedService } from "../election/announce-plan.ts";
import type { SpeakerSnapshot } from "../election/desired-announcements.ts";
import type { EndpointInfo, NodeInfo } from "../election/election.ts";
import { nodeOfLease } from "../cluster/speaker-lease-names.ts";
import type { SliceObject } from "./slice-projection.ts";

/** Annotation on a speaker's Lease: "true" when its node fails the strictARP check under `--strict-arp=refuse`. */
export const strictArpRefusedAnnotation = "baremetal-lb.io/strict-arp-refused";

/** A `metallb.io/v1beta1` custom resource as an informer lists it (IPAddressPool, L2Advertisement). */
export type CustomResourceObject = Parameters<typeof customResourceInput>[0];

/**
 * What the informers hold, as plain lists: their projections (shared/kube/objects/; Services and
 * EndpointSlices in the speaker's own, ./service-projection.ts and ./slice-projection.ts).
 */
export interface InformerLists {
  services: readonly ServiceObject[];
  slices: readonly SliceObject[];
  nodes: readonly NodeObject[];
  leases: readonly LeaseObject[];
  /** The pool ConfigMap, or undefined when it does not exist. */
  configMap: ConfigMapObject | undefined;
  /**
   * MetalLB's IPAddressPools and L2Advertisements in our namespace (empty while their CRDs are not
   * installed). Both undefined: the CRs are not watched and only the ConfigMap counts.
   */
  ipAddressPools?: readonly CustomResourceObject[];
  l2Advertisements?: readonly CustomResourceObject[];
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
  const poolOfIp = (ip: IpAddress): string | undefined => pools.find((p) => p.ranges.some((r) => rangeContains(r, ip)))?.name;

  // A Service has one EndpointSlice up to 100 endpoints: its endpoints are used as they are, more are joined.
  const endpoints = new Map<string, readonly EndpointInfo[]>();
  for (const slice of lists.slices) {
    if (!slice.service) continue;
    const key = `${slice.metadata.namespace}/${slice.service}`;
    const joined = endpoints.get(key);
    endpoints.set(key, joined ? joined.concat(slice.endpoints) : slice.endpoints);
  }
  const services: AnnouncedService[] = [];
  for (const svc of ours) {
    const ips: string[] = [];
    const pools: string[] = [];
    for (const ingress of svc.status.loadBalancer?.ingress ?? []) {
      // VIPs are keyed by Go's net.IP.String() text, as the election hashes them: "::ffff:a.b.c.d" is a.b.c.d.
      const parsed = ingress.ip ? parseIp(ingress.ip, { ipv4Mapped: "unmap" }) : undefined;
      if (!parsed?.ok) continue;
      const pool = poolOfIp(parsed.ip);
      if (pool === undefined) continue;
      ips.push(formatIp(parsed.ip));
      pools.push(pool);
    }
    if (ips.length === 0) continue;
    const key = serviceKey(svc);
    services.push({
      key,
      externalTrafficPolicy: svc.spec.externalTrafficPolicy,
      // Copies of exactly their length: an array grown by push keeps room for 16 more (10,000 Services, 1.5 MB each).
      ips: ips.slice(),
      endpoints: endpoints.get(key) ?? noEndpoints,
      labels: svc.metadata.labels,
      pools: pools.slice(),
    });
  }
  const nodes: NodeInfo[] = lists.nodes.map((n) => ({ name: n.metadata.name ?? "", labels: n.metadata.labels, conditions: n.status.conditions }));
  const strictArpRefused = new Set<string>();
  for (const lease of lists.leases) {
    const node = nodeOfLease(lease);
    if (node && node !== opts.self && lease.metadata.annotations?.[strictArpRefusedAnnotation] === "true") strictArpRefused.add(node);
  }
  if (opts.selfRefused) strictArpRefused.add(opts.self);
  const advertising = config.inForce ? { pools, advertisements: config.inForce.advertisements } : undefined;
  return { snapshot: { services, nodes, strictArpRefused, advertising }, config };
}

const noEndpoints: readonly EndpointInfo[] = [];
