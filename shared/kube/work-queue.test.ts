import { describe, expect, it } from "vitest";
import { WorkQueue } from "./work-queue.ts";

describe("WorkQueue", () => {
  it("processes each queued key once even when added repeatedly before it runs", async () => {
    const seen: string[] = [];
    const q = new WorkQueue(async (k) => void seen.push(k));
    q.add("a");
    q.add("b");
    q.add("a");
    await q.idle();
    expect(seen).toEqual(["a", "b"]);
  });

  it("runs a key again when it is added while being processed", async () => {
    const seen: string[] = [];
    let q!: WorkQueue;
    q = new WorkQueue(async (k) => {
      seen.push(k);
      if (seen.length === 1) q.add("a");
    });
    q.add("a");
    await q.idle();
    expect(seen).toEqual(["a", "a"]);
  });

  it("retries a failing key with growing backoff and reports each failure", async () => {
    const attempts: number[] = [];
    const waits: number[] = [];
    const start = Date.now();
    const q = new WorkQueue(
      async () => {
        attempts.push(Date.now() - start);
        if (attempts.length < 3) throw new Error("conflict");
      },
      { baseDelayMs: 20, maxDelayMs: 1000, onError: (_k, _e, wait) => waits.push(wait) },
    );
    q.add("x");
    const deadline = Date.now() + 2000;
    while (attempts.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(attempts.length).toBe(3);
    expect(waits).toEqual([20, 40]);
    expect(attempts[2] - attempts[0]).toBeGreaterThanOrEqual(55);
    q.stop();
  });

  it("drops delayed retries when stopped", async () => {
    let runs = 0;
    const q = new WorkQueue(async () => {
      runs++;
      throw new Error("fail");
    }, { baseDelayMs: 30 });
    q.add("x");
    await q.idle();
    q.stop();
    await new Promise((r) => setTimeout(r, 80));
    expect(runs).toBe(1);
  });
});

describe("WorkQueue with concurrency", () => {
  const tick = () => new Promise((r) => setImmediate(r));

  /** A handler whose runs end only when the test releases them, recording what ran at once. */
  function gatedHandler() {
    const running = new Set<string>();
    const started: string[] = [];
    const finished: string[] = [];
    const gates = new Map<string, () => void>();
    let maxRunning = 0;
    const handler = async (key: string) => {
      if (running.has(key)) throw new Error(`${key} is already running`);
      running.add(key);
      started.push(key);
      maxRunning = Math.max(maxRunning, running.size);
      await new Promise<void>((resolve) => gates.set(key, resolve));
      running.delete(key);
      finished.push(key);
    };
    const release = (key: string) => {
      const gate = gates.get(key);
      if (!gate) throw new Error(`${key} is not running`);
      gates.delete(key);
      gate();
    };
    return { handler, running, started, finished, release, maxRunning: () => maxRunning };
  }

  it("runs up to the limit of distinct keys at once, starting them oldest first", async () => {
    const h = gatedHandler();
    const q = new WorkQueue(h.handler, { concurrency: 3 });
    for (const k of ["a", "b", "c", "d", "e"]) q.add(k);
    await tick();
    expect(h.started).toEqual(["a", "b", "c"]);
    h.release("b");
    await tick();
    expect(h.started).toEqual(["a", "b", "c", "d"]);
    for (const k of ["a", "c", "d"]) h.release(k);
    await tick();
    h.release("e");
    await q.idle();
    expect(h.finished.sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(h.maxRunning()).toBe(3);
  });

  it("never runs a key twice at once: a key added while it runs runs once more afterwards", async () => {
    const h = gatedHandler();
    const q = new WorkQueue(h.handler, { concurrency: 4 });
    q.add("a");
    await tick();
    q.add("a");
    q.add("a");
    q.add("b");
    await tick();
    expect(h.started).toEqual(["a", "b"]);
    h.release("a");
    await tick();
    expect(h.started).toEqual(["a", "b", "a"]);
    h.release("a");
    h.release("b");
    await q.idle();
    expect(h.finished).toEqual(["a", "a", "b"]);
  });

  it("resolves idle() only once every key ran and none runs", async () => {
    const h = gatedHandler();
    const q = new WorkQueue(h.handler, { concurrency: 2 });
    let idle = false;
    q.add("a");
    q.add("b");
    q.add("c");
    void q.idle().then(() => (idle = true));
    await tick();
    h.release("a");
    h.release("b");
    await tick();
    expect(idle).toBe(false);
    h.release("c");
    await tick();
    expect(idle).toBe(true);
    await q.idle(); // resolves at once when idle
  });

  it("processes every key of a large burst, never one twice at once", async () => {
    const running = new Set<string>();
    const runs = new Map<string, number>();
    let overlap = 0;
    let maxRunning = 0;
    const q = new WorkQueue(
      async (k) => {
        if (running.has(k)) overlap++;
        running.add(k);
        maxRunning = Math.max(maxRunning, running.size);
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        running.delete(k);
        runs.set(k, (runs.get(k) ?? 0) + 1);
      },
      { concurrency: 16 },
    );
    const keys = Array.from({ length: 500 }, (_, i) => `k${i}`);
    for (const k of keys) q.add(k);
    // Re-add some keys while the burst is being processed.
    await new Promise((r) => setTimeout(r, 5));
    for (const k of keys.slice(0, 50)) q.add(k);
    await q.idle();
    expect(overlap).toBe(0);
    expect(maxRunning).toBe(16);
    expect([...runs.keys()].sort()).toEqual([...keys].sort());
    for (const k of keys) expect(runs.get(k)).toBeGreaterThanOrEqual(1);
  });

  it("retries a failing key with backoff while the other keys proceed", async () => {
    const seen: string[] = [];
    let failures = 0;
    const q = new WorkQueue(
      async (k) => {
        seen.push(k);
        if (k === "bad" && failures++ < 2) throw new Error("conflict");
      },
      { concurrency: 4, baseDelayMs: 10 },
    );
    q.add("bad");
    q.add("good");
    const deadline = Date.now() + 2000;
    while (seen.filter((k) => k === "bad").length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(seen.filter((k) => k === "bad")).toHaveLength(3);
    expect(seen.filter((k) => k === "good")).toHaveLength(1);
    q.stop();
  });

  it("starts each handler's synchronous part in key order", async () => {
    const order: string[] = [];
    const q = new WorkQueue(
      async (k) => {
        order.push(k); // before any await: the allocation decision, in the controller
        await new Promise((r) => setTimeout(r, 1));
      },
      { concurrency: 8 },
    );
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    for (const k of keys) q.add(k);
    await q.idle();
    expect(order).toEqual(keys);
  });
});
