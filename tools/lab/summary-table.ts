import type { StepResult } from "./step-runner.ts";

/**
 * Renders the lab's final summary: one row per step (number, name, result, time, detail) in aligned
 * columns, details cut to `width` characters so the table stays one line per step.
 *
 * @example
 * renderSummaryTable([{ name: "build the LAN", ok: true, ms: 812, detail: "5 namespaces" }]);
 * // "#  STEP           RESULT  TIME   DETAIL\n1  build the LAN  ok      0.8 s  5 namespaces"
 */
export function renderSummaryTable(results: StepResult[], width = 72): string {
  const rows = results.map((r, i) => [
    String(i + 1),
    r.name,
    r.skipped ? "skipped" : r.ok ? "ok" : "FAILED",
    r.skipped ? "-" : `${(r.ms / 1000).toFixed(1)} s`,
    r.detail.length > width ? `${r.detail.slice(0, width - 1)}…` : r.detail,
  ]);
  const table = [["#", "STEP", "RESULT", "TIME", "DETAIL"], ...rows];
  const widths = table[0].map((_, col) => Math.max(...table.map((row) => row[col].length)));
  return table.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]))).join("  ").trimEnd()).join("\n");
}
