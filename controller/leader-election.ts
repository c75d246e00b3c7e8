import { performance } from "node:perf_hooks";
import type { Logger } from "../shared/log.ts";
import { describeError, statusOf } from "../shared/kube/api-errors.ts";
import type { KubeApi } from "../shared/kube/client/kube-api.ts";
import { LeaseObserver } from "../shared/kube/lease-observer.ts";
import { createLease, getLease, heldLeaseSpec, releasedLeaseSpec, replaceLease } from "../shared/kube/lease-writer.ts";

export interface LeaderElectionOptions {
  api: KubeApi;
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
 * How the Lease is written (created when missing, its spec, its release) is shared/kube/lease-writer.ts.
 *
 * @example
 * const election = startLeaderElection({ api, namespace: "metallb-system", leaseName: "baremetal-lb-controller",
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
    const ref = { namespace: opts.namespace, name: opts.leaseName };
    const current = await getLease(opts.api, ref);
    if (current === undefined) {
      await createLease(opts.api, ref, heldLeaseSpec(undefined, opts.identity, leaseSeconds, new Date()));
      return true;
    }
    const spec = current.lease.spec;
    const holder = spec.holderIdentity ?? "";
    observer.observe(
      opts.leaseName,
      {
        holderIdentity: holder,
        renewTime: spec.renewTime ?? "",
        resourceVersion: current.lease.metadata.resourceVersion ?? "",
        leaseDurationSeconds: spec.leaseDurationSeconds ?? leaseSeconds,
      },
      performance.now(),
    );
    const mine = holder === opts.identity;
    if (!mine && !observer.isExpired(opts.leaseName, performance.now())) return false;
    await replaceLease(opts.api, current, heldLeaseSpec(spec, opts.identity, leaseSeconds, new Date()));
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
        const current = await getLease(opts.api, { namespace: opts.namespace, name: opts.leaseName });
        if (current?.lease.spec.holderIdentity !== opts.identity) return;
        await replaceLease(opts.api, current, releasedLeaseSpec(current.lease.spec, new Date()));
        opts.log.info({ lease: opts.leaseName }, "released leadership");
      } catch (err) {
        opts.log.warn({ lease: opts.leaseName, err: describeError(err) }, "could not release the leader lease");
      }
    },
  };
}
