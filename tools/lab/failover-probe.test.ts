import { describe, expect, it } from "vitest";
import { measureFailover } from "./failover-probe.ts";

/** A fake VIP: answered by `before` until the failure, by nobody for `outageMs`, then by `after`. */
function fakeVip(opts: { before?: string; after?: string; outageMs: number; latencyMs?: number }) {
  let failedAt: number | undefined;
  return {
    fail: async () => void (failedAt = performance.now()),
    request: async (): Promise<string | undefined> => {
      const startedAt = performance.now();
      await new Promise((r) => setTimeout(r, opts.latencyMs ?? 1));
      if (failedAt === undefined) return opts.before;
      return startedAt - failedAt >= opts.outageMs ? opts.after : undefined;
    },
  };
}

describe("measureFailover", () => {
  it("measures from the failure to the first answer through another node", async () => {
    const vip = fakeVip({ before: "node-1", after: "node-2", outageMs: 150 });
    const m = await measureFailover({ ...vip, oldNode: "node-1", intervalMs: 10, maxMs: 2_000 });
    expect(m.newNode).toBe("node-2");
    expect(m.failoverMs).toBeGreaterThanOrEqual(150);
    expect(m.failoverMs).toBeLessThan(400);
    expect(m.failures).toBeGreaterThan(0);
    expect(m.attempts).toBeGreaterThan(m.failures);
  });

  it("keeps sending while earlier requests hang, so a slow request does not widen the gap", async () => {
    const vip = fakeVip({ before: "node-1", after: "node-2", outageMs: 100, latencyMs: 300 });
    const m = await measureFailover({ ...vip, oldNode: "node-1", intervalMs: 10, maxMs: 3_000 });
    // The first request started after the outage ends ~300 ms later; a sequential probe would need 600 ms or more.
    expect(m.failoverMs).toBeGreaterThanOrEqual(400);
    expect(m.failoverMs).toBeLessThan(600);
  });

  it("refuses to inject the failure when the old node never answered", async () => {
    let failed = false;
    const vip = fakeVip({ before: undefined, after: "node-2", outageMs: 0 });
    await expect(
      measureFailover({ request: vip.request, fail: async () => void (failed = true), oldNode: "node-1", intervalMs: 10, baselineMs: 100 }),
    ).rejects.toThrow("the VIP was not answered by node-1 within 100 ms before the failure; nothing to fail over from");
    expect(failed).toBe(false);
  });

  it("gives up after maxMs when no other node answers, saying how many requests failed", async () => {
    const vip = fakeVip({ before: "node-1", after: undefined, outageMs: 0 });
    const started = performance.now();
    await expect(measureFailover({ ...vip, oldNode: "node-1", intervalMs: 10, maxMs: 200 })).rejects.toThrow(
      /^no node other than node-1 answered within 200 ms of the failure \(\d+ requests, \d+ failed\)$/,
    );
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
