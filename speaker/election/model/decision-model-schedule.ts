/**
 * Seeded random fault schedules over {@link ClusterModel}, checked at every event (see decision-model.test.ts).
 * Test support: only decision-model.test.ts uses it; the speaker never loads it.
 */
import { seededRandom } from "../../../shared/seeded-random.ts";
import { ClusterModel, type ModelTiming } from "./decision-model.ts";

/**
 * The speaker's defaults (speaker/flags.ts), with a stall limit shorter than the longest modelled stall so both
 * sides of it are run. One-way delay up to 2.5 ms: a LAN's is well under 1 ms. At 25 ms / 150 ms the
 * acknowledgement of a heartbeat, with one of them lost, takes up to three intervals plus two delays, which the
 * 100 ms quorum window holds only for delays of a few ms; a network slower than that needs a longer interval
 * (100 ms / 600 ms below, with 10 ms delays).
 */
export const timing: ModelTiming = {
  heartbeatIntervalMs: 25,
  heartbeatTimeoutMs: 150,
  leaseRenewMs: 1000,
  leaseDurationMs: 4000,
  maxDelayMs: 2.5,
  lossRate: 0.02,
  syncMs: 150,
  stallLimitMs: 1000,
};
/**
 * The defaults before heartbeats moved to a native thread, a setting users keep: the regression cases were found at
 * it. A speaker that stalls longer than the stall limit has its VIPs taken over a timeout (and a handover) later, so
 * the stall limit here leaves that within the liveness budget.
 */
export const slowTiming: ModelTiming = { ...timing, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600, maxDelayMs: 10, stallLimitMs: 600 };
const ips = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6"];
/** Time after the cluster is whole (majority up, fully connected, candidates) by which every IP must be announced. */
const budgetMs = 1500;

type Fault =
  | { kind: "api-down"; ms: number }
  | { kind: "api-cut"; node: string; ms: number }
  | { kind: "isolate"; node: string; ms: number }
  | { kind: "one-way"; from: string; to: string; ms: number }
  | { kind: "split"; side: string[]; ms: number }
  | { kind: "crash"; node: string; downMs: number }
  | { kind: "stop"; node: string; downMs: number }
  | { kind: "stall"; node: string; ms: number };

function randomFault(r: () => number, nodes: string[]): Fault {
  const pick = () => nodes[Math.floor(r() * nodes.length)];
  const ms = Math.floor(200 + r() * 6000);
  switch (Math.floor(r() * 8)) {
    case 0:
      return { kind: "api-down", ms: Math.floor(r() * 20_000) };
    case 1:
      return { kind: "api-cut", node: pick(), ms };
    case 2:
      return { kind: "isolate", node: pick(), ms };
    case 3: {
      const from = pick();
      let to = pick();
      if (to === from) to = nodes[(nodes.indexOf(from) + 1) % nodes.length];
      return { kind: "one-way", from, to, ms };
    }
    case 4:
      return { kind: "split", side: nodes.filter(() => r() < 0.5), ms };
    case 5:
      return { kind: "crash", node: pick(), downMs: ms };
    case 6:
      return { kind: "stop", node: pick(), downMs: ms };
    default:
      return { kind: "stall", node: pick(), ms: Math.floor(50 + r() * 1500) };
  }
}

function cutBoth(m: ClusterModel, a: string, b: string, on: boolean): void {
  for (const key of [`${a}>${b}`, `${b}>${a}`]) {
    if (on) m.cut.add(key);
    else m.cut.delete(key);
  }
}

/** Applies a fault now and schedules its repair; returns the repair time. */
function inject(m: ClusterModel, f: Fault, repairs: { at: number; run: () => void }[]): void {
  const later = (ms: number, run: () => void) => repairs.push({ at: m.now + ms, run });
  switch (f.kind) {
    case "api-down":
      m.setApi(false);
      later(f.ms, () => m.setApi(true));
      break;
    case "api-cut":
      m.setApiCut(f.node, true);
      later(f.ms, () => m.setApiCut(f.node, false));
      break;
    case "isolate":
      for (const o of m.nodes) if (o !== f.node) cutBoth(m, f.node, o, true);
      later(f.ms, () => {
        for (const o of m.nodes) if (o !== f.node) cutBoth(m, f.node, o, false);
      });
      break;
    case "one-way":
      m.cut.add(`${f.from}>${f.to}`);
      later(f.ms, () => m.cut.delete(`${f.from}>${f.to}`));
      break;
    case "split": {
      const other = m.nodes.filter((n) => !f.side.includes(n));
      for (const a of f.side) for (const b of other) cutBoth(m, a, b, true);
      later(f.ms, () => {
        for (const a of f.side) for (const b of other) cutBoth(m, a, b, false);
      });
      break;
    }
    case "crash":
      if (!m.speakers.get(f.node)!.up) break;
      m.crash(f.node);
      later(f.downMs, () => m.start(f.node));
      break;
    case "stop":
      if (!m.speakers.get(f.node)!.up) break;
      m.stop(f.node);
      later(f.downMs, () => m.start(f.node));
      break;
    case "stall":
      m.stall(f.node, f.ms);
      break;
  }
}

export interface RunResult {
  violations: string[];
  faults: number;
  checkedWholeMs: number;
}

/** One seeded schedule: random faults for `ms`, then a repair of everything and a quiet tail. */
export function runSchedule(seed: number, nodeCount: number, ms: number, trace?: (line: string) => void, at: ModelTiming = timing): RunResult {
  const r = seededRandom(seed);
  const nodes = Array.from({ length: nodeCount }, (_, i) => `node-${i + 1}`);
  const m = new ClusterModel(nodes, ips, at, r);
  const violations: string[] = [];
  let wholeSince: number | undefined;
  let checkedWholeMs = 0;
  let lastCheckAt = 0;
  const repairs: { at: number; run: () => void }[] = [];

  const isWhole = () => {
    if (!m.apiUp && [...m.speakers.values()].some((s) => s.up && !s.booted)) return false;
    if (m.cut.size > 0) return false;
    const up = [...m.speakers.values()].filter((s) => s.up && m.now >= s.stalledUntil);
    if (up.some((s) => !s.candidate)) return false;
    return up.length * 2 > nodeCount;
  };
  let upKey = "";
  const check = () => {
    const announcers = m.announcers();
    for (const [ip, who] of announcers) {
      if (who.length > 1 && violations.length < 5) violations.push(`t=${m.now.toFixed(1)} ms: ${ip} announced by ${who.join(" and ")} (seed ${seed})`);
    }
    // A speaker that comes back (from a stall as from a restart) takes its IPs back from whoever
    // holds them; the old owner falls quiet before the new one speaks, so the budget starts again.
    let key = "";
    for (const s of m.speakers.values()) if (s.up && m.now >= s.stalledUntil) key += `${s.name},`;
    if (key !== upKey) {
      upKey = key;
      wholeSince = undefined;
    }
    if (!isWhole()) {
      wholeSince = undefined;
      return;
    }
    wholeSince ??= m.now;
    if (m.now - wholeSince >= budgetMs) {
      checkedWholeMs += m.now - Math.max(lastCheckAt, wholeSince + budgetMs);
      for (const [ip, who] of announcers) {
        if (who.length === 0 && violations.length < 5) violations.push(`t=${m.now.toFixed(1)} ms: ${ip} dark ${budgetMs} ms after the cluster became whole (seed ${seed})`);
      }
    }
    lastCheckAt = m.now;
  };

  m.runUntil(3000, check);
  let faults = 0;
  let t = 3000;
  while (t < ms) {
    t += 200 + r() * 3000;
    m.runUntil(t, check);
    for (const rep of repairs.splice(0).sort((a, b) => a.at - b.at)) {
      if (rep.at <= m.now) {
        trace?.(`t=${m.now.toFixed(1)} repair`);
        rep.run();
        wholeSince = undefined;
      }
      else repairs.push(rep);
    }
    if (r() < 0.7) {
      const fault = randomFault(r, nodes);
      trace?.(`t=${m.now.toFixed(1)} inject ${JSON.stringify(fault)}`);
      inject(m, fault, repairs);
      wholeSince = undefined;
      faults++;
    }
  }
  // Repair everything, then check the cluster comes back whole and announced.
  for (const rep of repairs.splice(0).sort((a, b) => a.at - b.at)) {
    m.runUntil(Math.max(m.now, rep.at), check);
    rep.run();
    wholeSince = undefined;
  }
  m.setApi(true);
  for (const n of [...m.apiCut]) m.setApiCut(n, false);
  m.cut.clear();
  for (const s of m.speakers.values()) if (!s.up) m.start(s.name);
  wholeSince = undefined;
  // Steps of 100 ms, so the whole-cluster check runs at least every 100 ms of the tail.
  const end = m.now + 8000;
  for (let step = m.now + 100; step <= end; step += 100) {
    m.runUntil(step, check);
    check();
  }
  return { violations, faults, checkedWholeMs };
}

