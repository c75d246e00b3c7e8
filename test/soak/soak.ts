/**
 * Chaos soak: `npm run soak -- --minutes N [--seed S] [--json]` (as root).
 *
 * Builds the lab cluster (three node namespaces, the API simulator, the controller, a speaker per node, one
 * LoadBalancer Service with a backend and kube-proxy's DNAT on every node), then for N minutes injects random
 * faults, one or two at a time, seeded (fault-plan.ts): API outages and the API host cut from the nodes (iptables),
 * partitions (one node cut from the other two) and asymmetric cuts (iptables), kill -9 and restart of a speaker,
 * link flaps, and node crashes (kill -9 plus link down). Every 100 ms it probes the VIP as a fresh client and asks
 * by ARP who answers (vip-observer.ts). At the end it prints, per fault kind, the faults injected, the seconds
 * with two MACs answering one ARP request (must be 0) and the VIP-dark seconds beyond the failover budget (must
 * be 0; the budget is 1.5 s after a fault that kills or isolates the owner, and 0 for faults that should not
 * affect the VIP: API outages, a non-owner's death or isolation). See checker.ts for the exact rules.
 *
 * Exit status: 0 when both must-be-zero figures are 0 (and the harness had no error), 1 otherwise, 2 for bad
 * flags or without root, 130 when interrupted. It runs N minutes plus recovery and teardown; Ctrl-C heals,
 * tears down and exits (a second Ctrl-C exits at once). With --json the last stdout line is the report as JSON.
 *
 * @example
 * const report = await runSoak({ minutes: 1.5, seed: 7 });
 * report.twoMacSeconds === 0 && report.darkBeyondBudgetSeconds === 0;
 */
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineCommand, parseFlags } from "../../shared/cli/parse-flags.ts";
import { exitWithUsageIfAsked, shortUsage } from "../../shared/cli/usage.ts";
import { rankNodes } from "../../speaker/election/election.ts";
import { exposeWeb, startLabCluster } from "../../tools/lab/lab-cluster.ts";
import { netnsSupport } from "../../tools/netns/topology.ts";
import { evaluate } from "./checker.ts";
import { FaultInjector } from "./fault-injector.ts";
import { FaultPlan } from "./fault-plan.ts";
import { formatReport, soakReport, type SoakReport } from "./report.ts";
import { probeMaxMs, startVipObserver } from "./vip-observer.ts";

export interface SoakOptions {
  minutes: number;
  seed: number;
  /** Aborting ends the soak early: faults heal, the cluster is torn down, the report says "interrupted". */
  signal?: AbortSignal;
  /** Progress and the fault timeline; default stderr. */
  log?: (line: string) => void;
}

const nodeNames = ["node-1", "node-2", "node-3"];
const budgetMs = 1_500;
const pool = "address-pools:\n- name: default\n  protocol: layer2\n  addresses:\n  - 192.168.126.40-192.168.126.45\n";
/** Recording after the last fault was released, so a late disruption still counts. */
const finalObservationMs = 3_000;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}

/** Runs the soak; see the module comment. Needs root. */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const signal = opts.signal;
  let origin = started;
  const stamp = (line: string) => log(`soak +${((Date.now() - origin) / 1000).toFixed(1)}s ${line}`);
  log(`soak: seed ${opts.seed}, ${opts.minutes} min; building the lab (namespaces blbsoak-*)`);
  const lab = await startLabCluster({ prefix: "blbsoak", index: 82, nodeNames });
  try {
    const vip = await exposeWeb(lab, pool);
    const elected = lab.topo.nodes.find((n) => n.name === rankNodes(nodeNames, vip)[0])!;
    const watch = startVipObserver(lab, vip, { maxSeconds: Math.ceil(opts.minutes * 60) + 600 });
    const harnessErrors: string[] = [];
    try {
      await watch.waitForSingleAnswer(30_000, 10, elected.mac);
      origin = Date.now();
      log(`soak: ${vip} answered by ${elected.name}; injecting faults for ${opts.minutes} min`);
      const byMac = new Map(lab.topo.nodes.map((n) => [n.mac, n]));
      const injector = new FaultInjector({
        lab,
        ownerNode: () => byMac.get(watch.answeringMac() ?? ""),
        // After a heal every node is back, so the elected node should hold the VIP again.
        settled: async (ms) => {
          if (signal?.aborted) return;
          await watch.waitForSingleAnswer(ms, 20, elected.mac).catch(() => stamp(`the VIP did not settle on ${elected.name} within ${ms / 1000} s`));
        },
        log: stamp,
      });
      const plan = new FaultPlan(opts.seed);
      const deadline = origin + opts.minutes * 60_000;
      while (Date.now() < deadline && !signal?.aborted) {
        await injector.reviveCrashed();
        const state = { nodeSlotFree: injector.nodeSlotFree, apiSlotFree: injector.apiSlotFree, remainingMs: deadline - Date.now() };
        for (const f of plan.next(state)) injector.start(f);
        await sleep(Math.min(plan.gapMs(), deadline - Date.now()), signal);
      }
      stamp(signal?.aborted ? "interrupted: healing every fault" : "time is up: waiting for the last faults to heal and settle");
      await injector.stop();
      await injector.reviveCrashed();
      await sleep(finalObservationMs, signal);
      const end = Date.now();
      await watch.stop();
      const figures = evaluate({ probes: watch.probes, rounds: watch.rounds, faults: injector.faults, origin, end, budgetMs, probeMaxMs });
      const nodeOfMac = (mac: string) => (byMac.has(mac) ? `${byMac.get(mac)!.name} ${mac}` : mac);
      if (injector.faults.length === 0) harnessErrors.push("no fault was injected: the soak was too short to test anything");
      return soakReport({
        seed: opts.seed,
        minutes: opts.minutes,
        vip,
        budgetMs,
        origin,
        interrupted: signal?.aborted ?? false,
        figures,
        faults: injector.faults,
        unexpectedExits: injector.unexpectedExits,
        harnessErrors,
        nameOfMac: nodeOfMac,
      });
    } finally {
      await watch.stop();
    }
  } finally {
    const logPath = join(tmpdir(), `blb-soak-${opts.seed}.log`);
    await writeFile(logPath, lab.logs()).catch(() => undefined);
    log(`soak: process logs in ${logPath}; tearing down`);
    await lab.stop();
  }
}

/** The soak's command line: every flag, what it does and its default (the parser and `--help` read this). */
export const soakCommand = defineCommand({
  program: "soak",
  synopsis: "sudo npm run soak -- --minutes N [--seed S] [--json]",
  summary:
    "Chaos soak in network namespaces (as root): the lab cluster under random, seeded faults (API outages, partitions, " +
    "kill -9, link flaps, node crashes) while a fresh client probes the VIP every 100 ms. Prints, per fault kind, the " +
    "seconds with two MACs answering and the VIP-dark seconds beyond the failover budget; exits 0 only when both are 0.",
  flags: {
    minutes: { type: "string", value: "N", required: true, help: "how long to inject faults, in minutes, in (0, 1440]" },
    seed: { type: "string", value: "S", help: "seed of the fault plan, an integer in [0, 2^32); the same seed replays the same plan", defaultText: "random, printed at the start" },
    json: { type: "boolean", default: false, help: "also print the report as JSON on the last stdout line" },
  },
});

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  exitWithUsageIfAsked(argv, soakCommand);
  let values;
  try {
    values = parseFlags(argv, soakCommand);
  } catch (err) {
    console.error(`${(err as Error).message}\n${shortUsage(soakCommand)}`);
    process.exit(2);
  }
  const minutes = Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) {
    console.error(`soak: --minutes must be a number of minutes in (0, 1440], got ${JSON.stringify(values.minutes)}\n${shortUsage(soakCommand)}`);
    process.exit(2);
  }
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    console.error(`soak: --seed must be an integer in [0, 2^32), got ${JSON.stringify(values.seed)}`);
    process.exit(2);
  }
  const support = await netnsSupport();
  if (support !== true) {
    console.error(`soak: ${support}`);
    process.exit(2);
  }
  const stop = new AbortController();
  process.on("SIGINT", () => {
    if (stop.signal.aborted) {
      process.stderr.write("soak: second interrupt: exiting now; the next run removes what is left\n");
      process.exit(130);
    }
    process.stderr.write("soak: interrupted: healing and tearing down (Ctrl-C again to exit at once)\n");
    stop.abort();
  });
  let report: SoakReport;
  try {
    report = await runSoak({ minutes, seed, signal: stop.signal });
  } catch (err) {
    console.error(`soak: ${(err as Error).stack ?? String(err)}`);
    process.exit(stop.signal.aborted ? 130 : 1);
  }
  console.log(formatReport(report));
  if (values.json) console.log(JSON.stringify(report));
  process.exit(report.interrupted ? 130 : report.ok ? 0 : 1);
}

if (import.meta.main) await main();
