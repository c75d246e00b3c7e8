/** Limits of a {@link BoundedQueue}. */
export interface BoundedQueueOptions {
  /** Tasks running at once. */
  concurrency: number;
  /** Tasks waiting beyond this many are dropped. */
  maxQueued: number;
}

/**
 * Runs fire-and-forget async tasks a few at a time and drops new ones while too many wait, as
 * client-go's event broadcaster does (1000 queued, then dropped). The speaker sends its per-Service
 * Events through one, so gaining 10,000 VIPs at once does not open 10,000 API requests together and
 * starve its own Lease renewals. A task that throws is counted like one that finished.
 *
 * @example
 * const events = new BoundedQueue({ concurrency: 2, maxQueued: 1000 });
 * if (!events.push(() => recorder.record(target, "Normal", "nodeAssigned", message))) dropped++;
 */
export class BoundedQueue {
  private readonly opts: BoundedQueueOptions;
  private readonly waiting: (() => Promise<void>)[] = [];
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: BoundedQueueOptions) {
    if (!(opts.concurrency >= 1) || !(opts.maxQueued >= 0)) {
      throw new Error(`BoundedQueue: concurrency must be at least 1 and maxQueued at least 0, got ${opts.concurrency} and ${opts.maxQueued}`);
    }
    this.opts = opts;
  }

  /** Tasks running or waiting. */
  get size(): number {
    return this.running + this.waiting.length;
  }

  /** Starts `task` now or queues it; false (and `task` never runs) when the queue is full. */
  push(task: () => Promise<void>): boolean {
    if (this.running < this.opts.concurrency) {
      this.start(task);
      return true;
    }
    if (this.waiting.length >= this.opts.maxQueued) return false;
    this.waiting.push(task);
    return true;
  }

  /** Drops every waiting task (running ones finish on their own). */
  clear(): void {
    this.waiting.length = 0;
    this.notifyIfIdle();
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private start(task: () => Promise<void>): void {
    this.running++;
    let promise: Promise<void>;
    try {
      promise = task();
    } catch {
      promise = Promise.resolve();
    }
    promise
      .catch(() => undefined)
      .then(() => {
        this.running--;
        const next = this.waiting.shift();
        if (next) this.start(next);
        else this.notifyIfIdle();
      });
  }

  private notifyIfIdle(): void {
    if (this.size !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
