/**
 * What a client on the LAN sees of one VIP, recorded continuously: fresh-client requests (fresh-client-probe.ts)
 * and who answers ARP (arp-sampler.ts), both every 100 ms from the client namespace. The samples are plain
 * values ({@link ProbeSample}, {@link ArpRound}) for the pure checks in checker.ts.
 *
 * @example
 * const watch = startVipObserver(lab, vip);
 * const mac = await watch.waitForSingleAnswer(10_000);
 * const t = Date.now();
 * await injectSomeFault();
 * failedProbes(watch.probes, t, Date.now()); // requests that failed meanwhile
 * twoMacRounds(watch.rounds, t, Date.now()); // ARP requests two MACs answered
 * await watch.stop();
 */
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { LabCluster } from "../../tools/lab/lab-cluster.ts";
import { spawnIn } from "../../tools/netns/run.ts";
import type { ArpRound, ProbeSample } from "./checker.ts";

const node24 = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const probeScript = fileURLToPath(new URL("./fresh-client-probe.ts", import.meta.url));
const samplerScript = fileURLToPath(new URL("./arp-sampler.ts", import.meta.url));

/** Sampling period of both streams. */
export const sampleIntervalMs = 100;
/** A probe's longest life (curl --max-time): a failure that ends at t may have started this much earlier. */
export const probeMaxMs = 600;

/** The recording of one VIP. */
export interface VipObserver {
  vip: string;
  /** Every request so far, in order of completion. */
  readonly probes: ProbeSample[];
  /** Every ARP request so far, with the MACs that answered it, in order of sending. */
  readonly rounds: ArpRound[];
  /** Node name of a MAC on the LAN, or the MAC itself when it is no node's. */
  nodeOfMac(mac: string): string;
  /** The MAC that answered the latest answered round, if any. */
  answeringMac(): string | undefined;
  /** Waits until `count` consecutive rounds were answered by one and the same single MAC (`mac`, when given); returns it. */
  waitForSingleAnswer(ms: number, count?: number, mac?: string): Promise<string>;
  /** Waits until the samplers have produced rounds and probes that started after `t`. */
  waitForSamplesAfter(t: number, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lines(child: ChildProcess, fn: (line: string) => void): void {
  if (child.stdout) createInterface({ input: child.stdout }).on("line", fn);
}

/**
 * Starts recording `vip` from the lab's client namespace for at most `maxSeconds`. The sender IPs of the ARP
 * sampler are 192.168.126.200–249, unused on the test LAN.
 */
export function startVipObserver(lab: LabCluster, vip: string, opts: { maxSeconds?: number; port?: number } = {}): VipObserver {
  const maxSeconds = String(opts.maxSeconds ?? 3_600);
  const client = lab.topo.client.ns;
  const probes: ProbeSample[] = [];
  const rounds: ArpRound[] = [];
  const stderr: string[] = [];
  const start = (argv: string[]) => {
    const child = spawnIn(client, argv, { stdio: ["pipe", "pipe", "pipe"] });
    lab.topo.track(child);
    child.stderr?.on("data", (b: Buffer) => {
      stderr.push(b.toString());
      if (stderr.length > 50) stderr.shift();
    });
    return child;
  };
  const probe = start([node24, probeScript, "eth0", vip, String(opts.port ?? 80), String(sampleIntervalMs), maxSeconds]);
  const sampler = start([node24, samplerScript, "eth0", String(sampleIntervalMs), maxSeconds, "192.168.126.200", "50", vip]);
  lines(probe, (line) => {
    const [startText, endText, result, detail] = line.split(" ");
    const ok = result === "ok";
    probes.push({ start: Number(startText), end: Number(endText), ok, ...(ok ? { node: detail } : { reason: detail }) });
  });
  lines(sampler, (line) => {
    const [at, ip, macs] = line.split(" ");
    rounds.push({ at: Number(at), vip: ip, macs: macs === "-" ? [] : macs.split(",") });
  });
  const macToNode = new Map<string, string>([...lab.topo.nodes, lab.topo.infra, lab.topo.client].map((n) => [n.mac, n.name]));
  const alive = () => probe.exitCode === null && sampler.exitCode === null;
  const diagnosis = () => `the VIP observer's processes: probe exit ${probe.exitCode}, sampler exit ${sampler.exitCode}; stderr: ${stderr.join("").slice(-800)}`;

  return {
    vip,
    probes,
    rounds,
    nodeOfMac: (mac) => macToNode.get(mac) ?? mac,
    answeringMac() {
      for (let i = rounds.length - 1; i >= 0; i--) if (rounds[i].macs.length > 0) return rounds[i].macs[0];
      return undefined;
    },
    async waitForSingleAnswer(ms, count = 10, mac) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline && alive()) {
        const recent = rounds.slice(-count);
        const first = recent[0]?.macs[0];
        if (recent.length === count && (mac === undefined || first === mac) && recent.every((r) => r.macs.length === 1 && r.macs[0] === first)) return first;
        await sleep(50);
      }
      const recent = rounds.slice(-count).map((r) => r.macs.map((m) => macToNode.get(m) ?? m).join("+") || "nobody");
      const who = mac === undefined ? "a single MAC" : `${macToNode.get(mac) ?? mac} alone`;
      throw new Error(`${vip}: ${who} did not answer ${count} ARP requests in a row within ${ms} ms (last rounds: ${recent.join(" ")}); ${diagnosis()}`);
    },
    async waitForSamplesAfter(t, ms = 5_000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline && alive()) {
        if (rounds.some((r) => r.at > t) && probes.some((p) => p.start > t)) return;
        await sleep(25);
      }
      throw new Error(`${vip}: no samples after ${new Date(t).toISOString()} within ${ms} ms; ${diagnosis()}`);
    },
    async stop() {
      const exited = [probe, sampler].map(
        (c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once("exit", () => resolve()))),
      );
      for (const c of [probe, sampler]) c.stdin?.end();
      await Promise.race([Promise.all(exited), sleep(3_000)]);
      for (const c of [probe, sampler]) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    },
  };
}
