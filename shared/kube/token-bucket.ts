/** Size and refill of a {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens the bucket holds when full (and starts with). */
  burst: number;
  /** One token comes back every this many milliseconds. */
  refillEveryMs: number;
}

/**
 * A token bucket on a clock the caller passes in (milliseconds), so it is a value a test can drive:
 * it starts full, each `take` spends one token, and tokens come back one per `refillEveryMs` up to
 * `burst`. The refill is kept as a per-token interval (not a rate) so that whole intervals give
 * whole tokens, without floating-point drift.
 *
 * @example
 * const writes = new TokenBucket({ burst: 100, refillEveryMs: 50 }, Date.now());
 * if (!writes.take(Date.now())) setTimeout(retry, writes.msUntilToken(Date.now()));
 */
export class TokenBucket {
  private readonly opts: TokenBucketOptions;
  private tokens: number;
  private last: number;

  constructor(opts: TokenBucketOptions, now: number) {
    if (!(opts.burst >= 1) || !(opts.refillEveryMs > 0)) {
      throw new Error(`TokenBucket: burst must be at least 1 and refillEveryMs above 0, got ${opts.burst} and ${opts.refillEveryMs}`);
    }
    this.opts = opts;
    this.tokens = opts.burst;
    this.last = now;
  }

  /** Spends a token and returns true, or returns false (spending nothing) when the bucket is empty. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until `take` would succeed; 0 when a token is there now. */
  msUntilToken(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) * this.opts.refillEveryMs);
  }

  private refill(now: number): void {
    // A clock that steps back refills nothing, and the bucket measures from the new reading.
    if (now > this.last) this.tokens = Math.min(this.opts.burst, this.tokens + (now - this.last) / this.opts.refillEveryMs);
    this.last = now;
  }
}
