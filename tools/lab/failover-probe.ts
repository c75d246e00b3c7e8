/**
 * Measures a failover the way a client sees it: a request every `intervalMs` (each one independent, so a hung
 * request never delays the next), the failure injected once the old node answered, and the gap taken from the
 * start of the injection to the end of the first request answered by another node. Bounded in time and in requests in flight.
 *
 * @example
 * const r = await measureFailover({
 *   request: () => curlNodeName(vip), // resolves "node-2" (the answering node) or undefined (failed)
 *   oldNode: "node-2",
 *   fail: () => killNode("node-2"),
 * });
 * r.failoverMs; // e.g. 742
 */

export interface FailoverProbeOptions {
  /** One request through the VIP: the name of the node that answered, or undefined when it failed. */
  request: () => Promise<string | undefined>;
  /** The node answering before the failure. */
  oldNode: string;
  /** Injects the failure (kill the node); the gap is measured from the moment it is called. */
  fail: () => Promise<void>;
  /** Time between request starts; default 50 ms. */
  intervalMs?: number;
  /** How long to wait for the old node to answer before the failure; default 5 s. */
  baselineMs?: number;
  /** How long after the failure to wait for another node; default 15 s. */
  maxMs?: number;
  /** Requests in flight at most; a tick is skipped while this many are open. Default 16. */
  maxInFlight?: number;
}

/** What the client saw. */
export interface FailoverMeasurement {
  /** From the failure to the end of the first request answered by `newNode`. */
  failoverMs: number;
  newNode: string;
  /** Requests started after the failure, and how many of them failed. */
  attempts: number;
  failures: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the probe; throws when the old node never answered or no other node answered within `maxMs`. */
export async function measureFailover(opts: FailoverProbeOptions): Promise<FailoverMeasurement> {
  const intervalMs = opts.intervalMs ?? 50;
  const baselineMs = opts.baselineMs ?? 5_000;
  const maxMs = opts.maxMs ?? 15_000;
  const maxInFlight = opts.maxInFlight ?? 16;
  const inFlight = new Set<Promise<void>>();
  let failedAt: number | undefined;
  let baselineSeen = false;
  let found: { at: number; node: string } | undefined;
  let attempts = 0;
  let failures = 0;

  const fire = () => {
    const afterFailure = failedAt !== undefined;
    if (afterFailure) attempts++;
    const p = opts.request().then(
      (node) => {
        const end = performance.now();
        if (node === undefined) {
          if (afterFailure) failures++;
          return;
        }
        if (node === opts.oldNode && failedAt === undefined) baselineSeen = true;
        if (node !== opts.oldNode && failedAt !== undefined && end >= failedAt && (found === undefined || end < found.at)) found = { at: end, node };
      },
      () => {
        if (afterFailure) failures++;
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  try {
    const baselineDeadline = performance.now() + baselineMs;
    while (!baselineSeen) {
      if (performance.now() > baselineDeadline) {
        throw new Error(`the VIP was not answered by ${opts.oldNode} within ${baselineMs} ms before the failure; nothing to fail over from`);
      }
      if (inFlight.size < maxInFlight) fire();
      await sleep(intervalMs);
    }
    failedAt = performance.now();
    await opts.fail();
    const deadline = failedAt + maxMs;
    while (found === undefined && performance.now() < deadline) {
      if (inFlight.size < maxInFlight) fire();
      await sleep(intervalMs);
    }
  } finally {
    await Promise.all(inFlight);
  }
  if (found === undefined || failedAt === undefined) {
    throw new Error(`no node other than ${opts.oldNode} answered within ${maxMs} ms of the failure (${attempts} requests, ${failures} failed)`);
  }
  return { failoverMs: Math.round(found.at - failedAt), newNode: found.node, attempts, failures };
}
