/**
 * The speaker binary: `npm run speaker -- --node-name NAME [flags]` (see README for the flags).
 * Wires the Kubernetes client, metrics, health probes and the packet sockets around Speaker.
 * The client is shared/kube/client (plain JSON over one connection pool), not @kubernetes/client-node:
 * the speaker runs on every node, small ones included, and client-node alone costs ~80 MB.
 */
import { randomBytes } from "node:crypto";
import { exitWithUsageIfAsked } from "../shared/cli/usage.ts";
import { createLogger } from "../shared/log.ts";
import { loadClusterAccess } from "../shared/kube/client/cluster-access.ts";
import { createKubeApi } from "../shared/kube/client/http-kube-api.ts";
import { EventRecorder } from "../shared/kube/event-recorder.ts";
import { startOpsServer } from "../shared/ops/ops-server.ts";
import { startHeapSettler, type HeapSettler } from "../shared/runtime/heap-settler.ts";
import { speakerCommand, parseSpeakerFlags } from "./flags.ts";
import { scanInterfaces } from "./l2/interface-scan.ts";
import { createSpeakerMetrics } from "./metrics.ts";
import { openPacketSocket } from "./l2/packet-socket.ts";
import { Speaker } from "./speaker.ts";

async function main(): Promise<void> {
  exitWithUsageIfAsked(process.argv.slice(2), speakerCommand);
  let flags;
  try {
    flags = parseSpeakerFlags(process.argv.slice(2), process.env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const log = createLogger("speaker", flags.logLevel);
  const api = createKubeApi(loadClusterAccess(flags.kubeconfig));
  const metrics = createSpeakerMetrics();
  // 1,024 remembered keys per correlator cache instead of 4,096: the speaker runs on every node, and with 10,000
  // Services the default caches hold about 4.7 MB of Event keys. A repeat after more than 1,024 other objects' Events
  // is written as a new Event instead of a count bump.
  const events = new EventRecorder(api, "metallb-speaker", log, flags.nodeName, {
    maxRemembered: 1024,
    onDropped: (reason, n) => metrics.eventsDropped.inc({ reason }, n),
  });
  const speaker = new Speaker({
    api,
    log,
    metrics,
    events,
    flags,
    identity: `${flags.nodeName}_${randomBytes(4).toString("hex")}`,
    scan: () => scanInterfaces(),
    openSocket: openPacketSocket,
  });
  const ops = await startOpsServer({
    port: flags.metricsPort,
    host: flags.metricsHost,
    registry: metrics.registry,
    healthz: () => true,
    readyz: () => speaker.notReadyReason() ?? true,
  });
  let stopping = false;
  let settler: HeapSettler | undefined;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    settler?.stop();
    log.info({ signal }, "shutting down: handing over");
    await speaker.shutdown();
    events.stop();
    await ops.close();
    await api.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  await speaker.start();
  const notReady = speaker.notReadyReason();
  if (notReady === undefined) log.info({ metricsPort: ops.port }, "speaker ready");
  else log.error({ metricsPort: ops.port, reason: notReady }, "speaker started but not ready: it stays out of the election until this is fixed");
  // Gives back what bursts (the first list, a resync) left resident, once the speaker is ready and quiet.
  settler = startHeapSettler({ log, registry: metrics.registry, ready: () => speaker.notReadyReason() === undefined });
}

main().catch((err: unknown) => {
  console.error(`speaker: ${(err as Error).message ?? String(err)}`);
  process.exit(1);
});
