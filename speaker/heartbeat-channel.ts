/**
 * The UDP adapter of the heartbeat fast path: signs and sends a heartbeat to every peer each interval, and
 * reports the heartbeats received that are authentic (heartbeat-message.ts), fresh and not replayed
 * (heartbeat-replay-guard.ts). Everything else is counted by reason and dropped; our own datagrams are
 * ignored without a count.
 *
 * Every heartbeat this process sends, leaving ones included, has its own seq (1, 2, 3, …): the caller is told
 * the seq when asked for the body and again once the datagrams carrying it are on their way, so it can tell
 * when each seq went out (peers relay our counter back, see membership-evidence.ts).
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv4 } from "node:net";
import {
  decodeHeartbeat,
  encodeHeartbeat,
  type Heartbeat,
  type HeartbeatBody,
  type HeartbeatDecodeDropReason,
  type HeartbeatKeys,
} from "./heartbeat-message.ts";
import { HeartbeatReplayGuard, type HeartbeatReplayDropReason } from "./heartbeat-replay-guard.ts";

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
  /** Peer addresses (IPv4 or IPv6), asked afresh on every send. */
  peers: () => string[];
  /** The keys in force; undefined: send nothing and drop everything received with reason `no-key`. */
  keys: () => HeartbeatKeys | undefined;
  /**
   * What to say about ourselves in the heartbeat numbered `seq`, asked afresh on every send. Each call gets a
   * new seq, higher than any before (a seq that is not sent, e.g. its body cannot be encoded, is skipped, not reused).
   */
  body: (seq: number) => HeartbeatBody;
  /**
   * Called once per heartbeat (not per peer), right after its datagrams were handed to the socket (also
   * when there is no peer to send to): the seq is on its way. Not called for a heartbeat that was not sent
   * (no key yet, a body that cannot be encoded, a failure to list the peers, the channel closed).
   */
  onSent?: (seq: number) => void;
  /** Only authenticated, fresh, non-replayed heartbeats of other nodes; each is a `HeartbeatEvidence` of membership-evidence.ts. */
  onHeartbeat: (hb: Heartbeat, from: string) => void;
  onDrop: (reason: HeartbeatDropReason, detail: HeartbeatDropDetail) => void;
  onError: (err: Error) => void;
  /** Wall clock, ms; default Date.now. */
  wallNow?: () => number;
  /** Largest accepted difference between a heartbeat's sentAt and our wall clock; default 60 s. */
  freshnessMs?: number;
}

/** A running fast-path channel. */
export interface HeartbeatChannel {
  /** Sends one heartbeat to every peer now (e.g. right after a liveness change). */
  sendNow(): void;
  /** Stops the periodic heartbeats and sends `count` "leaving" ones to every peer (graceful shutdown); every later send says leaving too. */
  announceLeaving(count?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the heartbeat socket and starts sending. One dual-stack socket serves IPv4 and IPv6 peers; where the
 * kernel has no IPv6, IPv4 only.
 *
 * @example
 * const ch = await openHeartbeatChannel({
 *   node, identity, startedAt, port: 7947, intervalMs: 100, peers, keys: () => keyWatch.keys(),
 *   body: () => ({ leaving: false, candidate, apiReachable, hears: evidence.relayed(performance.now(), relayWithinMs) }),
 *   onSent: (seq) => evidence.sent(seq, performance.now()),
 *   onHeartbeat: (hb) => evidence.heartbeat(hb, performance.now()),
 *   onDrop: (reason) => metrics.heartbeatsDropped.inc({ reason }), onError,
 * });
 */
export async function openHeartbeatChannel(opts: HeartbeatChannelOptions): Promise<HeartbeatChannel> {
  if (!Number.isSafeInteger(opts.startedAt) || opts.startedAt < 0) {
    throw new Error(`heartbeat startedAt must be a wall-clock time in whole ms, got ${opts.startedAt}`);
  }
  const wallNow = opts.wallNow ?? Date.now;
  const guard = new HeartbeatReplayGuard({ freshnessMs: opts.freshnessMs });
  const socket = await bind(opts.port);
  const dualStack = socket.address().family === "IPv6";
  const peerPort = opts.peerPort ?? opts.port;
  let seq = 0;
  let leaving = false;
  let closed = false;

  socket.on("message", (msg, rinfo) => {
    const from = rinfo.address.replace(/^::ffff:/, "");
    try {
      const keys = opts.keys();
      if (!keys) return opts.onDrop("no-key", { from, message: dropMessages["no-key"] });
      const decoded = decodeHeartbeat(msg, keys);
      if (!decoded.ok) return opts.onDrop(decoded.reason, { from, message: dropMessages[decoded.reason] });
      const hb = decoded.heartbeat;
      if (hb.node === opts.node) return;
      const verdict = guard.admit(hb, wallNow());
      if (!verdict.ok) return opts.onDrop(verdict.reason, { from, message: verdict.detail });
      opts.onHeartbeat(hb, from);
    } catch (err) {
      opts.onError(err as Error);
    }
  });
  socket.on("error", (err) => opts.onError(err));

  /** Sends the next heartbeat to every peer; the periodic, sendNow and leaving heartbeats all go through here. */
  const sendAll = (leavingNow: boolean) => {
    if (closed) return;
    let payload: Buffer;
    let peers: string[];
    let sent: number;
    try {
      const keys = opts.keys();
      if (!keys) return;
      sent = ++seq;
      const body = opts.body(sent);
      payload = encodeHeartbeat(
        { ...body, leaving: leavingNow || body.leaving, node: opts.node, identity: opts.identity, startedAt: opts.startedAt, seq: sent, sentAt: Math.floor(wallNow()) },
        keys.signing,
      );
      peers = opts.peers();
    } catch (err) {
      opts.onError(err as Error);
      return;
    }
    for (const peer of peers) {
      const address = dualStack && isIPv4(peer) ? `::ffff:${peer}` : peer;
      if (!dualStack && !isIPv4(peer)) continue;
      try {
        socket.send(payload, peerPort, address, (err) => {
          // A peer whose route is gone (link down) fails with EHOSTUNREACH/ENETUNREACH: not our problem.
          if (err && !/EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ECONNREFUSED|EPERM/.test(String((err as NodeJS.ErrnoException).code))) {
            opts.onError(err);
          }
        });
      } catch (err) {
        // Refused before it was queued (e.g. a malformed address): the other peers still get theirs.
        opts.onError(err as Error);
      }
    }
    try {
      opts.onSent?.(sent);
    } catch (err) {
      opts.onError(err as Error);
    }
  };
  const timer = setInterval(() => sendAll(leaving), opts.intervalMs);
  timer.unref();
  sendAll(false);

  return {
    sendNow: () => sendAll(leaving),
    announceLeaving: async (count = 3) => {
      clearInterval(timer);
      leaving = true;
      for (let i = 0; i < count; i++) {
        sendAll(true);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        if (closed) return resolve();
        closed = true;
        socket.close(() => resolve());
      }),
  };
}

async function bind(port: number): Promise<Socket> {
  try {
    return await bindFamily("udp6", "::", port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") throw portInUse(port);
    try {
      return await bindFamily("udp4", "0.0.0.0", port);
    } catch (err4) {
      if ((err4 as NodeJS.ErrnoException).code === "EADDRINUSE") throw portInUse(port);
      throw err4;
    }
  }
}

function bindFamily(type: "udp4" | "udp6", address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type, ipv6Only: false, reuseAddr: false });
    socket.once("error", (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, address, () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
  });
}

function portInUse(port: number): Error {
  return new Error(`heartbeat port ${port}/udp is already in use on this node; pick another with --heartbeat-port (all speakers must agree)`);
}
