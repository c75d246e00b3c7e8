import { CoreV1Api, setHeaderOptions, type V1Service } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim, type RequestAttributes } from "../../tools/kube-sim/index.ts";
import { eventually } from "../../tools/support/eventually.ts";
import {
  ensureNamespace,
  eventsFor,
  ipsOf,
  lbService,
  namespace,
  putConfig,
  readmeConfig,
  startTestController,
  type TestController,
} from "../../tools/lab/controller-harness.ts";
import { installMetallbCrds, metallbCrs, type ConfigPlural, type ShownCondition } from "./metallb-crs.ts";

let sim: KubeSim;
let core: CoreV1Api;
let crs: ReturnType<typeof metallbCrs>;
let running: TestController[] = [];
/** Every request the simulator authorized, in order. */
let requests: RequestAttributes[] = [];
/** While set, listing and watching Namespaces fails (403), so informers do not learn of new ones. */
let hideNamespaces = false;

beforeEach(async () => {
  requests = [];
  hideNamespaces = false;
  sim = await startKubeSim({
    authorize: (_user, attributes) => {
      requests.push(attributes);
      if (hideNamespaces && attributes.resource === "namespaces" && (attributes.verb === "list" || attributes.verb === "watch")) {
        return { allowed: false, reason: "the test hides Namespaces" };
      }
      return { allowed: true };
    },
  });
  core = sim.client.makeApiClient(CoreV1Api);
  crs = metallbCrs(sim);
  await ensureNamespace(core, namespace);
  running = [];
});

afterEach(async () => {
  await Promise.all(running.map((c) => c.stop()));
  await sim.stop();
});

async function start(): Promise<TestController> {
  const c = await startTestController(sim);
  running.push(c);
  return c;
}

async function settle(c: TestController): Promise<void> {
  await new Promise((r) => setTimeout(r, 100));
  await c.controller.idle();
}

/** The value of a metric without labels, or of the sample with `labels`. */
async function sample(metric: { get(): Promise<{ values: { value: number; labels: object }[] }> }, labels: Record<string, string> = {}): Promise<number | undefined> {
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))?.value;
}

/** Waits until the object's Ready condition has `status` and `reason`, and returns it. */
async function readyIs(plural: ConfigPlural, name: string, status: "True" | "False", reason: string, ms = 10_000): Promise<ShownCondition> {
  let last: ShownCondition | undefined;
  try {
    return await eventually(
      async () => {
        last = await crs.ready(plural, name);
        return last?.status === status && last.reason === reason ? last : undefined;
      },
      { ms, what: `${plural}/${name} Ready=${status} ${reason}`, everyMs: 50 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}

async function ipOf(name: string, ns = "default"): Promise<string> {
  return eventually(async () => (await ipsOf(core, name, ns))[0], { ms: 10_000, what: `${ns}/${name} to get an IP`, everyMs: 50 });
}

async function createService(name: string, opts: { ns?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): Promise<V1Service> {
  const body = lbService(name, { annotations: opts.annotations });
  body.metadata!.labels = opts.labels;
  return core.createNamespacedService({ namespace: opts.ns ?? "default", body });
}

/** The Event with `reason` on the object, once it exists. */
async function eventOn(kind: string, name: string, ns: string, reason: string): Promise<{ type: string; reason: string; message: string }> {
  return eventually(async () => (await eventsFor(core, kind, name, ns)).find((e) => e.reason === reason), { ms: 10_000, what: `a ${reason} Event on ${kind} ${ns}/${name}`, everyMs: 50 });
}

const allocatedFrom = (svc: V1Service) => svc.metadata?.annotations?.["metallb.universe.tf/ip-allocated-from-pool"];

describe("controller with MetalLB's IPAddressPools and L2Advertisements", () => {
  beforeEach(async () => {
    await installMetallbCrds(sim);
  });

  it("assigns from an IPAddressPool without any ConfigMap and shows usage and Ready=Accepted on the pool and the advertisement", async () => {
    const pool = await crs.create("ipaddresspools", "lan", { addresses: ["192.168.10.0/29"] });
    const ad = await crs.create("l2advertisements", "lan", { ipAddressPools: ["lan"] });
    const c = await start();
    await createService("web");
    expect(await ipOf("web")).toBe("192.168.10.0");
    expect(allocatedFrom(await core.readNamespacedService({ name: "web", namespace: "default" }))).toBe("lan");

    const shown = await eventually(async () => {
      const status = (await crs.get("ipaddresspools", "lan")).status;
      return status?.assignedIPv4 === 1 ? status : undefined;
    }, { ms: 10_000, what: "the pool to count the IP", everyMs: 50 });
    expect({ ...shown, conditions: undefined }).toEqual({ assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 7, availableIPv6: 0, conditions: undefined });
    const poolReady = await readyIs("ipaddresspools", "lan", "True", "Accepted");
    expect(poolReady.message).toBe("in force: 192.168.10.0/29 (autoAssign)");
    expect(poolReady.observedGeneration).toBe(pool.metadata.generation);
    const adReady = await readyIs("l2advertisements", "lan", "True", "Accepted");
    expect(adReady.message).toBe("in force: announces pools lan from every node on every interface");
    expect(adReady.observedGeneration).toBe(ad.metadata.generation);
    expect(await sample(c.metrics.configObjectReady, { kind: "IPAddressPool", name: "lan" })).toBe(1);
    expect(await sample(c.metrics.configObjectReady, { kind: "L2Advertisement", name: "lan" })).toBe(1);
    expect(await sample(c.metrics.configStale)).toBe(0);
    expect(await sample(c.metrics.unannouncedIps)).toBe(0);
    await settle(c);
    expect((await eventsFor(core, "Service", "web", "default")).filter((e) => e.type === "Warning")).toEqual([]);
  });

  it("marks an overlapping pool Ready=False naming both pools, keeps the Service's IP, and accepts it once fixed", async () => {
    await crs.create("ipaddresspools", "lan", { addresses: ["192.168.10.0/29"] });
    await crs.create("l2advertisements", "all", {});
    const c = await start();
    await createService("web");
    expect(await ipOf("web")).toBe("192.168.10.0");
    await readyIs("ipaddresspools", "lan", "True", "Accepted");

    await crs.create("ipaddresspools", "extra", { addresses: ["192.168.10.4-192.168.10.20"] });
    const overlap = await readyIs("ipaddresspools", "extra", "False", "OverlappingPools");
    expect(overlap.message).toBe(
      'spec.addresses[0] 192.168.10.4-192.168.10.20 overlaps pool "lan" (IPAddressPool metallb-system/lan, spec.addresses[0] 192.168.10.0/29), ' +
        "sharing 192.168.10.4-192.168.10.7; give each pool distinct addresses",
    );
    expect(overlap.observedGeneration).toBe(1);
    const warning = await eventOn("IPAddressPool", "extra", namespace, "OverlappingPools");
    expect(warning).toEqual({ type: "Warning", reason: "OverlappingPools", message: overlap.message });
    expect(await sample(c.metrics.configObjectReady, { kind: "IPAddressPool", name: "extra" })).toBe(0);
    expect(await sample(c.metrics.configObjectReady, { kind: "IPAddressPool", name: "lan" })).toBe(1);
    expect(await sample(c.metrics.configStale)).toBe(1);
    await settle(c);
    expect((await crs.ready("ipaddresspools", "lan"))?.status).toBe("True");
    expect(await ipsOf(core, "web")).toEqual(["192.168.10.0"]);
    // The rejected pool's addresses are not handed out.
    await createService("second");
    expect(await ipOf("second")).toBe("192.168.10.1");

    await crs.patchSpec("ipaddresspools", "extra", { addresses: ["192.168.11.0/30"] });
    const fixed = await readyIs("ipaddresspools", "extra", "True", "Accepted");
    expect(fixed.observedGeneration).toBe(2);
    expect(fixed.message).toBe("in force: 192.168.11.0/30 (autoAssign)");
    await eventually(async () => ((await sample(c.metrics.configObjectReady, { kind: "IPAddressPool", name: "extra" })) === 1 ? true : undefined), { ms: 10_000, what: "condition", everyMs: 50 });
    expect(await sample(c.metrics.configStale)).toBe(0);
    expect(await ipsOf(core, "web")).toEqual(["192.168.10.0"]);
  });

  it("assigns from a pool no L2Advertisement selects, warns NotAnnounced on the Service, and clears the gauge once one does", async () => {
    await crs.create("ipaddresspools", "lan", { addresses: ["192.168.10.0/29"] });
    await crs.create("l2advertisements", "lan", { ipAddressPools: ["lan"] });
    await crs.create("ipaddresspools", "dark", { addresses: ["192.168.20.0/30"], autoAssign: false });
    const c = await start();
    await createService("hidden", { annotations: { "metallb.universe.tf/address-pool": "dark" } });
    expect(await ipOf("hidden")).toBe("192.168.20.0");
    const warning = await eventOn("Service", "hidden", "default", "NotAnnounced");
    expect(warning).toEqual({
      type: "Warning",
      reason: "NotAnnounced",
      message: '192.168.20.0 from pool "dark" is not announced: no L2Advertisement selects pool "dark"; create one that does (spec.ipAddressPools: [dark])',
    });
    expect(await sample(c.metrics.unannouncedIps)).toBe(1);
    const poolReady = await readyIs("ipaddresspools", "dark", "True", "Accepted");
    expect(poolReady.message).toContain('not announced: no L2Advertisement selects pool "dark"');

    await crs.create("l2advertisements", "dark", { ipAddressPools: ["dark"] });
    await eventually(async () => ((await sample(c.metrics.unannouncedIps)) === 0 ? true : undefined), { ms: 10_000, what: "the unannounced gauge to drop to 0", everyMs: 50 });
    await readyIs("l2advertisements", "dark", "True", "Accepted");
    await eventually(
      async () => ((await crs.ready("ipaddresspools", "dark"))?.message === "in force: 192.168.20.0/30 (autoAssign: false)" ? true : undefined),
      { ms: 10_000, what: "condition", everyMs: 50 },
    );
    await settle(c);
    expect((await eventsFor(core, "Service", "hidden", "default")).filter((e) => e.reason === "NotAnnounced")).toHaveLength(1);
    expect(await ipsOf(core, "hidden")).toEqual(["192.168.20.0"]);
  });

  it("warns NotAnnounced while the advertisement's nodeSelectors match no Node, and stops once a Node is labelled", async () => {
    await core.createNode({ body: { metadata: { name: "node-1", labels: { "kubernetes.io/hostname": "node-1" } } } });
    await crs.create("ipaddresspools", "lan", { addresses: ["192.168.10.0/29"] });
    await crs.create("l2advertisements", "edge", { ipAddressPools: ["lan"], nodeSelectors: [{ matchLabels: { role: "edge" } }] });
    const c = await start();
    await createService("web");
    expect(await ipOf("web")).toBe("192.168.10.0");
    expect(await eventOn("Service", "web", "default", "NotAnnounced")).toEqual({
      type: "Warning",
      reason: "NotAnnounced",
      message:
        '192.168.10.0 from pool "lan" is not announced: no node matches the nodeSelectors of L2Advertisement metallb-system/edge (role=edge); label a node to match, or change the nodeSelectors',
    });
    expect(await sample(c.metrics.unannouncedIps)).toBe(1);

    await core.patchNode({ name: "node-1", body: { metadata: { labels: { role: "edge" } } } }, setHeaderOptions("Content-Type", "application/merge-patch+json"));
    await eventually(async () => ((await sample(c.metrics.unannouncedIps)) === 0 ? true : undefined), { ms: 10_000, what: "the unannounced gauge to drop to 0", everyMs: 50 });
    expect(await ipsOf(core, "web")).toEqual(["192.168.10.0"]);
  });

  it("marks an L2Advertisement naming a missing pool Ready=False PoolNotFound and keeps the last good config", async () => {
    await crs.create("ipaddresspools", "lan", { addresses: ["192.168.10.0/29"] });
    await crs.create("l2advertisements", "lan", { ipAddressPools: ["lan"] });
    const c = await start();
    await createService("web");
    expect(await ipOf("web")).toBe("192.168.10.0");

    await crs.create("l2advertisements", "typo", { ipAddressPools: ["lna"] });
    const missing = await readyIs("l2advertisements", "typo", "False", "PoolNotFound");
    expect(missing.message).toBe('spec.ipAddressPools[0]: no pool is named "lna" (the pools are lan); create an IPAddressPool named "lna" or correct the name');
    expect(await eventOn("L2Advertisement", "typo", namespace, "PoolNotFound")).toMatchObject({ type: "Warning", message: missing.message });
    expect(await sample(c.metrics.configObjectReady, { kind: "L2Advertisement", name: "typo" })).toBe(0);

    // A new pool waits behind the broken advertisement (the step is atomic), with a message saying so.
    await crs.create("ipaddresspools", "more", { addresses: ["192.168.11.0/30"] });
    const waiting = await readyIs("ipaddresspools", "more", "False", "NotApplied");
    expect(waiting.message).toContain("L2Advertisement metallb-system/typo (PoolNotFound)");
    // The last good config allocates.
    await createService("second");
    expect(await ipOf("second")).toBe("192.168.10.1");
    expect((await crs.ready("ipaddresspools", "lan"))?.status).toBe("True");
    expect((await crs.ready("l2advertisements", "lan"))?.status).toBe("True");
    await settle(c);
    expect(await ipsOf(core, "web")).toEqual(["192.168.10.0"]);

    await crs.patchSpec("l2advertisements", "typo", { ipAddressPools: ["lan", "more"] });
    await readyIs("l2advertisements", "typo", "True", "Accepted");
    await readyIs("ipaddresspools", "more", "True", "Accepted");
  });

  it("merges a ConfigMap pool with IPAddressPools, and refuses a CR pool named like a ConfigMap pool", async () => {
    await putConfig(core, readmeConfig);
    await crs.create("ipaddresspools", "lan", { addresses: ["192.168.10.0/29"], autoAssign: false });
    await crs.create("l2advertisements", "lan", { ipAddressPools: ["lan"] });
    const c = await start();
    await createService("legacy");
    await createService("crd", { annotations: { "metallb.universe.tf/address-pool": "lan" } });
    expect(await ipOf("legacy")).toBe("192.168.126.40");
    expect(await ipOf("crd")).toBe("192.168.10.0");
    await readyIs("ipaddresspools", "lan", "True", "Accepted");

    await crs.create("ipaddresspools", "default", { addresses: ["192.168.30.0/30"] });
    const duplicate = await readyIs("ipaddresspools", "default", "False", "DuplicatePoolName");
    expect(duplicate.message).toBe(
      'metadata.name: pool "default" is also defined by ConfigMap metallb-system/config, and pool names must be unique across both (Services name pools by name); ' +
        "rename this IPAddressPool, or remove the pool from the ConfigMap (delete the ConfigMap if the IPAddressPools replace it)",
    );
    expect(await eventOn("IPAddressPool", "default", namespace, "DuplicatePoolName")).toMatchObject({ type: "Warning" });
    // The ConfigMap pool keeps working, and the ConfigMap carries the config-wide warning.
    await createService("another");
    expect(await ipOf("another")).toBe("192.168.126.41");
    const invalid = await eventOn("ConfigMap", "config", namespace, "InvalidConfig");
    expect(invalid.message).toContain("IPAddressPool metallb-system/default");
    expect(invalid.message).toContain("the last good config stays in force (pools default, lan)");
    // An IPAddressPool overlapping the ConfigMap's pool is at fault, not the ConfigMap that serves.
    await crs.create("ipaddresspools", "clash", { addresses: ["192.168.126.44/31"] });
    const clash = await readyIs("ipaddresspools", "clash", "False", "OverlappingPools");
    expect(clash.message).toBe(
      'spec.addresses[0] 192.168.126.44/31 overlaps pool "default" (ConfigMap metallb-system/config, addresses[0] 192.168.126.40-192.168.126.45), ' +
        "sharing 192.168.126.44-192.168.126.45; give each pool distinct addresses (or delete the ConfigMap if the IPAddressPools replace it)",
    );
    await settle(c);
    expect((await crs.ready("ipaddresspools", "lan"))?.status).toBe("True");
    expect(await ipsOf(core, "legacy")).toEqual(["192.168.126.40"]);
    expect(await ipsOf(core, "crd")).toEqual(["192.168.10.0"]);
  });

  it("migrates a Service from the ConfigMap pool to the converted IPAddressPool without moving its IP", async () => {
    await putConfig(core, readmeConfig);
    const c = await start();
    await createService("web");
    expect(await ipOf("web")).toBe("192.168.126.40");

    // What `npm run convert-config` prints for the README's ConfigMap.
    await crs.create("ipaddresspools", "default", { addresses: ["192.168.126.40-192.168.126.45"] });
    await crs.create("l2advertisements", "default", { ipAddressPools: ["default"] });
    const both = await readyIs("ipaddresspools", "default", "False", "DuplicatePoolName");
    expect(both.message).toContain("delete the ConfigMap if the IPAddressPools replace it");
    await readyIs("l2advertisements", "default", "False", "NotApplied");

    await core.deleteNamespacedConfigMap({ name: "config", namespace });
    const loaded = await readyIs("ipaddresspools", "default", "True", "Accepted");
    expect(loaded.message).toBe("in force: 192.168.126.40-192.168.126.45 (autoAssign)");
    await readyIs("l2advertisements", "default", "True", "Accepted");
    await eventually(async () => ((await crs.get("ipaddresspools", "default")).status?.assignedIPv4 === 1 ? true : undefined), { ms: 10_000, what: "the pool to count web's IP", everyMs: 50 });
    await settle(c);
    const web = await core.readNamespacedService({ name: "web", namespace: "default" });
    expect(web.status?.loadBalancer?.ingress?.map((i) => i.ip)).toEqual(["192.168.126.40"]);
    expect(allocatedFrom(web)).toBe("default");
    expect((await eventsFor(core, "Service", "web", "default")).map((e) => e.reason)).toEqual(["IPAllocated"]);
    expect(await sample(c.metrics.configStale)).toBe(0);
    await createService("next");
    expect(await ipOf("next")).toBe("192.168.126.41");
  });

  it("allocates by serviceAllocation: namespaceSelectors, serviceSelectors and priority; relabelling a namespace moves no IP", async () => {
    await ensureNamespace(core, "team-b");
    await core.createNamespace({ body: { metadata: { name: "team-a", labels: { team: "a" } } } });
    await crs.create("ipaddresspools", "general", { addresses: ["192.168.40.0/30"] });
    await crs.create("ipaddresspools", "team", { addresses: ["192.168.41.0/30"], serviceAllocation: { priority: 20, namespaceSelectors: [{ matchLabels: { team: "a" } }] } });
    await crs.create("ipaddresspools", "gold", { addresses: ["192.168.42.0/30"], serviceAllocation: { priority: 10, serviceSelectors: [{ matchLabels: { tier: "gold" } }] } });
    await crs.create("l2advertisements", "all", {});
    const c = await start();
    const teamReady = await readyIs("ipaddresspools", "team", "True", "Accepted");
    expect(teamReady.message).toBe("in force: 192.168.41.0/30 (autoAssign, priority 20, namespaces matching team=a)");

    await createService("plain");
    await createService("app", { ns: "team-a" });
    await createService("vip", { ns: "team-a", labels: { tier: "gold" } });
    await createService("gold", { labels: { tier: "gold" } });
    await createService("app", { ns: "team-b" });
    expect(await ipOf("plain")).toBe("192.168.40.0");
    expect(await ipOf("app", "team-a")).toBe("192.168.41.0");
    expect(await ipOf("vip", "team-a")).toMatch(/^192\.168\.42\./);
    expect(await ipOf("gold")).toMatch(/^192\.168\.42\./);
    expect(await ipOf("app", "team-b")).toBe("192.168.40.1");

    // MetalLB would move team-a/app off pool "team"; we keep a valid IP where it is.
    await core.patchNamespace({ name: "team-a", body: [{ op: "replace", path: "/metadata/labels/team", value: "b" }] }, jsonPatchOptions);
    await createService("late", { ns: "team-a" });
    expect(await ipOf("late", "team-a")).toBe("192.168.40.2");
    await settle(c);
    expect(await ipsOf(core, "app", "team-a")).toEqual(["192.168.41.0"]);
    expect((await eventsFor(core, "Service", "app", "team-a")).map((e) => e.reason)).toEqual(["IPAllocated"]);
  });

  it("gives a Service whose Namespace the controller has not seen yet the pool its Namespace's labels select", async () => {
    await crs.create("ipaddresspools", "general", { addresses: ["192.168.40.0/30"] });
    await crs.create("ipaddresspools", "team", { addresses: ["192.168.41.0/30"], serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: "a" } }] } });
    await crs.create("l2advertisements", "all", {});
    const c = await start();
    await readyIs("ipaddresspools", "team", "True", "Accepted");
    // `kubectl apply -f` of a Namespace and its Service: the Service's event may reach the controller
    // before the Namespace's. Hold the controller's Namespace informer back to make that certain.
    hideNamespaces = true;
    sim.faults.dropWatches();
    await core.createNamespace({ body: { metadata: { name: "team-a", labels: { team: "a" } } } });
    await createService("app", { ns: "team-a" });
    await eventually(async () => ((await sample(c.metrics.pendingServices)) === 1 ? true : undefined), { ms: 10_000, what: "the Service to wait", everyMs: 50 });
    expect(await ipsOf(core, "app", "team-a")).toEqual([]);
    hideNamespaces = false;
    expect(await ipOf("app", "team-a")).toBe("192.168.41.0");
    await settle(c);
    expect((await eventsFor(core, "Service", "app", "team-a")).map((e) => e.reason)).toEqual(["IPAllocated"]);
  });

  it("refuses to delete an IPAddressPool whose IP a Service holds, and applies the deletion once the Service is gone", async () => {
    await crs.create("ipaddresspools", "lan", { addresses: ["192.168.10.0/29"] });
    await crs.create("ipaddresspools", "spare", { addresses: ["192.168.11.0/30"] });
    await crs.create("l2advertisements", "all", {});
    const c = await start();
    await createService("web");
    expect(await ipOf("web")).toBe("192.168.10.0");
    await readyIs("ipaddresspools", "lan", "True", "Accepted");

    const uid = (await crs.get("ipaddresspools", "lan")).metadata.uid;
    await crs.remove("ipaddresspools", "lan");
    await eventually(
      async () => ((await c.metrics.configRejections.get()).values.find((v) => v.labels.cause === "would-orphan-ips")?.value === 1 ? true : undefined),
      { ms: 10_000, what: "condition", everyMs: 50 },
    );
    expect(await sample(c.metrics.configStale)).toBe(1);
    const refusal = c.logs.find((l) => l.msg === "config (re)load failed, config marked stale");
    expect(refusal?.reason).toContain("default/web holds 192.168.10.0 (192.168.10.0 is in no pool of the new config)");
    // The pool is gone from `kubectl get`, so `kubectl get events` says why it still counts.
    const told = await eventually(async () => {
      const list = await core.listNamespacedEvent({ namespace });
      return list.items.find((e) => e.involvedObject.kind === "IPAddressPool" && e.involvedObject.name === "lan" && e.reason === "WouldTakeIPs");
    }, { ms: 10_000, what: "a WouldTakeIPs Event on the deleted pool", everyMs: 50 });
    expect(told.type).toBe("Warning");
    expect(told.involvedObject.uid).toBe(uid);
    expect(told.message).toBe(
      "IPAddressPool metallb-system/lan was deleted but stays in force while Services hold its IPs: default/web holds 192.168.10.0; " +
        "delete those Services or give them other IPs, and the deletion applies as soon as they are gone",
    );
    expect(await readyIs("ipaddresspools", "spare", "True", "Accepted")).toBeDefined();
    // The deleted pool is still in force: its free addresses are still handed out.
    await createService("second");
    expect(await ipOf("second")).toBe("192.168.10.1");
    await settle(c);
    expect(await ipsOf(core, "web")).toEqual(["192.168.10.0"]);

    await core.deleteNamespacedService({ name: "second", namespace: "default" });
    await core.deleteNamespacedService({ name: "web", namespace: "default" });
    await eventually(async () => ((await sample(c.metrics.configStale)) === 0 ? true : undefined), { ms: 10_000, what: "the deletion to apply", everyMs: 50 });
    expect(await sample(c.metrics.addressesTotal, { pool: "lan" })).toBeUndefined();
    await createService("third");
    expect(await ipOf("third")).toBe("192.168.11.0");
  });

  it("writes each pool's status a handful of times, not once per Service, when 200 Services are allocated", async () => {
    await crs.create("ipaddresspools", "big", { addresses: ["10.20.0.0/24"] });
    await crs.create("l2advertisements", "all", {});
    const c = await start();
    await readyIs("ipaddresspools", "big", "True", "Accepted");
    const before = statusPatches("big");
    const names = Array.from({ length: 200 }, (_, i) => `svc-${i}`);
    for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((n) => createService(n)));
    await eventually(async () => ((await crs.get("ipaddresspools", "big")).status?.assignedIPv4 === 200 ? true : undefined), { ms: 20_000, what: "the pool to count 200 IPs", everyMs: 50 });
    await settle(c);
    expect((await crs.get("ipaddresspools", "big")).status).toMatchObject({ assignedIPv4: 200, availableIPv4: 56 });
    const writes = statusPatches("big") - before;
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(8);
    // A steady state writes nothing.
    await new Promise((r) => setTimeout(r, 1_200));
    await settle(c);
    expect(statusPatches("big") - before).toBe(writes);
  }, 30_000);
});

describe("controller without MetalLB's CRDs installed", () => {
  it("works from the ConfigMap alone", async () => {
    await putConfig(core, readmeConfig);
    const c = await start();
    expect(c.controller.isSynced()).toBe(true);
    await createService("web");
    expect(await ipOf("web")).toBe("192.168.126.40");
    expect((await eventOn("ConfigMap", "config", namespace, "ConfigLoaded")).message).toBe("Config loaded: 1 pool(s) (default)");
    expect(await sample(c.metrics.configStale)).toBe(0);
    await settle(c);
    expect(requests.filter((r) => r.resource === "ipaddresspools" && r.verb === "patch")).toEqual([]);
  });
});

const jsonPatchOptions = setHeaderOptions("Content-Type", "application/json-patch+json");

function statusPatches(pool: string): number {
  return requests.filter((r) => r.verb === "patch" && r.resource === "ipaddresspools" && r.subresource === "status" && r.name === pool).length;
}
