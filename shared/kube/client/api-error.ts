/**
 * A failed API request: the HTTP status, the response body as text and, when the server sent
 * one, its Status reason and message. `code` and `body` are what ../api-errors.ts reads.
 */
export class ApiError extends Error {
  /** HTTP status code. */
  readonly code: number;
  /** Response body as text (a Status object in JSON, usually). */
  readonly body: string;
  /** Status.reason, e.g. "NotFound", "Conflict", "Expired". */
  readonly reason: string | undefined;
  /** Retry-After of the response, in milliseconds, when it had one. */
  readonly retryAfterMs: number | undefined;

  constructor(method: string, path: string, code: number, body: string, retryAfterMs?: number) {
    let reason: string | undefined;
    let detail = body.slice(0, 300);
    try {
      const status = JSON.parse(body) as { reason?: unknown; message?: unknown };
      if (typeof status.reason === "string") reason = status.reason;
      if (typeof status.message === "string") detail = status.message;
    } catch {
      // not JSON: keep the text
    }
    super(`${method} ${path}: HTTP ${code}${detail ? `: ${detail}` : ""}`);
    this.name = "ApiError";
    this.code = code;
    this.body = body;
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}
