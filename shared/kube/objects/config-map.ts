import { asObject, asStringMap, dropUndefined, projectMeta, type ObjectMeta } from "./object-meta.ts";

/** A ConfigMap: metadata and its string data (binaryData is dropped). */
export interface ConfigMapObject {
  readonly metadata: ObjectMeta;
  readonly data?: Readonly<Record<string, string>>;
}

/**
 * Projects a ConfigMap's JSON to {@link ConfigMapObject}.
 *
 * @example
 * projectConfigMap(raw).data?.config; // "address-pools: …"
 */
export function projectConfigMap(raw: unknown): ConfigMapObject {
  const o = asObject(raw);
  return dropUndefined({ metadata: projectMeta(o.metadata), data: asStringMap(o.data) });
}
