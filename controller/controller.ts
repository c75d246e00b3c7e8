import type { Logger } from "../shared/log.ts";
import { configMapInput, customResourceInput, decideConfig, heldIpsOf, refuseLoad, type HeldIps } from "../shared/config/config-source.ts";
import { describeError } from "../shared/kube/api-errors.ts";
import type { KubeApi } from "../shared/kube/client/kube-api.ts";
import { configMaps, namespaces, nodes, services } from "../shared/kube/client/resource-types.ts";
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
import { unannouncedIps, type UnannouncedIp } from "./unannounced.ts";
import {
  initialConfigState,
  leavesOrphanUntouched,
  stepConfigState,
  type ConfigEffect,
  type ConfigStateEvent,
  type ControllerConfigState,
  type LearnedAssignment,
} from "./config-state.ts";
import { creationTime, oldestFirst } from "./oldest-first.ts";

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
 * concurrent-write level (tools/bench/controller-allocation.ts), where the simulator's write rate
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
 * shared/config/config-source.ts, the same module the speakers use; what follows from it (learning,
 * orphans, Services waiting for an IP, the config's Events and gauges) by config-state.ts, a pure
 * state machine this class feeds and whose effects it applies.
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
  /**
   * The config in force, whether Services' IPs were learned, the orphans and the Services waiting
   * for an IP: changed only by {@link feed}, whose effects {@link apply} carries out (config-state.ts).
   */
  private state: ControllerConfigState;
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

  constructor(opts: ControllerOptions) {
    this.opts = opts;
    this.state = initialConfigState({ namespace: opts.namespace, name: opts.configMapName });
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
      onChange: () => {
        if (this.leader) this.feed({ kind: "namespaces-changed" });
      },
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
      desired: () => ({ objects: this.state.config.objects, counts: this.poolCounts() }),
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
    if (!this.leader || !this.state.learned || !this.nodes.isSynced()) return;
    if (!(this.state.config.inForce?.advertisements ?? []).some((ad) => ad.nodeSelectors.length > 0) && this.unannounced.size === 0) return;
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
    if (!this.state.learned) return; // the first config load learns the IPs shown, then queues every Service.
    return this.reconcileService(key);
  }

  // ---- configuration ----------------------------------------------------------------------

  private async reconcileConfig(): Promise<void> {
    const { namespace, configMapName } = this.opts;
    const previous = this.state.config;
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
    this.feed({ kind: "config-decided", config: next, crsExist: this.crsExist() });
  }

  /** Steps the config state and carries out its effects, in order. */
  private feed(event: ConfigStateEvent): void {
    const step = stepConfigState(this.state, event);
    this.state = step.state;
    for (const effect of step.effects) this.apply(effect);
  }

  private apply(effect: ConfigEffect): void {
    const { log, metrics, events } = this.opts;
    switch (effect.kind) {
      case "learn":
        return this.feed({ kind: "assignments-learned", assignments: this.learnAssignments(effect.services), crsExist: this.crsExist() });
      case "reconcile-config":
        return this.queue.add(configKey);
      case "reconcile":
        if (effect.services !== "all") for (const key of effect.services) this.queue.add(key);
        else for (const svc of this.services.list()) this.queue.add(serviceKey(svc));
        return;
      case "write-status":
        return this.statusSync.markDirty();
      case "gauge":
        return metrics[effect.gauge].set(effect.value);
      case "count-rejection":
        return metrics.configRejections.inc({ cause: effect.cause });
      case "log":
        return log[effect.level](effect.fields, effect.msg);
      case "record-event":
        void events.record(effect.target, effect.type, effect.reason, effect.message);
        return;
    }
  }

  /** Whether any IPAddressPool or L2Advertisement is in the cache: config-wide Events go to the ConfigMap otherwise. */
  private crsExist(): boolean {
    return this.ipAddressPools.list().length > 0 || this.l2Advertisements.list().length > 0;
  }

  /** MetalLB's IPAddressPool status counts, per pool in force. */
  private poolCounts(): Map<string, PoolCounts> {
    return new Map(this.allocator.stats().map((s) => [s.pool, s]));
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
   * Records in the allocator the IPs `services` already show ("all": every Service in the cache),
   * oldest Service first, before any allocation; config-state.ts says which and what the refusals mean.
   */
  private learnAssignments(services: "all" | readonly string[]): LearnedAssignment[] {
    const wanted = services === "all" ? undefined : new Set(services);
    const ours = this.services
      .list()
      .filter((svc) => (wanted === undefined || wanted.has(serviceKey(svc))) && isOurService(svc, this.opts.lbClass) && ingressIps(svc).length > 0)
      .map((svc) => ({ svc, service: serviceKey(svc), createdAt: creationTime(svc.metadata.creationTimestamp) }))
      .sort(oldestFirst);
    const learned: LearnedAssignment[] = [];
    for (const { svc, service } of ours) {
      const ips = ingressIps(svc);
      // A Service whose request is invalid now (a bad annotation) still holds its IPs: learn them
      // under its request without the MetalLB annotations, so no other Service gets them;
      // reconcile reports the invalid request and leaves the IPs alone.
      let request = buildAllocationRequest(svc, this.namespaceLabels(svc));
      if (!request.ok) request = buildAllocationRequest(withoutLbRequest(svc), this.namespaceLabels(svc));
      if (!request.ok) continue;
      const result = this.allocator.assign(service, ips, request.request);
      learned.push(result.ok ? { service, ips } : { service, ips, refused: result.reason });
    }
    return learned;
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
      this.setUnannounced(key, []);
      this.ownWrites.forget(key);
      this.feed({ kind: "service-gone", service: key });
      const held = this.allocator.assignedTo(key);
      if (!held) return;
      if (svc && ingressIps(svc).length > 0) {
        // Cleared before the IPs are freed: while the Service still shows them, nobody else gets them.
        metrics.updates.inc();
        await writeServiceState(api, svc, { ips: [], pool: undefined });
      }
      const freed = this.allocator.unassign(key);
      log.info({ service: key, ips: held, reason: svc ? "no longer ours" : "deleted" }, "released IPs");
      this.feed({ kind: "ips-freed", ips: freed });
      return;
    }
    if (this.state.orphans.has(key)) {
      if (leavesOrphanUntouched(this.state, key, ingressIps(svc))) return;
      this.feed({ kind: "orphan-changed", service: key });
    }

    const namespaceLabels = this.namespaceLabels(svc);
    if (namespaceLabels === undefined && !this.allocator.assignedTo(key) && this.poolsSelectNamespaces()) {
      // The Namespace informer lags (`kubectl apply` of a Namespace and its Service): allocating now
      // would skip the pools whose namespaceSelectors match it, for good. Its event requeues us.
      this.feed({ kind: "service-waiting", service: key, createdAt: creationTime(svc.metadata.creationTimestamp) });
      log.debug({ service: key, namespace: svc.metadata.namespace }, "waiting for the Service's namespace labels");
      return;
    }
    const request = buildAllocationRequest(svc, namespaceLabels);
    if (!request.ok) {
      this.feed({ kind: "service-waiting", service: key, createdAt: creationTime(svc.metadata.creationTimestamp) });
      metrics.allocationFailures.inc();
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
      this.feed({ kind: "service-waiting", service: key, createdAt: creationTime(svc.metadata.creationTimestamp) });
      metrics.allocationFailures.inc();
      log.warn({ service: key, reason: result.reason }, "allocation failed");
      void events.record(target!, "Warning", "AllocationFailed", `Failed to allocate IP for "${key}": ${result.reason}`);
      return;
    }
    this.feed({ kind: "service-allocated", service: key });
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
    if (moved) this.feed({ kind: "ips-freed", ips: previous.filter((ip) => !result.ips.includes(ip)) });
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
    return (this.state.config.inForce?.pools ?? []).some((pool) => (pool.serviceAllocation?.namespaceSelectors?.length ?? 0) > 0);
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
    const inForce = this.state.config.inForce;
    // The common case, and the reconcile loop is hot: every IP of every pool is announced.
    if (this.state.announcesAll && !this.unannounced.has(key)) return;
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

  private setUnannounced(key: string, dark: UnannouncedIp[]): void {
    const change = dark.length - (this.unannounced.get(key)?.length ?? 0);
    if (dark.length > 0) this.unannounced.set(key, dark);
    else this.unannounced.delete(key);
    if (change === 0) return;
    this.unannouncedCount += change;
    this.opts.metrics.unannouncedIps.set(this.unannouncedCount);
  }

  /** Pool usage changed: the CRs' status counts are due (the address gauges read the allocator when scraped). */
  private poolUsageChanged(): void {
    this.statusSync.markDirty();
  }
}

function ingressIps(svc: ServiceObject): string[] {
  return (svc.status.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip);
}

function sameIps(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((ip, i) => ip === b[i]);
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
