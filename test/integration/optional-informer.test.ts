import { ApiextensionsV1Api, CustomObjectsApi, type KubernetesObject } from "@kubernetes/client-node";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startInformer, type ResilientInformer } from "../../shared/kube/informer.ts";
import { createLogger } from "../../shared/log.ts";
import { startKubeSim, type KubeSim } from "../kube-sim/index.ts";
import { ensureNamespace } from "./controller-harness.ts";
import { CoreV1Api } from "@kubernetes/client-node";

const widgetCrd = {
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
    versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
  },
};

describe("an informer on an optional resource (a CRD that may not be installed)", () => {
  let sim: KubeSim;
  let informer: ResilientInformer<KubernetesObject> | undefined;
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

  beforeEach(async () => {
    sim = await startKubeSim();
    await ensureNamespace(sim.client.makeApiClient(CoreV1Api), "demo");
  });
  afterEach(async () => {
    await informer?.stop();
    await sim.stop();
  });

  function start(missingIsEmpty: boolean): ResilientInformer<KubernetesObject> {
    const custom = sim.client.makeApiClient(CustomObjectsApi);
    return startInformer<KubernetesObject>({
      kc: sim.client,
      path: "/apis/example.com/v1/namespaces/demo/widgets",
      list: () => custom.listNamespacedCustomObject({ group: "example.com", version: "v1", namespace: "demo", plural: "widgets" }),
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

    await sim.client.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: widgetCrd });
    const custom = sim.client.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({ group: "example.com", version: "v1", namespace: "demo", plural: "widgets", body: { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1" } } });
    const deadline = Date.now() + 5_000;
    while (informer.list().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(["w1"]);
  });

  it("without the option a missing resource keeps it unsynced", async () => {
    informer = start(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(informer.isSynced()).toBe(false);
  });
});
