/**
 * The soak's report: one value (JSON-ready) and its text form for people. The two must-be-zero figures decide
 * the verdict; a harness error (a fault that could not be injected or healed, a speaker that never came back)
 * makes it fail too, since the figures would then not mean what they say.
 *
 * @example
 * const report = soakReport({ seed, minutes, vip, figures, faults, unexpectedExits, budgetMs: 1500 });
 * console.log(formatReport(report));
 * process.exit(report.ok ? 0 : 1);
 */
import type { Figures, KindFigures } from "./checker.ts";
import type { InjectedFault } from "./fault-injector.ts";

export interface SoakReport {
  ok: boolean;
  interrupted: boolean;
  seed: number;
  minutes: number;
  vip: string;
  budgetMs: number;
  /** Must be 0: seconds holding an ARP request answered by two MACs. */
  twoMacSeconds: number;
  /** Must be 0: VIP-dark seconds not covered by a failover budget. */
  darkBeyondBudgetSeconds: number;
  faultsInjected: number;
  byKind: Record<string, KindFigures>;
  totals: Pick<Figures, "seconds" | "probes" | "failedProbes" | "arpRounds" | "unansweredRounds" | "darkSeconds">;
  incidents: (Figures["incidents"][number] & { offsetSeconds: number })[];
  faults: { id: number; kind: string; target?: string; ownerTargeted: boolean; offsetSeconds: number; detail: string; error?: string }[];
  unexpectedSpeakerExits: { node: string; offsetSeconds: number; code: number | null }[];
  harnessErrors: string[];
}

export interface ReportInput {
  seed: number;
  minutes: number;
  vip: string;
  budgetMs: number;
  origin: number;
  interrupted: boolean;
  figures: Figures;
  faults: readonly InjectedFault[];
  unexpectedExits: readonly { node: string; at: number; code: number | null }[];
  harnessErrors: readonly string[];
  /** How to show a MAC (e.g. "node-2 aa:bb:…"); default the MAC itself. */
  nameOfMac?: (mac: string) => string;
}

const offset = (t: number, origin: number) => Math.round((t - origin) / 100) / 10;

/** Builds the report value; `ok` only when both must-be-zero figures are 0 and the harness had no error. */
export function soakReport(input: ReportInput): SoakReport {
  const { figures, origin } = input;
  const harnessErrors = [...input.harnessErrors, ...input.faults.filter((f) => f.error).map((f) => `#${f.id} ${f.detail}: ${f.error}`)];
  return {
    ok: figures.twoMacSeconds === 0 && figures.darkBeyondBudgetSeconds === 0 && harnessErrors.length === 0,
    interrupted: input.interrupted,
    seed: input.seed,
    minutes: input.minutes,
    vip: input.vip,
    budgetMs: input.budgetMs,
    twoMacSeconds: figures.twoMacSeconds,
    darkBeyondBudgetSeconds: figures.darkBeyondBudgetSeconds,
    faultsInjected: input.faults.length,
    byKind: figures.byKind,
    totals: {
      seconds: figures.seconds,
      probes: figures.probes,
      failedProbes: figures.failedProbes,
      arpRounds: figures.arpRounds,
      unansweredRounds: figures.unansweredRounds,
      darkSeconds: figures.darkSeconds,
    },
    incidents: figures.incidents.map((i) => ({ ...i, ...(i.macs ? { macs: i.macs.map(input.nameOfMac ?? ((m) => m)) } : {}), offsetSeconds: offset(i.at, origin) })),
    faults: input.faults.map((f) => ({
      id: f.id,
      kind: f.kind,
      target: f.target,
      ownerTargeted: f.ownerTargeted,
      offsetSeconds: offset(f.start, origin),
      detail: f.detail,
      ...(f.error ? { error: f.error } : {}),
    })),
    unexpectedSpeakerExits: input.unexpectedExits.map((e) => ({ node: e.node, offsetSeconds: offset(e.at, origin), code: e.code })),
    harnessErrors,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n");
}

/** The report as text, for a terminal. */
export function formatReport(r: SoakReport): string {
  const lines: string[] = [];
  lines.push(`baremetal-lb soak: ${r.totals.seconds} s of faults (${r.minutes} min asked${r.interrupted ? ", interrupted" : ""}), seed ${r.seed}, VIP ${r.vip}`);
  lines.push("");
  const kinds = Object.keys(r.byKind).sort((a, b) => (a === "none" ? 1 : b === "none" ? -1 : a.localeCompare(b)));
  const rows = [["fault kind", "injected", "on owner", "dark s", "dark beyond budget s", "two-MAC s"]];
  for (const k of kinds) {
    const f = r.byKind[k];
    rows.push([k === "none" ? "(no fault active)" : k, k === "none" ? "-" : String(f.injected), k === "none" ? "-" : String(f.ownerTargeted), f.darkSeconds.toFixed(1), f.darkBeyondBudgetSeconds.toFixed(1), String(f.twoMacSeconds)]);
  }
  lines.push(table(rows));
  lines.push("");
  lines.push(`seconds with two MACs answering one ARP request: ${r.twoMacSeconds} (must be 0)`);
  lines.push(`VIP-dark seconds beyond the failover budget (${r.budgetMs / 1000} s after a fault that kills or isolates the owner, 0 otherwise): ${r.darkBeyondBudgetSeconds.toFixed(1)} (must be 0)`);
  lines.push(`faults injected: ${r.faultsInjected}; VIP dark ${r.totals.darkSeconds.toFixed(1)} s in all`);
  lines.push(`fresh-client requests: ${r.totals.probes}, ${r.totals.failedProbes} failed; ARP requests: ${r.totals.arpRounds}, ${r.totals.unansweredRounds} unanswered`);
  if (r.unexpectedSpeakerExits.length > 0) {
    lines.push(`speakers that exited by themselves (restarted): ${r.unexpectedSpeakerExits.map((e) => `${e.node} at +${e.offsetSeconds}s (code ${e.code})`).join(", ")}`);
  }
  if (r.incidents.length > 0) {
    lines.push("");
    lines.push(`incidents (first ${r.incidents.length}):`);
    const byId = new Map(r.faults.map((f) => [f.id, f]));
    for (const i of r.incidents) {
      const what = i.what === "two-macs" ? `two MACs answered: ${i.macs?.join(" + ")}` : `dark ${i.ms} ms beyond the budget`;
      const during = i.faults.length > 0 ? i.faults.map((id) => `#${id} ${byId.get(id)?.detail ?? ""}`).join("; ") : "no fault active";
      lines.push(`  +${i.offsetSeconds}s ${what} — during ${during}`);
    }
  }
  if (r.harnessErrors.length > 0) {
    lines.push("");
    lines.push("harness errors (the figures may not mean what they say):");
    for (const e of r.harnessErrors) lines.push(`  ${e}`);
  }
  lines.push("");
  lines.push(r.ok ? "PASS" : "FAIL");
  return lines.join("\n");
}
