/**
 * IPs the controller assigns that no speaker will announce, because no L2Advertisement applies to
 * them, or the ones that apply select no node by their `nodeSelectors`: MetalLB assigns these
 * silently; we say so on the Service. Pure.
 */
import { advertisementsFor, selectsNode, selectsPool } from "../shared/config/advertisements-for.ts";
import { formatSelector } from "../shared/config/label-selector.ts";
import type { Advertisement, Pool } from "../shared/config/config-types.ts";
import { parseIp } from "../shared/ip/address.ts";
import { rangeContains } from "../shared/ip/range.ts";

/** One assigned IP that stays dark, with the sentence for the Warning Event. */
export interface UnannouncedIp {
  readonly ip: string;
  readonly pool: string;
  readonly message: string;
}

/**
 * The IPs of one Service that no advertisement applies to, with what to do about it.
 *
 * @example
 * unannouncedIps(["192.0.2.10"], { pools, advertisements: [] }, {});
 * // [{ ip: "192.0.2.10", pool: "x", message: '192.0.2.10 from pool "x" is not announced: no L2Advertisement selects pool "x"; create one that does (spec.ipAddressPools: [x])' }]
 */
export function unannouncedIps(
  ips: readonly string[],
  config: { readonly pools: readonly Pool[]; readonly advertisements: readonly Advertisement[] },
  serviceLabels: Readonly<Record<string, string>> | undefined,
  /** The cluster's Nodes' labels; undefined when not known (then nodeSelectors are not checked). */
  nodes?: readonly { readonly labels?: Readonly<Record<string, string>> }[],
): UnannouncedIp[] {
  const dark: UnannouncedIp[] = [];
  for (const ip of ips) {
    const parsed = parseIp(ip);
    if (!parsed.ok) continue;
    const pool = config.pools.find((p) => p.ranges.some((r) => rangeContains(r, parsed.ip)));
    if (pool === undefined) continue;
    const match = advertisementsFor(pool, serviceLabels, config.advertisements);
    if (match.ok) {
      const selectsSomeNode = (ad: Advertisement) => ad.nodeSelectors.length === 0 || nodes!.some((node) => selectsNode(ad, node));
      if (nodes === undefined || match.advertisements.some(selectsSomeNode)) continue;
      const which = match.advertisements.map((ad) => `${ad.source} (${ad.nodeSelectors.map(formatSelector).join(" or ")})`).join("; ");
      const message = `${ip} from pool "${pool.name}" is not announced: no node matches the nodeSelectors of ${which}; label a node to match, or change the nodeSelectors`;
      dark.push({ ip, pool: pool.name, message });
      continue;
    }
    const fix = match.reason.startsWith("no L2Advertisement")
      ? `create one that does (spec.ipAddressPools: [${pool.name}])`
      : "label the Service to match one of them, or add an L2Advertisement without serviceSelectors for the pool";
    dark.push({ ip, pool: pool.name, message: `${ip} from pool "${pool.name}" is not announced: ${match.reason}; ${fix}` });
  }
  return dark;
}

/**
 * True when `config` announces every IP it can assign: each pool is selected by an advertisement
 * that selects every Service and every node. Then {@link unannouncedIps} is empty for any Service,
 * and the controller need not ask per Service (the common case: one L2Advertisement for all pools).
 *
 * @example
 * announcesEveryIp({ pools, advertisements: [allPoolsAllNodes] }); // true
 */
export function announcesEveryIp(config: { readonly pools: readonly Pool[]; readonly advertisements: readonly Advertisement[] }): boolean {
  return config.pools.every((pool) =>
    config.advertisements.some((ad) => selectsPool(ad, pool) && ad.serviceSelectors.length === 0 && ad.nodeSelectors.length === 0),
  );
}
