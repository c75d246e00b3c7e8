/**
 * MetalLB's Service annotations, named once for both binaries. MetalLB reads each under two prefixes:
 * `metallb.universe.tf/` (MetalLB ≤ 0.13, what most manifests still carry) and `metallb.io/`. Messages name the
 * legacy spelling, which is what users have written.
 *
 * @example
 * annotationNames("address-pool"); // ["metallb.universe.tf/address-pool", "metallb.io/address-pool"]
 * isMetallbAnnotation("metallb.io/loadBalancerIPs"); // true
 */

/** The two prefixes, legacy first. */
export const metallbAnnotationPrefixes = ["metallb.universe.tf/", "metallb.io/"] as const;

/** The pool a Service asks for. */
export const addressPoolAnnotation = "metallb.universe.tf/address-pool";
/** The key that lets Services share an IP. */
export const allowSharedIpAnnotation = "metallb.universe.tf/allow-shared-ip";
/** The pool the controller allocated a Service's IPs from (written by the controller). */
export const ipAllocatedFromPoolAnnotation = "metallb.universe.tf/ip-allocated-from-pool";

/** An annotation's two spellings, legacy first: `name` is what follows the prefix, e.g. "address-pool". */
export function annotationNames(name: string): readonly [legacy: string, current: string] {
  return [metallbAnnotationPrefixes[0] + name, metallbAnnotationPrefixes[1] + name];
}

/** Whether `key` is a MetalLB annotation, under either prefix. */
export function isMetallbAnnotation(key: string): boolean {
  return metallbAnnotationPrefixes.some((prefix) => key.startsWith(prefix));
}
