import { execFile, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion with a time limit; never throws for a non-zero exit.
 *
 * @example
 * const r = await run(["ip", "netns", "list"]);
 */
export function run(argv: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      argv[0],
      argv.slice(1),
      { timeout: opts.timeoutMs ?? 15_000, maxBuffer: 16 * 1024 * 1024, env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === 1 && !stderr ? String(err.message) : "") });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command and throws with its stderr when it fails. */
export async function mustRun(argv: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Runs a command inside network namespace `ns`. */
export function runIn(ns: string, argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return run(["ip", "netns", "exec", ns, ...argv], opts);
}

/** Runs a command inside `ns` and throws with its stderr when it fails. */
export function mustRunIn(ns: string, argv: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  return mustRun(["ip", "netns", "exec", ns, ...argv], opts);
}

/** Starts a long-running process inside `ns` (the caller owns and must stop it). */
export function spawnIn(ns: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["ignore", "pipe", "pipe"], ...opts });
}
