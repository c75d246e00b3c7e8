/**
 * MetalLB's custom resources (`metallb.io/v1beta1`) as both binaries read them: their projection,
 * and informers that tolerate a cluster without the CRDs (or with RBAC from before them): the
 * lists are then empty and synced, and looked for again every 30 s, so the legacy ConfigMap alone
 * counts until the CRs appear. The group, version and resource types are spelled once, in
 * ./client/resource-types.ts.
 */
import type { Logger } from "../log.ts";
import type { KubeApi } from "./client/kube-api.ts";
import { ipAddressPools, l2Advertisements, serviceL2Statuses, type ResourceType } from "./client/resource-types.ts";
import { startInformer, type ResilientInformer } from "./informer.ts";
import { asObject, projectMeta, type ObjectMeta } from "./objects/object-meta.ts";

export { METALLB_GROUP, METALLB_VERSION } from "./client/resource-types.ts";

/** The plurals of the kinds baremetal-lb reads or writes. */
export type MetallbPlural = "ipaddresspools" | "l2advertisements" | "servicel2statuses";

const types: Record<MetallbPlural, ResourceType> = {
  ipaddresspools: ipAddressPools,
  l2advertisements: l2Advertisements,
  servicel2statuses: serviceL2Statuses,
};

/**
 * A MetalLB custom resource as cached: its metadata (name, uid, resourceVersion, generation,
 * labels, ownerReferences, deletionTimestamp; annotations only MetalLB's and ours), and its spec and
 * status as plain JSON, which the config parser and the status writers read.
 */
export interface MetallbObject {
  readonly metadata: ObjectMeta;
  readonly spec?: unknown;
  readonly status?: Readonly<Record<string, unknown>>;
}

/**
 * Projects a MetalLB custom resource's JSON to {@link MetallbObject}.
 *
 * @example
 * projectMetallbObject(raw).spec; // { addresses: ["192.168.10.0/24"] }
 */
export function projectMetallbObject(raw: unknown): MetallbObject {
  const o = asObject(raw);
  const object: { metadata: ObjectMeta; spec?: unknown; status?: Record<string, unknown> } = { metadata: projectMeta(o.metadata) };
  if (o.spec !== undefined) object.spec = o.spec;
  if (o.status !== null && typeof o.status === "object" && !Array.isArray(o.status)) object.status = o.status as Record<string, unknown>;
  return object;
}

const missingCrdRetryMs = 30_000;

/**
 * Starts an informer on one kind in `namespace`.
 *
 * @example
 * const pools = startMetallbInformer({ api, namespace: "metallb-system", plural: "ipaddresspools", log, onChange: () => queue.add(configKey) });
 */
export function startMetallbInformer(opts: {
  api: KubeApi;
  namespace: string;
  plural: MetallbPlural;
  log: Logger;
  onChange: (obj: MetallbObject, kind: "add" | "update" | "delete") => void;
}): ResilientInformer<MetallbObject> {
  const { api, namespace, plural, log, onChange } = opts;
  return startInformer<MetallbObject>({
    api,
    type: types[plural],
    namespace,
    project: projectMetallbObject,
    log,
    onChange,
    missingIsEmpty: true,
    missingRetryMs: missingCrdRetryMs,
  });
}
