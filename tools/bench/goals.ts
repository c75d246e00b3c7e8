/**
 * Goals of benchmark figures, and the verdict on each. A benchmark declares its goals in the JSON it prints, under
 * `goals`, keyed by the figure's name in that JSON (a dotted path reaches a nested figure); run.ts prints each
 * figure with its goal and verdict, and counts the goals met. A missed goal is a finding, not a failure of the run.
 *
 * A goal whose figure this run cannot judge fairly (say the load generator fell short of the rate the goal
 * assumes) carries `notJudged` with the reason: it is reported as not judged rather than met or missed.
 *
 * @example
 * const goals = { rssMb: { max: 80 }, ratioVsRawSeq: { min: 0.8 } } satisfies Goals;
 * judgeGoals({ rssMb: 71.2, ratioVsRawSeq: 0.75, goals });
 * // [{ figure: "rssMb", value: 71.2, verdict: "met", … }, { figure: "ratioVsRawSeq", value: 0.75, verdict: "missed", … }]
 */

/** The bounds a figure must stay within: `max` (≤), `min` (≥) or both. */
export interface Goal {
  max?: number;
  min?: number;
  /** Why this run cannot judge the figure; the goal is then neither met nor missed. */
  notJudged?: string;
}

/** A benchmark's goals, keyed by figure name (or dotted path) in its result. */
export type Goals = Record<string, Goal>;

export type Verdict = "met" | "missed" | "not judged";

/** One goal and what the run made of it. */
export interface GoalVerdict {
  figure: string;
  /** The figure's value, or undefined when the result has no number there. */
  value: number | undefined;
  goal: Goal;
  verdict: Verdict;
  /** Why the goal was not judged (the bench's reason, or a missing figure). */
  reason?: string;
}

/** The value at `path` ("a.b.c") of a result, when it is a finite number. */
function figureAt(result: Record<string, unknown>, path: string): number | undefined {
  let at: unknown = result;
  for (const key of path.split(".")) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return typeof at === "number" && Number.isFinite(at) ? at : undefined;
}

/** The goal as a reader writes it: "≤ 80", "≥ 0.8", "0.8 to 1". */
export function formatGoal(goal: Goal): string {
  if (goal.min !== undefined && goal.max !== undefined) return `${goal.min} to ${goal.max}`;
  if (goal.max !== undefined) return `≤ ${goal.max}`;
  if (goal.min !== undefined) return `≥ ${goal.min}`;
  return "none";
}

/**
 * The verdict on every goal a result declares under `goals` (none when it declares none). A figure that is absent
 * or not a number is "not judged", naming the figure, so a renamed field shows up instead of passing silently.
 */
export function judgeGoals(result: Record<string, unknown>): GoalVerdict[] {
  const goals = result.goals;
  if (typeof goals !== "object" || goals === null) return [];
  return Object.entries(goals as Goals).map(([figure, goal]) => {
    const value = figureAt(result, figure);
    if (goal.notJudged !== undefined) return { figure, value, goal, verdict: "not judged", reason: goal.notJudged };
    if (value === undefined) return { figure, value, goal, verdict: "not judged", reason: `the result has no number at ${figure}` };
    const met = (goal.max === undefined || value <= goal.max) && (goal.min === undefined || value >= goal.min);
    return { figure, value, goal, verdict: met ? "met" : "missed" };
  });
}

/** The note printed beside a figure: "(goal ≤ 80: met)", "(goal ≥ 95: MISSED)", "(goal ≥ 95: not judged: REASON)". */
export function describeVerdict(v: GoalVerdict): string {
  const verdict = v.verdict === "missed" ? "MISSED" : v.verdict === "not judged" ? `not judged: ${v.reason}` : "met";
  return `(goal ${formatGoal(v.goal)}: ${verdict})`;
}
