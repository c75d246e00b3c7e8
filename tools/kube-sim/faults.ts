/**
 * Fault injection for tests of clients: drop watches, fail the next requests with 500/503/429, add latency,
 * compact history (410 Gone for older resourceVersions) and restart the listener with state kept.
 *
 * @example
 * sim.faults.failNext(2, 429, 1); // the next two requests get 429 TooManyRequests with Retry-After: 1
 */
import { ApiError, failureStatus } from "./api-error.ts";

/** What the server lets the fault injector do. */
export interface FaultTargets {
  endWatches(): void;
  compact(): void;
  restart(downtimeMs: number): Promise<void>;
}

/** The codes `failNext` can inject. */
export type InjectedCode = 500 | 503 | 429;

/** Fault injection handle of a running simulator. */
export class Faults {
  readonly #targets: FaultTargets;
  #failures: { code: InjectedCode; retryAfterSeconds: number | undefined }[] = [];
  #latencyMs = 0;

  constructor(targets: FaultTargets) {
    this.#targets = targets;
  }

  /** Ends every open watch response cleanly (clients see the stream end and re-watch). */
  dropWatches(): void {
    this.#targets.endWatches();
  }

  /** The next `n` requests (of any kind) are answered with `code`; 429 and 503 carry Retry-After. */
  failNext(n: number, code: InjectedCode, retryAfterSeconds?: number): void {
    if (!Number.isInteger(n) || n < 0) throw new Error(`failNext: n must be a non-negative integer, got ${n}`);
    if (code !== 500 && code !== 503 && code !== 429) throw new Error(`failNext: code must be 500, 503 or 429, got ${String(code)}`);
    for (let i = 0; i < n; i++) this.#failures.push({ code, retryAfterSeconds });
  }

  /** Delays every request (before it is handled) by `ms` milliseconds; 0 turns it off. */
  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`setLatency: ms must be a non-negative number, got ${ms}`);
    this.#latencyMs = ms;
  }

  /** Forgets history: lists with continue tokens and watches from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.#targets.compact();
  }

  /**
   * Destroys every connection and the listener, stays down `downtimeMs` (default 0; requests meanwhile are
   * refused), then listens again on the same address and port. State is kept.
   */
  restart(downtimeMs = 0): Promise<void> {
    if (!Number.isFinite(downtimeMs) || downtimeMs < 0) throw new Error(`restart: downtimeMs must be a non-negative number, got ${downtimeMs}`);
    return this.#targets.restart(downtimeMs);
  }

  /** Current per-request latency in milliseconds. */
  get latencyMs(): number {
    return this.#latencyMs;
  }

  /** Takes the next injected failure, if any, as the error to answer with. */
  takeFailure(): ApiError | undefined {
    const f = this.#failures.shift();
    if (!f) return undefined;
    const retry = f.code === 500 ? undefined : (f.retryAfterSeconds ?? 1);
    const headers: Record<string, string> = retry === undefined ? {} : { "Retry-After": String(retry) };
    const details = retry === undefined ? undefined : { retryAfterSeconds: retry };
    if (f.code === 500) {
      return new ApiError(failureStatus(500, "InternalError", "Internal error occurred: injected fault (kube-sim failNext)"), headers);
    }
    if (f.code === 503) {
      return new ApiError(failureStatus(503, "ServiceUnavailable", "the server is currently unable to handle the request (injected by kube-sim failNext)", details), headers);
    }
    return new ApiError(
      failureStatus(429, "TooManyRequests", "the server has received too many requests and has asked us to try again later (injected by kube-sim failNext)", details),
      headers,
    );
  }
}
