/**
 * Which advertisements apply to a Service's IP, MetalLB's rule, owned here for both binaries: the
 * speaker elects and announces by it, the controller warns about IPs it leaves unannounced.
 *
 * An advertisement applies to an IP of Service S from pool P when it selects P (its `ipAddressPools`
 * names P, or one of its `ipAddressPoolSelectors` matches P's labels, or it has neither: all pools)
 * and it selects S (`serviceSelectors` empty, or one matches S's labels). Several may apply; they
 * combine. None applying means the IP is assigned but never announced. A node may announce the IP
 * when one of the applying advertisements selects it ({@link selectsNode}).
 */
import type { Advertisement, Pool } from "./config-types.ts";
import { formatSelector, matchesAny } from "./label-selector.ts";

/** The advertisements for one IP, or why there are none (for an Event, a log line, a plan's reason). */
export type AdvertisementMatch =
  | { readonly ok: true; readonly advertisements: readonly Advertisement[] }
  | { readonly ok: false; readonly reason: string };

/**
 * @example
 * advertisementsFor(pool, { app: "web" }, config.advertisements);
 * // { ok: false, reason: 'no L2Advertisement selects pool "lan"' }
 */
export function advertisementsFor(
  pool: Pool,
  serviceLabels: Readonly<Record<string, string>> | undefined,
  advertisements: readonly Advertisement[],
): AdvertisementMatch {
  const forPool = advertisements.filter((ad) => selectsPool(ad, pool));
  if (forPool.length === 0) return { ok: false, reason: `no L2Advertisement selects pool "${pool.name}"` };
  const applying = forPool.filter((ad) => ad.serviceSelectors.length === 0 || matchesAny(ad.serviceSelectors, serviceLabels));
  if (applying.length > 0) return { ok: true, advertisements: applying };
  const which = forPool.map((ad) => `${ad.source} (serviceSelectors ${ad.serviceSelectors.map(formatSelector).join(" or ")})`);
  return { ok: false, reason: `the L2Advertisements selecting pool "${pool.name}" do not select the Service: ${which.join("; ")}` };
}

/**
 * Whether `ad` covers `pool`: named, selected by labels, or all pools when it names and selects none.
 *
 * @example selectsPool({ ...ad, ipAddressPools: [], ipAddressPoolSelectors: [] }, pool) // true: all pools
 */
export function selectsPool(ad: Advertisement, pool: Pool): boolean {
  if (ad.ipAddressPools.length === 0 && ad.ipAddressPoolSelectors.length === 0) return true;
  return ad.ipAddressPools.includes(pool.name) || matchesAny(ad.ipAddressPoolSelectors, pool.labels);
}

/**
 * Whether `ad` lets a node with these labels announce: no `nodeSelectors`, or one matches.
 *
 * @example selectsNode({ ...ad, nodeSelectors: [] }, { name: "n1" }) // true
 */
export function selectsNode(ad: Advertisement, node: { readonly labels?: Readonly<Record<string, string>> }): boolean {
  return ad.nodeSelectors.length === 0 || matchesAny(ad.nodeSelectors, node.labels);
}
