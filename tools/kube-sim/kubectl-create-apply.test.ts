import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "./index.ts";
import { kubectl } from "./kubectl-runner.ts";
import { requireTools } from "../../test/support/requirements.ts";

const skip = requireTools(["kubectl"]);

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

describe.skipIf(skip)("kubectl create, apply and expose against kube-sim", () => {
  let sim: KubeSim;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let dir: string;

  /** Writes the objects as a multi-document YAML file and returns its path. */
  async function manifest(name: string, ...objects: object[]): Promise<string> {
    const path = join(dir, `${name}.yaml`);
    await writeFile(path, objects.map((o) => stringify(o)).join("---\n"));
    return path;
  }

  beforeAll(async () => {
    sim = await startKubeSim();
    core = sim.client.makeApiClient(CoreV1Api);
    apps = sim.client.makeApiClient(AppsV1Api);
    dir = await mkdtemp(join(tmpdir(), "kubectl-manifests-"));
    for (const name of ["create-flow", "apply-flow"]) await core.createNamespace({ body: { metadata: { name } } });
  });

  afterAll(async () => {
    await sim?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("create -f creates every object in the file, and a second run fails with AlreadyExists", async () => {
    const file = await manifest(
      "create",
      { apiVersion: "v1", kind: "Service", metadata: { name: "api", namespace: "create-flow" }, spec: { selector: { app: "api" }, ports: [{ port: 80, targetPort: 8080 }] } },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "api-config", namespace: "create-flow" }, data: { mode: "fast" } },
    );
    const first = await kubectl(sim.kubeconfigPath, ["create", "-f", file]);
    expect(first).toMatchObject({ code: 0, stdout: "service/api created\nconfigmap/api-config created\n", stderr: "" });
    const svc = await core.readNamespacedService({ name: "api", namespace: "create-flow" });
    expect(svc.spec).toMatchObject({ type: "ClusterIP", ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }] });
    expect(svc.spec!.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect((await core.readNamespacedConfigMap({ name: "api-config", namespace: "create-flow" })).data).toEqual({ mode: "fast" });

    const second = await kubectl(sim.kubeconfigPath, ["create", "-f", file]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`Error from server (AlreadyExists): error when creating "${file}": services "api" already exists`);
  });

  it("apply creates a missing Service, then patches changes by strategic merge without touching status", async () => {
    const front = (spec: object, labels: Record<string, string>) => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "front", namespace: "apply-flow", labels },
      spec: { type: "LoadBalancer", selector: { app: "front" }, ...spec },
    });
    const http = { name: "http", port: 80, targetPort: 8080 };
    const https = { name: "https", port: 443, targetPort: 8443 };

    const created = await kubectl(sim.kubeconfigPath, ["apply", "-f", await manifest("front-1", front({ ports: [http] }, { app: "front", tier: "web" }))]);
    expect(created).toMatchObject({ code: 0, stdout: "service/front created\n", stderr: "" });
    const live = await core.readNamespacedService({ name: "front", namespace: "apply-flow" });
    expect(JSON.parse(live.metadata!.annotations![LAST_APPLIED])).toMatchObject({ kind: "Service", spec: { ports: [http] } });
    const httpNodePort = live.spec!.ports![0].nodePort;
    expect(httpNodePort).toBeGreaterThanOrEqual(30000);
    live.status = { loadBalancer: { ingress: [{ ip: "192.0.2.20" }] } };
    await core.replaceNamespacedServiceStatus({ name: "front", namespace: "apply-flow", body: live });

    const configured = await kubectl(sim.kubeconfigPath, ["apply", "-f", await manifest("front-2", front({ ports: [http, https] }, { app: "front" }))]);
    expect(configured).toMatchObject({ code: 0, stdout: "service/front configured\n", stderr: "" });
    const patched = await core.readNamespacedService({ name: "front", namespace: "apply-flow" });
    expect(patched.metadata!.labels).toEqual({ app: "front" });
    expect(patched.spec!.ports!.map((p) => [p.name, p.port, p.targetPort])).toEqual([["http", 80, 8080], ["https", 443, 8443]]);
    expect(patched.spec!.ports![0].nodePort).toBe(httpNodePort);
    expect(patched.status!.loadBalancer!.ingress).toEqual([{ ip: "192.0.2.20", ipMode: "VIP" }]);

    const removed = await kubectl(sim.kubeconfigPath, ["apply", "-f", await manifest("front-3", front({ ports: [https] }, { app: "front" }))]);
    expect(removed).toMatchObject({ code: 0, stdout: "service/front configured\n" });
    const after = await core.readNamespacedService({ name: "front", namespace: "apply-flow" });
    expect(after.spec!.ports!.map((p) => p.name)).toEqual(["https"]);

    const unchanged = await kubectl(sim.kubeconfigPath, ["apply", "-f", await manifest("front-4", front({ ports: [https] }, { app: "front" }))]);
    expect(unchanged).toMatchObject({ code: 0, stdout: "service/front unchanged\n" });
  });

  it("apply changes a Deployment's image through $setElementOrder/containers", async () => {
    const deployment = (image: string) => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "apply-flow" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "nginx", image, ports: [{ containerPort: 80 }] }, { name: "sidecar", image: "busybox" }] },
        },
      },
    });
    expect(await kubectl(sim.kubeconfigPath, ["apply", "-f", await manifest("web-1", deployment("nginx:1.25"))])).toMatchObject({
      code: 0,
      stdout: "deployment.apps/web created\n",
    });
    expect(await kubectl(sim.kubeconfigPath, ["apply", "-f", await manifest("web-2", deployment("nginx:1.27"))])).toMatchObject({
      code: 0,
      stdout: "deployment.apps/web configured\n",
      stderr: "",
    });
    const live = await apps.readNamespacedDeployment({ name: "web", namespace: "apply-flow" });
    expect(live.spec!.replicas).toBe(2);
    expect(live.spec!.template.spec!.containers.map((c) => [c.name, c.image])).toEqual([["nginx", "nginx:1.27"], ["sidecar", "busybox"]]);
    expect(live.spec!.template.spec!.containers[0].ports).toMatchObject([{ containerPort: 80 }]);
  });

  it("apply --server-side creates and then updates objects", async () => {
    const config = (mode: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ssa", namespace: "apply-flow" }, data: { mode } });
    const svc = { apiVersion: "v1", kind: "Service", metadata: { name: "ssa", namespace: "apply-flow" }, spec: { selector: { app: "ssa" }, ports: [{ port: 53, protocol: "UDP" }] } };
    const first = await kubectl(sim.kubeconfigPath, ["apply", "--server-side", "-f", await manifest("ssa-1", config("slow"), svc)]);
    expect(first).toMatchObject({ code: 0, stdout: "configmap/ssa serverside-applied\nservice/ssa serverside-applied\n", stderr: "" });
    const second = await kubectl(sim.kubeconfigPath, ["apply", "--server-side", "-f", await manifest("ssa-2", config("fast"), svc)]);
    expect(second).toMatchObject({ code: 0, stdout: "configmap/ssa serverside-applied\nservice/ssa serverside-applied\n" });
    expect((await core.readNamespacedConfigMap({ name: "ssa", namespace: "apply-flow" })).data).toEqual({ mode: "fast" });
    expect((await core.readNamespacedService({ name: "ssa", namespace: "apply-flow" })).spec!.ports).toMatchObject([{ port: 53, protocol: "UDP" }]);
  });

  it("create namespace and create configmap send protobuf bodies that become real objects", async () => {
    expect(await kubectl(sim.kubeconfigPath, ["create", "namespace", "proto"])).toMatchObject({ code: 0, stdout: "namespace/proto created\n", stderr: "" });
    expect((await core.readNamespace({ name: "proto" })).status?.phase).toBe("Active");
    const cm = await kubectl(sim.kubeconfigPath, ["create", "configmap", "cfg", "-n", "proto", "--from-literal=a=1", "--from-literal=b=two", "--from-literal=empty="]);
    expect(cm).toMatchObject({ code: 0, stdout: "configmap/cfg created\n", stderr: "" });
    expect((await core.readNamespacedConfigMap({ name: "cfg", namespace: "proto" })).data).toEqual({ a: "1", b: "two", empty: "" });
  });

  it("create service loadbalancer makes a LoadBalancer Service with node ports", async () => {
    const r = await kubectl(sim.kubeconfigPath, ["create", "service", "loadbalancer", "lb", "-n", "create-flow", "--tcp=80:8080,443:8443"]);
    expect(r).toMatchObject({ code: 0, stdout: "service/lb created\n", stderr: "" });
    const svc = await core.readNamespacedService({ name: "lb", namespace: "create-flow" });
    expect(svc.metadata!.labels).toEqual({ app: "lb" });
    expect(svc.spec).toMatchObject({
      type: "LoadBalancer",
      selector: { app: "lb" },
      ports: [
        { name: "80-8080", port: 80, targetPort: 8080, protocol: "TCP" },
        { name: "443-8443", port: 443, targetPort: 8443, protocol: "TCP" },
      ],
    });
    for (const port of svc.spec!.ports!) expect(port.nodePort).toBeGreaterThanOrEqual(30000);
  });

  it("create secret, serviceaccount, role and clusterrolebinding decode into the objects kubectl meant", async () => {
    const runs = [
      ["create", "secret", "generic", "s1", "-n", "create-flow", "--from-literal=token=abc"],
      ["create", "serviceaccount", "robot", "-n", "create-flow"],
      ["create", "role", "reader", "-n", "create-flow", "--verb=get,list", "--resource=services,endpointslices.discovery.k8s.io"],
      ["create", "clusterrolebinding", "robot-view", "--clusterrole=view", "--serviceaccount=create-flow:robot"],
    ];
    for (const args of runs) {
      const r = await kubectl(sim.kubeconfigPath, args);
      expect(r.stderr, args.join(" ")).toBe("");
      expect(r.code, args.join(" ")).toBe(0);
    }
    expect((await core.readNamespacedSecret({ name: "s1", namespace: "create-flow" })).data).toEqual({ token: Buffer.from("abc").toString("base64") });
    expect((await core.readNamespacedServiceAccount({ name: "robot", namespace: "create-flow" })).metadata!.name).toBe("robot");
    const rbac = sim.client.makeApiClient(RbacAuthorizationV1Api);
    expect((await rbac.readNamespacedRole({ name: "reader", namespace: "create-flow" })).rules).toEqual([
      { verbs: ["get", "list"], apiGroups: [""], resources: ["services"] },
      { verbs: ["get", "list"], apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"] },
    ]);
    expect(await rbac.readClusterRoleBinding({ name: "robot-view" })).toMatchObject({
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "ServiceAccount", name: "robot", namespace: "create-flow" }],
    });
  });

  it("expose deployment --type=LoadBalancer makes a Service selecting the Deployment's pods", async () => {
    const created = await kubectl(sim.kubeconfigPath, ["create", "deployment", "nginx", "-n", "create-flow", "--image=nginx:1.25", "--port=8080", "--replicas=2"]);
    expect(created).toMatchObject({ code: 0, stdout: "deployment.apps/nginx created\n", stderr: "" });
    expect((await apps.readNamespacedDeployment({ name: "nginx", namespace: "create-flow" })).spec).toMatchObject({
      replicas: 2,
      selector: { matchLabels: { app: "nginx" } },
      template: { spec: { containers: [{ name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 8080 }] }] } },
    });
    const exposed = await kubectl(sim.kubeconfigPath, ["expose", "deployment", "nginx", "-n", "create-flow", "--type=LoadBalancer", "--port=80", "--target-port=8080", "--name=nginx-lb"]);
    expect(exposed).toMatchObject({ code: 0, stdout: "service/nginx-lb exposed\n", stderr: "" });
    const svc = await core.readNamespacedService({ name: "nginx-lb", namespace: "create-flow" });
    expect(svc.spec).toMatchObject({ type: "LoadBalancer", selector: { app: "nginx" }, ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }] });
  });
});
