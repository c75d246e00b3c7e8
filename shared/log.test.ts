import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { createLogger } from "./log.ts";

const node = new URL("../node_modules/.bin/node", import.meta.url).pathname;
const logModule = new URL("./log.ts", import.meta.url).pathname;

describe("createLogger", () => {
  it("refuses a level pino does not know, naming the valid ones", () => {
    expect(() => createLogger("speaker", "verbose")).toThrow(/--log-level "verbose" is not a log level; use one of fatal, error, warn, info/);
  });

  it("writes stdout asynchronously and still flushes every line when the process exits at once", () => {
    const script = `
      import { createLogger } from ${JSON.stringify(logModule)};
      const log = createLogger("speaker", "info");
      for (let i = 0; i < 5000; i++) log.info({ ip: "10.77.0." + (i % 250), i }, "announcing ip");
      process.exit(0);`;
    const r = spawnSync(node, ["--input-type=module", "-e", script], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(5000);
    expect(JSON.parse(lines[4999])).toMatchObject({ component: "speaker", i: 4999, msg: "announcing ip" });
  });

  it("drops what does not fit its buffer, and says how many lines it dropped", () => {
    // 2,000 lines written in one go: far more than a 20 KB buffer holds before the event loop can write any.
    const script = `
      import { createLogger } from ${JSON.stringify(logModule)};
      const log = createLogger("speaker", "info", undefined, { maxBytes: 20_000, reportMs: 50 });
      for (let i = 0; i < 2000; i++) log.info({ i }, "announcing ip");
      setTimeout(() => process.exit(0), 300);`;
    const r = spawnSync(node, ["--input-type=module", "-e", script], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { msg: string; dropped?: number; i?: number });
    const written = lines.filter((l) => l.msg === "announcing ip");
    const warning = lines.find((l) => l.msg.startsWith("log lines dropped"));
    expect(written.length).toBeLessThan(2000);
    expect(warning).toMatchObject({ dropped: 2000 - written.length, bufferBytes: 20_000 });
    // What is written is the first lines, in order: nothing is reordered.
    expect(written.map((l) => l.i)).toEqual([...Array(written.length).keys()]);
  });
});
