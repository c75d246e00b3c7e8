/**
 * Which pools a Service may take a new address from, in which order, and why the others may not:
 * an IPAddressPool's `serviceAllocation` (`priority`, `namespaces`, `namespaceSelectors`,
 * `serviceSelectors`) with MetalLB's semantics. Pure; the allocator asks it.
 *
 * What MetalLB does (read in metallb/metallb, v0.13 to main):
 * - `internal/config/config.go`, `addressPoolServiceAllocationsFromCR`: a pool's set of namespaces is
 *   the union of `namespaces` and every Namespace whose labels match any of `namespaceSelectors`,
 *   resolved against the cached Namespaces whenever the config is rebuilt. `serviceSelectors` stay
 *   selectors. Since PR #2714 (issue #2656, 2025), a `serviceAllocation` with only a `priority` selects
 *   every Service; before that such a pool was never auto-assigned.
 * - `internal/allocator/allocator.go`, `isPoolCompatibleWithService`: the Service's namespace must be in
 *   that set (when it is non-empty) AND its labels must match any of `serviceSelectors` (when set).
 * - `pinnedPoolsForService` and `sortPools`: the auto-assign pools whose `serviceAllocation` admits the
 *   Service, by priority, lower first; a priority that is unset or 0 comes last; equal priorities in
 *   no defined order (the docs: "the choice will be random").
 * - `Allocate`: tries those pools first, then the auto-assign pools without any `serviceAllocation`.
 * - `Assign` (a requested IP; `AllocateFromPool` for the `address-pool` annotation) refuses a pool that
 *   does not admit the Service, whatever its `autoAssign`. The docs ("Reduce scope of address
 *   allocation to specific Namespace and Service") say such a Service stays pending.
 *
 * Here:
 * - Admission is the same rule, evaluated per Service against its Namespace's labels. Labels that are
 *   not known (Namespace not cached) match no selector but `{}`, so only the `namespaces` list can admit.
 *   Empty lists restrict nothing. A `namespaceSelectors` that matches no Namespace admits nobody
 *   (in MetalLB the resolved set is then empty, which `isPoolCompatibleWithService` reads as "any
 *   namespace": a surprise we do not copy).
 * - Order, for a Service that names no pool and no IP: pools with a priority by priority, lower
 *   first; then the other pools with a `serviceAllocation`; then pools without one (every ConfigMap
 *   pool). Config order (the `pools` array) breaks every tie: deterministic where MetalLB is random.
 *   A priority of 0 counts as unset, as in MetalLB; a negative one sorts before 1 (MetalLB's
 *   comparator is inconsistent there).
 */
import type { LabelSelector, Pool } from "../shared/config/config-types.ts";
import { formatSelector, matchesAny } from "../shared/config/label-selector.ts";
import type { AllocationRequest } from "./allocation-request.ts";

/** What admission reads from a request. */
export type ServiceIdentity = Pick<AllocationRequest, "namespace" | "namespaceLabels" | "serviceLabels">;

/** Why a pool does not admit a Service: `short` for a list of skipped pools, `full` when it was asked for. */
export interface AdmissionRefusal {
  /** e.g. `pool "team" is restricted to namespaces [team-a]` */
  readonly short: string;
  /** e.g. `pool "team" is restricted to namespaces [team-a] and the Service is in "default"` */
  readonly full: string;
}

/**
 * Why `pool` does not serve the Service, or undefined when it does: the namespace check
 * (`namespaces` ∪ `namespaceSelectors`) first, then `serviceSelectors`.
 *
 * @example
 * admissionRefusal(webOnlyPool, { namespace: "shop", namespaceLabels: {}, serviceLabels: { app: "db" } })?.short;
 * // 'pool "web" serves only Services matching serviceSelectors [app=web]'
 */
export function admissionRefusal(pool: Pool, service: ServiceIdentity): AdmissionRefusal | undefined {
  const names = pool.namespaces ?? [];
  const namespaceSelectors = pool.serviceAllocation?.namespaceSelectors ?? [];
  if (names.length > 0 || namespaceSelectors.length > 0) {
    const byName = names.includes(service.namespace);
    // Unknown labels match only a selector that matches everything (`{}`).
    const byLabels =
      service.namespaceLabels !== undefined ? matchesAny(namespaceSelectors, service.namespaceLabels) : namespaceSelectors.some(selectsEverything);
    if (!byName && !byLabels) {
      const allowed = [
        ...(names.length > 0 ? [`namespaces [${names.join(", ")}]`] : []),
        ...(namespaceSelectors.length > 0 ? [`namespaces matching [${describeSelectors(namespaceSelectors)}]`] : []),
      ].join(" or ");
      const unknown = namespaceSelectors.length > 0 && service.namespaceLabels === undefined;
      const labelsNote = unknown ? ` (the labels of namespace "${service.namespace}" are not known)` : "";
      const short = `pool "${pool.name}" is restricted to ${allowed}`;
      return { short: short + labelsNote, full: `${short} and the Service is in "${service.namespace}"${labelsNote}` };
    }
  }
  const serviceSelectors = pool.serviceAllocation?.serviceSelectors ?? [];
  if (serviceSelectors.length > 0 && !matchesAny(serviceSelectors, service.serviceLabels)) {
    const short = `pool "${pool.name}" serves only Services matching serviceSelectors [${describeSelectors(serviceSelectors)}]`;
    return { short, full: `${short} and the Service's labels are ${describeLabels(service.serviceLabels)}` };
  }
  return undefined;
}

/**
 * The pool's effective priority: `serviceAllocation.priority`, or undefined when unset or 0.
 * @example priorityOf({ ...pool, serviceAllocation: { priority: 10 } }) // 10
 */
export function priorityOf(pool: Pool): number | undefined {
  const priority = pool.serviceAllocation?.priority;
  return priority === undefined || priority === 0 ? undefined : priority;
}

/**
 * `items` in the order a Service without a requested pool or IP tries them (see the module doc).
 * Stable: equal items keep their order in `items`, which must be config order.
 *
 * @example
 * inPreferenceOrder(states, (s) => s.pool).map((s) => s.name); // ["gold", "silver", "tenant", "default"]
 */
export function inPreferenceOrder<T>(items: readonly T[], poolOf: (item: T) => Pool): T[] {
  const rank = (pool: Pool): [number, number] => {
    const priority = priorityOf(pool);
    if (priority !== undefined) return [0, priority];
    return [pool.serviceAllocation !== undefined ? 1 : 2, 0];
  };
  return items
    .map((item, index) => ({ item, index, rank: rank(poolOf(item)) }))
    .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || a.index - b.index)
    .map((entry) => entry.item);
}

function selectsEverything(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/** Selectors as kubectl prints them, alternatives joined by " or ": `team=a or tier in (fe,be)`. */
function describeSelectors(selectors: readonly LabelSelector[]): string {
  return selectors.map(formatSelector).join(" or ");
}

/** `{app=web, tier=fe}`, or `{}` for none. */
function describeLabels(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`);
  return `{${pairs.join(", ")}}`;
}
