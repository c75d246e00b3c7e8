import { describe, expect, it } from "vitest";
import { MinHeap } from "./min-heap.ts";

/** Deterministic numbers in [0, 1000). */
function* numbers(seed: number, count: number): Generator<number> {
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    yield x % 1000;
  }
}

describe("MinHeap", () => {
  it("pops in ascending order whatever the push order, duplicates included", () => {
    const h = new MinHeap<number>((a, b) => a - b);
    const input = [...numbers(7, 500)];
    for (const n of input) h.push(n);
    expect(h.size).toBe(500);
    const out: number[] = [];
    while (h.size > 0) out.push(h.pop()!);
    expect(out).toEqual([...input].sort((a, b) => a - b));
    expect(h.pop()).toBeUndefined();
    expect(h.peek()).toBeUndefined();
  });

  it("keeps order under interleaved pushes and pops", () => {
    const h = new MinHeap<number>((a, b) => a - b);
    const model: number[] = [];
    for (const n of numbers(11, 2000)) {
      if (n % 3 === 0 && model.length > 0) {
        model.sort((a, b) => a - b);
        expect(h.pop()).toBe(model.shift());
      } else {
        h.push(n);
        model.push(n);
      }
      expect(h.peek()).toBe(model.length > 0 ? Math.min(...model) : undefined);
    }
  });

  it("reset heapifies a whole array", () => {
    const h = new MinHeap<number>((a, b) => a - b);
    h.reset([5, 3, 9, 1, 7]);
    expect([h.pop(), h.pop(), h.pop(), h.pop(), h.pop()]).toEqual([1, 3, 5, 7, 9]);
  });
});
