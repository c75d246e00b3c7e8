import { describe, expect, it } from "vitest";
import { StepRunner } from "./step-runner.ts";

function collect(): { write: (t: string) => void; text: () => string } {
  let text = "";
  return { write: (t) => void (text += t), text: () => text };
}

describe("StepRunner", () => {
  it("prints a numbered progress line per step, then the step's output indented", async () => {
    const sink = collect();
    const runner = new StepRunner(2, sink.write);
    await runner.run("build the LAN", async (out) => {
      out("3 nodes\nbridge br0");
      return "3 nodes";
    });
    expect(sink.text()).toMatch(/^\[1\/2\] build the LAN \.\.\. ok \(\d+\.\d s\)\n {6}3 nodes\n {6}bridge br0\n$/);
    expect(runner.results).toEqual([{ name: "build the LAN", ok: true, ms: expect.any(Number), detail: "3 nodes" }]);
    expect(runner.ok).toBe(true);
  });

  it("records a failing step with the first line of its error and skips the later steps", async () => {
    const sink = collect();
    const runner = new StepRunner(3, sink.write);
    await runner.run("expose", async () => {
      throw new Error("kubectl expose exited 1\nError from server (NotFound)");
    });
    let ran = false;
    await runner.run("curl", async () => {
      ran = true;
      return "";
    });
    expect(ran).toBe(false);
    expect(runner.ok).toBe(false);
    expect(runner.results[0]).toMatchObject({ ok: false, detail: "kubectl expose exited 1" });
    expect(runner.results[1]).toEqual({ name: "curl", ok: false, ms: 0, detail: "skipped: an earlier step failed", skipped: true });
    expect(sink.text()).toContain("[1/3] expose ... FAILED");
    expect(sink.text()).toContain("      error: kubectl expose exited 1\n      Error from server (NotFound)\n");
    expect(sink.text()).toContain("[2/3] curl ... skipped\n");
  });

  it("still runs a step marked always (teardown) after a failure", async () => {
    const runner = new StepRunner(2, () => {});
    await runner.run("install", async () => {
      throw new Error("boom");
    });
    const teardown = await runner.run("tear down", async () => "nothing left behind", { always: true });
    expect(teardown).toMatchObject({ ok: true, detail: "nothing left behind" });
    expect(runner.ok).toBe(false);
  });
});
