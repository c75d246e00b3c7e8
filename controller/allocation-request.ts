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
 * };
 */
export interface AllocationRequest {
  /** The Service's namespace, checked against a pool's `namespaces`. */
  readonly namespace: string;
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
