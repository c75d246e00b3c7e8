import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket.ts";

describe("TokenBucket", () => {
  it("starts full, spends one token per take, and refuses when empty", () => {
    const bucket = new TokenBucket({ burst: 3, refillEveryMs: 1000 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    expect(bucket.msUntilToken(0)).toBe(1000);
  });

  it.each([
    { name: "one interval gives one token", elapsed: 300_000, takes: 1 },
    { name: "half an interval gives none", elapsed: 150_000, takes: 0 },
    { name: "a long pause refills only up to burst", elapsed: 100 * 300_000, takes: 25 },
  ])("$name", ({ elapsed, takes }) => {
    const bucket = new TokenBucket({ burst: 25, refillEveryMs: 300_000 }, 0);
    for (let i = 0; i < 25; i++) bucket.take(0);
    let taken = 0;
    for (let i = 0; i < 30; i++) if (bucket.take(elapsed)) taken++;
    expect(taken).toBe(takes);
  });

  it("says how long until the next token", () => {
    const bucket = new TokenBucket({ burst: 1, refillEveryMs: 50 }, 1000);
    expect(bucket.msUntilToken(1000)).toBe(0);
    bucket.take(1000);
    expect(bucket.msUntilToken(1020)).toBe(30);
    expect(bucket.take(1050)).toBe(true);
  });

  it("refills nothing when the clock steps back", () => {
    const bucket = new TokenBucket({ burst: 1, refillEveryMs: 50 }, 1000);
    bucket.take(1000);
    expect(bucket.take(500)).toBe(false);
    expect(bucket.take(549)).toBe(false);
    expect(bucket.take(550)).toBe(true);
  });

  it("refuses a bucket that could never hold a token", () => {
    expect(() => new TokenBucket({ burst: 0, refillEveryMs: 50 }, 0)).toThrow(/burst must be at least 1/);
  });
});
