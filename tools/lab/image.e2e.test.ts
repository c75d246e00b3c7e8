/**
 * The image users deploy, built and run: `npm run image` builds it (podman's layer cache makes a rerun take
 * seconds), `lab --image` runs the whole user story with the controller and the speakers as its containers, the
 * containers run under exactly the manifests' security contexts, and a speaker whose manifest loses NET_RAW says
 * it needs CAP_NET_RAW. Needs root, the lab's tools, podman (and mmdebstrap, for the stand-in base where no
 * registry is reachable); without them it skips saying why, and under CI=true that is a failure.
 */
import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerProblem, podmanEngine, type Engine } from "../container-engine.ts";
import { startLabCluster, waitForLine, type LabCluster } from "./lab-cluster.ts";
import { requireNetns, skipDecision } from "../../test/support/requirements.ts";
import { containerRunner, kubeconfigMountPath, labImage, labLabel } from "./container-runner.ts";
import { labTools } from "./lab-tools.ts";
import { manifestWorkloads } from "./manifest-security.ts";
import { labNamespaces } from "./teardown.ts";

const repo = new URL("../../", import.meta.url).pathname;
const node24 = new URL("../../node_modules/.bin/node", import.meta.url).pathname;

/** Skips (or fails under CI) unless this machine can build and run the image's containers. */
async function podmanSkip(): Promise<{ skip: boolean; engine?: Engine }> {
  if (await requireNetns([...labTools, "podman", "mmdebstrap"])) return { skip: true };
  let problem: string | undefined;
  let engine: Engine | undefined;
  try {
    engine = podmanEngine();
    problem = await containerProblem(engine);
  } catch (err) {
    problem = (err as Error).message;
  }
  if (problem === undefined) return { skip: false, engine };
  const decision = skipDecision({ reason: `needs podman able to run containers: ${problem}`, packages: ["podman", "runc"] }, process.env);
  if (decision.action === "fail") throw new Error(decision.message);
  if (decision.action === "skip") console.warn(decision.message);
  return { skip: true };
}

const { skip, engine } = await podmanSkip();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node SCRIPT ARGS` from the repository; SIGINT after `ms` (the lab tears itself down on it). */
function runNode(script: string, args: string[], ms: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(node24, [script, ...args], { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGINT"), ms);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const lastJson = <T,>(r: Run): T => JSON.parse(r.stdout.trimEnd().split("\n").pop() ?? "") as T;
const tail = (r: Run) => `\n--- stdout (tail) ---\n${r.stdout.split("\n").slice(-50).join("\n")}\n--- stderr (tail) ---\n${r.stderr.slice(-3000)}`;

/** What the kernel says about a container's main process: its UID, effective capabilities, no_new_privs. */
async function processStatus(e: Engine, container: string): Promise<{ uid: string; capEff: bigint; noNewPrivs: string; mountinfo: string }> {
  const pid = (await e.mustRun(["container", "inspect", "--format", "{{.State.Pid}}", container])).trim();
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, "m").exec(status)?.[1] ?? "";
  return { uid: field("Uid"), capEff: BigInt(`0x${field("CapEff")}`), noNewPrivs: field("NoNewPrivs"), mountinfo: await readFile(`/proc/${pid}/mountinfo`, "utf8") };
}

/** The mount options of `path` in a mountinfo text ("ro,nosuid,..."); /var/run is a link to /run in the image. */
const mountOptions = (mountinfo: string, path: string) =>
  mountinfo.split("\n").find((l) => [path, path.replace(/^\/var\/run\//, "/run/")].includes(l.split(" ")[4]))?.split(" ")[5];

const capNetRaw = 1n << 13n;

describe.skipIf(skip)("the image, built and run as the manifests say (podman)", () => {
  let image = "";
  let build: Run;

  beforeAll(async () => {
    image = await labImage(repo);
    build = await runNode("tools/image.ts", ["--json"], 14 * 60_000);
    if (build.code !== 0) throw new Error(`npm run image failed (exit ${build.code})${tail(build)}`);
  }, 15 * 60_000);

  it("npm run image builds the image the manifests name and reports the base and the project's own layers", async () => {
    const summary = lastJson<{ image: string; base: string; size: { baseBytes: number; ownBytes: number; ownLayers: { instruction: string }[] } }>(build);
    expect(summary.image).toBe(image);
    // It says which base it used; the stand-in only when the real one cannot be pulled, and then npm runs offline.
    expect(build.stdout).toMatch(/^image: base: /m);
    if (summary.base === "stand-in") {
      expect(build.stdout).toMatch(/^image: base: cannot pull docker\.io\/library\/node:24-slim .*stand-in/m);
      expect(build.stdout).toContain("npm in the build runs offline from the host's cache");
    }
    expect(summary.size.baseBytes).toBeGreaterThan(0);
    expect(summary.size.ownLayers.map((l) => l.instruction)).toEqual(expect.arrayContaining(["COPY node_modules/", "COPY controller/", "COPY speaker/", "COPY shared/"]));
    const version = await engine!.mustRun(["run", "--rm", "--pull=never", "--network", "none", "--entrypoint", '["node","--version"]', image]);
    expect(version.trim()).toMatch(/^v24\./);
  });

  it(
    "lab --image passes every step with the controller and the speakers as containers: failover under 2 s, nothing left behind",
    async () => {
      const r = await runNode("tools/lab/lab.ts", ["--image", "--json"], 240_000);
      expect(r.code, tail(r)).toBe(0);
      const summary = lastJson<{
        ok: boolean;
        image: string;
        vip: string;
        failoverMs: number;
        newNode: string;
        answeringNode: string;
        readyMs: { controller: number; speakers: Record<string, number> };
        steps: { name: string; ok: boolean }[];
      }>(r);
      expect(summary.image).toBe(image);
      expect(summary.steps).toHaveLength(7);
      expect(summary.steps.filter((s) => !s.ok), tail(r)).toEqual([]);
      expect(summary.vip).toMatch(/^192\.168\.126\.4\d$/);
      expect(summary.newNode).not.toBe(summary.answeringNode);
      expect(summary.failoverMs).toBeGreaterThan(0);
      expect(summary.failoverMs).toBeLessThan(2_000);
      expect(summary.readyMs.controller).toBeGreaterThan(0);
      expect(Object.keys(summary.readyMs.speakers).sort()).toEqual(["node-1", "node-2", "node-3"]);
      // The containers ran as the manifests say, and their output reached the lab's log lines.
      expect(r.stdout).toMatch(/--name blbimg-speaker-node-1 .*--network ns:\/run\/netns\/blbimg-node-1 .*--user 0:0 --read-only --read-only-tmpfs=false --cap-drop ALL --cap-add NET_RAW --security-opt no-new-privileges/);
      expect(r.stdout).toMatch(/--name blbimg-controller .*--network ns:\/run\/netns\/blbimg-infra .*--user 65532:65532 --read-only --read-only-tmpfs=false --cap-drop ALL --security-opt no-new-privileges/);
      expect(r.stdout).toContain("[7/7] tear down ... ok");
      expect(await labNamespaces("blbimg")).toEqual([]);
      expect((await engine!.mustRun(["ps", "--all", "--quiet", "--filter", `label=${labLabel}=blbimg`])).trim()).toBe("");
    },
    300_000,
  );

  describe("one node, the containers inspected from the host", () => {
    let lab: LabCluster | undefined;
    let manifests = "";

    beforeAll(async () => {
      manifests = await mkdtemp(join(tmpdir(), "blb-manifests-"));
      await cp(join(repo, "manifests"), manifests, { recursive: true });
    });
    afterAll(async () => {
      await lab?.stop();
      await rm(manifests, { recursive: true, force: true });
    });

    /** A one-node lab whose containers run under the security contexts of the manifests in `dir`. */
    async function oneNodeLab(dir: string): Promise<LabCluster> {
      const runner = await containerRunner({ engine: engine!, image, workloads: await manifestWorkloads(dir), prefix: "blbsec" });
      await runner.removeAll();
      lab = await startLabCluster({ prefix: "blbsec", index: 63, nodeNames: ["node-1"], runner });
      return lab;
    }

    it(
      "runs the controller and the speaker under exactly the manifests' security contexts",
      async () => {
        const cluster = await oneNodeLab(join(repo, "manifests"));
        await cluster.startController();
        await cluster.startSpeaker(cluster.topo.nodes[0]);
        // manifests/30-controller.yaml: runAsUser 65532, drop ALL, allowPrivilegeEscalation false, readOnlyRootFilesystem.
        const controller = await processStatus(engine!, "blbsec-controller");
        expect({ uid: controller.uid, capEff: controller.capEff, noNewPrivs: controller.noNewPrivs }).toEqual({ uid: "65532", capEff: 0n, noNewPrivs: "1" });
        // manifests/40-speaker.yaml: runAsUser 0, drop ALL, add NET_RAW, allowPrivilegeEscalation false, readOnlyRootFilesystem.
        const speaker = await processStatus(engine!, "blbsec-speaker-node-1");
        expect({ uid: speaker.uid, capEff: speaker.capEff, noNewPrivs: speaker.noNewPrivs }).toEqual({ uid: "0", capEff: capNetRaw, noNewPrivs: "1" });
        for (const s of [controller, speaker]) {
          expect(mountOptions(s.mountinfo, "/")).toMatch(/^ro\b/);
          expect(mountOptions(s.mountinfo, kubeconfigMountPath)).toMatch(/^ro\b/);
          expect(mountOptions(s.mountinfo, "/tmp")).toBeUndefined();
        }
        await cluster.stop();
        lab = undefined;
      },
      120_000,
    );

    it(
      "a speaker whose manifest no longer adds NET_RAW says it needs CAP_NET_RAW and stays out of the election",
      async () => {
        const file = join(manifests, "40-speaker.yaml");
        const docs = parseAllDocuments(await readFile(file, "utf8"));
        const daemonSet = docs.find((d) => d.get("kind") === "DaemonSet")!;
        const capabilities = ["spec", "template", "spec", "containers", 0, "securityContext", "capabilities"];
        expect(daemonSet.getIn([...capabilities, "add"])?.toString()).toContain("NET_RAW");
        daemonSet.deleteIn([...capabilities, "add"]);
        await writeFile(file, docs.map((d) => d.toString()).join(""));

        const cluster = await oneNodeLab(manifests);
        const node = cluster.topo.nodes[0];
        await cluster.startSpeaker(node).catch(() => undefined);
        const speaker = cluster.speakers.get(node.name)!;
        const line = await waitForLine(speaker, "needs CAP_NET_RAW", 30_000);
        expect(JSON.parse(line)).toMatchObject({ msg: "cannot open packet socket", interface: "eth0", code: "EPERM" });
        expect(JSON.parse(line).err).toMatch(/^socket on eth0: Operation not permitted .*— the speaker needs CAP_NET_RAW$/);
        // It says it is not ready, and stays out of the election instead of winning VIPs it cannot answer for.
        const notReady = JSON.parse(await waitForLine(speaker, "speaker started but not ready", 30_000));
        expect(notReady.reason).toMatch(/^no packet socket could be opened \(eth0: socket on eth0: Operation not permitted .*needs CAP_NET_RAW\)$/);
        expect(speaker.output.join("\n")).not.toMatch(/"msg":"speaker ready"/);
        expect((await processStatus(engine!, "blbsec-speaker-node-1")).capEff).toBe(0n);
        await cluster.stop();
        lab = undefined;
        expect((await engine!.mustRun(["ps", "--all", "--quiet", "--filter", `label=${labLabel}=blbsec`])).trim()).toBe("");
      },
      120_000,
    );
  });
});
