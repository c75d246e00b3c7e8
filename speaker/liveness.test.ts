import { describe, expect, it } from "vitest";
import { Liveness } from "./liveness.ts";

const lease = (holder: string, rv: string) => ({ holderIdentity: holder, renewTime: `t${rv}`, resourceVersion: rv, leaseDurationSeconds: 4 });

/** Three speakers a, b, c with fresh leases at t=0; we are `self`. */
function cluster(self: string, nodes = ["a", "b", "c"]) {
  const l = new Liveness(self, { heartbeatTimeoutMs: 600 });
  for (const n of nodes) l.observeLease(n, lease(`${n}-1`, "1"), 0);
  return l;
}

describe("Liveness", () => {
  it("all speakers live while leases are fresh and heartbeats arrive", () => {
    const l = cluster("a");
    l.heard("b", 100);
    l.heard("c", 100);
    expect([...l.liveSpeakers(200)].sort()).toEqual(["a", "b", "c"]);
  });

  it("a silent peer is dead after the heartbeat timeout while we hear a majority", () => {
    const l = cluster("a");
    l.heard("b", 100);
    l.heard("c", 100);
    l.heard("b", 650);
    expect([...l.liveSpeakers(750)].sort()).toEqual(["a", "b"]);
    expect(l.fastPath(750)).toMatchObject({ trusted: true, heard: 2, leaseLive: 3 });
  });

  it("a speaker cut off from most peers keeps them live until their leases expire", () => {
    const l = cluster("a");
    l.heard("b", 100);
    l.heard("c", 100);
    // a's link is down: it hears nobody after t=100.
    const state = l.fastPath(1000);
    expect(state.trusted).toBe(false);
    expect([...l.liveSpeakers(1000)].sort()).toEqual(["a", "b", "c"]);
    // Leases (4 s) not renewed as seen from a: b and c expire, a still counts itself.
    expect([...l.liveSpeakers(4000)].sort()).toEqual(["a"]);
  });

  it("with the fast path blocked everywhere, failover falls back to lease expiry", () => {
    const l = cluster("b");
    l.observeLease("b", lease("b-1", "2"), 1000);
    l.observeLease("c", lease("c-1", "2"), 1000);
    expect(l.liveSpeakers(3999).has("a")).toBe(true);
    expect(l.liveSpeakers(4000).has("a")).toBe(false);
  });

  it("a renewed lease keeps a speaker live however its wall clock reads", () => {
    const l = cluster("b");
    l.observeLease("a", { ...lease("a-1", "9"), renewTime: "1970-01-01T00:00:00Z" }, 3500);
    expect(l.liveSpeakers(7000).has("a")).toBe(true);
  });

  it("a speaker that announced leaving is dead at once, and live again after it restarts", () => {
    const l = cluster("b");
    l.heard("a", 100);
    l.heard("c", 100);
    l.markLeaving("a", "a-1");
    expect(l.liveSpeakers(150).has("a")).toBe(false);
    l.observeLease("a", lease("a-2", "5"), 2000);
    l.heard("a", 2000);
    l.heard("c", 2000);
    expect(l.liveSpeakers(2100).has("a")).toBe(true);
  });

  it("a speaker without a lease is not live, whatever it sends", () => {
    const l = cluster("a", ["a", "b"]);
    l.heard("b", 0);
    l.heard("x", 0);
    expect(l.liveSpeakers(10).has("x")).toBe(false);
  });

  it("two speakers: losing the only peer is not a majority, so failover waits for the lease", () => {
    const l = cluster("a", ["a", "b"]);
    l.heard("b", 0);
    expect(l.liveSpeakers(1000).has("b")).toBe(true);
    expect(l.liveSpeakers(4000).has("b")).toBe(false);
  });

  it("tells when liveness may next change on its own", () => {
    const l = cluster("a");
    l.heard("b", 100);
    expect(l.nextChangeAt(200)).toBe(700);
    expect(l.nextChangeAt(800)).toBe(4000);
  });

  it("a speaker whose heartbeats are lost while a majority hears each other knows it is cut off", () => {
    const l = cluster("a");
    l.observePeerView("b", new Set(["a", "b", "c"]));
    l.observePeerView("c", new Set(["a", "b", "c"]));
    expect(l.excludedByMajority(100)).toBeUndefined();
    l.observePeerView("b", new Set(["b", "c"]));
    expect(l.excludedByMajority(1500)).toBe("b hears 2 of 3 lease-live speakers without us");
  });

  it("with the fast path blocked everywhere nobody is cut off: every view holds only its own speaker", () => {
    const l = cluster("a");
    l.observePeerView("b", new Set(["b"]));
    l.observePeerView("c", new Set(["c"]));
    expect(l.excludedByMajority(1500)).toBeUndefined();
  });

  it("a dead peer's last view does not count once its lease expired", () => {
    const l = cluster("a", ["a", "b", "c"]);
    l.observePeerView("b", new Set(["b", "c"]));
    l.observeLease("a", lease("a-1", "2"), 3000);
    l.observeLease("c", lease("c-1", "2"), 3000);
    // b's lease (seen at 0) expired at 4000; c publishes nothing against us.
    expect(l.excludedByMajority(4500)).toBeUndefined();
  });

  it("publishes whom it hears, itself included", () => {
    const l = cluster("a");
    l.heard("c", 100);
    expect(l.heardNow(200)).toEqual(["a", "c"]);
    expect(l.heardNow(800)).toEqual(["a"]);
  });
});
