import { describe, expect, it } from "vitest";
import type { Figures } from "./checker.ts";
import type { InjectedFault } from "./fault-injector.ts";
import { formatReport, soakReport, type ReportInput } from "./report.ts";

const figures = (over: Partial<Figures> = {}): Figures => ({
  seconds: 90,
  probes: 900,
  failedProbes: 6,
  arpRounds: 900,
  unansweredRounds: 6,
  twoMacSeconds: 0,
  darkSeconds: 0.6,
  darkBeyondBudgetSeconds: 0,
  byKind: { "speaker-kill": { injected: 1, ownerTargeted: 1, darkSeconds: 0.6, darkBeyondBudgetSeconds: 0, twoMacSeconds: 0 } },
  incidents: [],
  ...over,
});

const kill: InjectedFault = { id: 1, kind: "speaker-kill", target: "node-3", ownerTargeted: true, start: 10_000, healedAt: 14_000, releasedAt: 16_000, detail: "speaker-kill of node-3 (the owner) for 4.0 s", durationMs: 4_000 };

const input = (over: Partial<ReportInput> = {}): ReportInput => ({
  seed: 7,
  minutes: 1.5,
  vip: "192.168.126.40",
  budgetMs: 1500,
  origin: 0,
  interrupted: false,
  figures: figures(),
  faults: [kill],
  unexpectedExits: [],
  harnessErrors: [],
  ...over,
});

describe("soakReport", () => {
  it.each([
    { name: "both must-be-zero figures 0: ok", over: {}, ok: true },
    { name: "a second with two MACs: not ok", over: { figures: figures({ twoMacSeconds: 1 }) }, ok: false },
    { name: "dark beyond the budget: not ok", over: { figures: figures({ darkBeyondBudgetSeconds: 0.1 }) }, ok: false },
    { name: "a harness error: not ok, whatever the figures", over: { harnessErrors: ["no fault was injected"] }, ok: false },
    { name: "a fault that failed to heal: not ok", over: { faults: [{ ...kill, error: "heal failed: no speaker ready" }] }, ok: false },
  ])("$name", ({ over, ok }) => {
    expect(soakReport(input(over)).ok).toBe(ok);
  });

  it("names the MACs of incidents and gives times from the origin", () => {
    const r = soakReport(
      input({
        figures: figures({ twoMacSeconds: 1, incidents: [{ at: 12_340, what: "two-macs", ms: 0, macs: ["aa:aa:aa:aa:aa:aa", "bb:bb:bb:bb:bb:bb"], faults: [1] }] }),
        nameOfMac: (m) => (m.startsWith("aa") ? `node-1 ${m}` : m),
      }),
    );
    expect(r.incidents).toEqual([{ at: 12_340, what: "two-macs", ms: 0, macs: ["node-1 aa:aa:aa:aa:aa:aa", "bb:bb:bb:bb:bb:bb"], faults: [1], offsetSeconds: 12.3 }]);
    const text = formatReport(r);
    expect(text).toContain("+12.3s two MACs answered: node-1 aa:aa:aa:aa:aa:aa + bb:bb:bb:bb:bb:bb — during #1 speaker-kill of node-3 (the owner) for 4.0 s");
    expect(text).toContain("seconds with two MACs answering one ARP request: 1 (must be 0)");
    expect(text.trimEnd().endsWith("FAIL")).toBe(true);
  });

  it("prints one row per fault kind with what was injected, and PASS when clean", () => {
    const text = formatReport(soakReport(input()));
    expect(text).toMatch(/^speaker-kill\s+1\s+1\s+0\.6\s+0\.0\s+0$/m);
    expect(text).toContain("VIP-dark seconds beyond the failover budget (1.5 s after a fault that kills or isolates the owner, 0 otherwise): 0.0 (must be 0)");
    expect(text.trimEnd().endsWith("PASS")).toBe(true);
  });
});
