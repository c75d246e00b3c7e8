import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiException, CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "./index.ts";
import { kubectl, startKubectl } from "./kubectl-runner.ts";
import { requireTools } from "../../test/support/requirements.ts";

const skip = requireTools(["kubectl"]);

const NS = "flows";

describe.skipIf(skip)("kubectl patch, wait and delete against kube-sim", () => {
  let sim: KubeSim;
  let core: CoreV1Api;
  let dir: string;

  async function service(name: string, spec: V1Service["spec"]): Promise<V1Service> {
    return core.createNamespacedService({ namespace: NS, body: { metadata: { name }, spec } });
  }

  async function setIngress(name: string, ip: string): Promise<void> {
    const svc = await core.readNamespacedService({ name, namespace: NS });
    svc.status = { loadBalancer: { ingress: [{ ip }] } };
    await core.replaceNamespacedServiceStatus({ name, namespace: NS, body: svc });
  }

  /** Resolves once reading the object fails with 404; bounded by `timeoutMs`. */
  async function gone(what: string, read: () => Promise<unknown>, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await read();
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return;
        throw e;
      }
      if (Date.now() > deadline) throw new Error(`${what} still exists after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    sim = await startKubeSim();
    core = sim.client.makeApiClient(CoreV1Api);
    dir = await mkdtemp(join(tmpdir(), "kubectl-manifests-"));
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });

  afterAll(async () => {
    await sim?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  describe("patch", () => {
    beforeAll(async () => {
      await service("p", { selector: { app: "p" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] });
    });

    it("-p sends a strategic merge patch that merges Service ports by port", async () => {
      const r = await kubectl(sim.kubeconfigPath, ["patch", "svc", "p", "-n", NS, "-p", '{"spec":{"ports":[{"name":"https","port":443,"targetPort":8443}]}}']);
      expect(r).toMatchObject({ code: 0, stdout: "service/p patched\n", stderr: "" });
      const svc = await core.readNamespacedService({ name: "p", namespace: NS });
      expect(svc.spec!.ports!.map((p) => [p.name, p.port, p.targetPort])).toEqual([["https", 443, 8443], ["http", 80, 8080]]);
    });

    it("--type=merge sends a JSON merge patch", async () => {
      const r = await kubectl(sim.kubeconfigPath, ["patch", "svc", "p", "-n", NS, "--type=merge", "-p", '{"metadata":{"labels":{"team":"net"}},"spec":{"selector":{"tier":"edge"}}}']);
      expect(r).toMatchObject({ code: 0, stdout: "service/p patched\n", stderr: "" });
      const svc = await core.readNamespacedService({ name: "p", namespace: NS });
      expect(svc.metadata!.labels).toEqual({ team: "net" });
      expect(svc.spec!.selector).toEqual({ app: "p", tier: "edge" });
    });

    it("--type=json sends a JSON patch", async () => {
      const r = await kubectl(sim.kubeconfigPath, ["patch", "svc", "p", "-n", NS, "--type=json", "-p", '[{"op":"replace","path":"/spec/type","value":"LoadBalancer"},{"op":"remove","path":"/spec/selector/tier"}]']);
      expect(r).toMatchObject({ code: 0, stdout: "service/p patched\n", stderr: "" });
      const svc = await core.readNamespacedService({ name: "p", namespace: NS });
      expect(svc.spec!.type).toBe("LoadBalancer");
      expect(svc.spec!.selector).toEqual({ app: "p" });
      for (const port of svc.spec!.ports!) expect(port.nodePort).toBeGreaterThanOrEqual(30000);
    });

    it("reports a patch that changes nothing as no change", async () => {
      const r = await kubectl(sim.kubeconfigPath, ["patch", "svc", "p", "-n", NS, "-p", '{"spec":{"type":"LoadBalancer"}}']);
      expect(r).toMatchObject({ code: 0, stdout: "service/p patched (no change)\n" });
    });

    it("a malformed strategic merge patch fails with the server's reason", async () => {
      const r = await kubectl(sim.kubeconfigPath, ["patch", "svc", "p", "-n", NS, "-p", '{"spec":{"ports":[{"name":"no-port-key"}]}}']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('has no merge key "port"');
    });
  });

  describe("wait --for=jsonpath", () => {
    const forIngress = (ip: string) => `--for=jsonpath={.status.loadBalancer.ingress[0].ip}=${ip}`;

    it("returns once the /status subresource sets the ingress IP", async () => {
      await service("later", { type: "LoadBalancer", selector: { app: "later" }, ports: [{ port: 80 }] });
      const wait = startKubectl(sim.kubeconfigPath, ["wait", "-n", NS, "svc/later", forIngress("192.0.2.77"), "--timeout=15s"]);
      await new Promise((r) => setTimeout(r, 500));
      expect(wait.stdout()).toBe("");
      await setIngress("later", "192.0.2.77");
      expect(await wait.done).toMatchObject({ code: 0, stdout: "service/later condition met\n", stderr: "" });
    });

    it("returns at once when the condition already holds", async () => {
      await service("already", { type: "LoadBalancer", selector: { app: "already" }, ports: [{ port: 80 }] });
      await setIngress("already", "192.0.2.78");
      const started = Date.now();
      const r = await kubectl(sim.kubeconfigPath, ["wait", "-n", NS, "svc/already", forIngress("192.0.2.78"), "--timeout=15s"]);
      expect(r).toMatchObject({ code: 0, stdout: "service/already condition met\n", stderr: "" });
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it("waits without a value for the field to appear", async () => {
      await service("anyip", { type: "LoadBalancer", selector: { app: "anyip" }, ports: [{ port: 80 }] });
      const wait = startKubectl(sim.kubeconfigPath, ["wait", "-n", NS, "svc/anyip", "--for=jsonpath={.status.loadBalancer.ingress[0].ip}", "--timeout=15s"]);
      await new Promise((r) => setTimeout(r, 300));
      await setIngress("anyip", "192.0.2.79");
      expect(await wait.done).toMatchObject({ code: 0, stdout: "service/anyip condition met\n" });
    });

    it("times out with kubectl's message when the condition never holds", async () => {
      await service("never", { type: "LoadBalancer", selector: { app: "never" }, ports: [{ port: 80 }] });
      const r = await kubectl(sim.kubeconfigPath, ["wait", "-n", NS, "svc/never", forIngress("192.0.2.80"), "--timeout=1s"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("timed out waiting for the condition on services/never");
    });
  });

  it("delete -f deletes a namespace and the objects listed inside it, in file order", async () => {
    const file = join(dir, "gone.yaml");
    const objects = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "gone" } },
      { apiVersion: "v1", kind: "Service", metadata: { name: "a", namespace: "gone" }, spec: { selector: { app: "a" }, ports: [{ port: 80 }] } },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b", namespace: "gone" }, data: { k: "v" } },
    ];
    await writeFile(file, objects.map((o) => stringify(o)).join("---\n"));
    expect(await kubectl(sim.kubeconfigPath, ["apply", "-f", file])).toMatchObject({
      code: 0,
      stdout: "namespace/gone created\nservice/a created\nconfigmap/b created\n",
    });

    const r = await kubectl(sim.kubeconfigPath, ["delete", "-f", file, "--timeout=20s"], { timeoutMs: 30_000 });
    expect(r).toMatchObject({ code: 0, stdout: 'namespace "gone" deleted\nservice "a" deleted\nconfigmap "b" deleted\n', stderr: "" });
    await gone("service gone/a", () => core.readNamespacedService({ name: "a", namespace: "gone" }));
    await gone("configmap gone/b", () => core.readNamespacedConfigMap({ name: "b", namespace: "gone" }));
    await gone("namespace gone", () => core.readNamespace({ name: "gone" }));
  });
});
