/**
 * ARP flood benchmark (not a test): what share of a 20,000 requests/s ARP flood a speaker owning 10,000 VIPs
 * answers, and the CPU it spends doing so. The set-up is speaker-rss.ts's (tools/bench/speaker-lab.ts: a one-node
 * lab, 10,000 Services whose status carries VIPs 10.77.0.1…, the speaker started as the image runs it); once the
 * speaker announces every VIP and its gratuitous bursts are over, tools/bench/arp-flood-requester.ts in the
 * client's namespace sends who-has requests spread round-robin over all 10,000 VIPs at 20,000 per second for
 * 10 s, from sender IPs 192.168.126.150… (one per pass over the VIPs, so every reply names its request), and
 * counts the replies on its own packet socket. Reported:
 *
 * - requestsSent, sendRate: what the requester achieved; below 19,000/s the machine could not generate the flood,
 *   and the answered share is reported but not judged (not the speaker's fault);
 * - repliesMatched, answeredPercent: replies that answer a request sent, as a share of the requests
 *   (goal, issue 11: ≥ 95 %); duplicateReplies: further replies to an answered request;
 * - speakerCpuPercent: the speaker's utime+stime from /proc/<pid>/stat over the flood window, in % of one core.
 *
 * Needs root. Prints one JSON line on stdout (progress on stderr):
 *
 *   ./node_modules/.bin/node tools/bench/arp-flood.ts [--rate 20000] [--seconds 10] [--vips 10000]
 *
 * @example
 * const r = await benchArpFlood({ vips: 10_000, rate: 20_000, seconds: 10 });
 * r.answeredPercent >= 95;
 */
import type { ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startLabCluster } from "../lab/lab-cluster.ts";
import { spawnIn } from "../netns/run.ts";
import { ipv4ToNumber } from "./arp-frames.ts";
import type { Goal, Goals } from "./goals.ts";
import { runNamespaceBench } from "./namespace-bench-main.ts";
import { cpuSeconds } from "./proc-stats.ts";
import { warmCompileCache } from "./product-env.ts";
import { createServicesWithVips, exited, node24, speakerPid, spawnSpeaker, stopSpeaker, waitForAnnounced } from "./speaker-lab.ts";

/** What one run measured. */
export interface ArpFloodResult {
  vips: number;
  targetRate: number;
  seconds: number;
  requestsSent: number;
  sendRate: number;
  sendErrors: number;
  repliesMatched: number;
  duplicateReplies: number;
  answeredPercent: number;
  speakerCpuPercent: number;
  goals: Goals;
}

const requesterScript = fileURLToPath(new URL("./arp-flood-requester.ts", import.meta.url));
const firstSender = "192.168.126.150";
/** The requester's senders must stay inside the LAN's /24, above the client (.100). */
const maxSenders = 100;
/** The gratuitous burst after a gain lasts 5 s; the flood starts after it. */
const burstMs = 6_000;
const graceMs = 500;
/** Below this share of the target rate, the requester, not the speaker, fell short. */
const rateTolerance = 0.95;

const log = (msg: string) => process.stderr.write(`arp-flood: ${msg}\n`);

interface RequesterReport {
  sent: number;
  sendSeconds: number;
  sendRate: number;
  matched: number;
  duplicates: number;
  sendErrors: number;
}

/** Runs the benchmark; see the module comment. `onStop` hands out the (idempotent) cleanup for SIGINT. */
export async function benchArpFlood(opts: { vips: number; rate: number; seconds: number; onStop?: (stop: () => Promise<void>) => void }): Promise<ArpFloodResult> {
  const senders = Math.ceil((opts.rate * opts.seconds) / opts.vips);
  if (senders > maxSenders) throw new Error(`${opts.rate}/s for ${opts.seconds} s over ${opts.vips} VIPs needs ${senders} sender IPs; at most ${maxSenders} fit the LAN`);
  await warmCompileCache();
  const lab = await startLabCluster({ prefix: "blbflood", index: 75, nodeNames: ["node-1"] });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= lab.stop());
  opts.onStop?.(stop);
  let speaker: ChildProcess | undefined;
  try {
    const vips = await createServicesWithVips(lab, opts.vips, log);
    if (ipv4ToNumber(vips.at(-1)!) - ipv4ToNumber(vips[0]) !== vips.length - 1) throw new Error(`the VIPs ${vips[0]}…${vips.at(-1)} are not one contiguous range`);
    const logPath = join(tmpdir(), "blbflood-speaker.log");
    const spawned = spawnSpeaker(lab, logPath);
    speaker = spawned.child;
    log(`speaker output in ${logPath}`);
    const pid = await speakerPid(speaker);
    await waitForAnnounced(speaker, spawned.log, opts.vips, 600_000);
    log(`the speaker announces all ${opts.vips} VIPs; flooding in ${burstMs / 1000} s, after its gratuitous bursts`);
    await new Promise((r) => setTimeout(r, burstMs));

    const client = lab.topo.client;
    const requester = spawnIn(client.ns, [node24, requesterScript, "eth0", String(opts.rate), String(opts.seconds), vips[0], String(opts.vips), firstSender, String(graceMs)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    lab.topo.track(requester);
    // The speaker's CPU, and the requester's (a requester short of CPU drops replies before counting them).
    let cpuBefore: Promise<{ total: number }[]> | undefined;
    let cpuAfter: Promise<{ total: number }[]> | undefined;
    let windowStart = 0;
    let windowEnd = 0;
    let report: RequesterReport | undefined;
    createInterface({ input: requester.stdout! }).on("line", (line) => {
      if (line === "sending") {
        windowStart = performance.now();
        cpuBefore = Promise.all([cpuSeconds(pid), cpuSeconds(requester.pid!)]);
      } else if (line === "sent") {
        windowEnd = performance.now();
        cpuAfter = Promise.all([cpuSeconds(pid), cpuSeconds(requester.pid!)]);
      } else if (line.startsWith("{")) report = JSON.parse(line) as RequesterReport;
    });
    if (!(await exited(requester, (opts.seconds + 60) * 1000))) throw new Error(`the requester did not finish within ${opts.seconds + 60} s`);
    if (!report || !cpuBefore || !cpuAfter) throw new Error(`the requester exited (${requester.exitCode}) without its report`);
    const windowSeconds = (windowEnd - windowStart) / 1000;
    const [[speakerBefore, requesterBefore], [speakerAfter, requesterAfter]] = [await cpuBefore, await cpuAfter];
    const speakerCpuPercent = ((speakerAfter.total - speakerBefore.total) / windowSeconds) * 100;
    const requesterCpuPercent = ((requesterAfter.total - requesterBefore.total) / windowSeconds) * 100;
    const answeredPercent = (report.matched / report.sent) * 100;
    log(
      `sent ${report.sent} requests in ${report.sendSeconds.toFixed(2)} s (${report.sendRate.toFixed(0)}/s, ${report.sendErrors} send errors); ` +
        `${report.matched} answered (${answeredPercent.toFixed(2)} %), ${report.duplicates} duplicate replies; speaker CPU ${speakerCpuPercent.toFixed(1)} % of a core, requester ${requesterCpuPercent.toFixed(1)} %`,
    );

    await spawned.log.poll();
    if (spawned.log.owned.size !== opts.vips) log(`after the flood the speaker announces ${spawned.log.owned.size} of ${opts.vips} VIPs`);
    if (!(await stopSpeaker(speaker))) log("the speaker did not exit within 30 s of SIGTERM");

    const minRate = opts.rate * rateTolerance;
    const answeredGoal: Goal = { min: 95 };
    if (report.sendRate < minRate) {
      answeredGoal.notJudged = `the requester sent ${Math.round(report.sendRate)} requests/s, below ${minRate}: this machine could not generate the flood`;
    }
    return {
      vips: opts.vips,
      targetRate: opts.rate,
      seconds: opts.seconds,
      requestsSent: report.sent,
      sendRate: Math.round(report.sendRate),
      sendErrors: report.sendErrors,
      repliesMatched: report.matched,
      duplicateReplies: report.duplicates,
      answeredPercent: Math.round(answeredPercent * 100) / 100,
      speakerCpuPercent: Math.round(speakerCpuPercent * 10) / 10,
      goals: { answeredPercent: answeredGoal },
    };
  } finally {
    if (speaker) await stopSpeaker(speaker);
    await stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { rate: { type: "string" }, seconds: { type: "string" }, vips: { type: "string" } }, strict: true });
  const rate = Number(values.rate ?? 20_000);
  const seconds = Number(values.seconds ?? 10);
  const vips = Number(values.vips ?? 10_000);
  for (const [flag, value] of [["rate", rate], ["seconds", seconds], ["vips", vips]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      console.error(`arp-flood: --${flag} must be a positive integer, got "${values[flag]}"`);
      process.exit(2);
    }
  }
  if (vips > 65_000) {
    console.error(`arp-flood: --vips must be at most 65000 (the pool is a /16), got ${vips}`);
    process.exit(2);
  }
  await runNamespaceBench("arp-flood", (onStop) => benchArpFlood({ vips, rate, seconds, onStop }));
}
