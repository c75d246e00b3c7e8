import type { CoreV1Api } from "@kubernetes/client-node";
import type { TopologyNode } from "../netns/topology.ts";

/**
 * Creates a Pod on `node` and marks it Running and Ready with the node's addresses, as a kubelet
 * would for a hostNetwork-like stand-in backend; the simulator's EndpointSlice controller then
 * lists it for every Service whose selector matches `labels`.
 *
 * @example
 * await createReadyPod(core, { name: "web-node-1", labels: { app: "web" }, node, port: 8080 });
 */
export async function createReadyPod(
  core: CoreV1Api,
  opts: { name: string; labels: Record<string, string>; node: TopologyNode; port: number; container?: string; namespace?: string },
): Promise<void> {
  const namespace = opts.namespace ?? "default";
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: opts.name, labels: opts.labels },
      spec: {
        nodeName: opts.node.name,
        containers: [{ name: opts.container ?? "web", image: "nginx", ports: [{ containerPort: opts.port }] }],
      },
    },
  });
  await core.replaceNamespacedPodStatus({
    name: opts.name,
    namespace,
    body: {
      ...pod,
      status: {
        phase: "Running",
        podIP: opts.node.ipv4,
        podIPs: [{ ip: opts.node.ipv4 }, { ip: opts.node.ipv6 }],
        conditions: [{ type: "Ready", status: "True" }],
      },
    },
  });
}
