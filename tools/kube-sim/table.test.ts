import { describe, expect, it } from "vitest";
import { builtinResources, type KubeObject, type ResourceType } from "./resources.ts";
import { toTable, wantsTable } from "./table.ts";

interface Table {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string };
  columnDefinitions: { name: string; type: string; format: string; description: string; priority: number }[];
  rows: { cells: unknown[]; object: { kind: string; apiVersion: string; metadata: Record<string, unknown> } }[];
}

const NOW = Date.parse("2024-05-01T12:00:00Z");
const created = "2024-05-01T11:56:58Z"; // 3m2s before NOW

function type(group: string, plural: string): ResourceType {
  return builtinResources.find((r) => r.group === group && r.plural === plural)!;
}

function table(resource: ResourceType, objects: KubeObject[]): Table {
  return toTable(resource, objects, "42", NOW) as Table;
}

/** The row as kubectl shows it: `columns` (wide includes priority 1) → cell. */
function row(t: Table, index = 0, wide = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  t.columnDefinitions.forEach((c, i) => {
    if (wide || c.priority === 0) out[c.name.toUpperCase()] = t.rows[index].cells[i];
  });
  return out;
}

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: "x", uid: `uid-${name}`, creationTimestamp: created, ...extra });

describe("wantsTable", () => {
  it("accepts kubectl's get Accept header", () => {
    expect(wantsTable("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")).toBe(true);
  });

  it("accepts the parameters in any order", () => {
    expect(wantsTable("application/json; g=meta.k8s.io; as=Table; v=v1")).toBe(true);
  });

  it("refuses plain JSON, protobuf and v1beta1-only Tables", () => {
    expect(wantsTable(undefined)).toBe(false);
    expect(wantsTable("application/json")).toBe(false);
    expect(wantsTable("application/vnd.kubernetes.protobuf,application/json")).toBe(false);
    expect(wantsTable("application/json;as=Table;v=v1beta1;g=meta.k8s.io")).toBe(false);
  });
});

describe("toTable", () => {
  it("is a meta.k8s.io/v1 Table whose rows carry the full metadata", () => {
    const svc: KubeObject = { apiVersion: "v1", kind: "Service", metadata: meta("web", { labels: { app: "web" } }), spec: { type: "ClusterIP", clusterIP: "10.96.0.10", ports: [{ port: 80, protocol: "TCP" }] } };
    const t = table(type("", "services"), [svc]);
    expect(t.kind).toBe("Table");
    expect(t.apiVersion).toBe("meta.k8s.io/v1");
    expect(t.metadata).toEqual({ resourceVersion: "42" });
    expect(t.rows[0].object).toEqual({ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: svc.metadata });
    expect(t.columnDefinitions[0]).toMatchObject({ name: "Name", type: "string", format: "name", priority: 0 });
  });

  describe("Service", () => {
    const lb = (status: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("web"),
      spec: {
        type: "LoadBalancer",
        clusterIP: "10.96.0.10",
        selector: { tier: "front", app: "web" },
        ports: [
          { name: "http", port: 80, protocol: "TCP", nodePort: 31234 },
          { name: "dns", port: 53, protocol: "UDP", nodePort: 31235 },
        ],
        ...spec,
      },
      status,
    });

    it("shows a LoadBalancer's ingress IPs, ports with node ports, and the selector when wide", () => {
      const t = table(type("", "services"), [lb({ loadBalancer: { ingress: [{ ip: "192.0.2.10" }, { ip: "2001:db8::10" }] } })]);
      expect(row(t, 0, true)).toEqual({
        NAME: "web",
        TYPE: "LoadBalancer",
        "CLUSTER-IP": "10.96.0.10",
        "EXTERNAL-IP": "192.0.2.10,2001:db8::10",
        "PORT(S)": "80:31234/TCP,53:31235/UDP",
        AGE: "3m2s",
        SELECTOR: "app=web,tier=front",
      });
      expect(t.columnDefinitions.find((c) => c.name === "Selector")?.priority).toBe(1);
    });

    it("shows <pending> for a LoadBalancer without ingress", () => {
      expect(row(table(type("", "services"), [lb({})]))["EXTERNAL-IP"]).toBe("<pending>");
    });

    it("shows hostnames and spec.externalIPs of a LoadBalancer", () => {
      const svc = lb({ loadBalancer: { ingress: [{ hostname: "lb.example.com" }] } }, { externalIPs: ["198.51.100.1"] });
      expect(row(table(type("", "services"), [svc]))["EXTERNAL-IP"]).toBe("198.51.100.1,lb.example.com");
    });

    it("shows <none> for a ClusterIP Service without external IPs or selector", () => {
      const svc: KubeObject = { apiVersion: "v1", kind: "Service", metadata: meta("db"), spec: { type: "ClusterIP", clusterIP: "None", ports: [{ port: 5432, protocol: "TCP" }] } };
      expect(row(table(type("", "services"), [svc]), 0, true)).toMatchObject({ "CLUSTER-IP": "None", "EXTERNAL-IP": "<none>", "PORT(S)": "5432/TCP", SELECTOR: "<none>" });
    });
  });

  it("shows Pod readiness, status, restarts and the wide IP and node", () => {
    const pod: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: meta("p"),
      spec: { nodeName: "node-1", containers: [{ name: "a" }, { name: "b" }] },
      status: {
        phase: "Running",
        podIP: "10.244.0.5",
        podIPs: [{ ip: "10.244.0.5" }],
        containerStatuses: [
          { name: "a", ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { finishedAt: "2024-05-01T11:59:55Z" } } },
          { name: "b", ready: false, restartCount: 0, state: { waiting: { reason: "CrashLoopBackOff" } } },
        ],
      },
    };
    expect(row(table(type("", "pods"), [pod]), 0, true)).toEqual({
      NAME: "p",
      READY: "1/2",
      STATUS: "CrashLoopBackOff",
      RESTARTS: "2 (5s ago)",
      AGE: "3m2s",
      IP: "10.244.0.5",
      NODE: "node-1",
      "NOMINATED NODE": "<none>",
      "READINESS GATES": "<none>",
    });
  });

  it("shows a deleted Pod as Terminating", () => {
    const pod: KubeObject = { apiVersion: "v1", kind: "Pod", metadata: meta("p", { deletionTimestamp: created }), spec: { containers: [{ name: "a" }] }, status: { phase: "Running" } };
    expect(row(table(type("", "pods"), [pod]))).toMatchObject({ READY: "0/1", STATUS: "Terminating", RESTARTS: "0" });
  });

  it("shows Node readiness, roles and kubelet version", () => {
    const node: KubeObject = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "n1", creationTimestamp: created, labels: { "node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "n1" } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: "Ready", status: "True" }], nodeInfo: { kubeletVersion: "v1.32.4" }, addresses: [{ type: "InternalIP", address: "192.168.1.10" }] },
    };
    expect(row(table(type("", "nodes"), [node]), 0, true)).toEqual({
      NAME: "n1",
      STATUS: "Ready,SchedulingDisabled",
      ROLES: "control-plane",
      AGE: "3m2s",
      VERSION: "v1.32.4",
      "INTERNAL-IP": "192.168.1.10",
      "EXTERNAL-IP": "<none>",
      "OS-IMAGE": "<unknown>",
      "KERNEL-VERSION": "<unknown>",
      "CONTAINER-RUNTIME": "<unknown>",
    });
  });

  it("shows Namespace phase and ConfigMap key count", () => {
    const ns: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "x", creationTimestamp: created }, status: { phase: "Terminating" } };
    expect(row(table(type("", "namespaces"), [ns]))).toEqual({ NAME: "x", STATUS: "Terminating", AGE: "3m2s" });
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: meta("c"), data: { a: "1", b: "2" }, binaryData: { c: "AA==" } };
    expect(row(table(type("", "configmaps"), [cm]))).toEqual({ NAME: "c", DATA: 3, AGE: "3m2s" });
  });

  it("shows core Events with LAST SEEN, TYPE, REASON, OBJECT and MESSAGE", () => {
    const event: KubeObject = {
      apiVersion: "v1",
      kind: "Event",
      metadata: meta("web.1"),
      involvedObject: { kind: "Service", name: "web", namespace: "x" },
      reason: "IPAllocated",
      message: "Assigned IP [\"192.0.2.10\"] ",
      type: "Normal",
      firstTimestamp: "2024-05-01T11:50:00Z",
      lastTimestamp: "2024-05-01T11:59:00Z",
      count: 3,
      source: { component: "metallb-controller" },
    };
    expect(row(table(type("", "events"), [event]))).toEqual({
      "LAST SEEN": "60s",
      TYPE: "Normal",
      REASON: "IPAllocated",
      OBJECT: "service/web",
      MESSAGE: 'Assigned IP ["192.0.2.10"]',
    });
    expect(row(table(type("", "events"), [event]), 0, true)).toMatchObject({ SOURCE: "metallb-controller", "FIRST SEEN": "10m", COUNT: 3, NAME: "web.1" });
  });

  it("shows events.k8s.io Events from their new field names", () => {
    const event: KubeObject = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: meta("web.2"),
      regarding: { kind: "Service", name: "web" },
      note: "announcing from node n1",
      reason: "nodeAssigned",
      type: "Normal",
      eventTime: "2024-05-01T11:59:30.000000Z",
      reportingController: "metallb-speaker",
    };
    expect(row(table(type("events.k8s.io", "events"), [event]), 0, true)).toMatchObject({
      "LAST SEEN": "30s",
      OBJECT: "service/web",
      MESSAGE: "announcing from node n1",
      SOURCE: "metallb-speaker",
      COUNT: 1,
    });
  });

  it("shows Deployment readiness counts and wide containers, images and selector", () => {
    const deploy: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("nginx"),
      spec: { replicas: 3, selector: { matchLabels: { app: "nginx" } }, template: { spec: { containers: [{ name: "nginx", image: "nginx:1.25" }] } } },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    expect(row(table(type("apps", "deployments"), [deploy]), 0, true)).toEqual({
      NAME: "nginx",
      READY: "2/3",
      "UP-TO-DATE": 3,
      AVAILABLE: 2,
      AGE: "3m2s",
      CONTAINERS: "nginx",
      IMAGES: "nginx:1.25",
      SELECTOR: "app=nginx",
    });
  });

  it("shows DaemonSet counts and node selector", () => {
    const ds: KubeObject = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: meta("speaker"),
      spec: { selector: { matchLabels: { app: "speaker" } }, template: { spec: { nodeSelector: { "kubernetes.io/os": "linux" }, containers: [{ name: "speaker", image: "s:1" }] } } },
      status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 },
    };
    expect(row(table(type("apps", "daemonsets"), [ds]))).toEqual({
      NAME: "speaker",
      DESIRED: 3,
      CURRENT: 3,
      READY: 2,
      "UP-TO-DATE": 3,
      AVAILABLE: 2,
      "NODE SELECTOR": "kubernetes.io/os=linux",
      AGE: "3m2s",
    });
  });

  it("shows EndpointSlice ports and at most three addresses", () => {
    const slice: KubeObject = {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: meta("web-abc"),
      addressType: "IPv4",
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      endpoints: ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"].map((ip) => ({ addresses: [ip] })),
    };
    expect(row(table(type("discovery.k8s.io", "endpointslices"), [slice]))).toEqual({
      NAME: "web-abc",
      ADDRESSTYPE: "IPv4",
      PORTS: "8080",
      ENDPOINTS: "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...",
      AGE: "3m2s",
    });
    const empty: KubeObject = { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", metadata: meta("web-e"), addressType: "IPv4", endpoints: [] };
    expect(row(table(type("discovery.k8s.io", "endpointslices"), [empty]))).toMatchObject({ PORTS: "<unset>", ENDPOINTS: "<unset>" });
  });

  it("shows the Lease holder", () => {
    const lease: KubeObject = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: meta("l"), spec: { holderIdentity: "node-1" } };
    expect(row(table(type("coordination.k8s.io", "leases"), [lease]))).toEqual({ NAME: "l", HOLDER: "node-1", AGE: "3m2s" });
  });

  it("shows NAME and AGE for other kinds and for custom resources", () => {
    const role: KubeObject = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: meta("r") };
    expect(row(table(type("rbac.authorization.k8s.io", "roles"), [role]))).toEqual({ NAME: "r", AGE: "3m2s" });
    const pool: ResourceType = { group: "metallb.io", version: "v1beta1", kind: "Service", plural: "services", singular: "service", namespaced: true, custom: true };
    expect(row(table(pool, [{ apiVersion: "metallb.io/v1beta1", kind: "Service", metadata: meta("p") }]))).toEqual({ NAME: "p", AGE: "3m2s" });
  });

  it("shows <unknown> age without a creationTimestamp", () => {
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } };
    expect(row(table(type("", "configmaps"), [cm])).AGE).toBe("<unknown>");
  });
});
