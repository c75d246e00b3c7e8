/** The parts of a Service the class filter reads; `V1Service` fits. */
export interface ServiceClassFields {
  readonly metadata?: unknown;
  readonly spec?: { readonly type?: string | null; readonly loadBalancerClass?: string | null } | null;
}

/**
 * Whether baremetal-lb (controller and speaker alike) handles this Service: type LoadBalancer and, without `lbClass`, no
 * `spec.loadBalancerClass`; with `lbClass`, exactly that class.
 *
 * @example
 * isOurService({ spec: { type: "LoadBalancer" } });                                   // true
 * isOurService({ spec: { type: "LoadBalancer", loadBalancerClass: "other" } });       // false
 * isOurService({ spec: { type: "LoadBalancer", loadBalancerClass: "x" } }, "x");      // true
 */
export function isOurService(service: ServiceClassFields, lbClass?: string): boolean {
  if (service.spec?.type !== "LoadBalancer") return false;
  const own = service.spec.loadBalancerClass || undefined;
  return lbClass ? own === lbClass : own === undefined;
}
