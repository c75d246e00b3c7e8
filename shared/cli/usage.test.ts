import { describe, expect, it } from "vitest";
import { defineCommand } from "./parse-flags.ts";
import { formatUsage, helpRequested, shortUsage } from "./usage.ts";

const cmd = defineCommand({
  program: "demo",
  synopsis: "npm run demo -- --port PORT [flags]",
  summary: "Serves a demo.",
  flags: {
    port: { type: "string", value: "PORT", help: "port to listen on", required: true },
    host: { type: "string", value: "ADDR", help: "address to listen on", default: "127.0.0.1" },
    identity: { type: "string", help: "who we are", defaultText: "$POD_NAME, else the hostname" },
    verbose: { type: "boolean", help: "say more", default: false },
    tag: { type: "string", value: "TAG", help: "a tag", multiple: true },
  },
});

describe("formatUsage", () => {
  const text = formatUsage(cmd);

  it("starts with the synopsis and the summary", () => {
    expect(text.startsWith("usage: npm run demo -- --port PORT [flags]\n\nServes a demo.\n\nflags:\n")).toBe(true);
  });

  it("lists every flag with its placeholder, what it does and its default", () => {
    expect(text).toContain("  --port PORT       port to listen on (required)\n");
    expect(text).toContain("  --host ADDR       address to listen on (default: 127.0.0.1)\n");
    expect(text).toContain("  --identity VALUE  who we are (default: $POD_NAME, else the hostname)\n");
    expect(text).toContain("  --verbose         say more (default: off)\n");
    expect(text).toContain("  --tag TAG         a tag; may be repeated (default: none)\n");
    expect(text.endsWith("  -h, --help        print this help and exit\n")).toBe(true);
  });

  it("wraps long descriptions under their column, within 110 characters", () => {
    const long = formatUsage(defineCommand({ ...cmd, flags: { x: { type: "boolean", help: "word ".repeat(60) } } }));
    const lines = long.split("\n");
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(110);
    const first = lines.findIndex((l) => l.startsWith("  --x"));
    expect(lines[first + 1]).toMatch(/^ {14}word/);
  });

  it("names the positional arguments first when the command takes some", () => {
    const withFile = formatUsage(defineCommand({ ...cmd, positionals: { name: "FILE|-", help: "the input; - reads stdin" } }));
    expect(withFile).toContain("arguments and flags:\n  FILE|-            the input; - reads stdin\n");
  });
});

describe("helpRequested", () => {
  it("sees --help and -h anywhere before --", () => {
    expect(helpRequested(["--help"])).toBe(true);
    expect(helpRequested(["--port", "1", "-h"])).toBe(true);
    expect(helpRequested(["--port", "1"])).toBe(false);
    expect(helpRequested(["--", "--help"])).toBe(false);
  });
});

describe("shortUsage", () => {
  it("points to --help", () => {
    expect(shortUsage(cmd)).toBe("usage: npm run demo -- --port PORT [flags]   (--help lists every flag and its default)");
  });
});
