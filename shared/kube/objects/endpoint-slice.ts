import { asArray, asObject, asString, dropUndefined, projectMeta, type ObjectMeta } from "./object-meta.ts";

export interface EndpointFields {
  readonly nodeName?: string;
  readonly conditions: { readonly ready?: boolean; readonly serving?: boolean };
}

/** An EndpointSlice as the speaker caches it: its Service label and, per endpoint, the node and the readiness. */
export interface EndpointSliceObject {
  readonly metadata: ObjectMeta;
  readonly endpoints: readonly EndpointFields[];
}

const bool = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : undefined);

/**
 * Projects an EndpointSlice's JSON to {@link EndpointSliceObject} (addresses, ports and hints are dropped).
 *
 * @example
 * projectEndpointSlice(raw).endpoints; // [{ nodeName: "node-1", conditions: { ready: true, serving: true } }]
 */
export function projectEndpointSlice(raw: unknown): EndpointSliceObject {
  const o = asObject(raw);
  const m = projectMeta(o.metadata);
  return {
    metadata: dropUndefined({ name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion, labels: m.labels }),
    endpoints: asArray(o.endpoints).map((e) => {
      const ep = asObject(e);
      const c = asObject(ep.conditions);
      return dropUndefined({ nodeName: asString(ep.nodeName), conditions: dropUndefined({ ready: bool(c.ready), serving: bool(c.serving) }) });
    }),
  };
}
