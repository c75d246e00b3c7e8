import { V1MicroTime, type CoordinationV1Api, type V1Lease } from "@kubernetes/client-node";
import { performance } from "node:perf_hooks";
import type { Logger } from "../shared/log.ts";
import { describeError, statusOf } from "../shared/kube/api-errors.ts";

/** Labels on every speaker Lease, so speakers can watch exactly those. */
export const speakerLeaseLabels = { "app.kubernetes.io/name": "baremetal-lb", "app.kubernetes.io/component": "speaker" };
export const speakerLeaseSelector = "app.kubernetes.io/name=baremetal-lb,app.kubernetes.io/component=speaker";
const nodeLabel = "baremetal-lb.io/node";

/** The Lease name for a node's speaker. */
export function speakerLeaseName(node: string): string {
  return `speaker-${node}`;
}

/** The node a speaker Lease belongs to, from its label (names may be shortened). */
export function nodeOfLease(lease: V1Lease): string | undefined {
  return lease.metadata?.labels?.[nodeLabel];
}

export interface OwnLeaseOptions {
  coordination: CoordinationV1Api;
  namespace: string;
  node: string;
  identity: string;
  leaseDurationMs: number;
  renewIntervalMs: number;
  log: Logger;
  /** Called after every renewal attempt, with whether we may announce. */
  onStateChange: (mayAnnounce: boolean, reason: string) => void;
  onRenewFailure: () => void;
  /** Annotations written with every renewal, e.g. this node's strictARP refusal for the others' elections. */
  annotations?: () => Record<string, string>;
}

/** Our own speaker Lease, renewed in the background. */
export interface OwnLease {
  /** False when we could not renew in time (fenced) or another speaker took our node's Lease. */
  mayAnnounce(): boolean;
  /** Stops renewing and releases the Lease (holder cleared) so peers see us gone at once. */
  release(): Promise<void>;
}

/**
 * Creates and renews this node's speaker Lease: one write per renew interval, however many
 * Services there are. If renewals keep failing until less than one renew interval is left before
 * peers could judge the Lease expired, the speaker fences itself: it must stop announcing.
 *
 * @example
 * const lease = await startOwnLease({ coordination, namespace, node, identity, leaseDurationMs: 4000, renewIntervalMs: 1000, log, onStateChange, onRenewFailure });
 */
export async function startOwnLease(opts: OwnLeaseOptions): Promise<OwnLease> {
  const name = speakerLeaseName(opts.node);
  const fenceAfterMs = Math.max(opts.leaseDurationMs - opts.renewIntervalMs, opts.renewIntervalMs);
  let current: V1Lease | undefined;
  let lastRenewAt = -Infinity;
  let supplanted = false;
  let announcing = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const desiredSpec = (previous: V1Lease | undefined) => {
    const now = new V1MicroTime();
    const ours = previous?.spec?.holderIdentity === opts.identity;
    return {
      holderIdentity: opts.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(opts.leaseDurationMs / 1000)),
      renewTime: now,
      acquireTime: ours ? previous?.spec?.acquireTime : now,
      leaseTransitions: (previous?.spec?.leaseTransitions ?? 0) + (ours ? 0 : 1),
    };
  };

  async function renew(): Promise<void> {
    if (supplanted) return;
    try {
      if (!current) {
        try {
          current = await opts.coordination.readNamespacedLease({ name, namespace: opts.namespace });
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
          current = await opts.coordination.createNamespacedLease({
            namespace: opts.namespace,
            body: {
              metadata: {
                name,
                namespace: opts.namespace,
                labels: { ...speakerLeaseLabels, [nodeLabel]: opts.node },
                annotations: opts.annotations?.(),
              },
              spec: desiredSpec(undefined),
            },
          });
          lastRenewAt = performance.now();
          return;
        }
      }
      current = await opts.coordination.replaceNamespacedLease({
        name,
        namespace: opts.namespace,
        body: {
          ...current,
          metadata: { ...current.metadata, annotations: { ...current.metadata?.annotations, ...opts.annotations?.() } },
          spec: desiredSpec(current),
        },
      });
      lastRenewAt = performance.now();
    } catch (err) {
      if (statusOf(err) === 409) {
        // Stale copy: re-read and check who holds it before writing again.
        current = undefined;
        try {
          const fresh = await opts.coordination.readNamespacedLease({ name, namespace: opts.namespace });
          const holder = fresh.spec?.holderIdentity ?? "";
          if (holder !== "" && holder !== opts.identity) {
            supplanted = true;
            opts.log.error({ lease: name, holder }, "another speaker holds this node's lease; stopping announcements");
          }
          current = fresh;
        } catch (readErr) {
          opts.log.warn({ lease: name, err: describeError(readErr) }, "speaker lease read failed");
        }
      } else {
        opts.log.warn({ lease: name, err: describeError(err) }, "speaker lease renewal failed");
      }
      opts.onRenewFailure();
    } finally {
      const may = !supplanted && performance.now() - lastRenewAt < fenceAfterMs;
      if (may !== announcing) {
        announcing = may;
        const reason = may ? "lease renewed" : supplanted ? "another speaker took this node's lease" : "lease not renewed in time (fenced)";
        opts.onStateChange(may, reason);
      }
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
  // Fencing must not wait for a slow API call: check the deadline on its own clock too.
  const fenceTimer = setInterval(() => {
    if (announcing && performance.now() - lastRenewAt >= fenceAfterMs) {
      announcing = false;
      opts.onStateChange(false, "lease not renewed in time (fenced)");
    }
  }, Math.max(50, Math.floor(opts.renewIntervalMs / 4)));

  return {
    mayAnnounce: () => announcing,
    release: async () => {
      stopped = true;
      clearTimeout(timer);
      clearInterval(fenceTimer);
      announcing = false;
      await inFlight.catch(() => {});
      if (!current || supplanted) return;
      try {
        await opts.coordination.replaceNamespacedLease({
          name,
          namespace: opts.namespace,
          body: { ...current, spec: { ...current.spec, holderIdentity: "", renewTime: new V1MicroTime() } },
        });
      } catch (err) {
        opts.log.warn({ lease: name, err: describeError(err) }, "speaker lease release failed");
      }
    },
  };
}
