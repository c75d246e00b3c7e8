import { splitServiceKey as splitKey } from "../../shared/service/service-key.ts";
import { METALLB_GROUP, METALLB_VERSION } from "../../shared/kube/metallb-resources.ts";
import { asObject, asString, asStringMap, dropUndefined } from "../../shared/kube/objects/object-meta.ts";
import type { IpPlan } from "../election/announce-plan.ts";

/**
 * ServiceL2Status, MetalLB's per-Service record of which node announces a layer-2 Service
 * (`kubectl get servicel2statuses -n metallb-system`). This module is the pure part: it turns what
 * this node announces and the objects that exist into a plan of API writes. The writes themselves,
 * rate-limited, are in service-l2-status-writer.ts.
 *
 * MetalLB's shape (api/v1beta1/servicel2status_types.go, internal/k8s/controllers/layer2_status_controller.go):
 * `metallb.io/v1beta1` ServiceL2Status in the speaker's namespace, `metadata.generateName: l2-`, labels
 * `metallb.io/node`, `metallb.io/service-name`, `metallb.io/service-namespace`, owned by the speaker
 * Pod, `spec: {}`, and `status: { node, serviceName, serviceNamespace, interfaces: [{name}] }` written
 * through the status subresource. `node`, `serviceName` and `serviceNamespace` are immutable, so a
 * Service that moves to another node gets a new object.
 */

/** The API coordinates of ServiceL2Status. */
export const serviceL2StatusResource = { group: METALLB_GROUP, version: METALLB_VERSION, plural: "servicel2statuses", kind: "ServiceL2Status" } as const;

/** The announcing node. */
export const nodeLabel = "metallb.io/node";
export const serviceNameLabel = "metallb.io/service-name";
export const serviceNamespaceLabel = "metallb.io/service-namespace";

/** `status` of a ServiceL2Status, as MetalLB's MetalLBServiceL2Status. */
export interface ServiceL2StatusFields {
  node?: string;
  serviceName?: string;
  serviceNamespace?: string;
  interfaces?: readonly { name?: string }[];
}

/** An existing ServiceL2Status: only the fields the plan reads. */
export interface ObservedL2Status {
  name: string;
  resourceVersion?: string;
  labels: Readonly<Record<string, string>>;
  status: ServiceL2StatusFields;
}

/** A Service this node announces now. */
export interface AnnouncedL2Service {
  /**
   * Interfaces its IPs are announced on, written to `status.interfaces`. MetalLB leaves the list
   * empty when no L2Advertisement restricts the interfaces.
   */
  interfaces: readonly string[];
  /**
   * Other nodes that announce other IPs of this Service in this node's view (a dual-stack or
   * multi-IP Service whose IPs elect different nodes). Their objects are kept: without this, two
   * rightful announcers would delete each other's object forever.
   */
  alsoAnnouncedBy?: readonly string[];
}

/** One API write. `service` is the Service's "namespace/name". */
export type L2StatusAction =
  | { verb: "create"; service: string }
  | { verb: "updateStatus"; service: string; name: string; status: ServiceL2StatusFields }
  | { verb: "delete"; service: string; name: string; reason: string };

/** The owner reference target: the speaker Pod (env POD_NAME, POD_UID). */
export interface SpeakerPodRef {
  name: string;
  uid: string;
}

/** The body of a create: status is left out, the API server would drop it (status subresource). */
export interface ServiceL2StatusBody {
  apiVersion: string;
  kind: string;
  metadata: {
    generateName: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string }[];
  };
  spec: Record<string, never>;
}

/**
 * The create body for `service` ("namespace/name") announced by `node`, owned by the speaker Pod
 * when it is known (without an owner the object outlives the Pod; the next announcer removes it).
 *
 * @example
 * serviceL2StatusBody("metallb-system", "node-1", "default/web", { name: "speaker-x7k2p", uid: "5f0c…" });
 * // { apiVersion: "metallb.io/v1beta1", kind: "ServiceL2Status", metadata: { generateName: "l2-", labels: { "metallb.io/node": "node-1", … } }, spec: {} }
 */
export function serviceL2StatusBody(namespace: string, node: string, service: string, pod?: SpeakerPodRef): ServiceL2StatusBody {
  const svc = splitKey(service);
  if (!svc) throw new Error(`service key "${service}" is not "namespace/name"`);
  const body: ServiceL2StatusBody = {
    apiVersion: `${serviceL2StatusResource.group}/${serviceL2StatusResource.version}`,
    kind: serviceL2StatusResource.kind,
    metadata: {
      generateName: "l2-",
      namespace,
      labels: { [nodeLabel]: node, [serviceNameLabel]: svc.name, [serviceNamespaceLabel]: svc.namespace },
    },
    spec: {},
  };
  if (pod?.name && pod.uid) body.metadata.ownerReferences = [{ apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid }];
  return body;
}

/** The status `node` writes for `service`: interfaces sorted, without duplicates. */
export function desiredL2Status(node: string, service: string, interfaces: readonly string[]): ServiceL2StatusFields {
  const svc = splitKey(service)!;
  const status: ServiceL2StatusFields = { node, serviceName: svc.name, serviceNamespace: svc.namespace };
  const names = [...new Set(interfaces)].sort();
  if (names.length > 0) status.interfaces = names.map((name) => ({ name }));
  return status;
}

/**
 * A ServiceL2Status as the writer's informer caches it: its name, resourceVersion, deletion mark,
 * the three labels `serviceOfL2Status` and the plan read, and `status` (at 10,000 Services this
 * cache holds 10,000 objects; their ownerReferences, managedFields and spec are dropped).
 */
export interface L2StatusObject {
  readonly metadata: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly deletionTimestamp?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly status?: ServiceL2StatusFields;
}

const keptLabels = [nodeLabel, serviceNameLabel, serviceNamespaceLabel];

/**
 * Projects a ServiceL2Status's JSON (a watch event, a list item or a write's response) to {@link L2StatusObject}.
 *
 * @example
 * projectL2Status({ metadata: { name: "l2-x7k2p", managedFields: [...], labels: { "metallb.io/node": "node-1", app: "x" } }, status: { node: "node-1" } });
 * // { metadata: { name: "l2-x7k2p", labels: { "metallb.io/node": "node-1" } }, status: { node: "node-1" } }
 */
export function projectL2Status(raw: unknown): L2StatusObject {
  const o = asObject(raw);
  const m = asObject(o.metadata);
  const metadata = dropUndefined({
    name: asString(m.name),
    namespace: asString(m.namespace),
    resourceVersion: asString(m.resourceVersion),
    deletionTimestamp: asString(m.deletionTimestamp),
    labels: asStringMap(m.labels, (key) => keptLabels.includes(key)),
  });
  if (o.status === null || typeof o.status !== "object") return { metadata };
  const s = asObject(o.status);
  const status: ServiceL2StatusFields = dropUndefined({
    node: asString(s.node),
    serviceName: asString(s.serviceName),
    serviceNamespace: asString(s.serviceNamespace),
    interfaces: Array.isArray(s.interfaces) ? s.interfaces.map((i) => dropUndefined({ name: asString(asObject(i).name) })) : undefined,
  });
  return { metadata, status };
}

const noLabels: Readonly<Record<string, string>> = {};
const noStatus: ServiceL2StatusFields = {};

/**
 * The fields the plan reads of a projected object ({@link projectL2Status}), sharing its labels and
 * status; undefined for objects without a name and for objects being deleted.
 */
export function observeL2Status(obj: L2StatusObject): ObservedL2Status | undefined {
  const { name, resourceVersion, deletionTimestamp, labels } = obj.metadata;
  if (name === undefined || name === "" || deletionTimestamp) return undefined;
  return { name, resourceVersion, labels: labels ?? noLabels, status: obj.status ?? noStatus };
}

/** The Service ("namespace/name") an object is about: from its labels, else its status; undefined if neither names one. */
export function serviceOfL2Status(o: ObservedL2Status): string | undefined {
  const name = o.labels[serviceNameLabel] ?? o.status.serviceName;
  const namespace = o.labels[serviceNamespaceLabel] ?? o.status.serviceNamespace;
  return name && namespace ? `${namespace}/${name}` : undefined;
}

function nodeOf(o: ObservedL2Status): string | undefined {
  return o.labels[nodeLabel] ?? o.status.node;
}

function interfaceNames(status: ServiceL2StatusFields): string[] {
  return [...new Set((status.interfaces ?? []).map((i) => i.name ?? ""))].sort();
}

function sameStatus(observed: ServiceL2StatusFields, desired: ServiceL2StatusFields): boolean {
  if (observed.node !== desired.node || observed.serviceName !== desired.serviceName || observed.serviceNamespace !== desired.serviceNamespace) return false;
  const a = interfaceNames(observed);
  const b = interfaceNames(desired);
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** The immutable status field `observed` has set to something other than `desired`'s, if any. */
function immutableMismatch(observed: ServiceL2StatusFields, desired: ServiceL2StatusFields): string | undefined {
  for (const field of ["node", "serviceName", "serviceNamespace"] as const) {
    const value = observed[field];
    if (value !== undefined && value !== "" && value !== desired[field]) return `status.${field} is "${value}", which cannot change`;
  }
  return undefined;
}

/**
 * The writes that make one Service's ServiceL2Status objects match what `self` announces, given
 * `want` (undefined: `self` does not announce it) and the existing objects about that Service:
 * - announced, without an object of ours: create (its status comes next, once the created object
 *   is observed: two writes);
 * - our object whose status differs (interfaces changed, or just created): update status;
 * - our object for a Service we no longer announce (gone, or moved to another node): delete;
 * - another node's object for a Service we announce: delete, since that node may be dead and
 *   unable to clean up; nodes in `alsoAnnouncedBy` are spared;
 * - several objects of ours: keep one (matching status first, then the lowest name), delete the others.
 * Deletes come first, then the create or status update. At steady state the plan is empty.
 *
 * @example
 * planServiceL2Status("node-1", "default/web", { interfaces: ["eth0"] }, [
 *   { name: "l2-abcde", labels: { "metallb.io/node": "node-2", "metallb.io/service-name": "web", "metallb.io/service-namespace": "default" }, status: {} },
 * ]);
 * // [{ verb: "delete", service: "default/web", name: "l2-abcde", reason: "announced by node-1 now, was node-2" },
 * //  { verb: "create", service: "default/web" }]
 */
export function planServiceL2Status(
  self: string,
  service: string,
  want: AnnouncedL2Service | undefined,
  objects: readonly ObservedL2Status[],
): L2StatusAction[] {
  const sorted = [...objects].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const actions: L2StatusAction[] = [];
  if (want === undefined || !splitKey(service)) {
    for (const o of sorted) if (nodeOf(o) === self) actions.push({ verb: "delete", service, name: o.name, reason: `not announced by ${self}` });
    return actions;
  }
  const desired = desiredL2Status(self, service, want.interfaces);
  const spared = new Set(want.alsoAnnouncedBy ?? []);
  const ours: ObservedL2Status[] = [];
  for (const o of sorted) {
    const node = nodeOf(o);
    if (node === self) {
      const mismatch = immutableMismatch(o.status, desired);
      if (mismatch) actions.push({ verb: "delete", service, name: o.name, reason: mismatch });
      else ours.push(o);
    } else if (node === undefined || !spared.has(node)) {
      actions.push({ verb: "delete", service, name: o.name, reason: `announced by ${self} now, was ${node ?? "no node"}` });
    }
  }
  const keep = ours.find((o) => sameStatus(o.status, desired)) ?? ours[0];
  for (const o of ours) if (o !== keep) actions.push({ verb: "delete", service, name: o.name, reason: `duplicate of ${keep!.name}` });
  if (!keep) actions.push({ verb: "create", service });
  else if (!sameStatus(keep.status, desired)) actions.push({ verb: "updateStatus", service, name: keep.name, status: desired });
  return actions;
}

/**
 * `planServiceL2Status` over every Service: the announced ones in the map's order, then those
 * only objects name. Objects naming no Service are left alone.
 *
 * @example
 * planServiceL2Statuses("node-1", new Map([["default/web", { interfaces: [] }]]), []);
 * // [{ verb: "create", service: "default/web" }]
 */
export function planServiceL2Statuses(
  self: string,
  announced: ReadonlyMap<string, AnnouncedL2Service>,
  observed: readonly ObservedL2Status[],
): L2StatusAction[] {
  const byService = new Map<string, ObservedL2Status[]>();
  for (const o of observed) {
    const service = serviceOfL2Status(o);
    if (service === undefined) continue;
    let list = byService.get(service);
    if (!list) byService.set(service, (list = []));
    list.push(o);
  }
  const actions: L2StatusAction[] = [];
  for (const [service, want] of announced) actions.push(...planServiceL2Status(self, service, want, byService.get(service) ?? []));
  for (const [service, objects] of byService) if (!announced.has(service)) actions.push(...planServiceL2Status(self, service, undefined, objects));
  return actions;
}

/**
 * The Services `self` announces, from the IPs it announces now (after the takeover gate) and the
 * election's plans: the input of `ServiceL2StatusWriter.sync`. A Service is announced when any of
 * its IPs is; another node that owns another of its IPs is `alsoAnnouncedBy`. Interfaces follow
 * MetalLB: the union of the `interfaces` of the L2Advertisements that apply, and none (the list is
 * left out) when one of them does not restrict interfaces or there is no advertisement policy.
 *
 * @example
 * announcedL2Services("node-1", gated.announce, desired.plans);
 * // Map { "default/web" => { interfaces: [], alsoAnnouncedBy: [] } }
 */
export function announcedL2Services(self: string, announce: ReadonlySet<string>, plans: ReadonlyMap<string, IpPlan>): Map<string, AnnouncedL2Service> {
  /** undefined: every interface. */
  const interfaces = new Map<string, Set<string> | undefined>();
  for (const ip of announce) {
    for (const svc of plans.get(ip)?.services ?? []) {
      if (svc.owner !== self) continue;
      const known = interfaces.has(svc.key);
      let set = interfaces.get(svc.key);
      if (known && set === undefined) continue;
      const ads = svc.advertisements;
      if (ads === undefined || ads.some((a) => a.interfaces.length === 0)) {
        interfaces.set(svc.key, undefined);
        continue;
      }
      if (!set) interfaces.set(svc.key, (set = new Set()));
      for (const a of ads) for (const name of a.interfaces) set.add(name);
    }
  }
  const others = new Map<string, Set<string>>();
  for (const plan of plans.values()) {
    for (const svc of plan.services) {
      if (!interfaces.has(svc.key) || svc.owner === undefined || svc.owner === self) continue;
      let set = others.get(svc.key);
      if (!set) others.set(svc.key, (set = new Set()));
      set.add(svc.owner);
    }
  }
  const out = new Map<string, AnnouncedL2Service>();
  for (const [key, names] of interfaces) out.set(key, { interfaces: sortedList(names), alsoAnnouncedBy: sortedList(others.get(key)) });
  return out;
}

const emptyList: readonly string[] = [];

/** The set's members sorted; one shared empty list for the usual case (10,000 Services, two lists each). */
function sortedList(set: ReadonlySet<string> | undefined): readonly string[] {
  return set && set.size > 0 ? [...set].sort() : emptyList;
}
