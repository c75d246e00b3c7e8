/**
 * The availability checks over a recording of one VIP, as pure functions of plain samples (no I/O): who answered
 * each ARP request, which fresh-client requests failed, and which faults were injected when. Used by the
 * availability end-to-end test and by the chaos soak.
 *
 * Definitions:
 * - **two MACs**: one ARP request answered by two or more MACs (two announcers at the same moment). "Seconds with
 *   two MACs" counts the distinct seconds (from the recording's origin) holding such a request.
 * - **dark interval**: a run of failed fresh-client requests, from the start of the first failed one to the start
 *   of the next successful one (or the end of the recording).
 * - **failover budget**: a fault that kills or isolates the announcing node may leave the VIP dark for
 *   `budgetMs` from the moment it is injected (the window opens `probeMaxMs` earlier, for the request in flight
 *   when the fault hit); when such a fault heals, the VIP may move back once, with the same budget from the start
 *   of the first dark interval after the heal. Any other dark time is beyond the budget: faults that should not
 *   affect the VIP (API outages, a non-owner's death or isolation) are allowed none.
 *
 * @example
 * const figures = evaluate({ probes, rounds, faults, origin, end, budgetMs: 1500, probeMaxMs: 600 });
 * figures.twoMacSeconds === 0 && figures.darkBeyondBudgetSeconds === 0;
 */

/** One fresh-client request: wall-clock ms; `node` served it, or it failed for `reason`. */
export interface ProbeSample {
  start: number;
  end: number;
  ok: boolean;
  node?: string;
  reason?: string;
}

/** One ARP request for `vip`, sent at `at` (wall-clock ms), and the MACs that answered it. */
export interface ArpRound {
  at: number;
  vip: string;
  macs: string[];
}

/** A time interval in wall-clock ms, [start, end). */
export interface Interval {
  start: number;
  end: number;
}

/** One injected fault, as the injector recorded it. */
export interface FaultRecord {
  id: number;
  kind: string;
  /** The node it hit, for node faults. */
  target?: string;
  /** True when it killed or isolated the node that announced the VIP at the time. */
  ownerTargeted: boolean;
  start: number;
  /** When the heal began (link up, rules removed, speaker restarted). */
  healedAt?: number;
  /** When the cluster was whole again and settled (the fault's influence ends here). */
  releasedAt?: number;
}

/** ARP requests sent in [from, to) that two or more MACs answered. */
export function twoMacRounds(rounds: readonly ArpRound[], from = -Infinity, to = Infinity): ArpRound[] {
  return rounds.filter((r) => r.at >= from && r.at < to && r.macs.length >= 2);
}

/** Distinct whole seconds since `origin` that hold a request answered by two or more MACs. */
export function twoMacSeconds(rounds: readonly ArpRound[], origin: number, from = -Infinity, to = Infinity): number {
  return new Set(twoMacRounds(rounds, from, to).map((r) => Math.floor((r.at - origin) / 1000))).size;
}

/** The distinct MACs that answered any request sent in [from, to). */
export function answeringMacs(rounds: readonly ArpRound[], from = -Infinity, to = Infinity): string[] {
  return [...new Set(rounds.filter((r) => r.at >= from && r.at < to).flatMap((r) => r.macs))];
}

/** ARP requests sent in [from, to) that nobody answered. */
export function unansweredRounds(rounds: readonly ArpRound[], from = -Infinity, to = Infinity): ArpRound[] {
  return rounds.filter((r) => r.at >= from && r.at < to && r.macs.length === 0);
}

/** Requests started in [from, to) that failed. */
export function failedProbes(probes: readonly ProbeSample[], from = -Infinity, to = Infinity): ProbeSample[] {
  return probes.filter((p) => p.start >= from && p.start < to && !p.ok);
}

/** The first successful request started at or after `t` (by start time), optionally served by a node other than `exceptNode`. */
export function firstSuccessAfter(probes: readonly ProbeSample[], t: number, exceptNode?: string): ProbeSample | undefined {
  let best: ProbeSample | undefined;
  for (const p of probes) {
    if (!p.ok || p.start < t || (exceptNode !== undefined && p.node === exceptNode)) continue;
    if (best === undefined || p.start < best.start) best = p;
  }
  return best;
}

/** The dark intervals among requests started in [from, to); see the module comment. */
export function darkIntervals(probes: readonly ProbeSample[], from = -Infinity, to = Infinity): Interval[] {
  const inRange = probes.filter((p) => p.start >= from && p.start < to).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  let open: number | undefined;
  for (const p of inRange) {
    if (!p.ok && open === undefined) open = p.start;
    if (p.ok && open !== undefined) {
      out.push({ start: open, end: p.start });
      open = undefined;
    }
  }
  if (open !== undefined) out.push({ start: open, end: Math.max(open, Number.isFinite(to) ? to : (inRange.at(-1)?.end ?? open)) });
  return out;
}

/** Merges overlapping intervals. */
export function union(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out.at(-1);
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ ...i });
  }
  return out;
}

/** The parts of `intervals` outside every interval of `allowed`. */
export function uncovered(intervals: readonly Interval[], allowed: readonly Interval[]): Interval[] {
  const cover = union(allowed);
  const out: Interval[] = [];
  for (const i of intervals) {
    let cursor = i.start;
    for (const c of cover) {
      if (c.end <= cursor || c.start >= i.end) continue;
      if (c.start > cursor) out.push({ start: cursor, end: c.start });
      cursor = Math.max(cursor, c.end);
      if (cursor >= i.end) break;
    }
    if (cursor < i.end) out.push({ start: cursor, end: i.end });
  }
  return out;
}

/** Total length of `intervals` in ms. */
export function totalMs(intervals: readonly Interval[]): number {
  return intervals.reduce((sum, i) => sum + (i.end - i.start), 0);
}

/** The windows in which dark time is within the failover budget; see the module comment. */
export function budgetWindows(faults: readonly FaultRecord[], dark: readonly Interval[], budgetMs: number, probeMaxMs: number): Interval[] {
  const windows: Interval[] = [];
  for (const f of faults) {
    if (!f.ownerTargeted) continue;
    windows.push({ start: f.start - probeMaxMs, end: f.start + budgetMs });
    if (f.healedAt === undefined) continue;
    const healedAt = f.healedAt;
    const handback = dark.find((d) => d.start >= healedAt - probeMaxMs && d.start <= (f.releasedAt ?? Infinity));
    if (handback) windows.push({ start: handback.start, end: handback.start + budgetMs });
  }
  return windows;
}

/** Figures for one fault kind (or "none" for times when no fault was active or settling). */
export interface KindFigures {
  injected: number;
  ownerTargeted: number;
  darkSeconds: number;
  darkBeyondBudgetSeconds: number;
  twoMacSeconds: number;
}

/** A moment that broke a must-be-zero rule, with the faults active then. */
export interface Incident {
  at: number;
  what: "two-macs" | "dark-beyond-budget";
  /** Length of the dark time beyond budget, or 0 for a two-MAC request. */
  ms: number;
  macs?: string[];
  faults: number[];
}

/** What {@link evaluate} reports. */
export interface Figures {
  seconds: number;
  probes: number;
  failedProbes: number;
  arpRounds: number;
  unansweredRounds: number;
  twoMacSeconds: number;
  darkSeconds: number;
  darkBeyondBudgetSeconds: number;
  byKind: Record<string, KindFigures>;
  incidents: Incident[];
}

export interface EvaluateInput {
  probes: readonly ProbeSample[];
  rounds: readonly ArpRound[];
  faults: readonly FaultRecord[];
  /** Start and end of the recording that counts (wall-clock ms). */
  origin: number;
  end: number;
  budgetMs: number;
  probeMaxMs: number;
  /** How many incidents to keep (the first ones); default 50. */
  maxIncidents?: number;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

/**
 * Evaluates a recording: the two must-be-zero figures (seconds with two MACs, dark seconds beyond the failover
 * budget), totals, and each figure attributed to the fault kinds active (from injection until released) at the
 * time.
 */
export function evaluate(input: EvaluateInput): Figures {
  const { origin, end, budgetMs, probeMaxMs } = input;
  const probes = input.probes.filter((p) => p.start >= origin && p.start < end);
  const rounds = input.rounds.filter((r) => r.at >= origin && r.at < end);
  const dark = darkIntervals(probes, origin, end);
  const beyond = uncovered(dark, budgetWindows(input.faults, dark, budgetMs, probeMaxMs));
  const activeAt = (t: number) => input.faults.filter((f) => t >= f.start - probeMaxMs && t <= (f.releasedAt ?? end));

  const byKind: Record<string, KindFigures> = {};
  const kind = (k: string) => (byKind[k] ??= { injected: 0, ownerTargeted: 0, darkSeconds: 0, darkBeyondBudgetSeconds: 0, twoMacSeconds: 0 });
  for (const f of input.faults) {
    kind(f.kind).injected++;
    if (f.ownerTargeted) kind(f.kind).ownerTargeted++;
  }
  const kindsAt = (t: number) => {
    const kinds = [...new Set(activeAt(t).map((f) => f.kind))];
    return kinds.length > 0 ? kinds : ["none"];
  };
  for (const d of dark) for (const k of kindsAt(d.start)) kind(k).darkSeconds += (d.end - d.start) / 1000;
  for (const b of beyond) for (const k of kindsAt(b.start)) kind(k).darkBeyondBudgetSeconds += (b.end - b.start) / 1000;
  const doubled = twoMacRounds(rounds);
  const secondsByKind = new Map<string, Set<number>>();
  for (const r of doubled) {
    for (const k of kindsAt(r.at)) {
      if (!secondsByKind.has(k)) secondsByKind.set(k, new Set());
      secondsByKind.get(k)!.add(Math.floor((r.at - origin) / 1000));
    }
  }
  for (const [k, s] of secondsByKind) kind(k).twoMacSeconds = s.size;
  for (const f of Object.values(byKind)) {
    f.darkSeconds = seconds(f.darkSeconds * 1000);
    f.darkBeyondBudgetSeconds = seconds(f.darkBeyondBudgetSeconds * 1000);
  }

  const incidents: Incident[] = [
    ...doubled.map((r) => ({ at: r.at, what: "two-macs" as const, ms: 0, macs: r.macs, faults: activeAt(r.at).map((f) => f.id) })),
    ...beyond.map((b) => ({ at: b.start, what: "dark-beyond-budget" as const, ms: Math.round(b.end - b.start), faults: activeAt(b.start).map((f) => f.id) })),
  ]
    .sort((a, b) => a.at - b.at)
    .slice(0, input.maxIncidents ?? 50);

  const beyondMs = totalMs(beyond);
  return {
    seconds: seconds(end - origin),
    probes: probes.length,
    failedProbes: probes.filter((p) => !p.ok).length,
    arpRounds: rounds.length,
    unansweredRounds: unansweredRounds(rounds).length,
    twoMacSeconds: twoMacSeconds(rounds, origin),
    darkSeconds: seconds(totalMs(dark)),
    // Any dark time beyond the budget counts, however short: round up to the next tenth.
    darkBeyondBudgetSeconds: beyondMs > 0 ? Math.max(0.1, seconds(beyondMs)) : 0,
    byKind,
    incidents,
  };
}
