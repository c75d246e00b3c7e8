/**
 * `npm run bench [-- NAME...]`: runs each benchmark of tools/bench/ that exists, one after another, each as its own
 * child process (`node tools/bench/<file>`), collects the one JSON line each prints on stdout, and prints a summary
 * table. Benchmarks that need root are skipped, with the reason, when not running as root. Names on the command
 * line pick benchmarks by file name (`npm run bench -- controller-allocation`). Exits 1 when any benchmark failed
 * to run.
 *
 * A benchmark is a script that prints one JSON object on its last stdout line and exits 0; progress goes to stderr,
 * which is passed through. The object may declare goals for its figures under `goals` (see goals.ts): the table
 * prints each such figure with its goal and whether it is met, e.g. `rssMb=71.2 (goal ≤ 80: met)`, and a last
 * line counts the goals met. A missed goal is reported, not a failure: it does not change the exit code.
 *
 * @example
 * npm run bench -- kube-sim-throughput
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineCommand, parseCommandLine } from "../../shared/cli/parse-flags.ts";
import { exitWithUsageIfAsked, shortUsage } from "../../shared/cli/usage.ts";
import { describeVerdict, judgeGoals, type GoalVerdict } from "./goals.ts";

/** One benchmark script. */
interface Benchmark {
  /** File name in tools/bench/. */
  file: string;
  /** Needs root (network namespaces, raw sockets). */
  needsRoot: boolean;
}

const benchmarks: readonly Benchmark[] = [
  { file: "kube-sim-throughput.ts", needsRoot: false },
  { file: "controller-idle.ts", needsRoot: false },
  { file: "controller-allocation.ts", needsRoot: false },
  { file: "arp-rtt.ts", needsRoot: true },
  { file: "speaker-idle.ts", needsRoot: true },
  { file: "speaker-rss.ts", needsRoot: true },
  { file: "speaker-ready.ts", needsRoot: true },
  { file: "arp-flood.ts", needsRoot: true },
  { file: "failover.ts", needsRoot: true },
  { file: "false-failover.ts", needsRoot: true },
  { file: "heartbeat-cost.ts", needsRoot: false },
];

const benchmarkNames = benchmarks.map((b) => b.file.replace(/\.ts$/, ""));

/** The bench runner's command line (the parser and `--help` read this). */
export const benchCommand = defineCommand({
  program: "bench",
  synopsis: "npm run bench -- [NAME...]",
  summary:
    "Runs each benchmark of tools/bench/ as its own process and prints a summary table of the JSON line each prints, " +
    "each figure that has a goal with the goal and whether it is met, then how many goals were met. " +
    "Benchmarks that need root are skipped, with the reason, when not running as root. " +
    "Exits 1 when any benchmark failed to run; a missed goal is reported, not a failure.",
  flags: {},
  positionals: { name: "NAME...", help: `the benchmarks to run, by file name: ${benchmarkNames.join(", ")} (default: all)` },
});

/** Upper bound of one benchmark's run. */
const timeoutMs = 20 * 60_000;

const benchDir = fileURLToPath(new URL("./", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const nodeBinary = `${repoRoot}node_modules/.bin/node`;

type Outcome =
  | { name: string; status: "ok"; seconds: number; result: Record<string, unknown> }
  | { name: string; status: "failed"; seconds: number; reason: string }
  | { name: string; status: "skipped"; reason: string };

function runOne(bench: Benchmark): Promise<Outcome> {
  const name = bench.file.replace(/\.ts$/, "");
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  return new Promise((resolve) => {
    const child = spawn(nodeBinary, [`${benchDir}${bench.file}`], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ name, status: "failed", seconds: seconds(), reason: `could not start: ${err.message}` });
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split("\n").pop() ?? "";
      let result: unknown;
      try {
        result = JSON.parse(last);
      } catch {
        result = undefined;
      }
      if (code === 0 && result && typeof result === "object" && !Array.isArray(result)) {
        resolve({ name, status: "ok", seconds: seconds(), result: result as Record<string, unknown> });
        return;
      }
      const how = signal === "SIGKILL" && seconds() * 1000 >= timeoutMs ? `timed out after ${timeoutMs / 60_000} min` : signal ? `killed by ${signal}` : `exit code ${code}`;
      const why = code === 0 ? `its last stdout line is not a JSON object: ${JSON.stringify(last.slice(0, 200))}` : how;
      resolve({ name, status: "failed", seconds: seconds(), reason: why });
    });
  });
}

function formatValue(v: unknown): string {
  return typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
}

/** The table: one row per figure, each figure with a goal followed by the goal and its verdict. */
function printTable(outcomes: readonly Outcome[]): void {
  const rows: string[][] = [["benchmark", "status", "seconds", "result"]];
  for (const o of outcomes) {
    if (o.status === "ok") {
      const verdicts = new Map(judgeGoals(o.result).map((v) => [v.figure, v]));
      const note = (figure: string) => {
        const v = verdicts.get(figure);
        verdicts.delete(figure);
        return v ? ` ${describeVerdict(v)}` : "";
      };
      const fields = Object.entries(o.result)
        .filter(([k]) => k !== "goals")
        .map(([k, v]) => `${k}=${formatValue(v)}${note(k)}`);
      // Goals of nested figures ("crash.ms.p50") get a row of their own.
      for (const v of verdicts.values()) fields.push(`${v.figure}=${v.value ?? "?"} ${describeVerdict(v)}`);
      rows.push([o.name, o.status, String(o.seconds), fields[0] ?? ""]);
      for (const f of fields.slice(1)) rows.push(["", "", "", f]);
    } else {
      rows.push([o.name, o.status, o.status === "failed" ? String(o.seconds) : "-", o.reason]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ");
  console.log(line(rows[0]));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows.slice(1)) console.log(line(r));
}

/** "goals: 6 of 8 met, 1 MISSED (controller-idle rssMb), 1 not judged (arp-flood answeredPercent)", and whose goals went uncounted. */
function goalSummary(outcomes: readonly Outcome[]): string {
  const all: (GoalVerdict & { bench: string })[] = [];
  for (const o of outcomes) if (o.status === "ok") for (const v of judgeGoals(o.result)) all.push({ ...v, bench: o.name });
  const named = (verdict: GoalVerdict["verdict"]) => all.filter((v) => v.verdict === verdict).map((v) => `${v.bench} ${v.figure}`);
  const missed = named("missed");
  const notJudged = named("not judged");
  let text = all.length === 0 ? "goals: none declared by the benchmarks that ran" : `goals: ${named("met").length} of ${all.length} met`;
  if (missed.length > 0) text += `, ${missed.length} MISSED (${missed.join(", ")})`;
  if (notJudged.length > 0) text += `, ${notJudged.length} not judged (${notJudged.join(", ")})`;
  const uncounted = outcomes.filter((o) => o.status !== "ok").map((o) => `${o.name} (${o.status})`);
  if (uncounted.length > 0) text += `; not counted: the goals of ${uncounted.join(", ")}, which gave no result`;
  return text;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  exitWithUsageIfAsked(argv, benchCommand);
  let wanted: string[];
  try {
    wanted = parseCommandLine(argv, benchCommand).positionals;
  } catch (err) {
    console.error(`${(err as Error).message}\n${shortUsage(benchCommand)}`);
    process.exit(2);
  }
  const known = benchmarkNames;
  const unknown = wanted.filter((w) => !known.includes(w));
  if (unknown.length > 0) {
    console.error(`bench: unknown benchmark ${unknown.map((u) => `"${u}"`).join(", ")}; choose from ${known.join(", ")}`);
    process.exit(2);
  }
  const isRoot = process.getuid?.() === 0;
  const outcomes: Outcome[] = [];
  for (const bench of benchmarks) {
    const name = bench.file.replace(/\.ts$/, "");
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    if (!existsSync(`${benchDir}${bench.file}`)) continue;
    if (bench.needsRoot && !isRoot) {
      outcomes.push({ name, status: "skipped", reason: "needs root (network namespaces and raw sockets): run as root, e.g. sudo npm run bench" });
      continue;
    }
    console.error(`bench: running ${bench.file}`);
    outcomes.push(await runOne(bench));
  }
  printTable(outcomes);
  console.log(goalSummary(outcomes));
  if (outcomes.some((o) => o.status === "failed")) process.exit(1);
}

if (import.meta.main) await main();
