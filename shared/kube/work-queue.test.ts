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
