/**
 * Carries out the lab's tool plan (lab-tools.ts): finds the missing programs, and either installs their Debian
 * packages with apt-get, saying what it installs, or prints the command to run and stops. The commands run through
 * an injected runner, so tests use a fake one.
 *
 * @example
 * const status = await ensureLabTools({ noInstall: false, root: true, hasTool, run: runCommand, say, warn });
 * if (status !== undefined) process.exit(status);
 */
import { spawn } from "node:child_process";
import { aptEnv, labTools, planLabTools } from "./lab-tools.ts";

/** Runs argv with extra environment variables; resolves with its exit code and its stdout and stderr together. */
export type CommandRunner = (argv: readonly string[], env: Readonly<Record<string, string>>) => Promise<{ code: number | null; output: string }>;

export interface ToolInstallerDeps {
  /** The programs the lab needs; default {@link labTools} (--image adds podman and runc). */
  tools?: readonly string[];
  noInstall: boolean;
  root: boolean;
  /** Whether a program is on PATH (asked again after installing). */
  hasTool(tool: string): boolean;
  run: CommandRunner;
  /** Progress, for stdout. */
  say(line: string): void;
  /** Problems, for stderr. */
  warn(line: string): void;
}

/** The real runner: spawns the command, collecting its output (shown only when it fails). */
export const runCommand: CommandRunner = (argv, env) =>
  new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.on("error", (err) => resolve({ code: null, output: `${output}${err.message}\n` }));
    child.on("close", (code) => resolve({ code, output }));
  });

function tail(output: string): string {
  return output.trimEnd().split("\n").slice(-15).map((line) => `  | ${line}`).join("\n");
}

/**
 * Makes sure every lab tool is on PATH. Resolves undefined when they are (installing what lacked, as root with
 * apt-get), or the exit status to stop with (2) after saying why and what to run.
 */
export async function ensureLabTools(deps: ToolInstallerDeps): Promise<number | undefined> {
  const tools = deps.tools ?? labTools;
  const missing = tools.filter((tool) => !deps.hasTool(tool));
  const plan = planLabTools(missing, { root: deps.root, aptGet: deps.hasTool("apt-get"), noInstall: deps.noInstall });
  if (plan.action === "ready") return undefined;
  if (plan.action === "stop") {
    deps.warn(plan.message);
    return 2;
  }
  deps.say(plan.announce);
  const started = performance.now();
  for (const argv of plan.commands) {
    const line = argv.join(" ");
    const r = await deps.run(argv, aptEnv);
    if (r.code === 0) continue;
    const how = r.code === null ? "could not run" : `failed (exit ${r.code})`;
    if (argv[1] === "update") {
      // A broken third-party source fails the update; the install may still work from the lists already there.
      deps.warn(`lab: \`${line}\` ${how}; trying the install with the package lists this machine has:\n${tail(r.output)}`);
      continue;
    }
    deps.warn(`lab: \`${line}\` ${how}:\n${tail(r.output)}\ninstall ${plan.packages.join(" ")} yourself and run the lab again`);
    return 2;
  }
  const still = tools.filter((tool) => !deps.hasTool(tool));
  if (still.length > 0) {
    deps.warn(`lab: apt-get installed ${plan.packages.join(" ")}, but these tools are still not on PATH: ${still.join(", ")}`);
    return 2;
  }
  deps.say(`installed ${plan.packages.join(" ")} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return undefined;
}
