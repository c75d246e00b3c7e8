/**
 * False-failover benchmark (not a test): a VIP must not move, and a new client must always reach it, while its
 * owner is healthy but its speakers are under load. A lab of three node namespaces (tools/lab/lab-cluster.ts)
 * runs the controller and a speaker per node as the image runs them (product-env.ts), with one Service; a fresh
 * client in the client namespace (http-probe.ts with FORGET_DEV) deletes the VIP's neighbour entry before
 * every request, so each request resolves the VIP by ARP as a new client would. Scenarios, one after the other,
 * each for SECONDS (default 180):
 *
 * - `cpu`: `stress-ng --cpu 2`, both CPUs of the machine saturated (the speakers share them with it);
 * - `slow-api`: every request to the API server takes 1 s longer (the simulator's injected latency);
 * - `gc`: 10,000 more LoadBalancer Services (from a second pool, allocated by the controller), about 3,300
 *   owned by each speaker, and 200 Service updates a second for the whole window, so every speaker decodes a
 *   stream of watch events and collects garbage.
 *
 * Per scenario, counted from the start of the load to its end plus 5 s:
 * - `vipMoves`: "announcing ip" or "stopped announcing ip" lines for the VIP on any node (goal 0);
 * - `liveChanges`: "live speakers changed" lines on any node, a speaker thought dead (goal 0);
 * - `requests`, `failedRequests` (goal 0): the fresh client's requests, one every 200 ms, 3 s each at most;
 * - `longestStallMs`: the longest event-loop delay of any speaker (prom-client's
 *   `nodejs_eventloop_lag_max_seconds`, which resets at every scrape; scraped every 2 s).
 *
 * Needs root and stress-ng. Prints one JSON line on stdout (progress on stderr):
 *
 *   ./node_modules/.bin/node tools/bench/false-failover.ts [--seconds 180] [--scenarios cpu,slow-api,gc] [--speaker-args "--heartbeat-interval=25ms --heartbeat-timeout=150ms"]
 *
 * `--speaker-args` adds flags to every speaker, to try other timings (the settings in the result say which ran).
 *
 * @example
 * const r = await benchFalseFailover({ seconds: 180, scenarios: ["cpu", "slow-api", "gc"] });
 * r.vipMoves === 0 && r.failedRequests === 0; // r.longestStallMs: the worst event-loop stall seen
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { rankNodes } from "../../speaker/election/election.ts";
import { parseSpeakerFlags } from "../../speaker/flags.ts";
import { runIn, spawnIn } from "../netns/run.ts";
import type { Goals } from "./goals.ts";
import { runNamespaceBench } from "./namespace-bench-main.ts";
import { productRunner, warmCompileCache } from "./product-env.ts";
import { kubeRequest, runPool } from "./speaker-lab.ts";
import { addressPoolAnnotation } from "../../shared/service/metallb-annotations.ts";
import { exposeWeb, startLabCluster, type LabCluster } from "../lab/lab-cluster.ts";

export const scenarioNames = ["cpu", "slow-api", "gc"] as const;
export type Scenario = (typeof scenarioNames)[number];

/** What one scenario measured. */
export interface ScenarioResult {
  seconds: number;
  vipMoves: number;
  liveChanges: number;
  requests: number;
  failedRequests: number;
  /** Why requests failed, by reason (`connect-timeout`, `max-time`, …). */
  failures: Record<string, number>;
  longestStallMs: number;
  /** The longest event-loop stall of each node's speaker. */
  stallMsByNode: Record<string, number>;
}

export interface FalseFailoverResult {
  bench: "false-failover";
  settings: { heartbeatIntervalMs: number; heartbeatTimeoutMs: number; probeIntervalMs: number; probeMaxTimeMs: number };
  scenarios: Partial<Record<Scenario, ScenarioResult>>;
  /** Sums and maximum over the scenarios that ran. */
  vipMoves: number;
  liveChanges: number;
  failedRequests: number;
  longestStallMs: number;
  goals: Goals;
}

const goals = { vipMoves: { max: 0 }, liveChanges: { max: 0 }, failedRequests: { max: 0 } } satisfies Goals;

const node24 = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const probeScript = fileURLToPath(new URL("./http-probe.ts", import.meta.url));
const probeIntervalMs = 200;
const probeConnectMs = 3_000;
const probeMaxMs = 3_000;
const scrapeEveryMs = 2_000;
/** Counted after the load ends too: a stall's consequences (a late takeover) show a little later. */
const afterLoadMs = 5_000;
const gcServices = 10_000;
const churnPerSecond = 200;
const nodeNames = ["node-1", "node-2", "node-3"];
const config = [
  "address-pools:",
  "- name: default",
  "  protocol: layer2",
  "  addresses: [192.168.126.40-192.168.126.45]",
  "- name: bench",
  "  protocol: layer2",
  "  auto-assign: false",
  "  addresses: [10.77.0.0/16]",
  "",
].join("\n");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`false-failover: ${msg}\n`);

function onLines(child: ChildProcess, fn: (line: string) => void): void {
  if (child.stdout) createInterface({ input: child.stdout }).on("line", fn);
}

interface Probe {
  start: number;
  node: string | undefined;
  reason: string | undefined;
}

interface LogEntry {
  msg?: string;
  ip?: string;
  time?: string;
}

/** Follows every speaker's log lines (each node's current process). */
function followSpeakers(lab: LabCluster): Map<string, LogEntry[]> {
  const logs = new Map<string, LogEntry[]>();
  for (const [node, proc] of lab.speakers) {
    const entries: LogEntry[] = [];
    logs.set(node, entries);
    onLines(proc.child, (line) => {
      try {
        entries.push(JSON.parse(line) as LogEntry);
      } catch {
        // not a log line
      }
    });
  }
  return logs;
}

/** The longest event-loop delay each speaker saw since the previous scrape, in ms (NaN when the scrape failed). */
async function scrapeStalls(lab: LabCluster): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await Promise.all(
    lab.topo.nodes.map(async (node) => {
      const r = await runIn(node.ns, ["curl", "-s", "--max-time", "5", `http://${node.ipv4}:7473/metrics`], { timeoutMs: 7_000 });
      const m = /^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(r.stdout);
      out.set(node.name, m ? Number(m[1]) * 1000 : NaN);
    }),
  );
  return out;
}

/** Creates the gc scenario's Services and waits until the controller gave each an IP. */
async function createBenchServices(lab: LabCluster): Promise<void> {
  const started = performance.now();
  await runPool(gcServices, 32, async (i) => {
    await kubeRequest(lab, "POST", "/api/v1/namespaces/default/services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `bench-${i}`, annotations: { [addressPoolAnnotation]: "bench" } },
      spec: { type: "LoadBalancer", allocateLoadBalancerNodePorts: false, selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
  });
  const services = lab.sim.state.registry.find("", "v1", "services");
  if (!services) throw new Error("kube-sim serves no v1 services");
  const allocated = () =>
    lab.sim.state.list(services, "default").filter((s) => ((s.object as { status?: { loadBalancer?: { ingress?: unknown[] } } }).status?.loadBalancer?.ingress ?? []).length > 0).length;
  const deadline = performance.now() + 300_000;
  while (allocated() < gcServices + 1) {
    if (performance.now() > deadline) throw new Error(`only ${allocated() - 1} of ${gcServices} bench Services got an IP within 300 s`);
    await sleep(500);
  }
  log(`created and allocated ${gcServices} Services in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Patches `churnPerSecond` Services a second (an annotation only this benchmark reads) until `until`. */
async function churn(lab: LabCluster, until: number): Promise<number> {
  let n = 0;
  while (performance.now() < until) {
    const tick = performance.now();
    await Promise.all(
      Array.from({ length: churnPerSecond / 10 }, () => {
        const i = n++ % gcServices;
        return kubeRequest(lab, "PATCH", `/api/v1/namespaces/default/services/bench-${i}`, { metadata: { annotations: { "bench.baremetal-lb.io/churn": String(n) } } }, "application/merge-patch+json");
      }),
    );
    await sleep(Math.max(0, 100 - (performance.now() - tick)));
  }
  return n;
}

/** Applies one scenario's load for `seconds`; resolves when the load is over. */
async function applyLoad(lab: LabCluster, scenario: Scenario, seconds: number): Promise<void> {
  if (scenario === "cpu") {
    const stress = spawn("stress-ng", ["--cpu", "2", "--timeout", `${seconds}s`, "--quiet"], { stdio: "ignore" });
    lab.topo.track(stress);
    await new Promise<void>((resolve, reject) => {
      stress.on("error", reject);
      stress.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`stress-ng exited ${code}`))));
    });
  } else if (scenario === "slow-api") {
    lab.sim.faults.setLatency(1_000);
    try {
      await sleep(seconds * 1000);
    } finally {
      lab.sim.faults.setLatency(0);
    }
  } else {
    const updates = await churn(lab, performance.now() + seconds * 1000);
    log(`gc: ${updates} Service updates`);
  }
}

/** Runs the benchmark; see the module comment. */
export async function benchFalseFailover(opts: {
  seconds: number;
  scenarios: readonly Scenario[];
  speakerArgs?: readonly string[];
  onStop?: (stop: () => Promise<void>) => void;
}): Promise<FalseFailoverResult> {
  if (opts.scenarios.includes("cpu") && spawnSync("stress-ng", ["--version"]).status !== 0) {
    throw new Error("the cpu scenario needs stress-ng (apt-get install stress-ng), or leave it out with --scenarios slow-api,gc");
  }
  const speakerArgs = [...(opts.speakerArgs ?? [])];
  const flags = parseSpeakerFlags(["--node-name", "bench", ...speakerArgs], {});
  await warmCompileCache();
  const lab = await startLabCluster({ prefix: "blbff", index: 76, nodeNames, runner: productRunner, speakerArgs });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= lab.stop());
  opts.onStop?.(stop);
  try {
    const vip = await exposeWeb(lab, config);
    const [owner] = rankNodes(nodeNames, vip);
    log(`VIP ${vip}: owner ${owner}`);
    const logs = followSpeakers(lab);
    const probes: Probe[] = [];
    const totalSeconds = opts.scenarios.length * (opts.seconds + 60) + 600;
    const probe = spawnIn(
      lab.topo.client.ns,
      [node24, probeScript, vip, "80", String(probeIntervalMs), String(probeConnectMs), String(probeMaxMs), String(totalSeconds), "eth0"],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    lab.topo.track(probe);
    onLines(probe, (line) => {
      const [start, , result] = line.split(" ");
      const failed = result.startsWith("fail:");
      probes.push({ start: Number(start), node: failed ? undefined : result, reason: failed ? result.slice(5) : undefined });
    });
    await sleep(3_000);

    const scenarios: Partial<Record<Scenario, ScenarioResult>> = {};
    for (const scenario of opts.scenarios) {
      if (scenario === "gc") {
        await createBenchServices(lab);
        await sleep(10_000);
      }
      const from = Date.now();
      const stalls = new Map<string, number>(nodeNames.map((n) => [n, 0]));
      await scrapeStalls(lab); // resets each speaker's maximum
      let loading = true;
      const scraping = (async () => {
        while (loading) {
          await sleep(scrapeEveryMs);
          for (const [node, ms] of await scrapeStalls(lab)) if (Number.isFinite(ms)) stalls.set(node, Math.max(stalls.get(node) ?? 0, ms));
        }
      })();
      log(`${scenario}: ${opts.seconds} s of load`);
      await applyLoad(lab, scenario, opts.seconds);
      await sleep(afterLoadMs);
      loading = false;
      await scraping;
      const to = Date.now();

      const inWindow = (e: LogEntry) => {
        const t = Date.parse(String(e.time));
        return t >= from && t <= to;
      };
      let vipMoves = 0;
      let liveChanges = 0;
      for (const entries of logs.values()) {
        for (const e of entries.filter(inWindow)) {
          if ((e.msg === "announcing ip" || e.msg === "stopped announcing ip") && e.ip === vip) vipMoves++;
          if (e.msg === "live speakers changed") liveChanges++;
        }
      }
      const window = probes.filter((p) => p.start >= from && p.start <= to - probeMaxMs);
      const failures: Record<string, number> = {};
      for (const p of window) if (p.reason) failures[p.reason] = (failures[p.reason] ?? 0) + 1;
      const servedBy = new Set(window.flatMap((p) => (p.node ? [p.node] : [])));
      if (servedBy.size > 1) log(`${scenario}: requests were served by ${[...servedBy].join(", ")}`);
      const result: ScenarioResult = {
        seconds: opts.seconds,
        vipMoves,
        liveChanges,
        requests: window.length,
        failedRequests: window.filter((p) => p.node === undefined).length,
        failures,
        longestStallMs: Math.round(Math.max(...stalls.values())),
        stallMsByNode: Object.fromEntries([...stalls].map(([n, ms]) => [n, Math.round(ms)])),
      };
      scenarios[scenario] = result;
      log(`${scenario}: ${JSON.stringify(result)}`);
    }
    probe.stdin?.end();

    const all = Object.values(scenarios);
    return {
      bench: "false-failover",
      settings: { heartbeatIntervalMs: flags.heartbeatIntervalMs, heartbeatTimeoutMs: flags.heartbeatTimeoutMs, probeIntervalMs, probeMaxTimeMs: probeMaxMs },
      scenarios,
      vipMoves: all.reduce((s, r) => s + r.vipMoves, 0),
      liveChanges: all.reduce((s, r) => s + r.liveChanges, 0),
      failedRequests: all.reduce((s, r) => s + r.failedRequests, 0),
      longestStallMs: Math.max(0, ...all.map((r) => r.longestStallMs)),
      goals,
    };
  } finally {
    const logPath = join(tmpdir(), "blb-false-failover-bench.log");
    try {
      await writeFile(logPath, lab.logs());
      log(`process logs in ${logPath}`);
    } catch (err) {
      // A flapping cluster logs every VIP it gains and loses: more than one string can hold.
      log(`process logs not written to ${logPath}: ${(err as Error).message}`);
    }
    await stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { seconds: { type: "string" }, scenarios: { type: "string" }, "speaker-args": { type: "string" } }, strict: true });
  const seconds = Number(values.seconds ?? 180);
  if (!Number.isInteger(seconds) || seconds < 1) {
    console.error(`false-failover: --seconds must be a positive integer, got "${values.seconds}"`);
    process.exit(2);
  }
  const scenarios = (values.scenarios ?? scenarioNames.join(",")).split(",");
  const unknown = scenarios.filter((s) => !(scenarioNames as readonly string[]).includes(s));
  if (unknown.length > 0 || scenarios.length === 0) {
    console.error(`false-failover: --scenarios takes a comma-separated list of ${scenarioNames.join(", ")}; unknown: ${unknown.join(", ")}`);
    process.exit(2);
  }
  const speakerArgs = values["speaker-args"]?.split(/\s+/).filter(Boolean) ?? [];
  await runNamespaceBench("false-failover", (onStop) => benchFalseFailover({ seconds, scenarios: scenarios as Scenario[], speakerArgs, onStop }));
}
