/**
 * The `Ready` condition the controller writes on IPAddressPool and L2Advertisement status, in
 * `metav1.Condition`'s shape: what stands in for MetalLB's validating webhook. Pure.
 *
 * `lastTransitionTime` moves only when `status` flips; a new reason, message or generation with the
 * same status keeps it, as apimachinery's `meta.SetStatusCondition` does. Other condition types are
 * kept untouched.
 */

/** A `metav1.Condition`. */
export interface Condition {
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

/** What the config source decided about one object. */
export interface Readiness {
  readonly ready: boolean;
  /** CamelCase, e.g. `Accepted`, `OverlappingPools`. */
  readonly reason: string;
  readonly message: string;
  readonly generation?: number;
}

/** The API server's limit on `metav1.Condition.message`. */
const MAX_MESSAGE = 32_768;

/**
 * The conditions to write, or undefined when `existing` already says the same.
 *
 * @example
 * nextConditions(undefined, { ready: false, reason: "OverlappingPools", message: "...", generation: 2 }, new Date());
 * // [{ type: "Ready", status: "False", reason: "OverlappingPools", message: "...", lastTransitionTime: "2026-...Z", observedGeneration: 2 }]
 */
export function nextConditions(existing: readonly Condition[] | undefined, want: Readiness, now: Date): Condition[] | undefined {
  const status = want.ready ? "True" : "False";
  const message = want.message.length > MAX_MESSAGE ? `${want.message.slice(0, MAX_MESSAGE - 1)}…` : want.message;
  const others = (existing ?? []).filter((c) => c.type !== "Ready");
  const current = (existing ?? []).find((c) => c.type === "Ready");
  if (current && current.status === status && current.reason === want.reason && current.message === message && current.observedGeneration === want.generation) {
    return undefined;
  }
  const lastTransitionTime = current && current.status === status ? current.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const ready: Condition = {
    type: "Ready",
    status,
    reason: want.reason,
    message,
    lastTransitionTime,
    ...(want.generation !== undefined ? { observedGeneration: want.generation } : {}),
  };
  return [...others, ready];
}
