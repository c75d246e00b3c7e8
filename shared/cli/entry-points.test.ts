/**
 * Every command-line entry point answers `--help` with a usage that lists every flag it accepts and its default,
 * and exits 0. The usage and the parser read the same table (CommandSpec), and these tests hold them together.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { controllerCommand } from "../../controller/flags.ts";
import { speakerCommand } from "../../speaker/flags.ts";
import { benchCommand } from "../../tools/bench/run.ts";
import { kubeSimCommand } from "../../tools/kube-sim/main.ts";
import { labCommand } from "../../tools/lab/lab-flags.ts";
import { soakCommand } from "../../test/soak/soak.ts";
import { convertConfigCommand } from "../../tools/convert-config.ts";
import { imageCommand } from "../../tools/image.ts";
import { parseCommandLine, type CommandSpec } from "./parse-flags.ts";
import { formatUsage } from "./usage.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const node24 = `${repo}node_modules/.bin/node`;

const entryPoints: { file: string; command: CommandSpec }[] = [
  { file: "controller/main.ts", command: controllerCommand },
  { file: "speaker/main.ts", command: speakerCommand },
  { file: "tools/kube-sim/main.ts", command: kubeSimCommand },
  { file: "tools/lab/lab.ts", command: labCommand },
  { file: "tools/bench/run.ts", command: benchCommand },
  { file: "test/soak/soak.ts", command: soakCommand },
  { file: "tools/convert-config.ts", command: convertConfigCommand },
  { file: "tools/image.ts", command: imageCommand },
];

/** The flags the parser accepts, as its error for an unknown flag lists them. */
function acceptedFlags(command: CommandSpec): string[] {
  try {
    parseCommandLine(["--surely-not-a-flag"], command);
  } catch (err) {
    return /Valid flags: (.*)$/.exec((err as Error).message)![1].split(", ");
  }
  throw new Error(`${command.program} accepted --surely-not-a-flag`);
}

/** The flags a usage text documents. */
function documentedFlags(usage: string): string[] {
  return [...usage.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]);
}

function runHelp(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // No KUBECONFIG, no NODE_NAME: --help must not need them.
    const child = spawn(node24, [file, "--help"], { cwd: repo, env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("--help on every entry point", () => {
  it.each(entryPoints)("$file documents exactly the flags its parser accepts, each with its default", ({ command }) => {
    const usage = formatUsage(command);
    expect(documentedFlags(usage)).toEqual(acceptedFlags(command));
    // One line per flag once the wrapped lines are joined back.
    const lines = usage.replace(/\n {3,}/g, " ").split("\n");
    for (const [name, spec] of Object.entries(command.flags)) {
      const line = lines.find((l) => l.startsWith(`  --${name} `) || l === `  --${name}`) ?? "";
      expect(line, `--${name}`).toMatch(/ \((required|default: .+)\)$/);
      if (typeof spec.default === "string") expect(line, `--${name}`).toContain(`(default: ${spec.default})`);
    }
  });

  it.concurrent.each(entryPoints)("$file --help prints that usage on stdout and exits 0, run as a process", async ({ file, command }) => {
    const r = await runHelp(file);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(formatUsage(command));
  });
});
