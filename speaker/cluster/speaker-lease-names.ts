/**
 * How speaker Leases are named and labelled: pure, shared by the speaker that writes its own Lease
 * (own-lease.ts) and by everything that reads the others' (the snapshot, membership, tests).
 *
 * @example
 * speakerLeaseName("node-1"); // "speaker-node-1"
 * nodeOfLease(lease); // "node-1", from its label
 */
import type { LeaseObject } from "../../shared/kube/objects/lease.ts";

/** The label that names a speaker Lease's node (a name may be shortened, a label is not). */
export const speakerLeaseNodeLabel = "baremetal-lb.io/node";

/** Labels on every speaker Lease, so speakers can watch exactly those. */
export const speakerLeaseLabels = { "app.kubernetes.io/name": "baremetal-lb", "app.kubernetes.io/component": "speaker" };
export const speakerLeaseSelector = "app.kubernetes.io/name=baremetal-lb,app.kubernetes.io/component=speaker";

/** The Lease name for a node's speaker. */
export function speakerLeaseName(node: string): string {
  return `speaker-${node}`;
}

/** The node a speaker Lease belongs to, from its label (names may be shortened). */
export function nodeOfLease(lease: LeaseObject): string | undefined {
  return lease.metadata.labels?.[speakerLeaseNodeLabel];
}
