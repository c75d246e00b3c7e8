import { describe, expect, it } from "vitest";
import { maxGapMs, minGapMs, rebuildWaitMs } from "./rebuild-pacing.ts";

describe("rebuildWaitMs", () => {
  it.each([
    ["the first rebuild runs at once", undefined, 5, 0],
    ["a slow rebuild rests four times its duration", { endedAt: 1000, durationMs: 60 }, 1100, 140],
    ["once the rest is over, at once", { endedAt: 1000, durationMs: 60 }, 1300, -60],
    ["a fast rebuild still waits the minimum gap", { endedAt: 1000, durationMs: 0.2 }, 1000, minGapMs],
    ["a very slow one waits at most the maximum gap", { endedAt: 1000, durationMs: 900 }, 1000, maxGapMs],
  ])("%s", (_name, last, now, expected) => {
    expect(rebuildWaitMs(last, now)).toBeCloseTo(expected);
  });

  it("keeps rebuilds to at most a fifth of the time under a stream of changes", () => {
    // After a first 60 ms rebuild, a change always waits: every later rebuild runs as soon as it may.
    let now = 60;
    let busy = 0;
    let last: { endedAt: number; durationMs: number } | undefined = { endedAt: 60, durationMs: 60 };
    const from = now;
    for (let i = 0; i < 100; i++) {
      now += Math.max(0, rebuildWaitMs(last, now));
      const durationMs = 60;
      busy += durationMs;
      now += durationMs;
      last = { endedAt: now, durationMs };
    }
    expect(busy / (now - from)).toBeCloseTo(0.2);
  });
});
