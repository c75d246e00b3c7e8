import { describe, expect, it } from "vitest";
import { IntervalSet } from "./interval-set.ts";

function setOf(...values: number[]): IntervalSet {
  const set = new IntervalSet();
  for (const value of values) set.add(BigInt(value));
  return set;
}

describe("IntervalSet", () => {
  it.each<[string, number[], [number, number], number | undefined]>([
    ["an empty set has its window start free", [], [5, 9], 5],
    ["the gap after a run is found", [0, 1, 2, 4], [0, 9], 3],
    ["a window starting inside a run skips to the run's end", [3, 4, 5], [4, 9], 6],
    ["a window that starts in a free spot returns it", [0, 2], [1, 9], 1],
    ["a full window has nothing", [0, 1, 2], [0, 2], undefined],
    ["an empty window has nothing", [], [3, 2], undefined],
  ])("%s", (_name, values, [low, high], expected) => {
    expect(setOf(...values).lowestAbsent(BigInt(low), BigInt(high))).toBe(expected === undefined ? undefined : BigInt(expected));
  });

  it("merges neighbours on add and splits runs on delete", () => {
    const set = setOf(1, 3);
    expect(set.add(2n)).toBe(true); // joins 1 and 3 into one run
    expect(set.add(2n)).toBe(false);
    expect(set.lowestAbsent(1n, 10n)).toBe(4n);
    expect(set.delete(2n)).toBe(true);
    expect(set.delete(2n)).toBe(false);
    expect([set.has(1n), set.has(2n), set.has(3n)]).toEqual([true, false, true]);
    expect(set.lowestAbsent(1n, 10n)).toBe(2n);
    expect(set.count).toBe(2n);
  });

  it("handles values near 2^128 without enumerating", () => {
    const top = (1n << 128n) - 1n;
    const set = setOf();
    set.add(top - 1n);
    set.add(top);
    expect(set.lowestAbsent(top - 1n, top)).toBeUndefined();
    expect(set.lowestAbsent(0n, top)).toBe(0n);
    set.delete(top);
    expect(set.lowestAbsent(top - 1n, top)).toBe(top);
  });

  it("agrees with a plain Set under random adds and deletes", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 64;
    const set = new IntervalSet();
    const plain = new Set<number>();
    for (let step = 0; step < 2000; step++) {
      const value = random();
      if (random() % 3 === 0) {
        expect(set.delete(BigInt(value))).toBe(plain.delete(value));
      } else {
        expect(set.add(BigInt(value))).toBe(!plain.has(value) && plain.add(value) !== undefined);
      }
      const low = random();
      let expected: number | undefined = low;
      while (expected !== undefined && plain.has(expected)) expected = expected + 1 <= 63 ? expected + 1 : undefined;
      expect(set.lowestAbsent(BigInt(low), 63n)).toBe(expected === undefined ? undefined : BigInt(expected));
    }
    expect(set.count).toBe(BigInt(plain.size));
  });
});
