import { parseDurationMs, parseFlags, parsePort } from "../shared/cli/parse-flags.ts";
import { DEFAULT_EXCLUDE_PATTERNS, parseExcludePatterns } from "./interfaces.ts";

/** The speaker's command line, parsed and defaulted. Durations are milliseconds. */
export interface SpeakerFlags {
  kubeconfig: string | undefined;
  nodeName: string;
  namespace: string;
  configMap: string;
  lbClass: string | undefined;
  metricsPort: number;
  metricsHost: string;
  strictArp: "warn" | "refuse";
  ignoreExcludeLb: boolean;
  logLevel: string;
  heartbeatPort: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  leaseDurationMs: number;
  leaseRenewMs: number;
  reannounceIntervalMs: number;
  interfaceRescanMs: number;
  strictArpCheckMs: number;
  conflictProbeMs: number;
  excludeInterfaces: RegExp[];
  kubeProxyModeUrl: string;
}

/**
 * Parses `npm run speaker -- [flags]`. Failover timing (see README, "How failover works"):
 * heartbeats every 100 ms, a peer silent for 600 ms is dead (while we hear a majority),
 * Leases of 4 s renewed every 1 s as the authoritative fallback.
 *
 * @example
 * parseSpeakerFlags(["--node-name", "node-1"], {});
 */
export function parseSpeakerFlags(argv: string[], env: NodeJS.ProcessEnv): SpeakerFlags {
  const v = parseFlags(
    argv,
    {
      kubeconfig: { type: "string" },
      "node-name": { type: "string" },
      namespace: { type: "string" },
      "config-map": { type: "string" },
      "lb-class": { type: "string" },
      "metrics-port": { type: "string" },
      "metrics-host": { type: "string" },
      "strict-arp": { type: "string" },
      "ignore-exclude-lb": { type: "boolean" },
      "log-level": { type: "string" },
      "heartbeat-port": { type: "string" },
      "heartbeat-interval": { type: "string" },
      "heartbeat-timeout": { type: "string" },
      "lease-duration": { type: "string" },
      "lease-renew": { type: "string" },
      "reannounce-interval": { type: "string" },
      "interface-rescan": { type: "string" },
      "strict-arp-check": { type: "string" },
      "conflict-probe": { type: "string" },
      "exclude-interfaces": { type: "string" },
      "kube-proxy-mode-url": { type: "string" },
    },
    "speaker",
  );
  const nodeName = v["node-name"] || env.NODE_NAME || "";
  if (!nodeName) throw new Error("speaker: no node name: pass --node-name NAME or set NODE_NAME (the DaemonSet sets it from spec.nodeName)");
  const strictArp = v["strict-arp"] ?? "warn";
  if (strictArp !== "warn" && strictArp !== "refuse") throw new Error(`speaker: --strict-arp "${strictArp}" must be warn or refuse`);
  let excludeInterfaces = [...DEFAULT_EXCLUDE_PATTERNS];
  if (v["exclude-interfaces"] !== undefined) {
    const parsed = parseExcludePatterns(v["exclude-interfaces"].split(",").map((s) => s.trim()).filter(Boolean));
    if (!parsed.ok) throw new Error(`speaker: --exclude-interfaces: ${parsed.error}`);
    excludeInterfaces = parsed.patterns;
  }
  const reannounce = v["reannounce-interval"] === "0" ? 0 : parseDurationMs(v["reannounce-interval"], "reannounce-interval", 60_000);
  const flags: SpeakerFlags = {
    kubeconfig: v.kubeconfig,
    nodeName,
    namespace: v.namespace ?? "metallb-system",
    configMap: v["config-map"] ?? "config",
    lbClass: v["lb-class"] || undefined,
    metricsPort: parsePort(v["metrics-port"], "metrics-port", 7473),
    metricsHost: v["metrics-host"] ?? "0.0.0.0",
    strictArp,
    ignoreExcludeLb: v["ignore-exclude-lb"] ?? false,
    logLevel: v["log-level"] ?? "info",
    heartbeatPort: parsePort(v["heartbeat-port"], "heartbeat-port", 7947),
    heartbeatIntervalMs: parseDurationMs(v["heartbeat-interval"], "heartbeat-interval", 100),
    heartbeatTimeoutMs: parseDurationMs(v["heartbeat-timeout"], "heartbeat-timeout", 600),
    leaseDurationMs: parseDurationMs(v["lease-duration"], "lease-duration", 4_000),
    leaseRenewMs: parseDurationMs(v["lease-renew"], "lease-renew", 1_000),
    reannounceIntervalMs: reannounce,
    interfaceRescanMs: parseDurationMs(v["interface-rescan"], "interface-rescan", 10_000),
    strictArpCheckMs: parseDurationMs(v["strict-arp-check"], "strict-arp-check", 30_000),
    conflictProbeMs: parseDurationMs(v["conflict-probe"], "conflict-probe", 10_000),
    excludeInterfaces,
    kubeProxyModeUrl: v["kube-proxy-mode-url"] ?? "http://127.0.0.1:10249/proxyMode",
  };
  if (flags.heartbeatTimeoutMs < 4 * flags.heartbeatIntervalMs) {
    throw new Error(
      `speaker: --heartbeat-timeout (${flags.heartbeatTimeoutMs} ms) must be at least four times --heartbeat-interval (${flags.heartbeatIntervalMs} ms): ` +
        "a speaker cut off stops announcing two intervals before the others take over, and one lost datagram must not fail a node over",
    );
  }
  if (flags.leaseRenewMs * 2 > flags.leaseDurationMs) {
    throw new Error("speaker: --lease-duration must be at least twice --lease-renew, or a single slow renewal drops a live node from the membership");
  }
  if (flags.leaseRenewMs < 1000) {
    throw new Error("speaker: --lease-renew below 1s writes the API more than once per second per node; use 1s or more");
  }
  return flags;
}
