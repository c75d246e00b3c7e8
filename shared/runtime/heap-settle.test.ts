import { describe, expect, it } from "vitest";
import { decideHeapSettle, defaultHeapSettleOptions, initialHeapSettleState, settled, type HeapReading, type HeapSettleState } from "./heap-settle.ts";

const MiB = 1024 * 1024;
const quiet: HeapReading = { now: 10_000, rss: 180 * MiB, heapUsed: 45 * MiB, utilization: 0.04, ready: true };
const after100s: HeapSettleState = settled({ now: 10_000, rss: 140 * MiB });

describe("decideHeapSettle", () => {
  const rows: { name: string; state: HeapSettleState; reading: Partial<HeapReading>; verdict: ReturnType<typeof decideHeapSettle> }[] = [
    { name: "first quiet reading once ready: settle", state: initialHeapSettleState, reading: {}, verdict: { kind: "settle" } },
    { name: "first settle needs no regrowth (the start-up's garbage is the gain)", state: initialHeapSettleState, reading: { rss: 70 * MiB, heapUsed: 11 * MiB }, verdict: { kind: "settle" } },
    { name: "not ready yet: wait", state: initialHeapSettleState, reading: { ready: false }, verdict: { kind: "wait", reason: "not-ready" } },
    { name: "busy event loop (the first list still arriving): wait", state: initialHeapSettleState, reading: { utilization: 0.6 }, verdict: { kind: "wait", reason: "busy" } },
    { name: "utilization exactly at the quiet limit counts as quiet", state: initialHeapSettleState, reading: { utilization: 0.25 }, verdict: { kind: "settle" } },
    { name: "live heap above the limit: too large, no settle", state: initialHeapSettleState, reading: { heapUsed: 65 * MiB }, verdict: { kind: "too-large", heapUsed: 65 * MiB } },
    { name: "live heap exactly at the limit still settles", state: initialHeapSettleState, reading: { heapUsed: 64 * MiB }, verdict: { kind: "settle" } },
    { name: "within the interval of the last settle: too soon", state: after100s, reading: { now: 10_000 + 299_999, rss: 400 * MiB }, verdict: { kind: "wait", reason: "too-soon" } },
    { name: "after the interval with little regrowth: wait", state: after100s, reading: { now: 10_000 + 300_000, rss: 140 * MiB + 16 * MiB - 1 }, verdict: { kind: "wait", reason: "small-regrowth" } },
    { name: "after the interval with 16 MiB regrowth: settle", state: after100s, reading: { now: 10_000 + 300_000, rss: 156 * MiB }, verdict: { kind: "settle" } },
    { name: "regrowth but busy: wait for quiet", state: after100s, reading: { now: 10_000 + 400_000, rss: 200 * MiB, utilization: 0.5 }, verdict: { kind: "wait", reason: "busy" } },
    { name: "regrowth while the live heap grew past the limit: too large", state: after100s, reading: { now: 10_000 + 400_000, rss: 300 * MiB, heapUsed: 100 * MiB }, verdict: { kind: "too-large", heapUsed: 100 * MiB } },
    { name: "not ready after a settle (never happens in the speaker, but the rule holds): wait", state: after100s, reading: { now: 10_000 + 400_000, rss: 300 * MiB, ready: false }, verdict: { kind: "wait", reason: "not-ready" } },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(decideHeapSettle(row.state, { ...quiet, ...row.reading }, defaultHeapSettleOptions)).toEqual(row.verdict);
    });
  }

  it("settled remembers when and what was left resident", () => {
    expect(settled({ now: 5_090, rss: 140e6 })).toEqual({ last: { at: 5_090, rssAfter: 140e6 } });
  });
});
