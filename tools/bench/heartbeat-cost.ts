/**
 * Heartbeat cost benchmark (not a test): what one speaker's heartbeats cost it with P peers, at the speaker's
 * default timing. The speaker side is heartbeat-cost-subject.ts, a process that runs the speaker's real
 * heartbeat path (channel, evidence, membership view after every heartbeat). P simulated peers run here, each
 * on its own loopback address (127.0.0.2, 127.0.0.3, …): every interval each sends the subject a signed
 * heartbeat that relays, as a real peer would, the newest counter of every other peer and of the subject (so the
 * datagrams have their real size), and each reads the subject's heartbeats to learn its counter. Per P:
 *
 * - `cpuPercent`: the subject's CPU time over 10 s, as a share of one core;
 * - `sentPerSecond` / `receivedPerSecond`: datagrams the subject sent and received per second, to compare with
 *   the formula: each speaker sends P / interval and receives P / interval;
 * - `datagramBytes`: the size of one peer's heartbeat (it grows with P: every heartbeat relays every peer).
 *
 * No root needed (loopback only). Prints one JSON line on stdout:
 *
 *   ./node_modules/.bin/node tools/bench/heartbeat-cost.ts [--peers 3,30]
 *
 * @example
 * const r = await benchHeartbeatCost({ peers: [3, 30] });
 * r.byPeers["30"].cpuPercent; // the subject's CPU with 30 peers
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { decodeHeartbeat, encodeHeartbeat, heartbeatKeyOf } from "../../speaker/cluster/heartbeat-message.ts";
import type { RelayedCounter } from "../../speaker/cluster/membership-evidence.ts";
import { parseSpeakerFlags } from "../../speaker/flags.ts";

const node24 = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const subjectScript = fileURLToPath(new URL("./heartbeat-cost-subject.ts", import.meta.url));
const subjectPort = 17947;
const peerPort = 17948;
const measureSeconds = 10;

export interface HeartbeatCostRow {
  cpuPercent: number;
  sentPerSecond: number;
  receivedPerSecond: number;
  /** What the formula says for both: P / interval. */
  formulaPerSecond: number;
  datagramBytes: number;
  dropped: number;
  /** Live speakers the subject counted at the end (P + 1 when every peer was heard). */
  live: number;
}

export interface HeartbeatCostResult {
  bench: "heartbeat-cost";
  settings: { heartbeatIntervalMs: number; heartbeatTimeoutMs: number; seconds: number };
  byPeers: Record<string, HeartbeatCostRow>;
}

interface FakePeer {
  name: string;
  address: string;
  socket: Socket;
  seq: number;
}

function bindPeer(address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: "udp4" });
    socket.once("error", reject);
    socket.bind(peerPort, address, () => {
      socket.removeListener("error", reject);
      resolve(socket);
    });
  });
}

async function measure(peerCount: number, intervalMs: number, timeoutMs: number): Promise<HeartbeatCostRow> {
  const secret = randomBytes(32);
  const key = heartbeatKeyOf(secret);
  const keys = { signing: key, accepted: new Map([[key.idHex, key]]) };
  const startedAt = Date.now();
  const peers: FakePeer[] = [];
  // The newest counter of the subject any peer has heard, relayed by all (they hear each other in a real cluster).
  let subject: RelayedCounter | undefined;
  let learnedAt = 0;
  try {
    for (let i = 0; i < peerCount; i++) {
      const address = `127.0.0.${i + 2}`;
      const socket = await bindPeer(address);
      socket.on("message", (msg) => {
        const decoded = decodeHeartbeat(msg, keys);
        if (decoded.ok && (!subject || decoded.heartbeat.seq > subject.seq)) {
          subject = { node: decoded.heartbeat.node, startedAt: decoded.heartbeat.startedAt, seq: decoded.heartbeat.seq, candidate: true, ageMs: 0 };
          learnedAt = performance.now();
        }
      });
      peers.push({ name: `peer-${String(i + 1).padStart(2, "0")}`, address, socket, seq: 0 });
    }
    let datagramBytes = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      for (const p of peers) {
        p.seq++;
        const hears: RelayedCounter[] = peers.filter((o) => o !== p).map((o) => ({ node: o.name, startedAt, seq: o.seq, candidate: true, ageMs: 1 }));
        if (subject) hears.push({ ...subject, ageMs: Math.round(now - learnedAt) });
        const datagram = encodeHeartbeat(
          { node: p.name, identity: `${p.name}-1`, startedAt, seq: p.seq, sentAt: Date.now(), leaving: false, candidate: true, apiReachable: true, hears },
          key,
        );
        datagramBytes = datagram.length;
        p.socket.send(datagram, subjectPort, "127.0.0.1");
      }
    }, intervalMs);
    try {
      const child = spawn(
        node24,
        [subjectScript, String(subjectPort), String(peerPort), peers.map((p) => p.address).join(","), String(intervalMs), String(timeoutMs), String(measureSeconds), secret.toString("hex")],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
      if (code !== 0) throw new Error(`heartbeat-cost-subject exited ${code}`);
      const r = JSON.parse(out.trim()) as Omit<HeartbeatCostRow, "formulaPerSecond" | "datagramBytes">;
      return { ...r, formulaPerSecond: Math.round((peerCount * 1000) / intervalMs), datagramBytes };
    } finally {
      clearInterval(tick);
    }
  } finally {
    for (const p of peers) p.socket.close();
  }
}

/** Runs the benchmark for each peer count; see the module comment. */
export async function benchHeartbeatCost(opts: { peers: readonly number[] }): Promise<HeartbeatCostResult> {
  const flags = parseSpeakerFlags(["--node-name", "bench"], {});
  const byPeers: Record<string, HeartbeatCostRow> = {};
  for (const p of opts.peers) {
    byPeers[String(p)] = await measure(p, flags.heartbeatIntervalMs, flags.heartbeatTimeoutMs);
    process.stderr.write(`heartbeat-cost: ${p} peers: ${JSON.stringify(byPeers[String(p)])}\n`);
  }
  return { bench: "heartbeat-cost", settings: { heartbeatIntervalMs: flags.heartbeatIntervalMs, heartbeatTimeoutMs: flags.heartbeatTimeoutMs, seconds: measureSeconds }, byPeers };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { peers: { type: "string" } }, strict: true });
  const peers = (values.peers ?? "3,30").split(",").map(Number);
  if (peers.some((p) => !Number.isInteger(p) || p < 1 || p > 250)) {
    console.error(`heartbeat-cost: --peers takes peer counts from 1 to 250, e.g. 3,30; got "${values.peers}"`);
    process.exit(2);
  }
  console.log(JSON.stringify(await benchHeartbeatCost({ peers })));
}
