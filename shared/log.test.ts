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
});
