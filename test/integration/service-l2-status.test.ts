import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, type KubernetesObject } from "@kubernetes/client-node";
import { loadClusterAccess } from "../../shared/kube/client/cluster-access.ts";
import { createKubeApi } from "../../shared/kube/client/http-kube-api.ts";
import type { KubeApi } from "../../shared/kube/client/kube-api.ts";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../shared/log.ts";
import type { AnnouncedL2Service, ServiceL2StatusFields } from "../../speaker/status/service-l2-status.ts";
import { startServiceL2StatusWriter, type ServiceL2StatusWriter } from "../../speaker/status/service-l2-status-writer.ts";
import { enforceManifestRbac } from "../e2e/rbac-identities.ts";
import { serviceAccountGroups, startKubeSim, type KubeSim } from "../../tools/kube-sim/index.ts";
import { kubectl } from "../../tools/kube-sim/kubectl-runner.ts";
import { eventually } from "../../tools/support/eventually.ts";
import { requireTools } from "../support/requirements.ts";
import { RbacAuthorizer } from "../../tools/kube-sim/rbac-authorizer.ts";
import { loadManifests, manifestsDir } from "../../tools/lab/load-manifests.ts";
import { ensureNamespace } from "../../tools/lab/controller-harness.ts";

const namespace = "metallb-system";
const where = { group: "metallb.io", version: "v1beta1", namespace, plural: "servicel2statuses" };

interface L2Status {
  metadata: { name: string; generateName?: string; resourceVersion: string; labels?: Record<string, string>; ownerReferences?: unknown[] };
  spec?: unknown;
  status?: ServiceL2StatusFields;
}

let sim: KubeSim;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let writers: ServiceL2StatusWriter[];
let apis: KubeApi[] = [];

/** The speaker's own client on `kubeconfig`, closed after the test. */
function apiFor(kubeconfig: string): KubeApi {
  const api = createKubeApi(loadClusterAccess(kubeconfig));
  apis.push(api);
  return api;
}
let logs: Record<string, unknown>[];

beforeEach(async () => {
  sim = await startKubeSim();
  core = sim.client.makeApiClient(CoreV1Api);
  custom = sim.client.makeApiClient(CustomObjectsApi);
  await ensureNamespace(core, namespace);
  writers = [];
  logs = [];
});

afterEach(async () => {
  await Promise.all(writers.map((w) => w.stop()));
  await Promise.all(apis.map((a) => a.close()));
  apis = [];
  await sim.stop();
});

/** Applies the servicel2statuses CRD from manifests/01-crds.yaml and waits until it is served. */
async function installCrd(): Promise<void> {
  const crd = (await loadManifests([join(manifestsDir, "01-crds.yaml")])).find((o) => o.metadata.name === "servicel2statuses.metallb.io");
  if (!crd) throw new Error("manifests/01-crds.yaml has no CustomResourceDefinition servicel2statuses.metallb.io");
  await KubernetesObjectApi.makeApiClient(sim.client).create(structuredClone(crd) as KubernetesObject);
  let refused: unknown;
  await eventually(
    async () => {
      try {
        await custom.listNamespacedCustomObject(where);
        return true;
      } catch (err) {
        refused = err; // until the kind is served
        return undefined;
      }
    },
    { ms: 5_000, what: "the ServiceL2Status CRD to be served", everyMs: 50, detail: () => String(refused) },
  );
}

function startWriter(node: string, opts: { kubeconfig?: string; pod?: { name: string; uid: string }; registry?: Registry } = {}): ServiceL2StatusWriter {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line) logs.push({ node, ...(JSON.parse(line) as Record<string, unknown>) });
      done();
    },
  });
  const writer = startServiceL2StatusWriter({
    api: apiFor(opts.kubeconfig ?? sim.kubeconfigPath),
    namespace,
    node,
    pod: opts.pod,
    log: createLogger("speaker", "debug", sink),
    registry: opts.registry,
    crdRetryMs: 200,
  });
  writers.push(writer);
  return writer;
}

async function statuses(): Promise<L2Status[]> {
  const list = (await custom.listNamespacedCustomObject(where)) as { items: L2Status[] };
  return list.items;
}

/** "node namespace/name interfaces" for every object, sorted: what `kubectl get servicel2statuses` tells. */
async function summary(): Promise<string[]> {
  return (await statuses())
    .map((o) => `${o.status?.node ?? "-"} ${o.status?.serviceNamespace ?? "-"}/${o.status?.serviceName ?? "-"} ${(o.status?.interfaces ?? []).map((i) => i.name).join(",")}`.trim())
    .sort();
}

/** Waits until the objects read `want`. */
async function converged(want: string[], ms = 10_000): Promise<void> {
  let last: string[] = [];
  await eventually(
    async () => {
      last = await summary();
      return JSON.stringify(last) === JSON.stringify([...want].sort()) ? true : undefined;
    },
    { ms, what: `ServiceL2Statuses ${JSON.stringify(want)}`, everyMs: 50 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last seen ${JSON.stringify(last)}`);
  });
}

const announce = (entries: Record<string, string[] | AnnouncedL2Service>) =>
  new Map<string, AnnouncedL2Service>(Object.entries(entries).map(([k, v]) => [k, Array.isArray(v) ? { interfaces: v } : v]));

const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

describe("ServiceL2Status writer against the API simulator", () => {
  it("writes one ServiceL2Status per announced Service, in MetalLB's shape, owned by the speaker Pod", async () => {
    await installCrd();
    const pod = await core.createNamespacedPod({ namespace, body: { metadata: { name: "speaker-x7k2p" }, spec: { containers: [{ name: "speaker", image: "baremetal-lb" }] } } });
    const writer = startWriter("node-1", { pod: { name: "speaker-x7k2p", uid: pod.metadata!.uid! } });
    writer.sync(announce({ "default/web": ["eth0", "eth1"], "shop/api": [] }));
    await converged(["node-1 default/web eth0,eth1", "node-1 shop/api"]);

    const web = (await statuses()).find((o) => o.status?.serviceName === "web")!;
    expect(web.metadata.name).toMatch(/^l2-[a-z0-9]{5}$/);
    expect(web.metadata.generateName).toBe("l2-");
    expect(web.metadata.labels).toEqual({ "metallb.io/node": "node-1", "metallb.io/service-name": "web", "metallb.io/service-namespace": "default" });
    expect(web.metadata.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Pod", name: "speaker-x7k2p", uid: pod.metadata!.uid }]);
    expect(web.spec).toEqual({});
    expect(web.status).toEqual({ node: "node-1", serviceName: "web", serviceNamespace: "default", interfaces: [{ name: "eth0" }, { name: "eth1" }] });
    const api = (await statuses()).find((o) => o.status?.serviceName === "api")!;
    expect(api.status).toEqual({ node: "node-1", serviceName: "api", serviceNamespace: "shop" });
  });

  it("makes no writes at steady state, and updates the status in place when the interfaces change", async () => {
    await installCrd();
    const registry = new Registry();
    const writer = startWriter("node-1", { registry });
    writer.sync(announce({ "default/web": ["eth0"] }));
    await converged(["node-1 default/web eth0"]);
    const [before] = await statuses();
    for (let i = 0; i < 20; i++) writer.sync(announce({ "default/web": ["eth0"] }));
    await settle();
    const [still] = await statuses();
    expect(still.metadata.resourceVersion).toBe(before.metadata.resourceVersion);

    writer.sync(announce({ "default/web": ["eth1"] }));
    await converged(["node-1 default/web eth1"]);
    const [after] = await statuses();
    expect(after.metadata.name).toBe(before.metadata.name);
    writer.sync(announce({ "default/web": [] }));
    await converged(["node-1 default/web"]);

    const writes = await registry.getSingleMetric("baremetal_lb_service_l2_status_writes_total")!.get();
    expect(writes.values.map((v) => `${v.labels.verb} ${v.labels.result} ${v.value}`).sort()).toEqual(["create ok 1", "update_status ok 3"]);
  });

  it("a Service moving to another node: the old announcer deletes its object, the new one creates its own", async () => {
    await installCrd();
    const node1 = startWriter("node-1");
    const node2 = startWriter("node-2");
    node1.sync(announce({ "default/web": ["eth0"], "default/db": [] }));
    node2.sync(announce({}));
    await converged(["node-1 default/db", "node-1 default/web eth0"]);
    const old = (await statuses()).find((o) => o.status?.serviceName === "web")!.metadata.name;

    node1.sync(announce({ "default/db": [] }));
    node2.sync(announce({ "default/web": ["eth2"] }));
    await converged(["node-1 default/db", "node-2 default/web eth2"]);
    const moved = (await statuses()).find((o) => o.status?.serviceName === "web")!;
    expect(moved.metadata.name).not.toBe(old);
    expect(moved.metadata.labels?.["metallb.io/node"]).toBe("node-2");
  });

  it("the new announcer removes the object of a dead announcer, which cannot clean up", async () => {
    await installCrd();
    const node1 = startWriter("node-1");
    node1.sync(announce({ "default/web": [] }));
    await converged(["node-1 default/web"]);
    await node1.stop(); // node-1 is gone: it stops writing and never deletes its object

    const node2 = startWriter("node-2");
    node2.sync(announce({ "default/web": [] }));
    await converged(["node-2 default/web"]);
  });

  it("deletes its object when the Service is no longer announced (Service deleted)", async () => {
    await installCrd();
    const writer = startWriter("node-1");
    writer.sync(announce({ "default/web": [], "default/db": [] }));
    await converged(["node-1 default/db", "node-1 default/web"]);
    writer.sync(announce({ "default/db": [] }));
    await converged(["node-1 default/db"]);
    writer.sync(announce({}));
    await converged([]);
  });

  it("a dual-stack Service announced by two nodes keeps both objects, with no tug of war", async () => {
    await installCrd();
    const registry = new Registry();
    const node1 = startWriter("node-1", { registry });
    const node2 = startWriter("node-2");
    node1.sync(announce({ "default/web": { interfaces: [], alsoAnnouncedBy: ["node-2"] } }));
    node2.sync(announce({ "default/web": { interfaces: [], alsoAnnouncedBy: ["node-1"] } }));
    await converged(["node-1 default/web", "node-2 default/web"]);
    const before = (await statuses()).map((o) => o.metadata.resourceVersion).sort();
    await settle(500);
    expect((await statuses()).map((o) => o.metadata.resourceVersion).sort()).toEqual(before);
    const writes = await registry.getSingleMetric("baremetal_lb_service_l2_status_writes_total")!.get();
    expect(writes.values.reduce((n, v) => n + v.value, 0)).toBe(2);
  });

  it("without the CRD it logs once and writes nothing, and starts writing once the CRD is applied", async () => {
    const writer = startWriter("node-1");
    writer.sync(announce({ "default/web": ["eth0"] }));
    await settle(1_000); // five lookups, 200 ms apart
    const missing = logs.filter((l) => String(l.msg).startsWith("ServiceL2Status CRD not installed"));
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ level: 40, resource: "servicel2statuses.metallb.io" });

    await installCrd();
    await converged(["node-1 default/web eth0"]);
  });

  it.skipIf(requireTools(["kubectl"]))("kubectl get servicel2statuses shows the announcing node of each Service", async () => {
    await installCrd();
    const writer = startWriter("node-1");
    writer.sync(announce({ "default/web": ["eth0"] }));
    await converged(["node-1 default/web eth0"]);
    const r = await kubectl(sim.kubeconfigPath, ["get", "servicel2statuses", "-n", namespace]);
    expect(r.code).toBe(0);
    const [header, row] = r.stdout.trim().split("\n").map((line) => line.split(/\s{2,}/));
    expect(header).toEqual(["NAME", "ALLOCATED NODE", "SERVICE NAME", "SERVICE NAMESPACE"]);
    expect(row.slice(0, 4)).toEqual([expect.stringMatching(/^l2-/), "node-1", "web", "default"]);
  });

  /** Restarts the simulator with RBAC enforced and the CRD installed; returns the authorizer. */
  async function restartWithRbac(): Promise<RbacAuthorizer> {
    const rbac = new RbacAuthorizer();
    await sim.stop();
    sim = await startKubeSim({ authorize: rbac.authorize });
    rbac.attach(sim.state);
    core = sim.client.makeApiClient(CoreV1Api);
    custom = sim.client.makeApiClient(CustomObjectsApi);
    await ensureNamespace(core, namespace);
    await installCrd();
    return rbac;
  }

  /** A dead node-1's object replaced by node-2, then removed: every call the writer makes. */
  async function exerciseEveryCall(kubeconfig: string, rbac: RbacAuthorizer): Promise<void> {
    const node1 = startWriter("node-1", { kubeconfig });
    node1.sync(announce({ "default/web": ["eth0"] }));
    await converged(["node-1 default/web eth0"], 5_000).catch((err: Error) => {
      const refused = rbac.denials().map((d) => `${d.verb} ${d.resource}`);
      throw new Error(`${err.message}; refused: ${refused.join(", ") || "none"}`);
    });
    await node1.stop();
    const node2 = startWriter("node-2", { kubeconfig });
    node2.sync(announce({ "default/web": [] }));
    await converged(["node-2 default/web"]);
    node2.sync(announce({}));
    await converged([]);
  }

  it("needs exactly list, watch, create, delete on servicel2statuses and patch on servicel2statuses/status", async () => {
    const rbac = await restartWithRbac();
    const rbacApi = KubernetesObjectApi.makeApiClient(sim.client);
    const user = `system:serviceaccount:${namespace}:l2-status-test`;
    await rbacApi.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "service-l2-status", namespace },
      rules: [
        { apiGroups: ["metallb.io"], resources: ["servicel2statuses"], verbs: ["list", "watch", "create", "delete"] },
        { apiGroups: ["metallb.io"], resources: ["servicel2statuses/status"], verbs: ["patch"] },
      ],
    } as KubernetesObject);
    await rbacApi.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "service-l2-status", namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "service-l2-status" },
      subjects: [{ kind: "ServiceAccount", name: "l2-status-test", namespace }],
    } as KubernetesObject);
    const dir = await mkdtemp(join(tmpdir(), "l2status-rbac-"));
    const kubeconfig = join(dir, "kubeconfig");
    await sim.issueKubeconfig(kubeconfig, { name: user, groups: serviceAccountGroups(namespace) });

    await exerciseEveryCall(kubeconfig, rbac);
    expect(rbac.denials()).toEqual([]);
    const used = new Set(rbac.usage().filter((u) => u.user === user).map((u) => `${u.verb} ${u.resource}`));
    expect([...used].sort()).toEqual([
      "create servicel2statuses",
      "delete servicel2statuses",
      "list servicel2statuses",
      "patch servicel2statuses/status",
      "watch servicel2statuses",
    ]);
  });

  it("works under the speaker's RBAC from manifests/, with no request refused", async () => {
    const rbac = await restartWithRbac();
    const dir = await mkdtemp(join(tmpdir(), "l2status-rbac-"));
    const paths = { controller: join(dir, "controller.kubeconfig"), speaker: join(dir, "speaker.kubeconfig") };
    await enforceManifestRbac(sim, rbac, paths);
    await sim.issueKubeconfig(paths.speaker, { name: `system:serviceaccount:${namespace}:speaker`, groups: serviceAccountGroups(namespace) });
    await exerciseEveryCall(paths.speaker, rbac);
    expect(rbac.denials().filter((d) => d.resource.startsWith("servicel2statuses"))).toEqual([]);
  });
});
