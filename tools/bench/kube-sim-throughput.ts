/**
 * Throughput benchmark of kube-sim: starts the simulator in its own process (as `npm run kube-sim` does), creates
 * N LoadBalancer Services, opens W watches on them, then writes each Service's status through the /status
 * subresource with ~32 requests in flight over HTTP keep-alive, and measures writes per second, how far the
 * watchers lag behind the acknowledged writes, and the simulator's resident memory.
 *
 * Standalone: `npx node tools/bench/kube-sim-throughput.ts [--services N] [--watchers W]` prints one JSON line.
 *
 * @example
 * const r = await benchKubeSim({ services: 2000, watchers: 10 });
 * r.statusWritesPerSec; r.watchLagMsP99;
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";

/** Benchmark knobs. */
export interface BenchOptions {
  /** Services to create (default 10,000). */
  services?: number;
  /** Concurrent watches (default 50). */
  watchers?: number;
  /** Requests in flight (default 32). */
  concurrency?: number;
  /** Upper bound of the whole run in milliseconds (default 300,000). */
  timeoutMs?: number;
}

/** What one run measured. */
export interface BenchResult {
  services: number;
  watchers: number;
  createPerSec: number;
  statusWritesPerSec: number;
  watchLagMsP99: number;
  rssMb: number;
}

const root = resolve(import.meta.dirname, "../..");

interface Conn {
  base: URL;
  token: string;
  agent: Agent;
}

function call(c: Conn, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        host: c.base.hostname,
        port: c.base.port,
        method,
        path,
        agent: c.agent,
        headers: {
          Authorization: `Bearer ${c.token}`,
          Accept: "application/json",
          ...(payload === undefined ? {} : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          try {
            resolvePromise({ status: res.statusCode ?? 0, json: JSON.parse(text) });
          } catch {
            reject(new Error(`${method} ${path}: answer is not JSON (HTTP ${res.statusCode}): ${text.slice(0, 200)}`));
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(runners);
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function rssMbOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  return Math.round(kb / 1024);
}

/** Runs the benchmark against a freshly spawned simulator and stops it afterwards. */
export async function benchKubeSim(opts: BenchOptions = {}): Promise<BenchResult> {
  const services = opts.services ?? 10_000;
  const watchers = opts.watchers ?? 50;
  const concurrency = opts.concurrency ?? 32;
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  const dir = await mkdtemp(join(tmpdir(), "kube-sim-bench-"));
  const kubeconfig = join(dir, "kubeconfig");
  const child = spawn(join(root, "node_modules/.bin/node"), [join(root, "tools/kube-sim/main.ts"), "--port", "0", "--kubeconfig", kubeconfig], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const watchRequests: { destroy(): void }[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    const line = await new Promise<string>((resolveLine, reject) => {
      const timer = setTimeout(() => reject(new Error("kube-sim did not announce its URL within 20 s")), 20_000);
      child.once("exit", (code) => reject(new Error(`kube-sim exited with code ${code} before it was ready`)));
      createInterface({ input: child.stdout! }).once("line", (l) => {
        clearTimeout(timer);
        resolveLine(l);
      });
    });
    const url = line.replace("kube-sim listening on ", "");
    const kc = parseYaml(await readFile(kubeconfig, "utf8")) as { users: { user: { token: string } }[] };
    const c: Conn = { base: new URL(url), token: kc.users[0].user.token, agent };

    const ns = "bench";
    const created = await call(c, "POST", "/api/v1/namespaces", { metadata: { name: ns } });
    if (created.status !== 201) throw new Error(`creating namespace ${ns}: HTTP ${created.status} ${JSON.stringify(created.json)}`);

    const names = Array.from({ length: services }, (_, i) => `svc-${i}`);
    const objects = new Map<string, any>();
    const t0 = performance.now();
    await pool(names, concurrency, async (name) => {
      const r = await call(c, "POST", `/api/v1/namespaces/${ns}/services`, {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, labels: { app: name } },
        // 10,000 node ports do not exist (30000-32767), on a real cluster either.
        spec: { type: "LoadBalancer", allocateLoadBalancerNodePorts: false, selector: { app: name }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
      });
      if (r.status !== 201) throw new Error(`creating ${name}: HTTP ${r.status} ${r.json.message ?? ""}`);
      objects.set(name, r.json);
    });
    const createPerSec = services / ((performance.now() - t0) / 1000);

    const listed = await call(c, "GET", `/api/v1/namespaces/${ns}/services?limit=1`);
    const fromRv = listed.json.metadata.resourceVersion as string;
    const acked = new Map<string, number>();
    const lags: number[] = [];
    let seen = 0;
    const expected = services * watchers;
    let allSeen: () => void = () => undefined;
    const allSeenPromise = new Promise<void>((r) => (allSeen = r));
    const pendingByName = new Map<string, number[]>();
    await Promise.all(
      Array.from({ length: watchers }, () => {
        return new Promise<void>((opened, failed) => {
          const req = request(
            {
              host: c.base.hostname,
              port: c.base.port,
              path: `/api/v1/namespaces/${ns}/services?watch=true&resourceVersion=${fromRv}`,
              headers: { Authorization: `Bearer ${c.token}` },
            },
            (res) => {
              if (res.statusCode !== 200) {
                failed(new Error(`watch answered HTTP ${res.statusCode}`));
                return;
              }
              opened();
              // The run ends by destroying the watches; their resets are expected.
              res.on("error", () => undefined);
              const lines = createInterface({ input: res });
              lines.on("error", () => undefined);
              lines.on("line", (l) => {
                const now = performance.now();
                // Cheap field extraction: a full JSON.parse per event per watcher would make the client the bottleneck.
                if (!l.startsWith('{"type":"MODIFIED"') || !l.includes('"ingress":[')) return;
                const m = /"name":"([^"]+)"/.exec(l);
                if (!m) return;
                const name = m[1];
                const ack = acked.get(name);
                if (ack === undefined) {
                  const list = pendingByName.get(name) ?? [];
                  list.push(now);
                  pendingByName.set(name, list);
                } else {
                  lags.push(Math.max(0, now - ack));
                }
                if (++seen === expected) allSeen();
              });
            },
          );
          req.on("error", failed);
          req.end();
          watchRequests.push(req);
        });
      }),
    );

    const t1 = performance.now();
    await pool(names, concurrency, async (name) => {
      const obj = objects.get(name);
      const i = Number(name.slice(4));
      const body = { ...obj, status: { loadBalancer: { ingress: [{ ip: `10.200.${Math.floor(i / 250)}.${(i % 250) + 1}`, ipMode: "VIP" }] } } };
      const r = await call(c, "PUT", `/api/v1/namespaces/${ns}/services/${name}/status`, body);
      if (r.status !== 200) throw new Error(`status of ${name}: HTTP ${r.status} ${r.json.message ?? ""}`);
      const now = performance.now();
      acked.set(name, now);
      for (const early of pendingByName.get(name) ?? []) lags.push(Math.max(0, early - now));
      pendingByName.delete(name);
    });
    const statusWritesPerSec = services / ((performance.now() - t1) / 1000);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      allSeenPromise,
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`watchers saw ${seen} of ${expected} events before the deadline`)), Math.max(1000, deadline - Date.now()));
      }),
    ]).finally(() => clearTimeout(timer));
    const rssMb = await rssMbOf(child.pid!);
    return {
      services,
      watchers,
      createPerSec: Math.round(createPerSec),
      statusWritesPerSec: Math.round(statusWritesPerSec),
      watchLagMsP99: Math.round(percentile(lags, 99) * 10) / 10,
      rssMb,
    };
  } finally {
    for (const w of watchRequests) w.destroy();
    agent.destroy();
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { services: { type: "string" }, watchers: { type: "string" }, concurrency: { type: "string" } },
    strict: true,
  });
  const num = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--${flag} must be a positive integer, got "${v}"`);
    return Number(v);
  };
  const result = await benchKubeSim({
    services: num(values.services, "services"),
    watchers: num(values.watchers, "watchers"),
    concurrency: num(values.concurrency, "concurrency"),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
