/**
 * The container engine at the edge: podman when it is installed (with this machine's quirks applied, see
 * podman-quirks.ts), else docker when a docker engine answers `docker info`. Runs engine commands with the right
 * global flags and environment.
 *
 * @example
 * const engine = await detectEngine();
 * const r = await engine.run(["image", "exists", "docker.io/library/node:24-slim"]);
 */
import { spawn } from "node:child_process";
import { readFileSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findOnPath } from "./support/find-on-path.ts";
import { hardNofile, hasSysResource, podmanQuirks } from "./podman-quirks.ts";

export interface EngineResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Engine {
  name: "podman" | "docker";
  /** The command and its global flags, e.g. ["podman", "--runtime", "runc"]. */
  argv: string[];
  /** The environment for every engine command (CONTAINERS_CONF when a quirk needs it). */
  env: NodeJS.ProcessEnv;
  /** The quirks applied, one line each. */
  notes: string[];
  /** Runs `engine ARGS` to completion; never throws for a non-zero exit. `echo` copies its output to our stderr as it comes. */
  run(args: string[], opts?: { echo?: boolean; timeoutMs?: number }): Promise<EngineResult>;
  /** Runs `engine ARGS` and throws with its stderr when it fails. */
  mustRun(args: string[], opts?: { echo?: boolean; timeoutMs?: number }): Promise<string>;
}

const cgroup2Magic = 0x63677270;

/** The facts podman-quirks decides from, read from this machine. */
function machineFacts() {
  let cgroup2 = true;
  try {
    cgroup2 = statfsSync("/sys/fs/cgroup").type === cgroup2Magic;
  } catch {
    // no /sys/fs/cgroup: leave podman's defaults
  }
  const read = (path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return "";
    }
  };
  return {
    cgroup2,
    nofileHard: hardNofile(read("/proc/self/limits")),
    canRaiseLimits: hasSysResource(read("/proc/self/status")),
    containersConf: process.env.CONTAINERS_CONF,
  };
}

function runner(argv: string[], env: NodeJS.ProcessEnv): Pick<Engine, "run" | "mustRun"> {
  const run: Engine["run"] = (args, opts = {}) =>
    new Promise((resolve) => {
      const child = spawn(argv[0], [...argv.slice(1), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : undefined;
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
        if (opts.echo) process.stderr.write(c);
      });
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
        if (opts.echo) process.stderr.write(c);
      });
      child.on("error", (err) => {
        clearTimeout(timer);
        resolve({ code: 127, stdout, stderr: `${stderr}${err.message}` });
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? 128, stdout, stderr: signal === "SIGKILL" && opts.timeoutMs ? `${stderr}(killed after ${opts.timeoutMs} ms)` : stderr });
      });
    });
  return {
    run,
    async mustRun(args, opts) {
      const r = await run(args, opts);
      if (r.code !== 0) throw new Error(`${[...argv, ...args].join(" ")} failed (exit ${r.code}): ${(r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join("\n")}`);
      return r.stdout;
    },
  };
}

/** Podman with this machine's quirks; throws naming the package when podman (or a needed runc) is missing. */
export function podmanEngine(): Engine {
  if (!findOnPath("podman")) throw new Error("podman is not installed: apt-get install -y podman runc (Debian/Ubuntu)");
  const quirks = podmanQuirks(machineFacts());
  if (quirks.globalArgs.includes("runc") && !findOnPath("runc")) {
    throw new Error("this machine's cgroups need podman's runc runtime, which is not installed: apt-get install -y runc");
  }
  const env = { ...process.env };
  if (quirks.containersConf) {
    const path = join(tmpdir(), "baremetal-lb-containers.conf");
    writeFileSync(path, quirks.containersConf);
    env.CONTAINERS_CONF = path;
  }
  const argv = ["podman", ...quirks.globalArgs];
  return { name: "podman", argv, env, notes: quirks.notes, ...runner(argv, env) };
}

/**
 * Why podman cannot run a container here, or undefined when it can: runs `true` from the host's root file system
 * (an overlay, so nothing is written to it), without network and without any image.
 *
 * @example
 * const problem = await containerProblem(podmanEngine()); // undefined, or "runc create failed: …"
 */
export async function containerProblem(engine: Engine): Promise<string | undefined> {
  const r = await engine.run(["run", "--rm", "--network", "none", "--rootfs", "/:O", "/bin/true"], { timeoutMs: 60_000 });
  if (r.code === 0) return undefined;
  return (r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`).split("\n").slice(-2).join(" ").replace(/^Error: /, "");
}

/**
 * The engine that builds the image: podman when installed, else docker when `docker info` reaches an engine.
 * Throws what to install when neither can build.
 */
export async function detectEngine(): Promise<Engine> {
  if (findOnPath("podman")) return podmanEngine();
  if (findOnPath("docker")) {
    const docker = runner(["docker"], process.env);
    const info = await docker.run(["info"], { timeoutMs: 20_000 });
    if (info.code === 0) return { name: "docker", argv: ["docker"], env: process.env, notes: [], ...docker };
    throw new Error(`docker is installed but no docker engine answers (docker info: ${info.stderr.trim().split("\n")[0]}); install podman instead: apt-get install -y podman runc`);
  }
  throw new Error("no container engine: install podman (apt-get install -y podman runc) or docker");
}
