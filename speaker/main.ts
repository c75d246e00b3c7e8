/**
 * The speaker binary: `npm run speaker -- --node-name NAME [flags]` (see README for the flags).
 * Wires the Kubernetes client, metrics, health probes and the packet sockets around Speaker.
 */
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { exitWithUsageIfAsked } from "../shared/cli/usage.ts";
import { createLogger } from "../shared/log.ts";
import { loadKubeConfig } from "../shared/kube/kubeconfig.ts";
import { reuseConnections } from "../shared/kube/pooled-connections.ts";
import { EventRecorder } from "../shared/kube/event-recorder.ts";
import { startOpsServer } from "../shared/ops/ops-server.ts";
import { speakerCommand, parseSpeakerFlags } from "./flags.ts";
import { scanInterfaces } from "./interface-scan.ts";
import { createSpeakerMetrics } from "./metrics.ts";
import { openPacketSocket } from "./packet-socket.ts";
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
  // One connection pool for every request and watch: client-node alone opens a new connection per request.
  const kc = reuseConnections(loadKubeConfig(flags.kubeconfig));
  const core = kc.makeApiClient(CoreV1Api);
  const metrics = createSpeakerMetrics();
  const speaker = new Speaker({
    kc,
    core,
    coordination: kc.makeApiClient(CoordinationV1Api),
    discovery: kc.makeApiClient(DiscoveryV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    log,
    metrics,
    events: new EventRecorder(core, "metallb-speaker", log, flags.nodeName),
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
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: handing over");
    await speaker.shutdown();
    await ops.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  await speaker.start();
  const notReady = speaker.notReadyReason();
  if (notReady === undefined) log.info({ metricsPort: ops.port }, "speaker ready");
  else log.error({ metricsPort: ops.port, reason: notReady }, "speaker started but not ready: it stays out of the election until this is fixed");
}

main().catch((err: unknown) => {
  console.error(`speaker: ${(err as Error).message ?? String(err)}`);
  process.exit(1);
});
