/**
 * The heartbeat fast path, as the speaker sees it. The socket, the timer, signing, authentication, the replay
 * guard and the relay table run on a native thread (native/heartbeat_engine.cc, wrapped by native-heartbeat.ts),
 * so a stalled event loop (garbage collection, saturated CPUs) neither delays our heartbeats nor makes fresh
 * ones look late: every heartbeat is stamped on the monotonic clock by the thread that received it, and the
 * relays and acknowledgements we send stay as fresh as what the thread heard. What to say about ourselves
 * (candidate, API reachable) and every decision stay here, in TypeScript.
 *
 * This adapter pushes the peers and keys to the thread, tells it the event loop is alive (a speaker whose
 * event loop hangs for `stallLimitMs` falls silent, so its peers take its VIPs), and hands on what the thread
 * queued: authenticated heartbeats (their fields read here from the bytes the thread verified), the heartbeats
 * we sent, and drops counted by reason. Our own datagrams are ignored without a count.
 *
 * Every heartbeat this process sends, leaving ones included, has its own seq (1, 2, 3, …), reported once its
 * datagrams are on their way, so the caller can tell when each seq went out (peers relay our counter back,
 * see membership-evidence.ts).
 */
import { decodeVerifiedHeartbeat, type Heartbeat, type HeartbeatDecodeDropReason, type HeartbeatKeys } from "./heartbeat-message.ts";
import type { HeartbeatReplayDropReason } from "./heartbeat-replay-guard.ts";
import { monotonicOffsetMs, openNativeHeartbeat, type NativeHeartbeatEngine, type NativeHeartbeatEvent } from "./native-heartbeat.ts";

/**
 * Label values of `baremetal_lb_heartbeats_dropped_total{reason}`: `no-key` (we hold no key yet, so nothing
 * can be verified), the codec's reasons (see {@link HeartbeatDecodeDropReason}) and the replay guard's
 * (`replayed`, `stale`).
 */
export type HeartbeatDropReason = "no-key" | HeartbeatDecodeDropReason | HeartbeatReplayDropReason;

const everyReason = {
  "no-key": true, "bad-length": true, "unknown-format": true, "bad-version": true, "unknown-key": true, "bad-mac": true, malformed: true, replayed: true, stale: true,
} satisfies Record<HeartbeatDropReason, true>;
/** Every drop reason (the compiler checks the list is complete), e.g. to start each label's counter at 0. */
export const heartbeatDropReasons = Object.keys(everyReason) as readonly HeartbeatDropReason[];

/** For the drop log: the sender's address and a sentence saying what it means and what to check. */
export interface HeartbeatDropDetail {
  from: string;
  message: string;
}

const dropMessages: Record<Exclude<HeartbeatDropReason, HeartbeatReplayDropReason>, string> = {
  "no-key": "heartbeat ignored: no heartbeat key yet (the Secret memberlist is not read yet, missing or invalid); heartbeats are neither sent nor accepted until it is",
  "bad-length": "datagram on the heartbeat port is not a heartbeat (wrong size): another program sends to this port",
  "unknown-format": "datagram on the heartbeat port is not a heartbeat: another program, or a speaker from before authenticated heartbeats (upgrade every speaker)",
  "bad-version": "heartbeat of a version this speaker does not know: upgrade all speakers to the same version",
  "unknown-key": "heartbeat signed with a key this speaker does not hold: the sender reads another Secret memberlist, or a key rotation outlasted the grace period",
  "bad-mac": "heartbeat with a wrong MAC: forged or corrupted in transit",
  malformed: "authentic heartbeat that does not parse: the sending speaker has a bug",
};

export interface HeartbeatChannelOptions {
  node: string;
  /** This process's identity, new at every start. */
  identity: string;
  /** This process's start, wall clock ms. */
  startedAt: number;
  /** The port we listen on, and by default the port peers listen on (all speakers agree on one). */
  port: number;
  /** The port peers listen on when it is not `port`: only for two channels on one host, as in tests. */
  peerPort?: number;
  intervalMs: number;
  /** Relay every peer counter learned within this (the heartbeat timeout). */
  relayWithinMs: number;
  /**
   * The thread stops sending once the event loop has not run for this long (a hung speaker must lose its
   * VIPs to its peers), and resumes when it runs again.
   */
  stallLimitMs: number;
  /** Peer addresses (IPv4 or IPv6), read every 250 ms (a quarter of the stall limit if shorter) and handed to the thread when they change. */
  peers: () => string[];
  /** The keys in force, read as the peers are; undefined: send nothing and drop everything received with reason `no-key`. */
  keys: () => HeartbeatKeys | undefined;
  /**
   * Once per heartbeat (not per peer), after its datagrams were handed to the socket (also when there is no
   * peer to send to), with the time it went out on performance.now()'s clock and what it said about us.
   */
  onSent?: (seq: number, atMs: number, candidate: boolean) => void;
  /**
   * Only authenticated, fresh, non-replayed heartbeats of other nodes, in arrival order; each is a
   * `HeartbeatEvidence` of membership-evidence.ts. `atMs`: when it arrived, on performance.now()'s clock,
   * stamped by the receiving thread (so earlier than now after an event-loop stall).
   */
  onHeartbeat: (hb: Heartbeat, from: string, atMs: number) => void;
  /** After each batch of events: decide once on all of them, not once per heartbeat. */
  onBatch?: () => void;
  onDrop: (reason: HeartbeatDropReason, detail: HeartbeatDropDetail) => void;
  /** The thread paused our heartbeats because the event loop stalled `stalledMs` (reported when it runs again). */
  onStall?: (stalledMs: number) => void;
  onError: (err: Error) => void;
  /** Largest accepted difference between a heartbeat's sentAt and our wall clock; default 60 s. */
  freshnessMs?: number;
}

/** A running fast-path channel. */
export interface HeartbeatChannel {
  /** What every later heartbeat says about us. Call after the decision it reflects is applied. */
  setSelf(candidate: boolean, apiReachable: boolean): void;
  /** The seq of the next heartbeat: every heartbeat with this seq or a higher one is built after this call. */
  nextSeq(): number;
  /**
   * What the decision just applied took each peer to be (its incarnation, and whether it is a candidate): the
   * thread relays a peer's counter, and so acknowledges it back to the peer, only as of a heartbeat that agrees
   * (native-heartbeat.ts, setDecided). Call after each decision, with every peer; only changes cross to the thread.
   */
  setDecided(peers: Iterable<{ node: string; startedAt: number; candidate: boolean }>): void;
  /** Sends one heartbeat to every peer now (e.g. right after a liveness change). */
  sendNow(): void;
  /**
   * Hands on at once what the thread has queued, without onBatch (it is otherwise handed on when the event loop
   * gets to it): a decision calls it first, so it never decides on less than what has arrived.
   */
  takeQueued(): void;
  /** Stops the periodic heartbeats and sends `count` "leaving" ones to every peer (graceful shutdown); every later send says leaving too. */
  announceLeaving(count?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the heartbeat socket (one dual-stack socket serves IPv4 and IPv6 peers; where the kernel has no IPv6,
 * IPv4 only) and starts the thread.
 *
 * @example
 * const ch = await openHeartbeatChannel({
 *   node, identity, startedAt, port: 7947, intervalMs: 25, relayWithinMs: 150, stallLimitMs: 2000,
 *   peers, keys: () => keyWatch.keys(),
 *   onSent: (seq, at, candidate) => evidence.sent(seq, at, candidate),
 *   onHeartbeat: (hb, _from, at) => evidence.heartbeat(hb, at),
 *   onBatch: () => decide(),
 *   onDrop: (reason) => metrics.heartbeatsDropped.inc({ reason }), onError,
 * });
 * ch.setSelf(true, true);
 */
export async function openHeartbeatChannel(opts: HeartbeatChannelOptions): Promise<HeartbeatChannel> {
  if (!Number.isSafeInteger(opts.startedAt) || opts.startedAt < 0) {
    throw new Error(`heartbeat startedAt must be a wall-clock time in whole ms, got ${opts.startedAt}`);
  }
  const offset = monotonicOffsetMs();
  let engine: NativeHeartbeatEngine | undefined;
  let keys: HeartbeatKeys | undefined;
  try {
    keys = opts.keys();
  } catch (err) {
    opts.onError(err as Error);
  }
  let peersText: string | undefined;
  /** What was last handed to the thread with setDecided, by node. */
  const decided = new Map<string, { startedAt: number; candidate: boolean }>();
  let closed = false;
  const guarded = (what: () => void) => {
    try {
      what();
    } catch (err) {
      opts.onError(err as Error);
    }
  };

  const handle = (event: NativeHeartbeatEvent) => {
    switch (event.type) {
      case "heartbeat": {
        // Authenticated, replay-checked and parsed by the thread: only the fields are read here.
        const hb = decodeVerifiedHeartbeat(event.datagram);
        if (!hb) return opts.onDrop("malformed", { from: event.from, message: dropMessages.malformed });
        return opts.onHeartbeat(hb, event.from, event.at - offset);
      }
      case "sent":
        return opts.onSent?.(event.seq, event.at - offset, event.candidate);
      case "drop": {
        const reason = event.reason as HeartbeatDropReason;
        return opts.onDrop(reason, { from: event.from, message: event.detail ?? dropMessages[reason as keyof typeof dropMessages] ?? reason });
      }
      case "stalled":
        return;
      case "resumed":
        return opts.onStall?.(event.stalledMs);
      case "error":
        return opts.onError(Object.assign(new Error(event.message), event.code ? { code: event.code } : {}));
    }
  };

  /** Hands on what the thread queued; `batch`: then call onBatch (the thread's wakeup), not when the caller is deciding. */
  const drain = (batch: boolean) => {
    if (closed || !engine) return;
    const events = engine.drain();
    for (const event of events) guarded(() => handle(event));
    if (batch && events.length > 0 && opts.onBatch) guarded(opts.onBatch);
  };

  /** Hands the thread what changed, and tells it the event loop runs. */
  const nativeKeys = (k: HeartbeatKeys | undefined) => ({
    signing: k ? { id: k.signing.id, secret: k.signing.secret } : null,
    accepted: k ? [...k.accepted.values()].map((key) => ({ id: key.id, secret: key.secret })) : [],
  });
  const refresh = () => {
    if (closed || !engine) return;
    guarded(() => {
      // Peers first: a first key wakes the thread, which sends at once.
      const peers = opts.peers();
      const text = peers.join(",");
      if (text !== peersText) {
        peersText = text;
        engine!.setPeers(peers);
      }
    });
    guarded(() => {
      const nextKeys = opts.keys();
      if (nextKeys !== keys) {
        keys = nextKeys;
        const { signing, accepted } = nativeKeys(keys);
        engine!.setKeys(signing, accepted);
      }
    });
    engine.feed();
  };

  engine = openNativeHeartbeat({
    port: opts.port,
    peerPort: opts.peerPort ?? opts.port,
    node: opts.node,
    identity: opts.identity,
    startedAt: opts.startedAt,
    intervalMs: opts.intervalMs,
    relayWithinMs: opts.relayWithinMs,
    freshnessMs: opts.freshnessMs,
    stallLimitMs: opts.stallLimitMs,
    // In force from the first datagram: none is dropped as "no-key" for want of a setKeys() not yet made.
    keys: nativeKeys(keys),
    onEvents: () => drain(true),
  });
  refresh();
  // The event loop's pulse (and a look at peers and keys): four times per stall limit, at most every 250 ms.
  const timer = setInterval(refresh, Math.min(250, opts.stallLimitMs / 4));
  timer.unref();

  return {
    setSelf: (candidate, apiReachable) => {
      if (!closed) engine!.setSelf(candidate, apiReachable);
    },
    nextSeq: () => engine!.nextSeq(),
    setDecided: (peers) => {
      if (closed) return;
      const changed: { node: string; startedAt: number; candidate: boolean }[] = [];
      for (const p of peers) {
        const was = decided.get(p.node);
        if (was && was.startedAt === p.startedAt && was.candidate === p.candidate) continue;
        decided.set(p.node, { startedAt: p.startedAt, candidate: p.candidate });
        changed.push({ node: p.node, startedAt: p.startedAt, candidate: p.candidate });
      }
      if (changed.length > 0) guarded(() => engine!.setDecided(changed));
    },
    takeQueued: () => drain(false),
    sendNow: () => {
      if (closed) return;
      refresh();
      guarded(() => engine!.sendNow());
    },
    announceLeaving: async (count = 3) => {
      clearInterval(timer);
      for (let i = 0; i < count && !closed; i++) {
        guarded(() => engine!.sendLeaving());
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close: async () => {
      clearInterval(timer);
      if (closed) return;
      drain(false);
      closed = true;
      engine!.close();
    },
  };
}
