import { describe, expect, it } from "vitest";
import { BoundedQueue } from "./bounded-queue.ts";

/** A task that stays pending until released, recording when it started. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { task: () => (log.push(name), done), release };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("BoundedQueue", () => {
  it("runs at most `concurrency` tasks at once and starts the next as one finishes, in order", async () => {
    const q = new BoundedQueue({ concurrency: 2, maxQueued: 10 });
    const started: string[] = [];
    const gates = ["a", "b", "c", "d"].map((n) => gate(started, n));
    for (const g of gates) expect(q.push(g.task)).toBe(true);
    expect(started).toEqual(["a", "b"]);
    expect(q.size).toBe(4);
    gates[1].release();
    await flush();
    expect(started).toEqual(["a", "b", "c"]);
    gates[0].release();
    await flush();
    expect(started).toEqual(["a", "b", "c", "d"]);
    gates[2].release();
    gates[3].release();
    await q.idle();
    expect(q.size).toBe(0);
  });

  it("drops new tasks while maxQueued wait, and accepts again once one starts", async () => {
    const q = new BoundedQueue({ concurrency: 1, maxQueued: 2 });
    const started: string[] = [];
    const running = gate(started, "running");
    q.push(running.task);
    expect(q.push(gate(started, "w1").task)).toBe(true);
    expect(q.push(gate(started, "w2").task)).toBe(true);
    expect(q.push(gate(started, "dropped").task)).toBe(false);
    running.release();
    await flush();
    expect(started).toEqual(["running", "w1"]);
    expect(q.push(gate(started, "w3").task)).toBe(true);
    expect(q.size).toBe(3);
  });

  it("keeps going when a task rejects or throws synchronously", async () => {
    const q = new BoundedQueue({ concurrency: 1, maxQueued: 5 });
    const ran: string[] = [];
    q.push(() => Promise.reject(new Error("API down")));
    q.push(() => {
      throw new Error("bad target");
    });
    q.push(async () => void ran.push("after failures"));
    await q.idle();
    expect(ran).toEqual(["after failures"]);
  });

  it("clear drops the waiting tasks but lets the running one finish", async () => {
    const q = new BoundedQueue({ concurrency: 1, maxQueued: 5 });
    const started: string[] = [];
    const running = gate(started, "running");
    q.push(running.task);
    q.push(gate(started, "never").task);
    q.clear();
    expect(q.size).toBe(1);
    running.release();
    await q.idle();
    expect(started).toEqual(["running"]);
  });

  it("refuses a concurrency below 1 with the values it got", () => {
    expect(() => new BoundedQueue({ concurrency: 0, maxQueued: 1 })).toThrow(/concurrency must be at least 1.*got 0 and 1/);
  });
});
