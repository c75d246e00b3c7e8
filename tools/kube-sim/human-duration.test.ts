import { describe, expect, it } from "vitest";
import { ageSince, humanDuration } from "./human-duration.ts";

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe("humanDuration", () => {
  const cases: [number, string][] = [
    [-3 * s, "<invalid>"],
    [-1 * s, "0s"],
    [0, "0s"],
    [5 * s, "5s"],
    [119 * s, "119s"],
    [2 * m, "2m"],
    [3 * m + 2 * s, "3m2s"],
    [9 * m + 59 * s, "9m59s"],
    [10 * m + 30 * s, "10m"],
    [179 * m, "179m"],
    [3 * h, "3h"],
    [4 * h, "4h"],
    [7 * h + 59 * m, "7h59m"],
    [8 * h + 30 * m, "8h"],
    [47 * h, "47h"],
    [2 * d, "2d"],
    [2 * d + 5 * h, "2d5h"],
    [8 * d + 5 * h, "8d"],
    [729 * d, "729d"],
    [2 * 365 * d + 3 * d, "2y3d"],
    [9 * 365 * d, "9y"],
  ];
  for (const [ms, text] of cases) {
    it(`formats ${ms} ms as ${text}`, () => {
      expect(humanDuration(ms)).toBe(text);
    });
  }
});

describe("ageSince", () => {
  it("measures from an RFC 3339 timestamp", () => {
    expect(ageSince("2024-01-01T00:00:00Z", Date.parse("2024-01-01T00:03:02Z"))).toBe("3m2s");
  });

  it("is <unknown> without a usable timestamp", () => {
    expect(ageSince(undefined, 0)).toBe("<unknown>");
    expect(ageSince("yesterday", 0)).toBe("<unknown>");
  });
});
