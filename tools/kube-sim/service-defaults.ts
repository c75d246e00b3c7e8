/**
 * The Service strategy: kube-apiserver's defaulting (type, protocol, targetPort, sessionAffinity, traffic
 * policies, IP families, cluster IPs, node ports, health check node port, ipMode), the values an update keeps
 * from the stored object, and the validation errors (422) of the fields this project touches.
 *
 * @example
 * const strategy = serviceStrategy(new ServiceAllocator(store));
 */
import { isIPv4, isIPv6 } from "node:net";
import type { StatusCause } from "./api-error.ts";
import {
  duplicate,
  forbiddenField,
  invalidValue,
  nameProblems,
  notSupported,
  qualifiedNameProblems,
  required,
} from "./field-errors.ts";
import { isPlainObject, jsonEqual } from "./json-value.ts";
import type { KindStrategy } from "./kind-strategy.ts";
import type { KubeObject } from "./resources.ts";
import {
  canonicalIP,
  inServiceRange,
  ipToBigInt,
  NODE_PORT_MAX,
  NODE_PORT_MIN,
  SERVICE_CIDRS,
  type IPFamily,
  type ServiceAllocator,
} from "./service-allocator.ts";

interface ServicePort {
  name?: unknown;
  protocol?: unknown;
  port?: unknown;
  targetPort?: unknown;
  nodePort?: unknown;
  appProtocol?: unknown;
  [key: string]: unknown;
}

interface ServiceSpec {
  type?: unknown;
  ports?: ServicePort[];
  selector?: unknown;
  clusterIP?: unknown;
  clusterIPs?: unknown;
  ipFamilies?: unknown;
  ipFamilyPolicy?: unknown;
  externalIPs?: unknown;
  externalName?: unknown;
  loadBalancerIP?: unknown;
  loadBalancerClass?: unknown;
  loadBalancerSourceRanges?: unknown;
  externalTrafficPolicy?: unknown;
  internalTrafficPolicy?: unknown;
  sessionAffinity?: unknown;
  allocateLoadBalancerNodePorts?: unknown;
  healthCheckNodePort?: unknown;
  [key: string]: unknown;
}

const serviceTypes = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const protocols = ["SCTP", "TCP", "UDP"];
const trafficPolicies = ["Cluster", "Local"];
const familyPolicies = ["PreferDualStack", "RequireDualStack", "SingleStack"];
const ipModes = ["Proxy", "VIP"];
const validIP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

function specOf(svc: KubeObject): ServiceSpec {
  if (!isPlainObject(svc.spec)) svc.spec = {};
  return svc.spec as ServiceSpec;
}

function portsOf(spec: ServiceSpec): ServicePort[] {
  return Array.isArray(spec.ports) ? spec.ports.filter(isPlainObject) : [];
}

function needsNodePorts(spec: ServiceSpec): boolean {
  if (spec.type === "NodePort") return true;
  return spec.type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts !== false;
}

function isHeadless(spec: ServiceSpec): boolean {
  return spec.clusterIP === "None" || (Array.isArray(spec.clusterIPs) && spec.clusterIPs[0] === "None");
}

function familyOf(ip: unknown): IPFamily | undefined {
  if (typeof ip !== "string") return undefined;
  return isIPv4(ip) ? "IPv4" : isIPv6(ip) ? "IPv6" : undefined;
}

/** Defaults shared by create and update (never allocation). */
function applyBasicDefaults(spec: ServiceSpec): void {
  spec.type ??= "ClusterIP";
  spec.sessionAffinity ??= "None";
  for (const p of portsOf(spec)) {
    p.protocol ??= "TCP";
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === "") p.targetPort = p.port;
  }
  if (spec.type === "ExternalName") return;
  spec.internalTrafficPolicy ??= "Cluster";
  if (spec.type === "NodePort" || spec.type === "LoadBalancer") spec.externalTrafficPolicy ??= "Cluster";
  if (spec.type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
}

/** Reconciles clusterIP/clusterIPs/ipFamilies/ipFamilyPolicy and allocates missing cluster IPs. */
function defaultIPs(spec: ServiceSpec, alloc: ServiceAllocator): void {
  if (spec.type === "ExternalName") return;
  const given = Array.isArray(spec.clusterIPs) ? (spec.clusterIPs as unknown[]) : [];
  if (given.length === 0 && typeof spec.clusterIP === "string" && spec.clusterIP !== "") spec.clusterIPs = [spec.clusterIP];
  const ips = Array.isArray(spec.clusterIPs) ? [...(spec.clusterIPs as unknown[])] : [];
  if (ips.some((ip) => typeof ip !== "string")) return; // validation reports it
  if (ips[0] === "None") {
    spec.clusterIP = "None";
    spec.clusterIPs = ["None"];
    spec.ipFamilyPolicy ??= "SingleStack";
    if (!Array.isArray(spec.ipFamilies) || spec.ipFamilies.length === 0) spec.ipFamilies = ["IPv4"];
    return;
  }
  let families: unknown[] = Array.isArray(spec.ipFamilies) && spec.ipFamilies.length > 0 ? [...spec.ipFamilies] : [];
  if (families.length === 0) families = ips.map(familyOf).filter((f) => f !== undefined);
  const policy = spec.ipFamilyPolicy ?? (families.length > 1 || ips.length > 1 ? undefined : "SingleStack");
  if (policy === undefined) return; // validation reports the missing dual-stack policy
  spec.ipFamilyPolicy = policy;
  if (families.length === 0) families = ["IPv4"];
  if ((policy === "PreferDualStack" || policy === "RequireDualStack") && families.length === 1) {
    families.push(families[0] === "IPv4" ? "IPv6" : "IPv4");
  }
  if (families.some((f) => f !== "IPv4" && f !== "IPv6")) return;
  spec.ipFamilies = families;
  const taken = new Set<string>();
  for (let i = 0; i < families.length; i++) {
    if (typeof ips[i] === "string" && ips[i] !== "") continue;
    const ip = alloc.allocateClusterIP(families[i] as IPFamily, taken);
    taken.add(ip);
    ips[i] = ip;
  }
  spec.clusterIPs = ips;
  spec.clusterIP = ips[0];
}

/** Allocates node ports (sharing one per port number across protocols) and the health check node port. */
function defaultNodePorts(spec: ServiceSpec, alloc: ServiceAllocator): void {
  const taken = new Set<number>();
  for (const p of portsOf(spec)) if (typeof p.nodePort === "number" && p.nodePort > 0) taken.add(p.nodePort);
  if (typeof spec.healthCheckNodePort === "number" && spec.healthCheckNodePort > 0) taken.add(spec.healthCheckNodePort);
  if (needsNodePorts(spec)) {
    const byPortNumber = new Map<unknown, number>();
    for (const p of portsOf(spec)) if (typeof p.nodePort === "number" && p.nodePort > 0) byPortNumber.set(p.port, p.nodePort);
    for (const p of portsOf(spec)) {
      if (typeof p.nodePort === "number" && p.nodePort > 0) continue;
      let port = byPortNumber.get(p.port);
      if (port === undefined) {
        port = alloc.allocateNodePort(taken);
        taken.add(port);
        byPortNumber.set(p.port, port);
      }
      p.nodePort = port;
    }
  }
  if (spec.type === "LoadBalancer" && spec.externalTrafficPolicy === "Local") {
    if (spec.healthCheckNodePort === undefined || spec.healthCheckNodePort === 0) spec.healthCheckNodePort = alloc.allocateNodePort(taken);
  }
}

/** Update: keep what the server allocated when the client left it empty; drop values the new type cannot have. */
function keepAllocated(spec: ServiceSpec, old: ServiceSpec): void {
  const oldType = old.type;
  if (spec.type !== "ExternalName" && oldType !== "ExternalName") {
    if ((spec.clusterIP === undefined || spec.clusterIP === "") && (spec.clusterIPs === undefined || (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length === 0))) {
      spec.clusterIP = old.clusterIP;
      spec.clusterIPs = old.clusterIPs;
    }
    spec.ipFamilies ??= old.ipFamilies;
    spec.ipFamilyPolicy ??= old.ipFamilyPolicy;
  }
  if (spec.type === "ExternalName" && oldType !== "ExternalName") {
    if (jsonEqual(spec.clusterIPs, old.clusterIPs) || spec.clusterIPs === undefined) delete spec.clusterIPs;
    if (spec.clusterIP === old.clusterIP) delete spec.clusterIP;
    if (jsonEqual(spec.ipFamilies, old.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === old.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  const oldPorts = portsOf(old);
  if (needsNodePorts(spec)) {
    for (const p of portsOf(spec)) {
      if (p.nodePort !== undefined && p.nodePort !== 0) continue;
      const match = oldPorts.find((o) => o.port === p.port && (o.protocol ?? "TCP") === (p.protocol ?? "TCP"));
      if (match && typeof match.nodePort === "number" && match.nodePort > 0) p.nodePort = match.nodePort;
    }
  } else {
    for (const p of portsOf(spec)) {
      const match = oldPorts.find((o) => o.port === p.port && (o.protocol ?? "TCP") === (p.protocol ?? "TCP"));
      if (match && match.nodePort === p.nodePort) delete p.nodePort;
    }
  }
  const wantsHealthCheck = spec.type === "LoadBalancer" && spec.externalTrafficPolicy === "Local";
  if (wantsHealthCheck && (spec.healthCheckNodePort === undefined || spec.healthCheckNodePort === 0)) spec.healthCheckNodePort = old.healthCheckNodePort;
  if (!wantsHealthCheck && spec.healthCheckNodePort === old.healthCheckNodePort) delete spec.healthCheckNodePort;
  if (spec.type !== "LoadBalancer") {
    if (spec.allocateLoadBalancerNodePorts === old.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === old.loadBalancerClass) delete spec.loadBalancerClass;
  }
  if (spec.type !== "NodePort" && spec.type !== "LoadBalancer" && spec.externalTrafficPolicy === old.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
}

function validateIPField(field: string, value: unknown, causes: StatusCause[]): void {
  if (typeof value !== "string" || ipToBigInt(value) === undefined) causes.push(invalidValue(field, value, validIP));
}

function validatePorts(spec: ServiceSpec, causes: StatusCause[], alloc: ServiceAllocator, self: string): void {
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (ports.length === 0 && !isHeadless(spec) && spec.type !== "ExternalName") causes.push(required("spec.ports"));
  const names = new Set<string>();
  const seen = new Set<string>();
  const nodePortsSeen = new Map<string, number>();
  ports.forEach((p: unknown, i) => {
    const path = `spec.ports[${i}]`;
    if (!isPlainObject(p)) {
      causes.push(invalidValue(path, p, "must be an object"));
      return;
    }
    if (ports.length > 1 && (p.name === undefined || p.name === "")) causes.push(required(`${path}.name`));
    if (typeof p.name === "string" && p.name !== "") {
      for (const problem of nameProblems(p.name, "dns1123-label")) causes.push(invalidValue(`${path}.name`, p.name, problem));
      if (names.has(p.name)) causes.push(duplicate(`${path}.name`, p.name));
      names.add(p.name);
    }
    if (typeof p.port !== "number" || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
      causes.push(invalidValue(`${path}.port`, p.port, "must be between 1 and 65535, inclusive"));
    }
    if (!protocols.includes(p.protocol as string)) causes.push(notSupported(`${path}.protocol`, p.protocol, protocols));
    const tp = p.targetPort;
    if (typeof tp === "number") {
      if (!Number.isInteger(tp) || tp < 1 || tp > 65535) causes.push(invalidValue(`${path}.targetPort`, tp, "must be between 1 and 65535, inclusive"));
    } else if (typeof tp === "string") {
      if (tp.length > 15 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(tp) || !/[a-z]/.test(tp) || tp.includes("--")) {
        causes.push(invalidValue(`${path}.targetPort`, tp, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at most 15 characters, with at least one letter"));
      }
    } else if (tp !== undefined) {
      causes.push(invalidValue(`${path}.targetPort`, tp, "must be an integer or a port name"));
    }
    const key = `${String(p.port)}/${String(p.protocol)}`;
    if (seen.has(key)) causes.push(duplicate(path, { port: p.port, protocol: p.protocol }));
    seen.add(key);
    const np = p.nodePort;
    if (np !== undefined && np !== 0) {
      if (spec.type === "ClusterIP" || spec.type === "ExternalName") {
        causes.push(forbiddenField(`${path}.nodePort`, `may not be used when \`type\` is '${String(spec.type)}'`));
      } else if (typeof np !== "number" || !Number.isInteger(np) || np < NODE_PORT_MIN || np > NODE_PORT_MAX) {
        causes.push(invalidValue(`${path}.nodePort`, np, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`));
      } else {
        const npKey = `${np}/${String(p.protocol)}`;
        if (nodePortsSeen.has(npKey)) causes.push(duplicate(`${path}.nodePort`, np));
        nodePortsSeen.set(npKey, i);
        const owner = alloc.nodePortOwner(np);
        if (owner !== undefined && owner !== self) causes.push(invalidValue(`${path}.nodePort`, np, "provided port is already allocated"));
      }
    }
  });
}

function validateClusterIPs(spec: ServiceSpec, old: ServiceSpec | undefined, causes: StatusCause[], alloc: ServiceAllocator, self: string): void {
  if (spec.type === "ExternalName") {
    if (typeof spec.externalName !== "string" || spec.externalName === "") causes.push(required("spec.externalName"));
    else for (const p of nameProblems(spec.externalName.replace(/\.$/, ""), "dns1123-subdomain")) causes.push(invalidValue("spec.externalName", spec.externalName, p));
    return;
  }
  if (spec.ipFamilyPolicy === undefined) {
    causes.push(invalidValue("spec.ipFamilyPolicy", "SingleStack", "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
  } else if (!familyPolicies.includes(spec.ipFamilyPolicy as string)) {
    causes.push(notSupported("spec.ipFamilyPolicy", spec.ipFamilyPolicy, familyPolicies));
  }
  const families = Array.isArray(spec.ipFamilies) ? (spec.ipFamilies as unknown[]) : [];
  families.forEach((f, i) => {
    if (f !== "IPv4" && f !== "IPv6") causes.push(notSupported(`spec.ipFamilies[${i}]`, f, ["IPv4", "IPv6"]));
  });
  if (families.length === 2 && families[0] === families[1]) causes.push(duplicate("spec.ipFamilies[1]", families[1]));
  if (families.length > 2) causes.push(invalidValue("spec.ipFamilies", families, "may specify no more than one IP for each IP family"));
  if (spec.ipFamilyPolicy === "SingleStack" && families.length > 1) {
    causes.push(invalidValue("spec.ipFamilies", families, "when spec.ipFamilyPolicy is 'SingleStack', a maximum of one IP family is allowed"));
  }
  const ips = Array.isArray(spec.clusterIPs) ? (spec.clusterIPs as unknown[]) : [];
  if (typeof spec.clusterIP === "string" && spec.clusterIP !== "" && ips.length > 0 && ips[0] !== spec.clusterIP) {
    causes.push(invalidValue("spec.clusterIPs", ips, "must have the same value as spec.clusterIP"));
  }
  if (ips[0] === "None") {
    if (ips.length > 1) causes.push(invalidValue("spec.clusterIPs[1]", ips[1], "must be empty when the first IP is 'None'"));
    return;
  }
  ips.forEach((ip, i) => {
    const field = `spec.clusterIPs[${i}]`;
    if (typeof ip !== "string" || ipToBigInt(ip) === undefined) {
      causes.push(invalidValue(field, ip, validIP));
      return;
    }
    if (families[i] !== undefined && familyOf(ip) !== families[i]) {
      causes.push(invalidValue(field, ip, `expected an IP of family ${String(families[i])}`));
      return;
    }
    const oldIPs = old && Array.isArray(old.clusterIPs) ? old.clusterIPs : [];
    if (oldIPs.includes(ip)) return;
    if (!inServiceRange(ip)) {
      const family = familyOf(ip)!;
      causes.push(invalidValue(field, ip, `provided IP is not in the valid range. The range of valid IPs is ${SERVICE_CIDRS[family].text}`));
      return;
    }
    const owner = alloc.ipOwner(ip);
    if (owner !== undefined && owner !== self) causes.push(invalidValue(field, ip, "provided IP is already allocated"));
  });
  if (ips.length > 1 && familyOf(ips[0]) === familyOf(ips[1])) causes.push(invalidValue("spec.clusterIPs", ips, "may specify no more than one IP for each IP family"));
}

function validateLoadBalancerFields(spec: ServiceSpec, old: ServiceSpec | undefined, causes: StatusCause[]): void {
  const isLB = spec.type === "LoadBalancer";
  if (spec.loadBalancerIP !== undefined && spec.loadBalancerIP !== "") {
    if (!isLB) causes.push(forbiddenField("spec.loadBalancerIP", "may only be used when `type` is 'LoadBalancer'"));
    else validateIPField("spec.loadBalancerIP", spec.loadBalancerIP, causes);
  }
  if (old !== undefined && old.type === "LoadBalancer" && isLB && !jsonEqual(old.loadBalancerClass, spec.loadBalancerClass)) {
    causes.push(invalidValue("spec.loadBalancerClass", spec.loadBalancerClass ?? null, "may not change once set"));
  }
  if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null) {
    if (!isLB) causes.push(forbiddenField("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"));
    else if (typeof spec.loadBalancerClass !== "string") causes.push(invalidValue("spec.loadBalancerClass", spec.loadBalancerClass, "must be a string"));
    else for (const p of qualifiedNameProblems(spec.loadBalancerClass)) causes.push(invalidValue("spec.loadBalancerClass", spec.loadBalancerClass, p));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && !isLB) {
    causes.push(forbiddenField("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"));
  }
  const ranges = spec.loadBalancerSourceRanges;
  if (Array.isArray(ranges) && ranges.length > 0) {
    if (!isLB) causes.push(forbiddenField("spec.loadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => {
      const [ip, bits, extra] = typeof r === "string" ? r.trim().split("/") : [];
      const parsed = ip === undefined ? undefined : ipToBigInt(ip);
      const max = parsed?.family === "IPv4" ? 32 : 128;
      if (!parsed || extra !== undefined || bits === undefined || !/^\d+$/.test(bits) || Number(bits) > max) {
        causes.push(invalidValue(`spec.loadBalancerSourceRanges[${i}]`, r, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
      }
    });
  }
  const etp = spec.externalTrafficPolicy;
  if (etp !== undefined && etp !== "") {
    if (spec.type !== "NodePort" && spec.type !== "LoadBalancer") {
      causes.push(invalidValue("spec.externalTrafficPolicy", etp, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
    } else if (!trafficPolicies.includes(etp as string)) causes.push(notSupported("spec.externalTrafficPolicy", etp, trafficPolicies));
  }
  if (spec.healthCheckNodePort !== undefined && spec.healthCheckNodePort !== 0 && !(isLB && etp === "Local")) {
    causes.push(invalidValue("spec.healthCheckNodePort", spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  }
}

function validateSpec(svc: KubeObject, old: KubeObject | undefined, alloc: ServiceAllocator): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = specOf(svc);
  const oldSpec = old ? specOf({ ...old }) : undefined;
  const self = `${svc.metadata.namespace ?? ""}/${svc.metadata.name ?? ""}`;
  if (!serviceTypes.includes(spec.type as string)) causes.push(notSupported("spec.type", spec.type, serviceTypes));
  validatePorts(spec, causes, alloc, self);
  validateClusterIPs(spec, oldSpec, causes, alloc, self);
  validateLoadBalancerFields(spec, oldSpec, causes);
  if (spec.type !== "ExternalName" && !trafficPolicies.includes(spec.internalTrafficPolicy as string)) {
    causes.push(notSupported("spec.internalTrafficPolicy", spec.internalTrafficPolicy, trafficPolicies));
  }
  if (spec.sessionAffinity !== "None" && spec.sessionAffinity !== "ClientIP") {
    causes.push(notSupported("spec.sessionAffinity", spec.sessionAffinity, ["ClientIP", "None"]));
  }
  if (spec.externalIPs !== undefined) {
    if (!Array.isArray(spec.externalIPs)) causes.push(invalidValue("spec.externalIPs", spec.externalIPs, "must be a list of IP addresses"));
    else spec.externalIPs.forEach((ip, i) => validateIPField(`spec.externalIPs[${i}]`, ip, causes));
  }
  if (spec.selector !== undefined && spec.selector !== null) {
    if (!isPlainObject(spec.selector)) causes.push(invalidValue("spec.selector", spec.selector, "must be a map of label keys to values"));
  }
  if (oldSpec && spec.type !== "ExternalName" && oldSpec.type !== "ExternalName") {
    const oldIPs = Array.isArray(oldSpec.clusterIPs) ? oldSpec.clusterIPs : [];
    const newIPs = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
    if (oldIPs.length > 0 && newIPs.length > 0 && newIPs[0] !== oldIPs[0]) {
      causes.push(invalidValue("spec.clusterIPs[0]", newIPs, "may not change once set"));
    }
    const oldFamilies = Array.isArray(oldSpec.ipFamilies) ? oldSpec.ipFamilies : [];
    const newFamilies = Array.isArray(spec.ipFamilies) ? spec.ipFamilies : [];
    if (oldFamilies.length > 0 && newFamilies.length > 0 && newFamilies[0] !== oldFamilies[0]) {
      causes.push(invalidValue("spec.ipFamilies[0]", newFamilies[0], "may not change once set"));
    }
  }
  return causes;
}

function validateStatus(svc: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const status = svc.status;
  if (status === undefined) return causes;
  if (!isPlainObject(status)) return [invalidValue("status", status, "must be an object")];
  const lb = status.loadBalancer;
  if (lb === undefined) return causes;
  if (!isPlainObject(lb)) return [invalidValue("status.loadBalancer", lb, "must be an object")];
  const ingress = lb.ingress;
  if (ingress === undefined || ingress === null) return causes;
  if (!Array.isArray(ingress)) return [invalidValue("status.loadBalancer.ingress", ingress, "must be a list")];
  const spec = specOf(svc);
  if (spec.type !== "LoadBalancer" && ingress.length > 0) {
    return [forbiddenField("status.loadBalancer.ingress", "may only be used when `spec.type` is 'LoadBalancer'")];
  }
  ingress.forEach((ing: unknown, i) => {
    const path = `status.loadBalancer.ingress[${i}]`;
    if (!isPlainObject(ing)) {
      causes.push(invalidValue(path, ing, "must be an object"));
      return;
    }
    const hasIP = typeof ing.ip === "string" && ing.ip !== "";
    if (ing.ip !== undefined && ing.ip !== "") validateIPField(`${path}.ip`, ing.ip, causes);
    if (ing.ipMode !== undefined && ing.ipMode !== null) {
      if (!hasIP) causes.push(forbiddenField(`${path}.ipMode`, "may not be specified when `ip` is not set"));
      else if (!ipModes.includes(ing.ipMode as string)) causes.push(notSupported(`${path}.ipMode`, ing.ipMode, ipModes));
    } else if (hasIP) {
      causes.push(required(`${path}.ipMode`, "must be specified when `ip` is set"));
    }
    if (typeof ing.hostname === "string" && ing.hostname !== "") {
      for (const p of nameProblems(ing.hostname, "dns1123-subdomain")) causes.push(invalidValue(`${path}.hostname`, ing.hostname, p));
      if (ipToBigInt(ing.hostname)) causes.push(invalidValue(`${path}.hostname`, ing.hostname, "must be a DNS name, not an IP address"));
    }
  });
  return causes;
}

/** Defaults ipMode to VIP for ingress entries with an IP (the LoadBalancerIPMode behaviour of 1.30+). */
function defaultStatus(svc: KubeObject): void {
  if (!isPlainObject(svc.status)) return;
  const lb = svc.status.loadBalancer;
  if (!isPlainObject(lb) || !Array.isArray(lb.ingress)) return;
  svc.status = {
    ...svc.status,
    loadBalancer: {
      ...lb,
      ingress: lb.ingress.map((ing: unknown) =>
        isPlainObject(ing) && typeof ing.ip === "string" && ing.ip !== "" && (ing.ipMode === undefined || ing.ipMode === null) ? { ...ing, ipMode: "VIP" } : ing,
      ),
    },
  };
}

function canonicalizeIPs(spec: ServiceSpec): void {
  if (Array.isArray(spec.clusterIPs)) spec.clusterIPs = spec.clusterIPs.map((ip) => (typeof ip === "string" && ip !== "None" && ipToBigInt(ip) ? canonicalIP(ip) : ip));
  if (typeof spec.clusterIP === "string" && spec.clusterIP !== "None" && ipToBigInt(spec.clusterIP)) spec.clusterIP = canonicalIP(spec.clusterIP);
}

/** The Service kind's strategy (DNS-1035 names, server-owned status, allocation and validation). */
export function serviceStrategy(alloc: ServiceAllocator): KindStrategy {
  return {
    nameRule: "dns1035-label",
    statusOnCreate: () => ({ loadBalancer: {} }),
    prepareForCreate(svc) {
      const spec = specOf(svc);
      applyBasicDefaults(spec);
      canonicalizeIPs(spec);
      if (validatePortsCheap(spec)) {
        defaultIPs(spec, alloc);
        defaultNodePorts(spec, alloc);
      }
    },
    prepareForUpdate(svc, old) {
      const spec = specOf(svc);
      const oldSpec = (isPlainObject(old.spec) ? old.spec : {}) as ServiceSpec;
      applyBasicDefaults(spec);
      canonicalizeIPs(spec);
      keepAllocated(spec, oldSpec);
      if (validatePortsCheap(spec)) {
        defaultIPs(spec, alloc);
        defaultNodePorts(spec, alloc);
      }
    },
    prepareForStatusUpdate: defaultStatus,
    validate: (svc, old) => validateSpec(svc, old, alloc),
    validateStatus: (svc) => validateStatus(svc),
  };
}

/** True when ports have the JSON types allocation relies on (otherwise validation reports them). */
function validatePortsCheap(spec: ServiceSpec): boolean {
  return spec.ports === undefined || (Array.isArray(spec.ports) && spec.ports.every(isPlainObject));
}
