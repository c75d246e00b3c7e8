/**
 * The lab's last step: tear everything down and prove nothing is left, or (with `--keep`) the commands to explore
 * the running lab.
 *
 * @example
 * await runner.run("tear down", (out) => tearDown(ctx, out), { always: true });
 */
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { run } from "../netns/run.ts";
import { labLabel } from "./container-runner.ts";
import type { LabContext } from "./lab-context.ts";
import type { StepOutput } from "./step-runner.ts";

/** The network namespaces whose names start with `<prefix>-`. */
export async function labNamespaces(prefix: string): Promise<string[]> {
  const r = await run(["ip", "netns", "list"]);
  return r.stdout
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter((ns) => ns.startsWith(`${prefix}-`));
}

/** Stops every process, deletes the namespaces and the host link, removes the temp files; fails if a namespace remains. */
export async function tearDown(ctx: LabContext, out: StepOutput): Promise<string> {
  const cluster = ctx.cluster;
  ctx.cluster = undefined;
  if (cluster) {
    await cluster.stop();
    // The simulator writes its admin kubeconfig into a fresh temp directory of its own.
    const simDir = dirname(cluster.kubeconfigPath);
    if (simDir.startsWith(join(tmpdir(), "kube-sim-"))) await rm(simDir, { recursive: true, force: true });
  }
  if (ctx.workDir) await rm(ctx.workDir, { recursive: true, force: true });
  ctx.workDir = undefined;
  if (ctx.containers) {
    await ctx.containers.removeAll();
    const containers = await ctx.containers.names();
    if (containers.length > 0) throw new Error(`containers left behind: ${containers.join(", ")}; remove them with: podman rm -f NAME`);
  }
  const left = await labNamespaces(ctx.prefix);
  if (left.length > 0) throw new Error(`namespaces left behind: ${left.join(", ")}; delete them with: ip netns del NAME`);
  out(`stopped the controller, speakers${ctx.containers ? " (containers removed)" : ""}, backends and the API simulator; deleted every ${ctx.prefix}-* namespace`);
  return cluster ? "nothing left behind" : "nothing was started";
}

/** What to type to look around a lab kept up with `--keep`. */
export function exploreCommands(ctx: LabContext): string {
  const cluster = ctx.cluster;
  if (!cluster) return "the lab is not running";
  const { topo } = cluster;
  const vip = ctx.vip ?? "<VIP>";
  const lines = [
    "The lab stays up until you press Ctrl-C (this process runs the API simulator). Explore it from another shell:",
    `  sudo ip netns exec ${topo.client.ns} curl http://${vip}/`,
    `  sudo ip netns exec ${topo.client.ns} arping -c 3 ${vip}`,
    `  kubectl --kubeconfig ${cluster.kubeconfigPath} get svc -o wide`,
    `  kubectl --kubeconfig ${cluster.kubeconfigPath} describe svc nginx`,
    `  kubectl --kubeconfig ${cluster.kubeconfigPath} get events`,
    ...(ctx.crd ? [`  kubectl --kubeconfig ${cluster.kubeconfigPath} get ipaddresspools,l2advertisements,servicel2statuses -A -o wide`] : []),
    "Metrics (from inside the lab's LAN):",
    `  sudo ip netns exec ${topo.client.ns} curl http://${topo.infra.ipv4}:7472/metrics   # controller`,
    ...topo.nodes.map((n) => `  sudo ip netns exec ${topo.client.ns} curl http://${n.ipv4}:7473/metrics   # speaker on ${n.name}`),
    "Fail a node by hand:",
    `  sudo ip netns exec ${topo.nodes[0].ns} ip link set eth0 down   # and back: ... ip link set eth0 up`,
    ...(ctx.containers
      ? [
          "The containers:",
          `  sudo podman ps --filter label=${labLabel}=${ctx.prefix}`,
          `  sudo podman inspect ${ctx.containers.containerName("speaker", topo.nodes[0].name)} --format '{{.Config.User}} {{.EffectiveCaps}} {{.HostConfig.ReadonlyRootfs}}'`,
        ]
      : []),
  ];
  return lines.join("\n");
}
