/**
 * The lab's `--crd` parts: the pool as MetalLB (>= 0.13) custom resources instead of the ConfigMap, what
 * `kubectl get ipaddresspools,servicel2statuses -A` shows, and a move of the announcer by the L2Advertisement's
 * `nodeSelectors`.
 *
 * @example
 * await applyPoolCustomResources(ctx, out); // in step 3, instead of the ConfigMap
 * await runner.run("nodeSelectors: move the announcer", (out) => moveByNodeSelector(ctx, out));
 */
import { CustomObjectsApi } from "@kubernetes/client-node";
import type { LabCluster } from "./lab-cluster.ts";
import { rankNodes } from "../../speaker/election/election.ts";
import { arpOwner, vipOf } from "./demo-steps.ts";
import { runIn } from "../netns/run.ts";
import { eventually } from "../support/eventually.ts";
import { checkRbac, clusterOf, curlNode, forgetNeighbour, nodeNamed, showKubectl, type LabContext } from "./lab-context.ts";
import type { StepOutput } from "./step-runner.ts";

/** The lab's pool as an IPAddressPool, announced by an L2Advertisement that names it: the ConfigMap's content. */
export const labPoolCustomResources = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  namespace: metallb-system
  name: default
spec:
  addresses:
  - 192.168.126.40-192.168.126.49
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  namespace: metallb-system
  name: default
spec:
  ipAddressPools:
  - default
`;

const crds = ["ipaddresspools.metallb.io", "l2advertisements.metallb.io", "servicel2statuses.metallb.io"];

/** The label the move puts on a node, and the L2Advertisement's nodeSelectors matches (as in MetalLB's docs). */
const announcerLabel = "node-role.kubernetes.io/edge";

/**
 * `kubectl wait` for MetalLB's CRDs (applied in step 2) to be established, then apply the IPAddressPool and the
 * L2Advertisement: kubectl maps a kind only once its CRD is served, so the CRs come in a run of their own.
 */
export async function applyPoolCustomResources(ctx: LabContext, out: StepOutput): Promise<void> {
  await showKubectl(ctx, ["wait", "--for=condition=Established", ...crds.map((c) => `crd/${c}`), "--timeout=30s"], out, { timeoutMs: 40_000 });
  out(labPoolCustomResources.trimEnd());
  await showKubectl(ctx, ["apply", "-f", "-"], out, { stdin: labPoolCustomResources });
}

interface ObjectView {
  metadata?: { name?: string; labels?: Record<string, string> };
  status?: Record<string, unknown>;
}

/** The ServiceL2Status objects about default/nginx (by label or status), with the node each names. */
async function nginxL2Statuses(cluster: LabCluster): Promise<{ name: string; node: string | undefined }[]> {
  const custom = cluster.sim.client.makeApiClient(CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({ group: "metallb.io", version: "v1beta1", namespace: "metallb-system", plural: "servicel2statuses" })) as {
    items: ObjectView[];
  };
  return list.items
    .filter((o) => {
      const name = o.metadata?.labels?.["metallb.io/service-name"] ?? o.status?.serviceName;
      const namespace = o.metadata?.labels?.["metallb.io/service-namespace"] ?? o.status?.serviceNamespace;
      return name === "nginx" && namespace === "default";
    })
    .map((o) => ({ name: o.metadata?.name ?? "?", node: typeof o.status?.node === "string" ? o.status.node : undefined }));
}

/** `status.assignedIPv4` of IPAddressPool default. */
async function assignedIPv4(cluster: LabCluster): Promise<number | undefined> {
  const custom = cluster.sim.client.makeApiClient(CustomObjectsApi);
  const pool = (await custom.getNamespacedCustomObject({ group: "metallb.io", version: "v1beta1", namespace: "metallb-system", plural: "ipaddresspools", name: "default" })) as ObjectView;
  const n = pool.status?.assignedIPv4;
  return typeof n === "number" ? n : undefined;
}

/**
 * Waits until exactly one ServiceL2Status is about svc/nginx and names `node`, and IPAddressPool default counts
 * the VIP (assignedIPv4 1); then shows `kubectl get ipaddresspools,servicel2statuses -A -o wide`.
 */
export async function showCrdStatus(ctx: LabContext, out: StepOutput, node: string): Promise<void> {
  const cluster = clusterOf(ctx);
  let last = "";
  await eventually(
    async () => {
      const statuses = await nginxL2Statuses(cluster);
      const assigned = await assignedIPv4(cluster);
      last = `ServiceL2Statuses ${JSON.stringify(statuses)}, assignedIPv4 ${assigned ?? "unset"}`;
      return statuses.length === 1 && statuses[0].node === node && assigned === 1 ? true : undefined;
    },
    { ms: 10_000, what: `one ServiceL2Status for default/nginx naming ${node} and IPAddressPool default counting 1 assigned IPv4`, everyMs: 100 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last seen: ${last}`);
  });
  // -o wide: the pool's Ready reason and usage counts are printer columns of priority 10, shown only when wide.
  await showKubectl(ctx, ["get", "ipaddresspools,servicel2statuses", "-A", "-o", "wide"], out);
  out(`one ServiceL2Status for default/nginx, status.node ${node}; IPAddressPool default counts 1 assigned IPv4`);
}

/** `kubectl -n metallb-system patch l2advertisement default --type=merge -p PATCH`. */
async function patchAdvertisement(ctx: LabContext, out: StepOutput, spec: Record<string, unknown>): Promise<void> {
  await showKubectl(ctx, ["-n", "metallb-system", "patch", "l2advertisement", "default", "--type=merge", "-p", JSON.stringify({ spec })], out);
}

/**
 * With `--crd`: label the node the election ranks last, point the L2Advertisement's `nodeSelectors` at the label,
 * and show the VIP move there (arping: that node's MAC alone; a new client's curl is served by it; the
 * ServiceL2Status names it). Then drop the `nodeSelectors` again: the VIP returns to the elected node, so the
 * failover and strictARP steps run as without `--crd`.
 */
export async function moveByNodeSelector(ctx: LabContext, out: StepOutput): Promise<string> {
  const cluster = clusterOf(ctx);
  const vip = vipOf(ctx);
  if (!ctx.answeringNode) throw new Error("no answering node known (step 4 did not complete)");
  const from = ctx.answeringNode;
  const ranked = rankNodes(ctx.nodeNames, vip);
  const target = nodeNamed(cluster, ranked[ranked.length - 1]);
  out(`${vip} is announced by ${from}; the election ranks ${target.name} last, so only the selector can move it there`);
  await showKubectl(ctx, ["label", "node", target.name, `${announcerLabel}=`], out);
  const movedAt = Date.now();
  await patchAdvertisement(ctx, out, { nodeSelectors: [{ matchLabels: { [announcerLabel]: "" } }] });
  await eventually(async () => {
    const owner = await arpOwner(cluster, vip, 2_000).catch(() => undefined);
    return owner?.node === target.name ? owner : undefined;
  }, { ms: 10_000, what: `${target.name} alone to answer ARP for ${vip}`, everyMs: 100 });
  const moveMs = Date.now() - movedAt;
  const client = cluster.topo.client.ns;
  const shown = await runIn(client, ["arping", "-i", "eth0", "-c", "3", "-W", "0.2", vip], { timeoutMs: 10_000 });
  out(`$ ip netns exec ${client} arping -i eth0 -c 3 ${vip}`);
  out(shown.stdout.trimEnd());
  const macs = [...new Set([...shown.stdout.matchAll(/from ([0-9a-f:]{17})/gi)].map((m) => m[1].toLowerCase()))];
  if (macs.length !== 1 || macs[0] !== target.mac) throw new Error(`after the move ${macs.join(", ") || "no MAC"} answered ARP for ${vip}; expected ${target.mac} (${target.name}) alone`);
  out(`one MAC answers: ${target.mac} = ${target.name}, ${moveMs} ms after the patch; ${from} stopped answering`);
  const served = await eventually(async () => {
    await forgetNeighbour(cluster, vip);
    return curlNode(cluster, vip);
  }, { ms: 5_000, what: `a new client's curl http://${vip}/ after the move`, everyMs: 100 });
  out(`$ ip netns exec ${client} ip neigh del ${vip} dev eth0; ip netns exec ${client} curl http://${vip}/`);
  out(`served by ${served}`);
  if (served !== target.name) throw new Error(`after the move curl was served by ${served}, but ${target.name} answers ARP for ${vip}`);
  await showCrdStatus(ctx, out, target.name);
  ctx.selectedNode = target.name;

  await patchAdvertisement(ctx, out, { nodeSelectors: null });
  const back = await eventually(async () => {
    const owner = await arpOwner(cluster, vip, 2_000).catch(() => undefined);
    return owner?.node === from ? owner : undefined;
  }, { ms: 10_000, what: `${from} alone to answer ARP for ${vip} again once no nodeSelectors restrict it`, everyMs: 100 });
  out(`without nodeSelectors every node may announce again: ${back.mac} = ${from}, the elected node, answers ARP for ${vip}`);
  checkRbac(ctx);
  return `nodeSelectors moved ${vip} ${from} -> ${target.name} in ${moveMs} ms; back to ${from} without them`;
}
