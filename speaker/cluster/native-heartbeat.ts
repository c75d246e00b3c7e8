/**
 * The speakers' UDP heartbeats on a native thread: a thin typed wrapper over the addon's HeartbeatEngine
 * (speaker/native/heartbeat_engine.cc). A stalled event loop (GC, CPU saturation) neither delays our heartbeats
 * nor the timestamps of received ones.
 *
 * The thread owns the socket (one dual-stack [::] socket, IPv4 0.0.0.0 where the kernel has no IPv6), signs and
 * sends a heartbeat every `intervalMs`, authenticates and replay-checks received ones by the rules of
 * heartbeat-message.ts and heartbeat-replay-guard.ts, stamps them on the monotonic clock, and keeps its own
 * relay table by the rules of membership-evidence.ts, so the `hears` (relays and acknowledgements) of our
 * heartbeats stay fresh while JavaScript stalls. It decides nothing: it queues events, and JavaScript drains
 * them and decides. Should JavaScript stay silent (no `feed()` nor any other call) for longer than `stallLimitMs`,
 * the thread stops sending until it hears from JavaScript again, so peers do not count on a speaker that cannot act.
 *
 * Timestamps (`at`) are monotonic ms on the clock of `process.hrtime()` (CLOCK_MONOTONIC); subtract
 * {@link monotonicOffsetMs} to get `performance.now()`'s.
 *
 * @example
 * const engine = openNativeHeartbeat({
 *   port: 7947, peerPort: 7947, node, identity, startedAt, intervalMs: 100, relayWithinMs: 1000, stallLimitMs: 1000,
 *   onEvents: () => { for (const event of engine.drain()) handle(event); },
 * });
 * engine.setKeys({ id: keys.signing.id, secret: keys.signing.secret }, [...keys.accepted.values()]);
 * engine.setPeers(["10.0.0.2", "fd00::3"]);
 * setInterval(() => engine.feed(), 100).unref();
 */
import { loadNativeAddon } from "../native/load-addon.ts";

/** One cluster key: its 8-byte wire id and its secret (a {@link HeartbeatKey} of heartbeat-message.ts fits). */
export interface NativeHeartbeatKey {
  id: Buffer;
  secret: Buffer;
}

export interface NativeHeartbeatOptions {
  /** The port to bind (0: any free one, see {@link NativeHeartbeatEngine.port}). */
  port: number;
  /** The port peers listen on; 0: the port bound (a lone speaker on port 0, as in tests). */
  peerPort: number;
  node: string;
  /** This process's identity, new at every start. */
  identity: string;
  /** This process's start, wall-clock ms (0 to 2^48-1). */
  startedAt: number;
  /** The periodic send interval, at least 1 ms. */
  intervalMs: number;
  /** `hears` carries the counters learned within this (the heartbeat timeout). */
  relayWithinMs: number;
  /** The replay guard's window (largest |our wall clock − sentAt|); default 60 s, at most 300 s. */
  freshnessMs?: number;
  /**
   * Periodic sending pauses while JavaScript has called none of feed(), setSelf(), setKeys(), setPeers(), sendNow()
   * and sendLeaving() for this long; the next such call resumes it.
   */
  stallLimitMs: number;
  /** The keys in force from the start, as setKeys() takes them (otherwise none until setKeys()). */
  keys?: { signing: NativeHeartbeatKey | null; accepted: NativeHeartbeatKey[] };
  /** Called on the JavaScript thread when the event queue goes from empty to non-empty: call drain() then. */
  onEvents: () => void;
}

export type NativeHeartbeatEvent =
  /** Authenticated, admitted by the replay guard, from another node; `at` is when it was received. */
  | { type: "heartbeat"; datagram: Buffer; from: string; at: number }
  /** Once per heartbeat, after its datagrams were handed to the kernel (also when there are no peers). */
  | { type: "sent"; seq: number; at: number; candidate: boolean; leaving: boolean }
  /** `reason` is a HeartbeatDropReason of heartbeat-channel.ts; `detail` comes with "replayed" and "stale". */
  | { type: "drop"; reason: string; from: string; detail?: string }
  /** Periodic sending paused: JavaScript silent for `ms` (more than stallLimitMs); once per stall. */
  | { type: "stalled"; ms: number }
  /** The first feed after a stall: JavaScript was silent for `stalledMs` in all. */
  | { type: "resumed"; stalledMs: number }
  /** Send errors other than a vanished route, a heartbeat too large for all its `hears`, a full event queue. */
  | { type: "error"; message: string; code?: string };

/** A running engine. Once closed, every method but close() throws "heartbeat engine is closed". */
export interface NativeHeartbeatEngine {
  /**
   * null: send nothing, and drop everything received with reason "no-key". With the first key (or one after none)
   * the thread sends at once, not an interval later; that heartbeat races with the calls that follow (setPeers,
   * setSelf) as any periodic one does. Also a feed(), as every call that changes what the engine sends.
   */
  setKeys(signing: NativeHeartbeatKey | null, accepted: NativeHeartbeatKey[]): void;
  /** IPv4/IPv6 addresses; an invalid one throws a TypeError naming it and changes nothing. Also a feed(). */
  setPeers(addresses: string[]): void;
  /** The flags of every later heartbeat; also a feed(). */
  setSelf(candidate: boolean, apiReachable: boolean): void;
  /**
   * What the last applied decision took these peers to be. A peer's counter is relayed (and so acknowledged back to
   * it) only as of its newest heartbeat that agrees with this: an acknowledgement says we count the peer live, so it
   * must not run ahead of the decision that released what the peer may take. Also a feed().
   */
  setDecided(peers: { node: string; startedAt: number; candidate: boolean }[]): void;
  /** JavaScript is alive. */
  feed(): void;
  /** The seq of the next heartbeat: every heartbeat with this seq or higher is built after this call returns. */
  nextSeq(): number;
  /** Sends one heartbeat now, on the calling thread; also a feed(). */
  sendNow(): void;
  /** Sends one heartbeat saying leaving now; from then on periodic sending stops and every send says leaving. */
  sendLeaving(): void;
  /** Every queued event, oldest first. */
  drain(): NativeHeartbeatEvent[];
  /** Stops the thread and closes the socket; idempotent. */
  close(): void;
  /** The bound port. */
  readonly port: number;
}

interface NativeAddon {
  HeartbeatEngine: new (opts: NativeHeartbeatOptions) => NativeHeartbeatEngine;
}

/**
 * Opens the heartbeat socket and starts the engine's thread. Throws when the port cannot be bound, with `code`
 * set (EADDRINUSE: "heartbeat port N/udp is already in use on this node; …"), and a RangeError naming an
 * option out of range.
 */
export function openNativeHeartbeat(opts: NativeHeartbeatOptions): NativeHeartbeatEngine {
  return new (loadNativeAddon<NativeAddon>().HeartbeatEngine)(opts);
}

/** `process.hrtime()` ms minus `performance.now()`: an event's `at` minus this is on performance.now()'s clock. */
export { monotonicOffsetMs } from "../native/monotonic-clock.ts";
