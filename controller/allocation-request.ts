/**
 * What a Service asks of the allocator, reduced to plain data (built from a Service object by
 * `buildAllocationRequest` in service-request.ts).
 */
import type { IpAddress, IpFamily } from "../shared/ip/address.ts";

/** Port protocols of a Service. */
export type PortProtocol = "TCP" | "UDP" | "SCTP";

/** One `spec.ports[]` entry as far as sharing cares. @example { protocol: "UDP", port: 53 } */
export interface ServicePort {
  readonly protocol: PortProtocol;
  readonly port: number;
}

/** `spec.ipFamilyPolicy`. */
export type IpFamilyPolicy = "SingleStack" | "PreferDualStack" | "RequireDualStack";

/** `spec.externalTrafficPolicy`. */
export type TrafficPolicy = "Cluster" | "Local";

/**
 * @example
 * const request: AllocationRequest = {
 *   namespace: "default", ipFamilies: [4], ipFamilyPolicy: "SingleStack", requestedIps: [],
 *   ports: [{ protocol: "TCP", port: 80 }], externalTrafficPolicy: "Cluster", selector: { app: "web" },
 *   serviceLabels: { app: "web" }, namespaceLabels: { "kubernetes.io/metadata.name": "default" },
 * };
 */
export interface AllocationRequest {
  /** The Service's namespace, checked against a pool's `namespaces`. */
  readonly namespace: string;
  /**
   * The labels of the Service's Namespace, matched by a pool's `serviceAllocation.namespaceSelectors`.
   * Undefined when they are not known (the Namespace is not in the cache): such a pool then admits
   * the Service only through its `namespaces` list.
   */
  readonly namespaceLabels: Readonly<Record<string, string>> | undefined;
  /** The Service's own `metadata.labels`, matched by a pool's `serviceAllocation.serviceSelectors`. */
  readonly serviceLabels: Readonly<Record<string, string>>;
  /** `spec.ipFamilies`, primary family first; one or two distinct families. */
  readonly ipFamilies: readonly IpFamily[];
  readonly ipFamilyPolicy: IpFamilyPolicy;
  /** From `loadBalancerIPs` or `spec.loadBalancerIP`; at most one per family. Empty: any address. */
  readonly requestedIps: readonly IpAddress[];
  /** From the `address-pool` annotation. Undefined or empty: any auto-assign pool. */
  readonly pool?: string;
  /** From `allow-shared-ip`. Undefined or empty: this Service never shares an IP. */
  readonly sharingKey?: string;
  readonly ports: readonly ServicePort[];
  readonly externalTrafficPolicy: TrafficPolicy;
  /** `spec.selector`; with `Local` traffic policy, sharing needs identical selectors. */
  readonly selector: Readonly<Record<string, string>>;
}
