import { describe, expect, it } from "vitest";
import { nextConditions, type Condition } from "./ready-condition.ts";

const t0 = new Date("2026-11-29T10:00:00.123Z");
const t1 = new Date("2026-11-29T10:05:00.000Z");
const bad = { ready: false, reason: "OverlappingPools", message: "overlaps pool b", generation: 2 };

describe("nextConditions", () => {
  it("adds Ready with a seconds-precision transition time and the generation", () => {
    expect(nextConditions(undefined, bad, t0)).toEqual([
      { type: "Ready", status: "False", reason: "OverlappingPools", message: "overlaps pool b", lastTransitionTime: "2026-11-29T10:00:00Z", observedGeneration: 2 },
    ]);
  });

  it("writes nothing when the condition already says the same", () => {
    const existing = nextConditions(undefined, bad, t0)!;
    expect(nextConditions(existing, bad, t1)).toBeUndefined();
  });

  it.each([
    ["a new message", { ...bad, message: "overlaps pool c" }, "2026-11-29T10:00:00Z"],
    ["a new generation", { ...bad, generation: 3 }, "2026-11-29T10:00:00Z"],
    ["a flip to ready", { ready: true, reason: "Accepted", message: "in force", generation: 3 }, "2026-11-29T10:05:00Z"],
  ])("%s rewrites it; the transition time moves only on a flip", (_name, want, time) => {
    const existing = nextConditions(undefined, bad, t0)!;
    const next = nextConditions(existing, want, t1)!;
    expect(next.find((c) => c.type === "Ready")?.lastTransitionTime).toBe(time);
    expect(next.find((c) => c.type === "Ready")?.message).toBe(want.message);
  });

  it("keeps other condition types as they are", () => {
    const other: Condition = { type: "Degraded", status: "False", reason: "X", message: "", lastTransitionTime: "2026-01-01T00:00:00Z" };
    expect(nextConditions([other], bad, t0)?.[0]).toBe(other);
  });

  it("caps the message at the API server's 32 KiB limit", () => {
    const next = nextConditions(undefined, { ...bad, message: "x".repeat(40_000) }, t0)!;
    expect(next[0].message.length).toBe(32_768);
  });
});
