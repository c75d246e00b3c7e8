import { asArray, asObject, asString, asStringMap, dropUndefined, projectMeta, type ObjectMeta } from "./object-meta.ts";

export interface ServicePortFields {
  readonly protocol?: string;
  readonly port?: number;
}

export interface LoadBalancerIngress {
  readonly ip?: string;
  readonly ipMode?: string;
  readonly hostname?: string;
}

/** A Service as the informers cache it: what the controller's request builder, its writer and the speaker read. */
export interface ServiceObject {
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly type?: string;
    readonly loadBalancerClass?: string;
    readonly loadBalancerIP?: string;
    readonly ipFamilies?: readonly string[];
    readonly ipFamilyPolicy?: string;
    readonly ports?: readonly ServicePortFields[];
    readonly externalTrafficPolicy?: string;
    readonly selector?: Readonly<Record<string, string>>;
  };
  readonly status: {
    readonly loadBalancer?: { readonly ingress?: readonly LoadBalancerIngress[] };
  };
}

/**
 * Projects a Service's JSON to {@link ServiceObject}.
 *
 * @example
 * projectService(JSON.parse(body)).status.loadBalancer?.ingress; // [{ ip: "192.168.1.10", ipMode: "VIP" }]
 */
export function projectService(raw: unknown): ServiceObject {
  const o = asObject(raw);
  const spec = asObject(o.spec);
  const lb = asObject(asObject(o.status).loadBalancer);
  const ports = Array.isArray(spec.ports)
    ? spec.ports.map((p) => {
        const q = asObject(p);
        return dropUndefined({ protocol: asString(q.protocol), port: typeof q.port === "number" ? q.port : undefined });
      })
    : undefined;
  const ingress = Array.isArray(lb.ingress)
    ? lb.ingress.map((i) => {
        const e = asObject(i);
        return dropUndefined({ ip: asString(e.ip), ipMode: asString(e.ipMode), hostname: asString(e.hostname) });
      })
    : undefined;
  return {
    metadata: projectMeta(o.metadata),
    spec: dropUndefined({
      type: asString(spec.type),
      loadBalancerClass: asString(spec.loadBalancerClass),
      loadBalancerIP: asString(spec.loadBalancerIP),
      ipFamilies: Array.isArray(spec.ipFamilies) ? asArray(spec.ipFamilies).filter((f): f is string => typeof f === "string") : undefined,
      ipFamilyPolicy: asString(spec.ipFamilyPolicy),
      ports,
      externalTrafficPolicy: asString(spec.externalTrafficPolicy),
      selector: asStringMap(spec.selector),
    }),
    status: ingress ? { loadBalancer: { ingress } } : {},
  };
}
