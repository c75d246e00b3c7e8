import { describe, expect, it } from "vitest";
import { HeartbeatReplayGuard } from "./heartbeat-replay-guard.ts";

const t0 = 1_700_000_000_000;
const hb = (identity: string, startedAt: number, seq: number, sentAt = t0) => ({ node: "node-2", identity, startedAt, seq, sentAt });

type Step = [heartbeat: ReturnType<typeof hb>, wallNow: number, expected: "ok" | "replayed" | "stale"];

describe("heartbeat replay guard", () => {
  it.each<[string, Step[]]>([
    ["a first heartbeat of a node passes", [[hb("a", 1, 5), t0, "ok"]]],
    ["seq rising passes, the same seq again is replayed", [[hb("a", 1, 5), t0, "ok"], [hb("a", 1, 6), t0, "ok"], [hb("a", 1, 6), t0, "replayed"]]],
    ["an older seq of the current process is replayed", [[hb("a", 1, 5), t0, "ok"], [hb("a", 1, 4), t0, "replayed"]]],
    ["seq may skip (lost datagrams)", [[hb("a", 1, 5), t0, "ok"], [hb("a", 1, 50), t0, "ok"]]],
    ["a restarted process (newer startedAt) passes with seq from zero", [[hb("a", 1, 500), t0, "ok"], [hb("b", 2, 0), t0, "ok"]]],
    ["the old process after a restart is replayed", [[hb("a", 1, 5), t0, "ok"], [hb("b", 2, 0), t0, "ok"], [hb("a", 1, 6), t0, "replayed"]]],
    ["another process that started earlier is replayed", [[hb("b", 2, 0), t0, "ok"], [hb("a", 1, 9), t0, "replayed"]]],
    ["another process with the same startedAt is replayed", [[hb("b", 2, 0), t0, "ok"], [hb("c", 2, 9), t0, "replayed"]]],
    ["the current identity with another startedAt is replayed", [[hb("a", 1, 5), t0, "ok"], [hb("a", 3, 6), t0, "replayed"]]],
    ["sent 60 s before our clock passes, 60.001 s is stale", [[hb("a", 1, 1, t0 - 60_000), t0, "ok"], [hb("a", 1, 2, t0 - 60_001), t0, "stale"]]],
    ["sent 61 s after our clock (a clock ahead) is stale", [[hb("a", 1, 1, t0 + 61_000), t0, "stale"]]],
    ["a stale heartbeat is not recorded: the same seq passes once fresh", [[hb("a", 1, 1, t0 - 90_000), t0, "stale"], [hb("a", 1, 1, t0), t0, "ok"]]],
    ["a refused replay does not lower the bar", [[hb("a", 1, 9), t0, "ok"], [hb("a", 1, 3), t0, "replayed"], [hb("a", 1, 8), t0, "replayed"], [hb("a", 1, 10), t0, "ok"]]],
  ])("%s", (_name, steps) => {
    const guard = new HeartbeatReplayGuard();
    expect(steps.map(([h, now]) => {
      const v = guard.admit(h, now);
      return v.ok ? "ok" : v.reason;
    })).toEqual(steps.map((s) => s[2]));
  });

  it("keeps senders apart: one node's seq does not affect another's", () => {
    const guard = new HeartbeatReplayGuard();
    expect(guard.admit({ ...hb("a", 1, 100), node: "node-2" }, t0).ok).toBe(true);
    expect(guard.admit({ ...hb("x", 1, 1), node: "node-3" }, t0).ok).toBe(true);
  });

  it("tells the operator that clocks must agree, by how much they differ", () => {
    const v = new HeartbeatReplayGuard().admit(hb("a", 1, 1, t0 - 75_300), t0);
    expect(v).toEqual({
      ok: false,
      reason: "stale",
      detail: "heartbeat from node-2 was sent 75.3 s before our wall clock; node clocks must agree within 60 s (the heartbeat freshness window, as the cluster's certificates already require): check NTP on both nodes",
    });
  });

  it("forgets a sender silent for the forget period, and a datagram captured before then is stale by then", () => {
    const guard = new HeartbeatReplayGuard({ freshnessMs: 60_000, forgetAfterMs: 120_000 });
    const captured = hb("a", 1, 7, t0);
    expect(guard.admit(captured, t0).ok).toBe(true);
    expect(guard.admit({ ...hb("z", 1, 1), node: "node-9", sentAt: t0 + 100_000 }, t0 + 100_000).ok).toBe(true);
    expect(guard.size).toBe(2);
    // node-2 silent for over 2 min: forgotten by a later sweep (at most a quarter period late)...
    expect(guard.admit({ ...hb("z", 1, 2), node: "node-9", sentAt: t0 + 135_000 }, t0 + 135_000).ok).toBe(true);
    expect(guard.size).toBe(1);
    // ...and its captured heartbeat, replayed now, is refused as stale instead of passing as new.
    expect(guard.admit(captured, t0 + 135_000)).toMatchObject({ ok: false, reason: "stale" });
  });

  it("refuses a forget period shorter than twice the freshness window, which would let a replay through", () => {
    expect(() => new HeartbeatReplayGuard({ freshnessMs: 60_000, forgetAfterMs: 90_000 })).toThrow(
      "heartbeat senders must be remembered at least twice the freshness window (120000 ms), got 90000 ms",
    );
  });
});
