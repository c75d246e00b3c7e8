import { performance } from "node:perf_hooks";
import type { Logger } from "../shared/log.ts";
import { isKept, nothingLoaded, type ConfigState } from "../shared/config/config-source.ts";
import type { KubeApi } from "../shared/kube/client/kube-api.ts";
import { configMaps, endpointSlices, leases, nodes, services } from "../shared/kube/client/resource-types.ts";
import type { EventRecorder, EventTarget } from "../shared/kube/event-recorder.ts";
import { startInformer, type ResilientInformer } from "../shared/kube/informer.ts";
import { projectConfigMap, type ConfigMapObject } from "../shared/kube/objects/config-map.ts";
import { projectLease, type LeaseObject } from "../shared/kube/objects/lease.ts";
import { projectNode, type NodeObject } from "../shared/kube/objects/node.ts";
import type { ServiceObject } from "../shared/kube/objects/service.ts";
import { Announcer, type ObservedConflict } from "./l2/announcer.ts";
import { desiredAnnouncements, type DesiredAnnouncements, type SpeakerSnapshot } from "./election/desired-announcements.ts";
import { everyNodeExcludedByLabel } from "./election/election.ts";
import type { SpeakerFlags } from "./flags.ts";
import { openHeartbeatChannel, type HeartbeatChannel } from "./cluster/heartbeat-channel.ts";
import { watchHeartbeatKeys, type HeartbeatKeyWatch } from "./cluster/heartbeat-key-watch.ts";
import type { InterfaceInfo } from "./l2/interfaces.ts";
import { heartbeatDatagramsPerSecond, heartbeatLoadAdvice } from "./cluster/heartbeat-load.ts";
import { MembershipEvidence } from "./cluster/membership-evidence.ts";
import { viewMembership, type MembershipView } from "./cluster/membership-view.ts";
import type { SpeakerMetrics } from "./metrics.ts";
import { startOwnLease, type OwnLease } from "./cluster/own-lease.ts";
import { nodeOfLease, speakerLeaseSelector } from "./cluster/speaker-lease-names.ts";
import type { PacketSocket, PacketSocketOptions } from "./l2/packet-socket.ts";
import { buildSnapshot, strictArpRefusedAnnotation } from "./snapshot/speaker-snapshot.ts";
import { projectSpeakerService } from "./snapshot/service-projection.ts";
import { projectSlice, type SliceObject } from "./snapshot/slice-projection.ts";
import { rebuildWaitMs, type RebuildTiming } from "./rebuild-pacing.ts";
import { announcedL2Services } from "./status/service-l2-status.ts";
import { startServiceL2StatusWriter, type ServiceL2StatusWriter } from "./status/service-l2-status-writer.ts";
import { startMetallbInformer, type MetallbObject } from "../shared/kube/metallb-resources.ts";
import { StrictArpCheck } from "./strictarp/strict-arp-check.ts";
import { emptyGate, gateTakeovers, type GateState } from "./cluster/takeover-gate.ts";

const conflictEventEveryMs = 60_000;
const previousReleaseHearsAnnotation = "baremetal-lb.io/hears";
/** The EventRecorder's queue (client-go queues 1000 and drops the rest): named in the drop warning. */
const outageLogEveryMs = 30_000;
const dropLogEveryMs = 10_000;
const noChange: { gained: string[]; lost: string[] } = { gained: [], lost: [] };
/** IPs named in the "not announced" log line; the metric has the count. */
const unadvertisedLogSample = 10;

export interface SpeakerDeps {
  api: KubeApi;
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
 * One node's speaker, as data flowing one way:
 *
 *   informers + config source ─▶ immutable snapshot (snapshot/speaker-snapshot.ts)
 *   heartbeats + Leases ─▶ membership evidence ─▶ view (cluster/membership-view.ts: members, quorum, live)
 *   desiredAnnouncements(snapshot, view) ─▶ takeover gate ─▶ announcer.setOwned (the diff, at the edge)
 *
 * The decision runs when an input changes and at the view's next deadline, never on a poll. An API
 * outage does not silence it: membership freezes and heartbeat quorum decides (README, "How
 * failover works"). On SIGTERM it stops answering, tells its peers it is leaving and releases its Lease.
 *
 * @example
 * const speaker = new Speaker(deps);
 * await speaker.start();
 * process.on("SIGTERM", () => speaker.shutdown());
 */
export class Speaker {
  private readonly d: SpeakerDeps;
  private readonly evidence: MembershipEvidence;
  private readonly announcer: Announcer;
  private readonly strictArp: StrictArpCheck;
  private readonly startedAt = Date.now();
  private services!: ResilientInformer<ServiceObject>;
  private slices!: ResilientInformer<SliceObject>;
  private nodes!: ResilientInformer<NodeObject>;
  private leases!: ResilientInformer<LeaseObject>;
  private configMaps!: ResilientInformer<ConfigMapObject>;
  private ipAddressPools!: ResilientInformer<MetallbObject>;
  private l2Advertisements!: ResilientInformer<MetallbObject>;
  private keyWatch: HeartbeatKeyWatch | undefined;
  /** Writes one ServiceL2Status per Service this node announces, at a bounded rate, never in the way. */
  private l2Status: ServiceL2StatusWriter | undefined;
  /** The announced set changed since the last ServiceL2Status sync. */
  private l2StatusDirty = true;
  private ownLease: OwnLease | undefined;
  private heartbeat: HeartbeatChannel | undefined;
  private config: ConfigState = nothingLoaded;
  private snapshot: SpeakerSnapshot | undefined;
  private snapshotDirty = true;
  private desired: DesiredAnnouncements | undefined;
  private desiredKey = "";
  private gate: GateState = emptyGate;
  /** What the announcer was last given: the gated set, for this decision. */
  private applied: { announce: ReadonlySet<string>; desired: DesiredAnnouncements } | undefined;
  private view: MembershipView | undefined;
  private synced = false;
  private stopping = false;
  private decideQueued = false;
  /** Informer changes wait for this timer when they came too soon after the last rebuild (rebuild-pacing.ts). */
  private inputTimer: NodeJS.Timeout | undefined;
  private lastRebuild: RebuildTiming | undefined;
  private deadline: { at: number; timer: NodeJS.Timeout } | undefined;
  private warnedAllExcluded = false;
  private outageSince: number | undefined;
  private lastOutageLog = -Infinity;
  private readonly lastDropLog = new Map<string, number>();
  /** The Services each announced IP was announced for: the labels of its metallb_speaker_announced series. */
  private readonly announcedServices = new Map<string, readonly string[]>();
  private readonly lastConflictEvent = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private rescanTimer: NodeJS.Timeout | undefined;
  private rescanInFlight: Promise<void> | undefined;
  private previousReasons: ReadonlyMap<string, string> = new Map();
  private previousUnadvertised = "";
  /** The last heartbeat-load warning (cluster/heartbeat-load.ts), so each is logged once. */
  private heartbeatAdvice: string | undefined;

  constructor(deps: SpeakerDeps) {
    this.d = deps;
    const { flags, log, metrics } = deps;
    this.evidence = new MembershipEvidence(flags.nodeName, flags.leaseRenewMs);
    this.evidence.selfStartedAt = this.startedAt;
    this.announcer = new Announcer({
      log,
      metrics,
      excludePatterns: flags.excludeInterfaces,
      reannounceIntervalMs: flags.reannounceIntervalMs,
      // A frame read past the quorum deadline (after an event-loop stall): decide (on the heartbeats that
      // arrived meanwhile) before answering it.
      refreshDeadline: () => this.decide(),
      conflictProbeMs: flags.conflictProbeMs,
      onConflict: (c) => void this.reportConflict(c),
      scan: deps.scan,
      openSocket: deps.openSocket,
    });
    this.strictArp = new StrictArpCheck({
      api: deps.api,
      node: flags.nodeName,
      nodeUid: () => this.nodes?.get(flags.nodeName)?.metadata.uid,
      log,
      metrics,
      events: deps.events,
      interfaces: () => this.announcer.interfaces(),
      proxyModeUrl: flags.kubeProxyModeUrl,
    });
  }

  /** Ready once informers synced and a packet socket is open: the speaker is a candidate for owning VIPs. */
  isReady(): boolean {
    return this.notReadyReason() === undefined;
  }

  /** Why the speaker is not ready (for /readyz and the log), or undefined when it is. */
  notReadyReason(): string | undefined {
    if (this.stopping) return "shutting down";
    if (!this.synced) return "informers not synced or own lease not held yet";
    if (!this.socketsFailing()) return undefined;
    const failures = [...this.announcer.openFailures()].map(([name, err]) => `${name}: ${err}`);
    return `no packet socket could be opened (${failures.join("; ")})`;
  }

  /**
   * Every eligible interface failed to open a packet socket (no CAP_NET_RAW, say): a VIP this node
   * won would be dark, so it is not ready and stays out of the election. (With no eligible interface
   * at all, an operator's --exclude-interfaces choice, it stays in, as before, and warns.)
   */
  private socketsFailing(): boolean {
    return this.announcer.interfaces().length === 0 && this.announcer.openFailures().size > 0;
  }

  /** The VIPs this node announces now. */
  ownedIps(): string[] {
    return this.announcer.ownedIps();
  }

  async start(): Promise<void> {
    const { api, flags, log, metrics } = this.d;
    const inputChanged = () => this.queueInputRebuild();
    // Each informer caches its kind's projection (shared/kube/objects/; Services and EndpointSlices, tens of
    // thousands in a large cluster, in the speaker's own, narrower ones): only the fields read here.
    this.services = startInformer({ api, type: services, project: projectSpeakerService, log, onChange: inputChanged });
    this.slices = startInformer({ api, type: endpointSlices, project: projectSlice, log, onChange: inputChanged });
    this.nodes = startInformer({ api, type: nodes, project: projectNode, log, onChange: inputChanged });
    this.leases = startInformer({
      api,
      type: leases,
      namespace: flags.namespace,
      labelSelector: speakerLeaseSelector,
      project: projectLease,
      log,
      onChange: (lease, kind) => this.onLease(lease, kind),
    });
    this.configMaps = startInformer({
      api,
      type: configMaps,
      namespace: flags.namespace,
      fieldSelector: `metadata.name=${flags.configMap}`,
      project: projectConfigMap,
      log,
      onChange: inputChanged,
    });
    // MetalLB's CRs; without their CRDs the lists are empty and synced (shared/kube/metallb-resources.ts).
    const metallbInformer = (plural: "ipaddresspools" | "l2advertisements") => startMetallbInformer({ api, namespace: flags.namespace, plural, log, onChange: inputChanged });
    this.ipAddressPools = metallbInformer("ipaddresspools");
    this.l2Advertisements = metallbInformer("l2advertisements");
    this.keyWatch = watchHeartbeatKeys({ api, namespace: flags.namespace, log });
    const pod = process.env.POD_NAME && process.env.POD_UID ? { name: process.env.POD_NAME, uid: process.env.POD_UID } : undefined;
    this.l2Status = startServiceL2StatusWriter({ api, namespace: flags.namespace, node: flags.nodeName, pod, log, registry: metrics.registry });

    // While the informers list: the interfaces (then the strictARP check, which reads their sysctls and
    // puts its Events on our Node, named with its uid) and our Lease, side by side.
    const rescanned = this.announcer.rescan();
    const strictArpChecked = Promise.all([rescanned, this.nodes.synced]).then(() => this.checkStrictArp());
    const ownLease = startOwnLease({
      api,
      namespace: flags.namespace,
      node: flags.nodeName,
      identity: this.d.identity,
      leaseDurationMs: flags.leaseDurationMs,
      renewIntervalMs: flags.leaseRenewMs,
      log,
      onRenewed: () => {
        this.evidence.apiContact(performance.now());
        this.queueDecide();
      },
      onSupplanted: () => this.queueDecide(),
      onRenewFailure: () => metrics.leaseRenewFailures.inc(),
      annotations: () => ({
        [strictArpRefusedAnnotation]: String(this.selfRefused()),
        // Read by speakers of the previous release during a rolling upgrade: a speaker that is not in a
        // majority's "hears" steps down, so an old speaker that cannot hear our authenticated heartbeats
        // does not answer beside the node that took its VIPs.
        [previousReleaseHearsAnnotation]: (this.view?.connected ?? [flags.nodeName]).join(","),
      }),
      ownerNode: () => {
        const uid = this.nodes?.get(flags.nodeName)?.metadata.uid;
        return uid ? { name: flags.nodeName, uid } : undefined;
      },
    });
    [, this.ownLease] = await Promise.all([rescanned, ownLease]);
    this.heartbeat = await openHeartbeatChannel({
      node: flags.nodeName,
      identity: this.d.identity,
      startedAt: this.startedAt,
      port: flags.heartbeatPort,
      intervalMs: flags.heartbeatIntervalMs,
      relayWithinMs: flags.heartbeatTimeoutMs,
      stallLimitMs: flags.heartbeatStallLimitMs,
      peers: () => this.peerAddresses(),
      keys: () => this.keyWatch?.keys(),
      onSent: (seq, at, candidate) => this.evidence.sent(seq, at, candidate),
      onHeartbeat: (hb, _from, at) => this.evidence.heartbeat(hb, at),
      // One decision per batch: after a stall the whole backlog is evidence first.
      onBatch: () => this.decide(),
      onDrop: (reason: string, detail?: { from?: string; message?: string }) => {
        metrics.heartbeatsDropped.inc({ reason });
        const now = performance.now();
        if (now - (this.lastDropLog.get(reason) ?? -Infinity) < dropLogEveryMs) return;
        this.lastDropLog.set(reason, now);
        log.warn({ reason, from: detail?.from, detail: detail?.message }, "heartbeat dropped");
      },
      onStall: (stalledMs) =>
        log.warn(
          { stalledMs, stallLimitMs: flags.heartbeatStallLimitMs },
          "event loop stalled longer than --heartbeat-stall-limit: heartbeats paused meanwhile, so peers may have taken this node's VIPs",
        ),
      onError: (err) => log.warn({ err: err.message }, "heartbeat channel error"),
    });

    await Promise.all([
      this.services.synced,
      this.slices.synced,
      this.nodes.synced,
      this.leases.synced,
      this.configMaps.synced,
      this.ipAddressPools.synced,
      this.l2Advertisements.synced,
      this.keyWatch.synced,
    ]);
    // Under --strict-arp=refuse the first decision needs the verdict; under warn it only reports, so
    // answering for our VIPs does not wait for it (reading kube-proxy's /proxyMode may take up to 1 s).
    if (flags.strictArp === "refuse") await strictArpChecked;
    this.synced = true;
    this.snapshotDirty = true;
    this.decide();
    this.heartbeat.sendNow();
    this.scheduleRescan();
    this.every(flags.strictArpCheckMs, () => void this.checkStrictArp());
    this.every(60_000, () => this.evidence.prune(performance.now(), 10 * 60_000));
    log.info({ node: flags.nodeName, identity: this.d.identity, interfaces: this.announcer.interfaces() }, "speaker started");
  }

  /**
   * Runs the strictARP check. Under --strict-arp=refuse a change of this node's verdict changes the
   * election; otherwise the snapshot stays (rebuilding it is O(Services)).
   */
  private checkStrictArp(): Promise<void> {
    return this.strictArp.run().then(
      () => {
        if (this.snapshot?.strictArpRefused.has(this.d.flags.nodeName) === this.selfRefused()) return;
        this.snapshotDirty = true;
        this.queueDecide();
      },
      (err: unknown) => this.d.log.warn({ err: String(err) }, "strictARP check failed to run"),
    );
  }

  /** This node fails the strictARP check and --strict-arp=refuse keeps it out of the election. */
  private selfRefused(): boolean {
    return this.d.flags.strictArp === "refuse" && this.strictArp.failing();
  }

  /** Graceful shutdown: stop answering, tell peers, release the Lease. */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.rescanTimer);
    clearTimeout(this.inputTimer);
    if (this.deadline) clearTimeout(this.deadline.timer);
    this.announcer.setOwned(new Set());
    await this.heartbeat?.announceLeaving();
    await this.ownLease?.release();
    await this.heartbeat?.close();
    this.announcer.close();
    await Promise.all([this.services, this.slices, this.nodes, this.leases, this.configMaps, this.ipAddressPools, this.l2Advertisements].map((i) => i?.stop()));
    await this.keyWatch?.stop();
    await this.l2Status?.stop();
    this.d.log.info({ node: this.d.flags.nodeName }, "speaker stopped");
  }

  /** Synced, not stopping, and this node's Lease is ours: we may own VIPs once we have quorum. */
  private isCandidate(): boolean {
    // Without an open packet socket a won VIP would be dark: stay out of the election instead.
    return this.synced && !this.stopping && !this.socketsFailing() && !(this.ownLease?.supplanted() ?? false);
  }

  /** Every peer as the evidence of the decision just made takes it: incarnation, and candidate (not once it left). */
  private *decidedPeers(): Iterable<{ node: string; startedAt: number; candidate: boolean }> {
    for (const [node, rec] of this.evidence.peers) {
      yield { node, startedAt: rec.startedAt, candidate: rec.candidate && rec.leftStartedAt < rec.startedAt };
    }
  }

  /**
   * What our heartbeats say: a candidate that holds quorum. A speaker without quorum says so, so
   * the others stop counting it live and take its VIPs even when they still hear it (a node that
   * receives nothing but still sends). The decision runs first, so the announcer is already quiet
   * when a datagram saying "not a candidate" leaves.
   */
  private advertisedCandidate(): boolean {
    return this.isCandidate() && (this.view?.quorum ?? false);
  }

  /**
   * Re-reads interfaces every --interface-rescan, and every 250 ms while none is eligible (a link that
   * was down comes back within a heartbeat or two, not ten seconds later).
   */
  private scheduleRescan(): void {
    if (this.stopping) return;
    const ms = this.announcer.interfaces().length === 0 ? Math.min(250, this.d.flags.interfaceRescanMs) : this.d.flags.interfaceRescanMs;
    this.rescanTimer = setTimeout(() => {
      this.rescanNow().finally(() => this.scheduleRescan());
    }, ms);
    this.rescanTimer.unref();
  }

  private rescanNow(): Promise<void> {
    const wasFailing = this.socketsFailing();
    this.rescanInFlight ??= this.announcer
      .rescan()
      .catch((err: unknown) => this.d.log.warn({ err: String(err) }, "interface rescan failed"))
      .finally(() => {
        this.rescanInFlight = undefined;
        // Candidacy follows the open sockets: decide (and tell the peers) as soon as it changes.
        if (wasFailing !== this.socketsFailing()) {
          if (wasFailing) this.d.log.info({ interfaces: this.announcer.interfaces() }, "packet sockets open now: a candidate for VIPs again");
          this.queueDecide();
          setImmediate(() => this.heartbeat?.sendNow());
        }
      });
    return this.rescanInFlight;
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  /** An informer changed: rebuild from the inputs, at once or after the rest the last rebuild earned (rebuild-pacing.ts). */
  private queueInputRebuild(): void {
    if (this.inputTimer) return;
    const waitMs = rebuildWaitMs(this.lastRebuild, performance.now());
    if (waitMs <= 0) {
      this.snapshotDirty = true;
      this.queueDecide();
      return;
    }
    this.inputTimer = setTimeout(() => {
      this.inputTimer = undefined;
      this.snapshotDirty = true;
      this.queueDecide();
    }, Math.ceil(waitMs));
  }

  private queueDecide(): void {
    if (this.decideQueued) return;
    this.decideQueued = true;
    setImmediate(() => {
      this.decideQueued = false;
      this.decide();
    });
  }

  private onLease(lease: LeaseObject, kind: "add" | "update" | "delete"): void {
    const node = nodeOfLease(lease);
    if (!node) return;
    const now = performance.now();
    if (kind === "delete") this.evidence.leaseGone(node);
    else {
      this.evidence.lease(
        node,
        lease.spec.holderIdentity ?? "",
        lease.metadata.resourceVersion ?? "",
        // The holder's own duration: speakers may run with different --lease-duration during a change.
        (lease.spec.leaseDurationSeconds ?? 0) * 1000 || this.d.flags.leaseDurationMs,
        now,
      );
    }
    // The strictARP refusal is the only Lease field the snapshot reads; a plain renewal must not
    // rebuild it (that would cost O(Services) per node per second).
    const refused = lease.metadata.annotations?.[strictArpRefusedAnnotation];
    if (kind !== "update" || this.snapshot?.strictArpRefused.has(node) !== (refused === "true")) this.snapshotDirty = true;
    this.queueDecide();
  }

  /** Heartbeat targets: the InternalIP (else ExternalIP) of every other node that runs a speaker. */
  private peerAddresses(): string[] {
    const out: string[] = [];
    for (const lease of this.leases?.list() ?? []) {
      const node = nodeOfLease(lease);
      if (!node || node === this.d.flags.nodeName) continue;
      const addresses = this.nodes.get(node)?.status.addresses ?? [];
      const address = addresses.find((a) => a.type === "InternalIP") ?? addresses.find((a) => a.type === "ExternalIP");
      if (address) out.push(address.address);
    }
    return out;
  }

  /** One decision: view → desired → gate → apply. Cheap when nothing changed. */
  private decide(): void {
    if (!this.synced || this.stopping) return;
    const { flags, metrics } = this.d;
    // Never on less than what has arrived: after an event-loop stall the timers run before the heartbeats the
    // thread queued meanwhile are handed on, and a decision on the old evidence would step down for nothing.
    this.heartbeat?.takeQueued();
    const now = performance.now();
    const view = viewMembership(this.evidence, {
      nowMs: now,
      selfCandidate: this.isCandidate(),
      timing: { heartbeatIntervalMs: flags.heartbeatIntervalMs, heartbeatTimeoutMs: flags.heartbeatTimeoutMs, leaseRenewMs: flags.leaseRenewMs },
    });
    const previous = this.view;
    this.view = view;
    // Before anything is announced: nothing is claimed once the evidence for this quorum has lapsed.
    this.announcer.answerUntil(view.quorumUntil);
    const rebuilding = this.snapshotDirty || !this.snapshot;
    if (rebuilding) this.rebuildSnapshot();
    const liveKey = [...view.live].sort().join(",");
    const key = `${view.quorum}|${liveKey}`;
    if (this.snapshotDirty || key !== this.desiredKey || !this.desired) {
      this.snapshotDirty = false;
      this.desiredKey = key;
      this.desired = desiredAnnouncements(this.snapshot!, view, flags.nodeName, { ignoreExcludeLb: flags.ignoreExcludeLb });
      this.logReasons(this.desired.reasons);
      this.reportUnadvertised(this.desired);
      this.l2StatusDirty = true;
    }
    const gated = gateTakeovers(this.gate, {
      desired: this.desired.owned,
      owners: this.desired.owners,
      view,
      self: flags.nodeName,
      nowMs: now,
      nextSeq: this.heartbeat?.nextSeq() ?? 1,
    });
    this.gate = gated.state;
    const desired = this.desired;
    // The same set for the same decision changes nothing: skip the O(IPs) diff (most decisions, with thousands of IPs).
    const unchanged = this.applied?.announce === gated.announce && this.applied.desired === desired;
    const { gained, lost } = unchanged ? noChange : this.announcer.setOwned(gated.announce, (ip) => desired.interfaces.get(ip));
    this.applied = { announce: gated.announce, desired };
    // After the decision is applied: a heartbeat saying "not a candidate" leaves only once we are quiet, and a
    // peer's counter is acknowledged back to it only once this decision has taken it in.
    this.heartbeat?.setSelf(this.advertisedCandidate(), view.apiReachable);
    this.heartbeat?.setDecided(this.decidedPeers());
    if (this.l2StatusDirty || gained.length > 0 || lost.length > 0) {
      this.l2StatusDirty = false;
      this.l2Status?.sync(announcedL2Services(flags.nodeName, gated.announce, desired.plans));
    }
    if (rebuilding) {
      const endedAt = performance.now();
      this.lastRebuild = { endedAt, durationMs: endedAt - now };
    }
    this.reportMembership(previous, view, now);
    const liveChanged = previous !== undefined && [...previous.live].sort().join(",") !== liveKey;
    if (liveChanged) this.d.log.info({ live: [...view.live].sort(), quorum: view.quorum }, "live speakers changed");
    if (previous && (liveChanged || previous.quorum !== view.quorum)) {
      this.announcer.handoverInProgress();
      // After the view is applied: the datagram tells peers what we now do.
      setImmediate(() => this.heartbeat?.sendNow());
    }
    // Quorum regained after a silence is often a link that came back: look for it now.
    if (previous && !previous.quorum && view.quorum) void this.rescanNow();
    for (const ip of lost) {
      for (const service of this.announcedServices.get(ip) ?? []) metrics.announced.remove({ service, ip, protocol: "layer2", node: flags.nodeName });
      this.announcedServices.delete(ip);
      this.d.log.info({ ip, election: this.desired.reasons.get(ip) ?? "service gone" }, "stopped announcing ip");
    }
    const assigned = `announcing from node "${flags.nodeName}" with protocol "layer2"`;
    for (const ip of gained) {
      const services = this.desired.plans.get(ip)!.services.map((s) => s.key);
      this.announcedServices.set(ip, services);
      for (const service of services) {
        metrics.announced.set({ service, ip, protocol: "layer2", node: flags.nodeName }, 1);
        this.queueServiceEvent(service, "nodeAssigned", assigned);
      }
    }
    let next = view.nextChangeAt;
    if (gated.nextCheckAt !== undefined && (next === undefined || gated.nextCheckAt < next)) next = gated.nextCheckAt;
    this.armDeadline(next, now);
  }

  /** Runs the next decision at `at` (the view's next deadline), replacing a later one. */
  private armDeadline(at: number | undefined, now: number): void {
    if (at === undefined) return;
    if (this.deadline && this.deadline.at <= at && this.deadline.at > now) return;
    if (this.deadline) clearTimeout(this.deadline.timer);
    const timer = setTimeout(() => {
      this.deadline = undefined;
      this.decide();
    }, Math.max(0, Math.ceil(at - now)));
    timer.unref();
    this.deadline = { at, timer };
  }

  private rebuildSnapshot(): void {
    const { flags, log, metrics } = this.d;
    const built = buildSnapshot(
      {
        services: this.services.list(),
        slices: this.slices.list(),
        nodes: this.nodes.list(),
        leases: this.leases.list(),
        configMap: this.configMaps.get(flags.configMap, flags.namespace),
        ipAddressPools: this.ipAddressPools.list(),
        l2Advertisements: this.l2Advertisements.list(),
      },
      this.config,
      { namespace: flags.namespace, configMapName: flags.configMap, lbClass: flags.lbClass, selfRefused: this.selfRefused(), self: flags.nodeName },
    );
    this.config = built.config;
    this.snapshot = built.snapshot;
    const verdict = built.config.verdict;
    if (isKept(verdict)) {
      log.error({ cause: verdict.cause, reason: verdict.message, inForce: built.config.inForce?.source ?? null }, "config not applied, keeping the last good config");
      metrics.configRejections.inc({ cause: verdict.cause });
    } else if (verdict.kind === "loaded") log.info({ source: built.config.inForce?.source }, "config loaded");
    metrics.configStale.set(built.config.refusal ? 1 : 0);
    if (!flags.ignoreExcludeLb && everyNodeExcludedByLabel(built.snapshot.nodes)) {
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
  }

  private logReasons(reasons: ReadonlyMap<string, string>): void {
    for (const [ip, why] of reasons) {
      if (this.previousReasons.get(ip) !== why) this.d.log.debug({ ip, election: why }, "election result");
    }
    this.previousReasons = reasons; // immutable, as all of DesiredAnnouncements
  }

  /**
   * IPs assigned from a pool that no L2Advertisement selects (or whose Service no advertisement's
   * serviceSelectors match) are never announced, as in MetalLB: a metric, and a log line when the set
   * changes. The controller puts the Warning Event on the Service.
   */
  private reportUnadvertised(desired: DesiredAnnouncements): void {
    this.d.metrics.unadvertisedIps.set(desired.unadvertised.length);
    const key = desired.unadvertised.join(",");
    if (key === this.previousUnadvertised) return;
    this.previousUnadvertised = key;
    if (desired.unadvertised.length === 0) {
      this.d.log.info({}, "every assigned ip has an L2Advertisement");
      return;
    }
    const sample = desired.unadvertised.slice(0, unadvertisedLogSample).map((ip) => ({ ip, reason: desired.reasons.get(ip) }));
    this.d.log.warn(
      { count: desired.unadvertised.length, ips: sample },
      "assigned ips that no L2Advertisement applies to are not announced; add an L2Advertisement selecting their pool (and Service)",
    );
  }

  /** Logs, metrics and Events for membership: quorum changes and announcing through an API outage. */
  private reportMembership(previous: MembershipView | undefined, view: MembershipView, now: number): void {
    const { log, metrics, flags } = this.d;
    metrics.apiReachable.set(view.apiReachable ? 1 : 0);
    metrics.quorumSize.set(view.connected.length);
    metrics.members.set(view.members.length);
    metrics.heartbeatRate.set(heartbeatDatagramsPerSecond(view.members.length, flags.heartbeatIntervalMs));
    if (view.members.length !== previous?.members.length) {
      const advice = heartbeatLoadAdvice(view.members.length, flags.heartbeatIntervalMs, flags.heartbeatTimeoutMs);
      if (advice !== undefined && advice !== this.heartbeatAdvice) log.warn({ members: view.members.length }, advice);
      this.heartbeatAdvice = advice;
    }
    metrics.quorum.set(view.quorum ? 1 : 0);
    metrics.liveSpeakers.set(view.live.size);
    metrics.silentMembers.set(view.silentMembers.length);
    const silent = view.silentMembers.join(",");
    if (silent !== (previous?.silentMembers.join(",") ?? "")) {
      if (silent)
        log.warn(
          { silent: view.silentMembers, members: view.members },
          "members not heard and their Leases not renewed still count against quorum; if a node is gone for good, delete it (kubectl delete node NAME) and its speaker Lease goes with it",
        );
      else log.info({}, "no silent members");
    }
    if (!previous || previous.quorum !== view.quorum) {
      if (view.quorum) log.info({ connected: view.connected, members: view.members, reason: view.quorumReason }, "heartbeat quorum held");
      else
        log.error(
          { connected: view.connected, members: view.members, reason: view.quorumReason, heartbeatPort: flags.heartbeatPort },
          "no heartbeat quorum: not announcing; check that UDP heartbeats reach every node and the memberlist Secret is the same everywhere",
        );
    }
    if (!view.apiReachable) {
      this.outageSince ??= now - view.apiUnreachableForMs;
      const seconds = Math.round(view.apiUnreachableForMs / 1000);
      const quorumText = `${view.connected.length} of ${view.members.length}`;
      if (now - this.lastOutageLog >= outageLogEveryMs || previous?.apiReachable !== false || previous.quorum !== view.quorum) {
        this.lastOutageLog = now;
        if (view.quorum) {
          log.warn({ apiUnreachableSeconds: seconds, quorum: quorumText, owned: this.gate.announced.size }, `API unreachable for ${seconds} s; announcing on heartbeat quorum ${quorumText}`);
          if (previous?.apiReachable !== false || previous.quorum !== view.quorum) {
            void this.d.events.record(this.nodeTarget(), "Warning", "APIUnreachable", `API unreachable for ${seconds} s; announcing on heartbeat quorum ${quorumText}`);
          }
        } else log.error({ apiUnreachableSeconds: seconds, quorum: quorumText }, `API unreachable for ${seconds} s and no heartbeat quorum (${quorumText}); not announcing`);
      }
    } else if (this.outageSince !== undefined) {
      const seconds = Math.round((now - this.outageSince) / 1000);
      this.outageSince = undefined;
      this.lastOutageLog = -Infinity;
      log.info({ outageSeconds: seconds }, "API reachable again");
      void this.d.events.record(this.nodeTarget(), "Normal", "APIReachable", `API reachable again after ${seconds} s; announced on heartbeat quorum meanwhile`);
    }
  }

  /**
   * A Normal Event on a Service. The EventRecorder queues it and writes at a bounded rate: gaining
   * thousands of VIPs at once does not become thousands of concurrent API requests.
   */
  private queueServiceEvent(key: string, reason: string, message: string): void {
    void this.d.events.record(this.serviceTarget(key), "Normal", reason, message);
  }

  private async reportConflict(c: ObservedConflict): Promise<void> {
    const key = `${c.ip}|${c.mac}`;
    const now = performance.now();
    if (now - (this.lastConflictEvent.get(key) ?? -Infinity) < conflictEventEveryMs) return;
    this.lastConflictEvent.set(key, now);
    const { flags, log } = this.d;
    const services = this.announcedServices.get(c.ip) ?? [];
    const message =
      `${c.mac} also answers for ${c.ip}, which node "${flags.nodeName}" announces on ${c.iface} (seen in ${c.via}). ` +
      "Likely causes: kube-proxy IPVS without strictARP (every node's kernel answers), a split brain between speakers, or another host using the IP";
    log.error({ ip: c.ip, mac: c.mac, interface: c.iface, via: c.via, services }, "ARP conflict: another MAC claims an announced IP");
    await this.d.events.record(this.nodeTarget(), "Warning", "ARPConflict", message);
    for (const key of services) await this.d.events.record(this.serviceTarget(key), "Warning", "ARPConflict", message);
  }

  private nodeTarget(): EventTarget {
    const name = this.d.flags.nodeName;
    return { kind: "Node", apiVersion: "v1", name, uid: this.nodes?.get(name)?.metadata.uid };
  }

  private serviceTarget(key: string): EventTarget {
    const [namespace, name] = key.split("/", 2);
    return { kind: "Service", apiVersion: "v1", name, namespace, uid: this.services.get(name, namespace)?.metadata.uid };
  }
}
