/**
 * Failover benchmark (not a test): how fast a LoadBalancer VIP moves to another node when its owner
 * crashes (kill -9 of the speaker plus the node's link down), the same crash during an API-server
 * outage, and when its speaker shuts down gracefully (SIGTERM), at the speaker's default timing.
 *
 * A lab of three node namespaces (tools/lab/lab-cluster.ts) runs the controller and a speaker per
 * node, as the image runs them (tools/bench/product-env.ts); every node has an HTTP backend reached through kube-proxy-like DNAT. Inside the client
 * namespace, tools/bench/http-probe.ts opens a new connection to the VIP every 20 ms (connect
 * timeout 100 ms, 300 ms in all) and reports which node served it. Per trial:
 *
 * - crash: ms from the kill to the first successful response served by another node; the new
 *   owner's log and the client's neighbour table (`ip monitor neigh`) give the timeline: failure
 *   detected ("live speakers changed"), "announcing ip", neighbour entry flipped;
 * - crash with the API down: the same kill, made 5 s into an API-server outage (iptables DROP on the
 *   infra namespace's link to the simulator, the only way the controller and the speakers reach it;
 *   5 s is past the 3 s after which a speaker that cannot renew its Lease used to fence itself).
 *   Before the kill, `arping` from the client checks that the owner still answers for the VIP; a
 *   trial without a response from another node within 10 s counts as missing, with a note saying
 *   why. The outage ends once the trial is measured;
 * - graceful: the traffic gap (longest interval between successful responses, from the last one
 *   before the SIGTERM until 300 ms after the new node first served; the probe cadence, 20 ms, is
 *   the floor) and ms from the SIGTERM to the first response from the new node.
 *
 * `comparison` puts the crash p50/p95 with the API up and down side by side. After each trial the
 * node comes back (link up, speaker restarted) and the VIP returns to it before the next one. Needs
 * root. Prints one JSON line on stdout (progress on stderr):
 *
 *   ./node_modules/.bin/node tools/bench/failover.ts [--trials 10]
 *
 * @example
 * const r = await benchFailover({ trials: 10 });
 * r.crash.ms.p50 <= 250 && r.crashApiDown.ms.p95 <= 350 && r.graceful.gapMs.p50 <= 100; // r.goals holds all the goals
 */
import type { ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { rankNodes } from "../../speaker/election/election.ts";
import { eventually } from "../support/eventually.ts";
import { parseSpeakerFlags } from "../../speaker/flags.ts";
import { blockApi } from "../netns/net-faults.ts";
import { runIn, spawnIn } from "../netns/run.ts";
import type { Goals } from "./goals.ts";
import { runNamespaceBench } from "./namespace-bench-main.ts";
import { productRunner, warmCompileCache } from "./product-env.ts";
import type { TopologyNode } from "../netns/topology.ts";
import { exposeWeb, startLabCluster, waitForSpeakerLeaseRenewals, type LabCluster, type Proc } from "../lab/lab-cluster.ts";

/** p50/p95/max of a series of milliseconds (nearest rank); `missing` counts trials where the value was not observed. */
export interface Stats {
  p50: number;
  p95: number;
  max: number;
  missing?: number;
}

/** What one run measured; all times in milliseconds. */
export interface FailoverResult {
  bench: "failover";
  trials: number;
  settings: { heartbeatIntervalMs: number; heartbeatTimeoutMs: number; leaseDurationMs: number; leaseRenewMs: number; probeIntervalMs: number; probeConnectTimeoutMs: number; probeMaxTimeMs: number };
  crash: {
    /** From the kill to the first response served by the new owner. */
    ms: Stats & { samples: number[] };
    /** From the kill: the new owner decided the old one is dead / started announcing / the client's entry flipped. */
    timeline: { detectedMs: Stats; announcingMs: Stats; neighbourFlippedMs: Stats };
  };
  /** The same crash 5 s into an API-server outage; a trial without failover within 10 s is missing (null in samples). */
  crashApiDown: {
    ms: Stats & { samples: (number | null)[] };
    timeline: { detectedMs: Stats; announcingMs: Stats; neighbourFlippedMs: Stats };
    /** Trials without a response from another node within 10 s of the kill. */
    trialsWithoutFailover: number;
    /** Trials in which nobody answered ARP for the VIP just before the kill (the outage alone had darkened it). */
    darkBeforeKill: number;
    /** Why trials are missing, or served by an unexpected node. */
    notes: string[];
  };
  /** Crash failover with the API up and down, side by side. */
  comparison: { crashP50Ms: { apiUp: number; apiDown: number }; crashP95Ms: { apiUp: number; apiDown: number } };
  graceful: {
    gapMs: Stats & { samples: number[] };
    switchMs: Stats & { samples: number[] };
    failedProbes: number;
    timeline: { detectedMs: Stats; announcingMs: Stats; neighbourFlippedMs: Stats };
  };
  goals: Goals;
}

/**
 * Crash failover within 250 ms (p50) and 350 ms (p95) with the API up and down, as fast as keepalived tuned to
 * VRRPv3 advert_int 0.1 s (341 ms), none missing; a graceful handover's gap ≤ 100 ms (p50).
 */
const goals = {
  "crash.ms.p50": { max: 250 },
  "crash.ms.p95": { max: 350 },
  "crashApiDown.ms.p50": { max: 250 },
  "crashApiDown.ms.p95": { max: 350 },
  "crashApiDown.trialsWithoutFailover": { max: 0 },
  "graceful.gapMs.p50": { max: 100 },
} satisfies Goals;

const node24 = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const probeScript = fileURLToPath(new URL("./http-probe.ts", import.meta.url));
const probeIntervalMs = 20;
const probeConnectMs = 100;
const probeMaxMs = 300;
const nodeNames = ["node-1", "node-2", "node-3"];
const pool = "address-pools:\n- name: default\n  protocol: layer2\n  addresses:\n  - 192.168.126.40-192.168.126.45\n";

const epochMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`failover: ${msg}\n`);

interface ProbeResult {
  start: number;
  end: number;
  /** The node that served it; undefined when it failed. */
  node: string | undefined;
}

interface NeighbourChange {
  at: number;
  ip: string;
  mac: string | undefined;
}

/** Each line of a child's stdout, as it arrives. */
function onLines(child: ChildProcess, fn: (line: string) => void): void {
  if (child.stdout) createInterface({ input: child.stdout }).on("line", fn);
}

function statsOf(values: number[]): Stats {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
  const stats: Stats = { p50: round(rank(0.5)), p95: round(rank(0.95)), max: round(sorted.at(-1) ?? NaN) };
  if (sorted.length < values.length) stats.missing = values.length - sorted.length;
  return stats;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Keeps the JSON log entries of `node`'s current speaker process (whole lines, however the pipe splits them). */
function watchSpeaker(b: Bench, node: string): void {
  const entries: Record<string, unknown>[] = [];
  b.logs.set(node, entries);
  onLines(b.lab.speakers.get(node)!.child, (line) => {
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  });
}

/** `node`'s speaker log entries with the given `msg` and a `time` at or after `since`. */
function logEntries(b: Bench, node: string, msg: string, since: number): Record<string, unknown>[] {
  return (b.logs.get(node) ?? []).filter((e) => e.msg === msg && Date.parse(String(e.time)) >= Math.floor(since));
}

const timeOf = (entry: Record<string, unknown> | undefined) => (entry ? Date.parse(String(entry.time)) : NaN);

interface Bench {
  lab: LabCluster;
  vip: string;
  owner: TopologyNode;
  next: TopologyNode;
  probes: ProbeResult[];
  neighbours: NeighbourChange[];
  /** Parsed log entries of each node's current speaker. */
  logs: Map<string, Record<string, unknown>[]>;
}

/** Waits until the last `count` probes all succeeded through `node`, each started after `since`. */
async function servedBy(b: Bench, node: string, since: number, ms: number): Promise<void> {
  const count = 10;
  await eventually(
    () => {
      const recent = b.probes.slice(-count);
      return recent.length === count && recent.every((p) => p.node === node && p.start > since);
    },
    { ms, what: `${count} consecutive responses from ${node}`, everyMs: 10 },
  );
}

/** The timeline of a handover from `since`, as seen by the new owner and the client. */
function handoverTimeline(b: Bench, since: number) {
  const detected = logEntries(b, b.next.name, "live speakers changed", since).find((e) => !(e.live as string[]).includes(b.owner.name));
  const announcing = logEntries(b, b.next.name, "announcing ip", since).find((e) => e.ip === b.vip);
  const flipped = b.neighbours.find((n) => n.at >= since && n.ip === b.vip && n.mac === b.next.mac);
  return { detectedMs: timeOf(detected) - since, announcingMs: timeOf(announcing) - since, neighbourFlippedMs: (flipped?.at ?? NaN) - since };
}

function describeTimeline(t: ReturnType<typeof handoverTimeline>): string {
  return `detected ${t.detectedMs.toFixed(0)}, announcing ${t.announcingMs.toFixed(0)}, neighbour flipped ${t.neighbourFlippedMs.toFixed(0)} ms`;
}

/**
 * Brings the owner's speaker back and waits until the VIP is on it again and the stand-in (the node
 * that took the VIP over; null when none did) let go.
 */
async function restore(b: Bench, linkWasDown: boolean, standIn: string | null = b.next.name): Promise<void> {
  if (linkWasDown) await b.lab.topo.linkUp(b.owner);
  const restartAt = epochMs();
  await b.lab.startSpeaker(b.owner);
  watchSpeaker(b, b.owner.name);
  if (standIn !== null) {
    await eventually(() => logEntries(b, standIn, "stopped announcing ip", restartAt).some((e) => e.ip === b.vip), { ms: 20_000, what: `${standIn} to stop announcing ${b.vip}`, everyMs: 10 });
  }
  await servedBy(b, b.owner.name, restartAt, 20_000);
  // Let the returning owner's gratuitous burst and the peers' view of it settle.
  await sleep(1_000);
}

async function crashTrial(b: Bench): Promise<{ ms: number; timeline: ReturnType<typeof handoverTimeline> }> {
  await servedBy(b, b.owner.name, -Infinity, 10_000);
  const killedAt = epochMs();
  b.lab.speakers.get(b.owner.name)!.child.kill("SIGKILL");
  await b.lab.topo.linkDown(b.owner);
  const first = await eventually(() => b.probes.find((p) => p.end > killedAt && p.node !== undefined && p.node !== b.owner.name), { ms: 15_000, what: "a response from another node after the kill", everyMs: 10 });
  if (first.node !== b.next.name) throw new Error(`after the crash ${first.node} served, but the election makes ${b.next.name} the next owner: split or wrong election`);
  const result = { ms: first.end - killedAt, timeline: handoverTimeline(b, killedAt) };
  await restore(b, true);
  return result;
}

/** How long the API is down before the kill: past the 3 s after which a speaker without Lease renewals used to fence itself. */
const outageBeforeKillMs = 5_000;
/** How long after the kill a response from another node may take before the trial counts as missing. */
const apiDownFailoverLimitMs = 10_000;

/** MACs that answer `arping` for the VIP from the client (two requests, 0.2 s apart). */
async function arpingMacs(b: Bench): Promise<string[]> {
  const r = await runIn(b.lab.topo.client.ns, ["arping", "-i", "eth0", "-c", "2", "-W", "0.2", b.vip], { timeoutMs: 5_000 });
  return [...new Set([...r.stdout.matchAll(/from ([0-9a-f:]{17})/gi)].map((m) => m[1].toLowerCase()))];
}

async function crashApiDownTrial(b: Bench): Promise<{ ms: number; timeline: ReturnType<typeof handoverTimeline>; darkBeforeKill: boolean; note?: string }> {
  await servedBy(b, b.owner.name, -Infinity, 10_000);
  const heal = await blockApi(b.lab.topo);
  let result: { ms: number; timeline: ReturnType<typeof handoverTimeline>; darkBeforeKill: boolean; note?: string };
  let standIn: string | null = null;
  try {
    await sleep(outageBeforeKillMs);
    const macs = await arpingMacs(b);
    const darkBeforeKill = macs.length === 0;
    const notes: string[] = [];
    if (darkBeforeKill) notes.push(`nobody answered ARP for ${b.vip} ${outageBeforeKillMs / 1000} s into the outage, before the kill`);
    else if (macs.join() !== b.owner.mac) notes.push(`${macs.join(" + ")} answered ARP for ${b.vip} before the kill, not ${b.owner.name} (${b.owner.mac}) alone`);
    const killedAt = epochMs();
    b.lab.speakers.get(b.owner.name)!.child.kill("SIGKILL");
    await b.lab.topo.linkDown(b.owner);
    const first = await eventually(() => b.probes.find((p) => p.end > killedAt && p.node !== undefined && p.node !== b.owner.name), { ms: apiDownFailoverLimitMs, what: "a response from another node", everyMs: 10 }).catch(() => undefined);
    standIn = first?.node ?? null;
    if (!first) notes.push(`no response from another node within ${apiDownFailoverLimitMs / 1000} s of the kill`);
    else if (first.node !== b.next.name) notes.push(`${first.node} served first, but the election makes ${b.next.name} the next owner`);
    result = { ms: first ? first.end - killedAt : NaN, timeline: handoverTimeline(b, killedAt), darkBeforeKill, ...(notes.length > 0 ? { note: notes.join("; ") } : {}) };
  } finally {
    await heal();
  }
  const healedAt = Date.now();
  // The stand-in, if any, lets go once the owner is back; without one the owner just starts again.
  await restore(b, true, standIn);
  // Every speaker reaches the API again before the next trial measures anything.
  await waitForSpeakerLeaseRenewals(b.lab, healedAt, 60_000);
  return result;
}

async function gracefulTrial(b: Bench): Promise<{ gapMs: number; switchMs: number; failed: number; timeline: ReturnType<typeof handoverTimeline> }> {
  await servedBy(b, b.owner.name, -Infinity, 10_000);
  const proc = b.lab.speakers.get(b.owner.name)!;
  const termAt = epochMs();
  proc.child.kill("SIGTERM");
  const first = await eventually(() => b.probes.find((p) => p.end > termAt && p.node !== undefined && p.node !== b.owner.name), { ms: 15_000, what: "a response from another node after SIGTERM", everyMs: 10 });
  if (first.node !== b.next.name) throw new Error(`after SIGTERM ${first.node} served, but the election makes ${b.next.name} the next owner`);
  const code = await Promise.race([proc.exited, sleep(10_000).then(() => "timeout" as const)]);
  if (code !== 0) throw new Error(`the SIGTERMed speaker on ${b.owner.name} ended with ${code}, not a clean exit 0`);
  // Longest stretch without a successful response, from the last success before SIGTERM until
  // 300 ms after the first one through the new node (so a stall right after the switch counts too).
  const windowEnd = first.end + 300;
  await eventually(() => b.probes.some((p) => p.start > windowEnd), { ms: 5_000, what: "the probes after the handover window", everyMs: 10 });
  const successes = b.probes
    .filter((p) => p.node !== undefined && p.end <= windowEnd)
    .map((p) => p.end)
    .sort((x, y) => x - y);
  const before = successes.filter((t) => t <= termAt).at(-1) ?? termAt;
  const window = [before, ...successes.filter((t) => t > termAt)];
  let gapMs = 0;
  for (let i = 1; i < window.length; i++) gapMs = Math.max(gapMs, window[i] - window[i - 1]);
  const failed = b.probes.filter((p) => p.node === undefined && p.start >= termAt && p.start <= windowEnd).length;
  const result = { gapMs, switchMs: first.end - termAt, failed, timeline: handoverTimeline(b, termAt) };
  await restore(b, false);
  return result;
}

/** Runs the benchmark; see the module comment. `onStop` hands out the (idempotent) cleanup for SIGINT. */
export async function benchFailover(opts: { trials: number; onStop?: (stop: () => Promise<void>) => void }): Promise<FailoverResult> {
  const flags = parseSpeakerFlags(["--node-name", "bench"], {});
  await warmCompileCache();
  const lab = await startLabCluster({ prefix: "blbfo", index: 71, nodeNames, runner: productRunner });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= lab.stop());
  opts.onStop?.(stop);
  try {
    const vip = await exposeWeb(lab, pool);
    const [ownerName, nextName] = rankNodes(nodeNames, vip);
    const byName = (name: string) => lab.topo.nodes.find((n) => n.name === name)!;
    const b: Bench = { lab, vip, owner: byName(ownerName), next: byName(nextName), probes: [], neighbours: [], logs: new Map() };
    for (const name of nodeNames) watchSpeaker(b, name);
    log(`VIP ${vip}: owner ${ownerName}, next ${nextName}`);

    const probe = spawnIn(lab.topo.client.ns, [node24, probeScript, vip, "80", String(probeIntervalMs), String(probeConnectMs), String(probeMaxMs), "3600"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    lab.topo.track(probe);
    onLines(probe, (line) => {
      const [start, end, result] = line.split(" ");
      b.probes.push({ start: Number(start), end: Number(end), node: result.startsWith("fail:") ? undefined : result });
    });
    const monitor = spawnIn(lab.topo.client.ns, ["ip", "monitor", "neigh", "dev", "eth0"]);
    lab.topo.track(monitor);
    onLines(monitor, (line) => {
      const m = /^(?:Deleted )?(\S+)(?: dev \S+)?(?: lladdr (\S+))?/.exec(line);
      if (m) b.neighbours.push({ at: epochMs(), ip: m[1], mac: m[2]?.toLowerCase() });
    });

    const crash: number[] = [];
    const crashTimelines: ReturnType<typeof handoverTimeline>[] = [];
    const gaps: number[] = [];
    const switches: number[] = [];
    const gracefulTimelines: ReturnType<typeof handoverTimeline>[] = [];
    let failedProbes = 0;
    const crashApiDown: number[] = [];
    const crashApiDownTimelines: ReturnType<typeof handoverTimeline>[] = [];
    const apiDownNotes: string[] = [];
    let darkBeforeKill = 0;
    for (let i = 0; i < opts.trials; i++) {
      const c = await crashTrial(b);
      crash.push(c.ms);
      crashTimelines.push(c.timeline);
      log(`trial ${i + 1} crash ${c.ms.toFixed(0)} ms (${describeTimeline(c.timeline)})`);
      const d = await crashApiDownTrial(b);
      crashApiDown.push(d.ms);
      crashApiDownTimelines.push(d.timeline);
      if (d.darkBeforeKill) darkBeforeKill++;
      if (d.note) apiDownNotes.push(`trial ${i + 1}: ${d.note}`);
      log(`trial ${i + 1} crash with the API down ${Number.isFinite(d.ms) ? `${d.ms.toFixed(0)} ms` : "missing"} (${describeTimeline(d.timeline)})${d.note ? `: ${d.note}` : ""}`);
      const g = await gracefulTrial(b);
      gaps.push(g.gapMs);
      switches.push(g.switchMs);
      failedProbes += g.failed;
      gracefulTimelines.push(g.timeline);
      log(`trial ${i + 1} graceful gap ${g.gapMs.toFixed(0)} ms, switch ${g.switchMs.toFixed(0)} ms, ${g.failed} failed probes (${describeTimeline(g.timeline)})`);
    }
    probe.stdin?.end();

    const timelineStats = (ts: ReturnType<typeof handoverTimeline>[]) => ({
      detectedMs: statsOf(ts.map((t) => t.detectedMs)),
      announcingMs: statsOf(ts.map((t) => t.announcingMs)),
      neighbourFlippedMs: statsOf(ts.map((t) => t.neighbourFlippedMs)),
    });
    const crashStats = statsOf(crash);
    const crashApiDownStats = statsOf(crashApiDown);
    const gapStats = statsOf(gaps);
    return {
      bench: "failover",
      trials: opts.trials,
      settings: {
        heartbeatIntervalMs: flags.heartbeatIntervalMs,
        heartbeatTimeoutMs: flags.heartbeatTimeoutMs,
        leaseDurationMs: flags.leaseDurationMs,
        leaseRenewMs: flags.leaseRenewMs,
        probeIntervalMs,
        probeConnectTimeoutMs: probeConnectMs,
        probeMaxTimeMs: probeMaxMs,
      },
      crash: {
        ms: { ...crashStats, samples: crash.map(round) },
        timeline: timelineStats(crashTimelines),
      },
      crashApiDown: {
        ms: { ...crashApiDownStats, samples: crashApiDown.map((ms) => (Number.isFinite(ms) ? round(ms) : null)) },
        timeline: timelineStats(crashApiDownTimelines),
        trialsWithoutFailover: crashApiDownStats.missing ?? 0,
        darkBeforeKill,
        notes: apiDownNotes,
      },
      comparison: {
        crashP50Ms: { apiUp: crashStats.p50, apiDown: crashApiDownStats.p50 },
        crashP95Ms: { apiUp: crashStats.p95, apiDown: crashApiDownStats.p95 },
      },
      graceful: {
        gapMs: { ...gapStats, samples: gaps.map(round) },
        switchMs: { ...statsOf(switches), samples: switches.map(round) },
        failedProbes,
        timeline: timelineStats(gracefulTimelines),
      },
      goals,
    };
  } finally {
    const logPath = join(tmpdir(), "blb-failover-bench.log");
    await writeFile(logPath, lab.logs()).catch(() => undefined);
    log(`process logs in ${logPath}`);
    await stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { trials: { type: "string" } }, strict: true });
  const trials = Number(values.trials ?? 10);
  if (!Number.isInteger(trials) || trials < 1) {
    console.error(`failover: --trials must be a positive integer, got "${values.trials}"`);
    process.exit(2);
  }
  await runNamespaceBench("failover", (onStop) => benchFailover({ trials, onStop }));
}
