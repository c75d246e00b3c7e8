/**
 * Runs the real kubectl (from PATH) against a simulator for the kubectl flow tests. Every run gets its own fresh
 * HOME and `--cache-dir` (so discovery is fetched again and `~/.kube` is never touched), an explicit
 * `--kubeconfig`, and a hard timeout.
 *
 * @example
 * const r = await kubectl(sim.kubeconfigPath, ["get", "svc", "-n", "x"]);
 * expect(r.code).toBe(0);
 */
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** The kubectl executable on PATH, or undefined when there is none. */
export const kubectlPath: string | undefined = (process.env.PATH ?? "")
  .split(delimiter)
  .filter((dir) => dir !== "")
  .map((dir) => join(dir, "kubectl"))
  .find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/** Why kubectl tests are skipped, or undefined when kubectl is available. */
export const kubectlSkipReason: string | undefined =
  kubectlPath === undefined ? "kubectl is not on PATH; the kubectl flow tests need the real kubectl (1.32) binary" : undefined;

/** The outcome of one kubectl run; `code` is null when it was killed (timeout or stop). */
export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A kubectl process started in the background (for `get -w` and `wait`). */
export interface KubectlProcess {
  /** Output so far. */
  stdout(): string;
  /** Resolves with the stdout once `pattern` matches it; rejects after `timeoutMs` with the output so far. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process exits by itself (killed after its own timeout). */
  done: Promise<KubectlResult>;
  /** Kills the process and resolves with what it printed. */
  stop(): Promise<KubectlResult>;
}

/**
 * Starts kubectl with `args` plus `--kubeconfig` and a fresh `--cache-dir` and HOME; `timeoutMs` kills it.
 *
 * @example
 * const watch = startKubectl(sim.kubeconfigPath, ["get", "svc", "-w", "-n", "x"]);
 * await watch.waitForOutput(/^web\s/m);
 * await watch.stop();
 */
export function startKubectl(kubeconfigPath: string, args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): KubectlProcess {
  if (kubectlPath === undefined) throw new Error(kubectlSkipReason);
  const executable = kubectlPath;
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  let child: ReturnType<typeof spawn> | undefined;
  let stopped = false;
  let home = "";
  const done = (async (): Promise<KubectlResult> => {
    home = await mkdtemp(join(tmpdir(), "kubectl-home-"));
    try {
      return await new Promise<KubectlResult>((resolve, reject) => {
        const proc = spawn(executable, [...args, "--kubeconfig", kubeconfigPath, "--cache-dir", join(home, "cache")], {
          env: { PATH: process.env.PATH ?? "", HOME: home, LANG: "C" },
          stdio: ["pipe", "pipe", "pipe"],
        });
        child = proc;
        if (stopped) proc.kill("SIGKILL");
        const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
        proc.stdout.setEncoding("utf8").on("data", (chunk: string) => {
          stdout += chunk;
          for (const l of listeners) l();
        });
        proc.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        proc.on("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
        proc.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
        proc.stdin.end(opts.stdin ?? "");
      });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  })();
  return {
    stdout: () => stdout,
    done,
    waitForOutput(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (!pattern.test(stdout)) return false;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(stdout);
          return true;
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`kubectl ${args.join(" ")}: no output matching ${pattern} within ${timeoutMs} ms; stdout: ${JSON.stringify(stdout)}; stderr: ${JSON.stringify(stderr)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
        void done.then(() => {
          if (listeners.has(check) && !check()) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`kubectl ${args.join(" ")} exited before printing ${pattern}; stdout: ${JSON.stringify(stdout)}; stderr: ${JSON.stringify(stderr)}`));
          }
        });
      });
    },
    async stop() {
      stopped = true;
      child?.kill("SIGKILL");
      return done;
    },
  };
}

/**
 * Runs kubectl to completion (see {@link startKubectl}); never rejects on a non-zero exit.
 *
 * @example
 * const { code, stdout } = await kubectl(sim.kubeconfigPath, ["apply", "-f", "-"], { stdin: manifest });
 */
export function kubectl(kubeconfigPath: string, args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
  return startKubectl(kubeconfigPath, args, opts).done;
}
