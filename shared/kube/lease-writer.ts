/**
 * How baremetal-lb writes a coordination.k8s.io/v1 Lease, for the controller's leader election
 * (controller/leader-election.ts) and each speaker's own Lease (speaker/cluster/own-lease.ts): one owner of
 * the rule, as client-go's resourcelock writes it.
 *
 * - Holding: `holderIdentity` is us, `renewTime` now; `acquireTime` and `leaseTransitions` are kept
 *   while we already held it, else `acquireTime` is now and `leaseTransitions` counts one more
 *   (a Lease created by us starts at 0).
 * - Releasing: `holderIdentity` cleared, `leaseDurationSeconds` 1, `renewTime` now, so every
 *   observer counts it free at once.
 *
 * The spec builders are pure; the writes are a read that tells a missing Lease apart (404), a
 * create, and a replace (PUT) of the Lease as last read, whose `metadata.resourceVersion` makes a
 * concurrent write fail with 409. The PUT sends back every field as read, including those the
 * projection drops, so nothing another writer set is lost.
 *
 * @example
 * const read = await getLease(api, ref);
 * const spec = heldLeaseSpec(read?.lease.spec, "controller-7d9f", 15, new Date());
 * await (read ? replaceLease(api, read, spec) : createLease(api, ref, spec));
 */
import type { KubeApi } from "./client/kube-api.ts";
import { leases } from "./client/resource-types.ts";
import { statusOf } from "./api-errors.ts";
import { microTime, projectLease, type LeaseObject } from "./objects/lease.ts";
import type { OwnerReference } from "./objects/object-meta.ts";

/** A Lease's spec as written. Times are MicroTime strings. */
export interface LeaseSpec {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime?: string;
  readonly renewTime: string;
  readonly leaseTransitions: number;
}

/** Which Lease. */
export interface LeaseRef {
  readonly namespace: string;
  readonly name: string;
}

/** A Lease as read or written: its projection, and the JSON the API returned, which a replace sends back. */
export interface ReadLease {
  readonly lease: LeaseObject;
  readonly raw: Readonly<Record<string, unknown>>;
}

/**
 * Metadata written with a Lease. On a replace, labels and annotations are added to those the Lease
 * has (others kept), ownerReferences replace the list, and an undefined field leaves it as it is.
 */
export interface LeaseMetadata {
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly OwnerReference[];
}

/**
 * The spec of a Lease held by `holder` from `now`, after `previous` (undefined when the Lease is new).
 *
 * @example
 * heldLeaseSpec(undefined, "a", 15, now);                 // transitions 0, acquired now
 * heldLeaseSpec({ holderIdentity: "b", leaseTransitions: 2, … }, "a", 15, now); // transitions 3, acquired now
 * heldLeaseSpec({ holderIdentity: "a", acquireTime: t, leaseTransitions: 2, … }, "a", 15, now); // transitions 2, acquired at t
 */
export function heldLeaseSpec(previous: LeaseObject["spec"] | undefined, holder: string, leaseDurationSeconds: number, now: Date): LeaseSpec {
  const at = microTime(now);
  if (previous === undefined) return { holderIdentity: holder, leaseDurationSeconds, acquireTime: at, renewTime: at, leaseTransitions: 0 };
  const ours = previous.holderIdentity === holder;
  return {
    holderIdentity: holder,
    leaseDurationSeconds,
    acquireTime: ours ? previous.acquireTime : at,
    renewTime: at,
    leaseTransitions: (previous.leaseTransitions ?? 0) + (ours ? 0 : 1),
  };
}

/**
 * The spec of a Lease its holder gives up at `now`: no holder, a 1 s duration, the transitions kept.
 *
 * @example
 * releasedLeaseSpec(held, now); // { holderIdentity: "", leaseDurationSeconds: 1, renewTime: now, … }
 */
export function releasedLeaseSpec(previous: LeaseObject["spec"], now: Date): LeaseSpec {
  return {
    holderIdentity: "",
    leaseDurationSeconds: 1,
    acquireTime: previous.acquireTime,
    renewTime: microTime(now),
    leaseTransitions: previous.leaseTransitions ?? 0,
  };
}

/** The Lease JSON (apiVersion, kind, metadata, spec) to create. */
export function newLeaseBody(ref: LeaseRef, spec: LeaseSpec, metadata: LeaseMetadata = {}): Record<string, unknown> {
  return {
    apiVersion: leases.apiVersion,
    kind: "Lease",
    metadata: withoutUndefined({ name: ref.name, namespace: ref.namespace, ...metadata }),
    spec: withoutUndefined({ ...spec }),
  };
}

/** Reads a Lease; undefined when it does not exist (404). Other errors are thrown. */
export async function getLease(api: KubeApi, ref: LeaseRef): Promise<ReadLease | undefined> {
  try {
    return asRead(await api.get({ ...leases, namespace: ref.namespace, name: ref.name }));
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

/** Creates the Lease; a 409 (AlreadyExists: another writer was first) is thrown. */
export async function createLease(api: KubeApi, ref: LeaseRef, spec: LeaseSpec, metadata?: LeaseMetadata): Promise<ReadLease> {
  return asRead(await api.create({ ...leases, namespace: ref.namespace }, newLeaseBody(ref, spec, metadata)));
}

/**
 * Replaces `current` with `spec` (and `metadata`'s fields that are set), as of `current`'s
 * resourceVersion: 409 Conflict when the Lease changed since it was read.
 */
export async function replaceLease(api: KubeApi, current: ReadLease, spec: LeaseSpec, metadata: LeaseMetadata = {}): Promise<ReadLease> {
  const raw = current.raw;
  const was = (raw.metadata ?? {}) as Record<string, unknown>;
  const meta: Record<string, unknown> = { ...was };
  if (metadata.labels) meta.labels = { ...(was.labels as object | undefined), ...metadata.labels };
  if (metadata.annotations) meta.annotations = { ...(was.annotations as object | undefined), ...metadata.annotations };
  if (metadata.ownerReferences) meta.ownerReferences = metadata.ownerReferences;
  const body = { ...raw, metadata: meta, spec: { ...(raw.spec as Record<string, unknown> | undefined), ...withoutUndefined({ ...spec }) } };
  const { namespace, name } = current.lease.metadata;
  return asRead(await api.replace({ ...leases, namespace, name: name ?? "" }, body));
}

function asRead(raw: unknown): ReadLease {
  return { lease: projectLease(raw), raw: (raw ?? {}) as Record<string, unknown> };
}

function withoutUndefined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
