/**
 * The lab's demonstrations (steps 4–6), all from inside the lab's namespaces: the client reaches the VIP through
 * the one elected node; the VIP fails over when that node dies; the strictARP check reports an IPVS node whose
 * kernel answers ARP for the VIP, and clears once the sysctls are fixed.
 *
 * @example
 * await runner.run("reach the VIP", (out) => reachVip(ctx, out));
 */
import type { LabCluster } from "./lab-cluster.ts";
import { mustRunIn, runIn } from "../netns/run.ts";
import { eventually } from "../support/eventually.ts";
import { rankNodes } from "../../speaker/election/election.ts";
import { measureFailover } from "./failover-probe.ts";
import { arpingMacs, checkRbac, clusterOf, curlNode, metricValue, nodeNamed, showKubectl, speakerMetrics, type LabContext } from "./lab-context.ts";
import type { StepOutput } from "./step-runner.ts";

/** The VIP step 3 assigned to svc/nginx, or an error naming that step. */
export function vipOf(ctx: LabContext): string {
  if (!ctx.vip) throw new Error("svc/nginx has no VIP (step 3 did not complete)");
  return ctx.vip;
}

/** Waits until exactly one MAC answers ARP for `vip`; returns it and the node it belongs to. */
export async function arpOwner(cluster: LabCluster, vip: string, ms: number): Promise<{ mac: string; node: string }> {
  const macs = await eventually(async () => {
    const m = await arpingMacs(cluster, vip, 2);
    return m.length > 0 ? m : undefined;
  }, { ms, what: `an ARP reply for ${vip}`, everyMs: 100 });
  if (macs.length !== 1) throw new Error(`${macs.length} MACs answered ARP for ${vip} (${macs.join(", ")}); exactly one node may`);
  const node = cluster.topo.nodes.find((n) => n.mac === macs[0]);
  if (!node) throw new Error(`${macs[0]} answered ARP for ${vip} but is no lab node's MAC`);
  return { mac: macs[0], node: node.name };
}

/** Step 4: `arping` the VIP from the client (one MAC, the elected node's) and `curl` it. */
export async function reachVip(ctx: LabContext, out: StepOutput): Promise<string> {
  const cluster = clusterOf(ctx);
  const vip = vipOf(ctx);
  const elected = rankNodes(ctx.nodeNames, vip)[0];
  const owner = await arpOwner(cluster, vip, 10_000);
  const client = cluster.topo.client.ns;
  const shown = await runIn(client, ["arping", "-i", "eth0", "-c", "3", "-W", "0.2", vip], { timeoutMs: 10_000 });
  out(`$ ip netns exec ${client} arping -i eth0 -c 3 ${vip}`);
  out(shown.stdout.trimEnd());
  if (owner.node !== elected) throw new Error(`${owner.node} (${owner.mac}) answers ARP for ${vip}, but the election picks ${elected}`);
  out(`one MAC answers: ${owner.mac} = ${owner.node}, the elected node`);
  const served = await eventually(() => curlNode(cluster, vip), { ms: 5_000, what: `curl http://${vip}/ from the client`, everyMs: 100 });
  out(`$ ip netns exec ${client} curl http://${vip}/`);
  out(`served by ${served}`);
  if (served !== owner.node) throw new Error(`curl was served by ${served}, but ${owner.node} answers ARP for ${vip}`);
  ctx.answeringNode = owner.node;
  ctx.answeringMac = owner.mac;
  return `${vip} is at ${owner.mac} (${owner.node}); curl served by ${served}`;
}

/**
 * Step 5: kill -9 the announcing node's speaker and take its link down while the client curls the VIP every 50 ms;
 * report the gap until a request is served through the new node. Then bring the node back for step 6.
 */
export async function failOver(ctx: LabContext, out: StepOutput): Promise<string> {
  const cluster = clusterOf(ctx);
  const vip = vipOf(ctx);
  if (!ctx.answeringNode) throw new Error("no answering node known (step 4 did not complete)");
  const oldName = ctx.answeringNode;
  const old = nodeNamed(cluster, oldName);
  const speaker = cluster.speakers.get(oldName);
  if (!speaker) throw new Error(`no speaker process for ${oldName}`);
  const expected = rankNodes(ctx.nodeNames.filter((n) => n !== oldName), vip)[0];
  out(`probing: curl http://${vip}/ every 50 ms from the client (--connect-timeout 0.2 --max-time 0.4), for at most 15 s`);
  const m = await measureFailover({
    request: () => curlNode(cluster, vip, "0.2", "0.4"),
    oldNode: oldName,
    fail: async () => {
      // With --image this is the container's main process: the container dies with it.
      speaker.kill("SIGKILL");
      await cluster.topo.linkDown(old);
    },
    intervalMs: 50,
    maxMs: 15_000,
  });
  out(`killed ${oldName}: kill -9 of its speaker${ctx.containers ? " (the container's process)" : ""}, then ip link set eth0 down`);
  out(`first request served through ${m.newNode} ${m.failoverMs} ms after the kill (${m.failures} of ${m.attempts} probes failed meanwhile)`);
  if (m.newNode !== expected) throw new Error(`after ${oldName} died, ${m.newNode} served the VIP, but the election picks ${expected}`);
  ctx.failoverMs = m.failoverMs;
  ctx.newNode = m.newNode;

  const restoredAt = Date.now();
  await cluster.topo.linkUp(old);
  await cluster.startSpeaker(old);
  await eventually(async () => {
    const o = await arpOwner(cluster, vip, 2_000).catch(() => undefined);
    return o?.node === oldName ? o : undefined;
  }, { ms: 15_000, what: `${oldName} alone to answer ARP for ${vip} again after its restart`, everyMs: 100 });
  out(`restored ${oldName} (link up, speaker restarted); it announces ${vip} again after ${Date.now() - restoredAt} ms`);
  checkRbac(ctx);
  return `failover ${oldName} -> ${m.newNode} in ${m.failoverMs} ms`;
}

const kubeProxyConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  namespace: kube-system
  name: kube-proxy
data:
  config.conf: |
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    kind: KubeProxyConfiguration
    mode: ipvs
    ipvs:
      strictARP: false
`;

/** `kubectl get events`: its header and the lines matching `reasons`, each cut to 150 columns. */
async function eventLines(ctx: LabContext, out: StepOutput, reasons: RegExp): Promise<string> {
  const lines = (await showKubectl(ctx, ["get", "events"], out, { quiet: true })).trimEnd().split("\n");
  const cut = (l: string) => (l.length > 150 ? `${l.slice(0, 149)}…` : l);
  return [lines[0], ...lines.slice(1).filter((l) => reasons.test(l))].map(cut).join("\n");
}

/** Whether every reason in `reasons` has an Event in default about the given objects. */
async function hasEvents(cluster: LabCluster, want: { kind: string; name: string; reason: string }[]): Promise<true | undefined> {
  const events = (await cluster.core.listNamespacedEvent({ namespace: "default" })).items;
  const all = want.every((w) => events.some((e) => e.involvedObject.kind === w.kind && e.involvedObject.name === w.name && e.reason === w.reason));
  return all ? true : undefined;
}

/**
 * Step 6: kube-proxy in IPVS mode without strictARP (its ConfigMap, `kube-ipvs0` holding the VIP on every node,
 * default sysctls) makes every kernel answer ARP for the VIP: the speakers report StrictARPDisabled and ARPConflict.
 * Setting arp_ignore=1 and arp_announce=2 clears both (StrictARPEnabled, strict_arp_ok 1, conflict gauge 0).
 */
export async function showStrictArp(ctx: LabContext, out: StepOutput): Promise<string> {
  const cluster = clusterOf(ctx);
  const vip = vipOf(ctx);
  if (!ctx.answeringNode) throw new Error("no answering node known (step 4 did not complete)");
  const owner = nodeNamed(cluster, ctx.answeringNode);
  const nodes = cluster.topo.nodes;

  const existing = await cluster.core.readNamespacedConfigMap({ name: "kube-proxy", namespace: "kube-system" }).catch(() => undefined);
  if (existing) out("kube-system/kube-proxy exists; keeping it");
  else {
    out(kubeProxyConfigMap.trimEnd());
    await showKubectl(ctx, ["apply", "-f", "-"], out, { stdin: kubeProxyConfigMap });
  }
  for (const node of nodes) {
    await mustRunIn(node.ns, ["ip", "link", "add", "kube-ipvs0", "type", "ifb"]);
    await mustRunIn(node.ns, ["ip", "addr", "add", `${vip}/32`, "dev", "kube-ipvs0"]);
  }
  const ignore = (await mustRunIn(owner.ns, ["sysctl", "-n", "net.ipv4.conf.all.arp_ignore"])).trim();
  out(`on every node, as kube-proxy in IPVS mode does: ip link add kube-ipvs0 type ifb; ip addr add ${vip}/32 dev kube-ipvs0`);
  out(`sysctls left at their defaults (net.ipv4.conf.all.arp_ignore=${ignore}): every node's kernel now answers ARP for ${vip}`);
  // The owner's own conflict gauge too, not only an ARPConflict Event: an Event from an earlier step (a move) would
  // satisfy the wait before this owner, still in its post-gain grace period, has seen the kernels answer.
  await eventually(
    async () =>
      (await hasEvents(cluster, [...nodes.map((n) => ({ kind: "Node", name: n.name, reason: "StrictARPDisabled" })), { kind: "Service", name: "nginx", reason: "ARPConflict" }])) &&
      metricValue(await speakerMetrics(owner), `baremetal_lb_arp_conflict{ip="${vip}"}`) === 1
        ? true
        : undefined,
    { ms: 15_000, what: `StrictARPDisabled on every Node, ARPConflict on svc/nginx and baremetal_lb_arp_conflict{ip="${vip}"} 1 on ${owner.name}`, everyMs: 100 },
  );
  out("$ kubectl get events | grep -E 'StrictARPDisabled|ARPConflict'   # lines cut to 150 columns");
  out(await eventLines(ctx, out, /StrictARPDisabled|ARPConflict/));
  const warning = (await cluster.core.listNamespacedEvent({ namespace: "default" })).items.find(
    (e) => e.reason === "StrictARPDisabled" && e.involvedObject.name === owner.name,
  );
  out(`StrictARPDisabled on node/${owner.name} in full: ${warning?.message ?? "(none)"}`);
  const before = await speakerMetrics(owner);
  out(`metrics of ${owner.name}: baremetal_lb_strict_arp_ok ${metricValue(before, `baremetal_lb_strict_arp_ok{node="${owner.name}"}`)}, baremetal_lb_arp_conflict{ip="${vip}"} ${metricValue(before, `baremetal_lb_arp_conflict{ip="${vip}"}`)}`);

  for (const node of nodes) {
    await mustRunIn(node.ns, ["sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"]);
  }
  out("fix on every node: sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2");
  await eventually(() => hasEvents(cluster, nodes.map((n) => ({ kind: "Node", name: n.name, reason: "StrictARPEnabled" }))), { ms: 15_000, what: "StrictARPEnabled on every Node", everyMs: 100 });
  const cleared = await eventually(async () => {
    const texts = await Promise.all(nodes.map((n) => speakerMetrics(n)));
    const strictOk = nodes.every((n, i) => metricValue(texts[i], `baremetal_lb_strict_arp_ok{node="${n.name}"}`) === 1);
    const ownerText = texts[nodes.indexOf(owner)];
    return strictOk && metricValue(ownerText, `baremetal_lb_arp_conflict{ip="${vip}"}`) === 0 ? ownerText : undefined;
  }, { ms: 15_000, what: `baremetal_lb_strict_arp_ok 1 on every node and baremetal_lb_arp_conflict{ip="${vip}"} 0 on ${owner.name}`, everyMs: 100 });
  out("$ kubectl get events | grep StrictARPEnabled");
  out(await eventLines(ctx, out, /StrictARPEnabled/));
  out(`$ ip netns exec ${owner.ns} curl -s http://${owner.ipv4}:7473/metrics | grep -E 'strict_arp_ok|arp_conflict\\{'`);
  out(cleared.split("\n").filter((l) => /^baremetal_lb_(strict_arp_ok|arp_conflict)\{/.test(l)).join("\n"));
  const after = await arpOwner(cluster, vip, 5_000);
  if (after.node !== owner.name) throw new Error(`after the fix ${after.node} answers ARP for ${vip}, expected ${owner.name} alone`);
  out(`arping ${vip} again: one MAC, ${after.mac} (${after.node})`);
  out(`RBAC over the whole run: ${checkRbac(ctx)} requests of the controller and the speakers allowed, none refused`);
  return "StrictARPDisabled + ARPConflict raised, then cleared by arp_ignore=1";
}
