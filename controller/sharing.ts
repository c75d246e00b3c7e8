/**
 * MetalLB's IP sharing rules. Two Services may hold the same IP only when
 * 1. both carry the same non-empty `allow-shared-ip` key,
 * 2. no protocol/port pair is used by both (TCP/53 and UDP/53 coexist),
 * 3. their backends match: both `Cluster`, or both `Local` with identical selectors.
 */
import { allowSharedIpAnnotation as KEY_ANNOTATION } from "../shared/service/metallb-annotations.ts";
import type { AllocationRequest, ServicePort } from "./allocation-request.ts";


/** A Service as the sharing rules see it. */
export interface SharingParty {
  /** `namespace/name`. */
  readonly service: string;
  readonly request: Pick<AllocationRequest, "sharingKey" | "ports" | "externalTrafficPolicy" | "selector">;
}

/**
 * Why `newcomer` may not share `ip` with `holder`, or undefined when it may. The reason names the
 * other Service and, for a port clash, the port.
 *
 * @example
 * sharingConflict("10.0.0.1", newcomer, holder);
 * // 'cannot share 10.0.0.1 with default/web: both use TCP/80; move one Service to another port or IP'
 */
export function sharingConflict(ip: string, newcomer: SharingParty, holder: SharingParty): string | undefined {
  const prefix = `cannot share ${ip} with ${holder.service}`;
  const mine = newcomer.request.sharingKey ?? "";
  const theirs = holder.request.sharingKey ?? "";
  if (mine === "" && theirs === "") {
    return `${prefix}: neither Service has an allow-shared-ip key; request another IP, or give both the same ${KEY_ANNOTATION} value`;
  }
  if (theirs === "") {
    return `${prefix}: ${holder.service} has no allow-shared-ip key; give it ${KEY_ANNOTATION}: "${mine}" or request another IP`;
  }
  if (mine === "") {
    return `${prefix}: this Service has no allow-shared-ip key; set ${KEY_ANNOTATION}: "${theirs}" to share it`;
  }
  if (mine !== theirs) {
    return `${prefix}: allow-shared-ip keys differ ("${mine}" here, "${theirs}" there); use the same key on both`;
  }
  const clashes = overlappingPorts(newcomer.request.ports, holder.request.ports);
  if (clashes.length > 0) {
    return `${prefix}: both use ${clashes.join(", ")}; move one Service to another port or IP`;
  }
  const myPolicy = newcomer.request.externalTrafficPolicy;
  const theirPolicy = holder.request.externalTrafficPolicy;
  if (myPolicy !== theirPolicy) {
    return `${prefix}: externalTrafficPolicy differs (${myPolicy} here, ${theirPolicy} there); use the same policy on both`;
  }
  if (myPolicy === "Local") {
    const mySelector = formatSelector(newcomer.request.selector);
    const theirSelector = formatSelector(holder.request.selector);
    if (mySelector !== theirSelector) {
      return `${prefix}: with externalTrafficPolicy Local the selectors must be identical (${mySelector} here, ${theirSelector} there)`;
    }
  }
  return undefined;
}

function overlappingPorts(a: readonly ServicePort[], b: readonly ServicePort[]): string[] {
  const theirs = new Set(b.map((p) => `${p.protocol}/${p.port}`));
  return [...new Set(a.map((p) => `${p.protocol}/${p.port}`))].filter((p) => theirs.has(p));
}

/** Canonical selector text: sorted `key=value` pairs, `<empty>` for none. @example "app=web,tier=fe" */
function formatSelector(selector: Readonly<Record<string, string>>): string {
  const pairs = Object.keys(selector)
    .sort()
    .map((key) => `${key}=${selector[key]}`);
  return pairs.length > 0 ? pairs.join(",") : "<empty>";
}
