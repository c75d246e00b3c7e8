/**
 * The informer against the simulator's faults (the scenarios of test/kube-sim/informer-faults.test.ts, which
 * checks client-node's informer): after each fault its cache, and the changes it reported, equal the server.
 */
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "../../test/kube-sim/index.ts";
import { createLogger } from "../log.ts";
import { loadClusterAccess } from "./client/cluster-access.ts";
import { createKubeApi } from "./client/http-kube-api.ts";
import type { KubeApi } from "./client/kube-api.ts";
import { services } from "./client/resource-types.ts";
import { startInformer, type ResilientInformer } from "./informer.ts";
import { projectService, type ServiceObject } from "./objects/service.ts";

let sim: KubeSim | undefined;
let informer: ResilientInformer<ServiceObject> | undefined;
let api: KubeApi | undefined;

afterEach(async () => {
  await informer?.stop();
  informer = undefined;
  await api?.close();
  api = undefined;
  await sim?.stop();
  sim = undefined;
});

interface Harness {
  sim: KubeSim;
  informer: ResilientInformer<ServiceObject>;
  /** What onChange reported, applied in order: must end equal to the cache. */
  reported: Map<string, string>;
  lists: () => number;
  errors: () => number;
}

/** A KubeApi that counts lists and failed lists or watches. */
function counting(inner: KubeApi): { api: KubeApi; lists: () => number; errors: () => number } {
  let lists = 0;
  let errors = 0;
  const counted: KubeApi = {
    ...inner,
    list: async (...args) => {
      lists++;
      try {
        return await inner.list(...args);
      } catch (e) {
        errors++;
        throw e;
      }
    },
    watch: async (...args) => {
      try {
        await inner.watch(...args);
      } catch (e) {
        errors++;
        throw e;
      }
    },
  };
  return { api: counted, lists: () => lists, errors: () => errors };
}

const quiet = createLogger("test", "silent", new Writable({ write: (_c, _e, done) => done() }));

async function startServiceInformer(started: KubeSim, allNamespaces = false): Promise<Harness> {
  api = createKubeApi(loadClusterAccess(started.kubeconfigPath, {}));
  const c = counting(api);
  const reported = new Map<string, string>();
  informer = startInformer({
    api: c.api,
    type: services,
    namespace: allNamespaces ? undefined : "default",
    project: projectService,
    log: quiet,
    backoffMs: { initial: 50, max: 400 },
    onChange: (obj, kind) => {
      const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
      if (kind === "delete") reported.delete(key);
      else reported.set(key, obj.metadata.resourceVersion!);
    },
  });
  await informer.synced;
  return { sim: started, informer, reported, lists: c.lists, errors: c.errors };
}

function serverState(s: KubeSim): Record<string, string> {
  const type = s.state.registry.find("", "v1", "services")!;
  return Object.fromEntries(s.state.list(type, "default").map((o) => [o.object.metadata.name!, o.object.metadata.resourceVersion!]));
}

function cacheState(inf: ResilientInformer<ServiceObject>): Record<string, string> {
  return Object.fromEntries(inf.list("default").map((o) => [o.metadata.name!, o.metadata.resourceVersion!]));
}

function reportedState(h: Harness): Record<string, string> {
  return Object.fromEntries([...h.reported].filter(([k]) => k.startsWith("default/")).map(([k, v]) => [k.slice("default/".length), v]));
}

const sorted = (o: Record<string, string>) => JSON.stringify(Object.entries(o).sort());

async function converged(h: Harness, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (true) {
    const want = serverState(h.sim);
    const have = cacheState(h.informer);
    if (sorted(want) === sorted(have) && sorted(want) === sorted(reportedState(h))) return;
    if (Date.now() > deadline) {
      expect(have, "informer cache after the deadline").toEqual(want);
      expect(reportedState(h), "changes reported through onChange").toEqual(want);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Creates, changes and deletes Services in the server (in-process, so the changes do not depend on the faults). */
async function churn(s: KubeSim, tag: string): Promise<void> {
  const type = s.state.registry.find("", "v1", "services")!;
  for (let i = 0; i < 5; i++) {
    s.state.create(type, "default", { metadata: { name: `${tag}-${i}` }, spec: { ports: [{ port: 80 + i }] } });
  }
  s.state.create(type, "kube-system", { metadata: { name: `${tag}-elsewhere` }, spec: { ports: [{ port: 80 }] } });
  const first = s.state.get(type, "default", `${tag}-0`).object;
  s.state.update(type, "default", `${tag}-0`, { ...first, metadata: { ...first.metadata, labels: { changed: "yes" } } });
  s.state.delete(type, "default", `${tag}-1`);
}

async function harness(): Promise<Harness> {
  sim = await startKubeSim();
  await churn(sim, "before");
  const h = await startServiceInformer(sim);
  await converged(h);
  return h;
}

describe("startInformer stays equal to the server", () => {
  it("after dropped watches, resuming without a relist", async () => {
    const h = await harness();
    h.sim.faults.dropWatches();
    await churn(h.sim, "after");
    await converged(h);
    h.sim.faults.dropWatches();
    await churn(h.sim, "again");
    await converged(h);
    expect(h.lists()).toBe(1);
  });

  for (const code of [500, 503, 429] as const) {
    it(`after ${code} answers to its re-watch`, async () => {
      const h = await harness();
      h.sim.faults.failNext(2, code, 1);
      h.sim.faults.dropWatches();
      await churn(h.sim, `after${code}`);
      await converged(h);
      expect(h.errors()).toBeGreaterThan(0);
      expect(h.lists()).toBe(1);
    });
  }

  it("after a failed list on start", async () => {
    sim = await startKubeSim();
    await churn(sim, "before");
    sim.faults.failNext(1, 500);
    const h = await startServiceInformer(sim);
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

  it("across all namespaces after dropped watches and a compaction", async () => {
    sim = await startKubeSim();
    await churn(sim, "before");
    const h = await startServiceInformer(sim, true);
    await converged(h);
    expect(h.informer.get("before-elsewhere", "kube-system")).toBeDefined();
    const listsBefore = h.lists();
    h.sim.faults.setLatency(200);
    h.sim.faults.dropWatches();
    await churn(h.sim, "all");
    h.sim.faults.compact();
    await new Promise((r) => setTimeout(r, 250));
    h.sim.faults.setLatency(0);
    await converged(h);
    expect(h.lists()).toBeGreaterThan(listsBefore);
    expect(h.informer.get("all-elsewhere", "kube-system")).toBeDefined();
  });

  it("after a server restart (connections reset, 100 ms down, state kept)", async () => {
    const h = await harness();
    await h.sim.faults.restart(100);
    await churn(h.sim, "restarted");
    await converged(h);
    expect(h.errors()).toBeGreaterThan(0);
  });
});
