/**
 * A discrete-event model of a speaker cluster for the decision-logic model test: N speakers run the
 * real pure pieces (MembershipEvidence, viewMembership, desiredAnnouncements, gateTakeovers) over a
 * simulated LAN with per-link cuts, delays and loss, an API server that can be down for everyone or
 * cut from single nodes, speaker Leases, crashes, restarts, graceful stops and event-loop stalls.
 * Only the I/O is simulated; every decision is the production code's, made when speaker/speaker.ts makes
 * it: on every batch of heartbeats, on Lease events and at the view's deadline, and only once the
 * speaker has synced (is a candidate). As speaker.ts does, a speaker sends a heartbeat at once when
 * its quorum or live set changes.
 *
 * Test support: decision-model-schedule.ts and decision-model.test.ts use it; the speaker never loads it.
 *
 * Heartbeats are the native thread's (native/heartbeat_engine.cc): they go out every interval while
 * the event loop stalls, saying what the last decision said, with relays from the thread's own table
 * (fresh whatever the event loop does), until the stall is longer than the stall limit; heartbeats
 * that arrive during a stall are taken in after it, each at the instant it arrived, with one decision
 * on the whole backlog. A stalled speaker runs its timers first when the stall ends (libuv's timers
 * phase comes before the poll phase). A speaker answers for its VIPs only while not stalled and
 * before the quorum deadline of its last decision (speaker/l2/announcer.ts, `answerUntil`).
 */
import { rankNodes } from "../election.ts";
import { desiredAnnouncements, type DesiredAnnouncements, type SpeakerSnapshot } from "../desired-announcements.ts";
import { MembershipEvidence, type HeartbeatEvidence, type RelayedCounter } from "../../cluster/membership-evidence.ts";
import { quorumWindowMs, viewMembership, type MembershipTiming } from "../../cluster/membership-view.ts";
import { MinHeap } from "../../../shared/min-heap.ts";
import { emptyGate, gateTakeovers, type GateState } from "../../cluster/takeover-gate.ts";
import { seededRandom } from "../../../shared/seeded-random.ts";


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
  /** The native thread stops sending once the event loop has stalled this long (--heartbeat-stall-limit). */
  stallLimitMs: number;
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
  /** When the current stall began (the native thread stops sending `stallLimitMs` after it). */
  stalledSince: number;
  deferred: (() => void)[];
  /** What the native thread queued for the event loop (heartbeats received, heartbeats sent), in order. */
  queued: (() => void)[];
  /** The native thread's relay table: takes in every heartbeat as it arrives, stalled or not. */
  relay: MembershipEvidence;
  /** What the last applied decision took each peer to be (setDecided), and the counters relayed as of it. */
  decided: Map<string, { startedAt: number; candidate: boolean }>;
  relayedOut: Map<string, { startedAt: number; seq: number; candidate: boolean; learnedAt: number }>;
  /** What the native thread says about us: set after each decision (setSelf). */
  advertised: boolean;
  /** Quorum deadline of the last decision: nothing is answered at or after it. */
  answerUntil: number;
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
      if (!s.up || this.now < s.stalledUntil || this.now >= s.answerUntil) continue;
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
      stalledSince: 0,
      deferred: [],
      queued: [],
      relay: new MembershipEvidence(node, 1000),
      decided: new Map(),
      relayedOut: new Map(),
      advertised: false,
      answerUntil: Infinity,
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
    if (this.now >= s.stalledUntil) s.stalledSince = this.now;
    s.stalledUntil = Math.max(s.stalledUntil, this.now + ms);
    const epoch = s.epoch;
    this.at(s.stalledUntil, () => {
      if (s.epoch !== epoch || this.now < s.stalledUntil) return;
      // After a stall, timers run before the queued input (libuv: timers phase, then poll); a decision
      // takes in what the heartbeat thread queued first (speaker.ts, decide).
      this.decide(s);
      const work = s.deferred.splice(0);
      for (const w of work) w();
      this.takeQueued(s);
      this.decide(s);
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

  /** The native thread's schedule: every interval, whatever the event loop does, up to the stall limit. */
  private heartbeatLoop(s: Speaker, epoch: number): void {
    // The thread's schedule slips by up to ±5 % of an interval (±5 ms at 100 ms).
    const jitter = (this.random() - 0.5) * 0.1 * this.timing.heartbeatIntervalMs;
    this.at(this.now + this.timing.heartbeatIntervalMs + jitter, () => {
      if (s.epoch !== epoch) return;
      const stalled = this.now < s.stalledUntil;
      if (!stalled || this.now - s.stalledSince <= this.timing.stallLimitMs) this.broadcast(s, false);
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

  /** One heartbeat from the native thread: what the last decision said, relays from the thread's table. */
  private broadcast(s: Speaker, leaving: boolean): void {
    if (!s.booted) return;
    const hears = this.relayed(s);
    const hb: HeartbeatEvidence = { node: s.name, startedAt: s.startedAt, seq: s.seq++, candidate: s.advertised && !leaving, leaving, hears };
    const sentAt = this.now;
    // The "sent" event reaches the event loop in order, with the instant the datagram went out.
    s.queued.push(() => s.evidence.sent(hb.seq, sentAt, hb.candidate));
    if (this.now >= s.stalledUntil) this.takeQueued(s);
    for (const peer of this.nodes) {
      if (peer === s.name || this.cut.has(`${s.name}>${peer}`) || this.lose(s.name, peer)) continue;
      const delay = this.random() * this.timing.maxDelayMs;
      this.at(this.now + delay, () => {
        const o = this.speakers.get(peer)!;
        if (!o.up || !o.booted || this.cut.has(`${s.name}>${peer}`)) return;
        // The thread takes it in at once (its relay table) and stamps it; the event loop, when it runs.
        const arrivedAt = this.now;
        o.relay.heartbeat(hb, arrivedAt);
        this.syncRelays(o);
        o.queued.push(() => o.evidence.heartbeat(hb, arrivedAt));
        // Handed on as a batch when the event loop gets to it (up to 2 ms later when it is not stalled), with one
        // decision on it; meanwhile the thread may send, and must not acknowledge what was not decided on.
        const epoch = o.epoch;
        this.at(this.now + this.random() * 2, () => {
          if (o.epoch === epoch) this.onNode(o, () => this.decide(o));
        });
      });
    }
  }

  /** One decision, as speaker.ts makes it: only once synced (a candidate), never before. */
  /** The native relay table's rule (heartbeat_relay_table.cc): a peer's counter moves on only while it agrees with the decision. */
  private syncRelays(s: Speaker): void {
    for (const [node, rec] of s.relay.peers) {
      const d = s.decided.get(node);
      if (d && rec.startedAt === d.startedAt && rec.candidate === d.candidate) {
        s.relayedOut.set(node, { startedAt: rec.startedAt, seq: rec.seq, candidate: rec.candidate, learnedAt: rec.learnedAt });
      }
    }
  }

  /** What the thread's next heartbeat relays. */
  private relayed(s: Speaker): RelayedCounter[] {
    const out: RelayedCounter[] = [];
    for (const [node, c] of s.relayedOut) {
      const age = this.now - c.learnedAt;
      const left = s.relay.peers.get(node)?.leftStartedAt ?? -Infinity;
      if (age < this.timing.heartbeatTimeoutMs && c.seq >= 0 && left < c.startedAt) out.push({ node, startedAt: c.startedAt, seq: c.seq, candidate: c.candidate, ageMs: Math.round(age) });
    }
    return out;
  }

  /** Takes in what the heartbeat thread queued, in order (the channel's takeQueued). */
  private takeQueued(s: Speaker): void {
    const work = s.queued.splice(0);
    for (const w of work) w();
  }

  private decide(s: Speaker): void {
    if (this.now < s.stalledUntil) return;
    this.takeQueued(s);
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
    s.answerUntil = view.quorumUntil;
    s.quorum = view.quorum;
    // Applied: the thread's heartbeats say "candidate" only while a candidate with quorum (setSelf), and relay each
    // peer as this decision took it (setDecided).
    s.advertised = s.candidate && s.quorum;
    for (const [node, rec] of s.evidence.peers) {
      s.decided.set(node, { startedAt: rec.startedAt, candidate: rec.candidate && rec.leftStartedAt < rec.startedAt });
    }
    this.syncRelays(s);
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
