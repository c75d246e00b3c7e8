/**
 * The EndpointSlice fields the speaker reads, as its informer caches them: the Service a slice belongs
 * to and, per endpoint, the node and the readiness, already in the shape the election reads
 * ({@link EndpointInfo}), so a snapshot rebuild uses them as they are. The shared projection
 * (shared/kube/objects/endpoint-slice.ts) keeps every label and nests the conditions; at 10,000
 * Services, one slice each, this one is about 2 MB smaller on every node.
 */
import { asArray, asObject, asString } from "../../shared/kube/objects/object-meta.ts";
import type { EndpointInfo } from "../election/election.ts";

/** The label that names a slice's Service. */
export const serviceNameLabel = "kubernetes.io/service-name";

/** An EndpointSlice as the speaker caches it. */
export interface SliceObject {
  readonly metadata: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string };
  /** The Service's name (its namespace is the slice's), from the label; undefined when the slice has none. */
  readonly service: string | undefined;
  readonly endpoints: readonly EndpointInfo[];
}

const bool = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : undefined);

/**
 * @example
 * projectSlice(raw); // { metadata: { name: "web-x7k2p", namespace: "shop", resourceVersion: "9" }, service: "web", endpoints: [{ nodeName: "node-1", ready: true, serving: true }] }
 */
export function projectSlice(raw: unknown): SliceObject {
  const o = asObject(raw);
  const m = asObject(o.metadata);
  return {
    metadata: { name: asString(m.name), namespace: asString(m.namespace), resourceVersion: asString(m.resourceVersion) },
    service: asString(asObject(m.labels)[serviceNameLabel]),
    endpoints: asArray(o.endpoints).map((e) => {
      const ep = asObject(e);
      const c = asObject(ep.conditions);
      return { nodeName: asString(ep.nodeName), ready: bool(c.ready), serving: bool(c.serving) };
    }),
  };
}
