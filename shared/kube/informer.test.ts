import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim, type KubeSimOptions } from "../../tools/kube-sim/index.ts";
import { eventually } from "../../tools/support/eventually.ts";
import { createLogger } from "../log.ts";
import { loadClusterAccess } from "./client/cluster-access.ts";
import { createKubeApi } from "./client/http-kube-api.ts";
import type { KubeApi } from "./client/kube-api.ts";
import { configMaps } from "./client/resource-types.ts";
import { startInformer, type InformerOptions, type ResilientInformer } from "./informer.ts";
import { projectConfigMap, type ConfigMapObject } from "./objects/config-map.ts";

let sim: KubeSim | undefined;
let api: KubeApi | undefined;
let informer: ResilientInformer<ConfigMapObject> | undefined;

afterEach(async () => {
  await informer?.stop();
  informer = undefined;
  await api?.close();
  api = undefined;
  await sim?.stop();
  sim = undefined;
});

const inDefault = { ...configMaps, namespace: "default" };

interface Setup {
  sim: KubeSim;
  api: KubeApi;
  informer: ResilientInformer<ConfigMapObject>;
  changes: string[];
  logs: Record<string, unknown>[];
  requests: { lists: number; watches: number };
}

async function setup(simOpts: KubeSimOptions = {}, opts: Partial<InformerOptions<ConfigMapObject>> = {}, before?: (api: KubeApi) => Promise<void>): Promise<Setup> {
  sim = await startKubeSim(simOpts);
  api = createKubeApi(loadClusterAccess(sim.kubeconfigPath, {}));
  if (before) await before(api);
  const inner = api;
  const requests = { lists: 0, watches: 0 };
  const counted: KubeApi = {
    ...inner,
    list: (...args) => (requests.lists++, inner.list(...args)),
    watch: (...args) => (requests.watches++, inner.watch(...args)),
  };
  const changes: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const log = createLogger(
    "test",
    "debug",
    new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );
  informer = startInformer<ConfigMapObject>({
    api: counted,
    type: configMaps,
    namespace: "default",
    project: projectConfigMap,
    log,
    onChange: (o, kind) => changes.push(`${kind} ${o.metadata.name}`),
    backoffMs: { initial: 20, max: 100 },
    ...opts,
  });
  return { sim, api, informer, changes, logs, requests };
}

describe("startInformer", () => {
  it("caches projections of listed objects and reports later adds, updates and deletes", async () => {
    const s = await setup({}, {}, async (api) => {
      await api.create(inDefault, { metadata: { name: "listed", annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{…}", "metallb.io/keep": "y" } }, data: { a: "1" } });
      await api.create({ ...configMaps, namespace: "kube-system" }, { metadata: { name: "elsewhere" } });
    });
    await s.informer.synced;
    expect(s.informer.isSynced()).toBe(true);
    const listed = s.informer.get("listed", "default")!;
    expect(listed).toEqual({ metadata: expect.objectContaining({ name: "listed", namespace: "default", annotations: { "metallb.io/keep": "y" } }), data: { a: "1" } });
    expect(s.informer.get("elsewhere", "kube-system")).toBeUndefined();
    expect(s.changes).toEqual(["add listed"]);

    await s.api.create(inDefault, { metadata: { name: "new" } });
    await s.api.patch({ ...inDefault, name: "listed" }, { data: { a: "2" } }, "merge");
    await s.api.delete({ ...inDefault, name: "new" });
    await eventually(() => s.changes.length === 4, { ms: 5_000, what: "three more changes", everyMs: 10 });
    expect(s.changes).toEqual(["add listed", "add new", "update listed", "delete new"]);
    expect(s.informer.get("listed", "default")?.data).toEqual({ a: "2" });
    expect(s.informer.list("default").map((o) => o.metadata.name)).toEqual(["listed"]);
    expect(s.informer.list().map((o) => o.metadata.name)).toEqual(["listed"]);
  });

  it("resumes from a bookmark's resourceVersion after the history is compacted, without relisting", async () => {
    const s = await setup({ bookmarkIntervalMs: 50 });
    await s.informer.synced;
    // Changes elsewhere move the resourceVersion on; only bookmarks tell this informer about it.
    for (let i = 0; i < 5; i++) await s.api.create({ ...configMaps, namespace: "kube-system" }, { metadata: { name: `o${i}` } });
    await new Promise((r) => setTimeout(r, 200));
    s.sim.faults.compact();
    s.sim.faults.dropWatches();
    await s.api.create(inDefault, { metadata: { name: "after" } });
    await eventually(() => s.informer!.get("after", "default") !== undefined, { ms: 5_000, what: "the object created after the compaction", everyMs: 10 });
    expect(s.requests.lists).toBe(1);
    expect(s.requests.watches).toBe(2);
  });

  it("relists after 410 Gone and reports the deletes the relist finds", async () => {
    const s = await setup({}, {}, async (api) => {
      for (const name of ["keep", "drop"]) await api.create(inDefault, { metadata: { name } });
    });
    await s.informer.synced;
    await new Promise((r) => setTimeout(r, 100)); // the watch is open
    s.sim.faults.setLatency(200);
    s.sim.faults.dropWatches();
    const type = s.sim.state.registry.find("", "v1", "configmaps")!;
    s.sim.state.delete(type, "default", "drop");
    s.sim.state.create(type, "default", { metadata: { name: "added" } });
    s.sim.faults.compact();
    await new Promise((r) => setTimeout(r, 250));
    s.sim.faults.setLatency(0);
    await eventually(() => s.changes.includes("delete drop") && s.changes.includes("add added"), { ms: 5_000, what: "the relist's changes", everyMs: 10 });
    expect(s.requests.lists).toBe(2);
    expect(s.informer.list().map((o) => o.metadata.name).sort()).toEqual(["added", "keep"]);
    expect(s.logs.some((l) => l.msg === "watch history expired (410 Gone); relisting")).toBe(true);
  });

  it("waits the Retry-After of a 429 before watching again", async () => {
    const s = await setup();
    await s.informer.synced;
    s.sim.faults.failNext(1, 429, 1);
    const t0 = Date.now();
    s.sim.faults.dropWatches();
    // In-process, so that the re-watch is the request that gets the 429.
    s.sim.state.create(s.sim.state.registry.find("", "v1", "configmaps")!, "default", { metadata: { name: "later" } });
    await eventually(() => s.informer!.get("later", "default") !== undefined, { ms: 5_000, what: "the object after the 429", everyMs: 10 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    const warning = s.logs.find((l) => l.msg === "watch failed, restarting");
    expect(warning).toMatchObject({ retryInMs: 1000, path: "/api/v1/namespaces/default/configmaps" });
    expect(String(warning?.err)).toMatch(/^HTTP 429/);
  });

  it("watches only what its selectors select", async () => {
    const s = await setup({}, { labelSelector: "pick=yes" }, async (api) => {
      await api.create(inDefault, { metadata: { name: "picked", labels: { pick: "yes" } } });
      await api.create(inDefault, { metadata: { name: "skipped" } });
    });
    await s.informer.synced;
    await s.api.create(inDefault, { metadata: { name: "picked-later", labels: { pick: "yes" } } });
    await s.api.create(inDefault, { metadata: { name: "skipped-later" } });
    await eventually(() => s.changes.length === 2, { ms: 5_000, what: "two adds", everyMs: 10 });
    expect(s.changes).toEqual(["add picked", "add picked-later"]);
  });

  it("logs a throwing change handler and carries on", async () => {
    let calls = 0;
    const s = await setup({}, {
      onChange: () => {
        calls++;
        throw new Error("handler bug");
      },
    });
    await s.informer.synced;
    await s.api.create(inDefault, { metadata: { name: "a" } });
    await s.api.create(inDefault, { metadata: { name: "b" } });
    await eventually(() => calls === 2, { ms: 5_000, what: "both changes handled", everyMs: 10 });
    expect(s.informer.list().length).toBe(2);
    expect(s.logs.filter((l) => l.msg === "informer change handler failed")).toHaveLength(2);
    expect(s.requests.watches).toBe(1);
  });

  it("skips an object its projection cannot read, and logs it", async () => {
    const project = (raw: unknown) => {
      const o = projectConfigMap(raw);
      if (o.metadata.name?.startsWith("bad")) throw new Error("unreadable");
      return o;
    };
    const s = await setup({}, { project }, async (api) => {
      await api.create(inDefault, { metadata: { name: "bad-listed" } });
      await api.create(inDefault, { metadata: { name: "good-listed" } });
    });
    await s.informer.synced;
    await s.api.create(inDefault, { metadata: { name: "bad-watched" } });
    await s.api.create(inDefault, { metadata: { name: "good-watched" } });
    await eventually(() => s.informer!.get("good-watched", "default") !== undefined, { ms: 5_000, what: "the good object after the bad one", everyMs: 10 });
    expect(s.informer.list().map((o) => o.metadata.name).sort()).toEqual(["good-listed", "good-watched"]);
    expect(s.logs.filter((l) => l.msg === "object skipped: its projection failed").map((l) => l.name)).toEqual(["bad-listed", "bad-watched"]);
    expect(s.requests.watches).toBe(1);
  });

  it("stops watching and reporting on stop()", async () => {
    const s = await setup();
    await s.informer.synced;
    const t0 = Date.now();
    await s.informer.stop();
    expect(Date.now() - t0).toBeLessThan(500);
    await s.api.create(inDefault, { metadata: { name: "unseen" } });
    await new Promise((r) => setTimeout(r, 100));
    expect(s.changes).toEqual([]);
    expect(s.requests.watches).toBe(1);
  });

  it("stops while waiting to retry a failing list", async () => {
    const s = await setup({}, { backoffMs: { initial: 10_000, max: 10_000 } }, async () => {
      sim!.faults.failNext(1, 500);
    });
    await eventually(() => s.logs.some((l) => l.msg === "watch failed, restarting"), { ms: 5_000, what: "the failed list", everyMs: 10 });
    const t0 = Date.now();
    await s.informer.stop();
    expect(Date.now() - t0).toBeLessThan(500);
    expect(s.informer.isSynced()).toBe(false);
  });

  it("with missingIsEmpty, counts a forbidden list as empty, warns once, and fills in once RBAC allows it", async () => {
    let allowed = false;
    const s = await setup(
      { authorize: (_user, a) => ({ allowed: allowed || a.resource !== "configmaps" }) },
      { missingIsEmpty: true, missingRetryMs: 50 },
      async (api) => {
        allowed = true;
        await api.create(inDefault, { metadata: { name: "hidden" } });
        allowed = false;
      },
    );
    await s.informer.synced;
    expect(s.informer.list()).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    const warnings = s.logs.filter((l) => String(l.msg).startsWith("not allowed to list this resource"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ path: "/api/v1/namespaces/default/configmaps", retryInMs: 50 });
    allowed = true;
    await eventually(() => s.informer!.get("hidden", "default") !== undefined, { ms: 5_000, what: "the object once allowed", everyMs: 10 });
  });
});
