import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
/** Node 24 from the repository (the system `node` may be older and cannot run the TypeScript). */
const nodeBinary = `${repoRoot}node_modules/.bin/node`;

/** One pino JSON line of the controller's stdout. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** How a child process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Test timing for leader election: a 2 s lease, renewed within 1.5 s, retried every 250 ms. */
export const fastElection = ["--lease-duration", "2s", "--renew-deadline", "1500ms", "--retry-period", "250ms"];

/**
 * The real controller binary (`controller/main.ts`) run as a child process against a kubeconfig,
 * with its JSON log lines parsed as they arrive and its ops server found through the
 * `metricsPort` field of its "controller started" line.
 *
 * @example
 * const c = ControllerProcess.start({ kubeconfig: sim.kubeconfigPath, identity: "a" });
 * await c.waitForLog("became leader");
 * c.kill("SIGTERM");
 * expect(await c.waitForExit()).toEqual({ code: 0, signal: null });
 */
export class ControllerProcess {
  readonly identity: string;
  readonly pid: number;
  /** Parsed stdout lines, in order. */
  readonly logs: LogLine[] = [];
  /** Stdout lines that were not JSON objects. */
  readonly badLines: string[] = [];
  stderr = "";
  readonly exit: Promise<ProcessExit>;
  exited: ProcessExit | undefined;
  readonly #child: ChildProcess;
  #partial = "";
  #waiters: (() => void)[] = [];

  private constructor(child: ChildProcess, identity: string) {
    this.#child = child;
    this.identity = identity;
    if (child.pid === undefined) throw new Error(`could not spawn the controller (${nodeBinary} controller/main.ts)`);
    this.pid = child.pid;
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => this.#onStdout(chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exit = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        this.exited = { code, signal };
        this.#wake();
        resolve(this.exited);
      });
    });
  }

  /**
   * Spawns `node controller/main.ts --kubeconfig K --identity ID --metrics-port 0 --metrics-host 127.0.0.1
   * --log-level info` plus {@link fastElection} and `args` (later flags win); `nodeArgs` go to node itself
   * (e.g. `--cpu-prof`). With `identityFrom: "pod-name"` the identity is passed as the env `POD_NAME`
   * instead of `--identity`, as the Deployment does through the downward API. `env` replaces this process's
   * environment (benchmarks pass the product's, tools/bench/product-env.ts).
   */
  static start(opts: {
    kubeconfig: string;
    identity: string;
    identityFrom?: "flag" | "pod-name";
    args?: string[];
    nodeArgs?: string[];
    env?: NodeJS.ProcessEnv;
  }): ControllerProcess {
    const byPodName = opts.identityFrom === "pod-name";
    const args = [
      ...(opts.nodeArgs ?? []),
      "controller/main.ts",
      "--kubeconfig", opts.kubeconfig,
      ...(byPodName ? [] : ["--identity", opts.identity]),
      "--metrics-port", "0",
      "--metrics-host", "127.0.0.1",
      "--log-level", "info",
      ...fastElection,
      ...(opts.args ?? []),
    ];
    const env = { ...(opts.env ?? process.env), POD_NAME: byPodName ? opts.identity : undefined };
    const child = spawn(nodeBinary, args, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    return new ControllerProcess(child, opts.identity);
  }

  /** Log lines with this `msg`. */
  logged(msg: string): LogLine[] {
    return this.logs.filter((l) => l.msg === msg);
  }

  /** Resolves with the first log line matching `msg` (or the predicate); fails after `ms` or when the process exits first. */
  async waitForLog(match: string | ((line: LogLine) => boolean), ms = 10_000): Promise<LogLine> {
    const test = typeof match === "string" ? (l: LogLine) => l.msg === match : match;
    const what = typeof match === "string" ? `log line "${match}"` : "a matching log line";
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.logs.find(test);
      if (found) return found;
      if (this.exited) throw new Error(`controller ${this.identity} exited (${JSON.stringify(this.exited)}) before ${what}; stderr: ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what} from controller ${this.identity}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The ops server's port, from the "controller started" line. */
  async metricsPort(ms = 10_000): Promise<number> {
    const started = await this.waitForLog("controller started", ms);
    if (typeof started.metricsPort !== "number") throw new Error(`"controller started" line has no numeric metricsPort: ${JSON.stringify(started)}`);
    return started.metricsPort;
  }

  /** GET on the ops server (`/metrics`, `/healthz`, `/readyz`). */
  async get(path: string): Promise<{ status: number; body: string }> {
    const port = await this.metricsPort();
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, timeout: 5_000 }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("timeout", () => req.destroy(new Error(`GET ${path} on controller ${this.identity} timed out`)));
      req.on("error", reject);
      req.end();
    });
  }

  /** The value of one sample on /metrics (`name` or `name{labels}` exactly as exposed), or undefined if absent. */
  async metric(sample: string): Promise<number | undefined> {
    const { body } = await this.get("/metrics");
    return sampleValue(body, sample);
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exited) this.#child.kill(signal);
  }

  /** Resolves with how the process ended; fails after `ms`. */
  async waitForExit(ms = 10_000): Promise<ProcessExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`controller ${this.identity} did not exit within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([this.exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #onStdout(chunk: string): void {
    const lines = (this.#partial + chunk).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) {
      if (!line) continue;
      try {
        const parsed: unknown = JSON.parse(line);
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) this.logs.push(parsed as LogLine);
        else this.badLines.push(line);
      } catch {
        this.badLines.push(line);
      }
    }
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** SIGKILLs every process still running and waits for each to be gone. */
export async function killAll(processes: readonly ControllerProcess[]): Promise<void> {
  for (const p of processes) p.kill("SIGKILL");
  await Promise.all(processes.map((p) => p.waitForExit(5_000)));
}

/** The value of `sample` in Prometheus text, e.g. `sampleValue(text, 'metallb_allocator_addresses_total{pool="default"}')`. */
export function sampleValue(text: string, sample: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1).trim().split(" ")[0]);
  }
  return undefined;
}
