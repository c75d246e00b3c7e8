/**
 * A set of `bigint`s stored as maximal runs of consecutive values in a B+ tree, so that adding,
 * removing and finding the lowest absent value in a window all take O(log r) for r runs,
 * however large the window is (an IPv6 /64 is fine).
 */
import { SortedMap } from "./sorted-map.ts";

const compareBigints = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * @example
 * const used = new IntervalSet();
 * used.add(0n); used.add(1n); used.add(3n);
 * used.lowestAbsent(0n, 9n); // 2n
 */
export class IntervalSet {
  /** run start → run end (inclusive); runs never touch or overlap. */
  readonly #runs = new SortedMap<bigint, bigint>(undefined, compareBigints);
  #count = 0n;

  /** Number of values in the set. */
  get count(): bigint {
    return this.#count;
  }

  /** Whether `value` is in the set. */
  has(value: bigint): boolean {
    const run = this.#runs.getPairOrNextLower(value);
    return run !== undefined && run[1] >= value;
  }

  /** Adds `value`; returns false when it was already present. */
  add(value: bigint): boolean {
    const before = this.#runs.getPairOrNextLower(value);
    if (before !== undefined && before[1] >= value) return false;
    const afterEnd = this.#runs.get(value + 1n);
    const joinsBefore = before !== undefined && before[1] === value - 1n;
    if (afterEnd !== undefined) this.#runs.delete(value + 1n);
    if (joinsBefore) {
      this.#runs.set(before[0], afterEnd ?? value);
    } else {
      this.#runs.set(value, afterEnd ?? value);
    }
    this.#count++;
    return true;
  }

  /** Removes `value`; returns false when it was absent. */
  delete(value: bigint): boolean {
    const run = this.#runs.getPairOrNextLower(value);
    if (run === undefined || run[1] < value) return false;
    const [start, end] = run;
    if (start === value) {
      this.#runs.delete(start);
    } else {
      this.#runs.set(start, value - 1n);
    }
    if (end > value) this.#runs.set(value + 1n, end);
    this.#count--;
    return true;
  }

  /** The lowest value in `[low, high]` that is not in the set, or undefined when the window is full. */
  lowestAbsent(low: bigint, high: bigint): bigint | undefined {
    if (low > high) return undefined;
    const run = this.#runs.getPairOrNextLower(low);
    const candidate = run !== undefined && run[1] >= low ? run[1] + 1n : low;
    return candidate <= high ? candidate : undefined;
  }
}
