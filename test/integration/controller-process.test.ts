import { CoordinationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "../../tools/kube-sim/index.ts";
import { eventually } from "../../tools/support/eventually.ts";
import { ipsOf, lbService, namespace, putConfig, readmeConfig } from "../../tools/lab/controller-harness.ts";
import { ControllerProcess, killAll, type LogLine } from "../../tools/lab/controller-process.ts";
import { ServiceIpRecorder } from "./service-ip-recorder.ts";

const leaseName = "baremetal-lb-controller";
const leaseDurationMs = 2_000;
const retryPeriodMs = 250;
const slowApiMs = 150;
const staleSample = "metallb_k8s_client_config_stale_bool";
const staleMsg = "service holds IPs that no pool covers; leaving it untouched";

let sim: KubeSim;
let core: CoreV1Api;
let coordination: CoordinationV1Api;
let processes: ControllerProcess[] = [];
let recorder: ServiceIpRecorder | undefined;

beforeEach(async () => {
  sim = await startKubeSim();
  core = sim.client.makeApiClient(CoreV1Api);
  coordination = sim.client.makeApiClient(CoordinationV1Api);
  processes = [];
  recorder = undefined;
});

afterEach(async () => {
  recorder?.stop();
  await killAll(processes);
  await sim.stop();
});

function startController(identity: string): ControllerProcess {
  const p = ControllerProcess.start({ kubeconfig: sim.kubeconfigPath, identity });
  processes.push(p);
  return p;
}

async function leaseHolder(): Promise<string | undefined> {
  try {
    const lease = await coordination.readNamespacedLease({ name: leaseName, namespace });
    return lease.spec?.holderIdentity ?? "";
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const indexOfMsg = (logs: LogLine[], msg: string) => logs.findIndex((l) => l.msg === msg);

describe("controller binary against the API simulator", () => {
  it("logs JSON lines, serves metrics and probes, and releases its Lease on SIGTERM", async () => {
    await putConfig(core, readmeConfig);
    const c = startController("solo");
    const started = await c.waitForLog("controller started");
    expect(started).toMatchObject({ component: "controller", identity: "solo", namespace, configMap: "config", level: 30 });
    expect(await c.get("/healthz")).toEqual({ status: 200, body: "ok\n" });
    expect(await eventually(async () => ((await c.get("/readyz")).status === 200 ? true : undefined), { ms: 10_000, what: "/readyz 200", everyMs: 50 })).toBe(true);
    await c.waitForLog("became leader");
    await c.waitForLog("config loaded");

    await core.createNamespacedService({ namespace: "default", body: lbService("web") });
    expect(await eventually(async () => (await ipsOf(core, "web"))[0], { ms: 10_000, what: "web to get an IP", everyMs: 50 })).toBe("192.168.126.40");
    const metrics = (await c.get("/metrics")).body;
    expect(metrics).toContain("# TYPE metallb_k8s_client_config_loaded_bool gauge");
    expect(await c.metric("metallb_k8s_client_config_loaded_bool")).toBe(1);
    expect(await c.metric('metallb_allocator_addresses_total{pool="default"}')).toBe(6);
    expect(await c.metric('metallb_allocator_addresses_in_use_total{pool="default"}')).toBe(1);
    expect(await c.metric("baremetal_lb_controller_leader_bool")).toBe(1);
    expect(await c.metric('baremetal_lb_events_dropped_total{reason="spam"}')).toBe(0);
    expect(await c.metric(staleSample)).toBe(0);
    expect(await c.get("/nope")).toMatchObject({ status: 404 });
    expect(await leaseHolder()).toBe("solo");

    c.kill("SIGTERM");
    expect(await c.waitForExit()).toEqual({ code: 0, signal: null });
    expect(await leaseHolder()).toBe("");
    expect(c.logged("released leadership")).toHaveLength(1);
    expect(c.logged("ip assigned")).toMatchObject([{ service: "default/web", ips: ["192.168.126.40"], pool: "default" }]);
    expect(c.badLines).toEqual([]);
    expect(c.stderr).toBe("");
    for (const line of c.logs) {
      expect(line).toMatchObject({ component: "controller", level: expect.any(Number), time: expect.any(String), msg: expect.any(String) });
    }
  });

  it("never gives two Services one IP nor moves an IP when the leader is killed mid-stream; the standby takes over within the lease", async () => {
    const total = 40;
    await putConfig(core, "address-pools:\n- name: lan\n  protocol: layer2\n  addresses: [10.20.0.0/26]\n");
    const replicas = [startController("a"), startController("b")];
    const leaderId = await eventually(async () => (await leaseHolder()) || undefined, { ms: 10_000, what: "a leader", everyMs: 50 });
    const leader = replicas.find((r) => r.identity === leaderId)!;
    const standby = replicas.find((r) => r.identity !== leaderId)!;
    await leader.waitForLog("config loaded");
    await standby.waitForLog("controller started");
    recorder = await ServiceIpRecorder.start(sim.client, "default");

    // Services keep coming at a steady pace whatever the API's latency; the leader dies after ten.
    // While the standby takes over, the API is slow (150 ms a request), which widens the window in
    // which a new leader could act on a fresh Service before it has learned the IPs already shown.
    let killedAt = 0;
    const names = Array.from({ length: total }, (_, i) => `svc-${i + 1}`);
    const stream = (async () => {
      const creates: Promise<unknown>[] = [];
      for (const [i, name] of names.entries()) {
        if (i === 10) {
          leader.kill("SIGKILL");
          killedAt = performance.now();
          sim.faults.setLatency(slowApiMs);
        }
        creates.push(core.createNamespacedService({ namespace: "default", body: lbService(name) }));
        await sleep(100);
      }
      await Promise.all(creates);
    })();
    stream.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    const takeover = await eventually(
      async () => ((await leaseHolder()) === standby.identity ? performance.now() : undefined),
      { ms: 15_000, what: `${standby.identity} to take the Lease`, everyMs: 50 },
    );
    await standby.waitForLog("config loaded");
    await sleep(2 * slowApiMs);
    sim.faults.setLatency(0);
    await stream;
    expect(await leader.waitForExit()).toEqual({ code: null, signal: "SIGKILL" });
    // Expired after the lease duration unchanged, seen on the standby's next retry (a read and a
    // write each) at the latest, plus slack for a busy CPU.
    expect(takeover - killedAt).toBeLessThan(leaseDurationMs + 2 * (retryPeriodMs + 2 * slowApiMs) + 1_000);
    expect(leader.logged("ip assigned").length).toBeGreaterThan(0);

    const finalIps = await eventually(
      async () => {
        const list = await core.listNamespacedService({ namespace: "default" });
        const ours = list.items.filter((s) => s.metadata!.name!.startsWith("svc-"));
        const ips = ours.map((s) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip!));
        return ours.length === total && ips.every((x) => x.length === 1) ? new Map(ours.map((s, i) => [s.metadata!.name!, ips[i][0]])) : undefined;
      },
      { ms: 15_000, what: `all ${total} Services to show one IP`, everyMs: 50 },
    );
    await sleep(300); // let any stray late write show up in the watch
    recorder.stop();
    expect(recorder.violations).toEqual([]);
    expect(new Set(finalIps.values()).size).toBe(total);
    for (const [name, ip] of finalIps) expect(recorder.firstIp.get(name), name).toBe(ip);

    // Only a leader writes: neither replica assigned anything before it became leader.
    for (const r of [leader, standby]) {
      const became = indexOfMsg(r.logs, "became leader");
      expect(became, `${r.identity} became leader`).toBeGreaterThanOrEqual(0);
      expect(r.logs.findIndex((l) => l.msg === "ip assigned"), `${r.identity} assigned before leading`).toBeGreaterThan(became);
    }
    // Every Service was assigned once, by one replica, and kept that IP.
    const assigned = [...leader.logged("ip assigned"), ...standby.logged("ip assigned")];
    const byService = new Map<string, string[]>();
    for (const line of assigned) byService.set(String(line.service), [...(byService.get(String(line.service)) ?? []), ...(line.ips as string[])]);
    for (const [service, ips] of byService) {
      expect(ips, service).toEqual([finalIps.get(service.slice("default/".length))]);
    }
    expect(standby.logged("ip assigned").length).toBeGreaterThan(0);
  });

  it("leaves a Service whose IP a changed config no longer covers untouched, marks the config stale, and clears that when the Service goes", async () => {
    await putConfig(core, readmeConfig);
    const first = startController("first");
    await first.waitForLog("config loaded");
    await core.createNamespacedService({ namespace: "default", body: lbService("old") });
    expect(await eventually(async () => (await ipsOf(core, "old"))[0], { ms: 10_000, what: "old to get an IP", everyMs: 50 })).toBe("192.168.126.40");
    await core.createNamespacedService({ namespace: "default", body: lbService("kept") });
    expect(await eventually(async () => (await ipsOf(core, "kept"))[0], { ms: 10_000, what: "kept to get an IP", everyMs: 50 })).toBe("192.168.126.41");
    first.kill("SIGTERM");
    expect(await first.waitForExit()).toEqual({ code: 0, signal: null });

    await putConfig(core, "address-pools:\n- name: default\n  protocol: layer2\n  addresses: [192.168.126.41-192.168.126.45]\n");
    const second = startController("second");
    const orphaned = await second.waitForLog(staleMsg);
    expect(orphaned).toMatchObject({ level: 50, service: "default/old", ips: ["192.168.126.40"] });
    await second.waitForLog("config loaded");
    expect(await eventually(async () => ((await second.metric(staleSample)) === 1 ? 1 : undefined), { ms: 10_000, what: "config stale = 1", everyMs: 50 })).toBe(1);
    expect(await second.metric("metallb_k8s_client_config_loaded_bool")).toBe(1);

    await core.createNamespacedService({ namespace: "default", body: lbService("new") });
    expect(await eventually(async () => (await ipsOf(core, "new"))[0], { ms: 10_000, what: "new to get an IP", everyMs: 50 })).toBe("192.168.126.42");
    expect(await ipsOf(core, "old")).toEqual(["192.168.126.40"]);
    expect(await ipsOf(core, "kept")).toEqual(["192.168.126.41"]);
    // The status write can reach the API before the process's log line reaches our pipe.
    await second.waitForLog((l) => l.msg === "ip assigned" && l.service === "default/new");
    expect(second.logged("ip assigned").map((l) => l.service)).toEqual(["default/new"]);
    expect(await second.metric(staleSample)).toBe(1);

    await core.deleteNamespacedService({ name: "old", namespace: "default" });
    expect(await eventually(async () => ((await second.metric(staleSample)) === 0 ? 0 : undefined), { ms: 10_000, what: "config stale = 0 after the orphan is gone", everyMs: 50 })).toBe(0);
  });

  it("takes an uncovered IP back once a later config covers it again, and never hands it to another Service", async () => {
    await putConfig(core, readmeConfig);
    const first = startController("first");
    await first.waitForLog("config loaded");
    await core.createNamespacedService({ namespace: "default", body: lbService("old") });
    expect(await eventually(async () => (await ipsOf(core, "old"))[0], { ms: 10_000, what: "old to get an IP", everyMs: 50 })).toBe("192.168.126.40");
    first.kill("SIGTERM");
    expect(await first.waitForExit()).toEqual({ code: 0, signal: null });

    await putConfig(core, "address-pools:\n- name: default\n  protocol: layer2\n  addresses: [192.168.126.41-192.168.126.45]\n");
    const second = startController("second");
    await second.waitForLog(staleMsg);
    await putConfig(core, readmeConfig);
    await second.waitForLog((l) => l.msg === "config loaded" && second.logged("config loaded").length === 2);
    expect(await eventually(async () => ((await second.metric(staleSample)) === 0 ? 0 : undefined), { ms: 10_000, what: "config stale = 0", everyMs: 50 })).toBe(0);
    await core.createNamespacedService({ namespace: "default", body: lbService("new") });
    expect(await eventually(async () => (await ipsOf(core, "new"))[0], { ms: 10_000, what: "new to get an IP", everyMs: 50 })).toBe("192.168.126.41");
    expect(await ipsOf(core, "old")).toEqual(["192.168.126.40"]);
    expect(await second.metric('metallb_allocator_addresses_in_use_total{pool="default"}')).toBe(2);
  });

  it("keeps every IP when restarted on an invalid config, and hands none of them out again once the config is fixed", async () => {
    await putConfig(core, readmeConfig);
    const first = startController("first");
    await first.waitForLog("config loaded");
    await core.createNamespacedService({ namespace: "default", body: lbService("old") });
    expect(await eventually(async () => (await ipsOf(core, "old"))[0], { ms: 10_000, what: "old to get an IP", everyMs: 50 })).toBe("192.168.126.40");
    first.kill("SIGTERM");
    expect(await first.waitForExit()).toEqual({ code: 0, signal: null });

    await putConfig(core, "address-pools:\n- name: default\n  protocol: layer2\n  adresses: [192.168.126.40-192.168.126.45]\n");
    const second = startController("second");
    await second.waitForLog("config (re)load failed, config marked stale");
    expect(await eventually(async () => ((await second.metric(staleSample)) === 1 ? 1 : undefined), { ms: 10_000, what: "config stale = 1", everyMs: 50 })).toBe(1);
    await core.createNamespacedService({ namespace: "default", body: lbService("new") });
    await sleep(300);
    expect(await ipsOf(core, "new")).toEqual([]);

    await putConfig(core, readmeConfig);
    await second.waitForLog("config loaded");
    expect(await eventually(async () => (await ipsOf(core, "new"))[0], { ms: 10_000, what: "new to get an IP", everyMs: 50 })).toBe("192.168.126.41");
    expect(await ipsOf(core, "old")).toEqual(["192.168.126.40"]);
    expect(await eventually(async () => ((await second.metric(staleSample)) === 0 ? 0 : undefined), { ms: 10_000, what: "config stale = 0", everyMs: 50 })).toBe(0);
    expect(second.logged(staleMsg)).toEqual([]);
  });
});
