/**
 * A de-duplicating, rate-limited work queue processed one key at a time, in the style of
 * client-go's workqueue: a key queued while it is being processed runs again afterwards;
 * a failing key is retried with per-key exponential backoff.
 *
 * @example
 * const q = new WorkQueue((key) => reconcile(key), { baseDelayMs: 50, maxDelayMs: 30_000 });
 * q.add("default/web");
 */
export class WorkQueue {
  private readonly handler: (key: string) => Promise<void>;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly onError: (key: string, err: unknown, retryInMs: number) => void;
  private readonly queue = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private processing: string | undefined;
  private dirtyWhileProcessing = false;
  private running = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    handler: (key: string) => Promise<void>,
    opts: { baseDelayMs?: number; maxDelayMs?: number; onError?: (key: string, err: unknown, retryInMs: number) => void } = {},
  ) {
    this.handler = handler;
    this.baseDelayMs = opts.baseDelayMs ?? 50;
    this.maxDelayMs = opts.maxDelayMs ?? 30_000;
    this.onError = opts.onError ?? (() => {});
  }

  /** Queues a key now (a pending delayed retry of it is superseded). */
  add(key: string): void {
    if (this.stopped) return;
    const timer = this.timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
    if (key === this.processing) this.dirtyWhileProcessing = true;
    else this.queue.add(key);
    this.pump();
  }

  /** Queues a key after a delay unless it is queued sooner. */
  addAfter(key: string, ms: number): void {
    if (this.stopped || this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Number of keys waiting (not counting delayed retries). */
  get length(): number {
    return this.queue.size;
  }

  /** Resolves when nothing is queued or being processed (delayed retries may still be pending). */
  idle(): Promise<void> {
    if (!this.running && this.queue.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queue.clear();
  }

  private pump(): void {
    if (this.running) return;
    this.running = true;
    // Start on the next turn so a burst of adds (an informer's relist) coalesces first.
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.queue.size > 0) {
      const key = this.queue.values().next().value as string;
      this.queue.delete(key);
      this.processing = key;
      this.dirtyWhileProcessing = false;
      try {
        await this.handler(key);
        this.failures.delete(key);
      } catch (err) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        const wait = Math.min(this.baseDelayMs * 2 ** (n - 1), this.maxDelayMs);
        this.onError(key, err, wait);
        if (!this.dirtyWhileProcessing) this.addAfter(key, wait);
      }
      this.processing = undefined;
      if (this.dirtyWhileProcessing) this.queue.add(key);
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
