/**
 * What the lab's steps share: the running cluster, what earlier steps found (the VIP, its node, the failover), and
 * the small probes every step uses from inside the lab's namespaces (kubectl, arping, curl, metrics).
 *
 * @example
 * const ctx = newLabContext({ manifestsDir: "manifests" });
 * await showKubectl(ctx, ["get", "svc", "-o", "wide"], out);
 */
import { kubectl } from "../kube-sim/kubectl-runner.ts";
import type { LabCluster } from "./lab-cluster.ts";
import type { Engine } from "../container-engine.ts";
import type { ContainerRunner } from "./container-runner.ts";
import type { RbacAuthorizer } from "../kube-sim/rbac-authorizer.ts";
import type { TopologyNode } from "../netns/topology.ts";
import { runIn } from "../netns/run.ts";
import type { StepOutput } from "./step-runner.ts";

/** The lab's state, filled in step by step. */
export interface LabContext {
  /** Namespace prefix of everything the lab creates ("blblab-client", ...). */
  prefix: string;
  /** Picks the private host link 169.254.<index>.0/30. */
  index: number;
  nodeNames: string[];
  manifestsDir: string;
  /** Configure with an IPAddressPool and an L2Advertisement instead of the ConfigMap (`--crd`). */
  crd: boolean;
  /** With --image: the image whose containers run the controller and the speakers, and podman to run them. */
  image?: { ref: string; engine: Engine };
  /** With --image: runs the containers (created in step 1). */
  containers?: ContainerRunner;
  /** With --image: milliseconds from each container's start to its ready line (controller: "became leader"). */
  readyMs?: { controller?: number; speakers: Record<string, number> };
  cluster?: LabCluster;
  /** The cluster while step 1 builds it (so a Ctrl-C during step 1 can still tear it down). */
  starting?: Promise<LabCluster>;
  /** Authorizes the simulator's requests from the RBAC objects stored in it (applied from manifests/). */
  rbac?: RbacAuthorizer;
  /** Where the identity kubeconfigs live (removed at teardown). */
  workDir?: string;
  vip?: string;
  answeringNode?: string;
  answeringMac?: string;
  failoverMs?: number;
  newNode?: string;
  /** With --crd: the node the L2Advertisement's nodeSelectors moved the VIP to. */
  selectedNode?: string;
}

/**
 * A fresh context with the lab's fixed names: prefix "blblab", host link index 61, nodes node-1..node-3. With
 * --image the prefix is "blbimg" and the index 62, so a container lab and a process lab can run at once (as the
 * end-to-end tests do).
 *
 * @example
 * newLabContext({ manifestsDir: "/repo/manifests" }).prefix; // "blblab"
 */
export function newLabContext(opts: { manifestsDir: string; crd?: boolean; image?: LabContext["image"] }): LabContext {
  const names = opts.image ? { prefix: "blbimg", index: 62 } : { prefix: "blblab", index: 61 };
  return { ...names, nodeNames: ["node-1", "node-2", "node-3"], manifestsDir: opts.manifestsDir, crd: opts.crd ?? false, image: opts.image };
}

/** The running cluster, or an error naming the step that should have started it. */
export function clusterOf(ctx: LabContext): LabCluster {
  if (!ctx.cluster) throw new Error("the lab cluster is not running (step 1 did not complete)");
  return ctx.cluster;
}

/** The node called `name`. */
export function nodeNamed(cluster: LabCluster, name: string): TopologyNode {
  const node = cluster.topo.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node "${name}" in the lab (nodes: ${cluster.topo.nodes.map((n) => n.name).join(", ")})`);
  return node;
}

/**
 * Runs the real kubectl as the admin against the lab's simulator, prints `$ kubectl ARGS` and its output, and
 * returns stdout; throws with kubectl's stderr when it exits non-zero.
 */
export async function showKubectl(ctx: LabContext, args: string[], out: StepOutput, opts: { stdin?: string; timeoutMs?: number; quiet?: boolean } = {}): Promise<string> {
  const cluster = clusterOf(ctx);
  const r = await kubectl(cluster.kubeconfigPath, args, { stdin: opts.stdin, timeoutMs: opts.timeoutMs ?? 20_000 });
  if (!opts.quiet) {
    out(`$ kubectl ${args.map((a) => (/[\s'{}[\]$]/.test(a) ? `'${a}'` : a)).join(" ")}`);
    if (r.stdout.trim()) out(r.stdout.trimEnd());
  }
  if (r.code !== 0) {
    throw new Error(`kubectl ${args.join(" ")} exited ${r.code ?? "on its timeout"}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/**
 * Throws when the manifests' RBAC refused any request of the controller or the speakers, listing them; otherwise
 * returns how many requests the ServiceAccounts made and were allowed.
 */
export function checkRbac(ctx: LabContext): number {
  if (!ctx.rbac) throw new Error("RBAC is not enforced (step 1 did not complete)");
  const denials = ctx.rbac.denials();
  if (denials.length > 0) {
    const list = denials.map((d) => `${d.user} ${d.verb} ${d.apiGroup ? `${d.resource}.${d.apiGroup}` : d.resource}${d.namespace ? ` in ${d.namespace}` : ""}`);
    throw new Error(`the manifests' RBAC refused ${denials.length} request(s): ${[...new Set(list)].join("; ")}; add the missing rules to manifests/20-rbac.yaml`);
  }
  return ctx.rbac.usage().reduce((n, u) => n + u.count, 0);
}

/** The distinct MACs that answered `arping` for `ip` from the client namespace. */
export async function arpingMacs(cluster: LabCluster, ip: string, count = 3): Promise<string[]> {
  const r = await runIn(cluster.topo.client.ns, ["arping", "-i", "eth0", "-c", String(count), "-W", "0.2", ip], { timeoutMs: 10_000 });
  return [...new Set([...r.stdout.matchAll(/from ([0-9a-f:]{17})/gi)].map((m) => m[1].toLowerCase()))];
}

/** Deletes the client's neighbour entry for `ip`, so that its next request resolves it afresh (as a new client). */
export async function forgetNeighbour(cluster: LabCluster, ip: string): Promise<void> {
  await runIn(cluster.topo.client.ns, ["ip", "neigh", "del", ip, "dev", "eth0"]);
}

/**
 * `curl http://VIP/` from the client namespace: the node named in the backend's answer ("served by NODE"), or
 * undefined when the request failed or timed out.
 */
export async function curlNode(cluster: LabCluster, vip: string, connectTimeout = "0.5", maxTime = "1"): Promise<string | undefined> {
  const r = await runIn(cluster.topo.client.ns, ["curl", "-s", "--connect-timeout", connectTimeout, "--max-time", maxTime, `http://${vip}/`], { timeoutMs: 5_000 });
  if (r.code !== 0) return undefined;
  return /^served by (\S+)/.exec(r.stdout.trim())?.[1];
}

/** The speaker metrics of `node`, read with curl inside its own namespace. */
export async function speakerMetrics(node: TopologyNode): Promise<string> {
  const r = await runIn(node.ns, ["curl", "-s", "--max-time", "1", `http://${node.ipv4}:7473/metrics`], { timeoutMs: 5_000 });
  return r.code === 0 ? r.stdout : "";
}

/** The value of the sample `name{labels}` in Prometheus text, e.g. `metricValue(text, 'baremetal_lb_strict_arp_ok{node="node-1"}')`. */
export function metricValue(text: string, sample: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return undefined;
}
