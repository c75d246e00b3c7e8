/**
 * "Oldest Service first": the order in which the controller learns the IPs Services show (the
 * oldest keeps an IP two Services show) and retries the Services waiting for an IP. One
 * representation, a number of milliseconds, compared as a number. Pure.
 */

/** A Service's key and creation time, as {@link creationTime} reads it. */
export interface Aged {
  readonly service: string;
  readonly createdAt: number;
}

/**
 * A `metadata.creationTimestamp` in milliseconds since the epoch; 0 when it is absent or does not
 * parse, so such a Service comes first (as one without a timestamp always has).
 *
 * @example
 * creationTime("2024-05-01T11:56:58Z"); // 1714564618000
 * creationTime(undefined); // 0
 */
export function creationTime(timestamp: string | undefined): number {
  const ms = timestamp ? Date.parse(timestamp) : NaN;
  return Number.isFinite(ms) ? ms : 0;
}

/**
 * Compares by creation time, then by key in code-unit order (the same on every host, unlike
 * `localeCompare`): Kubernetes stamps whole seconds, so Services created together tie often.
 *
 * @example
 * [{ service: "b/web", createdAt: 2 }, { service: "a/web", createdAt: 2 }, { service: "z/db", createdAt: 1 }].sort(oldestFirst);
 * // z/db, a/web, b/web
 */
export function oldestFirst(a: Aged, b: Aged): number {
  return a.createdAt - b.createdAt || (a.service < b.service ? -1 : a.service > b.service ? 1 : 0);
}
