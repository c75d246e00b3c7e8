const timeUp = Symbol("time up");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` every `everyMs` (default 20 ms) until it returns a value that is neither `undefined` nor `false`, and
 * resolves with that value; `check` may be async. After `ms` it throws `timed out after ${ms} ms waiting for ${what}`
 * (plus `: ${detail()}` when `detail` is given; `what` may be a function, called only when the wait fails). A check that throws makes
 * eventually throw at once. Every wait is bounded in time.
 *
 * @example
 * const vip = await eventually(() => svc.status?.loadBalancer?.ingress?.[0]?.ip, { ms: 10_000, what: "the Service's IP" });
 */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { ms: number; what: string | (() => string); everyMs?: number; detail?: () => unknown },
): Promise<Exclude<T, false | undefined>> {
  const { ms, what, everyMs = 20, detail } = opts;
  const deadline = performance.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  // A check still pending when time is up is abandoned (its late result or error ignored).
  const expired = new Promise<typeof timeUp>((resolve) => (timer = setTimeout(resolve, ms, timeUp)));
  try {
    for (;;) {
      const value = await Promise.race([check(), expired]);
      if (value === timeUp) break;
      if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>;
      const left = deadline - performance.now();
      if (left <= 0) break;
      await sleep(Math.min(everyMs, left));
    }
  } finally {
    clearTimeout(timer);
  }
  const name = typeof what === "function" ? what() : what;
  throw new Error(`timed out after ${ms} ms waiting for ${name}${detail ? `: ${detail()}` : ""}`);
}
