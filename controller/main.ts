/**
 * The controller binary: `npm run controller -- [flags]` (see README for the flags).
 * Wires the Kubernetes client, metrics, health probes and leader election around LbController.
 */
import { hostname } from "node:os";
import { exitWithUsageIfAsked } from "../shared/cli/usage.ts";
import { createLogger } from "../shared/log.ts";
import { loadClusterAccess } from "../shared/kube/client/cluster-access.ts";
import { createKubeApi } from "../shared/kube/client/http-kube-api.ts";
import { EventRecorder } from "../shared/kube/event-recorder.ts";
import { ensureMemberlistSecret, memberlistSecretName } from "../shared/kube/memberlist-secret.ts";
import { startOpsServer } from "../shared/ops/ops-server.ts";
import { startHeapSettler } from "../shared/runtime/heap-settler.ts";
import { LbController } from "./controller.ts";
import { controllerCommand, parseControllerFlags } from "./flags.ts";
import { startLeaderElection } from "./leader-election.ts";
import { createControllerMetrics } from "./metrics.ts";

const secretRecheckMs = 60_000;

async function main(): Promise<void> {
  exitWithUsageIfAsked(process.argv.slice(2), controllerCommand);
  let flags;
  try {
    flags = parseControllerFlags(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const log = createLogger("controller", flags.logLevel);
  const api = createKubeApi(loadClusterAccess(flags.kubeconfig));
  const metrics = createControllerMetrics();
  // Stable across a container restart (the Pod keeps its name), so a crashed leader that comes back
  // renews its own Lease at once instead of waiting for it to expire; another Pod still waits.
  const identity = flags.identity || process.env.POD_NAME || hostname();
  const events = new EventRecorder(api, "metallb-controller", log, process.env.POD_NAME || hostname(), {
    onDropped: (reason, n) => metrics.eventsDropped.inc({ reason }, n),
  });
  const controller = new LbController({
    api,
    log,
    metrics,
    events,
    namespace: flags.namespace,
    configMapName: flags.configMap,
    lbClass: flags.lbClass,
  });
  // The speakers' heartbeat key (MetalLB's Secret "memberlist"): every replica creates it if missing, in the
  // background with retries, and checks again every minute, so a deleted Secret comes back for speakers that
  // start later (running speakers keep their keys meanwhile); an existing one is never touched.
  const ensureSecret = (): void => {
    void ensureMemberlistSecret(api, flags.namespace, memberlistSecretName, log).finally(() => {
      setTimeout(ensureSecret, secretRecheckMs).unref();
    });
  };
  ensureSecret();

  let shuttingDown = false;
  const election = startLeaderElection({
    api,
    namespace: flags.namespace,
    leaseName: flags.leaseName,
    identity,
    leaseDurationMs: flags.leaseDurationMs,
    renewDeadlineMs: flags.renewDeadlineMs,
    retryPeriodMs: flags.retryPeriodMs,
    log,
    onStartedLeading: () => {
      metrics.leader.set(1);
      controller.becomeLeader().catch((err: unknown) => {
        log.fatal({ err: String(err) }, "could not start leading");
        process.exit(1);
      });
    },
    onStoppedLeading: () => {
      // As client-go does: a replica that lost the lease must stop writing at once; restart clean.
      controller.stopLeading();
      metrics.leader.set(0);
      if (!shuttingDown) process.exit(1);
    },
  });

  const ops = await startOpsServer({
    port: flags.metricsPort,
    host: flags.metricsHost,
    registry: metrics.registry,
    healthz: () => true,
    readyz: () => (controller.isSynced() ? true : "informers not synced yet"),
  });
  log.info({ identity, namespace: flags.namespace, configMap: flags.configMap, lbClass: flags.lbClass ?? null, metricsPort: ops.port }, "controller started");
  // Gives back what bursts (the first lists, a storm of allocations) left resident, once synced and quiet.
  const settler = startHeapSettler({ log, registry: metrics.registry, ready: () => controller.isSynced() });

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, "shutting down");
    settler.stop();
    controller.stopLeading();
    await election.stop();
    await controller.stop();
    events.stop();
    await api.close();
    await ops.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(`controller: ${(err as Error).message ?? String(err)}`);
  process.exit(1);
});
