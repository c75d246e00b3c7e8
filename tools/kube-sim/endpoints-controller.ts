/**
 * A small endpoints controller: for every Service with a selector it keeps discovery.k8s.io/v1 EndpointSlices
 * (`<svc>-<suffix>`, labelled `kubernetes.io/service-name` and managed-by `endpointslice-controller.k8s.io`, one
 * per address family and target-port mapping) and the core/v1 Endpoints object in step with the matching Pods:
 * addresses from status.podIPs, nodeName, targetRef, and ready/serving/terminating from the Pod's Ready condition
 * and deletionTimestamp. Changes are batched per tick and written only when the result differs.
 *
 * @example
 * const stop = runEndpointsController(state);
 */
import type { ClusterState } from "./cluster-state.ts";
import { isPlainObject, jsonEqual } from "./json-value.ts";
import type { KubeObject, ResourceType } from "./resources.ts";
import { matchLabelsSelector } from "./selectors.ts";
import type { StoredObject } from "./store.ts";

/** The managed-by label value of slices this controller owns. */
export const ENDPOINTSLICE_CONTROLLER = "endpointslice-controller.k8s.io";
const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";

interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  nodeName?: string;
  targetRef: { kind: "Pod"; namespace: string; name: string; uid: string };
}

interface DesiredSlice {
  addressType: "IPv4" | "IPv6";
  ports: SlicePort[] | null;
  endpoints: SliceEndpoint[] | null;
}

interface ServiceView {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string>;
  selector: Record<string, string>;
  ports: { name?: string; port: number; protocol?: string; targetPort?: number | string; appProtocol?: string }[];
  families: ("IPv4" | "IPv6")[];
  publishNotReady: boolean;
}

function serviceView(svc: KubeObject): ServiceView | undefined {
  const spec = isPlainObject(svc.spec) ? svc.spec : {};
  if (!isPlainObject(spec.selector) || Object.keys(spec.selector).length === 0 || spec.type === "ExternalName") return undefined;
  const families = (Array.isArray(spec.ipFamilies) && spec.ipFamilies.length > 0 ? spec.ipFamilies : ["IPv4"]).filter(
    (f): f is "IPv4" | "IPv6" => f === "IPv4" || f === "IPv6",
  );
  return {
    name: svc.metadata.name ?? "",
    namespace: svc.metadata.namespace ?? "",
    uid: svc.metadata.uid ?? "",
    labels: svc.metadata.labels ?? {},
    selector: spec.selector as Record<string, string>,
    ports: (Array.isArray(spec.ports) ? spec.ports : []).filter(isPlainObject) as ServiceView["ports"],
    families,
    publishNotReady: spec.publishNotReadyAddresses === true,
  };
}

/** The parts of a Service that decide its endpoints (a status-only change leaves them equal). */
function endpointInputs(svc: KubeObject | undefined): unknown {
  if (!svc) return undefined;
  const spec = isPlainObject(svc.spec) ? svc.spec : {};
  return [spec.selector, spec.ports, spec.ipFamilies, spec.type, spec.publishNotReadyAddresses, svc.metadata.labels, svc.metadata.uid];
}

interface PodInfo {
  name: string;
  uid: string;
  ips: string[];
  nodeName?: string;
  ready: boolean;
  terminating: boolean;
  containerPorts: { name?: string; containerPort: number; protocol?: string }[];
}

function podInfo(pod: KubeObject): PodInfo | undefined {
  const status = isPlainObject(pod.status) ? pod.status : {};
  if (status.phase === "Succeeded" || status.phase === "Failed") return undefined;
  const ips: string[] = [];
  if (Array.isArray(status.podIPs)) for (const p of status.podIPs) if (isPlainObject(p) && typeof p.ip === "string" && p.ip !== "") ips.push(p.ip);
  if (ips.length === 0 && typeof status.podIP === "string" && status.podIP !== "") ips.push(status.podIP);
  if (ips.length === 0) return undefined;
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  const ready = conditions.some((c: unknown) => isPlainObject(c) && c.type === "Ready" && c.status === "True");
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  const containerPorts: PodInfo["containerPorts"] = [];
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) {
    if (!isPlainObject(c) || !Array.isArray(c.ports)) continue;
    for (const p of c.ports) if (isPlainObject(p) && typeof p.containerPort === "number") containerPorts.push(p as PodInfo["containerPorts"][number]);
  }
  return {
    name: pod.metadata.name ?? "",
    uid: pod.metadata.uid ?? "",
    ips,
    nodeName: typeof spec.nodeName === "string" && spec.nodeName !== "" ? spec.nodeName : undefined,
    ready,
    terminating: pod.metadata.deletionTimestamp !== undefined,
    containerPorts,
  };
}

function familyOf(ip: string): "IPv4" | "IPv6" {
  return ip.includes(":") ? "IPv6" : "IPv4";
}

/** The service ports resolved against one pod (named target ports looked up in its containers). */
function resolvePorts(svc: ServiceView, pod: PodInfo): SlicePort[] {
  const out: SlicePort[] = [];
  for (const p of svc.ports) {
    const protocol = p.protocol ?? "TCP";
    let port: number | undefined;
    if (typeof p.targetPort === "number") port = p.targetPort;
    else if (typeof p.targetPort === "string" && p.targetPort !== "") {
      port = pod.containerPorts.find((c) => c.name === p.targetPort && (c.protocol ?? "TCP") === protocol)?.containerPort;
    } else port = p.port;
    if (port === undefined) continue;
    const sp: SlicePort = { name: p.name ?? "", port, protocol };
    if (p.appProtocol !== undefined) sp.appProtocol = p.appProtocol;
    out.push(sp);
  }
  return out;
}

/** The slices a Service should have: one per (family, port mapping); a placeholder per family when empty. */
function desiredSlices(svc: ServiceView, pods: PodInfo[]): DesiredSlice[] {
  const groups = new Map<string, DesiredSlice>();
  for (const pod of pods) {
    const ports = resolvePorts(svc, pod);
    for (const family of svc.families) {
      const ip = pod.ips.find((a) => familyOf(a) === family);
      if (!ip) continue;
      const key = `${family}|${JSON.stringify(ports)}`;
      let slice = groups.get(key);
      if (!slice) {
        slice = { addressType: family, ports, endpoints: [] };
        groups.set(key, slice);
      }
      const serving = pod.ready || svc.publishNotReady;
      const endpoint: SliceEndpoint = {
        addresses: [ip],
        conditions: { ready: serving && !pod.terminating, serving, terminating: pod.terminating },
        targetRef: { kind: "Pod", namespace: svc.namespace, name: pod.name, uid: pod.uid },
      };
      if (pod.nodeName !== undefined) endpoint.nodeName = pod.nodeName;
      slice.endpoints!.push(endpoint);
    }
  }
  for (const family of svc.families) {
    if (![...groups.values()].some((s) => s.addressType === family)) {
      groups.set(`${family}|placeholder`, { addressType: family, ports: null, endpoints: null });
    }
  }
  for (const s of groups.values()) s.endpoints?.sort((a, b) => (a.targetRef.name < b.targetRef.name ? -1 : a.targetRef.name > b.targetRef.name ? 1 : 0));
  return [...groups.values()];
}

/** The core/v1 Endpoints subsets for the same pods (family of the Service's primary IP). */
function desiredSubsets(svc: ServiceView, pods: PodInfo[]): unknown[] | undefined {
  const family = svc.families[0] ?? "IPv4";
  const subsets = new Map<string, { addresses: unknown[]; notReadyAddresses: unknown[]; ports: unknown[] }>();
  for (const pod of pods) {
    if (pod.terminating && !svc.publishNotReady) continue;
    const ip = pod.ips.find((a) => familyOf(a) === family);
    if (!ip) continue;
    const ports = resolvePorts(svc, pod).map((p) => {
      const out: Record<string, unknown> = { port: p.port, protocol: p.protocol };
      if (p.name !== "") out.name = p.name;
      if (p.appProtocol !== undefined) out.appProtocol = p.appProtocol;
      return out;
    });
    const key = JSON.stringify(ports);
    let subset = subsets.get(key);
    if (!subset) {
      subset = { addresses: [], notReadyAddresses: [], ports };
      subsets.set(key, subset);
    }
    const address: Record<string, unknown> = { ip, targetRef: { kind: "Pod", namespace: svc.namespace, name: pod.name, uid: pod.uid } };
    if (pod.nodeName !== undefined) address.nodeName = pod.nodeName;
    (pod.ready || svc.publishNotReady ? subset.addresses : subset.notReadyAddresses).push(address);
  }
  if (subsets.size === 0) return undefined;
  return [...subsets.values()].map((s) => {
    const out: Record<string, unknown> = { ports: s.ports };
    if (s.addresses.length > 0) out.addresses = s.addresses;
    if (s.notReadyAddresses.length > 0) out.notReadyAddresses = s.notReadyAddresses;
    return out;
  });
}

function ownerReference(svc: ServiceView): unknown {
  return { apiVersion: "v1", kind: "Service", name: svc.name, uid: svc.uid, controller: true, blockOwnerDeletion: true };
}

/** Starts the controller; returns the function that stops it. */
export function runEndpointsController(state: ClusterState): () => void {
  const find = (group: string, plural: string): ResourceType => {
    const t = state.registry.all().find((r) => r.group === group && r.plural === plural);
    if (!t) throw new Error(`the ${plural}.${group} type is missing from the built-in resources`);
    return t;
  };
  const servicesType = find("", "services");
  const podsType = find("", "pods");
  const slicesType = find("discovery.k8s.io", "endpointslices");
  const endpointsType = find("", "endpoints");

  /** namespace → service name → selector, for services that have one. */
  const selectors = new Map<string, Map<string, (labels: Readonly<Record<string, string>> | undefined) => boolean>>();
  const dirty = new Set<string>();
  let scheduled: NodeJS.Immediate | undefined;
  let stopped = false;

  const markDirty = (ns: string, name: string) => {
    dirty.add(`${ns}/${name}`);
    scheduled ??= setImmediate(flush);
  };

  /** "ns/service" → names of the managed slices labelled for it. */
  const sliceIndex = new Map<string, Set<string>>();
  let writing = false;

  const slicesOf = (ns: string, name: string): StoredObject[] => {
    const out: StoredObject[] = [];
    for (const sliceName of sliceIndex.get(`${ns}/${name}`) ?? []) {
      const s = state.find(slicesType, ns, sliceName);
      if (s) out.push(s);
    }
    return out;
  };

  const syncSlices = (svc: ServiceView, pods: PodInfo[]) => {
    const desired = desiredSlices(svc, pods);
    const existing = slicesOf(svc.namespace, svc.name);
    const labels = { ...svc.labels, [SERVICE_NAME_LABEL]: svc.name, [MANAGED_BY_LABEL]: ENDPOINTSLICE_CONTROLLER };
    const unused = [...existing];
    const body = (d: DesiredSlice, meta: Record<string, unknown>) => ({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { ...meta, labels, ownerReferences: [ownerReference(svc)] },
      addressType: d.addressType,
      endpoints: d.endpoints,
      ports: d.ports,
    });
    const leftover: DesiredSlice[] = [];
    for (const d of desired) {
      // Reuse a slice of the same family and port mapping; an identical one needs no write.
      const i = unused.findIndex((s) => s.object.addressType === d.addressType && jsonEqual(s.object.ports ?? null, d.ports));
      if (i < 0) {
        leftover.push(d);
        continue;
      }
      const [slice] = unused.splice(i, 1);
      const o = slice.object;
      if (jsonEqual(o.endpoints ?? null, d.endpoints) && jsonEqual(o.metadata.labels, labels)) continue;
      state.update(slicesType, svc.namespace, o.metadata.name!, body(d, { ...o.metadata }));
    }
    for (const d of leftover) {
      const reuse = unused.find((s) => s.object.addressType === d.addressType);
      if (reuse) {
        unused.splice(unused.indexOf(reuse), 1);
        state.update(slicesType, svc.namespace, reuse.object.metadata.name!, body(d, { ...reuse.object.metadata }));
      } else {
        state.create(slicesType, svc.namespace, body(d, { generateName: `${svc.name}-`, namespace: svc.namespace }));
      }
    }
    for (const s of unused) state.delete(slicesType, svc.namespace, s.object.metadata.name!);
  };

  const syncEndpoints = (svc: ServiceView, pods: PodInfo[]) => {
    const subsets = desiredSubsets(svc, pods);
    const current = state.find(endpointsType, svc.namespace, svc.name);
    const desired: KubeObject = {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: svc.name, namespace: svc.namespace, labels: { ...svc.labels } },
    };
    if (subsets !== undefined) desired.subsets = subsets;
    if (!current) {
      state.create(endpointsType, svc.namespace, desired);
      return;
    }
    if (jsonEqual(current.object.subsets, desired.subsets) && jsonEqual(current.object.metadata.labels ?? {}, desired.metadata.labels)) return;
    state.update(endpointsType, svc.namespace, svc.name, { ...desired, metadata: { ...current.object.metadata, labels: desired.metadata.labels } });
  };

  const sync = (ns: string, name: string) => {
    const stored = state.find(servicesType, ns, name);
    const svc = stored ? serviceView(stored.object) : undefined;
    if (!svc) {
      for (const s of slicesOf(ns, name)) state.delete(slicesType, ns, s.object.metadata.name!);
      if (!stored && state.find(endpointsType, ns, name)) state.delete(endpointsType, ns, name);
      return;
    }
    const match = matchLabelsSelector(svc.selector);
    const pods: PodInfo[] = [];
    for (const p of state.list(podsType, ns)) {
      if (!match(p.object.metadata.labels)) continue;
      const info = podInfo(p.object);
      if (info) pods.push(info);
    }
    syncSlices(svc, pods);
    syncEndpoints(svc, pods);
  };

  const flush = () => {
    scheduled = undefined;
    if (stopped) return;
    const keys = [...dirty];
    dirty.clear();
    writing = true;
    try {
      for (const key of keys) {
        const slash = key.indexOf("/");
        try {
          sync(key.slice(0, slash), key.slice(slash + 1));
        } catch {
          // A write refused now (e.g. the namespace is terminating) is retried by the next change of the Service.
        }
      }
    } finally {
      writing = false;
    }
  };

  const unsubscribeServices = state.store.subscribe("/services", (e) => {
    const ns = e.namespace;
    const byNs = selectors.get(ns) ?? new Map();
    const view = e.type === "DELETED" ? undefined : serviceView(e.current.object);
    if (view) {
      byNs.set(e.name, matchLabelsSelector(view.selector));
      selectors.set(ns, byNs);
    } else {
      byNs.delete(e.name);
      if (byNs.size === 0) selectors.delete(ns);
    }
    const before = e.type === "ADDED" ? undefined : e.previous?.object;
    const after = e.type === "DELETED" ? undefined : e.current.object;
    if (!jsonEqual(endpointInputs(before), endpointInputs(after))) markDirty(ns, e.name);
  });

  const unsubscribePods = state.store.subscribe("/pods", (e) => {
    const byNs = selectors.get(e.namespace);
    if (!byNs) return;
    const labelsNow = e.current.object.metadata.labels;
    const labelsBefore = e.previous?.object.metadata.labels;
    for (const [name, match] of byNs) {
      if (match(labelsNow) || (labelsBefore !== undefined && match(labelsBefore))) markDirty(e.namespace, name);
    }
  });

  const owningService = (o: KubeObject | undefined): string | undefined => {
    const labels = o?.metadata.labels ?? {};
    return labels[MANAGED_BY_LABEL] === ENDPOINTSLICE_CONTROLLER ? labels[SERVICE_NAME_LABEL] : undefined;
  };
  const unsubscribeSlices = state.store.subscribe("discovery.k8s.io/endpointslices", (e) => {
    const before = e.type === "ADDED" ? undefined : owningService(e.previous?.object);
    const after = e.type === "DELETED" ? undefined : owningService(e.current.object);
    if (before !== undefined && before !== after) {
      const set = sliceIndex.get(`${e.namespace}/${before}`);
      set?.delete(e.name);
      if (set?.size === 0) sliceIndex.delete(`${e.namespace}/${before}`);
    }
    if (after !== undefined) {
      const key = `${e.namespace}/${after}`;
      const set = sliceIndex.get(key) ?? new Set<string>();
      set.add(e.name);
      sliceIndex.set(key, set);
    }
    // Someone else changed or removed a managed slice: put it back in shape.
    const service = before ?? after;
    if (!writing && service !== undefined) markDirty(e.namespace, service);
  });

  return () => {
    stopped = true;
    unsubscribeServices();
    unsubscribePods();
    unsubscribeSlices();
    if (scheduled) clearImmediate(scheduled);
  };
}
