import { asArray, asObject, asString, dropUndefined, projectMeta, type ObjectMeta } from "./object-meta.ts";

export interface NodeCondition {
  readonly type: string;
  readonly status: string;
}

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

/**
 * A Node as cached: its name, labels, conditions and its InternalIP and ExternalIP addresses (the
 * speakers' heartbeat targets); images, other addresses and capacity are dropped.
 */
export interface NodeObject {
  readonly metadata: ObjectMeta;
  readonly status: { readonly conditions: readonly NodeCondition[]; readonly addresses?: readonly NodeAddress[] };
}

/** The address types kept: where a peer speaker's heartbeats go. */
const keptAddressTypes = new Set(["InternalIP", "ExternalIP"]);

/**
 * Projects a Node's JSON to {@link NodeObject}.
 *
 * @example
 * projectNode(raw).status.conditions; // [{ type: "Ready", status: "True" }]
 * projectNode(raw).status.addresses;  // [{ type: "InternalIP", address: "192.168.126.11" }]
 */
export function projectNode(raw: unknown): NodeObject {
  const o = asObject(raw);
  const m = projectMeta(o.metadata);
  const status = asObject(o.status);
  const addresses: NodeAddress[] = [];
  for (const a of asArray(status.addresses)) {
    const r = asObject(a);
    const type = asString(r.type);
    const address = asString(r.address);
    if (type !== undefined && address && keptAddressTypes.has(type)) addresses.push({ type, address });
  }
  return {
    metadata: dropUndefined({ name: m.name, uid: m.uid, resourceVersion: m.resourceVersion, labels: m.labels }),
    status: dropUndefined({
      conditions: asArray(status.conditions).map((c) => {
        const r = asObject(c);
        return { type: asString(r.type) ?? "", status: asString(r.status) ?? "" };
      }),
      addresses: addresses.length > 0 ? addresses : undefined,
    }),
  };
}
