import { asArray, asObject, asString, dropUndefined, projectMeta, type ObjectMeta } from "./object-meta.ts";

export interface NodeCondition {
  readonly type: string;
  readonly status: string;
}

/** A Node as cached: its name, labels and conditions (images, addresses and capacity are dropped). */
export interface NodeObject {
  readonly metadata: ObjectMeta;
  readonly status: { readonly conditions: readonly NodeCondition[] };
}

/**
 * Projects a Node's JSON to {@link NodeObject}.
 *
 * @example
 * projectNode(raw).status.conditions; // [{ type: "Ready", status: "True" }]
 */
export function projectNode(raw: unknown): NodeObject {
  const o = asObject(raw);
  const m = projectMeta(o.metadata);
  return {
    metadata: dropUndefined({ name: m.name, uid: m.uid, resourceVersion: m.resourceVersion, labels: m.labels }),
    status: {
      conditions: asArray(asObject(o.status).conditions).map((c) => {
        const r = asObject(c);
        return { type: asString(r.type) ?? "", status: asString(r.status) ?? "" };
      }),
    },
  };
}
