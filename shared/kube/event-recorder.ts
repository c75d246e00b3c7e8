import type { Logger } from "../log.ts";
import { describeError, statusOf } from "./api-errors.ts";
import type { KubeApi } from "./client/kube-api.ts";
import { events as eventsType } from "./client/resource-types.ts";
import { EventCorrelator, type CorrelatedEvent, type EventTarget, type EventType } from "./event-correlator.ts";
import { TokenBucket } from "./token-bucket.ts";

export type { EventTarget, EventType } from "./event-correlator.ts";

/** Why an Event was not written. */
export type EventDropReason = "spam" | "queue-full";

/** Limits and hooks of an {@link EventRecorder}; every field has a default. */
export interface EventRecorderOptions {
  /** Writes (create or patch) in flight at once. Default 4. */
  maxInFlight?: number;
  /** Sustained writes per second, across all Events. Default 20. */
  writesPerSecond?: number;
  /** Writes allowed at once before `writesPerSecond` applies. Default 100. */
  writeBurst?: number;
  /** Events waiting to be written; beyond it the oldest Normal one is dropped. Default 1,000. */
  maxQueued?: number;
  /** Keys the correlator remembers per cache (see ./event-correlator.ts). Default 4,096. */
  maxRemembered?: number;
  /** Called for every request not written: the object's spam budget was spent, or the queue was full. */
  onDropped?: (reason: EventDropReason, n: number) => void;
  /** Called for every write the API server accepted. */
  onWritten?: (verb: "create" | "patch") => void;
  /** Epoch milliseconds; Date.now by default (vi fake timers move it too). */
  now?: () => number;
}

/** A drop episode ends after this long without a drop; then one log line sums it up. */
const dropQuietMs = 10_000;
/** A storm that never pauses is still summed up this often. */
const dropReportEveryMs = 60_000;

/**
 * Records core/v1 Events without ever holding up the caller: `record()` correlates the request the
 * way client-go does (./event-correlator.ts: a repeat bumps `count`, the 10th similar message in 10
 * minutes becomes one "(combined from similar events)" Event, 25 Events per object then one per 5
 * minutes), queues it and returns. A background writer sends the queue, at most `maxInFlight` at a
 * time and `writesPerSecond` (burst `writeBurst`) overall, so a storm of 10,000 Service allocations
 * costs about `maxQueued` + `writeBurst` API writes, not 10,000.
 *
 * The queue holds one entry per Event: a repeat of an Event still waiting only raises the count that
 * entry will write. When it is full, the oldest Normal Event goes first; Warnings are dropped only
 * when nothing but Warnings waits. Drops are counted through `onDropped` and logged once per episode.
 * Failures are logged, never thrown or retried: an Event is a courtesy.
 *
 * The defaults: 4 in flight and 20 writes/s keep Events a small share of the client's connections
 * and of the API server's fairness budget (kube-controller-manager's client runs at 20 QPS), so they
 * never starve Lease renewals or Service status writes; a burst of 100 lets an ordinary change (a
 * config reload touching dozens of Services) go out at once; 1,000 queued is client-go's broadcaster
 * queue length, about 50 s of writes at the sustained rate.
 *
 * @example
 * const events = new EventRecorder(api, "metallb-controller", log, podName, { onDropped: (reason, n) => dropped.inc({ reason }, n) });
 * void events.record(serviceRef, "Normal", "IPAllocated", 'Assigned IP ["192.168.1.10"]');
 */
export class EventRecorder {
  private readonly api: KubeApi;
  private readonly component: string;
  private readonly host: string | undefined;
  private readonly log: Logger;
  private readonly opts: EventRecorderOptions;
  private readonly now: () => number;
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly correlator: EventCorrelator;
  private readonly writes: TokenBucket;
  /** Events waiting, by key, oldest first. */
  private readonly queued = new Map<string, CorrelatedEvent>();
  /** The keys of waiting Normal Events, oldest first: the first to drop when the queue is full. */
  private readonly queuedNormal = new Set<string>();
  private readonly inFlight = new Set<string>();
  private pumpScheduled = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private episode: { since: number; lastDrop: number; spam: number; queueFull: number; timer: NodeJS.Timeout } | undefined;

  constructor(api: KubeApi, component: string, log: Logger, host?: string, opts: EventRecorderOptions = {}) {
    this.api = api;
    this.component = component;
    this.log = log;
    this.host = host;
    this.opts = opts;
    this.now = opts.now ?? (() => Date.now());
    this.maxInFlight = opts.maxInFlight ?? 4;
    this.maxQueued = opts.maxQueued ?? 1000;
    this.correlator = new EventCorrelator({ maxRemembered: opts.maxRemembered });
    const writesPerSecond = opts.writesPerSecond ?? 20;
    if (!(this.maxInFlight >= 1) || !(this.maxQueued >= 1) || !(writesPerSecond > 0)) {
      throw new Error(
        `EventRecorder: maxInFlight and maxQueued must be at least 1 and writesPerSecond above 0, got ${this.maxInFlight}, ${this.maxQueued} and ${writesPerSecond}`,
      );
    }
    this.writes = new TokenBucket({ burst: opts.writeBurst ?? 100, refillEveryMs: 1000 / writesPerSecond }, this.now());
  }

  /**
   * Queues an Event on `target` and resolves at once; it never waits for the API and never throws.
   * The Event reaches the server later, or is dropped and counted (see the class comment).
   */
  record(target: EventTarget, type: EventType, reason: string, message: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    try {
      const { event, spam } = this.correlator.correlate({ target, type, reason, message }, this.now());
      if (spam) this.dropped("spam");
      else this.enqueue(event);
    } catch (err) {
      this.log.warn({ reason, object: `${target.kind}/${target.namespace || "default"}/${target.name}`, err: describeError(err) }, "event not recorded");
    }
    return Promise.resolve();
  }

  /** Resolves once nothing waits and nothing is in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops writing: waiting Events are discarded, writes in flight finish on their own. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.queued.size > 0) this.log.info({ pending: this.queued.size }, "event recorder stopped, pending events discarded");
    this.queued.clear();
    this.queuedNormal.clear();
    clearTimeout(this.wakeTimer);
    if (this.episode) this.reportDrops();
    this.notifyIfIdle();
  }

  private enqueue(event: CorrelatedEvent): void {
    if (this.queued.has(event.key)) {
      // Already waiting: it will be written with the count it has by then. (A Map keeps the position.)
      this.queued.set(event.key, event);
      return;
    }
    if (this.queued.size >= this.maxQueued) {
      let victim = this.queuedNormal.values().next().value;
      if (victim === undefined) {
        if (event.type === "Normal") return this.dropped("queue-full");
        victim = this.queued.keys().next().value as string;
      }
      this.unqueue(victim);
      this.dropped("queue-full");
    }
    this.queued.set(event.key, event);
    if (event.type === "Normal") this.queuedNormal.add(event.key);
    this.schedulePump();
  }

  private unqueue(key: string): void {
    this.queued.delete(key);
    this.queuedNormal.delete(key);
  }

  /** Pumps on a microtask, so record() never calls the API on its caller's stack. */
  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (!this.stopped && this.inFlight.size < this.maxInFlight) {
      const next = this.nextSendable();
      if (!next) break;
      const now = this.now();
      if (!this.writes.take(now)) {
        this.wakeAfter(this.writes.msUntilToken(now));
        break;
      }
      this.unqueue(next.key);
      this.inFlight.add(next.key);
      void this.write(next).finally(() => {
        this.inFlight.delete(next.key);
        this.pump();
      });
    }
    this.notifyIfIdle();
  }

  /** The oldest waiting Event without a write of its own in flight (one write per Event at a time). */
  private nextSendable(): CorrelatedEvent | undefined {
    // Skips at most inFlight.size entries.
    for (const [key, event] of this.queued) if (!this.inFlight.has(key)) return event;
    return undefined;
  }

  private wakeAfter(ms: number): void {
    if (this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.pump();
    }, Math.max(1, ms));
    this.wakeTimer.unref?.();
  }

  private async write(event: CorrelatedEvent): Promise<void> {
    const sentCount = event.count;
    const ref = { ...eventsType, namespace: event.namespace, name: event.name };
    try {
      if (event.onServer) {
        const patch = { count: event.count, lastTimestamp: iso(event.lastTimestamp), message: event.message };
        await this.api.patch(ref, patch, "merge");
        this.opts.onWritten?.("patch");
      } else {
        const name = event.name;
        await this.api.create({ ...eventsType, namespace: event.namespace }, this.body(event));
        if (event.name === name) event.onServer = true;
        this.opts.onWritten?.("create");
      }
    } catch (err) {
      const code = statusOf(err);
      if (!this.stopped && ((event.onServer && code === 404) || (!event.onServer && code === 409))) {
        // 404: the Event expired or was deleted. 409: the name is taken (a create whose answer was
        // lost, or another recorder's Event). Either way start a new Event under a new name, as if
        // this were the first occurrence. If a newer entry for the key already waits, it wins.
        this.correlator.restart(event, this.now(), event.count - sentCount);
        if (!this.queued.has(event.key)) this.enqueue(event);
        return;
      }
      const { target } = event;
      this.log.warn({ reason: event.reason, object: `${target.kind}/${event.namespace}/${target.name}`, err: describeError(err) }, "event not recorded");
    }
  }

  /** The core/v1 Event as the API server stores it and `kubectl describe` shows it. */
  private body(event: CorrelatedEvent): unknown {
    const { target } = event;
    return {
      metadata: { name: event.name, namespace: event.namespace },
      involvedObject: {
        kind: target.kind,
        apiVersion: target.apiVersion,
        name: target.name,
        namespace: target.namespace || undefined,
        uid: target.uid,
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      count: event.count,
      firstTimestamp: iso(event.firstTimestamp),
      lastTimestamp: iso(event.lastTimestamp),
      source: { component: this.component, host: this.host },
      reportingComponent: this.component,
      reportingInstance: this.host ?? "",
    };
  }

  private dropped(reason: EventDropReason): void {
    this.opts.onDropped?.(reason, 1);
    const now = this.now();
    if (!this.episode) {
      const timer = setTimeout(() => this.onEpisodeTimer(), dropQuietMs);
      timer.unref?.();
      this.episode = { since: now, lastDrop: now, spam: 0, queueFull: 0, timer };
    }
    this.episode.lastDrop = now;
    if (reason === "spam") this.episode.spam++;
    else this.episode.queueFull++;
  }

  /** Ends the episode after `dropQuietMs` without drops, or sums up a long one every `dropReportEveryMs`. */
  private onEpisodeTimer(): void {
    const episode = this.episode;
    if (!episode) return;
    const now = this.now();
    const quietFor = now - episode.lastDrop;
    if (quietFor < dropQuietMs && now - episode.since < dropReportEveryMs) {
      episode.timer = setTimeout(() => this.onEpisodeTimer(), Math.min(dropQuietMs - quietFor, dropReportEveryMs - (now - episode.since)));
      episode.timer.unref?.();
      return;
    }
    this.reportDrops();
  }

  private reportDrops(): void {
    const episode = this.episode;
    if (!episode) return;
    clearTimeout(episode.timer);
    this.episode = undefined;
    this.log.warn(
      { dropped: episode.spam + episode.queueFull, spam: episode.spam, queueFull: episode.queueFull, seconds: Math.round((episode.lastDrop - episode.since) / 1000) },
      "events dropped",
    );
  }

  private isIdle(): boolean {
    return this.queued.size === 0 && this.inFlight.size === 0;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
