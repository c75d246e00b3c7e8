/** Options of a {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** First retry delay of a failing key; doubles per failure. Default 50 ms. */
  baseDelayMs?: number;
  /** Longest retry delay. Default 30 s. */
  maxDelayMs?: number;
  /** Called for each failure, with the delay before the key is tried again. */
  onError?: (key: string, err: unknown, retryInMs: number) => void;
  /**
   * Keys processed at once (distinct keys; a key never runs twice at once). Default 1: one key
   * after the other.
   */
  concurrency?: number;
}

/**
 * A de-duplicating, rate-limited work queue in the style of client-go's workqueue: keys are taken
 * oldest first; up to `concurrency` distinct keys are processed at once, and a key is never
 * processed concurrently with itself (a key queued while it is being processed runs again
 * afterwards); a failing key is retried with per-key exponential backoff.
 *
 * Handlers start in queue order, and each runs synchronously up to its first `await` before the
 * next one starts: work a handler does before awaiting happens in key order, whatever the
 * concurrency.
 *
 * @example
 * const q = new WorkQueue((key) => reconcile(key), { baseDelayMs: 50, maxDelayMs: 30_000, concurrency: 16 });
 * q.add("default/web");
 */
export class WorkQueue {
  private readonly handler: (key: string) => Promise<void>;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly concurrency: number;
  private readonly onError: (key: string, err: unknown, retryInMs: number) => void;
  /** Keys waiting to be processed, oldest first; none of them is being processed. */
  private readonly queue = new Set<string>();
  /** Keys being processed now. */
  private readonly processing = new Set<string>();
  /** Keys added while being processed: queued again when their run ends. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private startScheduled = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(handler: (key: string) => Promise<void>, opts: WorkQueueOptions = {}) {
    this.handler = handler;
    this.baseDelayMs = opts.baseDelayMs ?? 50;
    this.maxDelayMs = opts.maxDelayMs ?? 30_000;
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
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
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queue.add(key);
    this.scheduleStart();
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

  /** Number of keys waiting (not counting those being processed or delayed retries). */
  get length(): number {
    return this.queue.size;
  }

  /** Resolves when nothing is queued or being processed (delayed retries may still be pending). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops every queued key and delayed retry; keys being processed finish. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queue.clear();
    this.dirty.clear();
    this.wakeIfIdle();
  }

  private isIdle(): boolean {
    return this.queue.size === 0 && this.processing.size === 0;
  }

  /** Starts on the next turn, so a burst of adds (an informer's relist) coalesces first. */
  private scheduleStart(): void {
    if (this.startScheduled || this.processing.size >= this.concurrency) return;
    this.startScheduled = true;
    setImmediate(() => {
      this.startScheduled = false;
      this.startWaiting();
    });
  }

  private startWaiting(): void {
    while (!this.stopped && this.processing.size < this.concurrency && this.queue.size > 0) {
      const key = this.queue.values().next().value as string;
      this.queue.delete(key);
      this.processing.add(key);
      void this.run(key);
    }
    this.wakeIfIdle();
  }

  private async run(key: string): Promise<void> {
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const wait = Math.min(this.baseDelayMs * 2 ** (n - 1), this.maxDelayMs);
      this.onError(key, err, wait);
      if (!this.dirty.has(key)) this.addAfter(key, wait);
    }
    this.processing.delete(key);
    if (this.dirty.delete(key) && !this.stopped) this.queue.add(key);
    this.startWaiting();
  }

  private wakeIfIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
