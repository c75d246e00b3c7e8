import { describe, expect, it } from "vitest";
import { expandArgs, manifestWorkloads, mergeSecurity, podEnv, podmanSecurityArgs, type ContainerSecurity, type PodFields } from "./manifest-security.ts";

const manifests = new URL("../../manifests", import.meta.url).pathname;
const none: ContainerSecurity = { runAsNonRoot: false, readOnlyRootFilesystem: false, capDrop: [], capAdd: [], noNewPrivileges: false, privileged: false, supplementalGroups: [] };

describe("the manifests' containers as podman flags", () => {
  it("runs the controller as 65532 with a read-only root, every capability dropped and no privilege escalation", async () => {
    const { controller } = await manifestWorkloads(manifests);
    expect(controller.command).toEqual(["node", "controller/main.ts"]);
    expect(controller.hostNetwork).toBe(false);
    expect(podmanSecurityArgs(controller.security, "65532:65532")).toEqual([
      "--user", "65532:65532", "--read-only", "--read-only-tmpfs=false", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
    ]);
  });

  it("runs the speaker as root with only NET_RAW, on the host network", async () => {
    const { speaker } = await manifestWorkloads(manifests);
    expect(speaker.command).toEqual(["node", "speaker/main.ts"]);
    expect(speaker.hostNetwork).toBe(true);
    expect(podmanSecurityArgs(speaker.security, "65532:65532")).toEqual([
      "--user", "0:0", "--read-only", "--read-only-tmpfs=false", "--cap-drop", "ALL", "--cap-add", "NET_RAW", "--security-opt", "no-new-privileges",
    ]);
    expect(speaker.env.map((e) => ("fieldPath" in e ? `${e.name}<-${e.fieldPath}` : e.name))).toEqual([
      "NODE_OPTIONS", "NODE_NAME<-spec.nodeName", "HOST_IP<-status.hostIP", "POD_NAME<-metadata.name", "POD_UID<-metadata.uid",
    ]);
    expect(speaker.env.find((e) => e.name === "NODE_OPTIONS")).toMatchObject({ value: "--max-semi-space-size=16 --expose-gc" });
  });
});

describe("mergeSecurity", () => {
  it.each([
    ["the container's runAsUser wins over the pod's", { runAsUser: 1 }, { runAsUser: 2 }, { runAsUser: 2 }],
    ["the pod's runAsNonRoot applies to the container", { runAsNonRoot: true }, {}, { runAsNonRoot: true }],
    ["allowPrivilegeEscalation: false means no-new-privileges", {}, { allowPrivilegeEscalation: false }, { noNewPrivileges: true }],
    ["allowPrivilegeEscalation: true does not", {}, { allowPrivilegeEscalation: true }, { noNewPrivileges: false }],
    ["the container's seccomp profile wins", { seccompProfile: { type: "RuntimeDefault" } }, { seccompProfile: { type: "Unconfined" } }, { seccomp: "Unconfined" }],
  ])("%s", (_name, pod, container, expected) => {
    expect(mergeSecurity("w", pod, container)).toMatchObject(expected);
  });

  it("refuses a field it does not map, naming it", () => {
    expect(() => mergeSecurity("40-speaker.yaml: DaemonSet/speaker", {}, { procMount: "Unmasked" })).toThrow(
      "40-speaker.yaml: DaemonSet/speaker (container): securityContext.procMount is not mapped to podman; map it in tools/lab/manifest-security.ts",
    );
    expect(() => mergeSecurity("w", { fsGroup: 1 }, {})).toThrow("w (pod): securityContext.fsGroup is not mapped to podman");
    expect(() => mergeSecurity("w", { seccompProfile: { type: "Localhost" } }, {})).toThrow("seccompProfile type Localhost is not mapped to podman");
  });
});

describe("podmanSecurityArgs", () => {
  it("refuses runAsNonRoot with UID 0, as the kubelet does", () => {
    expect(() => podmanSecurityArgs({ ...none, runAsNonRoot: true, runAsUser: 0 })).toThrow("runAsNonRoot: the container would run as root (UID 0)");
  });

  it("checks runAsNonRoot against the image's user when the manifest sets no runAsUser", () => {
    expect(podmanSecurityArgs({ ...none, runAsNonRoot: true }, "65532:65532")).toEqual([]);
    expect(() => podmanSecurityArgs({ ...none, runAsNonRoot: true }, "")).toThrow('runAsNonRoot: the image\'s user "" is not numeric');
    expect(() => podmanSecurityArgs({ ...none, runAsNonRoot: true }, "0")).toThrow("would run as root");
  });

  it("maps the rest", () => {
    expect(podmanSecurityArgs({ ...none, runAsUser: 7, privileged: true, seccomp: "Unconfined", supplementalGroups: [5] })).toEqual([
      "--user", "7", "--privileged", "--security-opt", "seccomp=unconfined", "--group-add", "5",
    ]);
  });
});

describe("podEnv and expandArgs", () => {
  const pod: PodFields = {
    "metadata.name": "speaker-abcde",
    "metadata.namespace": "metallb-system",
    "metadata.uid": "u-1",
    "spec.nodeName": "node-1",
    "spec.serviceAccountName": "speaker",
    "status.hostIP": "192.168.126.11",
    "status.podIP": "192.168.126.11",
  };

  it("fills downward-API fields from the pod", () => {
    expect(podEnv([{ name: "A", value: "x" }, { name: "NODE_NAME", fieldPath: "spec.nodeName" }], pod)).toEqual(["A=x", "NODE_NAME=node-1"]);
    expect(() => podEnv([{ name: "L", fieldPath: "metadata.labels" }], pod)).toThrow("env L: fieldRef metadata.labels is not filled in by the lab");
  });

  it("expands $(VAR) in args as the kubelet does", () => {
    expect(expandArgs(["--metrics-host=$(HOST_IP)", "$(UNKNOWN)", "$$(HOST_IP)"], ["HOST_IP=192.168.126.11"])).toEqual([
      "--metrics-host=192.168.126.11",
      "$(UNKNOWN)",
      "$(HOST_IP)",
    ]);
  });
});
