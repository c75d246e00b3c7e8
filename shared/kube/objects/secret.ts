import { asObject, asStringMap, dropUndefined, projectMeta, type ObjectMeta } from "./object-meta.ts";

/** A Secret: metadata and its data (base64 strings, as the API sends them). */
export interface SecretObject {
  readonly metadata: ObjectMeta;
  readonly data?: Readonly<Record<string, string>>;
}

/**
 * Projects a Secret's JSON to {@link SecretObject}.
 *
 * @example
 * Buffer.from(projectSecret(raw).data?.secretkey ?? "", "base64");
 */
export function projectSecret(raw: unknown): SecretObject {
  const o = asObject(raw);
  return dropUndefined({ metadata: projectMeta(o.metadata), data: asStringMap(o.data) });
}
