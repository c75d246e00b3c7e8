import { CoreV1Api, setHeaderOptions } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "../../tools/kube-sim/index.ts";
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
import { ServiceIpRecorder } from "./service-ip-recorder.ts";

let sim: KubeSim;
let core: CoreV1Api;
let running: TestController[] = [];

beforeEach(async () => {
  sim = await startKubeSim();
  core = sim.client.makeApiClient(CoreV1Api);
  running = [];
});

afterEach(async () => {
  await Promise.all(running.map((c) => c.stop()));
  await sim.stop();
});

async function start(opts: { lbClass?: string } = {}): Promise<TestController> {
  const c = await startTestController(sim, opts);
  running.push(c);
  return c;
}

async function settle(c: TestController): Promise<void> {
  await new Promise((r) => setTimeout(r, 100));
  await c.controller.idle();
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `svc-${i + 1}`);

const jsonPatch = setHeaderOptions("Content-Type", "application/json-patch+json");
const mergePatch = setHeaderOptions("Content-Type", "application/merge-patch+json");

/** The value of a metric without labels, or of the sample with `labels`. */
async function sample(metric: { get(): Promise<{ values: { value: number; labels: object }[] }> }, labels: Record<string, string> = {}): Promise<number | undefined> {
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))?.value;
}

/** The Events on the pool ConfigMap, as `kubectl get events -n metallb-system` lists them. */
async function configMapEvents(): Promise<{ type: string; reason: string; message: string; uid: string | undefined }[]> {
  const list = await core.listNamespacedEvent({ namespace });
  return list.items
    .filter((e) => e.involvedObject.kind === "ConfigMap" && e.involvedObject.name === "config" && e.involvedObject.namespace === namespace)
    .map((e) => ({ type: e.type ?? "", reason: e.reason ?? "", message: e.message ?? "", uid: e.involvedObject.uid }));
}

describe("controller against the API simulator", () => {
  it("gives six Services distinct IPs from a six-address range; the seventh waits, then gets the freed IP", async () => {
    await putConfig(core, readmeConfig);
    const c = await start();
    for (const name of names(7)) {
      await core.createNamespacedService({ namespace: "default", body: lbService(name) });
      await new Promise((r) => setTimeout(r, 5)); // distinct creation order
    }
    const firstSix = await eventually(async () => {
      const all = await Promise.all(names(6).map((n) => ipsOf(core, n)));
      return all.every((ips) => ips.length === 1) ? all.map((ips) => ips[0]) : undefined;
    }, { ms: 10_000, what: "six IPs", everyMs: 50 });
    expect(new Set(firstSix).size).toBe(6);
    expect(firstSix.sort()).toEqual(["192.168.126.40", "192.168.126.41", "192.168.126.42", "192.168.126.43", "192.168.126.44", "192.168.126.45"]);
    await settle(c);
    expect(await ipsOf(core, "svc-7")).toEqual([]);
    const failed = await eventually(async () => (await eventsFor(core, "Service", "svc-7", "default")).find((e) => e.reason === "AllocationFailed"), { ms: 10_000, what: "condition", everyMs: 50 });
    expect(failed.type).toBe("Warning");
    expect(failed.message).toContain('Failed to allocate IP for "default/svc-7"');

    const freed = (await ipsOf(core, "svc-3"))[0];
    await core.deleteNamespacedService({ name: "svc-3", namespace: "default" });
    const seventh = await eventually(async () => (await ipsOf(core, "svc-7"))[0], { ms: 10_000, what: "svc-7 to get an IP", everyMs: 50 });
    expect(seventh).toBe(freed);
    const allocated = await eventsFor(core, "Service", "svc-7", "default");
    expect(allocated.some((e) => e.reason === "IPAllocated" && e.message === `Assigned IP ["${freed}"]`)).toBe(true);
    const svc = await core.readNamespacedService({ name: "svc-7", namespace: "default" });
    expect(svc.metadata?.annotations?.["metallb.universe.tf/ip-allocated-from-pool"]).toBe("default");
    expect(svc.status?.loadBalancer?.ingress?.[0]?.ipMode).toBe("VIP");
  });

  it("keeps every IP when the controller restarts with full pools", async () => {
    await putConfig(core, readmeConfig);
    const first = await start();
    for (const name of names(6)) await core.createNamespacedService({ namespace: "default", body: lbService(name) });
    const before = await eventually(async () => {
      const all = await Promise.all(names(6).map((n) => ipsOf(core, n)));
      return all.every((ips) => ips.length === 1) ? all : undefined;
    }, { ms: 10_000, what: "condition", everyMs: 50 });
    await first.stop();
    running = [];
    // A Service created while no controller runs must not steal an IP from the others.
    await core.createNamespacedService({ namespace: "default", body: lbService("late") });
    const second = await start();
    await settle(second);
    expect(await Promise.all(names(6).map((n) => ipsOf(core, n)))).toEqual(before);
    expect(await ipsOf(core, "late")).toEqual([]);
    const statusWrites = second.logs.filter((l) => l.msg === "ip assigned");
    expect(statusWrites).toEqual([]);
  });

  it("keeps the IP of a Service whose request became invalid while the controller was down", async () => {
    await putConfig(core, readmeConfig);
    const first = await start();
    await core.createNamespacedService({ namespace: "default", body: lbService("bad") });
    expect(await eventually(async () => (await ipsOf(core, "bad"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.40");
    await first.stop();
    running = [];
    const svc = await core.readNamespacedService({ name: "bad", namespace: "default" });
    await core.replaceNamespacedService({
      name: "bad",
      namespace: "default",
      body: { ...svc, metadata: { ...svc.metadata, annotations: { ...svc.metadata?.annotations, "metallb.universe.tf/loadBalancerIPs": "192.168.126.41" } }, spec: { ...svc.spec, loadBalancerIP: "192.168.126.42" } },
    });
    await core.createNamespacedService({ namespace: "default", body: lbService("newcomer") });
    const second = await start();
    expect(await eventually(async () => (await ipsOf(core, "newcomer"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.41");
    await settle(second);
    expect(await ipsOf(core, "bad")).toEqual(["192.168.126.40"]);
    const failed = await eventually(async () => (await eventsFor(core, "Service", "bad", "default")).find((e) => e.reason === "AllocationFailed"), { ms: 10_000, what: "condition", everyMs: 50 });
    expect(failed.message).toContain("sets both spec.loadBalancerIP and metallb.universe.tf/loadBalancerIPs");
  });

  it("honours a requested IP and the pool annotation, and explains a conflict", async () => {
    await putConfig(
      core,
      `address-pools:
- name: default
  protocol: layer2
  addresses: [192.168.126.40-192.168.126.45]
- name: reserved
  protocol: layer2
  auto-assign: false
  addresses: [192.168.127.0/30]
`,
    );
    const c = await start();
    await core.createNamespacedService({ namespace: "default", body: lbService("wanted", { annotations: { "metallb.universe.tf/loadBalancerIPs": "192.168.126.44" } }) });
    await core.createNamespacedService({ namespace: "default", body: lbService("pooled", { annotations: { "metallb.universe.tf/address-pool": "reserved" } }) });
    await core.createNamespacedService({ namespace: "default", body: lbService("auto") });
    expect(await eventually(async () => (await ipsOf(core, "wanted"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.44");
    expect(await eventually(async () => (await ipsOf(core, "pooled"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.127.0");
    expect(await eventually(async () => (await ipsOf(core, "auto"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.40");

    await core.createNamespacedService({ namespace: "default", body: lbService("thief", { annotations: { "metallb.universe.tf/loadBalancerIPs": "192.168.126.44" } }) });
    const refused = await eventually(async () => (await eventsFor(core, "Service", "thief", "default")).find((e) => e.reason === "AllocationFailed"), { ms: 10_000, what: "condition", everyMs: 50 });
    expect(refused.message).toContain("192.168.126.44");
    expect(refused.message).toContain("default/wanted");
    await settle(c);
    expect(await ipsOf(core, "thief")).toEqual([]);
  });

  it("lets Services with the same sharing key and distinct ports share an IP, and names the clash otherwise", async () => {
    await putConfig(core, readmeConfig);
    const c = await start();
    const shared = { "metallb.universe.tf/allow-shared-ip": "dns", "metallb.universe.tf/loadBalancerIPs": "192.168.126.42" };
    await core.createNamespacedService({ namespace: "default", body: lbService("dns-tcp", { annotations: shared, ports: [{ port: 53, protocol: "TCP" }] }) });
    await core.createNamespacedService({ namespace: "default", body: lbService("dns-udp", { annotations: shared, ports: [{ port: 53, protocol: "UDP" }] }) });
    expect(await eventually(async () => (await ipsOf(core, "dns-tcp"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.42");
    expect(await eventually(async () => (await ipsOf(core, "dns-udp"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.42");

    await core.createNamespacedService({ namespace: "default", body: lbService("dns-clash", { annotations: shared, ports: [{ port: 53, protocol: "UDP" }] }) });
    const refused = await eventually(
      async () => (await eventsFor(core, "Service", "dns-clash", "default")).find((e) => e.reason === "AllocationFailed"),
      { ms: 10_000, what: "condition", everyMs: 50 },
    );
    expect(refused.message).toContain("default/dns-udp");
    expect(refused.message).toContain("UDP/53");
    await settle(c);
    expect(await ipsOf(core, "dns-clash")).toEqual([]);
  });

  it("rejects an invalid config, keeps the old one, and reports it as an Event, a log line and a metric", async () => {
    await putConfig(core, readmeConfig);
    const c = await start();
    await core.createNamespacedService({ namespace: "default", body: lbService("a") });
    expect(await eventually(async () => (await ipsOf(core, "a"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.40");
    await putConfig(core, `address-pools:\n- name: default\n  protocol: layer2\n  adresses: [10.0.0.0/28]\n`);
    const warning = await eventually(async () => (await eventsFor(core, "ConfigMap", "config", namespace)).find((e) => e.type === "Warning"), { ms: 10_000, what: "condition", everyMs: 50 });
    expect(warning.reason).toBe("InvalidConfig");
    expect(warning.message).toContain("adresses");
    expect(warning.message).toContain("the last good config stays in force");
    expect((await c.metrics.configStale.get()).values[0].value).toBe(1);
    expect((await c.metrics.configLoaded.get()).values[0].value).toBe(1);
    expect(c.logs.some((l) => l.msg === "config (re)load failed, config marked stale")).toBe(true);
    // The old pools still allocate.
    await core.createNamespacedService({ namespace: "default", body: lbService("b") });
    expect(await eventually(async () => (await ipsOf(core, "b"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.41");
  });

  it("rejects a config that would orphan an IP, then applies it once the blocking Service is gone", async () => {
    await putConfig(core, readmeConfig);
    const c = await start();
    await core.createNamespacedService({ namespace: "default", body: lbService("holder") });
    expect(await eventually(async () => (await ipsOf(core, "holder"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.40");
    const shrunk = `address-pools:\n- name: default\n  protocol: layer2\n  addresses: [192.168.126.44-192.168.126.45]\n`;
    await putConfig(core, shrunk);
    const warning = await eventually(async () => (await eventsFor(core, "ConfigMap", "config", namespace)).find((e) => e.type === "Warning"), { ms: 10_000, what: "condition", everyMs: 50 });
    expect(warning.message).toContain("default/holder holds 192.168.126.40");
    expect(warning.message).toContain("Delete those Services or give them other IPs first");
    await settle(c);
    expect(await ipsOf(core, "holder")).toEqual(["192.168.126.40"]);
    expect((await c.metrics.configStale.get()).values[0].value).toBe(1);

    await core.deleteNamespacedService({ name: "holder", namespace: "default" });
    await core.createNamespacedService({ namespace: "default", body: lbService("after") });
    expect(await eventually(async () => (await ipsOf(core, "after"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.44");
    expect((await c.metrics.configStale.get()).values[0].value).toBe(0);
  });

  it("releases and clears a Service that changes type or class, and ignores other classes", async () => {
    await putConfig(core, readmeConfig);
    const c = await start();
    await core.createNamespacedService({ namespace: "default", body: lbService("web") });
    await core.createNamespacedService({ namespace: "default", body: lbService("other", { spec: { loadBalancerClass: "example.com/other" } }) });
    expect(await eventually(async () => (await ipsOf(core, "web"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.40");
    await core.patchNamespacedService(
      { name: "web", namespace: "default", body: [{ op: "replace", path: "/spec/type", value: "ClusterIP" }, { op: "remove", path: "/spec/ports/0/nodePort" }] },
      (await import("@kubernetes/client-node")).setHeaderOptions("Content-Type", "application/json-patch+json"),
    );
    await eventually(async () => ((await ipsOf(core, "web")).length === 0 ? true : undefined), { ms: 10_000, what: "condition", everyMs: 50 });
    await settle(c);
    expect(await ipsOf(core, "other")).toEqual([]);
    await core.createNamespacedService({ namespace: "default", body: lbService("next") });
    expect(await eventually(async () => (await ipsOf(core, "next"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.40");
  });

  it("survives dropped watches and 410 Gone, and converges", async () => {
    await putConfig(core, readmeConfig);
    const c = await start();
    await core.createNamespacedService({ namespace: "default", body: lbService("one") });
    expect(await eventually(async () => (await ipsOf(core, "one"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.40");
    sim.faults.dropWatches();
    await core.createNamespacedService({ namespace: "default", body: lbService("two") });
    expect(await eventually(async () => (await ipsOf(core, "two"))[0], { ms: 15_000, what: "condition", everyMs: 50 })).toBe("192.168.126.41");
    sim.faults.compact();
    sim.faults.dropWatches();
    await core.deleteNamespacedService({ name: "one", namespace: "default" });
    await core.createNamespacedService({ namespace: "default", body: lbService("three") });
    expect(await eventually(async () => (await ipsOf(core, "three"))[0], { ms: 15_000, what: "condition", everyMs: 50 })).toBe("192.168.126.40");
    sim.faults.failNext(3, 503, 1);
    await core.createNamespacedService({ namespace: "default", body: lbService("four") }).catch(() => undefined);
    await eventually(async () => {
      try {
        await core.readNamespacedService({ name: "four", namespace: "default" });
        return true;
      } catch {
        await core.createNamespacedService({ namespace: "default", body: lbService("four") }).catch(() => undefined);
        return undefined;
      }
    }, { ms: 10_000, what: "condition", everyMs: 50 });
    expect(await eventually(async () => (await ipsOf(core, "four"))[0], { ms: 15_000, what: "condition", everyMs: 50 })).toBe("192.168.126.42");
    await settle(c);
  });

  it("keeps every IP and the last good pools through a removed key, an empty key, invalid YAML and a deleted ConfigMap, and says so each time", async () => {
    await putConfig(core, readmeConfig);
    const c = await start();
    const uid = (await core.readNamespacedConfigMap({ name: "config", namespace })).metadata?.uid;
    await core.createNamespacedService({ namespace: "default", body: lbService("holder") });
    expect(await eventually(async () => (await ipsOf(core, "holder"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.40");

    const breakages: [string, string, () => Promise<unknown>, string][] = [
      [
        "key-missing",
        "after-missing-key",
        () => core.patchNamespacedConfigMap({ name: "config", namespace, body: [{ op: "remove", path: "/data/config" }] }, jsonPatch),
        'ConfigMap metallb-system/config has no "config" key; put the address-pools YAML under data.config; the last good config stays in force (pools default)',
      ],
      [
        "empty",
        "after-empty-key",
        () => putConfig(core, ""),
        'ConfigMap metallb-system/config has an empty "config" key; put the address-pools YAML there (a config without pools is written "address-pools: []"); the last good config stays in force (pools default)',
      ],
      [
        "invalid",
        "after-invalid-yaml",
        () => putConfig(core, "address-pools:\n- name: default\n  protocol: layer2\n  addresses: [192.168.126.40-192.168.126.45\n"),
        'ConfigMap metallb-system/config, key "config": config is not valid YAML at line',
      ],
      [
        "deleted",
        "after-delete",
        () => core.deleteNamespacedConfigMap({ name: "config", namespace }),
        "ConfigMap metallb-system/config was deleted and no IPAddressPool exists in metallb-system; create an IPAddressPool and an L2Advertisement in metallb-system, or recreate the ConfigMap with the address-pools YAML under data.config; the last good config stays in force (pools default)",
      ],
    ];
    const expected = new Map([["holder", "192.168.126.40"]]);
    let next = 41;
    for (const [cause, newcomer, breakIt, message] of breakages) {
      await breakIt();
      const warning = await eventually(async () => (await configMapEvents()).find((e) => e.message.startsWith(message)), { ms: 10_000, what: `the ${cause} Warning Event`, everyMs: 50 });
      expect(warning).toMatchObject({ type: "Warning", reason: "InvalidConfig", uid });
      expect(await sample(c.metrics.configStale)).toBe(1);
      expect(await sample(c.metrics.configRejections, { cause })).toBe(1);
      expect(c.logs.find((l) => l.msg === "config (re)load failed, config marked stale" && l.cause === cause)).toMatchObject({ level: 50, reason: warning.message });

      await core.createNamespacedService({ namespace: "default", body: lbService(newcomer) });
      expected.set(newcomer, `192.168.126.${next++}`);
      expect(await eventually(async () => (await ipsOf(core, newcomer))[0], { ms: 10_000, what: `${newcomer} to get an IP`, everyMs: 50 })).toBe(expected.get(newcomer));
      await settle(c);
      for (const [svc, ip] of expected) expect(await ipsOf(core, svc), svc).toEqual([ip]);
    }
    expect(c.logs.filter((l) => l.msg === "released IPs" || l.msg === "assignment changed")).toEqual([]);

    await putConfig(core, readmeConfig);
    const loaded = await eventually(
      async () => (await configMapEvents()).find((e) => e.reason === "ConfigLoaded" && e.uid !== uid),
      { ms: 10_000, what: "ConfigLoaded on the new ConfigMap", everyMs: 50 },
    );
    expect(loaded).toMatchObject({ type: "Normal", message: "Config loaded: 1 pool(s) (default)" });
    expect(await eventually(async () => ((await sample(c.metrics.configStale)) === 0 ? 0 : undefined), { ms: 10_000, what: "config stale = 0", everyMs: 50 })).toBe(0);
    await settle(c);
    for (const [svc, ip] of expected) expect(await ipsOf(core, svc), svc).toEqual([ip]);
  });

  it("hands out nothing while the ConfigMap does not exist, says so, and starts once it is created", async () => {
    await ensureNamespace(core, namespace); // as `kubectl apply -f manifests/` leaves it, before the pool ConfigMap
    await core.createNamespacedService({ namespace: "default", body: lbService("early") });
    const c = await start();
    const warning = await eventually(async () => (await configMapEvents()).find((e) => e.reason === "InvalidConfig"), { ms: 10_000, what: "the InvalidConfig Event", everyMs: 50 });
    expect(warning).toMatchObject({
      type: "Warning",
      uid: undefined,
      message:
        "no IPAddressPool exists in metallb-system and ConfigMap metallb-system/config does not exist; create an IPAddressPool and an L2Advertisement in metallb-system, " +
        "or the ConfigMap with the address-pools YAML under data.config (example: manifests/examples/config.yaml); no config is in force yet, so no Service gets an IP and none is announced",
    });
    expect(await sample(c.metrics.configRejections, { cause: "deleted" })).toBe(1);
    await settle(c);
    expect(await ipsOf(core, "early")).toEqual([]);
    expect(await sample(c.metrics.configLoaded)).toBe(0);

    await putConfig(core, readmeConfig);
    expect(await eventually(async () => (await ipsOf(core, "early"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.40");
    expect(await sample(c.metrics.configStale)).toBe(0);
    expect(await sample(c.metrics.configLoaded)).toBe(1);
  });

  it("never shows a freed IP on two Services at once while writes are pipelined", async () => {
    // 21 addresses: the mover and the leaver take two, 19 are left for 20 newcomers.
    const pools = ["default", "protocol: layer2", "addresses: [192.168.126.32-192.168.126.52]"];
    const reserved = ["reserved", "protocol: layer2", "auto-assign: false", "addresses: [192.168.127.0/30]"];
    await putConfig(core, `address-pools:\n${[pools, reserved].map(([name, ...rest]) => `- name: ${name}\n${rest.map((l) => `  ${l}\n`).join("")}`).join("")}`);
    const c = await start();
    await core.createNamespacedService({ namespace: "default", body: lbService("mover") });
    await core.createNamespacedService({ namespace: "default", body: lbService("leaver") });
    expect(await eventually(async () => (await ipsOf(core, "mover"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.32");
    expect(await eventually(async () => (await ipsOf(core, "leaver"))[0], { ms: 10_000, what: "condition", everyMs: 50 })).toBe("192.168.126.33");
    const recorder = await ServiceIpRecorder.start(sim.client, "default");
    try {
      // The mover asks for another IP and the leaver stops being a LoadBalancer while 20 Services
      // arrive: .34-.52 are not enough for them, so one at least gets .32 or .33 once freed.
      const newcomers = names(20);
      await Promise.all([
        core.patchNamespacedService({ name: "mover", namespace: "default", body: { metadata: { annotations: { "metallb.universe.tf/loadBalancerIPs": "192.168.127.0" } } } }, mergePatch),
        core.patchNamespacedService({ name: "leaver", namespace: "default", body: [{ op: "replace", path: "/spec/type", value: "ClusterIP" }, { op: "remove", path: "/spec/ports/0/nodePort" }] }, jsonPatch),
        ...newcomers.map((n) => core.createNamespacedService({ namespace: "default", body: lbService(n) })),
      ]);
      const ips = await eventually(async () => {
        const all = await Promise.all(newcomers.map((n) => ipsOf(core, n)));
        return all.every((x) => x.length === 1) ? all.map((x) => x[0]) : undefined;
      }, { ms: 10_000, what: "every newcomer to get an IP", everyMs: 50 });
      expect(await eventually(async () => (await ipsOf(core, "mover"))[0] === "192.168.127.0" || undefined, { ms: 10_000, what: "condition", everyMs: 50 })).toBe(true);
      expect(await ipsOf(core, "leaver")).toEqual([]);
      expect(new Set(ips).size).toBe(20);
      expect(ips.filter((ip) => ip === "192.168.126.32" || ip === "192.168.126.33").length).toBeGreaterThan(0);
      await settle(c);
      await new Promise((r) => setTimeout(r, 200)); // let the last writes reach the recorder's watch
      expect(recorder.violations.filter((v) => v.includes(" both show "))).toEqual([]);
    } finally {
      recorder.stop();
    }
  });

  it("counts the Events it drops when one Service gets more than its budget, as client-go's spam filter does", async () => {
    await putConfig(core, readmeConfig);
    const c = await start();
    // An invalid request: every reconcile records AllocationFailed on the Service.
    await core.createNamespacedService({ namespace: "default", body: lbService("noisy", { annotations: { "metallb.universe.tf/loadBalancerIPs": "not-an-ip" } }) });
    await eventually(async () => (await eventsFor(core, "Service", "noisy", "default")).find((e) => e.reason === "AllocationFailed"), { ms: 10_000, what: "condition", everyMs: 50 });
    expect(await sample(c.metrics.eventsDropped, { reason: "spam" })).toBe(0);
    for (let i = 0; i < 40; i++) {
      await core.patchNamespacedService({ name: "noisy", namespace: "default", body: { metadata: { labels: { round: String(i) } } } }, mergePatch);
      await settle(c);
    }
    expect(await sample(c.metrics.eventsDropped, { reason: "spam" })).toBeGreaterThan(0);
    expect(await sample(c.metrics.eventsDropped, { reason: "queue-full" })).toBe(0);
  });

  it("reports an unchanged broken config once, however often the ConfigMap is rewritten", async () => {
    await putConfig(core, readmeConfig);
    const c = await start();
    const broken = { metadata: { name: "config", namespace }, data: { other: "x" } };
    await core.replaceNamespacedConfigMap({ name: "config", namespace, body: broken });
    await eventually(async () => (await configMapEvents()).find((e) => e.reason === "InvalidConfig"), { ms: 10_000, what: "condition", everyMs: 50 });
    for (const value of ["y", "z"]) {
      await core.replaceNamespacedConfigMap({ name: "config", namespace, body: { ...broken, data: { other: value } } });
      await settle(c);
    }
    expect(await sample(c.metrics.configRejections, { cause: "key-missing" })).toBe(1);
    expect(c.logs.filter((l) => l.msg === "config (re)load failed, config marked stale")).toHaveLength(1);
    expect((await configMapEvents()).filter((e) => e.reason === "InvalidConfig")).toHaveLength(1);
  });
});
