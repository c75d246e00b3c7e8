/**
 * Speaker start-up benchmark (not a test): how long after it is started a speaker answers ARP for every VIP it
 * should own, with the API warm. In a one-node lab (tools/bench/speaker-lab.ts) holding 10 LoadBalancer Services
 * whose status already carries their VIPs, the speaker is started as the image runs it (product-env.ts) and
 * stopped (SIGTERM) again, 1 + RUNS times; the first start is discarded (it also warms the page cache and the
 * simulator's code paths). For each start, tools/bench/arp-ready-probe.ts in the client's namespace asks who-has
 * for every VIP every 10 ms from the client's own address, as a fresh client would (the client's neighbour table
 * is flushed before each start; the probe reads replies on its own packet socket), and polls the speaker's
 * `/readyz` on the node's address:
 *
 * - arpReadyP50Ms / arpReadyMaxMs / arpReadySamplesMs: from spawning the speaker (`ip netns exec … node
 *   speaker/main.ts`) until the last of the 10 VIPs answered (goal, issue 11: p50 ≤ 1000 ms);
 * - readyzP50Ms / readyzMaxMs: from spawning until `/readyz` first answered 200.
 *
 * Needs root. Prints one JSON line on stdout (progress on stderr):
 *
 *   ./node_modules/.bin/node tools/bench/speaker-ready.ts [--runs 5]
 *
 * @example
 * const r = await benchSpeakerReady({ runs: 5 });
 * r.arpReadyP50Ms <= 1000;
 */
import type { ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startLabCluster, type LabCluster } from "../lab/lab-cluster.ts";
import { mustRunIn, spawnIn } from "../netns/run.ts";
import type { Goals } from "./goals.ts";
import { runNamespaceBench } from "./namespace-bench-main.ts";
import { warmCompileCache } from "./product-env.ts";
import { createServicesWithVips, exited, node24, spawnSpeaker, stopSpeaker } from "./speaker-lab.ts";

/** What one run measured; times in milliseconds from spawning the speaker. */
export interface SpeakerReadyResult {
  services: number;
  runs: number;
  arpReadyP50Ms: number;
  arpReadyMaxMs: number;
  arpReadySamplesMs: number[];
  readyzP50Ms: number;
  readyzMaxMs: number;
  /** The discarded first start. */
  firstStartArpReadyMs: number;
  goals: Goals;
}

const services = 10;
const probeIntervalMs = 10;
/** A start whose VIPs are not all answered by then fails the run. */
const startLimitMs = 30_000;
/** Pause after a speaker exits before the next starts. */
const pauseMs = 2_000;
const probeScript = fileURLToPath(new URL("./arp-ready-probe.ts", import.meta.url));
const goals = { arpReadyP50Ms: { max: 1000 } } satisfies Goals;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`speaker-ready: ${msg}\n`);
const epochMs = () => performance.timeOrigin + performance.now();

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

type ProbeLine = { probing?: number; vip?: string; at?: number; readyz?: number; done?: boolean };

/** Starts the probe in the client's namespace; resolves once its socket is open, with a promise of everything it saw. */
async function startProbe(lab: LabCluster, vips: string[]): Promise<{ child: ChildProcess; finished: Promise<{ vipAt: Map<string, number>; readyzAt: number }> }> {
  const client = lab.topo.client;
  const node = lab.topo.nodes[0];
  const child = spawnIn(client.ns, [node24, probeScript, "eth0", client.ipv4, String(probeIntervalMs), `http://${node.ipv4}:7473/readyz`, ...vips], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  lab.topo.track(child);
  const vipAt = new Map<string, number>();
  let readyzAt = NaN;
  let onProbing: () => void = () => {};
  const probing = new Promise<void>((resolve) => (onProbing = resolve));
  const finished = new Promise<{ vipAt: Map<string, number>; readyzAt: number }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (text) => {
      const line = JSON.parse(text) as ProbeLine;
      if (line.probing !== undefined) onProbing();
      if (line.vip !== undefined && line.at !== undefined) vipAt.set(line.vip, line.at);
      if (line.readyz !== undefined) readyzAt = line.readyz;
      if (line.done) resolve({ vipAt, readyzAt });
    });
    child.on("exit", (code) => reject(new Error(`the ARP probe exited (${code}) with ${vipAt.size} of ${vips.length} VIPs answered`)));
  });
  finished.catch(() => undefined);
  await Promise.race([probing, finished, sleep(10_000).then(() => Promise.reject(new Error("the ARP probe did not open its socket within 10 s")))]);
  return { child, finished };
}

/** One start of the speaker: ms from spawn until every VIP answered ARP, and until /readyz said 200. */
async function measureStart(lab: LabCluster, vips: string[], logPath: string): Promise<{ arpReadyMs: number; readyzMs: number }> {
  await mustRunIn(lab.topo.client.ns, ["ip", "neigh", "flush", "dev", "eth0"]);
  const probe = await startProbe(lab, vips);
  let speaker: ChildProcess | undefined;
  try {
    const spawnedAt = epochMs();
    speaker = spawnSpeaker(lab, logPath).child;
    const speakerExit = exited(speaker, startLimitMs).then((gone) => {
      if (gone) throw new Error(`the speaker exited before answering for every VIP; see ${logPath}`);
      throw new Error(`not every VIP answered ARP within ${startLimitMs / 1000} s of the start; see ${logPath}`);
    });
    const seen = await Promise.race([probe.finished, speakerExit]);
    const last = Math.max(...seen.vipAt.values());
    return { arpReadyMs: last - spawnedAt, readyzMs: seen.readyzAt - spawnedAt };
  } finally {
    probe.child.stdin?.end();
    await exited(probe.child, 5_000);
    if (speaker && !(await stopSpeaker(speaker))) log("the speaker did not exit within 30 s of SIGTERM");
  }
}

/** Runs the benchmark; see the module comment. `onStop` hands out the (idempotent) cleanup for SIGINT. */
export async function benchSpeakerReady(opts: { runs: number; onStop?: (stop: () => Promise<void>) => void }): Promise<SpeakerReadyResult> {
  await warmCompileCache();
  const lab = await startLabCluster({ prefix: "blbready", index: 74, nodeNames: ["node-1"] });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= lab.stop());
  opts.onStop?.(stop);
  try {
    const vips = await createServicesWithVips(lab, services, log);
    const logPath = join(tmpdir(), "blbready-speaker.log");
    log(`speaker output of the latest start in ${logPath}`);
    const samples: { arpReadyMs: number; readyzMs: number }[] = [];
    for (let run = 0; run <= opts.runs; run++) {
      const sample = await measureStart(lab, vips, logPath);
      log(`${run === 0 ? "first start (discarded)" : `start ${run} of ${opts.runs}`}: all ${services} VIPs answer ARP after ${sample.arpReadyMs.toFixed(0)} ms, /readyz after ${sample.readyzMs.toFixed(0)} ms`);
      samples.push(sample);
      await sleep(pauseMs);
    }
    const [first, ...measured] = samples;
    const arp = measured.map((s) => Math.round(s.arpReadyMs));
    const readyz = measured.map((s) => Math.round(s.readyzMs));
    return {
      services,
      runs: opts.runs,
      arpReadyP50Ms: percentile(arp, 50),
      arpReadyMaxMs: Math.max(...arp),
      arpReadySamplesMs: arp,
      readyzP50Ms: percentile(readyz, 50),
      readyzMaxMs: Math.max(...readyz),
      firstStartArpReadyMs: Math.round(first.arpReadyMs),
      goals,
    };
  } finally {
    await stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { runs: { type: "string" } }, strict: true });
  const runs = Number(values.runs ?? 5);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`speaker-ready: --runs must be a positive integer, got "${values.runs}"`);
    process.exit(2);
  }
  await runNamespaceBench("speaker-ready", (onStop) => benchSpeakerReady({ runs, onStop }));
}
