/**
 * Which IPs Services hold that a new config would take away: the rule that makes a config change
 * wait until no Service loses its address. The same rule as the controller's `Allocator.setPools`,
 * so the speakers, which have no allocator, refuse exactly what the controller refuses. Pure.
 */
import { annotationNames } from "../service/metallb-annotations.ts";
import { formatIp, parseIp } from "../ip/address.ts";
import type { IpAddress } from "../ip/address.ts";
import { rangeContains } from "../ip/range.ts";
import type { Pool } from "./config-types.ts";

/** The annotations a Service names its pool with; the first is the one messages cite. */
export const POOL_ANNOTATIONS = annotationNames("address-pool");

/** The IPs one Service holds (its status). Build it with `heldIpsOf`. */
export interface HeldIps {
  /** `namespace/name`. */
  readonly service: string;
  readonly ips: readonly string[];
  /** The pool the Service names (`metallb.universe.tf/address-pool`), if any. */
  readonly pool?: string;
}

/** An IP a config would take away from the Service holding it, and why. */
export interface TakenIp {
  readonly service: string;
  readonly ip: string;
  readonly reason: string;
}

/** Where an IP may be held under some pools: its pool, or why it may not be held there. */
type Placement = { pool: Pool } | { reason: string };

/**
 * Every IP that is validly held under `current` and would not be under `next`, in Service order.
 * The IP must lie in a pool that the Service's namespace may use and that does not exclude it by
 * avoid-buggy-ips, stay in the pool the Service names, and all of a Service's IPs must stay in one
 * pool. An IP that is not valid under `current` (a Service the controller leaves alone) is not
 * taken away by any config. Selectors (`serviceAllocation.namespaceSelectors`/`serviceSelectors`)
 * need labels this check does not see: a pool with namespace selectors is not held against a
 * holder's namespace here, and the controller's allocator, which sees labels, has the last word.
 *
 * @example
 * ipsTakenAway(oldPools, newPools, [{ service: "default/web", ips: ["10.0.0.1"] }]);
 * // [{ service: "default/web", ip: "10.0.0.1", reason: "10.0.0.1 is in no pool of the new config" }]
 */
export function ipsTakenAway(current: readonly Pool[], next: readonly Pool[], holders: readonly HeldIps[]): TakenIp[] {
  const taken: TakenIp[] = [];
  const sorted = [...holders].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  for (const holder of sorted) {
    const namespace = holder.service.slice(0, holder.service.indexOf("/"));
    const ips = holder.ips.map((text) => parseIp(text)).flatMap((r) => (r.ok ? [r.ip] : []));
    const now = ips.map((ip) => place(current, ip, namespace));
    const later = ips.map((ip) => place(next, ip, namespace));
    const before = taken.length;
    ips.forEach((ip, i) => {
      const held = now[i];
      const placed = later[i];
      if (!("pool" in held)) return;
      const text = formatIp(ip);
      if (!("pool" in placed)) taken.push({ service: holder.service, ip: text, reason: placed.reason });
      else if (holder.pool && holder.pool === held.pool.name && placed.pool.name !== holder.pool) {
        taken.push({
          service: holder.service,
          ip: text,
          reason: `the Service requests pool "${holder.pool}" (${POOL_ANNOTATIONS[0]}) and the new config puts ${text} in pool "${placed.pool.name}"`,
        });
      }
    });
    if (taken.length > before || ips.length < 2) continue;
    const poolsNow = new Set(now.map((p) => ("pool" in p ? p.pool.name : undefined)));
    const poolsLater = new Set(later.map((p) => ("pool" in p ? p.pool.name : undefined)));
    if (poolsNow.size === 1 && !poolsNow.has(undefined) && poolsLater.size > 1) {
      const where = ips.map((ip, i) => `${formatIp(ip)} in pool "${(later[i] as { pool: Pool }).pool.name}"`).join(", ");
      for (const ip of ips) taken.push({ service: holder.service, ip: formatIp(ip), reason: `the new config splits the Service's IPs across pools (${where})` });
    }
  }
  return taken;
}

/**
 * The pool of `pools` whose ranges hold `ip` (text), if any: to tell which pool object a taken IP
 * came from or goes to.
 *
 * @example poolHolding(pools, "10.0.0.1")?.source; // "IPAddressPool metallb-system/lan"
 */
export function poolHolding(pools: readonly Pool[], ip: string): Pool | undefined {
  const parsed = parseIp(ip);
  return parsed.ok ? pools.find((p) => p.ranges.some((r) => rangeContains(r, parsed.ip))) : undefined;
}

function place(pools: readonly Pool[], ip: IpAddress, namespace: string): Placement {
  const pool = pools.find((p) => p.ranges.some((r) => rangeContains(r, ip)));
  const text = formatIp(ip);
  if (pool === undefined) return { reason: `${text} is in no pool of the new config` };
  const selectsNamespaces = (pool.serviceAllocation?.namespaceSelectors?.length ?? 0) > 0;
  if (pool.namespaces !== undefined && !selectsNamespaces && !pool.namespaces.includes(namespace)) {
    return { reason: `under the new config pool "${pool.name}" is restricted to namespaces [${pool.namespaces.join(", ")}] and the Service is in "${namespace}"` };
  }
  const last = ip.value & 255n;
  if (pool.avoidBuggyIps && ip.family === 4 && (last === 0n || last === 255n)) {
    const field = pool.source?.startsWith("IPAddressPool ") ? "avoidBuggyIPs" : "avoid-buggy-ips";
    return { reason: `under the new config ${text} ends in .${last} and pool "${pool.name}" has ${field}: true; use another address or set ${field}: false` };
  }
  return { pool };
}
