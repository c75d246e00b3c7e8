/**
 * Per-kind Table columns and cells, ported from kube-apiserver's printers (pkg/printers/internalversion). Every
 * column is always filled, as the server does; columns with `priority: 1` are the ones kubectl shows only with
 * `-o wide`. Column names are as the server sends them; kubectl prints them upper-cased.
 *
 * @example
 * const p = printerFor("Service");
 * p.columns.map((c) => c.name); // ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"]
 * p.cells(service, Date.now()); // ["web", "LoadBalancer", "10.96.0.10", "192.0.2.1", "80:31234/TCP", "5s", "app=web"]
 */
import { ageSince } from "./human-duration.ts";
import { isPlainObject } from "./json-value.ts";
import type { KubeObject } from "./resources.ts";

/** A meta.k8s.io/v1 TableColumnDefinition. */
export interface ColumnDefinition {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  format: string;
  description: string;
  priority: number;
}

/** The columns of one kind and how to fill them for an object. */
export interface Printer {
  columns: ColumnDefinition[];
  cells(obj: KubeObject, now: number): unknown[];
}

type Json = Record<string, unknown>;

const col = (name: string, description: string, extra: Partial<ColumnDefinition> = {}): ColumnDefinition => ({
  name,
  type: "string",
  format: "",
  description,
  priority: 0,
  ...extra,
});
const wide = (name: string, description: string, extra: Partial<ColumnDefinition> = {}): ColumnDefinition =>
  col(name, description, { priority: 1, ...extra });
const nameColumn = col("Name", "Name must be unique within a namespace.", { format: "name" });
const ageColumn = col("Age", "CreationTimestamp is the time this object was created, as time since now.");

function obj(v: unknown): Json {
  return isPlainObject(v) ? v : {};
}
function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : "";
}
function num(v: unknown): number {
  return typeof v === "number" ? v : 0;
}
function age(o: KubeObject, now: number): string {
  return ageSince(o.metadata.creationTimestamp, now);
}
function orNone(s: string): string {
  return s === "" ? "<none>" : s;
}

/** labels.FormatLabels: sorted "k=v" pairs joined by ","; "<none>" when empty. */
function formatLabels(labels: unknown): string {
  const entries = Object.entries(obj(labels)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return orNone(entries.map(([k, v]) => `${k}=${str(v)}`).join(","));
}

/** A LabelSelector as a selector string ("app=web,tier in (a,b)"); "<none>" when it selects everything. */
function formatLabelSelector(selector: unknown): string {
  const s = obj(selector);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(obj(s.matchLabels))) parts.push(`${k}=${str(v)}`);
  for (const e of list(s.matchExpressions)) {
    const x = obj(e);
    const values = list(x.values).map(str).sort().join(",");
    switch (x.operator) {
      case "In":
        parts.push(`${str(x.key)} in (${values})`);
        break;
      case "NotIn":
        parts.push(`${str(x.key)} notin (${values})`);
        break;
      case "Exists":
        parts.push(str(x.key));
        break;
      case "DoesNotExist":
        parts.push(`!${str(x.key)}`);
        break;
    }
  }
  return orNone(parts.sort().join(","));
}

/** Joins up to three items; more become "a,b,c + 2 more..."; none is `empty`. */
function listWithMore(items: string[], empty: string): string {
  if (items.length > 3) return `${items.slice(0, 3).join(",")} + ${items.length - 3} more...`;
  return items.length === 0 ? empty : items.join(",");
}

const serviceDoc = "https://kubernetes.io/docs/concepts/services-networking/service/";

function serviceExternalIP(spec: Json, status: Json): string {
  const externalIPs = list(spec.externalIPs).map(str);
  switch (spec.type ?? "ClusterIP") {
    case "ClusterIP":
    case "NodePort":
      return externalIPs.length > 0 ? externalIPs.join(",") : "<none>";
    case "LoadBalancer": {
      const ingress = list(obj(status.loadBalancer).ingress)
        .map((i) => str(obj(i).ip) || str(obj(i).hostname))
        .filter((s) => s !== "");
      const all = [...externalIPs, ...ingress];
      return all.length > 0 ? all.join(",") : "<pending>";
    }
    case "ExternalName":
      return str(spec.externalName);
    default:
      return "<unknown>";
  }
}

function servicePorts(spec: Json): string {
  const ports = list(spec.ports).map((p) => {
    const port = obj(p);
    const protocol = str(port.protocol) || "TCP";
    return num(port.nodePort) !== 0 ? `${num(port.port)}:${num(port.nodePort)}/${protocol}` : `${num(port.port)}/${protocol}`;
  });
  return orNone(ports.join(","));
}

const servicePrinter: Printer = {
  columns: [
    nameColumn,
    col("Type", "type determines how the Service is exposed."),
    col("Cluster-IP", "clusterIP is the IP address of the service."),
    col("External-IP", "externalIPs and load-balancer ingress points of the service."),
    col("Port(s)", "The list of ports that are exposed by this service."),
    ageColumn,
    wide("Selector", `Route service traffic to pods with label keys and values matching this selector. ${serviceDoc}`),
  ],
  cells(o, now) {
    const spec = obj(o.spec);
    return [
      o.metadata.name,
      str(spec.type) || "ClusterIP",
      orNone(str(spec.clusterIP)),
      serviceExternalIP(spec, obj(o.status)),
      servicePorts(spec),
      age(o, now),
      formatLabels(spec.selector),
    ];
  },
};

/** The Pod STATUS column: phase, overridden by container waiting/terminated reasons and deletion. */
function podStatus(o: KubeObject, statuses: Json[]): { reason: string; ready: number } {
  const status = obj(o.status);
  const phase = str(status.phase);
  let reason = str(status.reason) || phase;
  for (const c of list(status.conditions)) {
    if (obj(c).type === "PodScheduled" && obj(c).reason === "SchedulingGated") reason = "SchedulingGated";
  }
  let ready = 0;
  let running = false;
  for (let i = statuses.length - 1; i >= 0; i--) {
    const state = obj(statuses[i].state);
    const waiting = obj(state.waiting);
    const terminated = isPlainObject(state.terminated) ? state.terminated : undefined;
    if (str(waiting.reason) !== "") reason = str(waiting.reason);
    else if (terminated !== undefined && str(terminated.reason) !== "") reason = str(terminated.reason);
    else if (terminated !== undefined) {
      reason = num(terminated.signal) !== 0 ? `Signal:${num(terminated.signal)}` : `ExitCode:${num(terminated.exitCode)}`;
    } else if (statuses[i].ready === true && isPlainObject(state.running)) {
      running = true;
      ready++;
    }
  }
  if (reason === "Completed" && running) {
    const readyCondition = list(status.conditions).some((c) => obj(c).type === "Ready" && obj(c).status === "True");
    reason = readyCondition ? "Running" : "NotReady";
  }
  const terminal = phase === "Succeeded" || phase === "Failed";
  if (o.metadata.deletionTimestamp !== undefined && status.reason === "NodeLost") reason = "Unknown";
  else if (o.metadata.deletionTimestamp !== undefined && !terminal) reason = "Terminating";
  return { reason, ready };
}

const podPrinter: Printer = {
  columns: [
    nameColumn,
    col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    col("Status", "The aggregate status of the containers in this pod."),
    col("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    ageColumn,
    wide("IP", "The IP address assigned to the pod."),
    wide("Node", "Name of the Node this pod is assigned to."),
    wide("Nominated Node", "Name of the node nominated for preemption."),
    wide("Readiness Gates", "Pod readiness gates and how many of them are satisfied."),
  ],
  cells(o, now) {
    const spec = obj(o.spec);
    const status = obj(o.status);
    const statuses = list(status.containerStatuses).map(obj);
    const { reason, ready } = podStatus(o, statuses);
    let restarts = 0;
    let lastRestart = "";
    for (const s of statuses) {
      restarts += num(s.restartCount);
      const finishedAt = str(obj(obj(s.lastState).terminated).finishedAt);
      if (finishedAt !== "" && (lastRestart === "" || Date.parse(finishedAt) > Date.parse(lastRestart))) lastRestart = finishedAt;
    }
    const restartCell = restarts !== 0 && lastRestart !== "" ? `${restarts} (${ageSince(lastRestart, now)} ago)` : String(restarts);
    const podIP = str(obj(list(status.podIPs)[0]).ip) || str(status.podIP);
    const gates = list(spec.readinessGates).map((g) => str(obj(g).conditionType));
    const trueConditions = new Set(list(status.conditions).filter((c) => obj(c).status === "True").map((c) => str(obj(c).type)));
    const gatesCell = gates.length === 0 ? "<none>" : `${gates.filter((g) => trueConditions.has(g)).length}/${gates.length}`;
    return [
      o.metadata.name,
      `${ready}/${list(spec.containers).length}`,
      reason,
      restartCell,
      age(o, now),
      orNone(podIP),
      orNone(str(spec.nodeName)),
      orNone(str(status.nominatedNodeName)),
      gatesCell,
    ];
  },
};

function nodeAddress(status: Json, type: string): string {
  const found = list(status.addresses).find((a) => obj(a).type === type);
  return found === undefined ? "<none>" : str(obj(found).address);
}

const nodePrinter: Printer = {
  columns: [
    nameColumn,
    col("Status", "The status of the node"),
    col("Roles", "The roles of the node"),
    ageColumn,
    col("Version", "Kubelet Version reported by the node."),
    wide("Internal-IP", "List of addresses reachable to the node. Queried from cloud provider, if available."),
    wide("External-IP", "List of addresses reachable to the node. Queried from cloud provider, if available."),
    wide("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
    wide("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    wide("Container-Runtime", "Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2)."),
  ],
  cells(o, now) {
    const status = obj(o.status);
    const ready = list(status.conditions).map(obj).find((c) => c.type === "Ready");
    const states = [ready === undefined ? "Unknown" : ready.status === "True" ? "Ready" : "NotReady"];
    if (obj(o.spec).unschedulable === true) states.push("SchedulingDisabled");
    const roles = new Set<string>();
    for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
      if (k.startsWith("node-role.kubernetes.io/") && k.length > "node-role.kubernetes.io/".length) {
        roles.add(k.slice("node-role.kubernetes.io/".length));
      } else if (k === "kubernetes.io/role" && v !== "") roles.add(v);
    }
    const info = obj(status.nodeInfo);
    return [
      o.metadata.name,
      states.join(","),
      orNone([...roles].sort().join(",")),
      age(o, now),
      str(info.kubeletVersion),
      nodeAddress(status, "InternalIP"),
      nodeAddress(status, "ExternalIP"),
      str(info.osImage) || "<unknown>",
      str(info.kernelVersion) || "<unknown>",
      str(info.containerRuntimeVersion) || "<unknown>",
    ];
  },
};

const namespacePrinter: Printer = {
  columns: [nameColumn, col("Status", "The status of the namespace"), ageColumn],
  cells: (o, now) => [o.metadata.name, str(obj(o.status).phase), age(o, now)],
};

const configMapPrinter: Printer = {
  columns: [nameColumn, col("Data", "The number of keys in the ConfigMap.", { type: "integer" }), ageColumn],
  cells: (o, now) => [o.metadata.name, Object.keys(obj(o.data)).length + Object.keys(obj(o.binaryData)).length, age(o, now)],
};

const secretPrinter: Printer = {
  columns: [
    nameColumn,
    col("Type", "The type of the secret"),
    col("Data", "The number of keys in the Secret.", { type: "integer" }),
    ageColumn,
  ],
  cells: (o, now) => [o.metadata.name, str(o.type), Object.keys(obj(o.data)).length, age(o, now)],
};

const serviceAccountPrinter: Printer = {
  columns: [nameColumn, col("Secrets", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.", { type: "integer" }), ageColumn],
  cells: (o, now) => [o.metadata.name, list(o.secrets).length, age(o, now)],
};

const endpointsPrinter: Printer = {
  columns: [nameColumn, col("Endpoints", "Endpoints is the list of endpoints in the object."), ageColumn],
  cells(o, now) {
    const items: string[] = [];
    for (const subset of list(o.subsets).map(obj)) {
      const ports = list(subset.ports).map(obj);
      for (const address of list(subset.addresses).map(obj)) {
        if (ports.length === 0) items.push(str(address.ip));
        for (const port of ports) items.push(`${str(address.ip)}:${num(port.port)}`);
      }
    }
    return [o.metadata.name, listWithMore(items, "<none>"), age(o, now)];
  },
};

/** The Go printer's containers/images/selector wide columns of workloads. */
function workloadWideCells(spec: Json): string[] {
  const containers = list(obj(obj(spec.template).spec).containers).map(obj);
  return [containers.map((c) => str(c.name)).join(","), containers.map((c) => str(c.image)).join(","), formatLabelSelector(spec.selector)];
}
const workloadWideColumns = [
  wide("Containers", "Names of each container in the template."),
  wide("Images", "Images referenced by each container in the template."),
  wide("Selector", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment."),
];

const deploymentPrinter: Printer = {
  columns: [
    nameColumn,
    col("Ready", "Number of the pod with ready state"),
    col("Up-to-date", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", { type: "integer" }),
    col("Available", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", { type: "integer" }),
    ageColumn,
    ...workloadWideColumns,
  ],
  cells(o, now) {
    const spec = obj(o.spec);
    const status = obj(o.status);
    const desired = typeof spec.replicas === "number" ? spec.replicas : 1;
    return [
      o.metadata.name,
      `${num(status.readyReplicas)}/${desired}`,
      num(status.updatedReplicas),
      num(status.availableReplicas),
      age(o, now),
      ...workloadWideCells(spec),
    ];
  },
};

const daemonSetPrinter: Printer = {
  columns: [
    nameColumn,
    col("Desired", "The total number of nodes that should be running the daemon pod.", { type: "integer" }),
    col("Current", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.", { type: "integer" }),
    col("Ready", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.", { type: "integer" }),
    col("Up-to-date", "The total number of nodes that are running updated daemon pod", { type: "integer" }),
    col("Available", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)", { type: "integer" }),
    col("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node."),
    ageColumn,
    ...workloadWideColumns,
  ],
  cells(o, now) {
    const spec = obj(o.spec);
    const status = obj(o.status);
    return [
      o.metadata.name,
      num(status.desiredNumberScheduled),
      num(status.currentNumberScheduled),
      num(status.numberReady),
      num(status.updatedNumberScheduled),
      num(status.numberAvailable),
      formatLabels(obj(obj(spec.template).spec).nodeSelector),
      age(o, now),
      ...workloadWideCells(spec),
    ];
  },
};

const endpointSlicePrinter: Printer = {
  columns: [
    nameColumn,
    col("AddressType", "The IP protocol for this slice"),
    col("Ports", "The ports this slice exposes"),
    col("Endpoints", "The addresses of the endpoints in this slice"),
    ageColumn,
  ],
  cells(o, now) {
    const ports = list(o.ports).map((p) => {
      const port = obj(p);
      return typeof port.port === "number" ? String(port.port) : typeof port.name === "string" ? port.name : "*";
    });
    const addresses = list(o.endpoints).flatMap((e) => list(obj(e).addresses).map(str));
    return [o.metadata.name, str(o.addressType), listWithMore(ports, "<unset>"), listWithMore(addresses, "<unset>"), age(o, now)];
  },
};

const leasePrinter: Printer = {
  columns: [nameColumn, col("Holder", "HolderIdentity contains the identity of the holder of a current lease."), ageColumn],
  cells: (o, now) => [o.metadata.name, str(obj(o.spec).holderIdentity), age(o, now)],
};

/** The fields of an Event printer row, read from either core/v1 or events.k8s.io/v1. */
interface EventView {
  firstTimestamp: unknown;
  lastTimestamp: unknown;
  eventTime: unknown;
  count: number;
  series: Json | undefined;
  type: string;
  reason: string;
  regarding: Json;
  message: string;
  source: string;
}

function eventView(o: KubeObject): EventView {
  const series = isPlainObject(o.series) ? o.series : undefined;
  if (o.apiVersion === "events.k8s.io/v1" || (o.involvedObject === undefined && isPlainObject(o.regarding))) {
    const source = obj(o.deprecatedSource);
    return {
      firstTimestamp: o.deprecatedFirstTimestamp,
      lastTimestamp: o.deprecatedLastTimestamp,
      eventTime: o.eventTime,
      count: num(o.deprecatedCount),
      series,
      type: str(o.type),
      reason: str(o.reason),
      regarding: obj(o.regarding),
      message: str(o.note),
      source: eventSource(str(source.component) || str(o.reportingController), str(source.host) || str(o.reportingInstance)),
    };
  }
  const source = obj(o.source);
  return {
    firstTimestamp: o.firstTimestamp,
    lastTimestamp: o.lastTimestamp,
    eventTime: o.eventTime,
    count: num(o.count),
    series,
    type: str(o.type),
    reason: str(o.reason),
    regarding: obj(o.involvedObject),
    message: str(o.message),
    source: eventSource(str(source.component) || str(o.reportingController), str(source.host) || str(o.reportingInstance)),
  };
}

function eventSource(component: string, host: string): string {
  return host === "" ? component : `${component}, ${host}`;
}

const eventPrinter: Printer = {
  columns: [
    col("Last Seen", "Time when this Event was last observed."),
    col("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
    col("Reason", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col("Object", "The object that this event is about."),
    wide("Subobject", "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement."),
    wide("Source", "The component reporting this event. Should be a short machine understandable string."),
    col("Message", "A human-readable description of the status of this operation."),
    wide("First Seen", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
    wide("Count", "The number of times this event has occurred."),
    wide("Name", "Name must be unique within a namespace.", { format: "name" }),
  ],
  cells(o, now) {
    const e = eventView(o);
    const first = typeof e.firstTimestamp === "string" && e.firstTimestamp !== "" ? ageSince(e.firstTimestamp, now) : ageSince(e.eventTime, now);
    let last = typeof e.lastTimestamp === "string" && e.lastTimestamp !== "" ? ageSince(e.lastTimestamp, now) : first;
    let count = e.count;
    if (e.series !== undefined) {
      last = ageSince(e.series.lastObservedTime, now);
      count = num(e.series.count);
    } else if (count === 0) count = 1;
    const kind = str(e.regarding.kind).toLowerCase();
    const target = str(e.regarding.name) !== "" ? `${kind}/${str(e.regarding.name)}` : kind;
    return [last, e.type, e.reason, target, str(e.regarding.fieldPath), e.source, e.message.trim(), first, count, o.metadata.name];
  },
};

const defaultPrinter: Printer = {
  columns: [nameColumn, ageColumn],
  cells: (o, now) => [o.metadata.name, age(o, now)],
};

const printers: Record<string, Printer> = {
  Service: servicePrinter,
  Pod: podPrinter,
  Node: nodePrinter,
  Namespace: namespacePrinter,
  ConfigMap: configMapPrinter,
  Secret: secretPrinter,
  ServiceAccount: serviceAccountPrinter,
  Endpoints: endpointsPrinter,
  Deployment: deploymentPrinter,
  DaemonSet: daemonSetPrinter,
  EndpointSlice: endpointSlicePrinter,
  Lease: leasePrinter,
  Event: eventPrinter,
};

/**
 * The printer for a built-in kind; NAME and AGE for any other built-in kind. Custom resources are printed from
 * their CRD's columns instead (custom-resource-printer.ts).
 *
 * @example
 * printerFor("Role").columns.map((c) => c.name); // ["Name", "Age"]
 */
export function printerFor(kind: string): Printer {
  return (Object.hasOwn(printers, kind) ? printers[kind] : undefined) ?? defaultPrinter;
}
