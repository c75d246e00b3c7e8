import { Writable } from "node:stream";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../shared/log.ts";
import { ApiError } from "../../shared/kube/client/api-error.ts";
import type { AnnouncedL2Service, ServiceL2StatusBody, ServiceL2StatusFields } from "./service-l2-status.ts";
import { ServiceL2StatusWriter, type ServiceL2StatusApi, type ServiceL2StatusWatch } from "./service-l2-status-writer.ts";

/** An API error as KubeApi throws it. */
function apiError(code: number): Error {
  return new ApiError("POST", "/apis/metallb.io/v1beta1/namespaces/metallb-system/servicel2statuses", code, JSON.stringify({ message: `simulated ${code}` }));
}

interface StoredObject {
  metadata: { name: string; resourceVersion: string; labels: Record<string, string>; ownerReferences?: unknown[] };
  status?: ServiceL2StatusFields;
}

type Event = [obj: StoredObject, kind: "add" | "update" | "delete"];

/**
 * A fake API server holding servicel2statuses, with a watch that delivers events at once (default)
 * or only on `flush()` (`lagging`).
 */
class FakeCluster {
  readonly objects = new Map<string, StoredObject>();
  readonly calls: string[] = [];
  crdInstalled = true;
  probes = 0;
  lagging = false;
  /** Errors the next calls of a verb throw, in order. */
  readonly failures: { verb: "create" | "patchStatus" | "delete"; service?: string; code: number }[] = [];
  private rv = 0;
  private seq = 0;
  private queued: Event[] = [];
  private handlers: Parameters<ServiceL2StatusWatch["start"]>[0] | undefined;

  readonly api: ServiceL2StatusApi = {
    probe: async () => {
      this.probes++;
      if (!this.crdInstalled) throw apiError(404);
    },
    create: async (body: ServiceL2StatusBody) => {
      this.fail("create", body.metadata.labels["metallb.io/service-name"]);
      const name = `${body.metadata.generateName}${String(++this.seq).padStart(5, "0")}`;
      const obj: StoredObject = {
        metadata: { name, resourceVersion: String(++this.rv), labels: { ...body.metadata.labels }, ownerReferences: body.metadata.ownerReferences },
      };
      this.objects.set(name, obj);
      this.calls.push(`create ${body.metadata.labels["metallb.io/service-namespace"]}/${body.metadata.labels["metallb.io/service-name"]}`);
      this.emit(obj, "add");
      return structuredClone(obj);
    },
    patchStatus: async (name: string, status: ServiceL2StatusFields) => {
      this.fail("patchStatus", this.objects.get(name)?.metadata.labels["metallb.io/service-name"]);
      const obj = this.objects.get(name);
      if (!obj) throw apiError(404);
      obj.status = structuredClone(status) as ServiceL2StatusFields;
      obj.metadata.resourceVersion = String(++this.rv);
      this.calls.push(`status ${name} ${status.node} ${(status.interfaces ?? []).map((i) => i.name).join(",")}`);
      this.emit(obj, "update");
      return structuredClone(obj);
    },
    delete: async (name: string) => {
      this.fail("delete", this.objects.get(name)?.metadata.labels["metallb.io/service-name"]);
      this.calls.push(`delete ${name}`);
      const obj = this.objects.get(name);
      if (!obj) throw apiError(404);
      this.objects.delete(name);
      this.emit(obj, "delete");
    },
  };

  readonly watch: ServiceL2StatusWatch = {
    start: (handlers) => {
      setTimeout(() => {
        this.handlers = handlers;
        for (const obj of this.objects.values()) handlers.onEvent(structuredClone(obj), "add");
        handlers.onSynced();
      }, 0);
    },
    stop: async () => {
      this.handlers = undefined;
    },
  };

  /** An object another speaker (or an earlier one) wrote. */
  put(name: string, node: string, service: string, status: ServiceL2StatusFields = {}): void {
    const [namespace, svc] = service.split("/");
    const obj: StoredObject = {
      metadata: { name, resourceVersion: String(++this.rv), labels: { "metallb.io/node": node, "metallb.io/service-name": svc, "metallb.io/service-namespace": namespace } },
      status,
    };
    this.objects.set(name, obj);
    this.emit(obj, "add");
  }

  /** The watch catches up (lagging mode). */
  flush(): void {
    const events = this.queued;
    this.queued = [];
    for (const [obj, kind] of events) this.handlers?.onEvent(obj, kind);
  }

  /** "node service" of every object, sorted. */
  summary(): string[] {
    return [...this.objects.values()]
      .map((o) => `${o.status?.node ?? "(no status)"} ${o.metadata.labels["metallb.io/service-namespace"]}/${o.metadata.labels["metallb.io/service-name"]}`)
      .sort();
  }

  private fail(verb: "create" | "patchStatus" | "delete", service: string | undefined): void {
    const i = this.failures.findIndex((f) => f.verb === verb && (f.service === undefined || f.service === service));
    if (i < 0) return;
    const [f] = this.failures.splice(i, 1);
    throw apiError(f.code);
  }

  private emit(obj: StoredObject, kind: "add" | "update" | "delete"): void {
    if (!this.handlers) return;
    if (this.lagging) this.queued.push([structuredClone(obj), kind]);
    else this.handlers.onEvent(structuredClone(obj), kind);
  }
}

const services = (n: number, interfaces: string[] = []) =>
  new Map<string, AnnouncedL2Service>(Array.from({ length: n }, (_, i) => [`default/svc-${i + 1}`, { interfaces }]));

let cluster: FakeCluster;
let logs: Record<string, unknown>[];
let registry: Registry;
let writers: ServiceL2StatusWriter[];

function startWriter(opts: { writesPerSecond?: number; burst?: number; pod?: { name: string; uid: string } } = {}): ServiceL2StatusWriter {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const writer = new ServiceL2StatusWriter({
    api: cluster.api,
    watch: cluster.watch,
    namespace: "metallb-system",
    node: "node-1",
    log: createLogger("speaker", "debug", sink),
    registry,
    now: () => Date.now(),
    ...opts,
  });
  writer.start();
  writers.push(writer);
  return writer;
}

async function writesMetric(verb: string, result: string): Promise<number> {
  const metric = registry.getSingleMetric("baremetal_lb_service_l2_status_writes_total")!;
  const { values } = await metric.get();
  return values.find((v) => v.labels.verb === verb && v.labels.result === result)?.value ?? 0;
}

beforeEach(() => {
  vi.useFakeTimers();
  cluster = new FakeCluster();
  logs = [];
  registry = new Registry();
  writers = [];
});

afterEach(async () => {
  await Promise.all(writers.map((w) => w.stop()));
  vi.useRealTimers();
});

describe("ServiceL2StatusWriter", () => {
  it("writes two calls per newly announced Service (create, then status) and nothing at steady state", async () => {
    const writer = startWriter({ pod: { name: "speaker-abcde", uid: "uid-1" } });
    writer.sync(services(1, ["eth0"]));
    await vi.advanceTimersByTimeAsync(100);
    expect(cluster.calls).toEqual(["create default/svc-1", "status l2-00001 node-1 eth0"]);
    expect(cluster.objects.get("l2-00001")!.metadata.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Pod", name: "speaker-abcde", uid: "uid-1" }]);

    writer.sync(services(1, ["eth0"])); // an equal map
    await vi.advanceTimersByTimeAsync(60_000);
    expect(cluster.calls).toHaveLength(2);
    expect(writer.pending()).toBe(0);
    expect(await writesMetric("create", "ok")).toBe(1);
    expect(await writesMetric("update_status", "ok")).toBe(1);
  });

  it("writes nothing before the first sync, even with its own objects present", async () => {
    cluster.put("l2-old", "node-1", "default/web", { node: "node-1", serviceName: "web", serviceNamespace: "default" });
    startWriter();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(cluster.calls).toEqual([]);
  });

  it("rate limit: a cold start of 100 Services makes 20 writes at once, then 10 per second", async () => {
    const writer = startWriter();
    writer.sync(services(100));
    await vi.advanceTimersByTimeAsync(50);
    expect(cluster.calls).toHaveLength(20);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(cluster.calls).toHaveLength(30);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(cluster.calls).toHaveLength(120);
    // 200 writes: 20 of burst + 180 at 10/s = 18 s.
    await vi.advanceTimersByTimeAsync(7_900);
    expect(cluster.calls.length).toBeLessThan(200);
    await vi.advanceTimersByTimeAsync(200);
    expect(cluster.calls).toHaveLength(200);
    expect(cluster.summary().filter((s) => s.startsWith("node-1 "))).toHaveLength(100);
    expect(writer.pending()).toBe(0);
  });

  it("the rate and burst are options", async () => {
    const writer = startWriter({ writesPerSecond: 2, burst: 1 });
    writer.sync(services(10));
    await vi.advanceTimersByTimeAsync(50);
    expect(cluster.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(cluster.calls).toHaveLength(5);
  });

  it("coalesces: a Service that flaps while writes wait for the rate limit is written once, from the latest state", async () => {
    const writer = startWriter({ writesPerSecond: 1, burst: 1 });
    writer.sync(services(1));
    await vi.advanceTimersByTimeAsync(50);
    expect(cluster.calls).toEqual(["create default/svc-1"]);
    // While the status write waits for a token, svc-2 comes and goes 50 times and svc-1 changes interfaces 50 times.
    for (let i = 0; i < 50; i++) {
      writer.sync(new Map([["default/svc-1", { interfaces: [`eth${i}`] }], ["default/svc-2", { interfaces: [] }]]));
      writer.sync(new Map([["default/svc-1", { interfaces: [`eth${i + 1}`] }]]));
    }
    expect(writer.pending()).toBeLessThanOrEqual(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(cluster.calls).toEqual(["create default/svc-1", "status l2-00001 node-1 eth50"]);
  });

  it("holds one mark per Service, never a queue: 500 decisions over 1,000 Services leave at most 1,000 pending", async () => {
    const writer = startWriter({ writesPerSecond: 1, burst: 1 });
    for (let i = 0; i < 500; i++) writer.sync(new Map([...services(1_000)].map(([k, v]) => [k, { interfaces: [`eth${i % 3}`], alsoAnnouncedBy: v.alsoAnnouncedBy }])));
    await vi.advanceTimersByTimeAsync(50);
    expect(writer.pending()).toBeLessThanOrEqual(1_000);
  });

  it("moves a Service: deletes the old node's object, creates its own, writes the status", async () => {
    cluster.put("l2-node2", "node-2", "default/svc-1", { node: "node-2", serviceName: "svc-1", serviceNamespace: "default" });
    const writer = startWriter();
    writer.sync(services(1));
    await vi.advanceTimersByTimeAsync(100);
    expect(cluster.calls).toEqual(["delete l2-node2", "create default/svc-1", "status l2-00001 node-1 "]);
    expect(cluster.summary()).toEqual(["node-1 default/svc-1"]);

    writer.sync(new Map()); // moved away again, or the Service is gone
    await vi.advanceTimersByTimeAsync(100);
    expect(cluster.calls.at(-1)).toBe("delete l2-00001");
    expect(cluster.summary()).toEqual([]);
  });

  it("does not repeat its own writes while the informer lags behind them", async () => {
    cluster.lagging = true;
    const writer = startWriter();
    writer.sync(services(3));
    await vi.advanceTimersByTimeAsync(100);
    writer.sync(services(2)); // svc-3 no longer announced: delete the object the informer has not shown yet
    await vi.advanceTimersByTimeAsync(100);
    expect(cluster.calls.filter((c) => c.startsWith("create"))).toHaveLength(3);
    expect(cluster.calls.filter((c) => c.startsWith("status"))).toHaveLength(3);
    expect(cluster.calls.filter((c) => c.startsWith("delete"))).toHaveLength(1);
    const before = cluster.calls.length;
    cluster.flush();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(cluster.calls).toHaveLength(before);
    expect(cluster.summary()).toEqual(["node-1 default/svc-1", "node-1 default/svc-2"]);
  });

  it("404 on delete is what it wanted; 409 AlreadyExists on create creates again under a new name", async () => {
    cluster.put("l2-mine", "node-1", "default/old", { node: "node-1", serviceName: "old", serviceNamespace: "default" });
    cluster.failures.push({ verb: "delete", code: 404 }, { verb: "create", code: 409 });
    const writer = startWriter();
    writer.sync(services(1));
    await vi.advanceTimersByTimeAsync(100);
    expect(await writesMetric("delete", "not_found")).toBe(1);
    expect(await writesMetric("create", "already_exists")).toBe(1);
    expect(cluster.summary()).toContain("node-1 default/svc-1");
    expect(logs.filter((l) => l.msg === "ServiceL2Status write failed")).toEqual([]);
  });

  it("a status update that finds its object gone creates a new one", async () => {
    cluster.put("l2-mine", "node-1", "default/svc-1", {});
    cluster.failures.push({ verb: "patchStatus", code: 404 });
    const writer = startWriter();
    writer.sync(services(1));
    await vi.advanceTimersByTimeAsync(100);
    expect(await writesMetric("update_status", "not_found")).toBe(1);
    expect(cluster.calls).toContain("create default/svc-1");
  });

  it("a 500 pauses every write with backoff, then the writes go through", async () => {
    cluster.failures.push({ verb: "create", code: 500 }, { verb: "create", code: 503 });
    const writer = startWriter();
    writer.sync(services(2));
    await vi.advanceTimersByTimeAsync(100);
    expect(cluster.calls).toEqual([]); // paused 1 s after the first failure
    await vi.advanceTimersByTimeAsync(1_000);
    expect(cluster.calls).toEqual([]); // the second failure: paused 2 s more
    await vi.advanceTimersByTimeAsync(2_100);
    expect(cluster.summary()).toEqual(["node-1 default/svc-1", "node-1 default/svc-2"]);
    expect(await writesMetric("create", "error")).toBe(2);
    const failed = logs.filter((l) => l.msg === "ServiceL2Status write failed");
    expect(failed[0]).toMatchObject({ service: "default/svc-1", verb: "create", err: "HTTP 500: simulated 500", retryInMs: 1_000, everyWrite: true });
    expect(failed[1]).toMatchObject({ verb: "create", err: "HTTP 503: simulated 503", retryInMs: 2_000, everyWrite: true });
  });

  it("an error on one Service (422) backs off that Service only", async () => {
    cluster.failures.push({ verb: "create", service: "svc-1", code: 422 });
    const writer = startWriter();
    writer.sync(services(3));
    await vi.advanceTimersByTimeAsync(100);
    expect(cluster.summary()).toEqual(["node-1 default/svc-2", "node-1 default/svc-3"]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(cluster.summary()).toEqual(["node-1 default/svc-1", "node-1 default/svc-2", "node-1 default/svc-3"]);
    expect(writer.pending()).toBe(0);
  });

  it("a missing CRD is logged once and looked for every 30 s, never thrown; writing starts once it is installed", async () => {
    cluster.crdInstalled = false;
    const writer = startWriter();
    writer.sync(services(1));
    await vi.advanceTimersByTimeAsync(95_000);
    expect(cluster.probes).toBe(4); // at 0, 30, 60 and 90 s
    expect(logs.filter((l) => String(l.msg).startsWith("ServiceL2Status CRD not installed"))).toHaveLength(1);
    expect(cluster.calls).toEqual([]);

    cluster.crdInstalled = true;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(cluster.summary()).toEqual(["node-1 default/svc-1"]);
    expect(logs.some((l) => l.msg === "ServiceL2Status CRD found, writing ServiceL2Status objects")).toBe(true);
  });

  it("a CRD deleted while running (404 on create) is logged once and looked for again slowly", async () => {
    const writer = startWriter();
    writer.sync(services(1));
    await vi.advanceTimersByTimeAsync(100);
    cluster.crdInstalled = false;
    cluster.failures.push({ verb: "create", code: 404 }, { verb: "create", code: 404 });
    writer.sync(services(3));
    await vi.advanceTimersByTimeAsync(100);
    const callsWhileMissing = cluster.calls.length;
    await vi.advanceTimersByTimeAsync(29_000);
    expect(cluster.calls).toHaveLength(callsWhileMissing);
    expect(logs.filter((l) => String(l.msg).startsWith("ServiceL2Status CRD not installed"))).toHaveLength(1);
    cluster.crdInstalled = true;
    await vi.advanceTimersByTimeAsync(31_000);
    expect(cluster.summary()).toHaveLength(3);
  });

  it("stop() ends a writer waiting for the rate limit", async () => {
    const writer = startWriter({ writesPerSecond: 0.001, burst: 1 });
    writer.sync(services(5));
    await vi.advanceTimersByTimeAsync(50);
    await writer.stop();
    await vi.advanceTimersByTimeAsync(10_000_000);
    expect(cluster.calls).toHaveLength(1);
  });

  it("reports the planned writes not made yet as a gauge", async () => {
    const writer = startWriter({ writesPerSecond: 1, burst: 1 });
    writer.sync(services(5));
    await vi.advanceTimersByTimeAsync(50);
    const gauge = registry.getSingleMetric("baremetal_lb_service_l2_status_pending")!;
    expect((await gauge.get()).values[0].value).toBe(5); // 1 write made, 5 Services not done
    await vi.advanceTimersByTimeAsync(20_000);
    expect((await gauge.get()).values[0].value).toBe(0);
  });

  it("refuses a rate that is not positive", () => {
    expect(() => startWriter({ writesPerSecond: 0 })).toThrow("writesPerSecond must be above 0");
  });
});
