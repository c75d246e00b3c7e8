/**
 * MetalLB's custom resources (`metallb.io/v1beta1`) as both binaries read them: the group, version
 * and plurals in one place, and informers that tolerate a cluster without the CRDs (or with RBAC
 * from before them): the lists are then empty and synced, and looked for again every 30 s, so the
 * legacy ConfigMap alone counts until the CRs appear.
 */
import type { CustomObjectsApi, KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "../log.ts";
import { startInformer, type ResilientInformer } from "./informer.ts";

export const METALLB_GROUP = "metallb.io";
export const METALLB_VERSION = "v1beta1";

/** The plurals of the kinds baremetal-lb reads or writes. */
export type MetallbPlural = "ipaddresspools" | "l2advertisements" | "servicel2statuses";

/** A MetalLB custom resource as listed: metadata, spec and status as plain JSON. */
export interface MetallbObject extends KubernetesObject {
  spec?: unknown;
  status?: Record<string, unknown>;
}

const missingCrdRetryMs = 30_000;

/**
 * Starts an informer on one kind in `namespace`.
 *
 * @example
 * const pools = startMetallbInformer({ kc, custom, namespace: "metallb-system", plural: "ipaddresspools", log, onChange: () => queue.add(configKey) });
 */
export function startMetallbInformer(opts: {
  kc: KubeConfig;
  custom: CustomObjectsApi;
  namespace: string;
  plural: MetallbPlural;
  log: Logger;
  onChange: (obj: MetallbObject, kind: "add" | "update" | "delete") => void;
}): ResilientInformer<MetallbObject> {
  const { kc, custom, namespace, plural, log, onChange } = opts;
  return startInformer<MetallbObject>({
    kc,
    path: `/apis/${METALLB_GROUP}/${METALLB_VERSION}/namespaces/${namespace}/${plural}`,
    list: () => custom.listNamespacedCustomObject({ group: METALLB_GROUP, version: METALLB_VERSION, namespace, plural }),
    log,
    onChange,
    missingIsEmpty: true,
    missingRetryMs: missingCrdRetryMs,
  });
}
