import { createSocket, type Socket } from "node:dgram";
import { isIPv4 } from "node:net";
import { decodeHeartbeat, encodeHeartbeat, type Heartbeat } from "./heartbeat-message.ts";

export interface HeartbeatChannelOptions {
  node: string;
  identity: string;
  port: number;
  intervalMs: number;
  /** Peer addresses to send to, asked afresh on every tick (Node InternalIPs, ourselves excluded). */
  peers: () => string[];
  onHeartbeat: (hb: Heartbeat, from: string) => void;
  onDrop: (reason: string) => void;
  onError: (err: Error) => void;
}

/** A running fast-path channel. */
export interface HeartbeatChannel {
  /** Sends `count` "leaving" heartbeats to every peer right away (graceful shutdown). */
  announceLeaving(count?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Sends a heartbeat to every peer each interval over UDP, and reports the ones received.
 * One dual-stack socket serves IPv4 and IPv6 peers; where the kernel has no IPv6, IPv4 only.
 *
 * @example
 * const ch = await openHeartbeatChannel({ node, identity, port: 7947, intervalMs: 100, peers, onHeartbeat, onDrop, onError });
 */
export async function openHeartbeatChannel(opts: HeartbeatChannelOptions): Promise<HeartbeatChannel> {
  const socket = await bind(opts.port);
  const dualStack = socket.address().family === "IPv6";
  let seq = 0;
  socket.on("message", (msg, rinfo) => {
    const decoded = decodeHeartbeat(msg);
    if (!decoded.ok) return opts.onDrop(decoded.reason);
    if (decoded.heartbeat.node === opts.node) return;
    opts.onHeartbeat(decoded.heartbeat, rinfo.address.replace(/^::ffff:/, ""));
  });
  socket.on("error", (err) => opts.onError(err));

  const sendAll = (leaving: boolean) => {
    const payload = encodeHeartbeat({ node: opts.node, identity: opts.identity, seq: seq++, leaving });
    for (const peer of opts.peers()) {
      const address = dualStack && isIPv4(peer) ? `::ffff:${peer}` : peer;
      if (!dualStack && !isIPv4(peer)) continue;
      socket.send(payload, opts.port, address, (err) => {
        // A peer whose route is gone (link down) fails with EHOSTUNREACH/ENETUNREACH: not our problem.
        if (err && !/EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ECONNREFUSED|EPERM/.test(String((err as NodeJS.ErrnoException).code))) {
          opts.onError(err);
        }
      });
    }
  };
  const timer = setInterval(() => sendAll(false), opts.intervalMs);
  timer.unref();
  sendAll(false);

  return {
    announceLeaving: async (count = 3) => {
      clearInterval(timer);
      for (let i = 0; i < count; i++) {
        sendAll(true);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
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
