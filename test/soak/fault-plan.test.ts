import { describe, expect, it } from "vitest";
import { FaultPlan, durations, isNodeFault, type PlannedFault } from "./fault-plan.ts";

function decisions(seed: number, n: number, state = { nodeSlotFree: true, apiSlotFree: true, remainingMs: 600_000 }): PlannedFault[][] {
  const plan = new FaultPlan(seed);
  return Array.from({ length: n }, () => {
    plan.gapMs();
    return plan.next(state);
  });
}

describe("FaultPlan", () => {
  it("gives the same choices for the same seed, and other choices for another seed", () => {
    expect(decisions(42, 50)).toEqual(decisions(42, 50));
    expect(decisions(42, 50)).not.toEqual(decisions(43, 50));
  });

  it("makes the k-th decision depend on the seed alone, not on which slots were free before", () => {
    const plan = new FaultPlan(9);
    for (let i = 0; i < 10; i++) {
      plan.gapMs();
      plan.next({ nodeSlotFree: false, apiSlotFree: false, remainingMs: 600_000 });
    }
    plan.gapMs();
    expect(plan.next({ nodeSlotFree: true, apiSlotFree: true, remainingMs: 600_000 })).toEqual(decisions(9, 11)[10]);
  });

  it("starts at most one node fault and one API fault, and none in a busy slot", () => {
    const all = decisions(7, 500);
    for (const d of all) {
      expect(d.filter(isNodeFault).length).toBeLessThanOrEqual(1);
      expect(d.filter((f) => !isNodeFault(f)).length).toBeLessThanOrEqual(1);
    }
    expect(decisions(7, 200, { nodeSlotFree: false, apiSlotFree: true, remainingMs: 600_000 }).flat().some(isNodeFault)).toBe(false);
    expect(decisions(7, 200, { nodeSlotFree: true, apiSlotFree: false, remainingMs: 600_000 }).flat().every(isNodeFault)).toBe(true);
  });

  it("over many decisions uses every kind, both kinds of target and both directions of an asymmetric cut", () => {
    const all = decisions(1, 2_000).flat();
    expect(new Set(all.map((f) => f.kind))).toEqual(new Set(Object.keys(durations)));
    const node = all.filter(isNodeFault);
    expect(node.some((f) => f.target === "owner")).toBe(true);
    expect(node.some((f) => f.target !== "owner" && f.target.peer === 0)).toBe(true);
    expect(node.some((f) => f.target !== "owner" && f.target.peer === 1)).toBe(true);
    expect(new Set(node.filter((f) => f.kind === "asymmetric-cut").map((f) => f.direction))).toEqual(new Set(["outbound", "inbound"]));
  });

  it("keeps durations within each kind's range and ends every fault 1 s before the time runs out", () => {
    for (const f of decisions(3, 1_000).flat()) {
      expect(f.durationMs).toBeGreaterThanOrEqual(durations[f.kind].minMs);
      expect(f.durationMs).toBeLessThanOrEqual(durations[f.kind].maxMs);
    }
    const short = decisions(3, 300, { nodeSlotFree: true, apiSlotFree: true, remainingMs: 4_000 }).flat();
    expect(short.length).toBeGreaterThan(0);
    for (const f of short) expect(f.durationMs).toBeLessThanOrEqual(3_000);
    expect(short.some((f) => f.kind === "api-outage")).toBe(true);
    // With 1.6 s left (0.6 s of room) nothing fits but a link flap (0.5 s minimum).
    expect(new Set(decisions(3, 300, { nodeSlotFree: true, apiSlotFree: true, remainingMs: 1_600 }).flat().map((f) => f.kind))).toEqual(new Set(["link-flap"]));
  });

  it("pauses 0.5–3 s between decisions", () => {
    const plan = new FaultPlan(5);
    for (let i = 0; i < 200; i++) {
      const gap = plan.gapMs();
      expect(gap).toBeGreaterThanOrEqual(500);
      expect(gap).toBeLessThanOrEqual(3_000);
    }
  });
});
