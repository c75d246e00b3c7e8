import type { CoreV1Api, V1Service } from "@kubernetes/client-node";
import { Writable } from "node:stream";
import { LbController } from "../../controller/controller.ts";
import { createControllerMetrics, type ControllerMetrics } from "../../controller/metrics.ts";
import { loadClusterAccess } from "../../shared/kube/client/cluster-access.ts";
import { createKubeApi } from "../../shared/kube/client/http-kube-api.ts";
import { EventRecorder } from "../../shared/kube/event-recorder.ts";
import { createLogger } from "../../shared/log.ts";
import type { KubeSim } from "../kube-sim/index.ts";

export const namespace = "metallb-system";

/** The README's address-pool ConfigMap (6 addresses). */
export const readmeConfig = `address-pools:
- name: default
  protocol: layer2
  addresses: [192.168.126.40-192.168.126.45]
`;

/**
 * An in-process controller that leads at once, with its log lines kept for assertions. It talks to
 * the simulator through the client the binary uses; the tests' own requests use client-node.
 */
export interface TestController {
  controller: LbController;
  metrics: ControllerMetrics;
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startTestController(sim: KubeSim, opts: { lbClass?: string } = {}): Promise<TestController> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = createLogger("controller", "debug", sink);
  const api = createKubeApi(loadClusterAccess(sim.kubeconfigPath));
  const metrics = createControllerMetrics();
  const events = new EventRecorder(api, "metallb-controller", log, "test", { onDropped: (reason, n) => metrics.eventsDropped.inc({ reason }, n) });
  const controller = new LbController({
    api,
    log,
    metrics,
    events,
    namespace,
    configMapName: "config",
    lbClass: opts.lbClass,
  });
  await controller.becomeLeader();
  const stop = async () => {
    await controller.stop();
    events.stop();
    await api.close();
  };
  return { controller, metrics, logs, stop };
}

export async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

export async function putConfig(core: CoreV1Api, text: string): Promise<void> {
  await ensureNamespace(core, namespace);
  const body = { metadata: { name: "config", namespace }, data: { config: text } };
  try {
    await core.replaceNamespacedConfigMap({ name: "config", namespace, body });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await core.createNamespacedConfigMap({ namespace, body });
  }
}

export function lbService(name: string, extra: { annotations?: Record<string, string>; ports?: { port: number; protocol?: string }[]; spec?: Record<string, unknown> } = {}): V1Service {
  return {
    metadata: { name, annotations: extra.annotations },
    spec: {
      type: "LoadBalancer",
      selector: { app: name },
      ports: (extra.ports ?? [{ port: 80 }]).map((p) => ({ port: p.port, protocol: p.protocol ?? "TCP" })),
      ...extra.spec,
    },
  };
}

export async function ipsOf(core: CoreV1Api, name: string, ns = "default"): Promise<string[]> {
  const svc = await core.readNamespacedService({ name, namespace: ns });
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip!);
}

export async function eventsFor(core: CoreV1Api, kind: string, name: string, ns: string): Promise<{ type: string; reason: string; message: string }[]> {
  const list = await core.listNamespacedEvent({ namespace: ns });
  return list.items
    .filter((e) => e.involvedObject.kind === kind && e.involvedObject.name === name)
    .map((e) => ({ type: e.type ?? "", reason: e.reason ?? "", message: e.message ?? "" }));
}
