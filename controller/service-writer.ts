import { PatchStrategy, setHeaderOptions, type CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { statusOf } from "../shared/kube/api-errors.ts";

/** The annotation MetalLB writes to name the pool a Service's IPs came from. */
export const allocatedFromPoolAnnotation = "metallb.universe.tf/ip-allocated-from-pool";

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const maxAttempts = 5;

/** What the controller wants a Service to show. `ips` empty means: no ingress, no pool annotation. */
export interface DesiredServiceState {
  ips: string[];
  pool: string | undefined;
}

/** The ingress a Service should have for `ips`, in MetalLB's form. */
export function desiredIngress(ips: string[]): { ip: string; ipMode: "VIP" }[] {
  return ips.map((ip) => ({ ip, ipMode: "VIP" as const }));
}

function ingressMatches(svc: V1Service, ips: string[]): boolean {
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  return ingress.length === ips.length && ingress.every((e, i) => e.ip === ips[i] && e.ipMode === "VIP" && !e.hostname);
}

function annotationMatches(svc: V1Service, pool: string | undefined): boolean {
  return svc.metadata?.annotations?.[allocatedFromPoolAnnotation] === pool;
}

/** True when the Service already shows `desired`: nothing to write. */
export function serviceShows(svc: V1Service, desired: DesiredServiceState): boolean {
  return ingressMatches(svc, desired.ips) && annotationMatches(svc, desired.ips.length ? desired.pool : undefined);
}

/**
 * Writes a Service's pool annotation (main resource, merge patch with a resourceVersion
 * precondition) and its `status.loadBalancer.ingress` (status subresource, PUT), only where they
 * differ. A 409 Conflict re-reads the Service and tries again on the fresh copy. Returns the number
 * of writes made; throws when the Service keeps conflicting or the API fails otherwise.
 *
 * @example
 * const writes = await writeServiceState(core, cachedService, { ips: ["192.168.1.10"], pool: "default" });
 */
export async function writeServiceState(core: CoreV1Api, svc: V1Service, desired: DesiredServiceState): Promise<number> {
  const name = svc.metadata!.name!;
  const namespace = svc.metadata!.namespace!;
  const pool = desired.ips.length ? desired.pool : undefined;
  let current = svc;
  let writes = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      if (!annotationMatches(current, pool)) {
        current = await core.patchNamespacedService(
          {
            name,
            namespace,
            body: {
              metadata: { resourceVersion: current.metadata?.resourceVersion, annotations: { [allocatedFromPoolAnnotation]: pool ?? null } },
            },
          },
          mergePatch,
        );
        writes++;
      }
      if (!ingressMatches(current, desired.ips)) {
        current = await core.replaceNamespacedServiceStatus({
          name,
          namespace,
          body: {
            ...current,
            status: { ...current.status, loadBalancer: { ...current.status?.loadBalancer, ingress: desiredIngress(desired.ips) } },
          },
        });
        writes++;
      }
      return writes;
    } catch (err) {
      if (statusOf(err) !== 409 || attempt >= maxAttempts) throw err;
      current = await core.readNamespacedService({ name, namespace });
    }
  }
}
