import type { Logger } from "../../shared/log.ts";
import { describeError, statusOf } from "../../shared/kube/api-errors.ts";
import type { KubeApi } from "../../shared/kube/client/kube-api.ts";
import { createLease, getLease, heldLeaseSpec, releasedLeaseSpec, replaceLease, type ReadLease } from "../../shared/kube/lease-writer.ts";
import type { LeaseObject } from "../../shared/kube/objects/lease.ts";
import type { OwnerReference } from "../../shared/kube/objects/object-meta.ts";
import { speakerLeaseLabels, speakerLeaseName, speakerLeaseNodeLabel } from "./speaker-lease-names.ts";

export interface OwnLeaseOptions {
  api: KubeApi;
  namespace: string;
  node: string;
  identity: string;
  leaseDurationMs: number;
  renewIntervalMs: number;
  log: Logger;
  /** Called after every successful write of our Lease (proof that we reach the API server). */
  onRenewed: () => void;
  /** Called once if another process took this node's Lease: this speaker must not announce. */
  onSupplanted: (holder: string) => void;
  onRenewFailure: () => void;
  /** Annotations written with every renewal, e.g. this node's strictARP refusal for the others' elections. */
  annotations?: () => Record<string, string>;
  /**
   * This node's Node object, once known: the Lease names it as its owner, so deleting the Node
   * (`kubectl delete node`) makes the garbage collector delete the Lease, and the node leaves every
   * speaker's membership. A node that is down but not deleted stays a member.
   */
  ownerNode?: () => { name: string; uid: string } | undefined;
}

/** Our own speaker Lease, renewed in the background. */
export interface OwnLease {
  /** True once another speaker process took this node's Lease. */
  supplanted(): boolean;
  /** Stops renewing and releases the Lease (holder cleared) so peers see us gone at once. */
  release(): Promise<void>;
}

/**
 * Creates and renews this node's speaker Lease: one write per renew interval, however many
 * Services there are. The Lease makes the node a member for the others' quorum, and each successful
 * renewal is our proof of reaching the API server. Failing renewals do not silence the speaker:
 * while the API is unreachable, membership is frozen and heartbeat quorum decides (membership-view.ts).
 * How the Lease is written (created when missing, its spec, its release) is shared/kube/lease-writer.ts.
 *
 * @example
 * const lease = await startOwnLease({ api, namespace, node, identity, leaseDurationMs: 4000, renewIntervalMs: 1000, log, onRenewed, onSupplanted, onRenewFailure });
 */
export async function startOwnLease(opts: OwnLeaseOptions): Promise<OwnLease> {
  const name = speakerLeaseName(opts.node);
  const ref = { namespace: opts.namespace, name };
  const leaseSeconds = Math.max(1, Math.ceil(opts.leaseDurationMs / 1000));
  let current: ReadLease | undefined;
  let supplanted = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  /** The owner references to write, or undefined to leave them as they are. */
  const ownerReferences = (previous: LeaseObject | undefined): OwnerReference[] | undefined => {
    const node = opts.ownerNode?.();
    const kept = previous?.metadata.ownerReferences;
    if (!node || kept?.some((r) => r.uid === node.uid)) return undefined;
    return [...(kept ?? []).filter((r) => r.kind !== "Node"), { apiVersion: "v1", kind: "Node", name: node.name, uid: node.uid }];
  };

  async function renew(): Promise<void> {
    if (supplanted) return;
    try {
      if (!current) {
        current = await getLease(opts.api, ref);
        if (!current) {
          current = await createLease(opts.api, ref, heldLeaseSpec(undefined, opts.identity, leaseSeconds, new Date()), {
            ownerReferences: ownerReferences(undefined),
            labels: { ...speakerLeaseLabels, [speakerLeaseNodeLabel]: opts.node },
            annotations: opts.annotations?.(),
          });
          opts.onRenewed();
          return;
        }
      }
      current = await replaceLease(opts.api, current, heldLeaseSpec(current.lease.spec, opts.identity, leaseSeconds, new Date()), {
        ownerReferences: ownerReferences(current.lease),
        annotations: opts.annotations?.(),
      });
      opts.onRenewed();
    } catch (err) {
      if (statusOf(err) === 409) {
        // Stale copy: re-read and check who holds it before writing again.
        current = undefined;
        try {
          const fresh = await getLease(opts.api, ref);
          const holder = fresh?.lease.spec.holderIdentity ?? "";
          if (holder !== "" && holder !== opts.identity) {
            supplanted = true;
            opts.log.error({ lease: name, holder }, "another speaker holds this node's lease; stopping announcements");
            opts.onSupplanted(holder);
          }
          current = fresh;
        } catch (readErr) {
          opts.log.warn({ lease: name, err: describeError(readErr) }, "speaker lease read failed");
        }
      } else {
        opts.log.warn({ lease: name, err: describeError(err) }, "speaker lease renewal failed");
      }
      opts.onRenewFailure();
    }
  }

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = renew().finally(schedule);
    }, opts.renewIntervalMs);
  };
  inFlight = renew();
  await inFlight;
  schedule();

  return {
    supplanted: () => supplanted,
    release: async () => {
      stopped = true;
      clearTimeout(timer);
      await inFlight.catch(() => {});
      if (!current || supplanted) return;
      try {
        await replaceLease(opts.api, current, releasedLeaseSpec(current.lease.spec, new Date()));
      } catch (err) {
        opts.log.warn({ lease: name, err: describeError(err) }, "speaker lease release failed");
      }
    },
  };
}
