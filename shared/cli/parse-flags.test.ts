import { describe, expect, it } from "vitest";
import { parseDurationMs, parseFlags, parsePort } from "./parse-flags.ts";

describe("parseFlags", () => {
  it("reads known flags", () => {
    expect(parseFlags(["--port", "0", "--verbose"], { port: { type: "string" }, verbose: { type: "boolean" } }, "p")).toEqual({
      port: "0",
      verbose: true,
    });
  });
  it("names the program and lists valid flags for an unknown flag", () => {
    expect(() => parseFlags(["--prot", "1"], { port: { type: "string" } }, "kube-sim")).toThrow(/kube-sim: .*--prot.*Valid flags: --port/);
  });
  it("rejects stray positional arguments", () => {
    expect(() => parseFlags(["extra"], { port: { type: "string" } }, "p")).toThrow(/positional/);
  });
});

describe("parsePort and parseDurationMs", () => {
  it("accept good values and default when absent", () => {
    expect(parsePort("7472", "metrics-port", 1)).toBe(7472);
    expect(parsePort(undefined, "metrics-port", 7473)).toBe(7473);
    expect(parseDurationMs("1.5s", "lease-duration", 0)).toBe(1500);
    expect(parseDurationMs("250ms", "lease-duration", 0)).toBe(250);
  });
  it("explain bad values", () => {
    expect(() => parsePort("70000", "metrics-port", 0)).toThrow('--metrics-port "70000" is not a port number (0-65535)');
    expect(() => parseDurationMs("2m", "lease-duration", 0)).toThrow("write it like 500ms or 2s");
  });
});
