import { asObject, dropUndefined, projectMeta, type ObjectMeta } from "./object-meta.ts";

/** A Namespace as cached: its name and labels (for IPAddressPool namespaceSelectors). */
export interface NamespaceObject {
  readonly metadata: ObjectMeta;
}

/**
 * Projects a Namespace's JSON to {@link NamespaceObject}.
 *
 * @example
 * projectNamespace(raw).metadata.labels; // { "kubernetes.io/metadata.name": "shop", team: "a" }
 */
export function projectNamespace(raw: unknown): NamespaceObject {
  const m = projectMeta(asObject(raw).metadata);
  return { metadata: dropUndefined({ name: m.name, uid: m.uid, resourceVersion: m.resourceVersion, labels: m.labels }) };
}
