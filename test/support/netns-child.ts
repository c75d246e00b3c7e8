/**
 * Test helper: drives packet sockets from inside a network namespace, for speaker/l2/packet-socket.test.ts.
 * A packet socket belongs to the namespace of the process that opens it, so the test starts this script with
 * `ip netns exec NS node test/support/netns-child.ts` and talks JSON lines to it.
 *
 * Requests on stdin: `{ "id": 1, "op": "open", "socket": "a", "ifname": "spk0", "protocols": "both" }`, then
 * `send` (hex), `addMembership` / `dropMembership` (hex MAC), `setReplyTable` (ipv4, ipv6), `setFastPath`
 * (enabled), `setAnswerUntil` (inMs from now; none: Infinity), `unref`, `close`, `mac` (hex, and whether two
 * reads give the same Buffer), `stats` (the kernel's packets and drops since the last read), `flood` (send hex
 * `count` times), `stall` (keep the event loop busy for `ms`, so nothing reads the sockets) and `fds` (how many
 * descriptors this process has open).
 * Answers on stdout: `{ "id": 1, "ok": true, ... }` or `{ "id": 1, "error": { code, syscall, message } }`.
 * Events on stdout: `{ "event": "frame", "socket": "a", "hex": "...", "packetType": "broadcast", "answered": false }`
 * and `{ "event": "error", "socket": "a", "error": { ... } }`.
 * When stdin ends, every socket is closed and stdin released, so the process must exit on its own: a socket that
 * kept the event loop alive after close() would hang it (the test checks).
 */
import { readdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { openPacketSocket, type PacketSocket } from "../../speaker/l2/packet-socket.ts";

interface Request {
  id: number;
  op: string;
  socket?: string;
  ifname?: string;
  protocols?: "arp" | "ndp" | "both";
  hex?: string;
  ipv4?: string[];
  ipv6?: string[];
  enabled?: boolean;
  inMs?: number;
  /** stall: how long to keep the event loop busy. */
  ms?: number;
  /** flood: how many times to send the frame. */
  count?: number;
}

const sockets = new Map<string, PacketSocket>();

function write(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function describeError(error: unknown): object {
  const e = error as NodeJS.ErrnoException;
  return { code: e.code, syscall: e.syscall, message: e.message, name: e.name };
}

function socketFor(request: Request): PacketSocket {
  const socket = sockets.get(request.socket ?? "");
  if (socket === undefined) throw new Error(`no socket named ${String(request.socket)}`);
  return socket;
}

function handle(request: Request): object {
  switch (request.op) {
    case "open": {
      const name = request.socket ?? "";
      const socket = openPacketSocket(request.ifname ?? "", {
        protocols: request.protocols ?? "both",
        onFrame: (frame, info) =>
          write({ event: "frame", socket: name, hex: frame.toString("hex"), packetType: info.packetType, answered: info.answered, ifindex: info.ifindex }),
        onError: (error) => write({ event: "error", socket: name, error: describeError(error) }),
      });
      sockets.set(name, socket);
      return { mac: socket.mac.toString("hex"), ifindex: socket.ifindex };
    }
    case "send":
      socketFor(request).send(Buffer.from(request.hex ?? "", "hex"));
      return {};
    case "addMembership":
      socketFor(request).addMembership(Buffer.from(request.hex ?? "", "hex"));
      return {};
    case "dropMembership":
      socketFor(request).dropMembership(Buffer.from(request.hex ?? "", "hex"));
      return {};
    case "setReplyTable":
      socketFor(request).setReplyTable({ ipv4: request.ipv4 ?? [], ipv6: request.ipv6 ?? [] });
      return {};
    case "setFastPath":
      socketFor(request).setFastPath(request.enabled === true);
      return {};
    case "setAnswerUntil":
      // inMs: from now on performance.now()'s clock; absent: Infinity (answer again).
      socketFor(request).setAnswerUntil(request.inMs === undefined ? Infinity : performance.now() + request.inMs);
      return {};
    case "unref":
      socketFor(request).unref();
      return {};
    case "close": {
      const socket = socketFor(request);
      socket.close();
      return { closed: socket.closed };
    }
    case "mac": {
      const socket = socketFor(request);
      return { hex: socket.mac.toString("hex"), same: socket.mac === socket.mac };
    }
    case "flood": {
      const socket = socketFor(request);
      const frame = Buffer.from(request.hex ?? "", "hex");
      for (let i = 0; i < (request.count ?? 0); i++) socket.send(frame);
      return {};
    }
    case "stats":
      return socketFor(request).stats();
    case "stall": {
      // Keeps the event loop busy, so nothing reads the sockets meanwhile.
      const until = Date.now() + (request.ms ?? 0);
      while (Date.now() < until);
      return {};
    }
    case "fds":
      return { count: readdirSync("/proc/self/fd").length };
    default:
      throw new Error(`unknown op ${request.op}`);
  }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const request = JSON.parse(line) as Request;
  try {
    write({ id: request.id, ok: true, ...handle(request) });
  } catch (error) {
    write({ id: request.id, error: describeError(error) });
  }
});
lines.on("close", () => {
  for (const socket of sockets.values()) socket.close();
  process.stdin.destroy();
});
