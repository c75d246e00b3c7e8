import { describe, expect, it } from "vitest";
import { containerRunArgs, kubeconfigMountPath, lineTime } from "./container-runner.ts";
import { manifestWorkloads } from "./manifest-security.ts";

const manifests = new URL("../../manifests", import.meta.url).pathname;

describe("containerRunArgs", () => {
  it("runs the speaker as the DaemonSet says, in its node's namespace, with the lab's flags after the manifest's", async () => {
    const { speaker } = await manifestWorkloads(manifests);
    const { args, kubeconfig } = containerRunArgs({
      name: "blbimg-speaker-node-1",
      prefix: "blbimg",
      image: "ghcr.io/baremetal-lb/baremetal-lb:0.1.0",
      imageUser: "65532:65532",
      spec: speaker,
      netns: "blbimg-node-1",
      pod: {
        "metadata.name": "speaker-abcde",
        "metadata.namespace": "metallb-system",
        "metadata.uid": "u-1",
        "spec.nodeName": "node-1",
        "spec.serviceAccountName": "speaker",
        "status.hostIP": "192.168.126.11",
        "status.podIP": "192.168.126.11",
      },
      labArgs: ["--kubeconfig", "/tmp/lab/speaker.kubeconfig", "--node-name", "node-1"],
    });
    expect(kubeconfig).toBe("/tmp/lab/speaker.kubeconfig");
    expect(args).toEqual([
      "run", "--rm", "--pull=never", "--name", "blbimg-speaker-node-1", "--label", "io.baremetal-lb.lab=blbimg",
      "--network", "ns:/run/netns/blbimg-node-1", "--hostname", "node-1",
      "--user", "0:0", "--read-only", "--read-only-tmpfs=false", "--cap-drop", "ALL", "--cap-add", "NET_RAW", "--security-opt", "no-new-privileges",
      "--env", "NODE_OPTIONS=--max-semi-space-size=16 --expose-gc",
      "--env", "NODE_NAME=node-1", "--env", "HOST_IP=192.168.126.11", "--env", "POD_NAME=speaker-abcde", "--env", "POD_UID=u-1",
      "--volume", `/tmp/lab/speaker.kubeconfig:${kubeconfigMountPath}:ro`,
      "--entrypoint", '["node","speaker/main.ts"]',
      "ghcr.io/baremetal-lb/baremetal-lb:0.1.0",
      "--namespace=metallb-system", "--config-map=config", "--metrics-port=7473", "--metrics-host=192.168.126.11", "--heartbeat-port=7947", "--log-level=info",
      "--kubeconfig", kubeconfigMountPath, "--node-name", "node-1",
    ]);
  });
});

describe("lineTime", () => {
  it("reads pino's ISO time, and nothing from other lines", () => {
    expect(lineTime('{"level":30,"time":"2026-11-29T20:12:24.823Z","msg":"speaker ready"}')).toBe(Date.parse("2026-11-29T20:12:24.823Z"));
    expect(lineTime("speaker: oops")).toBeUndefined();
  });
});
