/**
 * The set-up the speaker benchmarks share: a one-node lab (tools/lab/lab-cluster.ts) whose LoadBalancer Services
 * already carry their VIPs in status (written through the API, so no controller runs; the speaker only reads
 * status) and whose shared selector matches one ready Pod on the node, so the simulator gives each an
 * EndpointSlice and the node is eligible for every VIP. The speaker under test runs as the image runs it
 * (product-env.ts), logging to a file that {@link SpeakerLog} follows.
 *
 * @example
 * const lab = await startLabCluster({ prefix: "blbrss", index: 72, nodeNames: ["node-1"] });
 * const vips = await createServicesWithVips(lab, 10_000, log);
 * const { child, log: speakerLog } = spawnSpeaker(lab, "/tmp/speaker.log");
 * await waitForAnnounced(child, speakerLog, vips.length, 600_000);
 * await stopSpeaker(child);
 */
import type { ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { open, readlink } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { LabCluster } from "../lab/lab-cluster.ts";
import { spawnIn } from "../netns/run.ts";
import { eventually } from "../support/eventually.ts";
import { manifestNodeFlags } from "../lab/manifest-runtime.ts";
import { productEnv } from "./product-env.ts";

export const node24 = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const speakerMain = fileURLToPath(new URL("../../speaker/main.ts", import.meta.url));
const namespace = "default";
/** Requests in flight while creating Services. */
const inFlight = 32;
/** The VIPs come from this pool, in order (a /16: at most 65,000 Services). */
const pool = "address-pools:\n- name: bench\n  protocol: layer2\n  addresses: [10.77.0.0/16]\n";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The i-th VIP of the pool: 10.77.0.1, 10.77.0.2, … */
export function vipOf(i: number): string {
  const n = i + 1;
  return `10.77.${n >> 8}.${n & 255}`;
}

/** Runs `task(i)` for i in [0, n) with at most `limit` running at once. */
export async function runPool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/**
 * One JSON request to the lab's simulator (plain http: it runs tokenless requests as a superuser); `contentType`
 * for patches, e.g. "application/merge-patch+json".
 */
export async function kubeRequest(lab: LabCluster, method: string, path: string, body: unknown, contentType = "application/json"): Promise<Record<string, unknown>> {
  const res = await fetch(`${lab.sim.url}${path}`, { method, headers: { "content-type": contentType }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Writes the pool ConfigMap, starts the node's backend with a ready Pod `app=web`, creates `count` LoadBalancer
 * Services `svc-0`… selecting it, writes VIP {@link vipOf}(i) into each one's status, and waits until every
 * Service has an EndpointSlice with the Pod. Returns the VIPs in order.
 */
export async function createServicesWithVips(lab: LabCluster, count: number, log: (msg: string) => void): Promise<string[]> {
  if (!Number.isInteger(count) || count < 1 || count > 65_000) throw new Error(`${count} Services: the pool is a /16, use 1 to 65000`);
  await lab.core.createNamespacedConfigMap({ namespace: "metallb-system", body: { metadata: { name: "config" }, data: { config: pool } } });
  await lab.startBackends("web");
  const started = performance.now();
  const vips = Array.from({ length: count }, (_, i) => vipOf(i));
  await runPool(count, inFlight, async (i) => {
    const created = await kubeRequest(lab, "POST", `/api/v1/namespaces/${namespace}/services`, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `svc-${i}` },
      spec: { type: "LoadBalancer", allocateLoadBalancerNodePorts: false, selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const body = { ...created, status: { loadBalancer: { ingress: [{ ip: vips[i], ipMode: "VIP" }] } } };
    await kubeRequest(lab, "PUT", `/api/v1/namespaces/${namespace}/services/svc-${i}/status`, body);
  });
  log(`created ${count} Services with status IPs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const slices = lab.sim.state.registry.find("discovery.k8s.io", "v1", "endpointslices");
  if (!slices) throw new Error("kube-sim serves no discovery.k8s.io/v1 endpointslices");
  const ready = () => lab.sim.state.list(slices, namespace).filter((s) => ((s.object as { endpoints?: unknown[] }).endpoints ?? []).length > 0).length;
  await eventually(() => ready() >= count, { ms: 300_000, what: "an EndpointSlice with the Pod for every Service", detail: () => `${ready()} of ${count}`, everyMs: 50 });
  return vips;
}

/** Follows the speaker's log file: which VIPs it announces now, when it first announced the most, and when it was ready. */
export class SpeakerLog {
  readonly owned = new Set<string>();
  /** Epoch ms (the speaker's own log time) of the line after which the most VIPs were owned. */
  allOwnedAt = NaN;
  /** Epoch ms of the "speaker ready" line. */
  readyAt = NaN;
  /** Times the speaker logged that it lost heartbeat quorum. */
  fenced = 0;
  readonly path: string;
  private offset = 0;
  private partial = "";
  private most = 0;

  constructor(path: string) {
    this.path = path;
  }

  /** Reads what the speaker wrote since the last poll. */
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
    if (entry.msg === "speaker ready") this.readyAt = Date.parse(entry.time ?? "");
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

/**
 * Starts the speaker on the lab's first node with the flags the lab gives every speaker (metrics on the node's
 * address, port 7473) and the product's environment, its output in a file at `logPath` (a pipe would stall it
 * whenever this process, which also serves the simulator, is slow to read). The lab kills it on stop.
 */
export function spawnSpeaker(lab: LabCluster, logPath: string, nodeArgs: string[] = []): { child: ChildProcess; log: SpeakerLog } {
  const node = lab.topo.nodes[0];
  const logFd = openSync(logPath, "w");
  const flags = ["--kubeconfig", lab.kubeconfigPath, "--node-name", node.name, "--metrics-port", "7473", "--metrics-host", node.ipv4, "--kube-proxy-mode-url", "http://127.0.0.1:1/proxyMode"];
  const child = spawnIn(node.ns, [node24, ...manifestNodeFlags("speaker"), ...nodeArgs, speakerMain, ...flags], { stdio: ["ignore", logFd, logFd], env: productEnv("speaker") });
  closeSync(logFd);
  lab.topo.track(child);
  return { child, log: new SpeakerLog(logPath) };
}

/** Waits until `child` (started through `ip netns exec`) is the node process itself, so /proc/<pid> describes the speaker. */
export async function speakerPid(child: ChildProcess): Promise<number> {
  const pid = child.pid!;
  let exe = "";
  for (let i = 0; i < 100; i++) {
    exe = await readlink(`/proc/${pid}/exe`).catch(() => "");
    if (exe.endsWith("/node")) return pid;
    await sleep(20);
  }
  throw new Error(`pid ${pid} runs "${exe}", not node: ip netns exec did not exec the speaker in place`);
}

/** Polls the speaker's log until it announces `count` VIPs; throws when it exits first or after `ms`. */
export async function waitForAnnounced(child: ChildProcess, log: SpeakerLog, count: number, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    await log.poll();
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the speaker exited (${child.exitCode ?? child.signalCode}); see ${log.path}`);
    if (log.owned.size >= count) return;
    if (performance.now() > deadline) throw new Error(`the speaker announced only ${log.owned.size} of ${count} VIPs within ${ms / 1000} s; see ${log.path}`);
    await sleep(250);
  }
}

/** Resolves true once `child` exited, false after `ms`. */
export function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return Promise.race([new Promise<boolean>((r) => child.once("exit", () => r(true))), sleep(ms).then(() => false)]);
}

/** SIGTERM (the speaker hands over and exits; a --cpu-prof profile gets written), SIGKILL after `ms`. Returns false when it needed the SIGKILL. */
export async function stopSpeaker(child: ChildProcess, ms = 30_000): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  child.kill("SIGTERM");
  if (await exited(child, ms)) return true;
  child.kill("SIGKILL");
  await exited(child, 5_000);
  return false;
}
