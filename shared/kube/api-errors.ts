/** The HTTP status of a client-node ApiException (or a watch error), or undefined. */
export function statusOf(err: unknown): number | undefined {
  if (err && typeof err === "object") {
    const e = err as { code?: unknown; statusCode?: unknown };
    if (typeof e.code === "number") return e.code;
    if (typeof e.statusCode === "number") return e.statusCode;
  }
  return undefined;
}

/**
 * A short, log-friendly description of a client-node error: status code, message and the
 * server's Status message when there is one.
 *
 * @example
 * log.warn({ err: describeError(err) }, "status update failed");
 */
export function describeError(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as { message?: unknown; body?: unknown };
    const code = statusOf(err);
    let detail = "";
    if (typeof e.body === "string") {
      try {
        detail = String((JSON.parse(e.body) as { message?: unknown }).message ?? e.body);
      } catch {
        detail = e.body;
      }
    }
    const message = typeof e.message === "string" ? e.message.split("\n")[0] : String(err);
    return [code !== undefined ? `HTTP ${code}` : "", detail ? detail.slice(0, 300) : message.slice(0, 300)].filter(Boolean).join(": ");
  }
  return String(err);
}
