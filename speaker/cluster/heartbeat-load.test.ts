import { describe, expect, it } from "vitest";
import { heartbeatDatagramsPerSecond, heartbeatLoadAdvice } from "./heartbeat-load.ts";

describe("heartbeat load", () => {
  it("is (members − 1) / interval each way", () => {
    expect([1, 3, 30, 100].map((n) => heartbeatDatagramsPerSecond(n, 25))).toEqual([0, 80, 1160, 3960]);
    expect(heartbeatDatagramsPerSecond(100, 100)).toBe(990);
  });

  it("says nothing up to 2,000 datagrams/s, and past it names an interval that fits, the timeout scaled alike", () => {
    expect(heartbeatLoadAdvice(51, 25, 150)).toBeUndefined();
    expect(heartbeatLoadAdvice(52, 25, 150)).toBe(
      "52 speakers at --heartbeat-interval=25ms: 2040 heartbeats/s sent and as many received by every node (over 2000); " +
        "use --heartbeat-interval=26ms --heartbeat-timeout=156ms on every speaker (failover then takes about the timeout plus an interval; see README, How failover works)",
    );
    expect(heartbeatLoadAdvice(100, 25, 150)).toContain("use --heartbeat-interval=50ms --heartbeat-timeout=300ms");
    expect(heartbeatLoadAdvice(100, 50, 300)).toBeUndefined();
  });
});
