/**
 * Which IP families a Service gets, from `spec.ipFamilies` and `spec.ipFamilyPolicy`:
 * SingleStack: the first family; RequireDualStack: both, or fail; PreferDualStack: both if possible.
 */
import { familyName, formatIp } from "../shared/ip/address.ts";
import type { IpFamily } from "../shared/ip/address.ts";
import type { AllocationRequest } from "./allocation-request.ts";

/**
 * The families a request may hold, primary first, or why the request is inconsistent.
 *
 * @example
 * wantedFamilies({ ...request, ipFamilies: [6, 4], ipFamilyPolicy: "SingleStack" }); // [6]
 */
export function wantedFamilies(request: AllocationRequest): IpFamily[] | string {
  const families = request.ipFamilies;
  if (families.length === 0) return "spec.ipFamilies is empty; list IPv4, IPv6 or both";
  if (families.length > 2 || new Set(families).size !== families.length) {
    return `spec.ipFamilies [${families.map(familyName).join(", ")}] must list each family at most once`;
  }
  switch (request.ipFamilyPolicy) {
    case "SingleStack":
      return [families[0]];
    case "RequireDualStack":
      if (families.length < 2) {
        return `ipFamilyPolicy RequireDualStack needs both IPv4 and IPv6 in spec.ipFamilies, which lists only ${familyName(families[0])}`;
      }
      return [...families];
    case "PreferDualStack":
      return [...families];
  }
}

/**
 * Why the requested IPs do not fit the wanted families, or undefined when they do: at most one
 * per family, only wanted families, and both families for RequireDualStack.
 *
 * @example
 * requestedIpsProblem({ ...request, requestedIps: [v6] }, [4]);
 * // "requests fd00::1 (IPv6) but the Service is SingleStack IPv4; request an IPv4 address or change spec.ipFamilies"
 */
export function requestedIpsProblem(request: AllocationRequest, wanted: readonly IpFamily[]): string | undefined {
  const requested = request.requestedIps;
  for (const ip of requested) {
    if (!wanted.includes(ip.family)) {
      return `requests ${formatIp(ip)} (${familyName(ip.family)}) but the Service is ${describeFamilies(request, wanted)}; request an ${wanted.map(familyName).join(" or ")} address or change spec.ipFamilies`;
    }
  }
  for (const family of [4, 6] as const) {
    const same = requested.filter((ip) => ip.family === family);
    if (same.length > 1) {
      return `requests ${same.length} ${familyName(family)} addresses (${same.map(formatIp).join(", ")}); request at most one per family`;
    }
  }
  if (request.ipFamilyPolicy === "RequireDualStack" && requested.length === 1) {
    return `requests only ${formatIp(requested[0])} but ipFamilyPolicy RequireDualStack needs one IPv4 and one IPv6 address; request both or none`;
  }
  return undefined;
}

/** `SingleStack IPv4`, `RequireDualStack`, `PreferDualStack`. */
export function describeFamilies(request: AllocationRequest, wanted: readonly IpFamily[]): string {
  return request.ipFamilyPolicy === "SingleStack" ? `SingleStack ${familyName(wanted[0])}` : request.ipFamilyPolicy;
}
