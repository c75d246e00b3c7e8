import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../log.ts";
import { ApiError } from "./client/api-error.ts";
import type { KubeApi, NamedRef, ObjectRef, PatchType } from "./client/kube-api.ts";
import { EventRecorder, type EventRecorderOptions, type EventTarget, type EventType } from "./event-recorder.ts";

interface Call {
  verb: "create" | "patch";
  namespace: string;
  name: string;
  body: any;
  /** Fake clock when the call was made. */
  at: number;
}

/**
 * The events part of the API server, in memory. Calls answer on a microtask, or wait for
 * `release()` while `hold` is set; `fail` can turn a call into an ApiError.
 */
class FakeEventsApi implements KubeApi {
  readonly stored = new Map<string, any>();
  readonly calls: Call[] = [];
  hold = false;
  fail: ((call: Call) => ApiError | undefined) | undefined;
  inFlight = 0;
  maxInFlight = 0;
  private held: (() => void)[] = [];

  create(ref: ObjectRef, body: unknown): Promise<unknown> {
    expect(ref).toMatchObject({ apiVersion: "v1", plural: "events" });
    const b = body as { metadata: { name: string } };
    return this.handle({ verb: "create", namespace: ref.namespace!, name: b.metadata.name, body, at: Date.now() });
  }

  patch(ref: NamedRef, body: unknown, type: PatchType): Promise<unknown> {
    expect(ref).toMatchObject({ apiVersion: "v1", plural: "events" });
    expect(type).toBe("merge");
    return this.handle({ verb: "patch", namespace: ref.namespace!, name: ref.name, body, at: Date.now() });
  }

  /** Answers the first `n` held calls. */
  release(n = Infinity): void {
    for (const finish of this.held.splice(0, n)) finish();
  }

  /** The Events as `kubectl get events` would list them. */
  listed(): { name: string; type: string; reason: string; message: string; count: number; object: string }[] {
    return [...this.stored.values()].map((e) => ({
      name: e.metadata.name,
      type: e.type,
      reason: e.reason,
      message: e.message,
      count: e.count,
      object: `${e.involvedObject.kind}/${e.involvedObject.name}`,
    }));
  }

  creates(): Call[] {
    return this.calls.filter((c) => c.verb === "create");
  }

  private handle(call: Call): Promise<unknown> {
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve, reject) => {
      const finish = () => {
        this.inFlight--;
        try {
          resolve(this.apply(call));
        } catch (err) {
          reject(err);
        }
      };
      if (this.hold) this.held.push(finish);
      else queueMicrotask(finish);
    });
  }

  private apply(call: Call): unknown {
    const injected = this.fail?.(call);
    if (injected) throw injected;
    const key = `${call.namespace}/${call.name}`;
    const path = `/api/v1/namespaces/${call.namespace}/events`;
    if (call.verb === "create") {
      if (this.stored.has(key)) throw new ApiError("POST", path, 409, JSON.stringify({ reason: "AlreadyExists", message: `events "${call.name}" already exists` }));
      this.stored.set(key, structuredClone(call.body));
      return call.body;
    }
    const existing = this.stored.get(key);
    if (!existing) throw new ApiError("PATCH", `${path}/${call.name}`, 404, JSON.stringify({ reason: "NotFound", message: `events "${call.name}" not found` }));
    Object.assign(existing, call.body);
    return existing;
  }

  get(): Promise<unknown> {
    throw new Error("EventRecorder does not get");
  }
  list(): never {
    throw new Error("EventRecorder does not list");
  }
  replace(): Promise<unknown> {
    throw new Error("EventRecorder does not replace");
  }
  delete(): Promise<void> {
    throw new Error("EventRecorder does not delete");
  }
  watch(): Promise<void> {
    throw new Error("EventRecorder does not watch");
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const start = Date.UTC(2025, 0, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const web: EventTarget = { kind: "Service", apiVersion: "v1", name: "web", namespace: "default", uid: "u-web" };
const nodeTarget: EventTarget = { kind: "Node", apiVersion: "v1", name: "node-1", uid: "u-node" };
const service = (i: number): EventTarget => ({ kind: "Service", apiVersion: "v1", name: `svc-${i}`, namespace: "default", uid: `u-${i}` });

/** Lets queued microtasks (the writer's pump, the fake's answers) run; bounded. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

let logs: Record<string, unknown>[];
let api: FakeEventsApi;
let dropped: { spam: number; "queue-full": number };
let written: { create: number; patch: number };

function recorder(opts: EventRecorderOptions = {}): EventRecorder {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return new EventRecorder(api, "metallb-controller", createLogger("controller", "debug", sink), "controller-pod", {
    onDropped: (reason, n) => (dropped[reason] += n),
    onWritten: (verb) => written[verb]++,
    ...opts,
  });
}

/** Advances the fake clock a second at a time until the recorder is idle (at most `maxSeconds`). */
async function drain(rec: EventRecorder, maxSeconds = 120): Promise<void> {
  let idle = false;
  void rec.idle().then(() => (idle = true));
  for (let i = 0; i < maxSeconds && !idle; i++) await vi.advanceTimersByTimeAsync(1000);
  expect(idle).toBe(true);
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: start });
  logs = [];
  api = new FakeEventsApi();
  dropped = { spam: 0, "queue-full": 0 };
  written = { create: 0, patch: 0 };
});

afterEach(() => {
  vi.useRealTimers();
});

describe("EventRecorder", () => {
  it("writes the Event kubectl describe shows, for a namespaced and a cluster-scoped object", async () => {
    const rec = recorder();
    await rec.record(web, "Normal", "IPAllocated", 'Assigned IP ["192.168.1.10"]');
    await rec.record(nodeTarget, "Warning", "StrictARPDisabled", "strictARP is off");
    await rec.idle();
    expect(api.calls.map((c) => c.body)).toEqual([
      {
        metadata: { name: expect.stringMatching(/^web\.[0-9a-f]+$/), namespace: "default" },
        involvedObject: { kind: "Service", apiVersion: "v1", name: "web", namespace: "default", uid: "u-web" },
        type: "Normal",
        reason: "IPAllocated",
        message: 'Assigned IP ["192.168.1.10"]',
        count: 1,
        firstTimestamp: iso(start),
        lastTimestamp: iso(start),
        source: { component: "metallb-controller", host: "controller-pod" },
        reportingComponent: "metallb-controller",
        reportingInstance: "controller-pod",
      },
      expect.objectContaining({
        metadata: { name: expect.stringMatching(/^node-1\.[0-9a-f]+$/), namespace: "default" },
        involvedObject: { kind: "Node", apiVersion: "v1", name: "node-1", namespace: undefined, uid: "u-node" },
        type: "Warning",
      }),
    ]);
    expect(written).toEqual({ create: 2, patch: 0 });
  });

  it("bumps count and lastTimestamp of the existing Event on a repeat instead of creating another", async () => {
    const rec = recorder();
    await rec.record(web, "Warning", "AllocationFailed", "no IP left");
    await rec.idle();
    vi.advanceTimersByTime(5000);
    await rec.record(web, "Warning", "AllocationFailed", "no IP left");
    await rec.idle();
    expect(api.calls.map((c) => c.verb)).toEqual(["create", "patch"]);
    expect(api.calls[1].body).toEqual({ count: 2, lastTimestamp: iso(start + 5000), message: "no IP left" });
    expect(api.calls[1].name).toBe(api.calls[0].name);
    expect(api.listed()).toEqual([expect.objectContaining({ reason: "AllocationFailed", count: 2 })]);
    expect([...api.stored.values()][0]).toMatchObject({ firstTimestamp: iso(start), lastTimestamp: iso(start + 5000) });
    expect(written).toEqual({ create: 1, patch: 1 });
  });

  it("forgets the least recently used Events beyond maxRemembered: a repeat of a forgotten one is created anew", async () => {
    const rec = recorder({ maxRemembered: 2 });
    for (const i of [1, 2, 3]) await rec.record(service(i), "Normal", "nodeAssigned", "announcing from node-1");
    await rec.idle();
    await rec.record(service(3), "Normal", "nodeAssigned", "announcing from node-1"); // remembered: a count bump
    await rec.record(service(1), "Normal", "nodeAssigned", "announcing from node-1"); // forgotten: a new Event
    await rec.idle();
    expect(api.calls.map((c) => `${c.verb} ${c.name?.split(".")[0] ?? (c.body as { metadata: { name: string } }).metadata.name.split(".")[0]}`)).toEqual([
      "create svc-1",
      "create svc-2",
      "create svc-3",
      "patch svc-3",
      "create svc-1",
    ]);
  });

  it("writes repeats of a waiting Event as one write carrying their count", async () => {
    const rec = recorder();
    for (let i = 0; i < 5; i++) void rec.record(web, "Normal", "IPAllocated", "m");
    await rec.idle();
    expect(api.calls).toHaveLength(1);
    expect(api.calls[0].body).toMatchObject({ count: 5 });

    // Repeats arriving while its create is in flight become one patch after it.
    api.hold = true;
    void rec.record(web, "Normal", "nodeAssigned", "announcing from node-1");
    await settle();
    for (let i = 0; i < 3; i++) void rec.record(web, "Normal", "nodeAssigned", "announcing from node-1");
    await settle();
    expect(api.calls).toHaveLength(2);
    api.hold = false;
    api.release();
    await rec.idle();
    expect(api.calls.slice(1).map((c) => [c.verb, c.body.count])).toEqual([
      ["create", 1],
      ["patch", 4],
    ]);
  });

  it("combines the 10th similar message on one object into one counted-up Event", async () => {
    const rec = recorder();
    for (let i = 0; i < 12; i++) {
      await rec.record(web, "Warning", "AllocationFailed", `no IP left in pool ${i}`);
      await rec.idle();
    }
    const listed = api.listed();
    expect(listed).toHaveLength(10);
    expect(listed.filter((e) => !e.message.startsWith("(combined"))).toHaveLength(9);
    expect(listed.find((e) => e.message.startsWith("(combined"))).toMatchObject({
      message: "(combined from similar events): no IP left in pool 11",
      count: 3,
    });
  });

  it("drops an object's Events beyond 25, then lets one through per 5 minutes, without limiting other objects", async () => {
    const rec = recorder();
    for (let i = 0; i < 30; i++) void rec.record(web, "Normal", `Reason${i}`, "m");
    void rec.record(service(1), "Normal", "IPAllocated", "m");
    await rec.idle();
    expect(api.listed().filter((e) => e.object === "Service/web")).toHaveLength(25);
    expect(api.listed().filter((e) => e.object === "Service/svc-1")).toHaveLength(1);
    expect(dropped).toEqual({ spam: 5, "queue-full": 0 });

    vi.advanceTimersByTime(5 * 60_000);
    void rec.record(web, "Normal", "Late1", "m");
    void rec.record(web, "Normal", "Late2", "m");
    await rec.idle();
    expect(api.listed().filter((e) => e.object === "Service/web")).toHaveLength(26);
    expect(dropped.spam).toBe(6);
  });

  it("answers 10,000 record() calls at once without waiting for the API, and writes at most queue + burst of them", async () => {
    const rec = recorder();
    api.hold = true;
    const begin = performance.now();
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 10_000; i++) calls.push(rec.record(service(i), "Normal", "IPAllocated", `Assigned IP ["10.0.${i >> 8}.${i & 255}"]`));
    const elapsed = performance.now() - begin;
    expect(api.calls).toHaveLength(0); // nothing sent on the callers' stack
    await Promise.all(calls); // every record() resolved while the API has answered nothing
    await settle();
    expect(api.calls).toHaveLength(4); // maxInFlight
    expect(elapsed).toBeLessThan(2000);

    api.hold = false;
    api.release();
    await drain(rec);
    const creates = api.creates().length;
    expect(creates).toBeLessThanOrEqual(1000 + 100);
    expect(creates + dropped["queue-full"]).toBe(10_000);
    expect(api.stored.size).toBe(creates);
    // The newest waited; the oldest were dropped.
    expect(api.creates().some((c) => c.body.involvedObject.name === "svc-9999")).toBe(true);
    expect(api.creates().some((c) => c.body.involvedObject.name === "svc-0")).toBe(false);
    expect(api.maxInFlight).toBeLessThanOrEqual(4);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(logs.filter((l) => l.msg === "events dropped")).toEqual([
      expect.objectContaining({ level: 40, dropped: 9000, queueFull: 9000, spam: 0 }),
    ]);
  });

  it("keeps Warnings over Normal Events when the queue is full", async () => {
    const rec = recorder({ maxQueued: 3 });
    const order: [number, EventType][] = [
      [1, "Normal"],
      [2, "Warning"],
      [3, "Normal"],
      [4, "Warning"], // drops 1, the oldest Normal
      [5, "Warning"], // drops 3
      [6, "Normal"], // only Warnings wait: drops itself
      [7, "Warning"], // only Warnings wait: drops 2, the oldest
    ];
    for (const [i, type] of order) void rec.record(service(i), type, "Test", "m");
    await rec.idle();
    expect(api.creates().map((c) => c.body.involvedObject.name)).toEqual(["svc-4", "svc-5", "svc-7"]);
    expect(dropped["queue-full"]).toBe(4);
  });

  it("never exceeds the write rate or the writes in flight", async () => {
    const rec = recorder({ writesPerSecond: 10, writeBurst: 5 });
    for (let i = 0; i < 30; i++) void rec.record(service(i), "Normal", "IPAllocated", "m");
    await settle();
    expect(api.calls).toHaveLength(5); // the burst
    await vi.advanceTimersByTimeAsync(100);
    expect(api.calls).toHaveLength(6);
    await vi.advanceTimersByTimeAsync(900);
    expect(api.calls).toHaveLength(15);
    await drain(rec);
    expect(api.calls).toHaveLength(30);
    expect(api.calls.at(-1)!.at - start).toBe(2500);

    const held = recorder({ maxInFlight: 2 });
    api.hold = true;
    api.calls.length = 0;
    for (let i = 100; i < 105; i++) void held.record(service(i), "Normal", "IPAllocated", "m");
    await settle();
    expect(api.calls).toHaveLength(2);
    api.release(1);
    await settle();
    expect(api.calls).toHaveLength(3);
    api.hold = false;
    api.release();
    await held.idle();
    expect(api.calls).toHaveLength(5);
  });

  it("creates the Event anew when the patch finds it gone", async () => {
    const rec = recorder();
    await rec.record(web, "Normal", "IPAllocated", "m");
    await rec.idle();
    const first = api.calls[0].name;
    api.stored.clear(); // expired: the API server keeps Events for an hour
    vi.advanceTimersByTime(60 * 60_000);
    await rec.record(web, "Normal", "IPAllocated", "m");
    await rec.idle();
    expect(api.calls.map((c) => c.verb)).toEqual(["create", "patch", "create"]);
    expect(api.calls[2].name).not.toBe(first);
    expect(api.calls[2].body).toMatchObject({ count: 1, firstTimestamp: iso(start + 3_600_000), lastTimestamp: iso(start + 3_600_000) });
    expect(api.listed()).toEqual([expect.objectContaining({ reason: "IPAllocated", count: 1 })]);
    expect(logs.filter((l) => l.msg === "event not recorded")).toEqual([]);
  });

  it("creates the Event under a new name when its name is taken", async () => {
    const rec = recorder();
    api.fail = (call) => (call.verb === "create" && api.creates().length === 1 ? new ApiError("POST", "/api/v1/namespaces/default/events", 409, '{"reason":"AlreadyExists"}') : undefined);
    await rec.record(web, "Normal", "IPAllocated", "m");
    await rec.idle();
    expect(api.calls.map((c) => c.verb)).toEqual(["create", "create"]);
    expect(api.calls[1].name).not.toBe(api.calls[0].name);
    expect(api.listed()).toEqual([expect.objectContaining({ name: api.calls[1].name, count: 1 })]);

    // It is on the server now: a repeat patches it.
    await rec.record(web, "Normal", "IPAllocated", "m");
    await rec.idle();
    expect(api.calls.at(-1)).toMatchObject({ verb: "patch", name: api.calls[1].name, body: { count: 2 } });
  });

  it("logs a failed write, never throws, and writes the next Event", async () => {
    const rec = recorder();
    api.fail = (call) => (call.body.reason === "Broken" ? new ApiError("POST", "/api/v1/namespaces/default/events", 500, '{"message":"etcdserver: request timed out"}') : undefined);
    await expect(rec.record(web, "Warning", "Broken", "m")).resolves.toBeUndefined();
    await rec.record(web, "Normal", "IPAllocated", "m");
    await rec.idle();
    expect(logs.filter((l) => l.msg === "event not recorded")).toEqual([
      expect.objectContaining({ level: 40, reason: "Broken", object: "Service/default/web", err: "HTTP 500: etcdserver: request timed out" }),
    ]);
    expect(api.listed().map((e) => e.reason)).toEqual(["IPAllocated"]);

    // The failed Event is created, with its full count, when it happens again.
    api.fail = undefined;
    await rec.record(web, "Warning", "Broken", "m");
    await rec.idle();
    expect(api.listed().find((e) => e.reason === "Broken")).toMatchObject({ count: 2 });
  });

  it("logs each drop episode once, with how many were dropped", async () => {
    const rec = recorder();
    for (let i = 0; i < 30; i++) void rec.record(web, "Normal", `Reason${i}`, "m");
    await rec.idle();
    expect(logs.filter((l) => l.msg === "events dropped")).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(5000);
    void rec.record(web, "Normal", "Again", "m"); // same episode: less than 10 s since the last drop
    await vi.advanceTimersByTimeAsync(9000);
    expect(logs.filter((l) => l.msg === "events dropped")).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(logs.filter((l) => l.msg === "events dropped")).toEqual([expect.objectContaining({ dropped: 6, spam: 6, queueFull: 0, seconds: 5 })]);
    expect(dropped).toEqual({ spam: 6, "queue-full": 0 });
  });

  it("sums up a storm that never pauses once a minute", async () => {
    const rec = recorder({ maxQueued: 1, writesPerSecond: 0.001, writeBurst: 1 });
    for (let s = 0; s < 150; s++) {
      for (let i = 0; i < 3; i++) void rec.record(service(s * 3 + i), "Normal", "IPAllocated", "m");
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(logs.filter((l) => l.msg === "events dropped").map((l) => l.seconds)).toEqual([59, 59]);
    rec.stop();
  });

  it("stops writing when stopped: waiting Events are discarded, later ones ignored", async () => {
    const rec = recorder();
    api.hold = true;
    for (let i = 0; i < 10; i++) void rec.record(service(i), "Normal", "IPAllocated", "m");
    await settle();
    expect(api.calls).toHaveLength(4);
    rec.stop();
    expect(logs).toContainEqual(expect.objectContaining({ msg: "event recorder stopped, pending events discarded", pending: 6 }));
    void rec.record(web, "Normal", "IPAllocated", "m");
    api.hold = false;
    api.release();
    await rec.idle();
    await settle();
    expect(api.calls).toHaveLength(4);
  });
});
