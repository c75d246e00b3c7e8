import { describe, expect, it } from "vitest";
import { renderSummaryTable } from "./summary-table.ts";

describe("renderSummaryTable", () => {
  it("aligns one row per step with its result, time and detail", () => {
    const table = renderSummaryTable([
      { name: "build the LAN", ok: true, ms: 812, detail: "5 namespaces" },
      { name: "failover", ok: false, ms: 15_040, detail: "no node answered" },
      { name: "tear down", ok: false, ms: 0, detail: "skipped: an earlier step failed", skipped: true },
    ]);
    expect(table.split("\n")).toEqual([
      "#  STEP           RESULT   TIME    DETAIL",
      "1  build the LAN  ok       0.8 s   5 namespaces",
      "2  failover       FAILED   15.0 s  no node answered",
      "3  tear down      skipped  -       skipped: an earlier step failed",
    ]);
  });

  it("cuts a long detail to the given width with an ellipsis", () => {
    const table = renderSummaryTable([{ name: "x", ok: true, ms: 0, detail: "a".repeat(20) }], 10);
    expect(table.split("\n")[1].endsWith(`${"a".repeat(9)}…`)).toBe(true);
  });
});
