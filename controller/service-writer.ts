import { ipAllocatedFromPoolAnnotation as allocatedFromPoolAnnotation } from "../shared/service/metallb-annotations.ts";
import { statusOf } from "../shared/kube/api-errors.ts";
import type { KubeApi } from "../shared/kube/client/kube-api.ts";
import { services } from "../shared/kube/client/resource-types.ts";
import { projectService, type ServiceObject } from "../shared/kube/objects/service.ts";

/** The annotation MetalLB writes to name the pool a Service's IPs came from. */

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

function ingressMatches(svc: ServiceObject, ips: string[]): boolean {
  const ingress = svc.status.loadBalancer?.ingress ?? [];
  return ingress.length === ips.length && ingress.every((e, i) => e.ip === ips[i] && e.ipMode === "VIP" && !e.hostname);
}

function annotationMatches(svc: ServiceObject, pool: string | undefined): boolean {
  return svc.metadata.annotations?.[allocatedFromPoolAnnotation] === pool;
}

/** True when the Service already shows `desired`: nothing to write. */
export function serviceShows(svc: ServiceObject, desired: DesiredServiceState): boolean {
  return ingressMatches(svc, desired.ips) && annotationMatches(svc, desired.ips.length ? desired.pool : undefined);
}

/** What {@link writeServiceState} did. */
export interface ServiceWrites {
  /** Writes made (0, 1 or 2). */
  readonly writes: number;
  /**
   * The resourceVersions the writes produced, in order, when each applied to the Service as given
   * (no conflict): those versions differ from it only by what was written. Empty after a conflict.
   */
  readonly versions: readonly string[];
}

/**
 * Writes a Service's pool annotation (a merge patch of the Service) and its
 * `status.loadBalancer.ingress` (a merge patch of the status subresource), each only where it
 * differs and each with a `metadata.resourceVersion` precondition, so each applies to the version
 * read and nothing else changes. A 409 Conflict re-reads the Service and tries again on the fresh
 * copy. Throws when the Service keeps conflicting or the API fails otherwise.
 *
 * @example
 * const { writes } = await writeServiceState(api, cachedService, { ips: ["192.168.1.10"], pool: "default" });
 */
export async function writeServiceState(api: KubeApi, svc: ServiceObject, desired: DesiredServiceState): Promise<ServiceWrites> {
  const ref = { ...services, namespace: svc.metadata.namespace ?? "default", name: svc.metadata.name ?? "" };
  const pool = desired.ips.length ? desired.pool : undefined;
  let current = svc;
  let writes = 0;
  let conflicted = false;
  const versions: string[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      let resourceVersion = current.metadata.resourceVersion;
      if (!annotationMatches(current, pool)) {
        const body = { metadata: { resourceVersion, annotations: { [allocatedFromPoolAnnotation]: pool ?? null } } };
        resourceVersion = resourceVersionOf(await api.patch(ref, body, "merge"));
        writes++;
        versions.push(resourceVersion ?? "");
      }
      // The annotation patch applied to `current` (its precondition), so the status is still current's.
      if (!ingressMatches(current, desired.ips)) {
        const body = { metadata: { resourceVersion }, status: { loadBalancer: { ingress: desiredIngress(desired.ips) } } };
        resourceVersion = resourceVersionOf(await api.patch({ ...ref, subresource: "status" }, body, "merge"));
        writes++;
        versions.push(resourceVersion ?? "");
      }
      return { writes, versions: conflicted || versions.includes("") ? [] : versions };
    } catch (err) {
      if (statusOf(err) !== 409 || attempt >= maxAttempts) throw err;
      conflicted = true;
      current = projectService(await api.get(ref));
    }
  }
}

function resourceVersionOf(raw: unknown): string | undefined {
  const rv = (raw as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata?.resourceVersion;
  return typeof rv === "string" && rv !== "" ? rv : undefined;
}
