import { afterEach, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "../../../tools/kube-sim/index.ts";
import { describeError, statusOf } from "../api-errors.ts";
import { ApiError } from "./api-error.ts";
import { loadClusterAccess } from "./cluster-access.ts";
import { createKubeApi } from "./http-kube-api.ts";
import type { KubeApi, WatchEvent } from "./kube-api.ts";
import { configMaps, services } from "./resource-types.ts";

let sim: KubeSim | undefined;
let api: KubeApi | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
  await sim?.stop();
  sim = undefined;
});

async function start(opts: Parameters<typeof startKubeSim>[0] = {}, requestTimeoutMs?: number): Promise<{ sim: KubeSim; api: KubeApi }> {
  sim = await startKubeSim(opts);
  api = createKubeApi(loadClusterAccess(sim.kubeconfigPath, {}), { requestTimeoutMs });
  return { sim, api };
}

const cm = (name: string, data: Record<string, string> = {}) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data });
const inDefault = { ...configMaps, namespace: "default" };
const meta = (o: unknown) => (o as { metadata: { name: string; resourceVersion: string; labels?: Record<string, string> } }).metadata;

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

describe("createKubeApi against the simulator: reads and writes", () => {
  it("creates, gets, replaces, patches and deletes objects", async () => {
    const { api } = await start();
    const created = await api.create(inDefault, cm("one", { a: "1" }));
    expect(meta(created).name).toBe("one");
    const got = (await api.get({ ...inDefault, name: "one" })) as { data: Record<string, string> };
    expect(got.data).toEqual({ a: "1" });

    const replaced = await api.replace({ ...inDefault, name: "one" }, { ...(got as object), data: { a: "2" } });
    expect((replaced as { data: unknown }).data).toEqual({ a: "2" });

    const merged = await api.patch({ ...inDefault, name: "one" }, { metadata: { labels: { tier: "web" } }, data: { b: "3" } }, "merge");
    expect(merged).toMatchObject({ metadata: { labels: { tier: "web" } }, data: { a: "2", b: "3" } });

    const jsonPatched = await api.patch({ ...inDefault, name: "one" }, [{ op: "remove", path: "/data/a" }], "json");
    expect((jsonPatched as { data: unknown }).data).toEqual({ b: "3" });

    await api.delete({ ...inDefault, name: "one" });
    const gone = await caught(api.get({ ...inDefault, name: "one" }));
    expect(gone.code).toBe(404);
    expect(gone.reason).toBe("NotFound");
    expect(statusOf(gone)).toBe(404);
    expect(describeError(gone)).toBe('HTTP 404: configmaps "one" not found');
  });

  it("patches a Service strategically and writes its status subresource", async () => {
    const { api } = await start();
    const ref = { ...services, namespace: "default", name: "web" };
    await api.create({ ...services, namespace: "default" }, { metadata: { name: "web" }, spec: { type: "LoadBalancer", ports: [{ name: "http", port: 80, protocol: "TCP" }] } });
    const patched = (await api.patch(ref, { spec: { ports: [{ name: "https", port: 443, protocol: "TCP" }] } }, "strategic")) as { spec: { ports: { port: number }[] } };
    expect(patched.spec.ports.map((p) => p.port).sort()).toEqual([443, 80]);

    const status = { status: { loadBalancer: { ingress: [{ ip: "192.168.1.10", ipMode: "VIP" }] } } };
    const ignored = (await api.patch(ref, status, "merge")) as { status?: { loadBalancer?: unknown } };
    expect(ignored.status?.loadBalancer).toEqual({}); // the main resource ignores status, as kube-apiserver does
    await api.patch({ ...ref, subresource: "status" }, status, "merge");
    expect(((await api.get(ref)) as typeof status).status.loadBalancer.ingress).toEqual([{ ip: "192.168.1.10", ipMode: "VIP" }]);
  });

  it("turns 409 and 422 answers into ApiErrors with the server's message", async () => {
    const { api } = await start();
    await api.create(inDefault, cm("dup"));
    const conflict = await caught(api.create(inDefault, cm("dup")));
    expect(conflict).toMatchObject({ code: 409, reason: "AlreadyExists", message: 'POST /api/v1/namespaces/default/configmaps: HTTP 409: configmaps "dup" already exists' });

    const stale = await caught(api.replace({ ...inDefault, name: "dup" }, { ...cm("dup"), metadata: { name: "dup", resourceVersion: "1" } }));
    expect(stale).toMatchObject({ code: 409, reason: "Conflict" });

    const invalid = await caught(api.create(inDefault, { apiVersion: "v1", kind: "ConfigMap", metadata: {} }));
    expect(invalid).toMatchObject({ code: 422, reason: "Invalid" });
    expect(invalid.message).toMatch(/name or generateName is required/);
  });

  it("lists every page when a limit is given, with the list's resourceVersion", async () => {
    const { api, sim } = await start();
    for (let i = 0; i < 7; i++) await api.create(inDefault, cm(`page-${i}`));
    await api.create({ ...configMaps, namespace: "kube-system" }, { ...cm("other"), metadata: { name: "other", labels: { pick: "me" } } });
    const paged = await api.list(inDefault, { limit: 3 });
    expect(paged.items.map((o) => meta(o).name).sort()).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4", "page-5", "page-6"]);
    expect(paged.resourceVersion).toBe(String(sim.state.store.resourceVersion));

    const all = await api.list(configMaps, { labelSelector: "pick=me" });
    expect(all.items.map((o) => meta(o).name)).toEqual(["other"]);
    const byField = await api.list(configMaps, { fieldSelector: "metadata.name=page-3" });
    expect(byField.items.map((o) => meta(o).name)).toEqual(["page-3"]);
  });

  it("hands each item of each page to eachItem and keeps what it returns, dropping undefined", async () => {
    const { api } = await start();
    for (let i = 0; i < 7; i++) await api.create(inDefault, cm(`page-${i}`));
    const seen: string[] = [];
    const names = await api.list(inDefault, {
      limit: 3,
      eachItem: (raw) => {
        const name = meta(raw).name;
        seen.push(name);
        return name === "page-4" ? undefined : name;
      },
    });
    expect(seen.sort()).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4", "page-5", "page-6"]);
    expect([...names.items].sort()).toEqual(["page-0", "page-1", "page-2", "page-3", "page-5", "page-6"]);
  });

  it("answers 404 for a resource the server does not serve", async () => {
    const { api } = await start();
    const missing = await caught(api.list({ apiVersion: "example.com/v1", plural: "widgets", namespace: "default" }));
    expect(missing.code).toBe(404);
  });
});

describe("createKubeApi retries as client-go does", () => {
  it("retries 429 and 503 answers after their Retry-After", async () => {
    const { api, sim } = await start();
    await api.create(inDefault, cm("x"));
    sim.faults.failNext(1, 429, 1);
    sim.faults.failNext(1, 503, 1);
    const t0 = Date.now();
    expect(meta(await api.get({ ...inDefault, name: "x" })).name).toBe("x");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
  });

  it("retries a write after a 429 too", async () => {
    const { api, sim } = await start();
    sim.faults.failNext(1, 429, 0);
    expect(meta(await api.create(inDefault, cm("written"))).name).toBe("written");
  });

  it("does not retry a 500 without Retry-After", async () => {
    const { api, sim } = await start();
    sim.faults.failNext(1, 500);
    expect(await caught(api.list(inDefault))).toMatchObject({ code: 500, reason: "InternalError" });
    expect((await api.list(inDefault)).items).toEqual([]);
  });

  it("retries a GET while the server restarts", async () => {
    const { api, sim } = await start();
    await api.create(inDefault, cm("kept"));
    const restarting = sim.faults.restart(300);
    const got = api.get({ ...inDefault, name: "kept" });
    await restarting;
    expect(meta(await got).name).toBe("kept");
  });

  it("gives up on a GET to a server that is gone, naming the server", async () => {
    const { api, sim } = await start();
    await sim.stop();
    const t0 = Date.now();
    await expect(api.get({ ...inDefault, name: "x" })).rejects.toThrow(new RegExp(`GET ${sim.url}/api/v1/namespaces/default/configmaps/x: connect ECONNREFUSED`));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1300); // 200 + 400 + 800 ms of retries
  });

  it("stops waiting for a retry when the signal aborts", async () => {
    const { api, sim } = await start();
    sim.faults.failNext(1, 429, 5);
    const t0 = Date.now();
    await expect(api.get({ ...inDefault, name: "x" }, { signal: AbortSignal.timeout(200) })).rejects.toThrow(/aborted|timeout/i);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("times out a request that gets no answer", async () => {
    const { api, sim } = await start({}, 200);
    sim.faults.setLatency(1000);
    await expect(api.create(inDefault, cm("slow"))).rejects.toThrow(/no answer within 200 ms/);
    sim.faults.setLatency(0);
  });
});

describe("createKubeApi watches", () => {
  function collect(): { events: WatchEvent[]; onEvent: (e: WatchEvent) => void; until: (pred: (events: WatchEvent[]) => boolean) => Promise<void> } {
    const events: WatchEvent[] = [];
    return {
      events,
      onEvent: (e) => events.push(e),
      until: async (pred) => {
        const deadline = Date.now() + 5000;
        while (!pred(events)) {
          if (Date.now() > deadline) throw new Error(`watch events after 5 s: ${JSON.stringify(events.map((e) => e.type))}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      },
    };
  }

  it("streams ADDED, MODIFIED, DELETED and BOOKMARK events from a resourceVersion, and ends when aborted", async () => {
    const { api } = await start({ bookmarkIntervalMs: 100 });
    await api.create(inDefault, cm("before"));
    const { resourceVersion } = await api.list(inDefault);
    const w = collect();
    const abort = new AbortController();
    const watching = api.watch(inDefault, { resourceVersion }, w.onEvent, abort.signal);
    await api.create(inDefault, cm("utf8", { text: "日本語 🚀 café" }));
    await api.patch({ ...inDefault, name: "before" }, { data: { k: "v" } }, "merge");
    await api.delete({ ...inDefault, name: "before" });
    await w.until((es) => es.some((e) => e.type === "DELETED") && es.some((e) => e.type === "BOOKMARK"));
    const changes = w.events.filter((e) => e.type !== "BOOKMARK");
    expect(changes.map((e) => [e.type, meta(e.object).name])).toEqual([
      ["ADDED", "utf8"],
      ["MODIFIED", "before"],
      ["DELETED", "before"],
    ]);
    expect((changes[0].object as { data: unknown }).data).toEqual({ text: "日本語 🚀 café" });
    const bookmark = w.events.find((e) => e.type === "BOOKMARK")!;
    expect(Number(meta(bookmark.object).resourceVersion)).toBeGreaterThan(Number(resourceVersion));
    abort.abort();
    await expect(watching).resolves.toBeUndefined();
  });

  it("passes selectors and resolves when the server ends the stream", async () => {
    const { api, sim } = await start();
    const { resourceVersion } = await api.list(inDefault);
    const w = collect();
    const watching = api.watch(inDefault, { resourceVersion, labelSelector: "keep=yes" }, w.onEvent, new AbortController().signal);
    await api.create(inDefault, { ...cm("skipped"), metadata: { name: "skipped" } });
    await api.create(inDefault, { ...cm("kept"), metadata: { name: "kept", labels: { keep: "yes" } } });
    await w.until((es) => es.length > 0);
    sim.faults.dropWatches();
    await expect(watching).resolves.toBeUndefined();
    expect(w.events.map((e) => meta(e.object).name)).toEqual(["kept"]);
  });

  it("ends on the server's timeoutSeconds", async () => {
    const { api } = await start();
    const { resourceVersion } = await api.list(inDefault);
    const t0 = Date.now();
    await api.watch(inDefault, { resourceVersion, timeoutSeconds: 1 }, () => {}, new AbortController().signal);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it("delivers the server's 410 Expired as an ERROR event after a compaction", async () => {
    const { api, sim } = await start();
    const { resourceVersion } = await api.list(inDefault);
    await api.create(inDefault, cm("a"));
    sim.faults.compact();
    const w = collect();
    await api.watch(inDefault, { resourceVersion }, w.onEvent, new AbortController().signal);
    expect(w.events).toHaveLength(1);
    expect(w.events[0]).toMatchObject({ type: "ERROR", object: { code: 410, reason: "Expired" } });
  });

  it("rejects with an ApiError when the watch cannot start, and with the break when the connection drops", async () => {
    const { api, sim } = await start();
    const missing = await caught(api.watch({ apiVersion: "example.com/v1", plural: "widgets" }, { resourceVersion: "1" }, () => {}, new AbortController().signal));
    expect(missing.code).toBe(404);

    sim.faults.failNext(1, 429, 1);
    const limited = await caught(api.watch(inDefault, { resourceVersion: "1" }, () => {}, new AbortController().signal));
    expect(limited).toMatchObject({ code: 429, retryAfterMs: 1000 }); // left to the informer, which honours it

    const { resourceVersion } = await api.list(inDefault);
    const watching = api.watch(inDefault, { resourceVersion }, () => {}, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 50));
    const restarted = sim.faults.restart(0);
    await expect(watching).rejects.toThrow(/watch \/api\/v1\/namespaces\/default\/configmaps: (the stream broke|the connection closed)/);
    await restarted;
  });

  it("rejects when the event handler throws, and stops the stream", async () => {
    const { api } = await start();
    const { resourceVersion } = await api.list(inDefault);
    const outcome = api
      .watch(
        inDefault,
        { resourceVersion },
        () => {
          throw new Error("handler broke");
        },
        new AbortController().signal,
      )
      .then(
        () => "resolved",
        (e: Error) => e.message,
      );
    await api.create(inDefault, cm("boom"));
    expect(await outcome).toBe("handler broke");
  });

  it("resolves at once for an already-aborted signal", async () => {
    const { api } = await start();
    await expect(api.watch(inDefault, { resourceVersion: "1" }, () => {}, AbortSignal.abort())).resolves.toBeUndefined();
  });
});
