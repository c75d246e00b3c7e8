import { describe, expect, it } from "vitest";
import { defineCommand, parseCommandLine, parseDurationMs, parseFlags, parsePort } from "./parse-flags.ts";

const cmd = defineCommand({
  program: "kube-sim",
  synopsis: "kube-sim [flags]",
  summary: "a test command",
  flags: {
    port: { type: "string", value: "PORT", help: "port", default: "7472" },
    verbose: { type: "boolean", help: "say more", default: false },
    name: { type: "string", help: "a name" },
    file: { type: "string", help: "a file", required: true },
    tag: { type: "string", help: "a tag", multiple: true },
  },
});

describe("parseFlags", () => {
  it("reads known flags and fills the table's defaults", () => {
    expect(parseFlags(["--file", "f", "--port", "0", "--verbose"], cmd)).toEqual({ file: "f", port: "0", verbose: true });
    expect(parseFlags(["--file", "f"], cmd)).toEqual({ file: "f", port: "7472", verbose: false });
  });
  it("collects a repeated flag", () => {
    expect(parseFlags(["--file", "f", "--tag", "a", "--tag", "b"], cmd).tag).toEqual(["a", "b"]);
  });
  it("names the program and lists valid flags for an unknown flag", () => {
    expect(() => parseFlags(["--prot", "1"], cmd)).toThrow(/kube-sim: .*--prot.*Valid flags: --port, --verbose, --name, --file, --tag, --help/);
  });
  it("says which required flag is missing and what it is for", () => {
    expect(() => parseFlags([], cmd)).toThrow("kube-sim: --file is required (a file)");
  });
  it("rejects stray positional arguments unless the command takes some", () => {
    expect(() => parseFlags(["--file", "f", "extra"], cmd)).toThrow(/positional/);
    const withFiles = defineCommand({ ...cmd, positionals: { name: "FILE...", help: "files" } });
    expect(parseCommandLine(["--file", "f", "a", "b"], withFiles).positionals).toEqual(["a", "b"]);
  });
  it("accepts --help and -h without returning them", () => {
    expect(parseFlags(["--file", "f", "--help"], cmd)).toEqual({ file: "f", port: "7472", verbose: false });
    expect(parseFlags(["--file", "f", "-h"], cmd)).not.toHaveProperty("help");
  });
});

describe("parsePort and parseDurationMs", () => {
  it("accept good values", () => {
    expect(parsePort("7472", "metrics-port")).toBe(7472);
    expect(parsePort("0", "metrics-port")).toBe(0);
    expect(parseDurationMs("1.5s", "lease-duration")).toBe(1500);
    expect(parseDurationMs("250ms", "lease-duration")).toBe(250);
  });
  it("explain bad values", () => {
    expect(() => parsePort("70000", "metrics-port")).toThrow('--metrics-port "70000" is not a port number (0-65535)');
    expect(() => parseDurationMs("2m", "lease-duration")).toThrow("write it like 500ms or 2s");
    expect(() => parseDurationMs("0s", "lease-duration")).toThrow("--lease-duration must be greater than zero");
  });
});
