/**
 * Allocation benchmark of the controller binary: against an in-process kube-sim with a /16 pool, creates N
 * LoadBalancer Services (32 requests in flight), then starts `controller/main.ts` as a child process and measures
 * the time from its start until every Service shows an IP, with the child's resident memory sampled from
 * /proc/<pid>/status. Side by side, it measures the simulator's raw status-write rate through the same client
 * library (`replaceNamespacedServiceStatus`): sequentially (the controller reconciles one key at a time) and with
 * 32 in flight, and reports the controller's rate as a fraction of the sequential one. CPU seconds of the
 * controller and of the simulator during allocation are reported too: on a shared machine they vary less than
 * wall-clock rates. The controller runs as the image runs it (tools/bench/product-env.ts: compile cache warmed first).
 * Goals (issue 11, for 10,000 Services): peak RSS ≤ 150 MB, ratioVsRawSeq ≥ 0.8, controller CPU ≤ 0.5 ms per Service.
 *
 * Standalone: `npx node tools/bench/controller-allocation.ts [--services N] [--cpu-prof-dir DIR]` prints one JSON
 * line; with `--cpu-prof-dir` the controller writes a V8 CPU profile there when it exits.
 *
 * @example
 * const r = await benchControllerAllocation({ services: 2000 });
 * r.controllerServicesPerSec / r.rawSeqStatusWritesPerSec; // r.ratioVsRawSeq
 */
import { CoreV1Api, KubeConfig, type V1Service } from "@kubernetes/client-node";
import { parseArgs } from "node:util";
import { startKubeSim, type KubeSim } from "../kube-sim/index.ts";
import { lbService, putConfig } from "../lab/controller-harness.ts";
import { ControllerProcess } from "../lab/controller-process.ts";
import { reuseConnections } from "../support/pooled-connections.ts";
import type { Goals } from "./goals.ts";
import { cpuSeconds, memoryMb } from "./proc-stats.ts";
import { manifestNodeFlags } from "../lab/manifest-runtime.ts";
import { productEnv, warmCompileCache } from "./product-env.ts";

/** What one run measured. */
export interface ControllerAllocationResult {
  services: number;
  /** From spawning the controller until every Service shows an IP. */
  allocateSeconds: number;
  controllerServicesPerSec: number;
  rawSeqStatusWritesPerSec: number;
  rawConc32StatusWritesPerSec: number;
  ratioVsRawSeq: number;
  controllerRssMbPeak: number;
  simCreatePerSec: number;
  /** CPU (user + system) the controller used until every Service had an IP, its start included. */
  controllerCpuSeconds: number;
  /** controllerCpuSeconds per Service, in milliseconds. */
  controllerCpuMsPerService: number;
  /** CPU this process (the simulator, plus the bench's light polling) used over the same time. */
  simCpuSeconds: number;
  goals: Goals;
}

/** Issue 11's goals for 10,000 Services. */
const goals = {
  controllerRssMbPeak: { max: 150 },
  ratioVsRawSeq: { min: 0.8 },
  controllerCpuMsPerService: { max: 0.5 },
} satisfies Goals;

const namespace = "default";
const concurrency = 32;
const pollMs = 250;
const pool16 = "address-pools:\n- name: bench\n  protocol: layer2\n  addresses: [10.0.0.0/16]\n";

/** Runs `task(i)` for i in [0, n) with at most `inFlight` running at once. */
async function runPool(n: number, inFlight: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, worker));
}

function countWithIp(sim: KubeSim): number {
  const type = sim.state.registry.find("", "v1", "services");
  if (!type) throw new Error("kube-sim serves no v1 services");
  let n = 0;
  for (const stored of sim.state.list(type, namespace)) {
    const ingress = (stored.object.status as V1Service["status"])?.loadBalancer?.ingress ?? [];
    if (ingress.some((i) => i.ip)) n++;
  }
  return n;
}

/** Writes a fresh ingress IP into each Service's status, `inFlight` at a time; returns writes per second. */
async function rawStatusWrites(core: CoreV1Api, services: V1Service[], inFlight: number, round: number): Promise<number> {
  const started = performance.now();
  await runPool(services.length, inFlight, async (i) => {
    const svc = services[i];
    const ip = `10.${100 + round}.${Math.floor(i / 256)}.${i % 256}`;
    services[i] = await core.replaceNamespacedServiceStatus({
      name: svc.metadata!.name!,
      namespace,
      body: { ...svc, status: { ...svc.status, loadBalancer: { ingress: [{ ip, ipMode: "VIP" }] } } },
    });
  });
  return services.length / ((performance.now() - started) / 1000);
}

/** Runs the benchmark once; see the module comment. */
export async function benchControllerAllocation(opts: { services?: number; timeoutMs?: number; nodeArgs?: string[] } = {}): Promise<ControllerAllocationResult> {
  const n = opts.services ?? 10_000;
  const deadline = performance.now() + (opts.timeoutMs ?? 600_000);
  await warmCompileCache();
  // No EndpointSlice controller: the simulator's CPU goes to the API the controller uses.
  const sim = await startKubeSim({ endpointsController: false });
  let controller: ControllerProcess | undefined;
  try {
    // The bench's own requests use the client library and connection pooling the controller uses.
    const kc = new KubeConfig();
    kc.loadFromFile(sim.kubeconfigPath);
    const core = reuseConnections(kc).makeApiClient(CoreV1Api);
    await putConfig(core, pool16);

    const createStart = performance.now();
    await runPool(n, concurrency, async (i) => {
      // 10,000 Services need more node ports than the 30000-32767 range has.
      await core.createNamespacedService({ namespace, body: lbService(`svc-${i}`, { spec: { allocateLoadBalancerNodePorts: false } }) });
    });
    const simCreatePerSec = n / ((performance.now() - createStart) / 1000);

    const spawnedAt = performance.now();
    const simCpuBefore = process.cpuUsage();
    controller = ControllerProcess.start({ kubeconfig: sim.kubeconfigPath, identity: "bench", nodeArgs: [...manifestNodeFlags("controller"), ...(opts.nodeArgs ?? [])], env: productEnv("controller") });
    let peakMb = 0;
    let done = 0;
    while (done < n) {
      if (controller.exited) throw new Error(`controller exited early (${JSON.stringify(controller.exited)}): ${controller.stderr}`);
      if (performance.now() > deadline) throw new Error(`only ${done} of ${n} Services had an IP before the time limit`);
      await new Promise((r) => setTimeout(r, pollMs));
      const mem = await memoryMb(controller.pid);
      if (mem) peakMb = Math.max(peakMb, mem.rss, mem.hwm);
      done = countWithIp(sim);
    }
    const allocateSeconds = (performance.now() - spawnedAt) / 1000;
    const simCpu = process.cpuUsage(simCpuBefore);
    const controllerCpu = (await cpuSeconds(controller.pid)).total;
    const last = await memoryMb(controller.pid);
    if (last) peakMb = Math.max(peakMb, last.hwm);
    controller.kill("SIGTERM");
    await controller.waitForExit(10_000);

    const services = (await core.listNamespacedService({ namespace })).items;
    const rawSeq = await rawStatusWrites(core, services, 1, 0);
    const rawConc = await rawStatusWrites(core, services, concurrency, 1);
    const controllerServicesPerSec = n / allocateSeconds;
    return {
      services: n,
      allocateSeconds: round(allocateSeconds, 2),
      controllerServicesPerSec: round(controllerServicesPerSec, 1),
      rawSeqStatusWritesPerSec: round(rawSeq, 1),
      rawConc32StatusWritesPerSec: round(rawConc, 1),
      ratioVsRawSeq: round(controllerServicesPerSec / rawSeq, 3),
      controllerRssMbPeak: round(peakMb, 1),
      simCreatePerSec: round(simCreatePerSec, 1),
      controllerCpuSeconds: round(controllerCpu, 2),
      controllerCpuMsPerService: round((controllerCpu * 1000) / n, 3),
      simCpuSeconds: round((simCpu.user + simCpu.system) / 1e6, 2),
      goals,
    };
  } finally {
    if (controller && !controller.exited) {
      controller.kill("SIGKILL");
      await controller.waitForExit(5_000).catch(() => undefined);
    }
    await sim.stop();
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { services: { type: "string" }, "cpu-prof-dir": { type: "string" } }, strict: true });
  const services = values.services === undefined ? undefined : Number(values.services);
  if (services !== undefined && !(Number.isInteger(services) && services > 0)) {
    console.error(`controller-allocation: --services must be a positive integer, got "${values.services}"`);
    process.exit(2);
  }
  const profDir = values["cpu-prof-dir"];
  benchControllerAllocation({ services, nodeArgs: profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : undefined }).then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(`controller-allocation: ${(err as Error).stack ?? String(err)}`);
      process.exit(1);
    },
  );
}
