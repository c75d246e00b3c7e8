import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";

const root = resolve(import.meta.dirname, "../..");
const node = join(root, "node_modules/.bin/node");
const main = join(root, "tools/kube-sim/main.ts");

let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  child = undefined;
});

function spawnCli(args: string[]): ChildProcess {
  return spawn(node, [main, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
}

function run(args: string[]): ChildProcess {
  child = spawnCli(args);
  return child;
}

function exited(p: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = "";
  p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => p.on("exit", (code) => resolve({ code, stderr })));
}

function firstLine(p: ChildProcess, ms = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output from kube-sim within ${ms} ms`)), ms);
    createInterface({ input: p.stdout! }).once("line", (line) => {
      clearTimeout(timer);
      resolve(line);
    });
  });
}

describe("kube-sim CLI", () => {
  it("announces its URL once, writes a working kubeconfig and exits 0 on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kube-sim-cli-"));
    const kubeconfig = join(dir, "nested", "kubeconfig");
    const p = run(["--port", "0", "--kubeconfig", kubeconfig]);
    const done = exited(p);
    const line = await firstLine(p);
    expect(line).toMatch(/^kube-sim listening on http:\/\/127\.0\.0\.1:\d+$/);
    const url = line.slice("kube-sim listening on ".length);
    const kc = parseYaml(await readFile(kubeconfig, "utf8")) as { clusters: { cluster: { server: string } }[]; users: { user: { token: string } }[] };
    expect(kc.clusters[0].cluster.server).toBe(url);
    const res = await fetch(`${url}/api/v1/namespaces/default`, { headers: { Authorization: `Bearer ${kc.users[0].user.token}` } });
    expect(await res.json()).toMatchObject({ kind: "Namespace", metadata: { name: "default" } });
    p.kill("SIGTERM");
    expect((await done).code).toBe(0);
  });

  it("refuses unknown flags and a missing --kubeconfig with a clear message and exit code 2", async () => {
    const [unknown, missing, badPort] = await Promise.all([
      exited(spawnCli(["--port", "0", "--kubeconfig", "/tmp/x", "--bogus"])),
      exited(spawnCli(["--port", "0"])),
      exited(spawnCli(["--port", "http", "--kubeconfig", "/tmp/x"])),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--kubeconfig is required");
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port must be an integer 0-65535, got "http"');
  });
});
