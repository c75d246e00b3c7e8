/**
 * A discrete-event model of a speaker cluster for the decision-logic model test: N speakers run the
 * real pure pieces (MembershipEvidence, viewMembership, desiredAnnouncements, gateTakeovers) over a
 * simulated LAN with per-link cuts, delays and loss, an API server that can be down for everyone or
 * cut from single nodes, speaker Leases, crashes, restarts, graceful stops and event-loop stalls.
 * Only the I/O is simulated; every decision is the production code's, made when speaker.ts makes
 * it: on every heartbeat and Lease event and at the view's deadline, and only once the speaker has
 * synced (is a candidate). As speaker.ts does, a speaker sends a heartbeat at once when its quorum
 * or live set changes. A stalled speaker runs its timers first when the stall ends (libuv's timers
 * phase comes before the poll phase), and a periodic heartbeat missed during a stall is sent once,
 * not once per missed interval (setInterval does not catch up).
 */
import { rankNodes } from "./election.ts";
import { desiredAnnouncements, type DesiredAnnouncements, type SpeakerSnapshot } from "./desired-announcements.ts";
import { MembershipEvidence, type HeartbeatEvidence } from "./membership-evidence.ts";
import { quorumWindowMs, viewMembership, type MembershipTiming } from "./membership-view.ts";
import { MinHeap } from "./min-heap.ts";
import { emptyGate, gateTakeovers, type GateState } from "./takeover-gate.ts";
import { seededRandom } from "../shared/seeded-random.ts";


export interface ModelTiming extends MembershipTiming {
  leaseDurationMs: number;
  /** Largest one-way datagram delay. */
  maxDelayMs: number;
  /**
   * Chance that a heartbeat is lost, at most one per pair of speakers (either direction) within a
   * quorum window: more than that on one link is a cut, which the schedules inject as a fault of
   * its own (see decision-model.test.ts).
   */
  lossRate: number;
  /** Time from a speaker's start (with the API reachable) to being a candidate. */
  syncMs: number;
}

interface Speaker {
  name: string;
  up: boolean;
  startedAt: number;
  seq: number;
  candidate: boolean;
  /** Quorum at the last decision: heartbeats say "candidate" only with it. */
  quorum: boolean;
  booted: boolean;
  evidence: MembershipEvidence;
  gate: GateState;
  announced: ReadonlySet<string>;
  stalledUntil: number;
  deferred: (() => void)[];
  /** A heartbeat is due but the event loop is stalled: one send runs after the stall (setInterval does not catch up). */
  heartbeatDue: boolean;
  timerAt: number | undefined;
  epoch: number;
  /** Quorum and live set of the last decision: when they change the speaker sends a heartbeat at once (speaker.ts). */
  viewKey: string | undefined;
}

interface Event {
  at: number;
  order: number;
  run: () => void;
}

export class ClusterModel {
  readonly timing: ModelTiming;
  readonly nodes: string[];
  readonly ips: string[];
  readonly speakers = new Map<string, Speaker>();
  now = 0;
  apiUp = true;
  readonly apiCut = new Set<string>();
  /** Directed links that drop everything: "a>b". */
  readonly cut = new Set<string>();
  private readonly leases = new Map<string, { holder: string; version: number }>();
  private readonly queue = new MinHeap<Event>((a, b) => a.at - b.at || a.order - b.order);
  private order = 0;
  private readonly random: () => number;
  private readonly snapshot: SpeakerSnapshot;
  private versionCounter = 0;
  /** When each pair of speakers ("a|b", sorted) last lost a heartbeat. */
  private readonly lastLoss = new Map<string, number>();
  /** desiredAnnouncements is pure and the snapshot fixed, so its answers are kept by input (as speaker.ts keeps its last one). */
  private readonly desiredCache = new Map<string, DesiredAnnouncements>();

  constructor(nodes: string[], ips: string[], timing: ModelTiming, random: () => number) {
    this.nodes = nodes;
    this.ips = ips;
    this.timing = timing;
    this.random = random;
    this.snapshot = {
      services: ips.map((ip, i) => ({ key: `default/svc-${i}`, ips: [ip], endpoints: [{ nodeName: nodes[0], ready: true }] })),
      nodes: nodes.map((name) => ({ name })),
      strictArpRefused: new Set(),
    };
    for (const n of nodes) this.start(n);
  }

  /** Runs every event up to `until`. `check` is called after each event. */
  runUntil(until: number, check: () => void): void {
    for (;;) {
      const first = this.queue.peek();
      if (first === undefined || first.at > until) break;
      const e = this.queue.pop()!;
      this.now = e.at;
      e.run();
      check();
    }
    this.now = until;
  }

  /** Who announces each IP now (speakers that are up and not stalled). */
  announcers(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const ip of this.ips) out.set(ip, []);
    for (const s of this.speakers.values()) {
      if (!s.up || this.now < s.stalledUntil) continue;
      for (const ip of s.announced) out.get(ip)!.push(s.name);
    }
    return out;
  }

  apiReachableFrom(node: string): boolean {
    return this.apiUp && !this.apiCut.has(node);
  }

  crash(node: string): void {
    const s = this.speakers.get(node)!;
    s.up = false;
    s.epoch++;
    s.announced = new Set();
  }

  /** Graceful stop: stop answering, send "leaving", release the Lease. */
  stop(node: string): void {
    const s = this.speakers.get(node)!;
    if (!s.up) return;
    s.announced = new Set();
    if (s.booted) this.broadcast(s, true);
    if (this.apiReachableFrom(node)) this.leases.set(node, { holder: "", version: ++this.versionCounter });
    this.publishLease(node);
    s.up = false;
    s.epoch++;
  }

  start(node: string): void {
    const prev = this.speakers.get(node);
    const s: Speaker = {
      name: node,
      up: true,
      startedAt: this.now + 1 + (prev ? prev.startedAt : 0),
      seq: 0,
      candidate: false,
      quorum: false,
      booted: false,
      evidence: new MembershipEvidence(node, 1000),
      gate: emptyGate,
      announced: new Set(),
      stalledUntil: 0,
      deferred: [],
      heartbeatDue: false,
      timerAt: undefined,
      epoch: (prev?.epoch ?? 0) + 1,
      viewKey: undefined,
    };
    s.evidence.selfStartedAt = s.startedAt;
    this.speakers.set(node, s);
    this.tryBoot(s);
  }

  stall(node: string, ms: number): void {
    const s = this.speakers.get(node)!;
    if (!s.up) return;
    s.stalledUntil = Math.max(s.stalledUntil, this.now + ms);
    const epoch = s.epoch;
    this.at(s.stalledUntil, () => {
      if (s.epoch !== epoch || this.now < s.stalledUntil) return;
      // After a stall, timers run before the queued input (libuv: timers phase, then poll).
      this.decide(s);
      const work = s.deferred.splice(0);
      for (const w of work) w();
    });
  }

  setApi(up: boolean): void {
    this.apiUp = up;
    if (up) this.apiRestored();
  }

  setApiCut(node: string, cut: boolean): void {
    if (cut) this.apiCut.add(node);
    else {
      this.apiCut.delete(node);
      this.apiRestored();
    }
  }

  private apiRestored(): void {
    for (const s of this.speakers.values()) {
      if (!s.up || !this.apiReachableFrom(s.name)) continue;
      this.tryBoot(s);
      // A watch that reconnects relists every Lease.
      this.onNode(s, () => {
        for (const [node, lease] of this.leases) s.evidence.lease(node, lease.holder, String(lease.version), this.timing.leaseDurationMs, this.now);
        this.decide(s);
      });
    }
  }

  private at(t: number, run: () => void): void {
    this.queue.push({ at: t, order: this.order++, run });
  }

  /** Runs `fn` on speaker `s` now, or after its stall. */
  private onNode(s: Speaker, fn: () => void): void {
    if (this.now < s.stalledUntil) s.deferred.push(fn);
    else fn();
  }

  /** A speaker needs the API once at start (informers, cluster key); then it is on its own. */
  private tryBoot(s: Speaker): void {
    if (s.booted || !s.up || !this.apiReachableFrom(s.name)) return;
    s.booted = true;
    const epoch = s.epoch;
    for (const [node, lease] of this.leases) s.evidence.lease(node, lease.holder, String(lease.version), this.timing.leaseDurationMs, this.now);
    this.renew(s);
    this.heartbeatLoop(s, epoch);
    this.leaseLoop(s, epoch);
    this.at(this.now + this.timing.syncMs, () => {
      if (s.epoch !== epoch) return;
      this.onNode(s, () => {
        s.candidate = true;
        this.decide(s);
        this.broadcast(s, false);
      });
    });
  }

  private heartbeatLoop(s: Speaker, epoch: number): void {
    const jitter = (this.random() - 0.5) * 10;
    this.at(this.now + this.timing.heartbeatIntervalMs + jitter, () => {
      if (s.epoch !== epoch) return;
      if (!s.heartbeatDue) {
        s.heartbeatDue = true;
        this.onNode(s, () => {
          s.heartbeatDue = false;
          this.broadcast(s, false);
        });
      }
      this.heartbeatLoop(s, epoch);
    });
  }

  private leaseLoop(s: Speaker, epoch: number): void {
    this.at(this.now + 1000, () => {
      if (s.epoch !== epoch) return;
      this.onNode(s, () => this.renew(s));
      this.leaseLoop(s, epoch);
    });
  }

  private renew(s: Speaker): void {
    if (!this.apiReachableFrom(s.name)) return;
    this.leases.set(s.name, { holder: `${s.name}@${s.startedAt}`, version: ++this.versionCounter });
    s.evidence.apiContact(this.now);
    this.publishLease(s.name);
    this.decide(s);
  }

  private publishLease(node: string): void {
    const lease = this.leases.get(node);
    if (!lease || !this.apiUp) return;
    for (const o of this.speakers.values()) {
      if (!o.up || !o.booted || this.apiCut.has(o.name)) continue;
      const epoch = o.epoch;
      const delay = 5 + this.random() * 40;
      this.at(this.now + delay, () => {
        if (o.epoch !== epoch || !this.apiReachableFrom(o.name)) return;
        this.onNode(o, () => {
          o.evidence.lease(node, lease.holder, String(lease.version), this.timing.leaseDurationMs, this.now);
          this.decide(o);
        });
      });
    }
  }

  /** Whether the heartbeat from `from` to `to` is lost (see {@link ModelTiming.lossRate}). */
  private lose(from: string, to: string): boolean {
    if (this.random() >= this.timing.lossRate) return false;
    const pair = from < to ? `${from}|${to}` : `${to}|${from}`;
    if (this.now - (this.lastLoss.get(pair) ?? -Infinity) < quorumWindowMs(this.timing)) return false;
    this.lastLoss.set(pair, this.now);
    return true;
  }

  private broadcast(s: Speaker, leaving: boolean): void {
    if (!s.booted) return;
    // As speaker.ts does: decide first, then say "candidate" only while a candidate with quorum.
    if (!leaving) this.decide(s);
    const hears = s.evidence.relayed(this.now, this.timing.heartbeatTimeoutMs);
    const hb: HeartbeatEvidence = { node: s.name, startedAt: s.startedAt, seq: s.seq++, candidate: s.candidate && s.quorum && !leaving, leaving, hears };
    s.evidence.sent(hb.seq, this.now, hb.candidate);
    for (const peer of this.nodes) {
      if (peer === s.name || this.cut.has(`${s.name}>${peer}`) || this.lose(s.name, peer)) continue;
      const delay = this.random() * this.timing.maxDelayMs;
      this.at(this.now + delay, () => {
        const o = this.speakers.get(peer)!;
        if (!o.up || !o.booted || this.cut.has(`${s.name}>${peer}`)) return;
        this.onNode(o, () => {
          o.evidence.heartbeat(hb, this.now);
          this.decide(o);
        });
      });
    }
  }

  /** One decision, as speaker.ts makes it: only once synced (a candidate), never before. */
  private decide(s: Speaker): void {
    if (!s.up || !s.booted || !s.candidate) return;
    const view = viewMembership(s.evidence, { nowMs: this.now, selfCandidate: s.candidate, timing: this.timing });
    let liveKey = "";
    for (const node of this.nodes) if (view.live.has(node)) liveKey += `${node},`;
    // The model reads only `owned` and `owners`, which depend on nothing else of the view.
    const key = `${s.name}|${view.quorum}|${liveKey}`;
    let desired = this.desiredCache.get(key);
    if (!desired) {
      desired = desiredAnnouncements(this.snapshot, view, s.name, { ignoreExcludeLb: false });
      this.desiredCache.set(key, desired);
    }
    const gated = gateTakeovers(s.gate, {
      desired: desired.owned,
      owners: desired.owners,
      view,
      self: s.name,
      nowMs: this.now,
      nextSeq: s.seq,
    });
    s.gate = gated.state;
    s.announced = gated.announce;
    s.quorum = view.quorum;
    const viewKey = `${view.quorum}|${liveKey}`;
    const changed = s.viewKey !== undefined && s.viewKey !== viewKey;
    s.viewKey = viewKey;
    let next = view.nextChangeAt;
    if (gated.nextCheckAt !== undefined && (next === undefined || gated.nextCheckAt < next)) next = gated.nextCheckAt;
    if (next !== undefined && next !== s.timerAt) {
      s.timerAt = next;
      const epoch = s.epoch;
      this.at(next, () => {
        if (s.epoch !== epoch) return;
        if (s.timerAt === next) s.timerAt = undefined;
        this.onNode(s, () => this.decide(s));
      });
    }
    if (changed) this.broadcast(s, false);
  }

  /** The owner every fully connected speaker would agree on, for the liveness check. */
  expectedOwner(ip: string, live: string[]): string {
    return rankNodes(live, ip)[0];
  }
}
