import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { requireNetns } from "../../test/support/requirements.ts";
import { labTools } from "./lab-tools.ts";
import { labNamespaces } from "./teardown.ts";

const repo = new URL("../../", import.meta.url).pathname;
const node24 = new URL("../../node_modules/.bin/node", import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const skip = await requireNetns(labTools);

interface LabRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node tools/lab/lab.ts ARGS` from the repository, optionally as another user (argv prefix), killed after `ms`. */
function runLab(args: string[], opts: { asUser?: string[]; ms: number }): Promise<LabRun> {
  const argv = [...(opts.asUser ?? []), node24, "tools/lab/lab.ts", ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    // SIGINT first: the lab tears itself down on it.
    const timer = setTimeout(() => child.kill("SIGINT"), opts.ms);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("npm run lab", () => {
  it("refuses an unknown flag with exit 2, naming it and the valid flags", async () => {
    const r = await runLab(["--keeep"], { ms: 10_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("lab: Unknown option '--keeep'. Valid flags: --keep, --json, --crd, --image, --no-install, --help");
  });

  it("as a non-root user, says it needs root and why, and exits 2 without touching anything", async () => {
    // As root, drop to nobody for this run; otherwise we already are not root.
    const asUser = isRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    const r = await runLab([], { asUser, ms: 10_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^the lab needs root \(running as uid \d+\): it creates network namespaces, veth pairs and a bridge,/);
    expect(r.stderr).toContain("raw packet sockets");
    expect(r.stdout).toBe("");
  });

  it.skipIf(skip)(
    "runs every step as root: VIP answered by one node, failover under 2 s, nothing left behind",
    async () => {
      const r = await runLab(["--json"], { ms: 150_000 });
      const lines = r.stdout.trimEnd().split("\n");
      const tail = `\n--- lab stdout (tail) ---\n${lines.slice(-60).join("\n")}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
      expect(r.code, tail).toBe(0);
      const summary = JSON.parse(lines[lines.length - 1]) as {
        ok: boolean;
        vip: string;
        answeringNode: string;
        answeringMac: string;
        failoverMs: number;
        newNode: string;
        steps: { name: string; ok: boolean; ms: number; detail: string }[];
      };
      expect(summary.steps).toHaveLength(7);
      expect(summary.steps.filter((s) => !s.ok), tail).toEqual([]);
      expect(summary.ok).toBe(true);
      expect(summary.vip).toMatch(/^192\.168\.126\.4\d$/);
      expect(summary.answeringNode).toMatch(/^node-[123]$/);
      expect(summary.answeringMac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      expect(summary.newNode).toMatch(/^node-[123]$/);
      expect(summary.newNode).not.toBe(summary.answeringNode);
      expect(summary.failoverMs).toBeGreaterThan(0);
      expect(summary.failoverMs).toBeLessThan(2_000);
      expect(r.stdout).toContain("[7/7] tear down ... ok");
      expect(await labNamespaces("blblab")).toEqual([]);
    },
    180_000,
  );

  it.skipIf(skip)(
    "runs every step with --crd: pool from an IPAddressPool, nodeSelectors move the VIP, ServiceL2Status names the node",
    async () => {
      const r = await runLab(["--crd", "--json"], { ms: 150_000 });
      const lines = r.stdout.trimEnd().split("\n");
      const tail = `\n--- lab stdout (tail) ---\n${lines.slice(-60).join("\n")}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
      expect(r.code, tail).toBe(0);
      const summary = JSON.parse(lines[lines.length - 1]) as {
        ok: boolean;
        config: string;
        vip: string;
        answeringNode: string;
        selectedNode: string;
        failoverMs: number;
        newNode: string;
        steps: { name: string; ok: boolean }[];
      };
      expect(summary.config).toBe("crd");
      expect(summary.steps).toHaveLength(8);
      expect(summary.steps.filter((s) => !s.ok), tail).toEqual([]);
      expect(summary.vip).toMatch(/^192\.168\.126\.4\d$/);
      expect(summary.selectedNode).toMatch(/^node-[123]$/);
      expect(summary.selectedNode).not.toBe(summary.answeringNode);
      expect(summary.failoverMs).toBeLessThan(2_000);
      // What the user sees: the CRs applied instead of the ConfigMap, and the tables naming the node and counting the IP.
      expect(r.stdout).toContain("ipaddresspool.metallb.io/default created");
      expect(r.stdout).toContain("l2advertisement.metallb.io/default created");
      expect(r.stdout).not.toContain("configmap/config created");
      expect(r.stdout).toContain("$ kubectl get ipaddresspools,servicel2statuses -A -o wide");
      expect(r.stdout).toMatch(new RegExp(`servicel2status\\.metallb\\.io/l2-\\S+\\s+${summary.selectedNode}\\s+nginx\\s+default`));
      expect(r.stdout).toMatch(/ipaddresspool\.metallb\.io\/default\s.*\sTrue\s+Accepted\s+1\s+9\s/);
      expect(r.stdout).toContain("[8/8] tear down ... ok");
      expect(await labNamespaces("blblab")).toEqual([]);
    },
    180_000,
  );
});
