import { CoreV1Api, DiscoveryV1Api, type V1Service } from "@kubernetes/client-node";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "./index.ts";
import { kubectl, startKubectl } from "./kubectl-runner.ts";
import { eventually } from "../support/eventually.ts";
import { requireTools } from "../../test/support/requirements.ts";

const skip = requireTools(["kubectl"]);

/** Splits kubectl's column output into cells (columns are separated by two or more spaces). */
function table(stdout: string): string[][] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => line.trim().split(/\s{2,}/));
}

describe.skipIf(skip)("kubectl get, watch and describe against kube-sim", () => {
  let sim: KubeSim;
  let core: CoreV1Api;
  let web: V1Service;

  async function setIngress(name: string, namespace: string, ip: string): Promise<V1Service> {
    const svc = await core.readNamespacedService({ name, namespace });
    svc.status = { loadBalancer: { ingress: [{ ip, ipMode: "VIP" }] } };
    return core.replaceNamespacedServiceStatus({ name, namespace, body: svc });
  }

  beforeAll(async () => {
    sim = await startKubeSim();
    core = sim.client.makeApiClient(CoreV1Api);
    for (const name of ["shop", "other"]) await core.createNamespace({ body: { metadata: { name } } });
    await core.createNamespacedService({
      namespace: "shop",
      body: {
        metadata: { name: "web", labels: { app: "web" } },
        spec: { type: "LoadBalancer", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
      },
    });
    web = await setIngress("web", "shop", "192.0.2.10");
    await core.createNamespacedService({
      namespace: "other",
      body: { metadata: { name: "db" }, spec: { selector: { app: "db" }, ports: [{ port: 5432 }] } },
    });
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it("get svc prints the server's Table columns", async () => {
    const r = await kubectl(sim.kubeconfigPath, ["get", "svc", "-n", "shop"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [header, row] = table(r.stdout);
    expect(header).toEqual(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    expect(row.slice(0, 5)).toEqual(["web", "LoadBalancer", web.spec!.clusterIP, "192.0.2.10", `80:${web.spec!.ports![0].nodePort}/TCP`]);
    expect(row[5]).toMatch(/^\d+s$/);
  });

  it("get svc -o wide adds the SELECTOR column", async () => {
    const r = await kubectl(sim.kubeconfigPath, ["get", "svc", "web", "-n", "shop", "-o", "wide"]);
    expect(r.code).toBe(0);
    const [header, row] = table(r.stdout);
    expect(header).toEqual(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]);
    expect(row[6]).toBe("app=web");
  });

  it("get svc -A lists every namespace with a NAMESPACE column", async () => {
    const r = await kubectl(sim.kubeconfigPath, ["get", "svc", "-A"]);
    expect(r.code).toBe(0);
    const rows = table(r.stdout);
    expect(rows[0].slice(0, 3)).toEqual(["NAMESPACE", "NAME", "TYPE"]);
    expect(rows.slice(1).map((row) => `${row[0]}/${row[1]}`)).toEqual(expect.arrayContaining(["other/db", "shop/web"]));
    expect(rows.find((row) => row[1] === "db")?.[4]).toBe("<none>");
  });

  it("get svc -o yaml prints the stored object", async () => {
    const r = await kubectl(sim.kubeconfigPath, ["get", "svc", "web", "-n", "shop", "-o", "yaml"]);
    expect(r.code).toBe(0);
    const printed = parseYaml(r.stdout);
    const stored = await core.readNamespacedService({ name: "web", namespace: "shop" });
    expect(printed).toMatchObject({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "shop", uid: stored.metadata!.uid, resourceVersion: stored.metadata!.resourceVersion },
      spec: { type: "LoadBalancer", clusterIP: stored.spec!.clusterIP, ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }] },
      status: { loadBalancer: { ingress: [{ ip: "192.0.2.10", ipMode: "VIP" }] } },
    });
  });

  it("get -o jsonpath reads single fields", async () => {
    const r = await kubectl(sim.kubeconfigPath, ["get", "svc", "web", "-n", "shop", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}"]);
    expect(r).toMatchObject({ code: 0, stdout: "192.0.2.10" });
  });

  it("get ns resolves the short name through discovery and prints the Namespace Table", async () => {
    const r = await kubectl(sim.kubeconfigPath, ["get", "ns", "shop"]);
    expect(r.code).toBe(0);
    expect(table(r.stdout)).toEqual([["NAME", "STATUS", "AGE"], ["shop", "Active", expect.stringMatching(/^\d+s$/)]]);
  });

  it("get svc -w prints a new row for each change until killed", async () => {
    const watch = startKubectl(sim.kubeconfigPath, ["get", "svc", "-n", "shop", "-w"]);
    try {
      await watch.waitForOutput(/^web\s+LoadBalancer\s.*192\.0\.2\.10/m);
      await core.createNamespacedService({ namespace: "shop", body: { metadata: { name: "web2" }, spec: { type: "NodePort", ports: [{ port: 81 }] } } });
      await watch.waitForOutput(/^web2\s+NodePort\s/m);
      await setIngress("web", "shop", "192.0.2.11");
      const out = await watch.waitForOutput(/^web\s+LoadBalancer\s.*192\.0\.2\.11/m);
      expect(out.match(/^NAME\s+TYPE/gm)).toHaveLength(1);
    } finally {
      const result = await watch.stop();
      expect(result.stderr).toBe("");
      await core.deleteNamespacedService({ name: "web2", namespace: "shop" });
      await setIngress("web", "shop", "192.0.2.10");
    }
  });

  it("get events lists core/v1 Events as a Table", async () => {
    await core.createNamespacedEvent({
      namespace: "other",
      body: {
        metadata: { name: "db.ev1" },
        involvedObject: { kind: "Service", name: "db", namespace: "other" },
        reason: "Tested",
        message: "an event for kubectl get events",
        type: "Warning",
        count: 1,
        firstTimestamp: new Date(),
        lastTimestamp: new Date(),
        source: { component: "kube-sim-test" },
      },
    });
    const r = await kubectl(sim.kubeconfigPath, ["get", "events", "-n", "other"]);
    expect(r.code).toBe(0);
    const [header, row] = table(r.stdout);
    expect(header).toEqual(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    expect(row.slice(1)).toEqual(["Warning", "Tested", "service/db", "an event for kubectl get events"]);
  });

  it("describe svc shows the EndpointSlice addresses and the Service's Events", async () => {
    await core.createNamespacedPod({
      namespace: "shop",
      body: { metadata: { name: "web-1", labels: { app: "web" } }, spec: { nodeName: "node-1", containers: [{ name: "web", image: "nginx" }] } },
    });
    const pod = await core.readNamespacedPod({ name: "web-1", namespace: "shop" });
    pod.status = { phase: "Running", podIP: "10.244.1.5", podIPs: [{ ip: "10.244.1.5" }], conditions: [{ type: "Ready", status: "True" }] };
    await core.replaceNamespacedPodStatus({ name: "web-1", namespace: "shop", body: pod });
    const discovery = sim.client.makeApiClient(DiscoveryV1Api);
    await eventually(async () => {
      const slices = await discovery.listNamespacedEndpointSlice({ namespace: "shop", labelSelector: "kubernetes.io/service-name=web" });
      return slices.items.some((s) => s.endpoints?.some((e) => e.addresses.includes("10.244.1.5"))) ? true : undefined;
    }, { ms: 5_000, what: "the EndpointSlice of shop/web to list 10.244.1.5", everyMs: 50 });
    await core.createNamespacedEvent({
      namespace: "shop",
      body: {
        metadata: { name: "web.ip" },
        involvedObject: { kind: "Service", name: "web", namespace: "shop", uid: web.metadata!.uid, apiVersion: "v1" },
        reason: "IPAllocated",
        message: 'Assigned IP ["192.0.2.10"]',
        type: "Normal",
        count: 1,
        firstTimestamp: new Date(),
        lastTimestamp: new Date(),
        source: { component: "metallb-controller" },
      },
    });
    const r = await kubectl(sim.kubeconfigPath, ["describe", "svc", "web", "-n", "shop"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Name:\s+web$/m);
    expect(r.stdout).toMatch(/^Type:\s+LoadBalancer$/m);
    expect(r.stdout).toMatch(/^LoadBalancer Ingress:\s+192\.0\.2\.10 \(VIP\)$/m);
    expect(r.stdout).toMatch(/^Endpoints:\s+10\.244\.1\.5:8080$/m);
    expect(r.stdout).toMatch(/^\s+Normal\s+IPAllocated\s+\S+\s+metallb-controller\s+Assigned IP \["192\.0\.2\.10"\]$/m);
  });
});
