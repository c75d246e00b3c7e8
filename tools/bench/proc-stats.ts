/**
 * What /proc says about a process the benchmarks started: resident memory and CPU time.
 *
 * @example
 * const before = await cpuSeconds(pid);
 * await sleep(10_000);
 * const percent = ((await cpuSeconds(pid)) - before) / 10 * 100; // of one core
 * const { rss, hwm } = (await memoryMb(pid))!;
 */
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";

/** VmRSS (resident now) and VmHWM (resident peak) of `pid` in MiB, or undefined once the process is gone (or a zombie). */
export async function memoryMb(pid: number): Promise<{ rss: number; hwm: number } | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  const rss = kb("VmRSS") / 1024;
  const hwm = kb("VmHWM") / 1024;
  // A zombie (exited, not yet reaped) has no memory lines.
  return Number.isFinite(rss) && Number.isFinite(hwm) ? { rss, hwm } : undefined;
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`; 100 when that fails). */
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
    const ticks = Number(r.stdout?.trim());
    ticksPerSecond = Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  }
  return ticksPerSecond;
}

/** User and system CPU seconds `pid` has used so far (all its threads), from /proc/<pid>/stat. */
export async function cpuSeconds(pid: number): Promise<{ user: number; system: number; total: number }> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis start at 3.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const perSecond = clockTicksPerSecond();
  const user = Number(fields[11]) / perSecond;
  const system = Number(fields[12]) / perSecond;
  return { user, system, total: user + system };
}
