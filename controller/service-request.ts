/**
 * From a Service object (plain JSON, as the API server returns it) to an {@link AllocationRequest},
 * or a specific error naming the Service. Pure.
 *
 * MetalLB annotations are read under both prefixes, `metallb.universe.tf/` (legacy) and
 * `metallb.io/`. When both are set they must be equal; if they differ that is an error.
 */
import { serviceKey } from "../shared/service/service-key.ts";
import { annotationNames } from "../shared/service/metallb-annotations.ts";
import { familyName, formatIp, parseIp } from "../shared/ip/address.ts";
import type { IpAddress, IpFamily } from "../shared/ip/address.ts";
import type { AllocationRequest, IpFamilyPolicy, PortProtocol, ServicePort, TrafficPolicy } from "./allocation-request.ts";

const POLICIES: readonly string[] = ["SingleStack", "PreferDualStack", "RequireDualStack"];
const PROTOCOLS: readonly string[] = ["TCP", "UDP", "SCTP"];

/** The parts of a Service this module reads; the informer's projection (shared/kube/objects/service.ts) fits. */
export interface ServiceObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>> | null;
    readonly annotations?: Readonly<Record<string, string>> | null;
  } | null;
  readonly spec?: {
    readonly type?: string | null;
    readonly loadBalancerClass?: string | null;
    readonly loadBalancerIP?: string | null;
    readonly ipFamilies?: readonly string[] | null;
    readonly ipFamilyPolicy?: string | null;
    readonly ports?: readonly { readonly protocol?: string | null; readonly port?: number | null }[] | null;
    readonly externalTrafficPolicy?: string | null;
    readonly selector?: Readonly<Record<string, string>> | null;
  } | null;
}

/** Result of {@link buildAllocationRequest}. */
export type ServiceRequestResult = { ok: true; request: AllocationRequest } | { ok: false; error: string };


/**
 * Builds the allocation request of a Service. Missing `spec.ipFamilies` defaults to the families
 * of the requested IPs, else IPv4; missing policy to SingleStack; missing traffic policy to Cluster.
 * `namespaceLabels` are the labels of the Service's Namespace, for pools with
 * `serviceAllocation.namespaceSelectors`; leave it out when the Namespace is not known.
 *
 * @example
 * buildAllocationRequest({
 *   metadata: { namespace: "default", name: "web", annotations: { "metallb.universe.tf/address-pool": "lan" } },
 *   spec: { type: "LoadBalancer", ports: [{ protocol: "TCP", port: 80 }] },
 * });
 * // { ok: true, request: { namespace: "default", pool: "lan", ipFamilies: [4], ... } }
 */
export function buildAllocationRequest(
  service: ServiceObject,
  namespaceLabels?: Readonly<Record<string, string>>,
): ServiceRequestResult {
  const name = service.metadata?.name;
  if (!name) return { ok: false, error: "service without metadata.name; give it a name" };
  const where = `service ${serviceKey(service)}`;
  const fail = (message: string): ServiceRequestResult => ({ ok: false, error: `${where}: ${message}` });
  const spec = service.spec ?? {};
  const annotations = service.metadata?.annotations ?? {};

  const pool = annotation(annotations, "address-pool");
  if (!pool.ok) return fail(pool.error);
  const sharingKey = annotation(annotations, "allow-shared-ip");
  if (!sharingKey.ok) return fail(sharingKey.error);
  const ipList = annotation(annotations, "loadBalancerIPs");
  if (!ipList.ok) return fail(ipList.error);

  let requestedIps: IpAddress[] = [];
  const specIp = spec.loadBalancerIP ?? "";
  if (ipList.value && specIp) return fail(`sets both spec.loadBalancerIP and ${ipList.name}; remove one`);
  if (ipList.value) {
    const parsed = parseIpList(ipList.value, ipList.name);
    if (typeof parsed === "string") return fail(parsed);
    requestedIps = parsed;
  } else if (specIp) {
    const parsed = parseIp(specIp.trim());
    if (!parsed.ok) return fail(`spec.loadBalancerIP "${specIp}" is not a valid IP address (${parsed.reason})`);
    requestedIps = [parsed.ip];
  }

  let ipFamilies: readonly IpFamily[];
  if (spec.ipFamilies && spec.ipFamilies.length > 0) {
    const families: IpFamily[] = [];
    for (const family of spec.ipFamilies) {
      if (family !== "IPv4" && family !== "IPv6") return fail(`spec.ipFamilies has unknown family "${family}"; use IPv4 or IPv6`);
      families.push(family === "IPv4" ? 4 : 6);
    }
    ipFamilies = familyList(families);
  } else {
    ipFamilies = familyList(requestedIps.length > 0 ? requestedIps.map((ip) => ip.family) : [4]);
  }

  const policy = spec.ipFamilyPolicy || "SingleStack";
  if (!POLICIES.includes(policy)) return fail(`spec.ipFamilyPolicy "${policy}" is unknown; use ${POLICIES.join(", ")}`);

  const specPorts = spec.ports ?? [];
  // Sized up front: a request lives as long as its Service's IPs, and a pushed-to array keeps spare room.
  const ports: ServicePort[] = new Array(specPorts.length);
  for (const [index, port] of specPorts.entries()) {
    const protocol = port.protocol || "TCP";
    if (!PROTOCOLS.includes(protocol)) return fail(`spec.ports[${index}].protocol "${protocol}" is unknown; use TCP, UDP or SCTP`);
    if (typeof port.port !== "number" || !Number.isInteger(port.port) || port.port < 1 || port.port > 65535) {
      return fail(`spec.ports[${index}].port ${String(port.port)} is not a port number from 1 to 65535`);
    }
    ports[index] = { protocol: protocol as PortProtocol, port: port.port };
  }

  const trafficPolicy = spec.externalTrafficPolicy || "Cluster";
  if (trafficPolicy !== "Cluster" && trafficPolicy !== "Local") {
    return fail(`spec.externalTrafficPolicy "${trafficPolicy}" is unknown; use Cluster or Local`);
  }

  return {
    ok: true,
    request: {
      namespace: service.metadata?.namespace || "default",
      // Shared, not copied: the inputs are read-only (the informer's projections), and a request
      // lives as long as its Service's IPs.
      namespaceLabels,
      serviceLabels: service.metadata?.labels ?? noLabels,
      ipFamilies,
      ipFamilyPolicy: policy as IpFamilyPolicy,
      requestedIps,
      ...(pool.value ? { pool: pool.value } : {}),
      ...(sharingKey.value ? { sharingKey: sharingKey.value } : {}),
      ports,
      externalTrafficPolicy: trafficPolicy as TrafficPolicy,
      selector: spec.selector ?? noLabels,
    },
  };
}

const noLabels: Readonly<Record<string, string>> = Object.freeze({});

/** The families as one of four shared arrays (most Services are `[4]`). */
function familyList(families: readonly IpFamily[]): readonly IpFamily[] {
  const shared = families.length === 1 ? (families[0] === 4 ? v4 : v6) : families.length === 2 ? (families[0] === 4 ? v4v6 : v6v4) : undefined;
  return shared !== undefined && shared.every((f, i) => f === families[i]) ? shared : families;
}
const v4: readonly IpFamily[] = Object.freeze([4]);
const v6: readonly IpFamily[] = Object.freeze([6]);
const v4v6: readonly IpFamily[] = Object.freeze([4, 6]);
const v6v4: readonly IpFamily[] = Object.freeze([6, 4]);

type AnnotationValue = { ok: true; value: string; name: string } | { ok: false; error: string };

/** Reads `<prefix>name` under both prefixes; the legacy name is reported when both are set. */
function annotation(annotations: Readonly<Record<string, string>>, name: string): AnnotationValue {
  const [legacyName, currentName] = annotationNames(name);
  const legacy = annotations[legacyName];
  const current = annotations[currentName];
  if (legacy !== undefined && current !== undefined && legacy !== current) {
    return {
      ok: false,
      error: `${legacyName} is "${legacy}" but ${currentName} is "${current}"; remove one or make them equal`,
    };
  }
  if (legacy !== undefined) return { ok: true, value: legacy.trim(), name: legacyName };
  return { ok: true, value: (current ?? "").trim(), name: current !== undefined ? currentName : legacyName };
}

function parseIpList(text: string, annotationName: string): IpAddress[] | string {
  const entries = text.split(",").map((entry) => entry.trim());
  const ips: IpAddress[] = [];
  for (const entry of entries) {
    if (entry === "") return `${annotationName} "${text}" has an empty entry; separate IPs with single commas`;
    const parsed = parseIp(entry);
    if (!parsed.ok) return `${annotationName}: "${entry}" is not a valid IP address (${parsed.reason})`;
    ips.push(parsed.ip);
  }
  if (ips.length > 2) {
    return `${annotationName} lists ${ips.length} addresses (${ips.map(formatIp).join(", ")}); list at most one IPv4 and one IPv6`;
  }
  if (ips.length === 2 && ips[0].family === ips[1].family) {
    return `${annotationName} lists two ${familyName(ips[0].family)} addresses (${ips.map(formatIp).join(", ")}); list at most one IPv4 and one IPv6`;
  }
  return ips;
}
