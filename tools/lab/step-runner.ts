/**
 * Runs the lab's steps in order, one progress line each (`[3/7] expose nginx ... ok (1.2 s)`) followed by what
 * the step printed, indented. The first failing step stops the run; the steps after it are recorded as skipped,
 * except those marked `always` (teardown), which run regardless.
 *
 * @example
 * const runner = new StepRunner(7, (text) => process.stdout.write(text));
 * await runner.run("build the LAN", async (out) => { out("3 nodes"); return "3 nodes"; });
 * runner.results; // [{ name: "build the LAN", ok: true, ms: 812, detail: "3 nodes" }]
 */

/** The outcome of one step, as printed in the summary and the `--json` object. */
export interface StepResult {
  name: string;
  ok: boolean;
  /** Wall time of the step; 0 when it was skipped. */
  ms: number;
  /** One line: what the step found, or why it failed or was skipped. */
  detail: string;
  skipped?: boolean;
}

/** Prints one line of a step's output (indented under its progress line). */
export type StepOutput = (text: string) => void;

/** A step's body: prints what it shows, returns its one-line detail, throws to fail. */
export type StepBody = (out: StepOutput) => Promise<string>;

export class StepRunner {
  readonly results: StepResult[] = [];
  private readonly total: number;
  private readonly write: (text: string) => void;
  private failed = false;

  constructor(total: number, write: (text: string) => void) {
    this.total = total;
    this.write = write;
  }

  /** Whether every step so far passed. */
  get ok(): boolean {
    return !this.failed;
  }

  /**
   * Runs `body` as the next step, unless an earlier step failed (then it is recorded as skipped) and
   * `opts.always` is not set. Never throws: a failure is recorded and printed.
   */
  async run(name: string, body: StepBody, opts: { always?: boolean } = {}): Promise<StepResult> {
    const index = this.results.length + 1;
    const label = `[${index}/${this.total}] ${name} ...`;
    if (this.failed && !opts.always) {
      const skipped: StepResult = { name, ok: false, ms: 0, detail: "skipped: an earlier step failed", skipped: true };
      this.results.push(skipped);
      this.write(`${label} skipped\n`);
      return skipped;
    }
    this.write(`${label} `);
    const lines: string[] = [];
    const out: StepOutput = (text) => {
      for (const line of text.replace(/\n+$/, "").split("\n")) lines.push(line);
    };
    const started = performance.now();
    let result: StepResult;
    try {
      const detail = await body(out);
      result = { name, ok: true, ms: Math.round(performance.now() - started), detail };
    } catch (err) {
      this.failed = true;
      const message = err instanceof Error ? err.message : String(err);
      result = { name, ok: false, ms: Math.round(performance.now() - started), detail: message.split("\n")[0] };
      out(`error: ${message}`);
    }
    this.results.push(result);
    this.write(`${result.ok ? "ok" : "FAILED"} (${(result.ms / 1000).toFixed(1)} s)\n`);
    for (const line of lines) this.write(`      ${line}\n`);
    return result;
  }
}
