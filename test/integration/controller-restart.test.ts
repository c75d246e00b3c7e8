import { CoordinationV1Api, CoreV1Api, Watch, type KubeConfig, type V1Service } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "../../tools/kube-sim/index.ts";
import { eventually } from "../../tools/support/eventually.ts";
import { ipsOf, lbService, namespace, putConfig } from "../../tools/lab/controller-harness.ts";
import { ControllerProcess, killAll } from "../../tools/lab/controller-process.ts";
import { ServiceIpRecorder } from "./service-ip-recorder.ts";

const leaseName = "baremetal-lb-controller";
const poolConfig = "address-pools:\n- name: lan\n  protocol: layer2\n  addresses: [10.30.0.0/26]\n";
/** The Deployment's timing (client-go's defaults): a controller that waited for the Lease would wait 15 s. */
const deploymentElection = ["--lease-duration", "15s", "--renew-deadline", "10s", "--retry-period", "2s"];
const resumeBudgetMs = 2_000;

let sim: KubeSim;
let core: CoreV1Api;
let coordination: CoordinationV1Api;
let processes: ControllerProcess[] = [];
let recorder: ServiceIpRecorder | undefined;
let shown: FirstShown | undefined;

beforeEach(async () => {
  sim = await startKubeSim();
  core = sim.client.makeApiClient(CoreV1Api);
  coordination = sim.client.makeApiClient(CoordinationV1Api);
  processes = [];
  recorder = undefined;
  shown = undefined;
});

afterEach(async () => {
  recorder?.stop();
  shown?.stop();
  await killAll(processes);
  await sim.stop();
});

/** Starts the controller binary with its identity in POD_NAME, as the Deployment sets it. */
function startPod(podName: string, election: string[]): ControllerProcess {
  const p = ControllerProcess.start({ kubeconfig: sim.kubeconfigPath, identity: podName, identityFrom: "pod-name", args: election });
  processes.push(p);
  return p;
}

async function leaseHolder(): Promise<string | undefined> {
  const lease = await coordination.readNamespacedLease({ name: leaseName, namespace });
  return lease.spec?.holderIdentity;
}

/** When each Service of `default` first showed an IP to a watching client, by this process's monotonic clock. */
interface FirstShown {
  at: Map<string, number>;
  /** Why the watch ended before stop(), if it did (timings may then be missing). */
  endedEarly: string | undefined;
  stop(): void;
}

async function watchFirstShown(kc: KubeConfig): Promise<FirstShown> {
  const result: FirstShown = { at: new Map(), endedEarly: undefined, stop: () => {} };
  let stopping = false;
  const abort = await new Watch(kc).watch(
    "/api/v1/namespaces/default/services",
    {},
    (_type: string, svc: V1Service) => {
      const name = svc.metadata?.name;
      if (name && !result.at.has(name) && (svc.status?.loadBalancer?.ingress ?? []).some((i) => i.ip)) result.at.set(name, performance.now());
    },
    (err: unknown) => {
      if (!stopping) result.endedEarly = String(err);
    },
  );
  result.stop = () => {
    stopping = true;
    abort.abort();
  };
  return result;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("controller restart with the same identity (issue 8, item 7)", () => {
  it("a controller killed -9 mid-churn and restarted resumes allocating within 2 s, with no duplicate IP", async () => {
    const podName = "controller-6f7c9d5b8-q4zxk";
    const total = 40;
    const perTick = 2;
    const killAtIndex = 20;
    await putConfig(core, poolConfig);
    const first = startPod(podName, deploymentElection);
    await first.waitForLog("config loaded");
    expect(await leaseHolder()).toBe(podName);
    recorder = await ServiceIpRecorder.start(sim.client, "default");
    shown = await watchFirstShown(sim.client);

    // Two Services every 100 ms; after twenty, the controller is killed -9 and its container
    // restarted in the same Pod (same POD_NAME) while Services keep coming.
    const names = Array.from({ length: total }, (_, i) => `svc-${i + 1}`);
    let second: ControllerProcess | undefined;
    let restartedAt = 0;
    const creates: Promise<unknown>[] = [];
    for (const [i, name] of names.entries()) {
      if (i === killAtIndex) {
        first.kill("SIGKILL");
        expect(await first.waitForExit()).toEqual({ code: null, signal: "SIGKILL" });
        restartedAt = performance.now();
        second = startPod(podName, deploymentElection);
      }
      creates.push(core.createNamespacedService({ namespace: "default", body: lbService(name) }));
      if (i % perTick === perTick - 1) await sleep(100);
    }
    await Promise.all(creates);
    const restarted = second!;

    const firstNew = names[killAtIndex];
    const resumedAt = await eventually(async () => shown!.at.get(firstNew), { ms: 20_000, what: `${firstNew} to show an IP`, everyMs: 50 });
    const resumeMs = resumedAt - restartedAt;
    console.info(`controller restart → first allocation (${firstNew}): ${Math.round(resumeMs)} ms`);
    expect(resumeMs).toBeLessThan(resumeBudgetMs);

    const finalIps = await eventually(
      async () => {
        const list = await core.listNamespacedService({ namespace: "default" });
        const ips = list.items.map((s) => [s.metadata!.name!, (s.status?.loadBalancer?.ingress ?? []).map((e) => e.ip!)] as const);
        return ips.length === total && ips.every(([, x]) => x.length === 1) ? new Map(ips.map(([n, x]) => [n, x[0]])) : undefined;
      },
      { ms: 15_000, what: `all ${total} Services to show one IP`, everyMs: 50 },
    );
    await sleep(300); // let any stray late write show up in the watch
    recorder.stop();
    expect(recorder.violations).toEqual([]);
    expect(shown.endedEarly).toBeUndefined();
    expect(new Set(finalIps.values()).size).toBe(total);
    for (const [name, ip] of finalIps) expect(recorder.firstIp.get(name), name).toBe(ip);

    // The restarted process led at once under the same identity, learned what its predecessor had
    // assigned before writing, and assigned only the Services its predecessor had not.
    expect(await leaseHolder()).toBe(podName);
    const firstAssigned = new Set(first.logged("ip assigned").map((l) => String(l.service)));
    const secondAssigned = restarted.logged("ip assigned").map((l) => String(l.service));
    expect(firstAssigned.size).toBeGreaterThan(0);
    expect(secondAssigned.length).toBeGreaterThan(0);
    expect(secondAssigned.filter((s) => firstAssigned.has(s))).toEqual([]);
    const loaded = restarted.logs.findIndex((l) => l.msg === "config loaded");
    expect(restarted.logs.findIndex((l) => l.msg === "became leader")).toBeGreaterThanOrEqual(0);
    expect(loaded).toBeGreaterThan(restarted.logs.findIndex((l) => l.msg === "became leader"));
    expect(restarted.logs.findIndex((l) => l.msg === "ip assigned")).toBeGreaterThan(loaded);
  });

  it("a controller in another Pod still waits for the killed leader's Lease to expire before it allocates", async () => {
    const leaseDurationMs = 4_000;
    const election = ["--lease-duration", "4s", "--renew-deadline", "3s", "--retry-period", "250ms"];
    await putConfig(core, poolConfig);
    const first = startPod("controller-6f7c9d5b8-aaaaa", election);
    await first.waitForLog("config loaded");
    await core.createNamespacedService({ namespace: "default", body: lbService("before") });
    const beforeIp = await eventually(async () => (await ipsOf(core, "before"))[0], { ms: 10_000, what: "before to get an IP", everyMs: 50 });
    recorder = await ServiceIpRecorder.start(sim.client, "default");
    shown = await watchFirstShown(sim.client);

    first.kill("SIGKILL");
    expect(await first.waitForExit()).toEqual({ code: null, signal: "SIGKILL" });
    const startedAt = performance.now();
    const other = startPod("controller-6f7c9d5b8-bbbbb", election);
    await core.createNamespacedService({ namespace: "default", body: lbService("after") });

    // Until the Lease has stood unchanged for its duration, the dead Pod still holds it.
    await other.waitForLog("controller started");
    expect(await leaseHolder()).toBe("controller-6f7c9d5b8-aaaaa");
    const takenAt = await eventually(
      async () => ((await leaseHolder()) === "controller-6f7c9d5b8-bbbbb" ? performance.now() : undefined),
      { ms: leaseDurationMs + 6_000, what: "the other Pod to take the Lease", everyMs: 50 },
    );
    const afterShownAt = await eventually(async () => shown!.at.get("after"), { ms: 10_000, what: "after to show an IP", everyMs: 50 });
    expect(takenAt - startedAt).toBeGreaterThanOrEqual(leaseDurationMs);
    expect(afterShownAt - startedAt).toBeGreaterThanOrEqual(leaseDurationMs);

    const afterIp = (await ipsOf(core, "after"))[0];
    expect(afterIp).not.toBe(beforeIp);
    expect(await ipsOf(core, "before")).toEqual([beforeIp]);
    await sleep(300); // let any stray late write show up in the watch
    recorder.stop();
    expect(recorder.violations).toEqual([]);
    expect(shown.endedEarly).toBeUndefined();
    expect(other.logged("ip assigned").map((l) => l.service)).toEqual(["default/after"]);
  });
});
