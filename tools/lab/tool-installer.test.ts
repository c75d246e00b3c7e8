import { describe, expect, it } from "vitest";
import { ensureLabTools, type CommandRunner, type ToolInstallerDeps } from "./tool-installer.ts";

/** A machine with these programs on PATH, an apt-get that "installs" by adding tools, and a log of what ran and what was said. */
function fakeMachine(opts: { have: string[]; installs?: Record<string, string[]>; fail?: { update?: number; install?: number }; root?: boolean; noInstall?: boolean }) {
  const onPath = new Set(opts.have);
  const ran: string[] = [];
  const said: string[] = [];
  const warned: string[] = [];
  const run: CommandRunner = async (argv, env) => {
    ran.push(`${Object.entries(env).map(([k, v]) => `${k}=${v} `).join("")}${argv.join(" ")}`);
    if (argv[1] === "update") return opts.fail?.update ? { code: opts.fail.update, output: "E: The repository is broken\n" } : { code: 0, output: "Hit:1 ...\n" };
    if (opts.fail?.install) return { code: opts.fail.install, output: "E: Unable to locate package kubectl\n" };
    for (const pkg of argv.slice(4)) for (const tool of opts.installs?.[pkg] ?? [pkg]) onPath.add(tool);
    return { code: 0, output: "Setting up ...\n" };
  };
  const deps: ToolInstallerDeps = {
    noInstall: opts.noInstall ?? false,
    root: opts.root ?? true,
    hasTool: (tool) => onPath.has(tool),
    run,
    say: (line) => said.push(line),
    warn: (line) => warned.push(line),
  };
  return { deps, ran, said, warned };
}

const labAll = ["ip", "iptables", "sysctl", "arping", "curl", "kubectl", "apt-get"];
const lacking = (...missing: string[]) => labAll.filter((t) => !missing.includes(t));

describe("ensureLabTools", () => {
  it("runs nothing when every tool is on PATH", async () => {
    const m = fakeMachine({ have: labAll });
    expect(await ensureLabTools(m.deps)).toBeUndefined();
    expect(m.ran).toEqual([]);
    expect(m.said).toEqual([]);
  });

  it("as root with apt-get, installs the missing packages, saying what, and goes on", async () => {
    const m = fakeMachine({ have: lacking("iptables", "arping") });
    expect(await ensureLabTools(m.deps)).toBeUndefined();
    expect(m.ran).toEqual([
      "DEBIAN_FRONTEND=noninteractive apt-get update",
      "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables arping",
    ]);
    expect(m.said[0]).toBe(
      "the lab needs these tools on PATH: iptables (Debian package iptables), arping (Debian package arping); installing their packages with apt-get (--no-install to refuse): iptables arping",
    );
    expect(m.said[1]).toMatch(/^installed iptables arping in \d+\.\d s$/);
    expect(m.warned).toEqual([]);
  });

  it("installs podman and runc too when the lab runs containers (--image)", async () => {
    const m = fakeMachine({ have: labAll });
    expect(await ensureLabTools({ ...m.deps, tools: [...labAll.filter((t) => t !== "apt-get"), "podman", "runc"] })).toBeUndefined();
    expect(m.ran).toEqual([
      "DEBIAN_FRONTEND=noninteractive apt-get update",
      "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends podman runc",
    ]);
  });

  it("with --no-install, installs nothing and stops with exit 2 and the command", async () => {
    const m = fakeMachine({ have: lacking("arping"), noInstall: true });
    expect(await ensureLabTools(m.deps)).toBe(2);
    expect(m.ran).toEqual([]);
    expect(m.warned[0]).toContain("  apt-get update && apt-get install -y --no-install-recommends arping\n");
  });

  it("without root, installs nothing and prints the sudo command", async () => {
    const m = fakeMachine({ have: lacking("arping"), root: false });
    expect(await ensureLabTools(m.deps)).toBe(2);
    expect(m.ran).toEqual([]);
    expect(m.warned[0]).toContain("sudo apt-get update && sudo apt-get install -y --no-install-recommends arping");
  });

  it("goes on to the install when apt-get update fails, and reports a failed install with apt's words", async () => {
    const m = fakeMachine({ have: lacking("kubectl"), fail: { update: 100, install: 100 } });
    expect(await ensureLabTools(m.deps)).toBe(2);
    expect(m.ran).toHaveLength(2);
    expect(m.warned[0]).toContain("lab: `apt-get update` failed (exit 100); trying the install with the package lists this machine has:\n  | E: The repository is broken");
    expect(m.warned[1]).toBe(
      "lab: `apt-get install -y --no-install-recommends kubectl` failed (exit 100):\n  | E: Unable to locate package kubectl\ninstall kubectl yourself and run the lab again",
    );
  });

  it("stops when a tool is still missing after the install", async () => {
    const m = fakeMachine({ have: lacking("arping"), installs: { arping: [] } });
    expect(await ensureLabTools(m.deps)).toBe(2);
    expect(m.warned).toEqual(["lab: apt-get installed arping, but these tools are still not on PATH: arping"]);
  });
});
