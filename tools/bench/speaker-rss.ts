/**
 * Speaker footprint benchmark (not a test): one node owns every VIP. In a one-node lab
 * (tools/bench/speaker-lab.ts), it creates N LoadBalancer Services (default 10,000) whose status
 * already carries an IP from 10.77.0.0/16 (written through the API, so no controller is needed;
 * the speaker only reads status) and whose shared selector matches one ready Pod on the node, so
 * the simulator gives each an EndpointSlice. Then it starts the speaker as the image runs it
 * (tools/bench/product-env.ts) and measures:
 *
 * - announceAllSeconds: from spawning the speaker until it logged "announcing ip" for all N
 *   (cross-checked against its `metallb_speaker_announced` series);
 * - idleCpuPercent: utime+stime from /proc/<pid>/stat over 10 s, after the gratuitous bursts;
 * - rssMb / hwmMb: VmRSS and VmHWM from /proc/<pid>/status at the end (goal for 10,000 VIPs,
 *   issue 11: rssMb ≤ 150; speaker-idle.ts runs this with one Service).
 *
 * Needs root. Prints one JSON line on stdout (progress on stderr):
 *
 *   ./node_modules/.bin/node tools/bench/speaker-rss.ts [--vips 10000] [--cpu-prof-dir DIR]
 *
 * With `--cpu-prof-dir`, the speaker writes a V8 CPU profile there when it exits.
 *
 * @example
 * const r = await benchSpeakerRss({ vips: 10_000 });
 * r.rssMb; // resident MiB of the speaker with 10,000 owned VIPs
 */
import type { ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { runIn } from "../netns/run.ts";
import { runNamespaceBench } from "./namespace-bench-main.ts";
import { startLabCluster } from "../lab/lab-cluster.ts";
import type { Goals } from "./goals.ts";
import { cpuSeconds, memoryMb } from "./proc-stats.ts";
import { warmCompileCache } from "./product-env.ts";
import { createServicesWithVips, speakerPid, spawnSpeaker, stopSpeaker, vipOf, waitForAnnounced } from "./speaker-lab.ts";

/** What one run measured. */
export interface SpeakerRssResult {
  vips: number;
  rssMb: number;
  hwmMb: number;
  announceAllSeconds: number;
  idleCpuPercent: number;
  goals: Goals;
}

/** Issue 11's goal for 10,000 owned VIPs (speaker-idle.ts holds the one for a single Service). */
export const goalFor10k = { rssMb: { max: 150 } } satisfies Goals;

const idleWindowMs = 10_000;
/** The gratuitous burst after a gain lasts 5 s; idle CPU is measured after it. */
const burstMs = 6_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the benchmark; see the module comment. `lab` names the lab's namespaces (default blbrss, index 72), `goals`
 * go into the result as they are. `onStop` hands out the (idempotent) cleanup for SIGINT.
 */
export async function benchSpeakerRss(opts: {
  vips: number;
  goals?: Goals;
  lab?: { prefix: string; index: number };
  nodeArgs?: string[];
  onStop?: (stop: () => Promise<void>) => void;
}): Promise<SpeakerRssResult> {
  const name = opts.lab?.prefix ?? "blbrss";
  const log = (msg: string) => process.stderr.write(`${name}: ${msg}\n`);
  await warmCompileCache();
  const lab = await startLabCluster({ prefix: name, index: opts.lab?.index ?? 72, nodeNames: ["node-1"] });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= lab.stop());
  opts.onStop?.(stop);
  let speaker: ChildProcess | undefined;
  try {
    const node = lab.topo.nodes[0];
    await createServicesWithVips(lab, opts.vips, log);

    const logPath = join(tmpdir(), `${name}-speaker.log`);
    const spawnedAtEpoch = Date.now();
    const spawnedAt = performance.now();
    const spawned = spawnSpeaker(lab, logPath, opts.nodeArgs);
    speaker = spawned.child;
    const speakerLog = spawned.log;
    log(`speaker output in ${logPath}`);
    const pid = await speakerPid(speaker);

    await waitForAnnounced(speaker, speakerLog, opts.vips, 600_000);
    const announceAllSeconds = (speakerLog.allOwnedAt - spawnedAtEpoch) / 1000;
    log(`announced ${speakerLog.owned.size} VIPs ${announceAllSeconds.toFixed(1)} s after start (seen here after ${((performance.now() - spawnedAt) / 1000).toFixed(1)} s)`);

    const metrics = await runIn(node.ns, ["curl", "-s", "--max-time", "30", `http://${node.ipv4}:7473/metrics`], { timeoutMs: 35_000 });
    const series = metrics.stdout.split("\n").filter((l) => l.startsWith("metallb_speaker_announced{")).length;
    if (series !== opts.vips) {
      throw new Error(`metallb_speaker_announced has ${series} series, expected ${opts.vips} (curl exit ${metrics.code}, ${metrics.stdout.length} bytes: ${metrics.stderr.trim()})`);
    }
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(metrics.stdout)?.[1] ?? NaN) / 1048576;
    log(`V8 heap used ${gauge("nodejs_heap_size_used_bytes").toFixed(0)} MiB of ${gauge("nodejs_heap_size_total_bytes").toFixed(0)}, external ${gauge("nodejs_external_memory_bytes").toFixed(0)} MiB; /metrics is ${(metrics.stdout.length / 1048576).toFixed(1)} MiB`);
    const probeVip = vipOf(Math.floor(opts.vips / 2));
    const arping = await runIn(lab.topo.client.ns, ["arping", "-i", "eth0", "-c", "1", "-W", "0.5", probeVip], { timeoutMs: 5_000 });
    if (!arping.stdout.toLowerCase().includes(node.mac)) throw new Error(`no ARP reply from ${node.mac} for ${probeVip}: ${arping.stdout}`);

    await sleep(burstMs);
    const before = await cpuSeconds(pid);
    const windowStart = performance.now();
    await sleep(idleWindowMs);
    const after = await cpuSeconds(pid);
    const windowSeconds = (performance.now() - windowStart) / 1000;
    const percent = (seconds: number) => (seconds / windowSeconds) * 100;
    const idleCpuPercent = percent(after.total - before.total);
    log(`idle ${windowSeconds.toFixed(1)} s: user ${percent(after.user - before.user).toFixed(1)}%, system ${percent(after.system - before.system).toFixed(1)}%`);
    const mem = await memoryMb(pid);
    if (!mem) throw new Error(`the speaker exited during the idle window; see ${logPath}`);
    await speakerLog.poll();
    if (speakerLog.owned.size !== opts.vips) throw new Error(`after the idle window the speaker announces ${speakerLog.owned.size} of ${opts.vips} VIPs; see ${logPath}`);
    if (speakerLog.fenced > 0) log(`the speaker lost heartbeat quorum ${speakerLog.fenced} times`);

    if (!(await stopSpeaker(speaker))) log("the speaker did not exit within 30 s of SIGTERM");
    return {
      vips: opts.vips,
      rssMb: round(mem.rss),
      hwmMb: round(mem.hwm),
      announceAllSeconds: round(announceAllSeconds),
      idleCpuPercent: round(idleCpuPercent),
      goals: opts.goals ?? {},
    };
  } finally {
    // SIGTERM first, so a --cpu-prof profile is written even when the run failed.
    if (speaker) await stopSpeaker(speaker);
    await stop();
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { vips: { type: "string" }, "cpu-prof-dir": { type: "string" } }, strict: true });
  const vips = Number(values.vips ?? 10_000);
  if (!Number.isInteger(vips) || vips < 1 || vips > 65_000) {
    console.error(`speaker-rss: --vips must be an integer from 1 to 65000 (the pool is a /16), got "${values.vips}"`);
    process.exit(2);
  }
  const profDir = values["cpu-prof-dir"];
  const goals = vips === 10_000 ? goalFor10k : {};
  await runNamespaceBench("speaker-rss", (onStop) => benchSpeakerRss({ vips, goals, nodeArgs: profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : undefined, onStop }));
}
