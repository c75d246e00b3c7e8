/**
 * What the heartbeats cost a node, and when to say so. Every speaker sends one heartbeat to every other member
 * per interval and receives one from each: (members − 1) / interval datagrams per second each way, each carrying
 * a relay entry per peer, so the bytes grow with the square of the cluster. The defaults (25 ms) suit clusters
 * up to about 50 nodes (2,000 datagrams/s); larger ones should lengthen the interval, and the speaker says so.
 *
 * @example
 * heartbeatDatagramsPerSecond(3, 25); // 80
 * heartbeatLoadAdvice(100, 25, 150); // "100 speakers at --heartbeat-interval=25ms: 3960 heartbeats/s …"
 */

/** Above this many datagrams per second each way, the speaker advises a longer interval. */
export const heartbeatDatagramsBudget = 2_000;

/** Datagrams per second a node sends, and receives, with `members` speakers (itself included). */
export function heartbeatDatagramsPerSecond(members: number, intervalMs: number): number {
  return (Math.max(0, members - 1) * 1000) / intervalMs;
}

/**
 * An operator-facing warning when the heartbeat rate is over {@link heartbeatDatagramsBudget}, naming the smallest
 * interval that fits (a whole number of ms, the timeout kept at the same multiple of it); undefined otherwise.
 */
export function heartbeatLoadAdvice(members: number, intervalMs: number, timeoutMs: number): string | undefined {
  const rate = heartbeatDatagramsPerSecond(members, intervalMs);
  if (rate <= heartbeatDatagramsBudget) return undefined;
  const interval = Math.ceil(((members - 1) * 1000) / heartbeatDatagramsBudget);
  const timeout = Math.ceil((interval * timeoutMs) / intervalMs);
  return (
    `${members} speakers at --heartbeat-interval=${intervalMs}ms: ${Math.round(rate)} heartbeats/s sent and as many received by every node ` +
    `(over ${heartbeatDatagramsBudget}); use --heartbeat-interval=${interval}ms --heartbeat-timeout=${timeout}ms on every speaker ` +
    "(failover then takes about the timeout plus an interval; see README, How failover works)"
  );
}
