/**
 * The Service fields the speaker reads, as its informer caches them. The shared projection
 * (shared/kube/objects/service.ts) also carries what the controller reads (ports, selector, IP
 * families, timestamps): about 940 bytes a Service, where this one keeps about 400; at 10,000
 * Services on every node that is 5 MB per speaker. The result is a {@link ServiceObject}, so every
 * reader of the shared type reads it unchanged.
 *
 * Kept: name, namespace, uid (Events), resourceVersion (the cache), labels (L2Advertisement
 * serviceSelectors), the two pool annotations (the config decision), type and loadBalancerClass (is
 * it ours), externalTrafficPolicy and the ingress IPs (the election). A Service that is not of type
 * LoadBalancer, most of them in a cluster, keeps only its name, namespace, resourceVersion and type.
 */
import { POOL_ANNOTATIONS } from "../../shared/config/ips-taken-away.ts";
import { asObject, asString, asStringMap, dropUndefined } from "../../shared/kube/objects/object-meta.ts";
import type { ServiceObject } from "../../shared/kube/objects/service.ts";

/** Values thousands of Services share: one string each instead of one per Service. */
const common = new Map(["LoadBalancer", "ClusterIP", "NodePort", "ExternalName", "Cluster", "Local"].map((v) => [v, v]));

function shared(value: string | undefined): string | undefined {
  return value === undefined ? undefined : (common.get(value) ?? value);
}

const noStatus: ServiceObject["status"] = {};

/**
 * @example
 * projectSpeakerService(raw).status.loadBalancer?.ingress; // [{ ip: "192.168.1.10" }]
 */
export function projectSpeakerService(raw: unknown): ServiceObject {
  const o = asObject(raw);
  const m = asObject(o.metadata);
  const spec = asObject(o.spec);
  const type = shared(asString(spec.type));
  if (type !== "LoadBalancer") {
    return {
      metadata: dropUndefined({ name: asString(m.name), namespace: asString(m.namespace), resourceVersion: asString(m.resourceVersion) }),
      spec: dropUndefined({ type }),
      status: noStatus,
    };
  }
  const ingress = asObject(asObject(o.status).loadBalancer).ingress;
  return {
    metadata: dropUndefined({
      name: asString(m.name),
      namespace: asString(m.namespace),
      uid: asString(m.uid),
      resourceVersion: asString(m.resourceVersion),
      labels: asStringMap(m.labels),
      annotations: asStringMap(m.annotations, (key) => POOL_ANNOTATIONS.includes(key)),
    }),
    spec: dropUndefined({
      type,
      loadBalancerClass: asString(spec.loadBalancerClass),
      externalTrafficPolicy: shared(asString(spec.externalTrafficPolicy)),
    }),
    status: Array.isArray(ingress) ? { loadBalancer: { ingress: ingress.map((i) => dropUndefined({ ip: asString(asObject(i).ip) })) } } : noStatus,
  };
}
