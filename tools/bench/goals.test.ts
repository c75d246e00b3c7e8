import { describe, expect, it } from "vitest";
import { describeVerdict, judgeGoals } from "./goals.ts";

describe("judgeGoals", () => {
  it("meets an upper bound at the bound and misses it above", () => {
    const verdicts = judgeGoals({ rssMb: 80, hwmMb: 80.1, goals: { rssMb: { max: 80 }, hwmMb: { max: 80 } } });
    expect(verdicts.map((v) => [v.figure, v.verdict])).toEqual([
      ["rssMb", "met"],
      ["hwmMb", "missed"],
    ]);
  });

  it("meets a lower bound at the bound and misses it below", () => {
    const verdicts = judgeGoals({ ratioVsRawSeq: 0.8, answeredPercent: 94.9, goals: { ratioVsRawSeq: { min: 0.8 }, answeredPercent: { min: 95 } } });
    expect(verdicts.map((v) => v.verdict)).toEqual(["met", "missed"]);
  });

  it("reads a nested figure through a dotted path", () => {
    const [v] = judgeGoals({ readyMs: { p50: 640, max: 900 }, goals: { "readyMs.p50": { max: 1000 } } });
    expect(v).toMatchObject({ figure: "readyMs.p50", value: 640, verdict: "met" });
  });

  it("does not judge a goal the bench says it cannot judge, and says why", () => {
    const [v] = judgeGoals({ answeredPercent: 99, goals: { answeredPercent: { min: 95, notJudged: "the requester sent 12000 req/s, below 19000" } } });
    expect(v.verdict).toBe("not judged");
    expect(describeVerdict(v)).toBe("(goal ≥ 95: not judged: the requester sent 12000 req/s, below 19000)");
  });

  it("names a figure the result lacks instead of passing it", () => {
    const [v] = judgeGoals({ rssMB: 70, goals: { rssMb: { max: 80 } } });
    expect(v).toMatchObject({ verdict: "not judged", reason: "the result has no number at rssMb" });
  });

  it("prints met and missed goals the way the summary shows them", () => {
    const [met, missed] = judgeGoals({ rssMb: 71.2, cpuMs: 0.7, goals: { rssMb: { max: 80 }, cpuMs: { max: 0.5 } } });
    expect(describeVerdict(met)).toBe("(goal ≤ 80: met)");
    expect(describeVerdict(missed)).toBe("(goal ≤ 0.5: MISSED)");
  });

  it("finds no goals in a result that declares none", () => {
    expect(judgeGoals({ rssMb: 71.2 })).toEqual([]);
  });
});
