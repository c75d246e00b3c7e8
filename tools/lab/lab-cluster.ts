import { ApiextensionsV1Api, CoordinationV1Api, CoreV1Api, KubernetesObjectApi, type KubernetesObject, type V1Service } from "@kubernetes/client-node";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { startKubeSim, type Authorizer, type KubeSim } from "../kube-sim/index.ts";
import { addLoadBalancerDnat } from "../netns/kube-proxy-rules.ts";
import { spawnIn } from "../netns/run.ts";
import { manifestEnv, manifestNodeFlags } from "./manifest-runtime.ts";
import { createReadyPod } from "./ready-pod.ts";
import { buildTopology, type Topology, type TopologyNode } from "../netns/topology.ts";
import { speakerLeaseName } from "../../speaker/cluster/speaker-lease-names.ts";
import { installFiles, loadManifests } from "./load-manifests.ts";

const node24 = new URL("../../node_modules/.bin/node", import.meta.url).pathname;
const repo = new URL("../../", import.meta.url).pathname;

/** A process we started, with its output kept for diagnosis. */
export interface Proc {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  /** Signals the controller or speaker itself (the process, or the main process of its container). */
  kill(signal: NodeJS.Signals): void;
}

/** The controller or a speaker to start: its binary's flags and the network namespace it runs in. */
export interface Workload {
  role: "controller" | "speaker";
  /** The infra namespace (controller) or its node's namespace (speaker). */
  ns: string;
  node?: TopologyNode;
  args: string[];
}

/**
 * How the controller and the speakers run: `processRunner` (node in their namespace, the default) or as containers
 * of the image (the lab's --image, tools/lab/container-runner.ts). The child's stdout and stderr carry the workload's
 * output, and it exits when the workload does.
 */
export interface WorkloadRunner {
  start(w: Workload): Promise<{ child: ChildProcess; kill(signal: NodeJS.Signals): void }>;
  /** Removes what the runner leaves behind once every workload is killed (containers). */
  stop(): Promise<void>;
}

/**
 * Runs `node <node flags> <role>/main.ts FLAGS` from this checkout in the workload's namespace, with the node flags
 * the manifests give the role's container and the environment `env(role)` (default: this process's plus the
 * manifests' literal values, `NODE_OPTIONS`).
 */
export function manifestProcessRunner(env: (role: Workload["role"]) => NodeJS.ProcessEnv = (role) => ({ ...process.env, ...manifestEnv(role) })): WorkloadRunner {
  return {
    async start(w) {
      const child = spawnIn(w.ns, [node24, ...manifestNodeFlags(w.role), join(repo, `${w.role}/main.ts`), ...w.args], { env: env(w.role) });
      return { child, kill: (signal) => void child.kill(signal) };
    },
    async stop() {},
  };
}

/** The lab's default runner: the binaries run as the manifests run them. */
export const processRunner: WorkloadRunner = manifestProcessRunner();

/** The whole user story on one machine: a LAN of namespaces, the simulator, the controller and a speaker per node. */
export interface LabCluster {
  topo: Topology;
  sim: KubeSim;
  core: CoreV1Api;
  /** Kubeconfig (admin) whose server is reachable from every namespace and the host. */
  kubeconfigPath: string;
  controller: Proc | undefined;
  speakers: Map<string, Proc>;
  startController(extraArgs?: string[]): Promise<Proc>;
  startSpeaker(node: TopologyNode, extraArgs?: string[]): Promise<Proc>;
  /** Starts each node's HTTP backend ("served by NODE") on port 8080 and a ready Pod object for it. */
  startBackends(app: string, nodes?: TopologyNode[]): Promise<void>;
  /** kube-proxy's part on every node: DNAT VIP:port to the node's backend. */
  addDnat(vip: string, port?: number): Promise<void>;
  /** Diagnostic dump of every process's output. */
  logs(): string;
  stop(): Promise<void>;
}

export interface LabClusterOptions {
  prefix: string;
  index: number;
  nodeNames: string[];
  /** Extra speaker flags for every speaker. */
  speakerArgs?: string[];
  /** Kubeconfig to give the speakers and the controller instead of admin (RBAC tests). */
  identities?: { controller?: string; speaker?: string };
  /** The simulator's authorization hook (e.g. `RbacAuthorizer.authorize`, see rbac-identities.ts); default allows all. */
  authorize?: Authorizer;
  /** How the controller and the speakers run; default `processRunner`. */
  runner?: WorkloadRunner;
}

function track(child: ChildProcess, label: string, sink: string[], kill: Proc["kill"] = (signal) => void child.kill(signal)): Proc {
  const output: string[] = [];
  // A pipe read can end mid-line: keep the tail of each stream until its newline arrives.
  const reader = () => {
    let partial = "";
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line) continue;
        output.push(line);
        sink.push(`[${label}] ${line}`);
        if (output.length > 5000) output.shift();
      }
    };
  };
  child.stdout?.on("data", reader());
  child.stderr?.on("data", reader());
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output, exited, kill };
}

/** Waits until `proc` printed a line containing `text`, or throws after `ms` with its output. */
export async function waitForLine(proc: Proc, text: string, ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const line = proc.output.find((l) => l.includes(text));
    if (line) return line;
    if (proc.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no line with "${text}" within ${ms} ms; output:\n${proc.output.slice(-40).join("\n")}`);
}

/**
 * Builds the namespaces, starts the simulator in-process on the host end of the infra link,
 * registers one Ready Node per node namespace, and writes a kubeconfig every namespace can use.
 *
 * @example
 * const lab = await startLabCluster({ prefix: "blbe2e", index: 31, nodeNames: ["node-1", "node-2", "node-3"] });
 * try { await lab.startController(); ... } finally { await lab.stop(); }
 */
export async function startLabCluster(opts: LabClusterOptions): Promise<LabCluster> {
  const topo = await buildTopology({ prefix: opts.prefix, nodeNames: opts.nodeNames, index: opts.index });
  const all: string[] = [];
  const procs: Proc[] = [];
  const runner = opts.runner ?? processRunner;
  let sim: KubeSim | undefined;
  try {
    sim = await startKubeSim({ host: topo.hostAddress, port: 0, authorize: opts.authorize });
    const kubeconfigPath = sim.kubeconfigPath;
    const core = sim.client.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: "metallb-system" } } });
    for (const node of topo.nodes) {
      const created = await core.createNode({
        body: { metadata: { name: node.name, labels: { "kubernetes.io/hostname": node.name } } },
      });
      await core.replaceNodeStatus({
        name: node.name,
        body: {
          ...created,
          status: {
            addresses: [
              { type: "InternalIP", address: node.ipv4 },
              { type: "InternalIP", address: node.ipv6 },
              { type: "Hostname", address: node.name },
            ],
            conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "simulated", lastHeartbeatTime: new Date(), lastTransitionTime: new Date() }],
          },
        },
      });
    }
    const speakers = new Map<string, Proc>();
    const backends = new Set<string>();
    const lab: LabCluster = {
      topo,
      sim,
      core,
      kubeconfigPath,
      controller: undefined,
      speakers,
      async startController(extraArgs = []) {
        const args = ["--kubeconfig", opts.identities?.controller ?? kubeconfigPath, "--metrics-port", "7472", "--metrics-host", topo.infra.ipv4, ...extraArgs];
        const { child, kill } = await runner.start({ role: "controller", ns: topo.infra.ns, args });
        topo.track(child);
        const proc = track(child, "controller", all, kill);
        procs.push(proc);
        lab.controller = proc;
        await waitForLine(proc, "became leader", 45_000);
        return proc;
      },
      async startSpeaker(node, extraArgs = []) {
        const args = [
          "--kubeconfig",
          opts.identities?.speaker ?? kubeconfigPath,
          "--node-name",
          node.name,
          "--metrics-port",
          "7473",
          "--metrics-host",
          node.ipv4,
          "--kube-proxy-mode-url",
          "http://127.0.0.1:1/proxyMode",
          ...(opts.speakerArgs ?? []),
          ...extraArgs,
        ];
        const { child, kill } = await runner.start({ role: "speaker", ns: node.ns, node, args });
        topo.track(child);
        const proc = track(child, node.name, all, kill);
        procs.push(proc);
        speakers.set(node.name, proc);
        await waitForLine(proc, "speaker ready", 45_000);
        return proc;
      },
      async startBackends(app, nodes = topo.nodes) {
        for (const node of nodes) {
          if (!backends.has(node.name)) {
            const child = spawnIn(node.ns, [node24, join(repo, "tools/lab/backend.ts"), node.name, "8080"]);
            topo.track(child);
            const proc = track(child, `backend-${node.name}`, all);
            procs.push(proc);
            backends.add(node.name);
            await waitForLine(proc, "listening", 10_000);
          }
          await createReadyPod(core, { name: `${app}-${node.name}`, labels: { app }, node, port: 8080 });
        }
      },
      async addDnat(vip, port = 80) {
        for (const node of topo.nodes) await addLoadBalancerDnat(node.ns, vip, port, vip.includes(":") ? node.ipv6 : node.ipv4, 8080);
      },
      logs: () => all.join("\n"),
      async stop() {
        for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.kill("SIGKILL");
        await runner.stop();
        await sim?.stop();
        await topo.destroy();
      },
    };
    return lab;
  } catch (err) {
    for (const p of procs) p.kill("SIGKILL");
    await runner.stop();
    await sim?.stop();
    await topo.destroy();
    throw err;
  }
}

/** The VIP(s) of a Service once the controller assigned them. */
export async function waitForVip(core: CoreV1Api, name: string, ms = 15_000, namespace = "default"): Promise<string[]> {
  const deadline = Date.now() + ms;
  let svc: V1Service | undefined;
  while (Date.now() < deadline) {
    svc = await core.readNamespacedService({ name, namespace });
    const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip!).filter(Boolean);
    if (ips.length > 0) return ips;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`service ${namespace}/${name} got no IP within ${ms} ms`);
}

/**
 * Waits until the speaker Lease of every node (`speaker-<node>` in metallb-system) was renewed after `since`
 * (epoch ms): each speaker reaches the API again, e.g. after an outage. Throws after `ms` naming the laggards.
 *
 * @example
 * await heal(); await waitForSpeakerLeaseRenewals(lab, Date.now());
 */
export async function waitForSpeakerLeaseRenewals(lab: LabCluster, since: number, ms = 30_000): Promise<void> {
  const coordination = lab.sim.client.makeApiClient(CoordinationV1Api);
  const deadline = Date.now() + ms;
  let behind: string[] = [];
  while (Date.now() < deadline) {
    behind = [];
    for (const node of lab.topo.nodes) {
      const lease = await coordination.readNamespacedLease({ name: speakerLeaseName(node.name), namespace: "metallb-system" }).catch(() => undefined);
      const renewed = lease?.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
      if (renewed <= since) behind.push(node.name);
    }
    if (behind.length === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`speaker Leases of ${behind.join(", ")} not renewed within ${ms} ms after ${new Date(since).toISOString()}`);
}

/**
 * The user story's set-up in one call: the pool ConfigMap, the controller, a speaker per node, each
 * node's backend, a LoadBalancer Service "web" on port 80 and kube-proxy's DNAT for its VIP.
 * Returns the VIP.
 *
 * @example
 * const vip = await exposeWeb(lab, "address-pools:\n- name: default\n  protocol: layer2\n  addresses: [192.168.126.40/32]\n");
 */
export async function exposeWeb(lab: LabCluster, poolConfig: string): Promise<string> {
  await lab.core.createNamespacedConfigMap({ namespace: "metallb-system", body: { metadata: { name: "config" }, data: { config: poolConfig } } });
  await lab.startController();
  for (const node of lab.topo.nodes) await lab.startSpeaker(node);
  await lab.startBackends("web");
  await lab.core.createNamespacedService({
    namespace: "default",
    body: { metadata: { name: "web" }, spec: { type: "LoadBalancer", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } },
  });
  const [vip] = await waitForVip(lab.core, "web");
  await lab.addDnat(vip);
  return vip;
}

/**
 * Installs MetalLB's CRDs from manifests/ (IPAddressPool, L2Advertisement, ServiceL2Status) into the lab's
 * simulator as the admin, and waits until each is Established, so that the controller and the speakers started
 * afterwards watch the custom resources from their first list. Throws naming a CRD that is not established in `ms`.
 *
 * @example
 * const lab = await startLabCluster({ ... });
 * await installMetallbCrds(lab);
 * await lab.sim.client.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: "metallb.io", ... });
 */
export async function installMetallbCrds(lab: LabCluster, ms = 10_000): Promise<void> {
  const crds = (await loadManifests(installFiles())).filter((o) => o.kind === "CustomResourceDefinition");
  if (crds.length === 0) throw new Error("manifests/ holds no CustomResourceDefinition");
  const objects = KubernetesObjectApi.makeApiClient(lab.sim.client);
  for (const crd of crds) await objects.create(structuredClone(crd) as KubernetesObject);
  const extensions = lab.sim.client.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + ms;
  for (const crd of crds) {
    for (;;) {
      const stored = await extensions.readCustomResourceDefinition({ name: crd.metadata.name });
      if (stored.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
