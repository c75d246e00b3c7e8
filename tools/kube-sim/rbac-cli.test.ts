import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { parseKubeconfigRequest } from "./service-account-kubeconfig.ts";

const root = resolve(import.meta.dirname, "../..");
const node = join(root, "node_modules/.bin/node");
const main = join(root, "tools/kube-sim/main.ts");

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function start(args: string[]): { child: ChildProcess; firstLine: Promise<string>; exit: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(node, [main, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const firstLine = new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no output from kube-sim within 10 s; stderr: ${stderr}`)), 10_000);
    createInterface({ input: child.stdout! }).once("line", (line) => {
      clearTimeout(timer);
      ok(line);
    });
  });
  const exit = new Promise<{ code: number | null; stderr: string }>((ok) => child.on("exit", (code) => ok({ code, stderr })));
  return { child, firstLine, exit };
}

describe("kube-sim CLI with --rbac and --issue-kubeconfig", () => {
  it("issues ServiceAccount kubeconfigs and enforces the RBAC objects stored through the admin kubeconfig", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kube-sim-rbac-cli-"));
    dirs.push(dir);
    const admin = join(dir, "admin");
    const reader = join(dir, "reader");
    const sim = start(["--port", "0", "--kubeconfig", admin, "--rbac", "--issue-kubeconfig", `default:reader=${reader}`]);
    expect(await sim.firstLine).toMatch(/^kube-sim listening on /);

    const kc = new KubeConfig();
    kc.loadFromFile(reader);
    expect(kc.getCurrentUser()?.name).toBe("system:serviceaccount:default:reader");
    const asReader = kc.makeApiClient(CoreV1Api);
    const denied = await asReader.listNamespacedConfigMap({ namespace: "default" }).then(
      () => undefined,
      (e: { code?: number; body?: string }) => e,
    );
    expect(denied?.code).toBe(403);
    expect(JSON.parse(denied?.body ?? "{}").message).toBe(
      'configmaps is forbidden: User "system:serviceaccount:default:reader" cannot list resource "configmaps" in API group "" in the namespace "default"',
    );

    const adminKc = new KubeConfig();
    adminKc.loadFromFile(admin);
    const rbac = adminKc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: "default", body: { metadata: { name: "cm-reader" }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] }] } });
    await rbac.createNamespacedRoleBinding({
      namespace: "default",
      body: { metadata: { name: "cm-reader" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "cm-reader" }, subjects: [{ kind: "ServiceAccount", name: "reader" }] },
    });
    expect((await asReader.listNamespacedConfigMap({ namespace: "default" })).items).toEqual([]);

    sim.child.kill("SIGTERM");
    expect((await sim.exit).code).toBe(0);
  });

  it("refuses a malformed --issue-kubeconfig with the expected form and exit code 2", async () => {
    const { exit } = start(["--port", "0", "--kubeconfig", "/tmp/unused", "--issue-kubeconfig", "speaker=/tmp/x"]);
    const { code, stderr } = await exit;
    expect(code).toBe(2);
    expect(stderr).toContain('--issue-kubeconfig "speaker=/tmp/x": expected NAMESPACE:SERVICEACCOUNT=PATH');
  });

  it("parses NAMESPACE:SERVICEACCOUNT=PATH into the ServiceAccount's user and groups", () => {
    expect(parseKubeconfigRequest("metallb-system:speaker=/tmp/a=b")).toEqual({
      path: "/tmp/a=b",
      user: {
        name: "system:serviceaccount:metallb-system:speaker",
        groups: ["system:serviceaccounts", "system:serviceaccounts:metallb-system", "system:authenticated"],
      },
    });
    expect(() => parseKubeconfigRequest("Metallb:speaker=/tmp/x")).toThrow('namespace "Metallb" is not a valid namespace name');
  });
});
