import { describe, expect, it } from "vitest";
import { eventually } from "./eventually.ts";

/** A check that answers `answers` in turn (the last one from then on), counting its calls. */
function sequence<T>(...answers: T[]): { check: () => T; calls: () => number } {
  let n = 0;
  return { check: () => answers[Math.min(n++, answers.length - 1)], calls: () => n };
}

describe("eventually", () => {
  it("resolves with the first value that is neither undefined nor false, 0 and the empty string included", async () => {
    const ip = sequence<string | undefined | false>(undefined, false, undefined, "192.168.1.240");
    expect(await eventually(ip.check, { ms: 1_000, what: "an IP", everyMs: 1 })).toBe("192.168.1.240");
    expect(ip.calls()).toBe(4);
    expect(await eventually(sequence<number | undefined>(undefined, 0, 7).check, { ms: 1_000, what: "a count", everyMs: 1 })).toBe(0);
    expect(await eventually(sequence<string | false>(false, "", "x").check, { ms: 1_000, what: "a text", everyMs: 1 })).toBe("");
    expect(await eventually(() => null, { ms: 1_000, what: "null" })).toBeNull();
  });

  it("awaits an async check", async () => {
    const ready = sequence(false, false, true);
    expect(await eventually(async () => ready.check(), { ms: 1_000, what: "ready", everyMs: 1 })).toBe(true);
    expect(ready.calls()).toBe(3);
  });

  it("throws after ms naming what, and detail() when given", async () => {
    const started = performance.now();
    await expect(eventually(() => undefined, { ms: 60, what: "the Lease" })).rejects.toThrow(/^timed out after 60 ms waiting for the Lease$/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    let calls = 0;
    const counting = () => {
      calls++;
      return false;
    };
    const error = await eventually(counting, { ms: 60, what: () => `call ${calls + 1}`, detail: () => `${calls} calls` }).catch((e: Error) => e);
    expect(calls).toBeGreaterThan(1);
    expect(error).toEqual(new Error(`timed out after 60 ms waiting for call ${calls + 1}: ${calls} calls`));
  });

  it("gives up on an async check still pending when time is up", async () => {
    const started = performance.now();
    await expect(eventually(() => new Promise<string>(() => {}), { ms: 60, what: "a check that never answers" })).rejects.toThrow("timed out after 60 ms");
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("rejects at once when the check throws or rejects", async () => {
    const started = performance.now();
    const boom = () => {
      throw new Error("boom");
    };
    await expect(eventually(boom, { ms: 5_000, what: "x" })).rejects.toThrow("boom");
    await expect(eventually(async () => boom(), { ms: 5_000, what: "x" })).rejects.toThrow("boom");
    const second = sequence(false, true);
    await expect(eventually(() => second.check() && boom(), { ms: 5_000, what: "x", everyMs: 1 })).rejects.toThrow("boom");
    expect(second.calls()).toBe(2);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
