import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadClusterAccess } from "../../shared/kube/client/cluster-access.ts";
import { createKubeApi } from "../../shared/kube/client/http-kube-api.ts";
import type { KubeApi } from "../../shared/kube/client/kube-api.ts";
import { namespaces, type ResourceType } from "../../shared/kube/client/resource-types.ts";
import { startInformer, type ResilientInformer } from "../../shared/kube/informer.ts";
import { projectMeta, type ObjectMeta } from "../../shared/kube/objects/object-meta.ts";
import { createLogger } from "../../shared/log.ts";
import { startKubeSim, type KubeSim } from "../../tools/kube-sim/index.ts";

const widgetCrd = {
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
    versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
  },
};
const crds: ResourceType = { apiVersion: "apiextensions.k8s.io/v1", plural: "customresourcedefinitions" };
const widgets: ResourceType = { apiVersion: "example.com/v1", plural: "widgets" };

interface Widget {
  metadata: ObjectMeta;
}
const projectWidget = (raw: unknown): Widget => ({ metadata: projectMeta((raw as { metadata?: unknown }).metadata) });

describe("an informer on an optional resource (a CRD that may not be installed)", () => {
  let sim: KubeSim;
  let api: KubeApi;
  let informer: ResilientInformer<Widget> | undefined;
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(
    "test",
    "info",
    new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );

  let denyWidgets = false;

  beforeEach(async () => {
    lines.length = 0;
    denyWidgets = false;
    sim = await startKubeSim({ authorize: (_user, a) => ({ allowed: !(denyWidgets && a.resource === "widgets") }) });
    api = createKubeApi(loadClusterAccess(sim.kubeconfigPath, {}));
    await api.create(namespaces, { metadata: { name: "demo" } });
  });
  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    await api.close();
    await sim.stop();
  });

  function start(missingIsEmpty: boolean): ResilientInformer<Widget> {
    return startInformer<Widget>({
      api,
      type: widgets,
      namespace: "demo",
      project: projectWidget,
      log,
      onChange: () => {},
      backoffMs: { initial: 20, max: 50 },
      missingIsEmpty,
      missingRetryMs: 100,
    });
  }

  it("is synced and empty while the CRD is missing, says so once, and lists the objects once the CRD appears", async () => {
    informer = start(true);
    await informer.synced;
    expect(informer.list()).toEqual([]);
    await new Promise((r) => setTimeout(r, 350)); // several retries
    expect(lines.filter((l) => String(l.msg).includes("not served"))).toHaveLength(1);
    expect(lines.find((l) => String(l.msg).includes("not served"))).toMatchObject({ path: "/apis/example.com/v1/namespaces/demo/widgets", retryInMs: 100 });

    await api.create(crds, widgetCrd);
    await api.create({ ...widgets, namespace: "demo" }, { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1" } });
    const deadline = Date.now() + 5_000;
    while (informer.list().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(informer.list().map((o) => o.metadata.name)).toEqual(["w1"]);
  });

  it("keeps its objects when RBAC stops allowing the list, and says so once", async () => {
    await api.create(crds, widgetCrd);
    await api.create({ ...widgets, namespace: "demo" }, { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1" } });
    informer = start(true);
    await informer.synced;
    expect(informer.list().map((o) => o.metadata.name)).toEqual(["w1"]);
    denyWidgets = true;
    sim.faults.dropWatches();
    const forbidden = () => lines.filter((l) => String(l.msg).startsWith("not allowed to list this resource"));
    const deadline = Date.now() + 5_000;
    while (forbidden().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 250)); // several retries
    expect(forbidden()).toHaveLength(1);
    expect(informer.isSynced()).toBe(true);
    expect(informer.list().map((o) => o.metadata.name)).toEqual(["w1"]);
  });

  it("without the option a missing resource keeps it unsynced", async () => {
    informer = start(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(informer.isSynced()).toBe(false);
  });
});
