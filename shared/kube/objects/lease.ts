import { asObject, asString, dropUndefined, projectMeta, type ObjectMeta } from "./object-meta.ts";

/** A coordination.k8s.io/v1 Lease: metadata and spec (times are RFC 3339 MicroTime strings). */
export interface LeaseObject {
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly holderIdentity?: string;
    readonly leaseDurationSeconds?: number;
    readonly acquireTime?: string;
    readonly renewTime?: string;
    readonly leaseTransitions?: number;
  };
}

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

/**
 * Projects a Lease's JSON to {@link LeaseObject}.
 *
 * @example
 * projectLease(raw).spec.holderIdentity; // "controller-7d9f"
 */
export function projectLease(raw: unknown): LeaseObject {
  const o = asObject(raw);
  const spec = asObject(o.spec);
  return {
    metadata: projectMeta(o.metadata),
    spec: dropUndefined({
      holderIdentity: asString(spec.holderIdentity),
      leaseDurationSeconds: num(spec.leaseDurationSeconds),
      acquireTime: asString(spec.acquireTime),
      renewTime: asString(spec.renewTime),
      leaseTransitions: num(spec.leaseTransitions),
    }),
  };
}

/**
 * `date` as a Kubernetes MicroTime (RFC 3339 with six fractional digits, UTC), the format of a Lease's
 * acquireTime and renewTime.
 *
 * @example
 * microTime(new Date("2026-11-29T21:50:00.123Z")); // "2026-11-29T21:50:00.123000Z"
 */
export function microTime(date: Date): string {
  return date.toISOString().replace(/Z$/, "000Z");
}
