/**
 * Writes what the controller knows about each IPAddressPool and L2Advertisement into its status:
 * the `Ready` condition (the config source's verdict on it: what stands in for MetalLB's webhook)
 * and, for pools, MetalLB's usage counts (`assignedIPv4`, …), so `kubectl get ipaddresspools`
 * shows usage. A not-ready object also gets a Warning Event and `baremetal_lb_config_object_ready 0`.
 *
 * Writes are coalesced: `markDirty()` asks for a pass, and a pass runs at most once per
 * `minIntervalMs` (default 1 s), computing every object's desired status from the caller's latest
 * state and merge-patching only what differs from what the object shows (or what this writer last
 * wrote, when the cache has not caught up). So a storm of 10,000 allocations costs at most one
 * status write per pool per interval, and a steady state costs none. Failures are logged and retried
 * on the next pass; a status write never blocks a reconcile.
 *
 * @example
 * const sync = new ConfigStatusSync({ api, log, events, metrics, desired: () => ({ objects, counts }), current: (kind, name) => cache.get(kind, name) });
 * sync.markDirty();
 */
import type { Gauge } from "prom-client";
import type { Logger } from "../shared/log.ts";
import { describeError, statusOf } from "../shared/kube/api-errors.ts";
import type { KubeApi } from "../shared/kube/client/kube-api.ts";
import { ipAddressPools, l2Advertisements } from "../shared/kube/client/resource-types.ts";
import type { EventRecorder } from "../shared/kube/event-recorder.ts";
import { nextConditions, type Condition, type Readiness } from "./ready-condition.ts";

const resourceTypes = { IPAddressPool: ipAddressPools, L2Advertisement: l2Advertisements } as const;

/** The kinds whose status this writer keeps. */
export type ConfigKind = keyof typeof resourceTypes;

/** MetalLB's IPAddressPool status counts. */
export interface PoolCounts {
  readonly assignedIPv4: number;
  readonly assignedIPv6: number;
  readonly availableIPv4: number;
  readonly availableIPv6: number;
}

/** One object's verdict, as the config source reports it. */
export interface ObjectVerdict extends Readiness {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

/** What the objects should show now: verdicts for every object, counts for pools in force. */
export interface DesiredStatuses {
  readonly objects: readonly ObjectVerdict[];
  readonly counts: ReadonlyMap<string, PoolCounts>;
}

/** What an object shows now (from the informer cache). */
export interface ShownStatus {
  readonly conditions?: readonly Condition[];
  readonly [field: string]: unknown;
}

export interface ConfigStatusSyncOptions {
  readonly api: KubeApi;
  readonly log: Logger;
  readonly events: EventRecorder;
  /** `baremetal_lb_config_object_ready{kind,name}`. */
  readonly readyGauge: Gauge<"kind" | "name">;
  /** The latest desired state, read when a pass runs. */
  readonly desired: () => DesiredStatuses;
  /** The status an object shows, or undefined when it does not exist (any more). */
  readonly current: (kind: ConfigKind, namespace: string, name: string) => { status?: ShownStatus } | undefined;
  readonly minIntervalMs?: number;
  readonly now?: () => Date;
}

export class ConfigStatusSync {
  private readonly opts: ConfigStatusSyncOptions;
  private readonly written = new Map<string, string>();
  private readonly warned = new Map<string, string>();
  private readonly gaugeKeys = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastPass = 0;
  private again = false;
  private stopped = false;

  constructor(opts: ConfigStatusSyncOptions) {
    this.opts = opts;
  }

  /** Asks for a pass: soon, but not sooner than `minIntervalMs` after the previous one. */
  markDirty(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.lastPass + (this.opts.minIntervalMs ?? 1_000) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.pass().finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.markDirty();
        }
      });
    }, wait);
  }

  /** Resolves when no pass is waiting or running (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.timer || this.running) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops writing (leadership lost). Nothing is written until {@link start}. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Writes again (leadership gained), forgetting what it wrote before: another leader may have written since. */
  start(): void {
    this.stopped = false;
    this.written.clear();
    this.warned.clear();
    this.markDirty();
  }

  private async pass(): Promise<void> {
    this.lastPass = Date.now();
    const { objects, counts } = this.opts.desired();
    const seen = new Set<string>();
    for (const verdict of objects) {
      if (verdict.kind !== "IPAddressPool" && verdict.kind !== "L2Advertisement") continue;
      const kind = verdict.kind;
      const key = `${kind}/${verdict.namespace}/${verdict.name}`;
      seen.add(key);
      this.setGauge(kind, verdict.name, verdict.ready);
      this.warnIfNotReady(kind, key, verdict);
      const shown = this.opts.current(kind, verdict.namespace, verdict.name);
      if (!shown) continue;
      const patch = this.patchFor(kind, verdict, shown.status, counts.get(verdict.name));
      if (patch === undefined) continue;
      const text = JSON.stringify(patch);
      if (this.written.get(key) === text) continue;
      if (await this.write(kind, verdict, patch)) this.written.set(key, text);
    }
    for (const key of [...this.written.keys()]) if (!seen.has(key)) this.written.delete(key);
    for (const key of [...this.warned.keys()]) if (!seen.has(key)) this.warned.delete(key);
    const gauged = new Set([...seen].map((key) => `${key.slice(0, key.indexOf("/"))}\u0000${key.slice(key.lastIndexOf("/") + 1)}`));
    for (const gaugeKey of [...this.gaugeKeys]) {
      if (gauged.has(gaugeKey)) continue;
      const [kind, name] = gaugeKey.split("\u0000");
      this.opts.readyGauge.remove({ kind, name });
      this.gaugeKeys.delete(gaugeKey);
    }
  }

  /** The merge patch of `status` to write, or undefined when the object already shows it. */
  private patchFor(kind: ConfigKind, verdict: ObjectVerdict, shown: ShownStatus | undefined, counts: PoolCounts | undefined): Record<string, unknown> | undefined {
    const status: Record<string, unknown> = {};
    const conditions = nextConditions(shown?.conditions, verdict, this.opts.now?.() ?? new Date());
    if (conditions) status.conditions = conditions;
    if (kind === "IPAddressPool") {
      const want: PoolCounts = counts ?? { assignedIPv4: 0, assignedIPv6: 0, availableIPv4: 0, availableIPv6: 0 };
      for (const [field, value] of Object.entries(want)) if (shown?.[field] !== value) status[field] = value;
    }
    return Object.keys(status).length > 0 ? { status } : undefined;
  }

  private async write(kind: ConfigKind, verdict: ObjectVerdict, body: Record<string, unknown>): Promise<boolean> {
    try {
      await this.opts.api.patch({ ...resourceTypes[kind], namespace: verdict.namespace, name: verdict.name, subresource: "status" }, body, "merge");
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false; // deleted meanwhile; the next pass forgets it
      this.opts.log.warn({ object: `${kind}/${verdict.namespace}/${verdict.name}`, err: describeError(err) }, "status not written, will retry");
      setTimeout(() => this.markDirty(), 2_000).unref();
      return false;
    }
  }

  private warnIfNotReady(kind: ConfigKind, key: string, verdict: ObjectVerdict): void {
    if (verdict.ready) {
      this.warned.delete(key);
      return;
    }
    const said = `${verdict.reason}\u0000${verdict.message}`;
    if (this.warned.get(key) === said) return;
    this.warned.set(key, said);
    this.opts.log.error({ object: key, reason: verdict.reason, message: verdict.message }, "config object not in force");
    const target = { kind: verdict.kind, apiVersion: resourceTypes[kind].apiVersion, name: verdict.name, namespace: verdict.namespace, uid: verdict.uid };
    void this.opts.events.record(target, "Warning", verdict.reason, verdict.message);
  }

  private setGauge(kind: string, name: string, ready: boolean): void {
    this.gaugeKeys.add(`${kind}\u0000${name}`);
    this.opts.readyGauge.set({ kind, name }, ready ? 1 : 0);
  }
}
