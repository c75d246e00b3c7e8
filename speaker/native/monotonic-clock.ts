/**
 * The native threads and the packet-socket addon read libuv's monotonic clock (uv_hrtime, CLOCK_MONOTONIC);
 * JavaScript reads performance.now(), the same clock less the process's time origin. This is the one place
 * that converts between them.
 *
 * @example
 * const atMs = nativeAtMs - monotonicOffsetMs(); // a native timestamp on performance.now()'s clock
 */
import { performance } from "node:perf_hooks";

let offset: number | undefined;

/** uv_hrtime() in ms minus performance.now(): constant for the life of the process. */
export function monotonicOffsetMs(): number {
  offset ??= Number(process.hrtime.bigint()) / 1e6 - performance.now();
  return offset;
}
