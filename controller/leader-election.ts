import { V1MicroTime, type CoordinationV1Api, type V1Lease } from "@kubernetes/client-node";
import { performance } from "node:perf_hooks";
import type { Logger } from "../shared/log.ts";
import { describeError, statusOf } from "../shared/kube/api-errors.ts";
import { LeaseObserver } from "../shared/kube/lease-observer.ts";

export interface LeaderElectionOptions {
  coordination: CoordinationV1Api;
  namespace: string;
  leaseName: string;
  /**
   * Who we are in the Lease's holderIdentity. Unique per live process and stable across a restart
   * (the Pod name): a Lease that already names it is renewed at once, without waiting for expiry.
   */
  identity: string;
  /** client-go's defaults: 15 s lease, renew within 10 s, retry every 2 s. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
  onStartedLeading: () => void;
  /** Called once when leadership is lost; the caller should stop writing at once. */
  onStoppedLeading: () => void;
}

/** Handle to a running election. */
export interface LeaderElection {
  isLeader(): boolean;
  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  stop(): Promise<void>;
}

/**
 * Lease-based leader election for the controller, following client-go's algorithm: acquire
 * the Lease when it is free or has not changed for its duration (by our monotonic clock),
 * renew it every retry period, and give up leadership when renewals fail for the renew deadline.
 * A Lease whose holder is our identity is ours to renew at once, as in client-go: a process that
 * restarts with the same identity (a container restart keeps the Pod name) leads again without
 * waiting out its predecessor's Lease, while a different identity still waits for it to expire.
 *
 * @example
 * const election = startLeaderElection({ coordination, namespace: "metallb-system", leaseName: "baremetal-lb-controller",
 *   identity: hostname(), log, onStartedLeading: run, onStoppedLeading: () => process.exit(1) });
 */
export function startLeaderElection(opts: LeaderElectionOptions): LeaderElection {
  const leaseDurationMs = opts.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = opts.retryPeriodMs ?? 2_000;
  const observer = new LeaseObserver();
  let leader = false;
  let lastRenewAt = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const leaseSeconds = Math.max(1, Math.ceil(leaseDurationMs / 1000));

  async function tryAcquireOrRenew(): Promise<boolean> {
    const now = new V1MicroTime();
    let current: V1Lease;
    try {
      current = await opts.coordination.readNamespacedLease({ name: opts.leaseName, namespace: opts.namespace });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      await opts.coordination.createNamespacedLease({
        namespace: opts.namespace,
        body: {
          metadata: { name: opts.leaseName, namespace: opts.namespace },
          spec: {
            holderIdentity: opts.identity,
            leaseDurationSeconds: leaseSeconds,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          },
        },
      });
      return true;
    }
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    observer.observe(
      opts.leaseName,
      {
        holderIdentity: holder,
        renewTime: spec.renewTime ? new Date(spec.renewTime).toISOString() : "",
        resourceVersion: current.metadata?.resourceVersion ?? "",
        leaseDurationSeconds: spec.leaseDurationSeconds ?? leaseSeconds,
      },
      performance.now(),
    );
    const mine = holder === opts.identity;
    if (!mine && !observer.isExpired(opts.leaseName, performance.now())) return false;
    const updated: V1Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: opts.identity,
        leaseDurationSeconds: leaseSeconds,
        renewTime: now,
        acquireTime: mine ? spec.acquireTime : now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    await opts.coordination.replaceNamespacedLease({ name: opts.leaseName, namespace: opts.namespace, body: updated });
    return true;
  }

  async function tick(): Promise<void> {
    if (stopped) return;
    let acquired = false;
    try {
      acquired = await tryAcquireOrRenew();
    } catch (err) {
      if (statusOf(err) !== 409) opts.log.warn({ lease: opts.leaseName, err: describeError(err) }, "leader lease update failed");
    }
    if (stopped) return;
    const now = performance.now();
    if (acquired) {
      lastRenewAt = now;
      if (!leader) {
        leader = true;
        opts.log.info({ lease: opts.leaseName, identity: opts.identity }, "became leader");
        opts.onStartedLeading();
      }
    } else if (leader && now - lastRenewAt > renewDeadlineMs) {
      leader = false;
      opts.log.error({ lease: opts.leaseName, identity: opts.identity }, "lost leadership: lease not renewed within the renew deadline");
      opts.onStoppedLeading();
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = tick().finally(schedule);
    }, retryPeriodMs);
  }
  inFlight = tick().finally(schedule);

  return {
    isLeader: () => leader,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await inFlight.catch(() => {});
      if (!leader) return;
      leader = false;
      try {
        const current = await opts.coordination.readNamespacedLease({ name: opts.leaseName, namespace: opts.namespace });
        if (current.spec?.holderIdentity !== opts.identity) return;
        await opts.coordination.replaceNamespacedLease({
          name: opts.leaseName,
          namespace: opts.namespace,
          body: { ...current, spec: { ...current.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: new V1MicroTime() } },
        });
        opts.log.info({ lease: opts.leaseName }, "released leadership");
      } catch (err) {
        opts.log.warn({ lease: opts.leaseName, err: describeError(err) }, "could not release the leader lease");
      }
    },
  };
}
