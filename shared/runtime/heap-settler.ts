/**
 * Gives memory back after bursts: every few seconds reads the resident set, the live heap and the
 * event loop's utilization, asks heap-settle.ts, and when it says so runs one memory-reducing V8
 * collection (`gc({ type: "major", flavor: "last-resort" })`: several full collections that shrink the
 * young generation and release the pages V8 pooled). Logs each settle with its pause and what it freed,
 * and counts them in `baremetal_lb_heap_settles_total`.
 *
 * V8 only hands out `gc` to a process started with `--expose-gc` (the manifests set it in NODE_OPTIONS);
 * without it the settler logs once that it is off and does nothing.
 *
 * @example
 * const settler = startHeapSettler({ log, registry: metrics.registry, ready: () => speaker.notReadyReason() === undefined });
 * // on shutdown:
 * settler.stop();
 */
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import { decideHeapSettle, defaultHeapSettleOptions, initialHeapSettleState, settled, type HeapSettleOptions, type HeapSettleState } from "./heap-settle.ts";

/** V8's gc extension with its options object (V8 11 and later). */
export type GcFunction = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

export interface HeapSettlerOptions {
  log: Logger;
  registry: Registry;
  /** Whether the process has finished starting; no settle runs before. */
  ready: () => boolean;
  /** Default `globalThis.gc`, present with `--expose-gc`. */
  gc?: GcFunction;
  options?: Partial<HeapSettleOptions>;
  /** For tests: the memory reading, default `process.memoryUsage()`. */
  memoryUsage?: () => { rss: number; heapUsed: number };
  /** For tests: the event loop's utilization, default `performance.eventLoopUtilization()`. */
  eventLoopUtilization?: (previous?: EventLoopUtilization) => EventLoopUtilization;
  /** For tests: a monotonic clock in milliseconds, default `performance.now()`. */
  now?: () => number;
}

export interface HeapSettler {
  /** One check now, as the timer makes; returns whether it settled. */
  check(): boolean;
  stop(): void;
}

const MiB = 1024 * 1024;

export function startHeapSettler(o: HeapSettlerOptions): HeapSettler {
  const options = { ...defaultHeapSettleOptions, ...o.options };
  const gc = o.gc ?? (globalThis as { gc?: GcFunction }).gc;
  if (gc === undefined) {
    o.log.info("heap settling is off: node was started without --expose-gc (the manifests' NODE_OPTIONS set it)");
    return { check: () => false, stop: () => {} };
  }
  const memoryUsage = o.memoryUsage ?? (() => process.memoryUsage());
  const utilizationSince = o.eventLoopUtilization ?? ((previous?: EventLoopUtilization) => performance.eventLoopUtilization(previous));
  const now = o.now ?? (() => performance.now());
  const registers = [o.registry];
  const settles = new Counter({ name: "baremetal_lb_heap_settles_total", help: "Memory-reducing collections run after a burst of allocation", registers });
  const pause = new Gauge({ name: "baremetal_lb_heap_settle_pause_seconds", help: "How long the last memory-reducing collection paused the event loop", registers });
  const freed = new Gauge({ name: "baremetal_lb_heap_settle_freed_bytes", help: "Resident memory the last memory-reducing collection gave back", registers });

  let state: HeapSettleState = initialHeapSettleState;
  let lastUtilization = utilizationSince();
  let reportedTooLarge = false;

  const check = (): boolean => {
    const total = utilizationSince();
    const window = utilizationSince(lastUtilization);
    lastUtilization = total;
    const before = memoryUsage();
    const verdict = decideHeapSettle(state, { now: now(), rss: before.rss, heapUsed: before.heapUsed, utilization: window.utilization, ready: o.ready() }, options);
    if (verdict.kind === "too-large") {
      if (!reportedTooLarge) {
        o.log.info(
          { heapUsedMb: Math.round(verdict.heapUsed / MiB), maxLiveMb: Math.round(options.maxLiveBytes / MiB) },
          "heap settling waits: more heap in use than a short pause can collect",
        );
      }
      reportedTooLarge = true;
      return false;
    }
    if (verdict.kind !== "settle") return false;
    reportedTooLarge = false;
    const started = now();
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
    const ended = now();
    const after = memoryUsage();
    state = settled({ now: ended, rss: after.rss });
    settles.inc();
    pause.set((ended - started) / 1000);
    freed.set(Math.max(0, before.rss - after.rss));
    o.log.info(
      {
        pauseMs: Math.round(ended - started),
        rssBeforeMb: Math.round(before.rss / MiB),
        rssAfterMb: Math.round(after.rss / MiB),
        heapUsedMb: Math.round(after.heapUsed / MiB),
      },
      "heap settled",
    );
    return true;
  };

  const timer = setInterval(check, options.checkEveryMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
