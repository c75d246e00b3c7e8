import { describe, expect, it } from "vitest";
import { seededRandom, seededUint32 } from "./seeded-random.ts";

describe("seeded random", () => {
  it("replays the same sequence from the same seed, another from another seed", () => {
    const a = Array.from({ length: 5 }, seededUint32(42));
    expect(Array.from({ length: 5 }, seededUint32(42))).toEqual(a);
    expect(Array.from({ length: 5 }, seededUint32(43))).not.toEqual(a);
  });

  it("yields floats in [0, 1) that are spread out", () => {
    const xs = Array.from({ length: 10_000 }, seededRandom(123));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });
});
