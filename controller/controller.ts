import type { Logger } from "../shared/log.ts";
import {
  configMapInput,
  customResourceInput,
  decideConfig,
  heldIpsOf,
  isKept,
  nothingLoaded,
  refuseLoad,
  type ConfigInForce,
  type ConfigState,
  type HeldIps,
  type KeptVerdict,
} from "../shared/config/config-source.ts";
import { poolHolding } from "../shared/config/ips-taken-away.ts";
import { parseIp } from "../shared/ip/address.ts";
import { rangeContains } from "../shared/ip/range.ts";
import { describeError } from "../shared/kube/api-errors.ts";
import type { KubeApi } from "../shared/kube/client/kube-api.ts";
import { configMaps, ipAddressPools, namespaces, nodes, services } from "../shared/kube/client/resource-types.ts";
import type { EventRecorder, EventTarget } from "../shared/kube/event-recorder.ts";
import { startInformer, type ResilientInformer } from "../shared/kube/informer.ts";
import { startMetallbInformer, type MetallbObject } from "../shared/kube/metallb-resources.ts";
import { projectConfigMap, type ConfigMapObject } from "../shared/kube/objects/config-map.ts";
import { projectNamespace, type NamespaceObject } from "../shared/kube/objects/namespace.ts";
import { projectNode, type NodeObject } from "../shared/kube/objects/node.ts";
import { projectService, type ServiceObject } from "../shared/kube/objects/service.ts";
import { WorkQueue } from "../shared/kube/work-queue.ts";
import { Allocator } from "./allocator.ts";
import type { ControllerMetrics } from "./metrics.ts";
import { isOurService } from "../shared/kube/service-class.ts";
import { buildAllocationRequest } from "./service-request.ts";
import { isMetallbAnnotation } from "../shared/service/metallb-annotations.ts";
import { serviceKey, splitServiceKey } from "../shared/service/service-key.ts";
import { OwnWrites } from "./own-writes.ts";
import { serviceShows, writeServiceState } from "./service-writer.ts";
import { ConfigStatusSync, type PoolCounts, type ShownStatus } from "./config-status-sync.ts";
import { announcesEveryIp, unannouncedIps, type UnannouncedIp } from "./unannounced.ts";

export interface ControllerOptions {
  /** Every read, watch and write: Services, the ConfigMap, MetalLB's CRs and their status, Namespaces, Nodes. */
  api: KubeApi;
  log: Logger;
  metrics: ControllerMetrics;
  events: EventRecorder;
  namespace: string;
  configMapName: string;
  lbClass: string | undefined;
}

const configKey = "\u0000config";

/**
 * Services whose writes (pool annotation, status) may be in flight at once. Allocation stays
 * synchronous and in queue order (each reconcile decides before its first await); only the writes
 * overlap, so the API's round trips no longer bound the allocation rate. 32 is the bench's
 * concurrent-write level (test/bench/controller-allocation.ts), where the simulator's write rate
 * levels off; a real API server's priority-and-fairness budget for one client is of that order too.
 */
const writeConcurrency = 32;

/**
 * The controller's reconcile loop: informers on Services and the pool ConfigMap feed a work
 * queue; each key is reconciled from the cache against the pure {@link Allocator}, and only the
 * difference is written. Informers run on every replica; only the leader reconciles.
 *
 * On becoming leader it first loads the config, then learns every IP that Services already show
 * in their status (oldest Service first), and only then reconciles any Service, so a restart never
 * moves a valid IP nor hands out one a Service still shows. While no config has loaded, nothing is
 * learned and no Service is reconciled. Which config is in force is decided by
 * shared/config/config-source.ts, the same module the speakers use.
 *
 * Reconciles are pipelined: each decides synchronously, in queue order, before its first await
 * (the allocator is the one source of truth), and up to {@link writeConcurrency} Services' writes
 * are in flight at once; a key is never reconciled twice at once, and a failed write retries that
 * key, which the allocator still holds the same IPs for. IPs are freed only once no Service shows
 * them: a released Service is cleared before its IPs are, and while a moved Service's old IPs are
 * still shown no reconcile allocates. Events are queued by the recorder and never hold up a reconcile.
 *
 * @example
 * const c = new LbController(opts);
 * await c.synced();
 * await c.becomeLeader();
 */
export class LbController {
  private readonly opts: ControllerOptions;
  private readonly allocator = new Allocator();
  private readonly queue: WorkQueue;
  private readonly services: ResilientInformer<ServiceObject>;
  private readonly configMaps: ResilientInformer<ConfigMapObject>;
  private readonly ipAddressPools: ResilientInformer<MetallbObject>;
  private readonly l2Advertisements: ResilientInformer<MetallbObject>;
  /** Namespace labels, for IPAddressPool serviceAllocation.namespaceSelectors. */
  private readonly namespaces: ResilientInformer<NamespaceObject>;
  /** Node labels, to tell a Service whose advertisements' nodeSelectors match no node. */
  private readonly nodes: ResilientInformer<NodeObject>;
  /** Each Node's labels as last seen (JSON), so only label changes re-check the Services. */
  private readonly nodeLabels = new Map<string, string>();
  /** Ready conditions and usage counts on the CRs; written by the leader only. */
  private readonly statusSync: ConfigStatusSync;
  /** Per Service, the IPs assigned but announced by nobody (no L2Advertisement applies), as last reported. */
  private readonly unannounced = new Map<string, UnannouncedIp[]>();
  private unannouncedCount = 0;
  private leader = false;
  /** The config in force and why the latest one is not, if it is not. */
  private config: ConfigState = nothingLoaded;
  /** Existing assignments were learned; Services are reconciled only after that. */
  private learned = false;
  /** Services that hold IPs no pool covers since the controller (re)started; never touched. */
  private readonly orphans = new Map<string, string[]>();
  /** Services waiting for an IP, by key, with their creation time for oldest-first retries. */
  private readonly pending = new Map<string, string>();
  /** The uid last seen of each config object (`IPAddressPool ns/name`), to name a deleted one in Events. */
  private readonly uids = new Map<string, string>();
  /**
   * Set while a Service that was moved to other IPs still shows its old ones (its status write is
   * in flight): no reconcile allocates until it resolves, so a freed IP is never shown by two
   * Services at once, even for a moment.
   */
  private moving: Promise<void> | undefined;
  private movesInFlight = 0;
  private movesDone: (() => void) | undefined;
  /** The Service versions our own writes produced, whose watch events need no reconcile. */
  private readonly ownWrites = new OwnWrites();
  /** Whether the config in force announces every IP it assigns (then no Service needs checking). */
  private announcesAll: { config: ConfigInForce; all: boolean } | undefined;

  constructor(opts: ControllerOptions) {
    this.opts = opts;
    this.queue = new WorkQueue((key) => this.reconcileKey(key), {
      concurrency: writeConcurrency,
      onError: (key, err, retryInMs) => {
        opts.metrics.updateErrors.inc();
        opts.log.warn({ key: key === configKey ? "config" : key, err: describeError(err), retryInMs }, "reconcile failed, will retry");
      },
    });
    const { api, log } = opts;
    this.services = startInformer<ServiceObject>({
      api,
      type: services,
      project: projectService,
      log,
      onChange: (svc, kind) => this.serviceChanged(svc, kind),
    });
    this.configMaps = startInformer<ConfigMapObject>({
      api,
      type: configMaps,
      namespace: opts.namespace,
      fieldSelector: `metadata.name=${opts.configMapName}`,
      project: projectConfigMap,
      log,
      onChange: () => this.queue.add(configKey),
    });
    const crInformer = (plural: "ipaddresspools" | "l2advertisements") =>
      startMetallbInformer({ api, namespace: opts.namespace, plural, log, onChange: () => this.queue.add(configKey) });
    this.ipAddressPools = crInformer("ipaddresspools");
    this.l2Advertisements = crInformer("l2advertisements");
    this.namespaces = startInformer<NamespaceObject>({
      api,
      type: namespaces,
      project: projectNamespace,
      log,
      // New labels may let a waiting Service use a pool whose namespaceSelectors now match.
      onChange: () => this.requeuePending(),
    });
    this.nodes = startInformer<NodeObject>({
      api,
      type: nodes,
      project: projectNode,
      log,
      onChange: (node, kind) => this.nodeChanged(node, kind),
    });
    this.statusSync = new ConfigStatusSync({
      api,
      log: opts.log,
      events: opts.events,
      readyGauge: opts.metrics.configObjectReady,
      desired: () => ({ objects: this.config.objects, counts: this.poolCounts() }),
      current: (kind, namespace, name) => (kind === "IPAddressPool" ? this.ipAddressPools : this.l2Advertisements).get(name, namespace) as { status?: ShownStatus } | undefined,
    });
    opts.metrics.readPoolUsageFrom(() => this.allocator.stats());
  }

  /** Resolves once both informers have listed. */
  async synced(): Promise<void> {
    await Promise.all(this.informers().map((i) => i.synced));
  }

  isSynced(): boolean {
    return this.informers().every((i) => i.isSynced());
  }

  private informers(): ResilientInformer<never>[] {
    return [this.services, this.configMaps, this.ipAddressPools, this.l2Advertisements, this.namespaces, this.nodes] as ResilientInformer<never>[];
  }

  /** A Service changed: reconcile it, unless the change is only the echo of our own write. */
  private serviceChanged(svc: ServiceObject, kind: "add" | "update" | "delete"): void {
    const key = serviceKey(svc);
    if (this.ownWrites.needsReconcile(key, kind, svc.metadata.resourceVersion)) this.queue.add(key);
  }

  /** A Node's labels changed (or it came or went): Services may have become announceable or dark. */
  private nodeChanged(node: NodeObject, kind: "add" | "update" | "delete"): void {
    const name = node.metadata.name ?? "";
    const labels = kind === "delete" ? undefined : JSON.stringify(node.metadata.labels ?? {});
    if (this.nodeLabels.get(name) === labels) return;
    if (labels === undefined) this.nodeLabels.delete(name);
    else this.nodeLabels.set(name, labels);
    if (!this.leader || !this.learned || !this.nodes.isSynced()) return;
    if (!(this.config.inForce?.advertisements ?? []).some((ad) => ad.nodeSelectors.length > 0) && this.unannounced.size === 0) return;
    for (const svc of this.services.list()) if (ingressIps(svc).length > 0) this.queue.add(serviceKey(svc));
  }

  /** Starts writing: load config, learn existing assignments, then reconcile every Service. */
  async becomeLeader(): Promise<void> {
    await this.synced();
    this.leader = true;
    this.statusSync.start();
    await this.reconcileConfig();
  }

  /** Stops writing at once (leadership lost or shutting down). */
  stopLeading(): void {
    this.leader = false;
    this.statusSync.stop();
  }

  /** Resolves when no reconcile is queued or running, and the Events they recorded are written. */
  async idle(): Promise<void> {
    await this.queue.idle();
    await this.statusSync.idle();
    await this.opts.events.idle();
  }

  async stop(): Promise<void> {
    this.leader = false;
    this.queue.stop();
    this.statusSync.stop();
    await Promise.all(this.informers().map((i) => i.stop()));
  }

  private async reconcileKey(key: string): Promise<void> {
    if (!this.leader) return;
    if (key === configKey) return this.reconcileConfig();
    if (!this.learned) return; // the first config load learns the IPs shown, then queues every Service.
    return this.reconcileService(key);
  }

  // ---- configuration ----------------------------------------------------------------------

  private async reconcileConfig(): Promise<void> {
    const { log, metrics, events, namespace, configMapName } = this.opts;
    const previous = this.config;
    const inputs = {
      configMap: configMapInput(this.configMaps.get(configMapName, namespace), namespace, configMapName),
      crds: { pools: this.ipAddressPools.list().map(customResourceInput), advertisements: this.l2Advertisements.list().map(customResourceInput) },
    };
    let next = decideConfig(previous, inputs, this.holders());
    if (next.verdict.kind === "loaded") {
      // The allocator has the last word: it may know a holder the Service cache does not show yet.
      const applied = this.allocator.setPools(next.inForce!.pools);
      if (!applied.ok) next = refuseLoad(previous, next, applied.blocked);
    }
    this.config = next;
    for (const o of next.objects) if (o.uid !== undefined) this.uids.set(`${o.kind} ${o.namespace}/${o.name}`, o.uid);
    this.statusSync.markDirty();
    const verdict = next.verdict;
    if (verdict.kind === "unchanged") return;
    if (isKept(verdict)) return this.reportKept(verdict);

    const pools = next.inForce!.pools;
    metrics.configLoaded.set(1);
    // Learn before anything can await: no Service may be reconciled against an allocator that
    // does not yet know the IPs Services already show. Later configs may cover orphans' IPs again.
    this.learnAssignments(this.learned ? this.services.list().filter((svc) => this.orphans.has(serviceKey(svc))) : this.services.list());
    this.learned = true;
    this.updateStaleGauge();
    this.poolUsageChanged();
    log.info({ pools: pools.map((p) => p.name), source: next.inForce!.source }, "config loaded");
    if (this.reportsOnConfigMap()) void events.record(this.configTarget(), "Normal", "ConfigLoaded", verdict.message);
    // New pools may satisfy Services that were waiting, or change what others should hold.
    for (const svc of this.services.list()) this.queue.add(serviceKey(svc));
  }

  /** A kept verdict: a Warning Event on the ConfigMap (even a deleted one), an error line, the stale gauge and a count. */
  private reportKept(verdict: KeptVerdict): void {
    const { log, metrics, events } = this.opts;
    metrics.configStale.set(1);
    metrics.configRejections.inc({ cause: verdict.cause });
    log.error(
      { cause: verdict.cause, verdict: verdict.kind, reason: verdict.message, errors: verdict.problems, inForce: this.config.inForce?.source ?? null },
      "config (re)load failed, config marked stale",
    );
    // With CRs only, each offending object gets its own Warning and Ready=False (config-status-sync.ts).
    if (this.reportsOnConfigMap()) void events.record(this.configTarget(), "Warning", "InvalidConfig", verdict.message);
    this.reportDeletedPoolsKept(verdict);
  }

  /**
   * A deleted IPAddressPool whose IPs Services hold stays in force, and has no status left to say
   * so: a Warning Event on it (by its last uid, as `kubectl get events` lists deleted objects too).
   */
  private reportDeletedPoolsKept(verdict: KeptVerdict): void {
    const inForce = this.config.inForce;
    if (verdict.cause !== "would-orphan-ips" || inForce === undefined) return;
    const present = new Set(this.config.objects.map((o) => `${o.kind} ${o.namespace}/${o.name}`));
    const held = new Map<string, string[]>();
    for (const taken of verdict.takenAway) {
      const source = poolHolding(inForce.pools, taken.ip)?.source;
      if (source === undefined || !source.startsWith("IPAddressPool ") || present.has(source)) continue;
      held.set(source, [...(held.get(source) ?? []), `${taken.service} holds ${taken.ip}`]);
    }
    for (const [source, holders] of held) {
      const [namespace, name] = source.slice("IPAddressPool ".length).split("/");
      const target: EventTarget = { kind: "IPAddressPool", apiVersion: ipAddressPools.apiVersion, name, namespace, uid: this.uids.get(source) };
      const message =
        `${source} was deleted but stays in force while Services hold its IPs: ${holders.join("; ")}; ` +
        `delete those Services or give them other IPs, and the deletion applies as soon as they are gone`;
      void this.opts.events.record(target, "Warning", "WouldTakeIPs", message);
    }
  }

  /** Config-wide Events go to the ConfigMap when it exists or did, or when no CR exists to carry them. */
  private reportsOnConfigMap(): boolean {
    return this.config.configMap !== undefined || (this.ipAddressPools.list().length === 0 && this.l2Advertisements.list().length === 0);
  }

  /** MetalLB's IPAddressPool status counts, per pool in force. */
  private poolCounts(): Map<string, PoolCounts> {
    return new Map(this.allocator.stats().map((s) => [s.pool, s]));
  }

  /** Queues every Service waiting for an IP, oldest first. */
  private requeuePending(): void {
    if (!this.leader || !this.learned) return;
    const waiting = [...this.pending.entries()].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : 1));
    for (const [key] of waiting) this.queue.add(key);
  }

  /** The ConfigMap as last seen, with its uid, so a deleted one is still named in `kubectl get events`. */
  private configTarget(): EventTarget {
    const ref = this.config.configMap ?? { namespace: this.opts.namespace, name: this.opts.configMapName };
    return { kind: "ConfigMap", apiVersion: "v1", name: ref.name, namespace: ref.namespace, uid: ref.uid };
  }

  /** What our Services hold: what the allocator assigned them, else what their status shows. */
  private holders(): HeldIps[] {
    const holders: HeldIps[] = [];
    for (const svc of this.services.list()) {
      if (!isOurService(svc, this.opts.lbClass)) continue;
      const shown = heldIpsOf(svc);
      const key = serviceKey(svc);
      const assigned = this.allocator.assignedTo(key);
      if (assigned) holders.push({ service: key, ips: assigned, pool: shown?.pool });
      else if (shown) holders.push(shown);
    }
    return holders;
  }

  // ---- services ---------------------------------------------------------------------------

  /**
   * Records the IPs `services` already show, oldest Service first, before any allocation: on the
   * first config load all Services, on later loads the orphans (a new config may cover them again).
   */
  private learnAssignments(services: ReadonlyArray<ServiceObject>): void {
    const { log } = this.opts;
    const ours = services.filter((svc) => isOurService(svc, this.opts.lbClass) && ingressIps(svc).length > 0).sort(byCreation);
    for (const svc of ours) {
      const key = serviceKey(svc);
      const ips = ingressIps(svc);
      // A Service whose request is invalid now (a bad annotation) still holds its IPs: learn them
      // under its request without the MetalLB annotations, so no other Service gets them;
      // reconcile reports the invalid request and leaves the IPs alone.
      let request = buildAllocationRequest(svc, this.namespaceLabels(svc));
      if (!request.ok) request = buildAllocationRequest(withoutLbRequest(svc), this.namespaceLabels(svc));
      if (!request.ok) continue;
      this.orphans.delete(key);
      const result = this.allocator.assign(key, ips, request.request);
      if (result.ok) continue;
      if (!ips.some((ip) => this.inSomePool(ip))) {
        // The config changed while no controller ran: keep the Service's IPs, report the config stale.
        this.orphans.set(key, ips);
        log.error({ service: key, ips, reason: result.reason }, "service holds IPs that no pool covers; leaving it untouched");
      } else {
        log.warn({ service: key, ips, reason: result.reason }, "existing assignment not valid; will reassign");
      }
    }
  }

  /** The config is stale while the latest one is refused or a Service holds IPs no pool covers. */
  private updateStaleGauge(): void {
    const stale = this.config.refusal !== undefined || this.orphans.size > 0;
    this.opts.metrics.configStale.set(stale ? 1 : 0);
  }

  private inSomePool(text: string): boolean {
    const parsed = parseIp(text);
    return parsed.ok && (this.config.inForce?.pools ?? []).some((pool) => pool.ranges.some((range) => rangeContains(range, parsed.ip)));
  }

  private async reconcileService(key: string): Promise<void> {
    while (this.moving) {
      await this.moving;
      if (!this.leader) return;
    }
    const { log, metrics, events, api } = this.opts;
    const parts = splitServiceKey(key);
    const svc = parts && this.services.get(parts.name, parts.namespace);
    const target = svc ? serviceTarget(svc) : undefined;

    if (!svc || !isOurService(svc, this.opts.lbClass)) {
      this.pending.delete(key);
      this.setUnannounced(key, []);
      this.ownWrites.forget(key);
      if (this.orphans.delete(key)) this.afterRelease([]);
      const held = this.allocator.assignedTo(key);
      if (!held) return;
      if (svc && ingressIps(svc).length > 0) {
        // Cleared before the IPs are freed: while the Service still shows them, nobody else gets them.
        metrics.updates.inc();
        await writeServiceState(api, svc, { ips: [], pool: undefined });
      }
      const freed = this.allocator.unassign(key);
      log.info({ service: key, ips: held, reason: svc ? "no longer ours" : "deleted" }, "released IPs");
      this.afterRelease(freed);
      return;
    }
    if (this.orphans.has(key)) {
      const same = sameIps(this.orphans.get(key)!, ingressIps(svc));
      if (same) return;
      this.orphans.delete(key);
      this.afterRelease([]);
    }

    const namespaceLabels = this.namespaceLabels(svc);
    if (namespaceLabels === undefined && !this.allocator.assignedTo(key) && this.poolsSelectNamespaces()) {
      // The Namespace informer lags (`kubectl apply` of a Namespace and its Service): allocating now
      // would skip the pools whose namespaceSelectors match it, for good. Its event requeues us.
      this.pending.set(key, creationOf(svc));
      metrics.pendingServices.set(this.pending.size);
      log.debug({ service: key, namespace: svc.metadata.namespace }, "waiting for the Service's namespace labels");
      return;
    }
    const request = buildAllocationRequest(svc, namespaceLabels);
    if (!request.ok) {
      this.pending.set(key, creationOf(svc));
      metrics.allocationFailures.inc();
      metrics.pendingServices.set(this.pending.size);
      log.warn({ service: key, reason: request.error }, "allocation failed");
      void events.record(target!, "Warning", "AllocationFailed", `Failed to allocate IP for "${key}": ${request.error}`);
      return;
    }

    const before = this.allocator.assignedTo(key);
    const shown = ingressIps(svc);
    if (!before && shown.length > 0) {
      // Shown but unknown to us (a Service updated while we were not leader): keep it if valid.
      this.allocator.assign(key, shown, request.request);
    }
    const previous = this.allocator.assignedTo(key);
    const result = this.allocator.allocate(key, request.request);
    if (!result.ok) {
      this.pending.set(key, creationOf(svc));
      metrics.allocationFailures.inc();
      metrics.pendingServices.set(this.pending.size);
      log.warn({ service: key, reason: result.reason }, "allocation failed");
      void events.record(target!, "Warning", "AllocationFailed", `Failed to allocate IP for "${key}": ${result.reason}`);
      return;
    }
    this.pending.delete(key);
    metrics.pendingServices.set(this.pending.size);
    this.poolUsageChanged();

    const desired = { ips: result.ips, pool: result.pool };
    const moved = previous !== undefined && !sameIps(previous, result.ips);
    if (moved) {
      log.info({ service: key, from: previous, to: result.ips }, "assignment changed");
      void events.record(
        target!,
        "Warning",
        "ClearAssignment",
        `current IP for "${key}" (${previous.join(", ")}) not allowed by its request or the config; reassigning`,
      );
    }
    if (!serviceShows(svc, desired)) {
      this.ownWrites.begin(key);
      let versions: readonly string[] = [];
      let writes: number;
      try {
        const write = writeServiceState(api, svc, desired);
        ({ writes, versions } = await (moved ? this.whileMoving(write) : write));
      } finally {
        if (this.ownWrites.end(key, versions)) this.queue.add(key);
      }
      metrics.updates.inc(writes);
      // No write means a stale cache: a fresh read showed the IPs already there (our own earlier write).
      if (writes > 0 && !sameIps(shown, result.ips)) {
        log.info({ service: key, ips: result.ips, pool: result.pool }, "ip assigned");
        void events.record(target!, "Normal", "IPAllocated", `Assigned IP ${JSON.stringify(result.ips)}`);
      }
    }
    if (moved) this.afterRelease(previous.filter((ip) => !result.ips.includes(ip)));
    this.reportUnannounced(svc, key, result.ips);
  }

  /** Holds every allocation back until `write`, which moves a Service off IPs it still shows, has settled. */
  private async whileMoving<T>(write: Promise<T>): Promise<T> {
    if (this.movesInFlight++ === 0) this.moving = new Promise((resolve) => (this.movesDone = resolve));
    try {
      return await write;
    } finally {
      if (--this.movesInFlight === 0) {
        this.moving = undefined;
        this.movesDone?.();
      }
    }
  }

  /** Whether a pool in force admits Services by their Namespace's labels. */
  private poolsSelectNamespaces(): boolean {
    return (this.config.inForce?.pools ?? []).some((pool) => (pool.serviceAllocation?.namespaceSelectors?.length ?? 0) > 0);
  }

  /** The Service's namespace labels, or undefined when the Namespace is not in the cache. */
  private namespaceLabels(svc: ServiceObject): Readonly<Record<string, string>> | undefined {
    const ns = this.namespaces.get(svc.metadata.namespace || "default");
    return ns ? (ns.metadata.labels ?? {}) : undefined;
  }

  /**
   * MetalLB assigns IPs from a pool no L2Advertisement selects and never announces them, silently;
   * we say so: a Warning Event on the Service (once per change), a log line and the gauge.
   */
  private reportUnannounced(svc: ServiceObject, key: string, ips: readonly string[]): void {
    const inForce = this.config.inForce;
    // The common case, and the reconcile loop is hot: every IP of every pool is announced.
    if (inForce !== undefined && !this.unannounced.has(key) && this.announcesEveryIp(inForce)) return;
    // Node labels matter only when an advertisement selects nodes: skip the list otherwise (the reconcile loop is hot).
    const selectsNodes = inForce?.advertisements.some((ad) => ad.nodeSelectors.length > 0) ?? false;
    const nodes = selectsNodes && this.nodes.isSynced() ? this.nodes.list().map((n) => ({ labels: n.metadata.labels })) : undefined;
    const dark = inForce ? unannouncedIps(ips, inForce, svc.metadata.labels, nodes) : [];
    const before = this.unannounced.get(key) ?? [];
    this.setUnannounced(key, dark);
    if (dark.length === 0) {
      if (before.length > 0) this.opts.log.info({ service: key, ips }, "ips announced again: an L2Advertisement applies now");
      return;
    }
    // Said once per change: the messages name each IP and why.
    if (before.length === dark.length && before.every((d, i) => d.message === dark[i].message)) return;
    const messages = dark.map((d) => d.message);
    this.opts.log.warn({ service: key, reasons: messages }, "ips assigned but not announced");
    for (const message of messages) void this.opts.events.record(serviceTarget(svc), "Warning", "NotAnnounced", message);
  }

  /** {@link announcesEveryIp} of the config in force, computed once per config. */
  private announcesEveryIp(inForce: ConfigInForce): boolean {
    if (this.announcesAll?.config !== inForce) this.announcesAll = { config: inForce, all: announcesEveryIp(inForce) };
    return this.announcesAll.all;
  }

  private setUnannounced(key: string, dark: UnannouncedIp[]): void {
    const change = dark.length - (this.unannounced.get(key)?.length ?? 0);
    if (dark.length > 0) this.unannounced.set(key, dark);
    else this.unannounced.delete(key);
    if (change === 0) return;
    this.unannouncedCount += change;
    this.opts.metrics.unannouncedIps.set(this.unannouncedCount);
  }


  /** After IPs were freed: retry a config refused for its holders, then pending Services oldest first. */
  private afterRelease(freed: string[]): void {
    this.poolUsageChanged();
    this.updateStaleGauge();
    const refusedForHolders = this.config.refusal?.cause === "would-orphan-ips";
    if (refusedForHolders) this.queue.add(configKey);
    if (freed.length === 0 && !refusedForHolders) return;
    const waiting = [...this.pending.entries()].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : 1));
    for (const [key] of waiting) this.queue.add(key);
  }

  /** Pool usage changed: the CRs' status counts are due (the address gauges read the allocator when scraped). */
  private poolUsageChanged(): void {
    this.statusSync.markDirty();
  }
}

function ingressIps(svc: ServiceObject): string[] {
  return (svc.status.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip);
}

/** The Service's creation time as an ISO string, which sorts oldest first; "" when unknown. */
function creationOf(svc: ServiceObject): string {
  return svc.metadata.creationTimestamp ? new Date(svc.metadata.creationTimestamp).toISOString() : "";
}

function sameIps(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((ip, i) => ip === b[i]);
}

function byCreation(a: ServiceObject, b: ServiceObject): number {
  const ta = a.metadata.creationTimestamp ? new Date(a.metadata.creationTimestamp).getTime() : 0;
  const tb = b.metadata.creationTimestamp ? new Date(b.metadata.creationTimestamp).getTime() : 0;
  return ta - tb || serviceKey(a).localeCompare(serviceKey(b));
}

function serviceTarget(svc: ServiceObject): EventTarget {
  return { kind: "Service", apiVersion: services.apiVersion, name: svc.metadata.name ?? "", namespace: svc.metadata.namespace, uid: svc.metadata.uid };
}

/** The Service without what it asks of the load balancer (MetalLB annotations, spec.loadBalancerIP). */
function withoutLbRequest(svc: ServiceObject): ServiceObject {
  const annotations = Object.fromEntries(
    Object.entries(svc.metadata.annotations ?? {}).filter(([k]) => !isMetallbAnnotation(k)),
  );
  return { ...svc, metadata: { ...svc.metadata, annotations }, spec: { ...svc.spec, loadBalancerIP: undefined } };
}
