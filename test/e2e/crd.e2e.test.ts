/**
 * MetalLB's custom resources end to end, in network namespaces with the real controller and speakers running as
 * their ServiceAccounts under manifests/' RBAC: an IPAddressPool hands out the VIP, an L2Advertisement's
 * nodeSelectors decide which node answers ARP for it (and moving the selector moves the VIP), the announcing
 * speaker writes one ServiceL2Status naming itself, the controller counts the IP in the pool's status, refuses an
 * overlapping pool with Ready=False, and warns (Event NotAnnounced) about a pool no L2Advertisement selects.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rankNodes } from "../../speaker/election/election.ts";
import { RbacAuthorizer } from "../../tools/kube-sim/rbac-authorizer.ts";
import { runIn } from "../../tools/netns/run.ts";
import { type TopologyNode } from "../../tools/netns/topology.ts";
import { eventually } from "../../tools/support/eventually.ts";
import { requireNetns } from "../support/requirements.ts";
import { installMetallbCrds, startLabCluster, waitForVip, type LabCluster } from "../../tools/lab/lab-cluster.ts";
import { enforceManifestRbac } from "./rbac-identities.ts";

const skip = await requireNetns(["ip6tables", "arping", "curl"]);

const metallb = { group: "metallb.io", version: "v1beta1", namespace: "metallb-system" } as const;
const hostnameLabel = "kubernetes.io/hostname";
/** The label the first selector matches; no node has it until a test puts it on one. */
const announcerLabel = "e2e.baremetal-lb.io/announcer";

interface CustomObject {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: {
    node?: string;
    serviceName?: string;
    serviceNamespace?: string;
    assignedIPv4?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** The distinct MACs that answered `arping` for `ip` from the client. */
async function arpingMacs(lab: LabCluster, ip: string, count = 3): Promise<string[]> {
  const r = await runIn(lab.topo.client.ns, ["arping", "-i", "eth0", "-c", String(count), "-W", "0.2", ip], { timeoutMs: 10_000 });
  return [...new Set([...r.stdout.matchAll(/from ([0-9a-f:]{17})/gi)].map((m) => m[1].toLowerCase()))];
}

/**
 * Asserts that nobody answers ARP for `ip` for `ms` (arping twice a round, at most 10 rounds): a speaker that
 * wrongly announced would answer within one round, so this is a fair "stays dark".
 */
async function expectNoArpAnswer(lab: LabCluster, ip: string, ms = 1_500): Promise<void> {
  const deadline = Date.now() + ms;
  for (let round = 0; round < 10 && Date.now() < deadline; round++) expect(await arpingMacs(lab, ip, 2), `ARP replies for ${ip} in round ${round}`).toEqual([]);
}

/** `curl http://ip/` as a new client (its neighbour entry for `ip` deleted first): the node that served it. */
async function freshCurl(lab: LabCluster, ip: string): Promise<string | undefined> {
  await runIn(lab.topo.client.ns, ["ip", "neigh", "del", ip, "dev", "eth0"]);
  const r = await runIn(lab.topo.client.ns, ["curl", "-s", "--connect-timeout", "0.3", "--max-time", "0.6", `http://${ip}/`], { timeoutMs: 5_000 });
  return r.code === 0 ? /^served by (\S+)/.exec(r.stdout.trim())?.[1] : undefined;
}

function nodeByName(lab: LabCluster, name: string): TopologyNode {
  const node = lab.topo.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name}`);
  return node;
}

describe.skipIf(skip)("MetalLB custom resources end to end in network namespaces", () => {
  let lab: LabCluster;
  let custom: CustomObjectsApi;
  let identitiesDir: string;
  let vip: string;
  /** The node the first selector picks, and the one the second moves the VIP to. */
  let first: TopologyNode;
  let second: TopologyNode;
  const nodeNames = ["node-1", "node-2", "node-3"];
  const rbac = new RbacAuthorizer();

  const createObject = (plural: string, name: string, spec: Record<string, unknown>) =>
    custom.createNamespacedCustomObject({ ...metallb, plural, body: { apiVersion: "metallb.io/v1beta1", kind: plural === "ipaddresspools" ? "IPAddressPool" : "L2Advertisement", metadata: { name }, spec } });
  const readObject = async (plural: string, name: string) => (await custom.getNamespacedCustomObject({ ...metallb, plural, name })) as CustomObject;
  const readyCondition = async (plural: string, name: string) => (await readObject(plural, name)).status?.conditions?.find((c) => c.type === "Ready");

  /** The ServiceL2Status objects about default/`service`, with the node each names. */
  const l2Statuses = async (service: string) => {
    const list = (await custom.listNamespacedCustomObject({ ...metallb, plural: "servicel2statuses" })) as { items: CustomObject[] };
    return list.items
      .filter((o) => (o.metadata?.labels?.["metallb.io/service-name"] ?? o.status?.serviceName) === service)
      .filter((o) => (o.metadata?.labels?.["metallb.io/service-namespace"] ?? o.status?.serviceNamespace) === "default")
      .map((o) => ({ name: o.metadata?.name, node: o.status?.node }));
  };

  const createService = async (name: string, annotations?: Record<string, string>) => {
    await lab.core.createNamespacedService({
      namespace: "default",
      body: { metadata: { name, annotations }, spec: { type: "LoadBalancer", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } },
    });
    return waitForVip(lab.core, name);
  };

  /** Waits until `node` alone answers ARP for the VIP, then checks it stays so over three more arpings. */
  const expectOnlyAnswerer = async (node: TopologyNode) => {
    let last: string[] = [];
    await eventually(async () => {
      last = await arpingMacs(lab, vip, 2);
      return last.length === 1 && last[0] === node.mac ? true : undefined;
    }, { ms: 10_000, what: `${node.name} (${node.mac}) alone to answer ARP for ${vip}`, everyMs: 100, detail: () => JSON.stringify(last) });
    expect(await arpingMacs(lab, vip, 3)).toEqual([node.mac]);
  };

  /** Waits until exactly one ServiceL2Status is about default/web and it names `node`. */
  const expectL2Status = async (node: string) => {
    let last: unknown;
    const statuses = await eventually(async () => {
      const s = await l2Statuses("web");
      last = s;
      return s.length === 1 && s[0].node === node ? s : undefined;
    }, { ms: 10_000, what: `one ServiceL2Status for default/web naming ${node}`, everyMs: 100, detail: () => JSON.stringify(last) });
    expect(statuses).toHaveLength(1);
  };

  beforeAll(async () => {
    identitiesDir = await mkdtemp(join(tmpdir(), "blb-crd-e2e-"));
    const identities = { controller: join(identitiesDir, "controller.kubeconfig"), speaker: join(identitiesDir, "speaker.kubeconfig") };
    lab = await startLabCluster({ prefix: "blbcrd", index: 51, nodeNames, identities, authorize: rbac.authorize });
    custom = lab.sim.client.makeApiClient(CustomObjectsApi);
    await enforceManifestRbac(lab.sim, rbac, identities);
    await installMetallbCrds(lab);
    await createObject("ipaddresspools", "lan", { addresses: ["192.168.126.40-192.168.126.44"] });
    // Announce pool lan only from nodes with the announcer label, which no node has yet.
    await createObject("l2advertisements", "lan", { ipAddressPools: ["lan"], nodeSelectors: [{ matchLabels: { [announcerLabel]: "true" } }] });
    await lab.startController();
    for (const node of lab.topo.nodes) await lab.startSpeaker(node);
    await lab.startBackends("web");
  }, 120_000);

  afterAll(async () => {
    if (lab) await writeFile(join(tmpdir(), "blb-crd-e2e.log"), lab.logs());
    await lab?.stop();
    if (identitiesDir) await rm(identitiesDir, { recursive: true, force: true });
  });

  it("gives a Service its IP from the IPAddressPool; with no node selected, nobody answers ARP for it", async () => {
    [vip] = await createService("web");
    expect(vip).toMatch(/^192\.168\.126\.4[0-4]$/);
    await lab.addDnat(vip);
    const allocated = await eventually(
      async () => (await lab.core.listNamespacedEvent({ namespace: "default" })).items.find((e) => e.involvedObject.name === "web" && e.reason === "IPAllocated"),
      { ms: 5_000, what: "the IPAllocated Event on svc/web", everyMs: 100 },
    );
    expect(allocated.message).toContain(vip);
    // The selector matches no node yet: the IP is assigned but no speaker may announce it.
    await expectNoArpAnswer(lab, vip);
  });

  it("only the node picked by nodeSelectors answers ARP, and serves a new client's curl", async () => {
    // The node the election ranks last: without the selector it would never announce this VIP.
    const ranked = rankNodes(nodeNames, vip);
    first = nodeByName(lab, ranked[2]);
    second = nodeByName(lab, ranked[1]);
    const node = await lab.core.readNode({ name: first.name });
    await lab.core.replaceNode({ name: first.name, body: { ...node, metadata: { ...node.metadata, labels: { ...node.metadata?.labels, [announcerLabel]: "true" } } } });
    await expectOnlyAnswerer(first);
    expect(await eventually(() => freshCurl(lab, vip), { ms: 5_000, what: `a new client's curl of ${vip}`, everyMs: 100 })).toBe(first.name);
  });

  it("ServiceL2Status names the announcing node, and the pool's status counts the IP", async () => {
    await expectL2Status(first.name);
    let last: unknown;
    const assigned = await eventually(async () => {
      const status = (await readObject("ipaddresspools", "lan")).status;
      last = status;
      return status?.assignedIPv4 !== undefined && status.assignedIPv4 >= 1 ? status.assignedIPv4 : undefined;
    }, { ms: 10_000, what: "IPAddressPool lan status.assignedIPv4 >= 1", everyMs: 100, detail: () => JSON.stringify(last) });
    expect(assigned).toBe(1);
    expect(await readyCondition("ipaddresspools", "lan")).toMatchObject({ status: "True" });
  });

  it("changing the selector to another node moves the VIP: the new node's MAC answers, the old one stops", async () => {
    await custom.patchNamespacedCustomObject(
      { ...metallb, plural: "l2advertisements", name: "lan", body: { spec: { nodeSelectors: [{ matchLabels: { [hostnameLabel]: second.name } }] } } },
      // A merge patch replaces the nodeSelectors list as a whole.
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await expectOnlyAnswerer(second);
    expect(await eventually(() => freshCurl(lab, vip), { ms: 5_000, what: `a new client's curl of ${vip} after the move`, everyMs: 100 })).toBe(second.name);
    await expectL2Status(second.name);
  });

  it("refuses an overlapping pool with Ready=False naming both pools; the Service keeps its IP and stays reachable", async () => {
    await createObject("ipaddresspools", "lan-overlap", { addresses: ["192.168.126.44-192.168.126.46"] });
    let last: unknown;
    const condition = await eventually(async () => {
      const c = await readyCondition("ipaddresspools", "lan-overlap");
      last = c;
      return c?.status === "False" ? c : undefined;
    }, { ms: 10_000, what: "Ready=False on IPAddressPool lan-overlap", everyMs: 100, detail: () => JSON.stringify(last) });
    expect(condition.reason).toBe("OverlappingPools");
    expect(condition.message).toContain('pool "lan"');
    expect(condition.message).toContain("192.168.126.44");
    const warning = await eventually(
      async () =>
        (await lab.core.listNamespacedEvent({ namespace: "metallb-system" })).items.find(
          (e) => e.involvedObject.kind === "IPAddressPool" && e.involvedObject.name === "lan-overlap" && e.reason === "OverlappingPools",
        ),
      { ms: 10_000, what: "a Warning Event OverlappingPools on IPAddressPool lan-overlap", everyMs: 100 },
    );
    expect(warning.type).toBe("Warning");
    expect(warning.message).toContain('pool "lan"');
    // The pool in force stays Ready and its Service keeps its IP, answered by the same node.
    expect(await readyCondition("ipaddresspools", "lan")).toMatchObject({ status: "True" });
    expect(await waitForVip(lab.core, "web")).toEqual([vip]);
    expect(await arpingMacs(lab, vip, 3)).toEqual([second.mac]);
    expect(await freshCurl(lab, vip)).toBe(second.name);
    await custom.deleteNamespacedCustomObject({ ...metallb, plural: "ipaddresspools", name: "lan-overlap" });
  });

  it("a pool without an L2Advertisement: the Service gets its IP and a Warning Event NotAnnounced, and nobody answers ARP", async () => {
    await createObject("ipaddresspools", "dark", { addresses: ["192.168.126.50-192.168.126.52"], autoAssign: false });
    // The controller takes the new pool into force first; until then the request names an unknown pool.
    await eventually(async () => ((await readyCondition("ipaddresspools", "dark"))?.status === "True" ? true : undefined), { ms: 10_000, what: "IPAddressPool dark Ready", everyMs: 100 });
    const [dark] = await createService("dark", { "metallb.io/address-pool": "dark" });
    expect(dark).toMatch(/^192\.168\.126\.5[0-2]$/);
    const event = await eventually(
      async () =>
        (await lab.core.listNamespacedEvent({ namespace: "default" })).items.find((e) => e.involvedObject.kind === "Service" && e.involvedObject.name === "dark" && e.reason === "NotAnnounced"),
      { ms: 10_000, what: "a NotAnnounced Event on svc/dark", everyMs: 100 },
    );
    expect(event.type).toBe("Warning");
    expect(event.message).toContain(dark);
    expect(event.message).toContain('pool "dark"');
    expect(event.message).toContain("no L2Advertisement selects");
    await lab.addDnat(dark);
    await expectNoArpAnswer(lab, dark);
    expect(await freshCurl(lab, dark)).toBeUndefined();
    expect(await l2Statuses("dark")).toEqual([]);
  });

  it("deleting the Service removes its ServiceL2Status", async () => {
    await lab.core.deleteNamespacedService({ name: "web", namespace: "default" });
    await eventually(async () => ((await l2Statuses("web")).length === 0 ? true : undefined), { ms: 10_000, what: "no ServiceL2Status for default/web", everyMs: 100 });
    await expectNoArpAnswer(lab, vip, 1_000);
  });

  it("refused none of the controller's and the speakers' requests under the manifests' RBAC", () => {
    expect(rbac.denials()).toEqual([]);
    expect(rbac.usage().some((u) => u.user === "system:serviceaccount:metallb-system:speaker" && u.resource === "servicel2statuses")).toBe(true);
    expect(rbac.usage().some((u) => u.user === "system:serviceaccount:metallb-system:controller" && u.resource === "ipaddresspools/status")).toBe(true);
    expect(lab.logs()).not.toMatch(/HTTP 403|forbidden/i);
  });
});
