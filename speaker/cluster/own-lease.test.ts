import { CoordinationV1Api, CoreV1Api, type V1Lease } from "@kubernetes/client-node";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadClusterAccess } from "../../shared/kube/client/cluster-access.ts";
import { createKubeApi } from "../../shared/kube/client/http-kube-api.ts";
import type { KubeApi } from "../../shared/kube/client/kube-api.ts";
import { createLogger } from "../../shared/log.ts";
import { startKubeSim, type KubeSim } from "../../tools/kube-sim/index.ts";
import { startOwnLease, type OwnLease, type OwnLeaseOptions } from "./own-lease.ts";
import { speakerLeaseName } from "./speaker-lease-names.ts";

const namespace = "metallb-system";

describe("a speaker's own Lease against the API simulator", () => {
  let sim: KubeSim;
  let api: KubeApi;
  let coordination: CoordinationV1Api;
  let leases: OwnLease[] = [];
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(
    "speaker",
    "info",
    new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );

  beforeEach(async () => {
    sim = await startKubeSim();
    api = createKubeApi(loadClusterAccess(sim.kubeconfigPath));
    coordination = sim.client.makeApiClient(CoordinationV1Api);
    await sim.client.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    leases = [];
    lines.length = 0;
  });
  afterEach(async () => {
    await Promise.all(leases.map((l) => l.release()));
    await api.close();
    await sim.stop();
  });

  const read = (node: string): Promise<V1Lease> => coordination.readNamespacedLease({ name: speakerLeaseName(node), namespace });
  const until = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 5_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  async function start(node: string, extra: Partial<OwnLeaseOptions> = {}) {
    const events = { renewed: 0, failures: 0, supplantedBy: undefined as string | undefined };
    const lease = await startOwnLease({
      api,
      namespace,
      node,
      identity: `speaker-${node}-pod`,
      leaseDurationMs: 2_000,
      renewIntervalMs: 50,
      log,
      onRenewed: () => events.renewed++,
      onSupplanted: (holder) => (events.supplantedBy = holder),
      onRenewFailure: () => events.failures++,
      ...extra,
    });
    leases.push(lease);
    return { lease, events };
  }

  it("creates the Lease with its labels, owner and annotations, then renews it keeping acquireTime", async () => {
    const { events } = await start("node-1", {
      annotations: () => ({ "baremetal-lb.io/strict-arp-refused": "no" }),
      ownerNode: () => ({ name: "node-1", uid: "uid-node-1" }),
    });
    const created = await read("node-1");
    expect(created.metadata?.labels).toEqual({ "app.kubernetes.io/name": "baremetal-lb", "app.kubernetes.io/component": "speaker", "baremetal-lb.io/node": "node-1" });
    expect(created.metadata?.annotations).toEqual({ "baremetal-lb.io/strict-arp-refused": "no" });
    expect(created.metadata?.ownerReferences).toMatchObject([{ apiVersion: "v1", kind: "Node", name: "node-1", uid: "uid-node-1" }]);
    expect(created.spec).toMatchObject({ holderIdentity: "speaker-node-1-pod", leaseDurationSeconds: 2, leaseTransitions: 0 });
    await until(async () => events.renewed >= 3, "three renewals");
    const renewed = await read("node-1");
    expect(renewed.spec?.acquireTime).toEqual(created.spec?.acquireTime);
    expect(renewed.spec?.renewTime).not.toEqual(created.spec?.renewTime);
    expect(renewed.spec?.leaseTransitions).toBe(0);
    expect(events.failures).toBe(0);
  });

  it("stops at once when another process took the node's Lease, and says who", async () => {
    const { lease, events } = await start("node-1");
    const current = await read("node-1");
    await coordination.replaceNamespacedLease({ name: speakerLeaseName("node-1"), namespace, body: { ...current, spec: { ...current.spec, holderIdentity: "speaker-node-1-other" } } });
    await until(async () => events.supplantedBy !== undefined, "the speaker to see it was supplanted");
    expect(events.supplantedBy).toBe("speaker-node-1-other");
    expect(lease.supplanted()).toBe(true);
    expect(lines.filter((l) => l.msg === "another speaker holds this node's lease; stopping announcements")).toHaveLength(1);
  });

  it("releases the Lease on the way out: no holder, a 1 s duration, so peers count the node gone at once", async () => {
    const { lease } = await start("node-2");
    await lease.release();
    const released = await read("node-2");
    expect(released.spec).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 0 });
  });
});
