import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions, type KubernetesObject, type V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enforceManifestRbac, installNamespace, manifestIdentityObjects } from "../e2e/rbac-identities.ts";
import { ControllerProcess, killAll } from "../../tools/lab/controller-process.ts";
import { startKubeSim, type Authorizer, type KubeSim, type RequestAttributes } from "../../tools/kube-sim/index.ts";
import { RbacAuthorizer } from "../../tools/kube-sim/rbac-authorizer.ts";
import { unusedGrants, type RoleObject } from "../../tools/kube-sim/rbac-coverage.ts";
import { eventually } from "../../tools/support/eventually.ts";
import { loadManifests, manifestsDir } from "../../tools/lab/load-manifests.ts";

const repo = new URL("../../", import.meta.url).pathname;
const node24 = join(repo, "node_modules/.bin/node");
const controllerUser = `system:serviceaccount:${installNamespace}:controller`;
const speakerUser = `system:serviceaccount:${installNamespace}:speaker`;
const excludeLabel = "node.kubernetes.io/exclude-from-external-load-balancers";
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
// TEST-NET-1: the speaker below opens no socket (every interface excluded), so nothing is ever sent for it.
const config = "address-pools:\n- name: default\n  protocol: layer2\n  addresses: [192.0.2.0/29]\n";
// MetalLB's CRs beside the ConfigMap: a pool only annotated Services take, and an advertisement of it.
const crPool = { apiVersion: "metallb.io/v1beta1", kind: "IPAddressPool", metadata: { name: "crd-pool" }, spec: { addresses: ["192.0.2.8/29"], autoAssign: false } };
const crAdvertisement = { apiVersion: "metallb.io/v1beta1", kind: "L2Advertisement", metadata: { name: "crd-l2" }, spec: { ipAddressPools: ["crd-pool"] } };
const metallb = (plural: string) => ({ group: "metallb.io", version: "v1beta1", namespace: installNamespace, plural });

/** A ServiceL2Status as `kubectl get servicel2statuses -o yaml` shows it (the fields read here). */
interface L2Status {
  metadata: { name: string; labels?: Record<string, string> };
  status?: { node?: string; serviceName?: string; serviceNamespace?: string };
}

/** The speaker binary as a child process, output kept. */
interface SpeakerProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

/** Starts the real speaker in this network namespace with every interface excluded: it opens no packet socket. */
function startSpeaker(kubeconfig: string, nodeName: string): SpeakerProcess {
  const child = spawn(
    node24,
    [
      "speaker/main.ts",
      "--kubeconfig", kubeconfig,
      "--node-name", nodeName,
      "--metrics-port", "0",
      "--metrics-host", "127.0.0.1",
      "--heartbeat-port", "0",
      "--exclude-interfaces", ".*",
      "--kube-proxy-mode-url", "http://127.0.0.1:1/proxyMode",
      "--log-level", "debug",
    ],
    { cwd: repo, stdio: ["ignore", "pipe", "pipe"] },
  );
  const output: string[] = [];
  const push = (chunk: Buffer) => output.push(...chunk.toString().split("\n").filter(Boolean));
  child.stdout!.on("data", push);
  child.stderr!.on("data", push);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output, exited };
}

function lbService(name: string, annotations?: Record<string, string>, app = name): V1Service {
  return { metadata: { name, annotations }, spec: { type: "LoadBalancer", selector: { app }, ports: [{ port: 80 }] } };
}

/** The ServiceL2Status objects about Service default/`name`. */
async function l2StatusesOf(custom: CustomObjectsApi, name: string): Promise<L2Status[]> {
  const list = (await custom.listNamespacedCustomObject(metallb("servicel2statuses"))) as { items: L2Status[] };
  return list.items.filter((o) => (o.metadata.labels?.["metallb.io/service-name"] ?? o.status?.serviceName) === name);
}

/** The `Ready` condition's status of a metallb.io object in metallb-system. */
async function readyOf(custom: CustomObjectsApi, plural: string, name: string): Promise<string | undefined> {
  const obj = (await custom.getNamespacedCustomObject({ ...metallb(plural), name })) as { status?: { conditions?: { type: string; status: string }[] } };
  return obj.status?.conditions?.find((c) => c.type === "Ready")?.status;
}

/** The count of the Event with `reason` about `kind`/`name` (0 when there is none). */
async function eventCount(core: CoreV1Api, kind: string, name: string, reason: string, namespace = "default"): Promise<number> {
  const events = await core.listNamespacedEvent({ namespace });
  const e = events.items.find((x) => x.involvedObject.kind === kind && x.involvedObject.name === name && x.reason === reason);
  return e?.count ?? 0;
}

describe("the manifests' RBAC against what the binaries really call", () => {
  let sim: KubeSim;
  let dir: string;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let controller: ControllerProcess | undefined;
  let speaker: SpeakerProcess | undefined;
  const rbac = new RbacAuthorizer();
  let conflictInjected = false;
  let armConflict = false;

  /**
   * RBAC, plus one test hook: the controller's first write to Service "conflicted" finds the Service changed
   * since it read it (409), so it must re-read it with `get` as it does after any conflict.
   */
  const authorize: Authorizer = (user, a: RequestAttributes) => {
    if (armConflict && !conflictInjected && user.name === controllerUser && a.verb === "patch" && a.resource === "services" && a.name === "conflicted") {
      conflictInjected = true;
      const services = sim.state.registry.find("", "v1", "services")!;
      sim.state.patch(services, a.namespace, a.name, "application/merge-patch+json", JSON.stringify({ metadata: { labels: { touched: "by-test" } } }));
    }
    return rbac.authorize(user, a);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbac-coverage-"));
    sim = await startKubeSim({ authorize });
    const identities = { controller: join(dir, "controller.kubeconfig"), speaker: join(dir, "speaker.kubeconfig") };
    await enforceManifestRbac(sim, rbac, identities);
    // MetalLB's CRDs, as `kubectl apply -f manifests/` installs them, so the binaries' informers on them run.
    const objects = KubernetesObjectApi.makeApiClient(sim.client);
    for (const crd of await loadManifests([join(manifestsDir, "01-crds.yaml")])) await objects.create(crd as KubernetesObject);
    core = sim.client.makeApiClient(CoreV1Api);
    const created = await core.createNode({ body: { metadata: { name: "node-a", labels: { "kubernetes.io/hostname": "node-a" } } } });
    await core.replaceNodeStatus({
      name: "node-a",
      body: { ...created, status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], conditions: [{ type: "Ready", status: "True" }] } },
    });
    await core.createNamespacedConfigMap({ namespace: installNamespace, body: { metadata: { name: "config" }, data: { config } } });
    custom = sim.client.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({ ...metallb("ipaddresspools"), body: crPool });
    await custom.createNamespacedCustomObject({ ...metallb("l2advertisements"), body: crAdvertisement });
    // A leftover of node-b, which announced Service "from-crd" before: the speaker that announces it now deletes it.
    await custom.createNamespacedCustomObject({
      ...metallb("servicel2statuses"),
      body: {
        apiVersion: "metallb.io/v1beta1",
        kind: "ServiceL2Status",
        metadata: { name: "l2-node-b", labels: { "metallb.io/node": "node-b", "metallb.io/service-name": "from-crd", "metallb.io/service-namespace": "default" } },
        spec: {},
      },
    });
    // A ready backend of Service "web" on node-a, so the speaker there may announce it.
    const pod = await core.createNamespacedPod({
      namespace: "default",
      body: { metadata: { name: "web-a", labels: { app: "web" } }, spec: { nodeName: "node-a", containers: [{ name: "web", image: "nginx" }] } },
    });
    await core.replaceNamespacedPodStatus({
      name: "web-a",
      namespace: "default",
      body: { ...pod, status: { phase: "Running", podIP: "10.244.0.5", podIPs: [{ ip: "10.244.0.5" }], conditions: [{ type: "Ready", status: "True" }] } },
    });

    controller = ControllerProcess.start({ kubeconfig: identities.controller, identity: "rbac-coverage" });
    await controller.waitForLog("became leader", 15_000);
    speaker = startSpeaker(identities.speaker, "node-a");
    await eventually(() => (speaker!.output.some((l) => l.includes('"speaker ready"')) ? true : undefined), { ms: 15_000, what: "the speaker to be ready", everyMs: 50 }).catch((err: Error) => {
      throw new Error(`${err.message}; speaker output:\n${speaker!.output.slice(-30).join("\n")}`);
    });
  }, 60_000);

  afterAll(async () => {
    speaker?.child.kill("SIGKILL");
    if (controller) await killAll([controller]);
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the binaries use every permission the manifests grant, and no request is refused", async () => {
    // Controller: allocate (patch + status update), recover from a conflict (get), repeat an Event (patch).
    await core.createNamespacedService({ namespace: "default", body: lbService("web") });
    armConflict = true;
    await core.createNamespacedService({ namespace: "default", body: lbService("conflicted") });
    await core.createNamespacedService({ namespace: "default", body: lbService("no-pool", { "metallb.universe.tf/address-pool": "missing" }) });
    for (const name of ["web", "conflicted"]) {
      await eventually(async () => (await core.readNamespacedService({ name, namespace: "default" })).status?.loadBalancer?.ingress?.[0]?.ip, { ms: 10_000, what: `an IP for ${name}`, everyMs: 50 });
    }
    expect(conflictInjected).toBe(true);
    await eventually(async () => ((await eventCount(core, "Service", "no-pool", "AllocationFailed")) >= 1 ? true : undefined), { ms: 10_000, what: "AllocationFailed", everyMs: 50 });
    await core.patchNamespacedService({ name: "no-pool", namespace: "default", body: { metadata: { labels: { retry: "1" } } } }, mergePatch);
    await eventually(async () => ((await eventCount(core, "Service", "no-pool", "AllocationFailed")) >= 2 ? true : undefined), { ms: 10_000, what: "a repeated AllocationFailed", everyMs: 50 });

    // Speaker: announce "web" (Event), lose it when every node is excluded (Event on the Node), win it back
    // (the same Event again: patch).
    await eventually(async () => ((await eventCount(core, "Service", "web", "nodeAssigned")) >= 1 ? true : undefined), { ms: 10_000, what: "nodeAssigned", everyMs: 50 }).catch((err: Error) => {
      throw new Error(`${err.message}; speaker output:\n${speaker!.output.slice(-40).join("\n")}`);
    });
    const setExcluded = (on: boolean) => core.patchNode({ name: "node-a", body: { metadata: { labels: { [excludeLabel]: on ? "" : null } } } }, mergePatch);
    await eventually(
      async () => {
        await setExcluded(true);
        await eventually(async () => ((await eventCount(core, "Node", "node-a", "AllNodesExcluded")) >= 1 ? true : undefined), { ms: 5_000, what: "AllNodesExcluded", everyMs: 50 });
        await new Promise((r) => setTimeout(r, 200));
        await setExcluded(false);
        await new Promise((r) => setTimeout(r, 300));
        return (await eventCount(core, "Service", "web", "nodeAssigned")) >= 2 ? true : undefined;
      },
      { ms: 15_000, what: "a repeated nodeAssigned", everyMs: 50 },
    );

    // The CRs: a Service takes an IP from the IPAddressPool, node-a announces it and records so in a
    // ServiceL2Status (replacing node-b's), the controller writes the pool's usage and both objects' Ready
    // condition; deleting the Service deletes node-a's ServiceL2Status.
    await core.createNamespacedService({ namespace: "default", body: lbService("from-crd", { "metallb.universe.tf/address-pool": "crd-pool" }, "web") });
    const crdIp = await eventually(
      async () => (await core.readNamespacedService({ name: "from-crd", namespace: "default" })).status?.loadBalancer?.ingress?.[0]?.ip,
      { ms: 10_000, what: "an IP for from-crd", everyMs: 50 },
    );
    expect(crdIp).toMatch(/^192\.0\.2\.(8|9|1[0-5])$/);
    const announcedBy = async () => (await l2StatusesOf(custom, "from-crd")).map((o) => `${o.metadata.name === "l2-node-b" ? "l2-node-b" : "l2-*"} ${o.status?.node ?? ""}`).join(", ");
    await eventually(
      async () => ((await announcedBy()) === "l2-* node-a" ? true : undefined),
      { ms: 10_000, what: "node-a's ServiceL2Status of from-crd, alone", everyMs: 50 },
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}; ServiceL2Statuses: ${await announcedBy()}; speaker output:\n${speaker!.output.slice(-30).join("\n")}`);
    });
    await eventually(
      async () => {
        const pool = (await custom.getNamespacedCustomObject({ ...metallb("ipaddresspools"), name: "crd-pool" })) as { status?: { assignedIPv4?: number } };
        return pool.status?.assignedIPv4 === 1 && (await readyOf(custom, "ipaddresspools", "crd-pool")) === "True" ? true : undefined;
      },
      { ms: 10_000, what: "crd-pool's status: Ready, 1 IPv4 assigned", everyMs: 50 },
    );
    await eventually(async () => ((await readyOf(custom, "l2advertisements", "crd-l2")) === "True" ? true : undefined), { ms: 10_000, what: "crd-l2's Ready condition", everyMs: 50 });
    await core.deleteNamespacedService({ name: "from-crd", namespace: "default" });
    await eventually(async () => ((await l2StatusesOf(custom, "from-crd")).length === 0 ? true : undefined), { ms: 10_000, what: "from-crd's ServiceL2Status to be deleted", everyMs: 50 });

    // Shutdown paths: both release their Leases.
    speaker!.child.kill("SIGTERM");
    controller!.kill("SIGTERM");
    expect(await speaker!.exited).toBe(0);
    expect((await controller!.waitForExit()).code).toBe(0);

    const logs = [...speaker!.output, ...controller!.logs.map((l) => JSON.stringify(l)), controller!.stderr].join("\n");
    expect(rbac.denials()).toEqual([]);
    expect(logs).not.toMatch(/HTTP 403|forbidden/i);
    const roles = (await manifestIdentityObjects()).filter((o) => o.kind === "Role" || o.kind === "ClusterRole") as unknown as RoleObject[];
    expect(roles.length).toBeGreaterThan(0);
    const unused = unusedGrants(roles, rbac.usage().filter((u) => u.user === controllerUser || u.user === speakerUser));
    expect(unused, `permissions granted in manifests/20-rbac.yaml that neither binary used:\n${unused.join("\n")}`).toEqual([]);
  }, 90_000);

  it("lets neither binary create, replace or delete Services, and the speaker write none at all", () => {
    const check = new RbacAuthorizer();
    check.attach(sim.state);
    const sa = (name: string) => ({ name: `system:serviceaccount:${installNamespace}:${name}`, groups: ["system:serviceaccounts", `system:serviceaccounts:${installNamespace}`, "system:authenticated"] });
    const svc = (verb: string, subresource = ""): RequestAttributes => ({
      verb,
      isResourceRequest: true,
      path: "",
      apiGroup: "",
      apiVersion: "v1",
      resource: "services",
      subresource,
      namespace: "default",
      name: verb === "create" || verb === "deletecollection" ? "" : "web",
    });
    for (const verb of ["create", "update", "delete", "deletecollection"]) expect(check.authorize(sa("controller"), svc(verb)).allowed, `controller ${verb}`).toBe(false);
    for (const verb of ["create", "update", "patch", "delete", "deletecollection"]) expect(check.authorize(sa("speaker"), svc(verb)).allowed, `speaker ${verb}`).toBe(false);
    for (const verb of ["update", "patch"]) expect(check.authorize(sa("speaker"), svc(verb, "status")).allowed, `speaker ${verb} status`).toBe(false);
    // The controller merge-patches status.loadBalancer.ingress; it never replaces a Service's whole status.
    expect(check.authorize(sa("controller"), svc("update", "status")).allowed).toBe(false);
  });

  it("lets the controller create the heartbeat key Secret and read only it, and the speaker only watch it", () => {
    const check = new RbacAuthorizer();
    check.attach(sim.state);
    const sa = (name: string) => ({ name: `system:serviceaccount:${installNamespace}:${name}`, groups: ["system:serviceaccounts", `system:serviceaccounts:${installNamespace}`, "system:authenticated"] });
    const secret = (verb: string, name: string, namespace = installNamespace): RequestAttributes => ({
      verb, isResourceRequest: true, path: "", apiGroup: "", apiVersion: "v1", resource: "secrets", subresource: "", namespace, name,
    });
    const allowed = (who: string, a: RequestAttributes) => check.authorize(sa(who), a).allowed;
    expect(allowed("controller", secret("create", ""))).toBe(true);
    expect(allowed("controller", secret("get", "memberlist"))).toBe(true);
    for (const verb of ["update", "patch", "delete"]) expect(allowed("controller", secret(verb, "memberlist")), `controller ${verb} memberlist`).toBe(false);
    for (const a of [secret("get", "other"), secret("list", ""), secret("watch", ""), secret("get", "memberlist", "default"), secret("create", "", "default")]) {
      expect(allowed("controller", a), `controller ${a.verb} ${a.namespace}/${a.name}`).toBe(false);
    }
    for (const verb of ["list", "watch"]) expect(allowed("speaker", secret(verb, "memberlist")), `speaker ${verb} memberlist`).toBe(true);
    for (const a of [secret("list", ""), secret("watch", ""), secret("get", "other"), secret("list", "other"), secret("create", ""), secret("update", "memberlist"), secret("patch", "memberlist"), secret("delete", "memberlist")]) {
      expect(allowed("speaker", a), `speaker ${a.verb} ${a.name || "(all)"}`).toBe(false);
    }
  });
});

describe("a rule missing from the manifests' RBAC", () => {
  let sim: KubeSim;
  let dir: string;
  let controller: ControllerProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbac-missing-"));
    const rbac = new RbacAuthorizer();
    sim = await startKubeSim({ authorize: rbac.authorize, endpointsController: false });
    const identities = { controller: join(dir, "controller.kubeconfig"), speaker: join(dir, "speaker.kubeconfig") };
    await enforceManifestRbac(sim, rbac, identities);
    // Take the services/status rule out of the controller's ClusterRole.
    const api = sim.client.makeApiClient(RbacAuthorizationV1Api);
    const role = await api.readClusterRole({ name: "baremetal-lb:controller" });
    const rules = (role.rules ?? []).filter((r) => !(r.resources ?? []).includes("services/status"));
    expect(rules).toHaveLength((role.rules ?? []).length - 1);
    await api.replaceClusterRole({ name: "baremetal-lb:controller", body: { ...role, rules } });
    const core = sim.client.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: installNamespace, body: { metadata: { name: "config" }, data: { config } } });
    await core.createNamespacedService({ namespace: "default", body: lbService("web") });
    controller = ControllerProcess.start({ kubeconfig: identities.controller, identity: "rbac-missing" });
  }, 30_000);

  afterAll(async () => {
    if (controller) await killAll([controller]);
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("makes the controller's status write fail with kube-apiserver's exact 403 message", async () => {
    const failed = await controller!.waitForLog((l) => l.msg === "reconcile failed, will retry" && String(l.err).includes("403"), 15_000);
    expect(failed.err).toBe(
      'HTTP 403: services "web" is forbidden: User "system:serviceaccount:metallb-system:controller" cannot patch resource "services/status" in API group "" in the namespace "default"',
    );
  });
});
