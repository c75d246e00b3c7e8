/**
 * The chaos soak in CI: `npm run soak -- --minutes 1.5 --json` as a child process (needs root). The seed is
 * random unless SOAK_SEED is set, and is printed, so a failing run can be replayed with the same choices.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { requireNetns } from "../support/requirements.ts";
import type { SoakReport } from "./report.ts";

const skip = await requireNetns(["ip6tables", "curl"]);

const node24 = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const soakScript = fileURLToPath(new URL("./soak.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const minutes = 1.5;
/** The soak's own bound: its minutes, recovery, setup and teardown; SIGINT after it, SIGKILL 30 s later. */
const limitMs = minutes * 60_000 + 150_000;

describe.skipIf(skip)("chaos soak (1.5 minutes of random API outages, partitions, kills and link flaps)", () => {
  let child: ChildProcess | undefined;

  afterAll(async () => {
    // A test that timed out leaves the soak running: interrupt it (it heals and tears down), then kill it.
    const proc = child;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGINT");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    }
  }, 40_000);

  it("never lets two MACs answer for the VIP and keeps it dark no longer than the failover budget", async () => {
    const seed = process.env.SOAK_SEED ?? String(Math.floor(Math.random() * 2 ** 32));
    console.log(`soak e2e: seed ${seed} (replay with: sudo npm run soak -- --minutes ${minutes} --seed ${seed})`);
    let stdout = "";
    const proc = spawn(node24, [soakScript, "--minutes", String(minutes), "--seed", seed, "--json"], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
    child = proc;
    proc.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const interrupt = setTimeout(() => proc.kill("SIGINT"), limitMs);
    const kill = setTimeout(() => proc.kill("SIGKILL"), limitMs + 30_000);
    const code = await new Promise<number | null>((resolve) => proc.once("exit", (c) => resolve(c)));
    clearTimeout(interrupt);
    clearTimeout(kill);

    const lines = stdout.trimEnd().split("\n");
    let report: SoakReport;
    try {
      report = JSON.parse(lines.at(-1) ?? "") as SoakReport;
    } catch {
      throw new Error(`the soak (seed ${seed}) ended with exit ${code} without a JSON report; stdout:\n${stdout.slice(-3000)}`);
    }
    const text = lines.slice(0, -1).join("\n");
    expect(report.interrupted, `the soak ran past its ${limitMs / 1000} s bound and was interrupted`).toBe(false);
    expect(report.harnessErrors, text).toEqual([]);
    expect(report.faultsInjected, `faults injected in ${minutes} min`).toBeGreaterThanOrEqual(3);
    expect(report.twoMacSeconds, `seconds with two MACs (seed ${seed}):\n${text}`).toBe(0);
    expect(report.darkBeyondBudgetSeconds, `VIP-dark seconds beyond the failover budget (seed ${seed}):\n${text}`).toBe(0);
    expect(code, `exit status (seed ${seed})`).toBe(0);
  }, limitMs + 60_000);
});
