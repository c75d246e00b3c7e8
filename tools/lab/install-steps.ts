/**
 * The lab's first three steps, the install as a user does it: build the LAN and start the API simulator; apply
 * `manifests/` with kubectl and run the controller and a speaker per node under their ServiceAccounts; configure
 * the pool, run nginx and expose it as a LoadBalancer.
 *
 * @example
 * await runner.run("build the LAN", (out) => buildLan(ctx, out));
 */
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { startLabCluster } from "./lab-cluster.ts";
import { createReadyPod } from "./ready-pod.ts";
import { RbacAuthorizer } from "../kube-sim/rbac-authorizer.ts";
import { addLoadBalancerDnat } from "../netns/kube-proxy-rules.ts";
import { spawnIn } from "../netns/run.ts";
import { eventually } from "../support/eventually.ts";
import { rankNodes } from "../../speaker/election/election.ts";
import { applyPoolCustomResources, showCrdStatus } from "./crd-steps.ts";
import { containerRunner, lineTime } from "./container-runner.ts";
import { checkRbac, clusterOf, showKubectl, type LabContext } from "./lab-context.ts";
import { manifestWorkloads } from "./manifest-security.ts";
import { workloadIdentities } from "./manifest-identities.ts";
import type { StepOutput } from "./step-runner.ts";

const node24 = new URL("../../node_modules/.bin/node", import.meta.url).pathname;
const backendScript = new URL("./backend.ts", import.meta.url).pathname;

/** The address-pool ConfigMap, in the legacy format the README documents, for the lab's LAN 192.168.126.0/24. */
export const labPoolConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  namespace: metallb-system
  name: config
data:
  config: |
    address-pools:
    - name: default
      protocol: layer2
      addresses:
      - 192.168.126.40-192.168.126.49
`;

/** Speaker flags for the lab: check strictARP and probe for conflicts every second, so step 6 shows results at once. */
const speakerArgs = ["--strict-arp-check", "1s", "--conflict-probe", "1s"];

/** Step 1: the namespaces (bridge, client, infra, three nodes), the simulator on the host link, three Ready Nodes. */
export async function buildLan(ctx: LabContext, out: StepOutput): Promise<string> {
  ctx.workDir = await mkdtemp(join(tmpdir(), "blb-lab-"));
  if (ctx.image) {
    ctx.containers = await containerRunner({ engine: ctx.image.engine, image: ctx.image.ref, workloads: await manifestWorkloads(ctx.manifestsDir), prefix: ctx.prefix });
    await ctx.containers.removeAll();
  }
  const rbac = new RbacAuthorizer();
  ctx.starting = startLabCluster({
    prefix: ctx.prefix,
    index: ctx.index,
    nodeNames: ctx.nodeNames,
    speakerArgs,
    identities: { controller: join(ctx.workDir, "controller.kubeconfig"), speaker: join(ctx.workDir, "speaker.kubeconfig") },
    authorize: rbac.authorize,
    runner: ctx.containers,
  });
  ctx.cluster = await ctx.starting;
  // From now on the simulator authorizes ServiceAccounts from the Roles and bindings stored in it, as
  // kube-apiserver's RBAC authorizer does; until step 2 applies manifests/ they may do nothing.
  rbac.attach(ctx.cluster.sim.state);
  ctx.rbac = rbac;
  const { topo, sim } = ctx.cluster;
  out(`LAN bridge      ${topo.lanNs} (br0)`);
  out(`client          ${topo.client.ns}  ${topo.client.ipv4}`);
  out(`infra           ${topo.infra.ns}  ${topo.infra.ipv4} (routes to the host link ${topo.hostAddress}/30)`);
  for (const node of topo.nodes) out(`${node.name.padEnd(15)} ${node.ns}  ${node.ipv4}  ${node.mac}`);
  out(`API simulator   ${sim.url} (in this process), RBAC enforced; Nodes ${topo.nodes.map((n) => n.name).join(", ")} registered Ready`);
  if (ctx.image) out(`workloads       containers of ${ctx.image.ref} (${ctx.image.engine.argv.join(" ")}), security contexts from ${relative(process.cwd(), ctx.manifestsDir) || "."}/`);
  return `${topo.nodes.length} nodes + client on a bridge; API simulator at ${sim.url}`;
}

/** Step 2: `kubectl apply -f manifests/`, then the controller and one speaker per node as their ServiceAccounts. */
export async function installManifests(ctx: LabContext, out: StepOutput): Promise<string> {
  const cluster = clusterOf(ctx);
  const ids = await workloadIdentities(ctx.manifestsDir);
  const paths = { controller: join(ctx.workDir!, "controller.kubeconfig"), speaker: join(ctx.workDir!, "speaker.kubeconfig") };
  await cluster.sim.issueKubeconfig(paths.controller, ids.controller);
  await cluster.sim.issueKubeconfig(paths.speaker, ids.speaker);
  // Exactly what a user types in the repository: kubectl apply -f manifests/
  const fromCwd = relative(process.cwd(), ctx.manifestsDir);
  const dir = fromCwd && !fromCwd.startsWith("..") ? fromCwd : ctx.manifestsDir;
  await showKubectl(ctx, ["apply", "-f", `${dir.replace(/\/$/, "")}/`], out, { timeoutMs: 30_000 });
  let t = performance.now();
  const since = () => `${((performance.now() - t) / 1000).toFixed(1)} s`;
  try {
    const controller = await cluster.startController();
    const fromStart = await fromContainerStart(ctx, "controller", undefined, controller.output, "became leader");
    out(`controller      in ${cluster.topo.infra.ns} as ${ids.controller.name}: leader after ${since()}${fromStart}`);
    // Like a DaemonSet's Pods, the speakers start together.
    t = performance.now();
    await Promise.all(
      cluster.topo.nodes.map(async (node) => {
        const speaker = await cluster.startSpeaker(node);
        const fromStart = await fromContainerStart(ctx, "speaker", node.name, speaker.output, "speaker ready");
        out(`speaker         in ${node.ns} as ${ids.speaker.name}: ready after ${since()}${fromStart}`);
      }),
    );
    if (ctx.containers) {
      out("the containers, as podman runs them (security flags from the manifests):");
      for (const command of ctx.containers.commands.values()) out(`  ${command}`);
    }
  } catch (err) {
    // A process that never got ready because RBAC refused it: say which rules are missing.
    checkRbac(ctx);
    throw err;
  }
  const allowed = checkRbac(ctx);
  out(`RBAC: ${allowed} requests of the ServiceAccounts allowed by the rules just applied, none refused`);
  return `manifests applied; controller + ${cluster.topo.nodes.length} speakers running as their ServiceAccounts`;
}

/**
 * With --image: records the time from the container's start (podman's State.StartedAt) to its ready line in
 * ctx.readyMs, and returns it for the progress line (" (1.2 s from container start)"); "" without --image.
 */
async function fromContainerStart(ctx: LabContext, role: "controller" | "speaker", node: string | undefined, output: string[], ready: string): Promise<string> {
  if (!ctx.containers) return "";
  const startedAt = await ctx.containers.startedAt(ctx.containers.containerName(role, node));
  const readyAt = lineTime(output.find((l) => l.includes(ready)) ?? "");
  if (startedAt === undefined || readyAt === undefined) return "";
  const ms = readyAt - startedAt;
  ctx.readyMs ??= { speakers: {} };
  if (node) ctx.readyMs.speakers[node] = ms;
  else ctx.readyMs.controller = ms;
  return ` (${(ms / 1000).toFixed(1)} s from container start)`;
}

/** Starts `backend.ts` on port 80 in every node namespace and creates a Ready Pod for each, as nginx's ReplicaSet would. */
async function startNginxPods(ctx: LabContext, out: StepOutput): Promise<void> {
  const cluster = clusterOf(ctx);
  const hash = randomBytes(5).toString("hex");
  for (const node of cluster.topo.nodes) {
    const child = spawnIn(node.ns, [node24, backendScript, node.name, "80"]);
    cluster.topo.track(child);
    const output: string[] = [];
    child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`the backend on ${node.name} exited ${child.exitCode}: ${output.join("").trim()}`);
      return output.join("").includes("listening") ? true : undefined;
    }, { ms: 10_000, what: `the backend on ${node.name} to listen`, everyMs: 100 });
    const name = `nginx-${hash}-${randomBytes(3).toString("hex").slice(0, 5)}`;
    await createReadyPod(cluster.core, { name, labels: { app: "nginx", "pod-template-hash": hash }, node, port: 80, container: "nginx" });
  }
  out(`(the nginx Pods are stand-ins: on each node an HTTP server on :80 answers "served by <node>")`);
}

/**
 * Step 3: the pool ConfigMap (with --crd: an IPAddressPool and an L2Advertisement), Deployment nginx and its Pods,
 * `kubectl expose`, `kubectl wait` for the IP, kube-proxy's DNAT for it on every node, then `get svc -o wide` and
 * `describe svc nginx` once a speaker announced it (with --crd also `get ipaddresspools,servicel2statuses -A`).
 */
export async function exposeNginx(ctx: LabContext, out: StepOutput): Promise<string> {
  const cluster = clusterOf(ctx);
  if (ctx.crd) {
    await applyPoolCustomResources(ctx, out);
  } else {
    out(labPoolConfigMap.trimEnd());
    await showKubectl(ctx, ["apply", "-f", "-"], out, { stdin: labPoolConfigMap });
  }
  await showKubectl(ctx, ["create", "deployment", "nginx", "--image=nginx", "--replicas=3", "--port=80"], out);
  await startNginxPods(ctx, out);
  await showKubectl(ctx, ["expose", "deployment", "nginx", "--port=80", "--type=LoadBalancer"], out);
  await showKubectl(ctx, ["wait", "--for=jsonpath={.status.loadBalancer.ingress[0].ip}", "svc/nginx", "--timeout=30s"], out, { timeoutMs: 40_000 });
  const svc = await cluster.core.readNamespacedService({ name: "nginx", namespace: "default" });
  const vip = svc.status?.loadBalancer?.ingress?.[0]?.ip;
  if (!vip) throw new Error("kubectl wait returned but svc/nginx has no status.loadBalancer.ingress[0].ip");
  ctx.vip = vip;
  // kube-proxy's part on every node: traffic for VIP:80 goes to the node's local nginx.
  for (const node of cluster.topo.nodes) await addLoadBalancerDnat(node.ns, vip, 80, node.ipv4, 80);
  out(`kube-proxy DNAT on every node: ${vip}:80 -> <node>:80`);
  await eventually(async () => {
    const events = await cluster.core.listNamespacedEvent({ namespace: "default" });
    return events.items.some((e) => e.involvedObject.name === "nginx" && e.reason === "nodeAssigned") ? true : undefined;
  }, { ms: 10_000, what: "a speaker's nodeAssigned Event on svc/nginx", everyMs: 100 });
  await showKubectl(ctx, ["get", "svc", "-o", "wide"], out);
  await showKubectl(ctx, ["describe", "svc", "nginx"], out);
  if (ctx.crd) await showCrdStatus(ctx, out, rankNodes(ctx.nodeNames, vip)[0]);
  checkRbac(ctx);
  return `svc/nginx got ${vip}${ctx.crd ? " from IPAddressPool default" : ""}`;
}
