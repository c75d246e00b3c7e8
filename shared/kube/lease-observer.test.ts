import { describe, expect, it } from "vitest";
import { LeaseObserver, type LeaseSnapshot } from "./lease-observer.ts";

const lease = (holder: string, renew: string, rv: string): LeaseSnapshot => ({
  holderIdentity: holder,
  renewTime: renew,
  resourceVersion: rv,
  leaseDurationSeconds: 2,
});

describe("LeaseObserver", () => {
  it("counts a lease as live until it stops changing for its duration", () => {
    const obs = new LeaseObserver();
    expect(obs.observe("a", lease("a", "t1", "1"), 0)).toBe(true);
    expect(obs.isExpired("a", 1999)).toBe(false);
    expect(obs.isExpired("a", 2000)).toBe(true);
  });

  it("restarts the clock when the lease is renewed", () => {
    const obs = new LeaseObserver();
    obs.observe("a", lease("a", "t1", "1"), 0);
    expect(obs.observe("a", lease("a", "t2", "2"), 1500)).toBe(true);
    expect(obs.isExpired("a", 3000)).toBe(false);
    expect(obs.isExpired("a", 3500)).toBe(true);
  });

  it("does not restart the clock when re-reading an unchanged lease", () => {
    const obs = new LeaseObserver();
    obs.observe("a", lease("a", "t1", "1"), 0);
    expect(obs.observe("a", lease("a", "t1", "1"), 1500)).toBe(false);
    expect(obs.isExpired("a", 2000)).toBe(true);
  });

  it("ignores the holder's wall clock: a renewTime far in the future does not keep it alive", () => {
    const obs = new LeaseObserver();
    obs.observe("a", lease("a", "2999-01-01T00:00:00.000000Z", "1"), 0);
    expect(obs.isExpired("a", 2000)).toBe(true);
  });

  it("treats unseen and released (holderless) leases as expired", () => {
    const obs = new LeaseObserver();
    expect(obs.isExpired("nobody", 0)).toBe(true);
    obs.observe("a", lease("", "t1", "1"), 0);
    expect(obs.isExpired("a", 0)).toBe(true);
  });

  it("accepts a shorter override for fast failure detection", () => {
    const obs = new LeaseObserver();
    obs.observe("a", lease("a", "t1", "1"), 0);
    expect(obs.isExpired("a", 500, 400)).toBe(true);
  });
});
