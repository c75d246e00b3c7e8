import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "./resources.ts";
import { createSimulatedCluster, type SimulatedCluster } from "./simulated-cluster.ts";

let cluster: SimulatedCluster;
afterEach(() => cluster?.stop());

const tick = () => new Promise((r) => setImmediate(r));

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await tick();
}

function addPod(name: string, ip: string, opts: { ready?: boolean; labels?: Record<string, string>; node?: string; finalizers?: string[] } = {}): void {
  const { state, types } = cluster;
  const pod = state.create(types.pods, "default", {
    metadata: { name, labels: opts.labels ?? { app: "web" }, finalizers: opts.finalizers },
    spec: { nodeName: opts.node ?? "node-1", containers: [{ name: "c", image: "nginx:1.27", ports: [{ name: "http", containerPort: 8080 }] }] },
  }).object;
  setPodStatus(pod, ip, opts.ready ?? true);
}

function setPodStatus(pod: KubeObject, ip: string, ready: boolean): void {
  const current = cluster.state.get(cluster.types.pods, "default", pod.metadata.name!).object;
  cluster.state.update(
    cluster.types.pods,
    "default",
    pod.metadata.name!,
    { ...current, status: { phase: "Running", podIP: ip, podIPs: [{ ip }], conditions: [{ type: "Ready", status: ready ? "True" : "False" }] } },
    "status",
  );
}

function slices(service = "web"): KubeObject[] {
  return cluster.state
    .list(cluster.types.endpointSlices, "default")
    .map((s) => s.object)
    .filter((s) => s.metadata.labels?.["kubernetes.io/service-name"] === service);
}

function createService(extra: Record<string, unknown> = {}): void {
  cluster.state.create(cluster.types.services, "default", {
    metadata: { name: "web", labels: { team: "a" } },
    spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }], ...extra },
  });
}

describe("endpoints controller", () => {
  it("creates an empty placeholder slice and an Endpoints object for a Service without pods", async () => {
    cluster = createSimulatedCluster();
    createService();
    await settle();
    const [slice] = slices();
    expect(slice.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(slice).toMatchObject({
      addressType: "IPv4",
      endpoints: null,
      ports: null,
      metadata: {
        labels: { team: "a", "kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" },
        ownerReferences: [{ kind: "Service", name: "web", controller: true }],
      },
    });
    expect(cluster.state.get(cluster.types.endpoints, "default", "web").object.subsets).toBeUndefined();
  });

  it("lists matching pods with addresses, nodeName, conditions and resolved named ports", async () => {
    cluster = createSimulatedCluster();
    createService();
    addPod("web-1", "10.244.1.5", { node: "node-1" });
    addPod("web-2", "10.244.2.7", { node: "node-2", ready: false });
    addPod("other", "10.244.3.1", { labels: { app: "db" } });
    await settle();
    const [slice] = slices();
    expect(slices()).toHaveLength(1);
    expect(slice.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(slice.endpoints).toEqual([
      {
        addresses: ["10.244.1.5"],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: "node-1",
        targetRef: { kind: "Pod", namespace: "default", name: "web-1", uid: expect.any(String) },
      },
      {
        addresses: ["10.244.2.7"],
        conditions: { ready: false, serving: false, terminating: false },
        nodeName: "node-2",
        targetRef: { kind: "Pod", namespace: "default", name: "web-2", uid: expect.any(String) },
      },
    ]);
    const ep = cluster.state.get(cluster.types.endpoints, "default", "web").object as KubeObject & { subsets: any[] };
    expect(ep.subsets).toEqual([
      {
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
        addresses: [{ ip: "10.244.1.5", nodeName: "node-1", targetRef: expect.objectContaining({ name: "web-1" }) }],
        notReadyAddresses: [{ ip: "10.244.2.7", nodeName: "node-2", targetRef: expect.objectContaining({ name: "web-2" }) }],
      },
    ]);
  });

  it("follows readiness, terminating pods and pods that stop matching", async () => {
    cluster = createSimulatedCluster();
    createService();
    addPod("web-1", "10.244.1.5", { ready: false });
    addPod("web-2", "10.244.2.7", { finalizers: ["example.com/hold"] });
    await settle();
    setPodStatus(cluster.state.get(cluster.types.pods, "default", "web-1").object, "10.244.1.5", true);
    cluster.state.delete(cluster.types.pods, "default", "web-2");
    await settle();
    const conditions = () => Object.fromEntries((slices()[0].endpoints as any[]).map((e) => [e.targetRef.name, e.conditions]));
    expect(conditions()).toEqual({
      "web-1": { ready: true, serving: true, terminating: false },
      "web-2": { ready: false, serving: true, terminating: true },
    });
    const p1 = cluster.state.get(cluster.types.pods, "default", "web-1").object;
    cluster.state.update(cluster.types.pods, "default", "web-1", { ...p1, metadata: { ...p1.metadata, labels: { app: "moved" } } });
    await settle();
    expect(Object.keys(conditions())).toEqual(["web-2"]);
  });

  it("uses IPv6 slices for IPv6 Services", async () => {
    cluster = createSimulatedCluster();
    createService({ ipFamilies: ["IPv6"] });
    addPod("web-1", "fd00:244::5");
    await settle();
    expect(slices()[0]).toMatchObject({ addressType: "IPv6", endpoints: [{ addresses: ["fd00:244::5"] }] });
  });

  it("writes nothing when an unrelated change leaves the endpoints equal", async () => {
    cluster = createSimulatedCluster();
    createService({ type: "LoadBalancer" });
    addPod("web-1", "10.244.1.5");
    await settle();
    const writes: string[] = [];
    cluster.state.store.subscribe("discovery.k8s.io/endpointslices", (e) => writes.push(e.type));
    cluster.state.store.subscribe("/endpoints", (e) => writes.push(e.type));
    const svc = cluster.state.get(cluster.types.services, "default", "web").object;
    cluster.state.update(cluster.types.services, "default", "web", { ...svc, status: { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } } }, "status");
    const pod = cluster.state.get(cluster.types.pods, "default", "web-1").object;
    cluster.state.update(cluster.types.pods, "default", "web-1", { ...pod, metadata: { ...pod.metadata, annotations: { note: "x" } } });
    await settle();
    expect(writes).toEqual([]);
  });

  it("removes the slices and the Endpoints when the Service goes, and repairs a slice someone deleted", async () => {
    cluster = createSimulatedCluster();
    createService();
    addPod("web-1", "10.244.1.5");
    await settle();
    const first = slices()[0].metadata.name!;
    cluster.state.delete(cluster.types.endpointSlices, "default", first);
    await settle();
    expect(slices()).toHaveLength(1);
    expect(slices()[0].metadata.name).not.toBe(first);
    cluster.state.delete(cluster.types.services, "default", "web");
    await settle();
    expect(slices()).toEqual([]);
    expect(cluster.state.find(cluster.types.endpoints, "default", "web")).toBeUndefined();
  });
});
