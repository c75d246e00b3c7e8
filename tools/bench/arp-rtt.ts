/**
 * Benchmark (not a test): ARP reply round-trip time of the speaker against the kernel's own reply, on a veth
 * pair between a client and a node network namespace. RTT is taken from packet timestamps of a tcpdump capture
 * on the client's interface (request leaving → reply arriving, nanosecond precision), not from arping's own
 * figures. Requests come from arp-requester.ts (one every 10 ms, each from its own sender IP so every reply is
 * paired with its request exactly). Needs root. Prints JSON (microseconds):
 *
 *   ./node_modules/.bin/node tools/bench/arp-rtt.ts [requests=220] [warmup=20]
 *
 * Responders: "kernel" (the VIP bound to the node's interface), "js" (the speaker's packet socket, frames
 * decided by speaker/wire/responder.ts and sent from JavaScript) and "native" (the addon's fast path). Goal: the native
 * fast path's p50 at most 1.5 × the kernel's.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Goals } from "./goals.ts";

const REQUESTS = Number(process.argv[2] ?? 220);
const WARMUP = Number(process.argv[3] ?? 20);
const INTERVAL_MS = 10;
const FIRST_SENDER = "10.78.1.0"; // request i comes from 10.78.1.0 + i, so each reply names its request
const CLIENT_NS = `blb-rtt-${process.pid}-c`;
const NODE_NS = `blb-rtt-${process.pid}-n`;
const VIP = "10.78.0.100";
const NODE = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const RESPONDER = fileURLToPath(new URL("./arp-responder.ts", import.meta.url));
const REQUESTER = fileURLToPath(new URL("./arp-requester.ts", import.meta.url));

function sh(command: string, ...args: string[]): string {
  return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Resolves with the first stdout/stderr line matching `pattern`; rejects after `ms`. */
function waitForLine(child: ChildProcess, pattern: RegExp, ms = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${ms} ms`)), ms);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on("line", (line) => {
        if (pattern.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    child.on("exit", (code) => reject(new Error(`exited (${code}) before printing ${pattern}`)));
  });
}

function exited(child: ChildProcess, ms = 5_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve();
    }, ms);
    child.on("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

interface Packet {
  timeNs: bigint;
  data: Buffer;
}

/** Reads a pcap file (either byte order, micro- or nanosecond timestamps). */
function readPcap(path: string): Packet[] {
  const file = readFileSync(path);
  const magic = file.readUInt32LE(0);
  const littleEndian = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const read32 = (offset: number) => (littleEndian ? file.readUInt32LE(offset) : file.readUInt32BE(offset));
  const nano = read32(0) === 0xa1b23c4d;
  const packets: Packet[] = [];
  for (let at = 24; at + 16 <= file.length; ) {
    const seconds = BigInt(read32(at));
    const fraction = BigInt(read32(at + 4));
    const length = read32(at + 8);
    packets.push({ timeNs: seconds * 1_000_000_000n + (nano ? fraction : fraction * 1000n), data: file.subarray(at + 16, at + 16 + length) });
    at += 16 + length;
  }
  return packets;
}

/**
 * RTT per request, in request order: a request for the VIP from sender IP S is answered by the first reply
 * from the VIP whose target IP is S. Requests without a reply in the capture count as unanswered.
 */
function roundTrips(packets: Packet[], vip: Buffer): { rtts: number[]; requests: number; unanswered: number } {
  const isArp = (p: Packet, op: number) => p.data.length >= 42 && p.data.readUInt16BE(12) === 0x0806 && p.data.readUInt16BE(20) === op;
  const sentAt = new Map<number, bigint>();
  const rtts: number[] = [];
  let requests = 0;
  for (const p of packets) {
    if (isArp(p, 1) && p.data.subarray(38, 42).equals(vip)) {
      requests++;
      sentAt.set(p.data.readUInt32BE(28), p.timeNs);
    } else if (isArp(p, 2) && p.data.subarray(28, 32).equals(vip)) {
      const requester = p.data.readUInt32BE(38);
      const sent = sentAt.get(requester);
      if (sent === undefined) continue;
      rtts.push(Number(p.timeNs - sent) / 1000);
      sentAt.delete(requester);
    }
  }
  return { rtts, requests, unanswered: sentAt.size };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(mode: "kernel" | "js" | "native", dir: string): Promise<object> {
  let responder: ChildProcess | undefined;
  if (mode === "kernel") {
    sh("ip", "-n", NODE_NS, "addr", "add", `${VIP}/32`, "dev", "spk0");
  } else {
    responder = spawn("ip", ["netns", "exec", NODE_NS, NODE, RESPONDER, "spk0", mode, VIP], { stdio: ["pipe", "pipe", "pipe"] });
    await waitForLine(responder, /^ready$/);
  }
  const capture = join(dir, `${mode}.pcap`);
  const tcpdump = spawn("ip", ["netns", "exec", CLIENT_NS, "tcpdump", "-i", "cli0", "-n", "-U", "--immediate-mode", "--time-stamp-precision=nano", "-w", capture, "arp"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    await waitForLine(tcpdump, /listening on/);
    const requester = spawn("ip", ["netns", "exec", CLIENT_NS, NODE, REQUESTER, "cli0", VIP, FIRST_SENDER, String(REQUESTS), String(INTERVAL_MS)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    await waitForLine(requester, /^done$/, 10_000 + REQUESTS * INTERVAL_MS * 2);
    await exited(requester);
    await new Promise((resolve) => setTimeout(resolve, 200)); // let late replies arrive
  } finally {
    tcpdump.kill("SIGINT");
    await exited(tcpdump);
    if (responder !== undefined) {
      responder.stdin?.end();
      await exited(responder);
    }
    if (mode === "kernel") sh("ip", "-n", NODE_NS, "addr", "del", `${VIP}/32`, "dev", "spk0");
  }
  const { rtts, requests, unanswered } = roundTrips(readPcap(capture), Buffer.from(VIP.split(".").map(Number)));
  const sorted = rtts.slice(WARMUP).sort((a, b) => a - b);
  const round = (us: number) => Math.round(us * 10) / 10;
  return {
    requestsCaptured: requests,
    samples: sorted.length,
    unanswered,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "blb-arp-rtt-"));
  try {
    sh("ip", "netns", "add", CLIENT_NS);
    sh("ip", "netns", "add", NODE_NS);
    sh("ip", "-n", NODE_NS, "link", "add", "name", "spk0", "type", "veth", "peer", "name", "cli0", "netns", CLIENT_NS);
    sh("ip", "-n", NODE_NS, "addr", "add", "10.78.0.2/16", "dev", "spk0");
    sh("ip", "-n", CLIENT_NS, "addr", "add", "10.78.0.1/16", "dev", "cli0");
    sh("ip", "-n", NODE_NS, "link", "set", "spk0", "up");
    sh("ip", "-n", CLIENT_NS, "link", "set", "cli0", "up");
    const results: Record<string, { p50: number; p95: number }> = {};
    for (const mode of ["kernel", "js", "native"] as const) results[mode] = (await measure(mode, dir)) as { p50: number; p95: number };
    const ratio = (mode: string, p: "p50" | "p95") => Math.round((results[mode][p] / results.kernel[p]) * 100) / 100;
    console.log(
      JSON.stringify(
        {
          unit: "µs",
          requests: REQUESTS,
          warmup: WARMUP,
          ...results,
          ratioToKernel: {
            js: { p50: ratio("js", "p50"), p95: ratio("js", "p95") },
            native: { p50: ratio("native", "p50"), p95: ratio("native", "p95") },
          },
          goals: { "ratioToKernel.native.p50": { max: 1.5 } } satisfies Goals,
        },
      ),
    );
  } finally {
    for (const ns of [CLIENT_NS, NODE_NS]) {
      try {
        sh("ip", "netns", "del", ns);
      } catch {
        // not created
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
