/**
 * Idle footprint of the controller binary (not a test; no root needed): against an in-process kube-sim holding the
 * pool ConfigMap and one LoadBalancer Service, starts `controller/main.ts` as the image runs it (compile cache
 * warmed first, tools/bench/product-env.ts; the default leader-election timing), waits until the Service has an IP,
 * then leaves it idle for 10 s and reads /proc/<pid>/status:
 *
 * - rssMb / hwmMb: VmRSS and VmHWM at the end of the idle window (goal: rssMb ≤ 100, issue 11);
 * - ipAfterSeconds: from spawning the controller until the Service showed its IP;
 * - idleCpuPercent: utime+stime over the idle window, in % of one core.
 *
 * Prints one JSON line on stdout:
 *
 *   ./node_modules/.bin/node tools/bench/controller-idle.ts
 *
 * @example
 * const r = await benchControllerIdle();
 * r.rssMb; // resident MiB of the controller after 10 s idle with one Service
 */
import { CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { controllerCommand } from "../../controller/flags.ts";
import { lbService, putConfig } from "../lab/controller-harness.ts";
import { ControllerProcess } from "../lab/controller-process.ts";
import { startKubeSim, type KubeSim } from "../kube-sim/index.ts";
import type { Goals } from "./goals.ts";
import { cpuSeconds, memoryMb } from "./proc-stats.ts";
import { manifestNodeFlags } from "../lab/manifest-runtime.ts";
import { productEnv, warmCompileCache } from "./product-env.ts";

/** What one run measured. */
export interface ControllerIdleResult {
  services: 1;
  rssMb: number;
  hwmMb: number;
  ipAfterSeconds: number;
  idleSeconds: number;
  idleCpuPercent: number;
  goals: Goals;
}

const goals = { rssMb: { max: 100 } } satisfies Goals;
const idleMs = 10_000;
const pool = "address-pools:\n- name: bench\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n";

/** The product's leader-election timing (ControllerProcess defaults to a fast one for tests). */
const defaultElection = (["lease-duration", "renew-deadline", "retry-period"] as const).flatMap((flag) => [`--${flag}`, controllerCommand.flags[flag].default]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function hasIp(sim: KubeSim, name: string): boolean {
  const type = sim.state.registry.find("", "v1", "services");
  if (!type) throw new Error("kube-sim serves no v1 services");
  const stored = sim.state.list(type, "default").find((s) => (s.object.metadata as { name?: string }).name === name);
  return ((stored?.object.status as V1Service["status"])?.loadBalancer?.ingress ?? []).some((i) => i.ip);
}

/** Runs the benchmark once; see the module comment. */
export async function benchControllerIdle(): Promise<ControllerIdleResult> {
  await warmCompileCache();
  const sim = await startKubeSim();
  let controller: ControllerProcess | undefined;
  try {
    const core = sim.client.makeApiClient(CoreV1Api);
    await putConfig(core, pool);
    await core.createNamespacedService({ namespace: "default", body: lbService("web") });

    const spawnedAt = performance.now();
    controller = ControllerProcess.start({ kubeconfig: sim.kubeconfigPath, identity: "bench", nodeArgs: manifestNodeFlags("controller"), args: defaultElection, env: productEnv("controller") });
    while (!hasIp(sim, "web")) {
      if (controller.exited) throw new Error(`the controller exited (${JSON.stringify(controller.exited)}) before the Service had an IP: ${controller.stderr}`);
      if (performance.now() - spawnedAt > 60_000) throw new Error(`the Service had no IP 60 s after the controller started; its log: ${JSON.stringify(controller.logs.slice(-5))}`);
      await sleep(20);
    }
    const ipAfterSeconds = (performance.now() - spawnedAt) / 1000;
    process.stderr.write(`controller-idle: the Service has an IP ${ipAfterSeconds.toFixed(2)} s after the start; idle for ${idleMs / 1000} s\n`);

    const before = await cpuSeconds(controller.pid);
    const idleStart = performance.now();
    await sleep(idleMs);
    const after = await cpuSeconds(controller.pid);
    const idleSeconds = (performance.now() - idleStart) / 1000;
    const mem = await memoryMb(controller.pid);
    if (!mem || controller.exited) throw new Error(`the controller exited while idle (${JSON.stringify(controller.exited)}): ${controller.stderr}`);
    controller.kill("SIGTERM");
    await controller.waitForExit(10_000);
    return {
      services: 1,
      rssMb: round(mem.rss),
      hwmMb: round(mem.hwm),
      ipAfterSeconds: Math.round(ipAfterSeconds * 100) / 100,
      idleSeconds: round(idleSeconds),
      idleCpuPercent: Math.round(((after.total - before.total) / idleSeconds) * 1000) / 10,
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

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

if (import.meta.main) {
  benchControllerIdle().then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(`controller-idle: ${(err as Error).stack ?? String(err)}`);
      process.exit(1);
    },
  );
}
