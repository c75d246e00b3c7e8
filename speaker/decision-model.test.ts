import { describe, expect, it } from "vitest";
import { runSchedule } from "./decision-model-schedule.ts";

describe("decision logic under seeded random schedules", () => {
  it("never lets two speakers announce one VIP, and announces every VIP within the budget once a majority is connected (3 nodes)", () => {
    let faults = 0;
    let whole = 0;
    const violations: string[] = [];
    for (let seed = 1; seed <= 400; seed++) {
      const res = runSchedule(seed, 3, 30_000);
      faults += res.faults;
      whole += res.checkedWholeMs;
      violations.push(...res.violations);
    }
    expect(violations).toEqual([]);
    expect(faults).toBeGreaterThan(2000);
    expect(whole).toBeGreaterThan(400 * 5000);
  }, 120_000);

  it("holds for 2, 4 and 5 nodes too", () => {
    const violations: string[] = [];
    for (const n of [2, 4, 5]) {
      for (let seed = 1000; seed < 1150; seed++) violations.push(...runSchedule(seed * 7 + n, n, 25_000).violations);
    }
    expect(violations).toEqual([]);
  }, 120_000);
});
