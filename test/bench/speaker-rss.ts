/**
 * Speaker footprint benchmark (not a test): one node owns every VIP. In a one-node lab
 * (test/e2e/lab-cluster.ts), it creates N LoadBalancer Services (default 10,000) whose status
 * already carries an IP from 10.77.0.0/16 (written through the API, so no controller is needed;
 * the speaker only reads status) and whose shared selector matches one ready Pod on the node, so
 * the simulator gives each an EndpointSlice. Then it starts the speaker and measures:
 *
 * - announceAllSeconds: from spawning the speaker until it logged "announcing ip" for all N
 *   (cross-checked against its `metallb_speaker_announced` series);
 * - idleCpuPercent: utime+stime from /proc/<pid>/stat over 10 s, after the gratuitous bursts;
 * - rssMb / hwmMb: VmRSS and VmHWM from /proc/<pid>/status at the end.
 *
 * Needs root. Prints one JSON line on stdout (progress on stderr):
 *
 *   ./node_modules/.bin/node test/bench/speaker-rss.ts [--vips 10000] [--cpu-prof-dir DIR]
 *
 * With `--cpu-prof-dir`, the speaker writes a V8 CPU profile there when it exits.
 *
 * @example
 * const r = await benchSpeakerRss({ vips: 10_000 });
 * r.rssMb; // resident MiB of the speaker with 10,000 owned VIPs
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { open, readFile, readlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CoreV1Api, KubeConfig, type V1Service } from "@kubernetes/client-node";
import { reuseConnections } from "../../shared/kube/pooled-connections.ts";
import { runIn, spawnIn } from "../netns/run.ts";
import { runNamespaceBench } from "./namespace-bench-main.ts";
import { startLabCluster, type LabCluster } from "../e2e/lab-cluster.ts";

/** What one run measured. */
export interface SpeakerRssResult {
  vips: number;
  rssMb: number;
  hwmMb: number;
  announceAllSeconds: number;
  idleCpuPercent: number;
}

const node24 = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const speakerMain = fileURLToPath(new URL("../../speaker/main.ts", import.meta.url));
const namespace = "default";
const inFlight = 32;
const idleWindowMs = 10_000;
/** The gratuitous burst after a gain lasts 5 s; idle CPU is measured after it. */
const burstMs = 6_000;
const pool = "address-pools:\n- name: bench\n  protocol: layer2\n  addresses: [10.77.0.0/16]\n";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`speaker-rss: ${msg}\n`);

/** The i-th VIP of the pool: 10.77.0.1, 10.77.0.2, … */
function vipOf(i: number): string {
  const n = i + 1;
  return `10.77.${n >> 8}.${n & 255}`;
}

/** Runs `task(i)` for i in [0, n) with at most `limit` running at once. */
async function runPool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/** VmRSS and VmHWM of `pid` in MiB. */
async function memoryMb(pid: number): Promise<{ rss: number; hwm: number }> {
  const text = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

/** utime and stime of `pid` (all its threads), in clock ticks. */
async function cpuTicks(pid: number): Promise<{ user: number; system: number }> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces; fields after its closing parenthesis start at 3.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]), system: Number(fields[12]) };
}

function clockTicksPerSecond(): number {
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const ticks = Number(r.stdout.trim());
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
}

/** Calls `check` every 50 ms until it returns true; throws after `ms` with `what` and `detail()`. */
async function waitUntil(check: () => boolean, ms: number, what: string, detail: () => string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}: ${detail()}`);
    await sleep(50);
  }
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return Promise.race([new Promise<boolean>((r) => child.once("exit", () => r(true))), sleep(ms).then(() => false)]);
}

/** Follows the speaker's log file: which VIPs it announces now, and when it first announced all. */
class SpeakerLog {
  readonly owned = new Set<string>();
  /** Epoch ms (the speaker's own log time) of the line after which the most VIPs were owned. */
  allOwnedAt = NaN;
  fenced = 0;
  private readonly path: string;
  private offset = 0;
  private partial = "";
  private most = 0;

  constructor(path: string) {
    this.path = path;
  }

  async poll(): Promise<void> {
    const file = await open(this.path, "r");
    try {
      for (;;) {
        const buf = Buffer.alloc(1 << 20);
        const { bytesRead } = await file.read(buf, 0, buf.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        const lines = (this.partial + buf.subarray(0, bytesRead).toString("utf8")).split("\n");
        this.partial = lines.pop()!;
        for (const line of lines) this.take(line);
      }
    } finally {
      await file.close();
    }
  }

  private take(line: string): void {
    if (!line.startsWith("{")) return;
    const entry = JSON.parse(line) as { msg?: string; ip?: string; time?: string };
    if (entry.msg === "announcing ip" && entry.ip) this.owned.add(entry.ip);
    else if (entry.msg === "stopped announcing ip" && entry.ip) this.owned.delete(entry.ip);
    else if (entry.msg === "no heartbeat quorum: not announcing; check that UDP heartbeats reach every node and the memberlist Secret is the same everywhere") this.fenced++;
    else return;
    if (this.owned.size > this.most) {
      this.most = this.owned.size;
      this.allOwnedAt = Date.parse(entry.time ?? "");
    }
  }
}

/** Creates the Services with their status IPs, and waits for their EndpointSlices. */
async function createServices(lab: LabCluster, vips: number): Promise<void> {
  const started = performance.now();
  // One connection pool: a fresh connection per request would exhaust the host's ephemeral ports.
  const kc = new KubeConfig();
  kc.loadFromFile(lab.kubeconfigPath);
  const core = reuseConnections(kc).makeApiClient(CoreV1Api);
  await runPool(vips, inFlight, async (i) => {
    const created = await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: `svc-${i}` },
        spec: { type: "LoadBalancer", allocateLoadBalancerNodePorts: false, selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    const body: V1Service = { ...created, status: { loadBalancer: { ingress: [{ ip: vipOf(i), ipMode: "VIP" }] } } };
    await core.replaceNamespacedServiceStatus({ name: `svc-${i}`, namespace, body });
  });
  log(`created ${vips} Services with status IPs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const slices = lab.sim.state.registry.find("discovery.k8s.io", "v1", "endpointslices");
  if (!slices) throw new Error("kube-sim serves no discovery.k8s.io/v1 endpointslices");
  const ready = () => lab.sim.state.list(slices, namespace).filter((s) => ((s.object as { endpoints?: unknown[] }).endpoints ?? []).length > 0).length;
  await waitUntil(() => ready() >= vips, 300_000, "an EndpointSlice with the Pod for every Service", () => `${ready()} of ${vips}`);
}

/** Runs the benchmark; see the module comment. `onStop` hands out the (idempotent) cleanup for SIGINT. */
export async function benchSpeakerRss(opts: { vips: number; nodeArgs?: string[]; onStop?: (stop: () => Promise<void>) => void }): Promise<SpeakerRssResult> {
  const lab = await startLabCluster({ prefix: "blbrss", index: 72, nodeNames: ["node-1"] });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= lab.stop());
  opts.onStop?.(stop);
  let speaker: ChildProcess | undefined;
  try {
    const node = lab.topo.nodes[0];
    await lab.core.createNamespacedConfigMap({ namespace: "metallb-system", body: { metadata: { name: "config" }, data: { config: pool } } });
    await lab.startBackends("web");
    await createServices(lab, opts.vips);

    // The speaker logs to a file, not a pipe: a pipe would stall it whenever this process (which
    // also serves the simulator) is slow to read.
    const logPath = join(tmpdir(), "blb-speaker-rss.log");
    const logFd = openSync(logPath, "w");
    const spawnedAtEpoch = Date.now();
    const spawnedAt = performance.now();
    speaker = spawnIn(
      node.ns,
      [node24, ...(opts.nodeArgs ?? []), speakerMain, "--kubeconfig", lab.kubeconfigPath, "--node-name", node.name, "--metrics-host", node.ipv4, "--kube-proxy-mode-url", "http://127.0.0.1:1/proxyMode"],
      { stdio: ["ignore", logFd, logFd] },
    );
    closeSync(logFd);
    lab.topo.track(speaker);
    const child = speaker;
    log(`speaker output in ${logPath}`);
    const speakerLog = new SpeakerLog(logPath);
    const pid = child.pid!;
    await sleep(200);
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => "");
    if (!/node/.test(exe)) throw new Error(`pid ${pid} runs "${exe}", not node: ip netns exec did not exec the speaker in place`);

    const allAnnounced = async () => {
      await speakerLog.poll();
      return speakerLog.owned.size >= opts.vips || child.exitCode !== null;
    };
    const deadline = performance.now() + 600_000;
    while (!(await allAnnounced())) {
      if (performance.now() > deadline) throw new Error(`the speaker announced only ${speakerLog.owned.size} of ${opts.vips} VIPs within 600 s; see ${logPath}`);
      await sleep(250);
    }
    if (child.exitCode !== null) throw new Error(`the speaker exited (${child.exitCode}); see ${logPath}`);
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
    const ticksPerSecond = clockTicksPerSecond();
    const before = await cpuTicks(pid);
    const windowStart = performance.now();
    await sleep(idleWindowMs);
    const after = await cpuTicks(pid);
    const windowSeconds = (performance.now() - windowStart) / 1000;
    const percent = (ticks: number) => (ticks / ticksPerSecond / windowSeconds) * 100;
    const idleCpuPercent = percent(after.user - before.user + after.system - before.system);
    log(`idle ${windowSeconds.toFixed(1)} s: user ${percent(after.user - before.user).toFixed(1)}%, system ${percent(after.system - before.system).toFixed(1)}%`);
    const mem = await memoryMb(pid);
    await speakerLog.poll();
    if (speakerLog.owned.size !== opts.vips) throw new Error(`after the idle window the speaker announces ${speakerLog.owned.size} of ${opts.vips} VIPs; see ${logPath}`);
    if (speakerLog.fenced > 0) log(`the speaker lost heartbeat quorum ${speakerLog.fenced} times`);

    child.kill("SIGTERM");
    if (!(await exited(child, 30_000))) log("the speaker did not exit within 30 s of SIGTERM");
    return {
      vips: opts.vips,
      rssMb: round(mem.rss),
      hwmMb: round(mem.hwm),
      announceAllSeconds: round(announceAllSeconds),
      idleCpuPercent: round(idleCpuPercent),
    };
  } finally {
    if (speaker && speaker.exitCode === null && speaker.signalCode === null) {
      // SIGTERM first, so a --cpu-prof profile is written even when the run failed.
      speaker.kill("SIGTERM");
      if (!(await exited(speaker, 30_000))) speaker.kill("SIGKILL");
    }
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
  await runNamespaceBench("speaker-rss", (onStop) => benchSpeakerRss({ vips, nodeArgs: profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : undefined, onStop }));
}
