/**
 * When the API client retries a request, as client-go does: a 429 or 5xx answer that carries
 * Retry-After is retried after that wait (capped) up to 10 times, whatever the verb; a GET that could
 * not connect, or whose connection was reset, is retried a few times with a growing delay. Pure.
 */

/** Retries after Retry-After answers, per request (client-go's default maxRetries). */
export const maxRetryAfterRetries = 10;
/** Longest wait honoured for one Retry-After. */
export const maxRetryAfterMs = 10_000;
/** Retries of a GET after connection errors, per request. */
export const maxConnectionRetries = 3;

/**
 * Milliseconds a Retry-After header asks for (delay-seconds or an HTTP date), or undefined when it is
 * absent or unreadable.
 *
 * @example
 * parseRetryAfter("2", Date.now()); // 2000
 * parseRetryAfter("Wed, 21 Oct 2026 07:28:00 GMT", Date.parse("Wed, 21 Oct 2026 07:27:58 GMT")); // 2000
 */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (!/[a-z]/i.test(text) || Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * How long to wait before retrying an answer with HTTP `status`, or undefined when it is final.
 * Only 429 and 5xx answers with a Retry-After are retried; the wait is capped at 10 s.
 *
 * @example
 * retryAfterWait(429, 1000, 0); // 1000
 * retryAfterWait(500, undefined, 0); // undefined: no Retry-After, the caller decides
 * retryAfterWait(503, 1000, 10); // undefined: retried 10 times already
 */
export function retryAfterWait(status: number, retryAfterMs: number | undefined, retriesSoFar: number): number | undefined {
  if (retryAfterMs === undefined || retriesSoFar >= maxRetryAfterRetries) return undefined;
  if (status !== 429 && (status < 500 || status > 599)) return undefined;
  return Math.min(retryAfterMs, maxRetryAfterMs);
}

/** Error codes of a connection that failed or broke before an answer arrived. */
const connectionErrorCodes = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ECONNABORTED", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

/**
 * True when `err` is a network error that a retry may cure (refused, reset, unreachable).
 *
 * @example
 * isConnectionError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" })); // true
 */
export function isConnectionError(err: unknown): boolean {
  const code = err && typeof err === "object" ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" && connectionErrorCodes.has(code);
}

/**
 * Delay before connection retry number `retry` (0-based) of a GET: 200 ms, 400 ms, 800 ms; undefined
 * after `maxConnectionRetries`.
 *
 * @example
 * connectionRetryDelay(0); // 200
 * connectionRetryDelay(3); // undefined
 */
export function connectionRetryDelay(retry: number): number | undefined {
  return retry < maxConnectionRetries ? 200 * 2 ** retry : undefined;
}
