import { describe, expect, it } from "vitest";
import {
  budgetWindows,
  darkIntervals,
  evaluate,
  firstSuccessAfter,
  twoMacSeconds,
  uncovered,
  union,
  type ArpRound,
  type FaultRecord,
  type ProbeSample,
} from "./checker.ts";

const A = "aa:aa:aa:aa:aa:aa";
const B = "bb:bb:bb:bb:bb:bb";

/** Probes every 100 ms from `from` to `to` (ms), failing where `dark(t)` says so. */
function probes(from: number, to: number, dark: (t: number) => boolean, node = "node-1"): ProbeSample[] {
  const out: ProbeSample[] = [];
  for (let t = from; t < to; t += 100) out.push(dark(t) ? { start: t, end: t + 300, ok: false, reason: "connect-timeout" } : { start: t, end: t + 5, ok: true, node });
  return out;
}

/** ARP rounds every 100 ms, answered by `macs(t)`. */
function rounds(from: number, to: number, macs: (t: number) => string[]): ArpRound[] {
  const out: ArpRound[] = [];
  for (let t = from; t < to; t += 100) out.push({ at: t, vip: "192.0.2.10", macs: macs(t) });
  return out;
}

const fault = (f: Partial<FaultRecord> & { start: number }): FaultRecord => ({ id: 1, kind: "speaker-kill", ownerTargeted: true, ...f });

describe("darkIntervals", () => {
  it.each([
    { name: "all served: no dark interval", dark: () => false, want: [] },
    { name: "one run of failures: from the first failed start to the next success's start", dark: (t: number) => t >= 1000 && t < 1600, want: [{ start: 1000, end: 1600 }] },
    { name: "two runs", dark: (t: number) => (t >= 1000 && t < 1200) || (t >= 3000 && t < 3100), want: [{ start: 1000, end: 1200 }, { start: 3000, end: 3100 }] },
    { name: "still dark at the end: open until the end of the range", dark: (t: number) => t >= 4500, want: [{ start: 4500, end: 5000 }] },
  ])("$name", ({ dark, want }) => {
    expect(darkIntervals(probes(0, 5000, dark), 0, 5000)).toEqual(want);
  });
});

describe("uncovered and union", () => {
  it("subtracts the allowed windows from the dark intervals", () => {
    expect(uncovered([{ start: 0, end: 1000 }], [{ start: 200, end: 400 }, { start: 300, end: 600 }])).toEqual([
      { start: 0, end: 200 },
      { start: 600, end: 1000 },
    ]);
    expect(uncovered([{ start: 100, end: 200 }], [{ start: 0, end: 500 }])).toEqual([]);
    expect(union([{ start: 5, end: 6 }, { start: 0, end: 2 }, { start: 1, end: 3 }])).toEqual([
      { start: 0, end: 3 },
      { start: 5, end: 6 },
    ]);
  });
});

describe("budgetWindows", () => {
  it("opens a window at an owner fault (from the request in flight) and one at the first dark interval after its heal", () => {
    const dark = [{ start: 10_050, end: 10_700 }, { start: 20_300, end: 20_500 }];
    expect(budgetWindows([fault({ start: 10_000, healedAt: 20_000, releasedAt: 25_000 })], dark, 1500, 600)).toEqual([
      { start: 9_400, end: 11_500 },
      { start: 20_300, end: 21_800 },
    ]);
  });

  it("gives a fault that does not hit the owner no window at all", () => {
    expect(budgetWindows([fault({ start: 10_000, ownerTargeted: false, healedAt: 12_000 })], [{ start: 10_100, end: 10_500 }], 1500, 600)).toEqual([]);
  });
});

describe("evaluate", () => {
  const origin = 0;
  const end = 30_000;
  const cases: { name: string; faults: FaultRecord[]; dark: (t: number) => boolean; macs: (t: number) => string[]; twoMac: number; beyond: number }[] = [
    { name: "steady: nothing to report", faults: [], dark: () => false, macs: () => [A], twoMac: 0, beyond: 0 },
    {
      name: "owner killed, failover in 0.6 s: within the budget",
      faults: [fault({ start: 10_000, healedAt: 15_000, releasedAt: 18_000 })],
      dark: (t) => t >= 10_000 && t < 10_600,
      macs: (t) => (t >= 10_000 && t < 10_600 ? [] : t >= 10_600 && t < 15_200 ? [B] : [A]),
      twoMac: 0,
      beyond: 0,
    },
    {
      name: "owner killed, failover in 2 s: 0.5 s beyond the budget",
      faults: [fault({ start: 10_000 })],
      dark: (t) => t >= 10_000 && t < 12_000,
      macs: () => [A],
      twoMac: 0,
      beyond: 0.5,
    },
    {
      name: "an API outage that darkens the VIP: all of it beyond the budget (none is allowed)",
      faults: [fault({ kind: "api-outage", ownerTargeted: false, start: 5_000, healedAt: 25_000 })],
      dark: (t) => t >= 8_000 && t < 25_500,
      macs: () => [A],
      twoMac: 0,
      beyond: 17.5,
    },
    {
      name: "two MACs in two requests of the same second count once, in another second again",
      faults: [],
      dark: () => false,
      macs: (t) => (t === 3_100 || t === 3_500 || t === 7_000 ? [A, B] : [A]),
      twoMac: 2,
      beyond: 0,
    },
    {
      name: "a handover seen across two requests (A, then B) is not two MACs",
      faults: [fault({ start: 10_000 })],
      dark: () => false,
      macs: (t) => (t < 10_000 ? [A] : [B]),
      twoMac: 0,
      beyond: 0,
    },
    {
      name: "the move back after a heal gets the budget once; a second dark interval later does not",
      faults: [fault({ start: 10_000, healedAt: 15_000, releasedAt: 20_000 })],
      dark: (t) => (t >= 15_400 && t < 16_000) || (t >= 22_000 && t < 22_300),
      macs: () => [A],
      twoMac: 0,
      beyond: 0.3,
    },
  ];
  it.each(cases)("$name", ({ faults, dark, macs, twoMac, beyond }) => {
    const f = evaluate({ probes: probes(origin, end, dark), rounds: rounds(origin, end, macs), faults, origin, end, budgetMs: 1500, probeMaxMs: 600 });
    expect(f.twoMacSeconds).toBe(twoMac);
    expect(f.darkBeyondBudgetSeconds).toBe(beyond);
  });

  it("attributes figures to the fault kinds active at the time, and the rest to 'none'", () => {
    const faults = [fault({ id: 1, kind: "api-outage", ownerTargeted: false, start: 5_000, healedAt: 8_000, releasedAt: 9_000 })];
    const f = evaluate({
      probes: probes(origin, end, (t) => (t >= 6_000 && t < 7_000) || (t >= 20_000 && t < 20_200)),
      rounds: rounds(origin, end, (t) => (t === 6_500 ? [A, B] : [A])),
      faults,
      origin,
      end,
      budgetMs: 1500,
      probeMaxMs: 600,
    });
    expect(f.byKind["api-outage"]).toEqual({ injected: 1, ownerTargeted: 0, darkSeconds: 1, darkBeyondBudgetSeconds: 1, twoMacSeconds: 1 });
    expect(f.byKind.none).toEqual({ injected: 0, ownerTargeted: 0, darkSeconds: 0.2, darkBeyondBudgetSeconds: 0.2, twoMacSeconds: 0 });
    expect(f.incidents.map((i) => [i.what, i.at, i.faults])).toEqual([
      ["dark-beyond-budget", 6_000, [1]],
      ["two-macs", 6_500, [1]],
      ["dark-beyond-budget", 20_000, []],
    ]);
  });

  it("counts a dark moment shorter than a tenth of a second as 0.1 s, never as 0", () => {
    const f = evaluate({
      probes: [
        { start: 0, end: 5, ok: true, node: "node-1" },
        { start: 100, end: 400, ok: false, reason: "connect-timeout" },
        { start: 130, end: 135, ok: true, node: "node-1" },
      ],
      rounds: [],
      faults: [],
      origin: 0,
      end: 1_000,
      budgetMs: 1500,
      probeMaxMs: 600,
    });
    expect(f.darkBeyondBudgetSeconds).toBe(0.1);
  });
});

describe("twoMacSeconds and firstSuccessAfter", () => {
  it("counts seconds from the origin", () => {
    expect(twoMacSeconds(rounds(0, 3_000, (t) => (t === 900 || t === 1_000 ? [A, B] : [A])), 0)).toBe(2);
  });

  it("finds the first request after a moment served by another node", () => {
    const p: ProbeSample[] = [
      { start: 900, end: 905, ok: true, node: "node-1" },
      { start: 1_000, end: 1_300, ok: false, reason: "connect-timeout" },
      { start: 1_200, end: 1_210, ok: true, node: "node-1" },
      { start: 1_100, end: 1_110, ok: true, node: "node-2" },
    ];
    expect(firstSuccessAfter(p, 1_000, "node-1")?.start).toBe(1_100);
    expect(firstSuccessAfter(p, 1_000)?.start).toBe(1_100);
    expect(firstSuccessAfter(p, 2_000)).toBeUndefined();
  });
});
