import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigMap, Namespace, ServiceAccount } from "kubernetes-models/v1";
import { DaemonSet, Deployment } from "kubernetes-models/apps/v1";
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1";
import type { V1Container, V1DaemonSet, V1Deployment, V1PodSpec, V1Probe } from "@kubernetes/client-node";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config/parse-config.ts";
import { installFiles, loadManifests, manifestsDir, type ManifestObject } from "../../tools/lab/load-manifests.ts";
import { unknownFields } from "./unknown-fields.ts";

/** kubernetes-models' schema validator per apiVersion/kind (throws on a violation). */
const validators: Record<string, (obj: ManifestObject) => void> = {
  "v1/Namespace": (o) => new Namespace(o as never).validate(),
  "v1/ServiceAccount": (o) => new ServiceAccount(o as never).validate(),
  "v1/ConfigMap": (o) => new ConfigMap(o as never).validate(),
  "apps/v1/Deployment": (o) => new Deployment(o as never).validate(),
  "apps/v1/DaemonSet": (o) => new DaemonSet(o as never).validate(),
  "rbac.authorization.k8s.io/v1/ClusterRole": (o) => new ClusterRole(o as never).validate(),
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": (o) => new ClusterRoleBinding(o as never).validate(),
  "rbac.authorization.k8s.io/v1/Role": (o) => new Role(o as never).validate(),
  "rbac.authorization.k8s.io/v1/RoleBinding": (o) => new RoleBinding(o as never).validate(),
  "apiextensions.k8s.io/v1/CustomResourceDefinition": (o) => new CustomResourceDefinition(o as never).validate(),
};

const examplePath = join(manifestsDir, "examples/config.yaml");
const image = "ghcr.io/baremetal-lb/baremetal-lb";

function schemaProblems(obj: ManifestObject): string[] {
  const id = `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata.name}`;
  const validate = validators[`${obj.apiVersion}/${obj.kind}`];
  if (!validate) return [`${id}: no schema for ${obj.apiVersion} ${obj.kind}; add its kubernetes-models class`];
  const problems: string[] = [];
  try {
    validate(obj);
  } catch (err) {
    problems.push(`${id}: ${(err as Error).message}`);
  }
  return [...problems, ...unknownFields(obj, `V1${obj.kind}`).map((p) => `${id}: ${p}`)];
}

function onlyContainer(spec: V1PodSpec | undefined): V1Container {
  expect(spec?.containers).toHaveLength(1);
  return spec!.containers[0];
}

/** The container port a probe's httpGet targets (by name or number). */
function probePort(container: V1Container, probe: V1Probe | undefined): number | undefined {
  const port = probe?.httpGet?.port;
  if (typeof port === "number") return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** The value of `--flag=value` in args. */
function flag(container: V1Container, name: string): string | undefined {
  const prefix = `--${name}=`;
  return container.args?.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

describe("install manifests", () => {
  let objects: ManifestObject[];
  let controller: V1Deployment;
  let speaker: V1DaemonSet;
  let version: string;

  beforeAll(async () => {
    objects = await loadManifests(installFiles());
    controller = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "controller") as V1Deployment;
    speaker = objects.find((o) => o.kind === "DaemonSet" && o.metadata.name === "speaker") as V1DaemonSet;
    version = (JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  });

  it("installs the namespace, service accounts, RBAC, the controller Deployment and the speaker DaemonSet", () => {
    expect(objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`)).toEqual([
      "Namespace /metallb-system",
      "CustomResourceDefinition /ipaddresspools.metallb.io",
      "CustomResourceDefinition /l2advertisements.metallb.io",
      "CustomResourceDefinition /servicel2statuses.metallb.io",
      "ServiceAccount metallb-system/controller",
      "ServiceAccount metallb-system/speaker",
      "ClusterRole /baremetal-lb:controller",
      "ClusterRoleBinding /baremetal-lb:controller",
      "Role metallb-system/baremetal-lb-controller",
      "RoleBinding metallb-system/baremetal-lb-controller",
      "ClusterRole /baremetal-lb:speaker",
      "ClusterRoleBinding /baremetal-lb:speaker",
      "Role metallb-system/baremetal-lb-speaker",
      "RoleBinding metallb-system/baremetal-lb-speaker",
      "Role kube-system/baremetal-lb-speaker-kube-proxy",
      "RoleBinding kube-system/baremetal-lb-speaker-kube-proxy",
      "Deployment metallb-system/controller",
      "DaemonSet metallb-system/speaker",
    ]);
  });

  it("validates every object, and the example, against the Kubernetes schemas with no unknown field", async () => {
    const all = [...objects, ...(await loadManifests([examplePath]))];
    expect(all.flatMap(schemaProblems)).toEqual([]);
  });

  it("catches a misspelt field and a wrong type (the schema check is not vacuous)", () => {
    const broken = structuredClone(controller) as unknown as ManifestObject;
    const container = (broken.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0];
    container.securityContext = { readOnlyRootFileSystem: true };
    container.ports = [{ containerPort: "7472" }];
    const problems = schemaProblems(broken);
    expect(problems.some((p) => p.includes('unknown field "readOnlyRootFileSystem" (V1SecurityContext)'))).toBe(true);
    expect(problems.some((p) => p.includes("/spec/template/spec/containers/0/ports/0/containerPort must be integer"))).toBe(true);
  });

  it("creates the namespace first, so `kubectl apply -f manifests/` never writes into a missing namespace", () => {
    expect(objects[0]).toMatchObject({ kind: "Namespace", metadata: { name: "metallb-system" } });
  });

  it("labels the namespace to admit the speaker's hostNetwork, root and NET_RAW under Pod Security", () => {
    expect(objects[0].metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "privileged",
      "pod-security.kubernetes.io/audit": "privileged",
      "pod-security.kubernetes.io/warn": "privileged",
    });
  });

  it("uses one image everywhere: the package version, and the same in Kustomization's images", async () => {
    const images = [controller, speaker].flatMap((w) => [...(w.spec!.template.spec!.containers ?? []), ...(w.spec!.template.spec!.initContainers ?? [])].map((c) => c.image));
    expect(new Set(images)).toEqual(new Set([`${image}:${version}`]));
    const kustomization = parse(await readFile(join(manifestsDir, "Kustomization"), "utf8")) as { images: { name: string; newName?: string; newTag?: string }[] };
    expect(kustomization.images).toEqual([{ name: image, newName: image, newTag: version }]);
  });

  it("lists in Kustomization exactly the files `kubectl apply -f manifests/` applies", async () => {
    const kustomization = parse(await readFile(join(manifestsDir, "Kustomization"), "utf8")) as { resources: string[]; namespace?: string };
    expect(kustomization.resources.map((r) => join(manifestsDir, r))).toEqual(installFiles());
    expect(kustomization.namespace).toBeUndefined();
  });

  it("keeps the example ConfigMap out of the install set, and it parses as a valid config", async () => {
    expect(installFiles()).not.toContain(examplePath);
    expect(objects.some((o) => o.kind === "ConfigMap")).toBe(false);
    const [example] = await loadManifests([examplePath]);
    expect(example.metadata).toMatchObject({ namespace: "metallb-system", name: "config" });
    const parsed = parseConfig((example.data as { config: string }).config);
    expect(parsed.ok && parsed.config.pools.map((p) => p.name)).toEqual(["default", "reserved"]);
  });

  describe("controller Deployment", () => {
    it("runs one replica as the controller ServiceAccount in metallb-system", () => {
      expect(controller.spec!.replicas).toBe(1);
      expect(controller.spec!.template.spec!.serviceAccountName).toBe("controller");
      const c = onlyContainer(controller.spec!.template.spec);
      expect(c.command).toEqual(["node", "controller/main.ts"]);
      expect(flag(c, "namespace")).toBe("metallb-system");
    });

    it("runs non-root with a read-only root filesystem, no capabilities, no privilege escalation and RuntimeDefault seccomp", () => {
      const pod = controller.spec!.template.spec!;
      const c = onlyContainer(pod);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      expect(pod.securityContext!.runAsUser).toBeGreaterThan(0);
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(pod.hostNetwork).toBeFalsy();
    });

    it("probes /healthz and /readyz on the metrics port 7472 and requests resources", () => {
      const c = onlyContainer(controller.spec!.template.spec);
      expect(c.livenessProbe?.httpGet?.path).toBe("/healthz");
      expect(c.readinessProbe?.httpGet?.path).toBe("/readyz");
      expect(probePort(c, c.livenessProbe)).toBe(7472);
      expect(probePort(c, c.readinessProbe)).toBe(7472);
      expect(flag(c, "metrics-port")).toBe("7472");
      expect(c.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    });

    it("passes the pod name from the downward API", () => {
      const c = onlyContainer(controller.spec!.template.spec);
      expect(c.env).toContainEqual({ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } });
    });
  });

  describe("speaker DaemonSet", () => {
    it("runs on the host network as the speaker ServiceAccount", () => {
      const pod = speaker.spec!.template.spec!;
      expect(pod.hostNetwork).toBe(true);
      expect(pod.serviceAccountName).toBe("speaker");
      expect(onlyContainer(pod).command).toEqual(["node", "speaker/main.ts"]);
    });

    it("drops every capability but NET_RAW, escalates nothing, has a read-only root filesystem and RuntimeDefault seccomp", () => {
      const pod = speaker.spec!.template.spec!;
      const c = onlyContainer(pod);
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"], add: ["NET_RAW"] },
      });
      expect(c.securityContext!.privileged).toBeFalsy();
      expect(c.securityContext?.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type).toBe("RuntimeDefault");
    });

    it("takes NODE_NAME from spec.nodeName", () => {
      const c = onlyContainer(speaker.spec!.template.spec);
      expect(c.env).toContainEqual({ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } });
    });

    it("tolerates the control-plane taints, old and new", () => {
      const tolerations = speaker.spec!.template.spec!.tolerations ?? [];
      for (const key of ["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"]) {
        expect(tolerations).toContainEqual({ key, operator: "Exists", effect: "NoSchedule" });
      }
    });

    it("probes /healthz and /readyz on the metrics port 7473 and declares the heartbeat port 7947/UDP", () => {
      const c = onlyContainer(speaker.spec!.template.spec);
      expect(c.livenessProbe?.httpGet?.path).toBe("/healthz");
      expect(c.readinessProbe?.httpGet?.path).toBe("/readyz");
      expect(probePort(c, c.livenessProbe)).toBe(7473);
      expect(probePort(c, c.readinessProbe)).toBe(7473);
      expect(flag(c, "metrics-port")).toBe("7473");
      expect(c.ports).toContainEqual({ name: "heartbeat", containerPort: 7947, protocol: "UDP" });
      expect(flag(c, "heartbeat-port")).toBe("7947");
      expect(c.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    });

    it("serves metrics on the node IP that the kubelet probes, not on every host address", () => {
      const c = onlyContainer(speaker.spec!.template.spec);
      expect(flag(c, "metrics-host")).toBe("$(HOST_IP)");
      expect(c.env).toContainEqual({ name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } });
    });

    it("leaves time for the graceful handover before SIGKILL", () => {
      expect(speaker.spec!.template.spec!.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(5);
    });
  });
});
