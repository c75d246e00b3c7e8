import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TopologyNode } from "../../tools/netns/topology.ts";
import { eventually } from "../../tools/support/eventually.ts";
import { requireNetns } from "../support/requirements.ts";
import { mustRunIn, runIn } from "../../tools/netns/run.ts";
import { startLabCluster, waitForLine, waitForVip, type LabCluster } from "../../tools/lab/lab-cluster.ts";
import { enforceManifestRbac } from "./rbac-identities.ts";
import { RbacAuthorizer } from "../../tools/kube-sim/rbac-authorizer.ts";
import { rankNodes } from "../../speaker/election/election.ts";

const skip = await requireNetns(["ip6tables", "arping", "curl"]);

const config = `address-pools:
- name: default
  protocol: layer2
  addresses:
  - 192.168.126.40-192.168.126.45
  - fd00:126::40-fd00:126::45
`;

/** MACs that answered `arping` for `ip` from the client. */
async function arpingMacs(lab: LabCluster, ip: string, count = 3): Promise<string[]> {
  const r = await runIn(lab.topo.client.ns, ["arping", "-i", "eth0", "-c", String(count), "-W", "0.2", ip], { timeoutMs: 10_000 });
  const macs = [...r.stdout.matchAll(/from ([0-9a-f:]{17})/gi)].map((m) => m[1].toLowerCase());
  return [...new Set(macs)];
}

async function curl(lab: LabCluster, url: string, extra: string[] = []): Promise<string | undefined> {
  const r = await runIn(lab.topo.client.ns, ["curl", "-s", "--connect-timeout", "0.3", "--max-time", "0.6", ...extra, url], { timeoutMs: 5_000 });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

function nodeByName(lab: LabCluster, name: string): TopologyNode {
  return lab.topo.nodes.find((n) => n.name === name)!;
}

async function neighbourMac(lab: LabCluster, ip: string): Promise<string | undefined> {
  const r = await runIn(lab.topo.client.ns, ["ip", "neigh", "show", ip, "dev", "eth0"]);
  return /lladdr ([0-9a-f:]{17})/.exec(r.stdout)?.[1];
}

async function createService(lab: LabCluster, name: string, spec: Record<string, unknown> = {}, annotations?: Record<string, string>): Promise<string[]> {
  await lab.core.createNamespacedService({
    namespace: "default",
    body: { metadata: { name, annotations }, spec: { type: "LoadBalancer", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }], ...spec } },
  });
  return waitForVip(lab.core, name);
}

/** The elected owner of `ip` among `live` nodes (every node has a backend). */
function expectedOwner(ip: string, live: string[]): string {
  return rankNodes(live, ip)[0];
}

describe.skipIf(skip)("speaker end to end in network namespaces", () => {
  let lab: LabCluster;
  let identitiesDir: string;
  const nodeNames = ["node-1", "node-2", "node-3"];
  // The controller and the speakers run as their ServiceAccounts under manifests/' RBAC, enforced.
  const rbac = new RbacAuthorizer();

  beforeAll(async () => {
    identitiesDir = await mkdtemp(join(tmpdir(), "blb-speaker-e2e-"));
    const identities = { controller: join(identitiesDir, "controller.kubeconfig"), speaker: join(identitiesDir, "speaker.kubeconfig") };
    lab = await startLabCluster({
      prefix: "blbspk",
      index: 41,
      nodeNames,
      speakerArgs: ["--strict-arp-check", "1s", "--conflict-probe", "1s", "--interface-rescan", "2s", "--log-level", "debug"],
      identities,
      authorize: rbac.authorize,
    });
    await enforceManifestRbac(lab.sim, rbac, identities);
    await lab.core.createNamespacedConfigMap({ namespace: "metallb-system", body: { metadata: { name: "config" }, data: { config } } });
    await lab.startController();
    for (const node of lab.topo.nodes) await lab.startSpeaker(node);
    await lab.startBackends("web");
  }, 120_000);

  afterAll(async () => {
    if (lab) await writeFile(join(tmpdir(), "blb-speaker-e2e.log"), lab.logs());
    await lab?.stop();
    if (identitiesDir) await rm(identitiesDir, { recursive: true, force: true });
  });

  it("one node, the elected one, answers ARP for a VIP; nobody answers for an unowned IP; curl works", async () => {
    const [vip] = await createService(lab, "web");
    await lab.addDnat(vip);
    const owner = nodeByName(lab, expectedOwner(vip, nodeNames));
    const macs = await eventually(async () => {
      const m = await arpingMacs(lab, vip);
      return m.length > 0 ? m : undefined;
    }, { ms: 10_000, what: "an ARP reply", everyMs: 50 });
    expect(macs).toEqual([owner.mac]);
    expect(await arpingMacs(lab, "192.168.126.45", 2)).toEqual([]);
    const body = await eventually(() => curl(lab, `http://${vip}/`), { ms: 5_000, what: "curl through the VIP", everyMs: 50 });
    expect(body).toBe(`served by ${owner.name}`);
  });

  it("moves the VIP when the owner dies (kill -9 and link down); the client's entry flips from GARP alone", async () => {
    const [vip] = await waitForVip(lab.core, "web");
    const ownerName = expectedOwner(vip, nodeNames);
    const owner = nodeByName(lab, ownerName);
    expect(await curl(lab, `http://${vip}/`)).toBe(`served by ${ownerName}`);
    expect(await neighbourMac(lab, vip)).toBe(owner.mac);

    const survivors = nodeNames.filter((n) => n !== ownerName);
    const next = nodeByName(lab, expectedOwner(vip, survivors));
    const killedAt = Date.now();
    lab.speakers.get(ownerName)!.child.kill("SIGKILL");
    await lab.topo.linkDown(owner);
    // No traffic from the client: only the new owner's gratuitous announcements may change its entry.
    const flippedAfter = await eventually(
      async () => ((await neighbourMac(lab, vip)) === next.mac ? Date.now() - killedAt : undefined),
      { ms: 5_000, what: "the neighbour entry to flip", everyMs: 50 },
    );
    expect(flippedAfter).toBeLessThan(2_000);
    expect(await curl(lab, `http://${vip}/`)).toBe(`served by ${next.name}`);

    // Bring the node back for the next tests.
    await lab.topo.linkUp(owner);
    await lab.startSpeaker(owner);
    await eventually(async () => ((await arpingMacs(lab, vip, 2)).join() === owner.mac ? true : undefined), { ms: 15_000, what: "the VIP to return to its first owner", everyMs: 50 });
  });

  it("hands over gracefully on SIGTERM: the next node serves at once", async () => {
    const [vip] = await waitForVip(lab.core, "web");
    const ownerName = expectedOwner(vip, nodeNames);
    const next = nodeByName(lab, expectedOwner(vip, nodeNames.filter((n) => n !== ownerName)));
    const speaker = lab.speakers.get(ownerName)!;
    speaker.child.kill("SIGTERM");
    expect(await speaker.exited).toBe(0);
    const body = await eventually(() => curl(lab, `http://${vip}/`), { ms: 3_000, what: "curl after the handover", everyMs: 50 });
    expect(body).toBe(`served by ${next.name}`);
    await lab.startSpeaker(nodeByName(lab, ownerName));
  });

  it("a node whose heartbeats are cut while its API access works steps down instead of splitting the brain", async () => {
    const [vip] = await waitForVip(lab.core, "web");
    const ownerName = expectedOwner(vip, nodeNames);
    const owner = nodeByName(lab, ownerName);
    const next = nodeByName(lab, expectedOwner(vip, nodeNames.filter((n) => n !== ownerName)));
    const block = (op: "-A" | "-D") =>
      Promise.all([
        mustRunIn(owner.ns, ["iptables", op, "INPUT", "-p", "udp", "--dport", "7947", "-j", "DROP"]),
        mustRunIn(owner.ns, ["iptables", op, "OUTPUT", "-p", "udp", "--dport", "7947", "-j", "DROP"]),
      ]);
    await block("-A");
    try {
      await eventually(async () => ((await arpingMacs(lab, vip, 2)).join() === next.mac ? true : undefined), { ms: 10_000, what: "only the new owner to answer", everyMs: 50 });
      await waitForLine(lab.speakers.get(ownerName)!, "no heartbeat quorum", 1_000);
      // Stable: the cut-off node stays silent while the block lasts.
      expect(await arpingMacs(lab, vip, 3)).toEqual([next.mac]);
    } finally {
      await block("-D");
    }
    await eventually(async () => ((await arpingMacs(lab, vip, 2)).join() === owner.mac ? true : undefined), { ms: 15_000, what: "the VIP to return once heartbeats flow", everyMs: 50 });
  });

  it("externalTrafficPolicy Local: only a node with a local endpoint announces", async () => {
    const [vip] = await createService(lab, "local", { externalTrafficPolicy: "Local", selector: { app: "only-2" } });
    await lab.startBackends("only-2", [nodeByName(lab, "node-2")]);
    await lab.addDnat(vip);
    const macs = await eventually(async () => {
      const m = await arpingMacs(lab, vip);
      return m.length > 0 ? m : undefined;
    }, { ms: 10_000, what: "an ARP reply for the Local service", everyMs: 50 });
    expect(macs).toEqual([nodeByName(lab, "node-2").mac]);
  });

  it("IPv6: the owner answers neighbour solicitations and curl -6 works", async () => {
    const [vip] = await createService(lab, "web6", { ipFamilies: ["IPv6"], ipFamilyPolicy: "SingleStack" });
    expect(vip).toMatch(/^fd00:126::/);
    await lab.addDnat(vip);
    const owner = nodeByName(lab, expectedOwner(vip, nodeNames));
    const body = await eventually(() => curl(lab, `http://[${vip}]/`, ["-6"]), { ms: 10_000, what: "curl -6 through the VIP", everyMs: 50 });
    expect(body).toBe(`served by ${owner.name}`);
    expect(await neighbourMac(lab, vip)).toBe(owner.mac);
  });

  it("strictARP: IPVS with kernels answering raises StrictARPDisabled and ARPConflict; arp_ignore=1 clears both", async () => {
    const [vip] = await waitForVip(lab.core, "web");
    const ownerName = expectedOwner(vip, nodeNames);
    const owner = nodeByName(lab, ownerName);
    await lab.core.createNamespace({ body: { metadata: { name: "kube-system" } } }).catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
    await lab.core.createNamespacedConfigMap({
      namespace: "kube-system",
      body: { metadata: { name: "kube-proxy" }, data: { "config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  strictARP: false\n" } },
    });
    for (const node of lab.topo.nodes) {
      await mustRunIn(node.ns, ["ip", "link", "add", "kube-ipvs0", "type", "ifb"]);
      await mustRunIn(node.ns, ["ip", "addr", "add", `${vip}/32`, "dev", "kube-ipvs0"]);
    }
    const events = async (kind: string, name: string, ns: string) =>
      (await lab.core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.involvedObject.kind === kind && e.involvedObject.name === name);
    const disabled = await eventually(
      async () => (await events("Node", ownerName, "default")).find((e) => e.reason === "StrictARPDisabled"),
      { ms: 10_000, what: "StrictARPDisabled", everyMs: 50 },
    );
    expect(disabled.type).toBe("Warning");
    expect(disabled.message).toContain("ipvs.strictARP: true");
    // Every other node's kernel answers the owner's probe for the VIP.
    const others = lab.topo.nodes.filter((n) => n !== owner);
    const conflict = await eventually(
      async () =>
        (await events("Service", "web", "default")).find(
          (e) => e.reason === "ARPConflict" && e.message?.includes(`node "${ownerName}"`) && others.some((n) => e.message?.includes(n.mac)),
        ),
      { ms: 10_000, what: "ARPConflict naming another node's MAC", everyMs: 50 },
    );
    expect(conflict.type).toBe("Warning");
    expect(conflict.message).toContain(vip);
    expect(conflict.message).toContain("strictARP");

    for (const node of lab.topo.nodes) await mustRunIn(node.ns, ["sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1"]);
    await eventually(async () => (await events("Node", ownerName, "default")).find((e) => e.reason === "StrictARPEnabled"), { ms: 10_000, what: "StrictARPEnabled", everyMs: 50 });
    const metricsUrl = `http://${owner.ipv4}:7473/metrics`;
    const cleared = await eventually(
      async () => {
        const r = await runIn(owner.ns, ["curl", "-s", "--max-time", "1", metricsUrl]);
        const strict = /baremetal_lb_strict_arp_ok\{node="[^"]+"\} (\d)/.exec(r.stdout)?.[1];
        const active = new RegExp(`baremetal_lb_arp_conflict\\{ip="${vip.replace(/\./g, "\\.")}"\\} (\\d)`).exec(r.stdout)?.[1];
        return strict === "1" && active === "0" ? true : undefined;
      },
      { ms: 15_000, what: "strict_arp_ok 1 and the conflict gauge 0", everyMs: 50 },
    );
    expect(cleared).toBe(true);
    for (const node of lab.topo.nodes) {
      await mustRunIn(node.ns, ["ip", "link", "del", "kube-ipvs0"]);
      await mustRunIn(node.ns, ["sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=0"]);
    }
    await waitForLine(lab.speakers.get(ownerName)!, "ARP conflict", 1);
  });

  it("refused none of the controller's and the speakers' requests under the manifests' RBAC", () => {
    expect(rbac.denials()).toEqual([]);
    expect(rbac.usage().some((u) => u.user === "system:serviceaccount:metallb-system:speaker" && u.resource === "endpointslices")).toBe(true);
    expect(rbac.usage().some((u) => u.user === "system:serviceaccount:metallb-system:controller" && u.resource === "services/status")).toBe(true);
    expect(lab.logs()).not.toMatch(/HTTP 403|forbidden/i);
  });
});
