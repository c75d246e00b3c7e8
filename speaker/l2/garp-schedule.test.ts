import { describe, expect, it } from "vitest";
import { AnnouncementSchedule, DEFAULT_REANNOUNCE_INTERVAL_MS } from "./garp-schedule.ts";

/** Drives the schedule like a timer would: jump to each wakeup, collect (time, ip, kind) until `untilMs`. */
function run(schedule: AnnouncementSchedule, untilMs: number): Array<[number, string, string]> {
  const out: Array<[number, string, string]> = [];
  for (;;) {
    const at = schedule.nextWakeupMs();
    if (at === undefined || at > untilMs) return out;
    for (const d of schedule.due(at)) out.push([at, d.ip, d.kind]);
  }
}

describe("gain burst", () => {
  it("announces at t, t+1.1, t+2.2, t+3.3 and t+4.4 s, then stops when re-announce is off", () => {
    const s = new AnnouncementSchedule({ reannounceIntervalMs: 0 });
    s.gain("192.0.2.10", 1000);
    expect(run(s, 1e9)).toEqual([
      [1000, "192.0.2.10", "burst"],
      [2100, "192.0.2.10", "burst"],
      [3200, "192.0.2.10", "burst"],
      [4300, "192.0.2.10", "burst"],
      [5400, "192.0.2.10", "burst"],
    ]);
    expect(s.nextWakeupMs()).toBeUndefined();
    expect(s.has("192.0.2.10")).toBe(true); // still owned, just nothing more to send
  });

  it("is due immediately on gain", () => {
    const s = new AnnouncementSchedule();
    s.gain("192.0.2.10", 500);
    expect(s.nextWakeupMs()).toBe(500);
    expect(s.due(500)).toEqual([{ ip: "192.0.2.10", kind: "burst" }]);
    expect(s.due(500)).toEqual([]);
    expect(s.nextWakeupMs()).toBe(1600);
  });

  it("coalesces missed rounds when the timer fires late, announcing once", () => {
    const s = new AnnouncementSchedule({ reannounceIntervalMs: 0 });
    s.gain("192.0.2.10", 0);
    s.due(0);
    expect(s.due(3000)).toEqual([{ ip: "192.0.2.10", kind: "burst" }]); // rounds 1.1 and 2.2 s missed: one send
    expect(s.nextWakeupMs()).toBe(3300);
  });

  it("restarts the burst when the VIP is gained again", () => {
    const s = new AnnouncementSchedule({ reannounceIntervalMs: 0 });
    s.gain("192.0.2.10", 0);
    s.due(0);
    s.due(1100);
    s.gain("192.0.2.10", 1500);
    expect(run(s, 1e9).map(([t]) => t)).toEqual([1500, 2600, 3700, 4800, 5900]);
  });

  it("stops announcing a lost VIP at once", () => {
    const s = new AnnouncementSchedule();
    s.gain("192.0.2.10", 0);
    s.gain("192.0.2.11", 0);
    s.due(0);
    expect(s.lose("192.0.2.10")).toBe(true);
    expect(s.lose("192.0.2.10")).toBe(false);
    expect(run(s, 4400).map(([, ip]) => ip)).toEqual(["192.0.2.11", "192.0.2.11", "192.0.2.11", "192.0.2.11"]);
    expect(s.size).toBe(1);
  });
});

describe("periodic re-announce", () => {
  it("defaults to every 60 s", () => {
    expect(DEFAULT_REANNOUNCE_INTERVAL_MS).toBe(60_000);
  });

  it("re-announces every interval after the burst, first within 0.5-1.5 intervals of the last burst round", () => {
    const s = new AnnouncementSchedule({ reannounceIntervalMs: 10_000 });
    s.gain("192.0.2.10", 0);
    const sends = run(s, 60_000);
    expect(sends.slice(0, 5).every(([, , kind]) => kind === "burst")).toBe(true);
    const re = sends.filter(([, , kind]) => kind === "reannounce").map(([t]) => t);
    expect(re[0]).toBeGreaterThanOrEqual(4400 + 5_000);
    expect(re[0]).toBeLessThan(4400 + 15_000);
    for (let i = 1; i < re.length; i++) expect(re[i] - re[i - 1]).toBeCloseTo(10_000, 6);
    expect(re.length).toBeGreaterThanOrEqual(4);
  });

  it("gives each IP the same phase every time (deterministic)", () => {
    const a = new AnnouncementSchedule();
    const b = new AnnouncementSchedule();
    a.gain("192.0.2.10", 0);
    b.gain("192.0.2.10", 0);
    expect(run(a, 300_000)).toEqual(run(b, 300_000));
  });

  it("rejects nonsense timings with the option's name", () => {
    expect(() => new AnnouncementSchedule({ reannounceIntervalMs: -1 })).toThrow("reannounceIntervalMs must be a finite number >= 0, got -1");
    expect(() => new AnnouncementSchedule({ burstIntervalMs: 0 })).toThrow("burstIntervalMs must be > 0");
  });
});

describe("10,000 VIPs", () => {
  const ips = Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);

  it("bursts all of them and spreads their re-announces over the interval instead of firing together", () => {
    const s = new AnnouncementSchedule();
    for (const ip of ips) s.gain(ip, 0);
    const started = performance.now();
    const sends = run(s, 4400 + 2 * 60_000);
    const elapsed = performance.now() - started;
    expect(sends.filter(([, , k]) => k === "burst").length).toBe(50_000);
    const firstRe = new Map<string, number>();
    for (const [t, ip, k] of sends) if (k === "reannounce" && !firstRe.has(ip)) firstRe.set(ip, t);
    expect(firstRe.size).toBe(10_000);
    // Count first re-announces per 1 s bucket: uniform spread over 60 s gives ~167 a second.
    const buckets = new Map<number, number>();
    for (const t of firstRe.values()) buckets.set(Math.floor(t / 1000), (buckets.get(Math.floor(t / 1000)) ?? 0) + 1);
    expect(Math.max(...buckets.values())).toBeLessThan(400);
    expect(buckets.size).toBeGreaterThanOrEqual(58);
    expect(elapsed).toBeLessThan(2000);
  });

  it("does not grow its queue under gain/lose churn", () => {
    const s = new AnnouncementSchedule();
    for (let round = 0; round < 20; round++) {
      for (const ip of ips) s.gain(ip, round);
      expect(s.queuedEntries).toBeLessThanOrEqual(2 * s.size + 1024);
      for (const ip of ips.slice(0, 9_000)) s.lose(ip);
      expect(s.queuedEntries).toBeLessThanOrEqual(2 * s.size + 1024);
    }
    expect(s.size).toBe(1_000);
    s.gain("192.0.2.1", 100);
    expect(s.due(100).length).toBe(1_001);
  });
});
