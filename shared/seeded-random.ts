/**
 * mulberry32: a small, fast, seeded PRNG for fuzzers, simulations and fault schedules that must
 * replay from their seed. Not for anything secret.
 *
 * @example
 * const next = seededUint32(42); next(); // a uint32, the same sequence for the same seed
 */
export function seededUint32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * The same generator as floats in [0, 1).
 *
 * @example
 * const random = seededRandom(7); random(); // 0 ≤ x < 1
 */
export function seededRandom(seed: number): () => number {
  const next = seededUint32(seed);
  return () => next() / 4294967296;
}
