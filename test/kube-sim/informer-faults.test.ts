import { CoreV1Api, makeInformer, type Informer, type KubeConfig, type ObjectCache, type V1Service } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "./index.ts";

type ServiceInformer = Informer<V1Service> & ObjectCache<V1Service>;

let sim: KubeSim | undefined;
let informer: ServiceInformer | undefined;
let stopping = false;

afterEach(async () => {
  stopping = true;
  await informer?.stop();
  informer = undefined;
  stopping = false;
  await sim?.stop();
  sim = undefined;
});

interface Harness {
  sim: KubeSim;
  informer: ServiceInformer;
  lists: () => number;
  errors: () => number;
}

/**
 * A client-node informer on Services in "default" (or in all namespaces) that restarts itself after errors, like
 * a resilient controller.
 */
async function startInformer(kc: KubeConfig, started: KubeSim, allNamespaces = false): Promise<Harness> {
  const core = kc.makeApiClient(CoreV1Api);
  let lists = 0;
  let errors = 0;
  const path = allNamespaces ? "/api/v1/services" : "/api/v1/namespaces/default/services";
  const inf = makeInformer(kc, path, () => {
    lists++;
    return allNamespaces ? core.listServiceForAllNamespaces() : core.listNamespacedService({ namespace: "default" });
  });
  informer = inf;
  inf.on("error", () => {
    errors++;
    setTimeout(() => {
      if (!stopping && informer === inf) inf.start().catch(() => undefined);
    }, 50);
  });
  await inf.start();
  return { sim: started, informer: inf, lists: () => lists, errors: () => errors };
}

function serverState(s: KubeSim): Record<string, string> {
  const services = s.state.registry.find("", "v1", "services")!;
  return Object.fromEntries(s.state.list(services, "default").map((o) => [o.object.metadata.name!, o.object.metadata.resourceVersion!]));
}

function cacheState(inf: ServiceInformer): Record<string, string> {
  return Object.fromEntries(inf.list("default").map((o) => [o.metadata!.name!, o.metadata!.resourceVersion!]));
}

async function converged(h: Harness, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (true) {
    const want = serverState(h.sim);
    const have = cacheState(h.informer);
    if (JSON.stringify(Object.entries(want).sort()) === JSON.stringify(Object.entries(have).sort())) return;
    if (Date.now() > deadline) expect(have, "informer cache after the deadline").toEqual(want);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Creates, changes and deletes Services in the server (in-process, so the changes do not depend on the faults). */
async function churn(s: KubeSim, tag: string): Promise<void> {
  const services = s.state.registry.find("", "v1", "services")!;
  for (let i = 0; i < 5; i++) {
    s.state.create(services, "default", { metadata: { name: `${tag}-${i}` }, spec: { ports: [{ port: 80 + i }] } });
  }
  const first = s.state.get(services, "default", `${tag}-0`).object;
  s.state.update(services, "default", `${tag}-0`, { ...first, metadata: { ...first.metadata, labels: { changed: "yes" } } });
  s.state.delete(services, "default", `${tag}-1`);
}

async function harness(): Promise<Harness> {
  sim = await startKubeSim();
  await churn(sim, "before");
  const h = await startInformer(sim.client, sim);
  await converged(h);
  return h;
}

describe("a client-node informer stays equal to the server", () => {
  it("after dropped watches", async () => {
    const h = await harness();
    h.sim.faults.dropWatches();
    await churn(h.sim, "after");
    await converged(h);
    h.sim.faults.dropWatches();
    await churn(h.sim, "again");
    await converged(h);
  });

  for (const code of [500, 503, 429] as const) {
    it(`after ${code} answers to its re-watch`, async () => {
      const h = await harness();
      h.sim.faults.failNext(2, code, 1);
      h.sim.faults.dropWatches();
      await churn(h.sim, `after${code}`);
      await converged(h);
      expect(h.errors()).toBeGreaterThan(0);
    });
  }

  it("after a failed list on start", async () => {
    sim = await startKubeSim();
    await churn(sim, "before");
    sim.faults.failNext(1, 500);
    const h = await startInformer(sim.client, sim);
    await churn(sim, "after");
    await converged(h);
    expect(h.errors()).toBe(1);
    expect(h.lists()).toBe(2);
  });

  it("with added latency", async () => {
    const h = await harness();
    h.sim.faults.setLatency(150);
    h.sim.faults.dropWatches();
    await churn(h.sim, "slow");
    await converged(h);
    h.sim.faults.setLatency(0);
  });

  it("after compaction: the re-watch gets 410 Gone, the informer relists and converges", async () => {
    const h = await harness();
    const listsBefore = h.lists();
    // Hold the re-watch in the server long enough for changes and a compaction to pass its resourceVersion.
    h.sim.faults.setLatency(200);
    h.sim.faults.dropWatches();
    await churn(h.sim, "compacted");
    h.sim.faults.compact();
    await new Promise((r) => setTimeout(r, 250));
    h.sim.faults.setLatency(0);
    await converged(h);
    expect(h.lists()).toBeGreaterThan(listsBefore);
  });

  it("across all namespaces (listServiceForAllNamespaces) after dropped watches and a compaction", async () => {
    sim = await startKubeSim();
    await churn(sim, "before");
    const h = await startInformer(sim.client, sim, true);
    await converged(h);
    const listsBefore = h.lists();
    h.sim.faults.setLatency(200);
    h.sim.faults.dropWatches();
    await churn(h.sim, "all");
    h.sim.faults.compact();
    await new Promise((r) => setTimeout(r, 250));
    h.sim.faults.setLatency(0);
    await converged(h);
    expect(h.lists()).toBeGreaterThan(listsBefore);
  });

  it("after a server restart (connections reset, 100 ms down, state kept)", async () => {
    const h = await harness();
    await h.sim.faults.restart(100);
    await churn(h.sim, "restarted");
    await converged(h);
    expect(h.errors()).toBeGreaterThan(0);
  });
});
