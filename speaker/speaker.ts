import type { CoordinationV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig, V1ConfigMap, V1EndpointSlice, V1Lease, V1Node, V1Service } from "@kubernetes/client-node";
import { performance } from "node:perf_hooks";
import type { Logger } from "../shared/log.ts";
import type { Pool } from "../shared/config/config-types.ts";
import { parseConfig } from "../shared/config/parse-config.ts";
import { parseIp as parseIpValue } from "../shared/ip/address.ts";
import { rangeContains } from "../shared/ip/range.ts";
import type { EventRecorder, EventTarget } from "../shared/kube/event-recorder.ts";
import { startInformer, type ResilientInformer } from "../shared/kube/informer.ts";
import { isOurService } from "../shared/kube/service-class.ts";
import { canonicalIp } from "./address-bytes.ts";
import { planAnnouncements, type AnnouncedService } from "./announce-plan.ts";
import { Announcer, type ObservedConflict } from "./announcer.ts";
import { BoundedQueue } from "./bounded-queue.ts";
import { everyNodeExcludedByLabel, type EndpointInfo, type NodeInfo } from "./election.ts";
import type { SpeakerFlags } from "./flags.ts";
import { openHeartbeatChannel, type HeartbeatChannel } from "./heartbeat-channel.ts";
import type { InterfaceInfo } from "./interfaces.ts";
import { Liveness } from "./liveness.ts";
import type { SpeakerMetrics } from "./metrics.ts";
import { nodeOfLease, speakerLeaseSelector, startOwnLease, type OwnLease } from "./own-lease.ts";
import type { PacketSocket, PacketSocketOptions } from "./packet-socket.ts";
import { StrictArpCheck } from "./strict-arp-check.ts";

const refusedAnnotation = "baremetal-lb.io/strict-arp-refused";
const hearsAnnotation = "baremetal-lb.io/hears";
const serviceNameLabel = "kubernetes.io/service-name";
const livenessTickMs = 25;
const conflictEventEveryMs = 60_000;
/** Per-Service Events in flight and queued (client-go queues 1000 and drops the rest). */
const serviceEventConcurrency = 2;
const maxQueuedServiceEvents = 1000;
const droppedEventWarnEveryMs = 60_000;

export interface SpeakerDeps {
  kc: KubeConfig;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  discovery: DiscoveryV1Api;
  log: Logger;
  metrics: SpeakerMetrics;
  events: EventRecorder;
  flags: SpeakerFlags;
  /** This speaker process's Lease holder identity (new on every start). */
  identity: string;
  scan: () => Promise<InterfaceInfo[]>;
  openSocket: (ifname: string, options: PacketSocketOptions) => PacketSocket;
}

/**
 * One node's speaker: watches Services, EndpointSlices, Nodes, speaker Leases and the pool
 * ConfigMap; decides which VIPs this node owns (the same election on every node, over the
 * speakers that {@link Liveness} counts as live); and drives the {@link Announcer}.
 *
 * It only announces while its own Lease is renewed in time (fencing), and on SIGTERM it stops
 * answering, tells its peers it is leaving and releases its Lease, so the next owner takes over at
 * once.
 *
 * @example
 * const speaker = new Speaker(deps);
 * await speaker.start();
 * process.on("SIGTERM", () => speaker.shutdown());
 */
export class Speaker {
  private readonly d: SpeakerDeps;
  private readonly liveness: Liveness;
  private readonly announcer: Announcer;
  private readonly strictArp: StrictArpCheck;
  private services!: ResilientInformer<V1Service>;
  private slices!: ResilientInformer<V1EndpointSlice>;
  private nodes!: ResilientInformer<V1Node>;
  private leases!: ResilientInformer<V1Lease>;
  private configMaps!: ResilientInformer<V1ConfigMap>;
  private ownLease: OwnLease | undefined;
  private heartbeat: HeartbeatChannel | undefined;
  private pools: readonly Pool[] = [];
  private appliedConfig: string | undefined;
  private dirty = true;
  private liveKey = "";
  private fastPathKey = "";
  private cutOff: string | undefined;
  private ready = false;
  private stopping = false;
  private warnedAllExcluded = false;
  private readonly announcedLabels = new Map<string, { service: string; ip: string }[]>();
  private readonly lastConflictEvent = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private previousReasons = new Map<string, string>();
  private readonly serviceEvents = new BoundedQueue({ concurrency: serviceEventConcurrency, maxQueued: maxQueuedServiceEvents });
  private droppedServiceEvents = 0;
  /** The strictARP refusal annotation last seen on each node's Lease. */
  private readonly refusedByNode = new Map<string, string>();
  private lastDropWarning = -Infinity;

  constructor(deps: SpeakerDeps) {
    this.d = deps;
    const { flags, log, metrics } = deps;
    this.liveness = new Liveness(flags.nodeName, { heartbeatTimeoutMs: flags.heartbeatTimeoutMs, leaseDurationMs: flags.leaseDurationMs });
    this.announcer = new Announcer({
      log,
      metrics,
      excludePatterns: flags.excludeInterfaces,
      reannounceIntervalMs: flags.reannounceIntervalMs,
      conflictProbeMs: flags.conflictProbeMs,
      onConflict: (c) => void this.reportConflict(c),
      scan: deps.scan,
      openSocket: deps.openSocket,
    });
    this.strictArp = new StrictArpCheck({
      core: deps.core,
      node: flags.nodeName,
      nodeUid: () => this.nodes?.get(flags.nodeName)?.metadata?.uid,
      log,
      metrics,
      events: deps.events,
      interfaces: () => this.announcer.interfaces(),
      proxyModeUrl: flags.kubeProxyModeUrl,
    });
  }

  /** Ready once informers synced and the Lease is held. */
  isReady(): boolean {
    return this.ready;
  }

  /** The VIPs this node announces now. */
  ownedIps(): string[] {
    return this.announcer.ownedIps();
  }

  async start(): Promise<void> {
    const { kc, core, discovery, coordination, flags, log, metrics } = this.d;
    const markDirty = () => {
      this.dirty = true;
    };
    this.services = startInformer<V1Service>({ kc, path: "/api/v1/services", list: () => core.listServiceForAllNamespaces(), log, onChange: markDirty });
    this.slices = startInformer<V1EndpointSlice>({
      kc,
      path: "/apis/discovery.k8s.io/v1/endpointslices",
      list: () => discovery.listEndpointSliceForAllNamespaces(),
      log,
      onChange: markDirty,
    });
    this.nodes = startInformer<V1Node>({ kc, path: "/api/v1/nodes", list: () => core.listNode(), log, onChange: markDirty });
    this.leases = startInformer<V1Lease>({
      kc,
      path: `/apis/coordination.k8s.io/v1/namespaces/${flags.namespace}/leases`,
      labelSelector: speakerLeaseSelector,
      list: () => coordination.listNamespacedLease({ namespace: flags.namespace, labelSelector: speakerLeaseSelector }),
      log,
      onChange: (lease, kind) => this.onLease(lease, kind),
    });
    this.configMaps = startInformer<V1ConfigMap>({
      kc,
      path: `/api/v1/namespaces/${flags.namespace}/configmaps`,
      fieldSelector: `metadata.name=${flags.configMap}`,
      list: () => core.listNamespacedConfigMap({ namespace: flags.namespace, fieldSelector: `metadata.name=${flags.configMap}` }),
      log,
      onChange: markDirty,
    });

    await this.announcer.rescan();
    this.ownLease = await startOwnLease({
      coordination,
      namespace: flags.namespace,
      node: flags.nodeName,
      identity: this.d.identity,
      leaseDurationMs: flags.leaseDurationMs,
      renewIntervalMs: flags.leaseRenewMs,
      log,
      onStateChange: (may, reason) => {
        metrics.fenced.set(may ? 0 : 1);
        if (!may) log.error({ reason }, "not announcing: own lease not held");
        else log.info({ reason }, "own lease held");
        this.dirty = true;
        this.tick();
      },
      onRenewFailure: () => metrics.leaseRenewFailures.inc(),
      annotations: () => ({
        [refusedAnnotation]: String(flags.strictArp === "refuse" && this.strictArp.failing()),
        [hearsAnnotation]: this.liveness.heardNow(performance.now()).join(","),
      }),
    });
    this.heartbeat = await openHeartbeatChannel({
      node: flags.nodeName,
      identity: this.d.identity,
      port: flags.heartbeatPort,
      intervalMs: flags.heartbeatIntervalMs,
      peers: () => this.peerAddresses(),
      onHeartbeat: (hb) => {
        const now = performance.now();
        this.liveness.heard(hb.node, now);
        if (hb.leaving) {
          this.liveness.markLeaving(hb.node, hb.identity);
          this.tick();
        }
      },
      onDrop: (reason) => metrics.heartbeatsDropped.inc({ reason }),
      onError: (err) => log.warn({ err: err.message }, "heartbeat channel error"),
    });

    await Promise.all([this.services.synced, this.slices.synced, this.nodes.synced, this.leases.synced, this.configMaps.synced]);
    await this.strictArp.run().catch((err: unknown) => log.warn({ err: String(err) }, "strictARP check failed to run"));
    this.ready = true;
    this.dirty = true;
    this.tick();
    this.every(livenessTickMs, () => this.tick());
    this.every(flags.interfaceRescanMs, () => {
      this.announcer.rescan().catch((err: unknown) => log.warn({ err: String(err) }, "interface rescan failed"));
    });
    this.every(flags.strictArpCheckMs, () => {
      this.strictArp.run().then(
        () => (this.dirty = true),
        (err: unknown) => log.warn({ err: String(err) }, "strictARP check failed to run"),
      );
    });
    log.info({ node: flags.nodeName, identity: this.d.identity, interfaces: this.announcer.interfaces() }, "speaker started");
  }

  /** Graceful shutdown: stop answering, tell peers, release the Lease. */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.ready = false;
    for (const t of this.timers) clearInterval(t);
    this.serviceEvents.clear();
    this.announcer.setOwned(new Set());
    await this.heartbeat?.announceLeaving();
    await this.ownLease?.release();
    await this.heartbeat?.close();
    this.announcer.close();
    await Promise.all([this.services, this.slices, this.nodes, this.leases, this.configMaps].map((i) => i?.stop()));
    this.d.log.info({ node: this.d.flags.nodeName }, "speaker stopped");
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private onLease(lease: V1Lease, kind: "add" | "update" | "delete"): void {
    const node = nodeOfLease(lease);
    if (!node) return;
    if (kind === "delete") this.liveness.forgetLease(node);
    else {
      const hears = lease.metadata?.annotations?.[hearsAnnotation];
      if (hears !== undefined) this.liveness.observePeerView(node, new Set(hears.split(",").filter(Boolean)));
      this.liveness.observeLease(
        node,
        {
          holderIdentity: lease.spec?.holderIdentity ?? "",
          renewTime: lease.spec?.renewTime ? new Date(lease.spec.renewTime).toISOString() : "",
          resourceVersion: lease.metadata?.resourceVersion ?? "",
          leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
        },
        performance.now(),
      );
    }
    // A renewal only moves liveness, which tick() compares on its own; the election reads nothing
    // else from Leases but the strictARP refusal. Recomputing every Service on every peer's renewal
    // would cost O(Services) per node per second.
    const refused = kind === "delete" ? undefined : (lease.metadata?.annotations?.[refusedAnnotation] ?? "");
    if (kind !== "update" || this.refusedByNode.get(node) !== refused) this.dirty = true;
    if (refused === undefined) this.refusedByNode.delete(node);
    else this.refusedByNode.set(node, refused);
  }

  /** Heartbeat targets: the InternalIP (else ExternalIP) of every other node that runs a speaker. */
  private peerAddresses(): string[] {
    const out: string[] = [];
    for (const lease of this.leases?.list() ?? []) {
      const node = nodeOfLease(lease);
      if (!node || node === this.d.flags.nodeName) continue;
      const addresses = this.nodes.get(node)?.status?.addresses ?? [];
      const address = addresses.find((a) => a.type === "InternalIP") ?? addresses.find((a) => a.type === "ExternalIP");
      if (address?.address) out.push(address.address);
    }
    return out;
  }

  /** Recomputes ownership when inputs or liveness changed. Cheap when nothing did. */
  private tick(): void {
    if (!this.ready || this.stopping) return;
    const now = performance.now();
    const live = this.liveness.liveSpeakers(now);
    const liveKey = [...live].sort().join(",");
    const fast = this.liveness.fastPath(now);
    const fastKey = `${fast.trusted}`;
    if (fastKey !== this.fastPathKey) {
      this.fastPathKey = fastKey;
      this.d.metrics.fastPathTrusted.set(fast.trusted ? 1 : 0);
      if (fast.trusted) this.d.log.info({ heard: fast.heard, leaseLive: fast.leaseLive }, "heartbeat fast path trusted");
      else this.d.log.warn({ reason: fast.reason }, "heartbeat fast path not trusted: failover waits for lease expiry");
    }
    const cutOff = fast.trusted ? undefined : this.liveness.excludedByMajority(now);
    if (cutOff !== this.cutOff) {
      if (cutOff) this.d.log.error({ reason: cutOff }, "cut off from the majority of speakers: not announcing until heartbeats return");
      else if (this.cutOff) this.d.log.info({}, "no longer cut off from the majority of speakers");
      this.cutOff = cutOff;
      this.dirty = true;
    }
    if (liveKey !== this.liveKey) {
      if (this.liveKey !== "") this.d.log.info({ live: [...live].sort(), fastPath: fast.trusted }, "live speakers changed");
      this.liveKey = liveKey;
      this.dirty = true;
      this.announcer.handoverInProgress();
      this.d.metrics.liveSpeakers.set(live.size);
    }
    if (!this.dirty) return;
    this.dirty = false;
    this.recompute(live);
  }

  private recompute(live: Set<string>): void {
    const { flags, log, metrics } = this.d;
    this.refreshConfig();
    const nodes: NodeInfo[] = this.nodes.list().map((n) => ({
      name: n.metadata?.name ?? "",
      labels: n.metadata?.labels,
      conditions: (n.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status })),
    }));
    const refused = new Set<string>();
    for (const lease of this.leases.list()) {
      const node = nodeOfLease(lease);
      if (node && lease.metadata?.annotations?.[refusedAnnotation] === "true") refused.add(node);
    }
    if (flags.strictArp === "refuse" && this.strictArp.failing()) refused.add(flags.nodeName);

    if (!flags.ignoreExcludeLb && everyNodeExcludedByLabel(nodes)) {
      if (!this.warnedAllExcluded) {
        this.warnedAllExcluded = true;
        log.error(
          { label: "node.kubernetes.io/exclude-from-external-load-balancers" },
          "every node carries the exclude-from-external-load-balancers label, so no IP is announced; remove the label (kubectl label node NAME node.kubernetes.io/exclude-from-external-load-balancers-) or start speakers with --ignore-exclude-lb",
        );
        void this.d.events.record(
          this.nodeTarget(),
          "Warning",
          "AllNodesExcluded",
          "Every node carries node.kubernetes.io/exclude-from-external-load-balancers, so no LoadBalancer IP is announced. Remove the label or run the speaker with --ignore-exclude-lb",
        );
      }
    } else this.warnedAllExcluded = false;

    const plans = planAnnouncements(this.announcedServices(), nodes, live, { ignoreExcludeLb: flags.ignoreExcludeLb, strictArpRefusedNodes: refused });
    const mine = new Set<string>();
    const reasons = new Map<string, string>();
    for (const plan of plans.values()) {
      if (plan.owner === flags.nodeName) mine.add(plan.ip);
      reasons.set(plan.ip, plan.owner ? `owner ${plan.owner}` : `nobody: ${plan.reason}`);
    }
    for (const [ip, why] of reasons) {
      if (this.previousReasons.get(ip) !== why) log.debug({ ip, election: why }, "election result");
    }
    this.previousReasons = reasons;

    const mayAnnounce = (this.ownLease?.mayAnnounce() ?? false) && this.cutOff === undefined;
    const { gained, lost } = this.announcer.setOwned(mayAnnounce ? mine : new Set());
    for (const ip of lost) {
      for (const label of this.announcedLabels.get(ip) ?? []) metrics.announced.remove({ ...label, protocol: "layer2", node: flags.nodeName });
      this.announcedLabels.delete(ip);
      log.info({ ip, election: reasons.get(ip) ?? "service gone" }, "stopped announcing ip");
    }
    for (const ip of gained) {
      const plan = plans.get(ip)!;
      const labels = plan.services.map((s) => ({ service: s.key, ip }));
      this.announcedLabels.set(ip, labels);
      for (const label of labels) metrics.announced.set({ ...label, protocol: "layer2", node: flags.nodeName }, 1);
      for (const svc of plan.services) this.queueServiceEvent(svc.key, "nodeAssigned", `announcing from node "${flags.nodeName}" with protocol "layer2"`);
    }
  }

  /**
   * Sends a Normal Event on a Service through a bounded queue: gaining thousands of VIPs at once must
   * not become thousands of concurrent API requests, which would delay our own Lease renewals until
   * we fence ourselves.
   */
  private queueServiceEvent(key: string, reason: string, message: string): void {
    const target = this.serviceTarget(key);
    if (this.serviceEvents.push(() => this.d.events.record(target, "Normal", reason, message))) return;
    this.droppedServiceEvents++;
    const now = performance.now();
    if (now - this.lastDropWarning < droppedEventWarnEveryMs) return;
    this.lastDropWarning = now;
    this.d.log.warn({ dropped: this.droppedServiceEvents, queued: maxQueuedServiceEvents }, "too many Service Events queued, dropping new ones");
  }

  private refreshConfig(): void {
    const cm = this.configMaps.get(this.d.flags.configMap, this.d.flags.namespace);
    const text = cm?.data?.config ?? "";
    if (text === this.appliedConfig) return;
    const parsed = parseConfig(text);
    if (!parsed.ok) {
      this.d.log.error({ errors: parsed.errors }, "config (re)load failed, keeping the last good config");
      this.appliedConfig = text;
      return;
    }
    this.pools = parsed.config.pools;
    this.appliedConfig = text;
  }

  private inPools(ip: string): boolean {
    const parsed = parseIpValue(ip);
    return parsed.ok && this.pools.some((p) => p.ranges.some((r) => rangeContains(r, parsed.ip)));
  }

  /** Our Services with assigned IPs inside our pools, with their endpoints from EndpointSlices. */
  private announcedServices(): AnnouncedService[] {
    const endpoints = new Map<string, EndpointInfo[]>();
    for (const slice of this.slices.list()) {
      const svcName = slice.metadata?.labels?.[serviceNameLabel];
      if (!svcName) continue;
      const key = `${slice.metadata?.namespace}/${svcName}`;
      let list = endpoints.get(key);
      if (!list) endpoints.set(key, (list = []));
      for (const e of slice.endpoints ?? []) {
        list.push({ nodeName: e.nodeName, ready: e.conditions?.ready, serving: e.conditions?.serving });
      }
    }
    const out: AnnouncedService[] = [];
    for (const svc of this.services.list()) {
      if (!isOurService(svc, this.d.flags.lbClass)) continue;
      const ips = (svc.status?.loadBalancer?.ingress ?? [])
        .map((i) => (i.ip ? canonicalIp(i.ip) : undefined))
        .filter((ip): ip is string => ip !== undefined && this.inPools(ip));
      if (ips.length === 0) continue;
      const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
      out.push({ key, externalTrafficPolicy: svc.spec?.externalTrafficPolicy, ips, endpoints: endpoints.get(key) ?? [] });
    }
    return out;
  }

  private async reportConflict(c: ObservedConflict): Promise<void> {
    const key = `${c.ip}|${c.mac}`;
    const now = performance.now();
    if (now - (this.lastConflictEvent.get(key) ?? -Infinity) < conflictEventEveryMs) return;
    this.lastConflictEvent.set(key, now);
    const { flags, log } = this.d;
    const services = this.announcedLabels.get(c.ip)?.map((l) => l.service) ?? [];
    const message =
      `${c.mac} also answers for ${c.ip}, which node "${flags.nodeName}" announces on ${c.iface} (seen in ${c.via}). ` +
      "Likely causes: kube-proxy IPVS without strictARP (every node's kernel answers), a split brain between speakers, or another host using the IP";
    log.error({ ip: c.ip, mac: c.mac, interface: c.iface, via: c.via, services }, "ARP conflict: another MAC claims an announced IP");
    await this.d.events.record(this.nodeTarget(), "Warning", "ARPConflict", message);
    for (const key of services) await this.d.events.record(this.serviceTarget(key), "Warning", "ARPConflict", message);
  }

  private nodeTarget(): EventTarget {
    const name = this.d.flags.nodeName;
    return { kind: "Node", apiVersion: "v1", name, uid: this.nodes?.get(name)?.metadata?.uid };
  }

  private serviceTarget(key: string): EventTarget {
    const [namespace, name] = key.split("/", 2);
    return { kind: "Service", apiVersion: "v1", name, namespace, uid: this.services.get(name, namespace)?.metadata?.uid };
  }
}
