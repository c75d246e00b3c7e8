import { defineCommand, parseDurationMs, parseFlags, parsePort } from "../shared/cli/parse-flags.ts";
import { metricsPortFlag, sharedFlags } from "../shared/cli/common-flags.ts";
import { DEFAULT_EXCLUDE_PATTERNS, parseExcludePatterns } from "./l2/interfaces.ts";

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
  heartbeatStallLimitMs: number;
  leaseDurationMs: number;
  leaseRenewMs: number;
  reannounceIntervalMs: number;
  interfaceRescanMs: number;
  strictArpCheckMs: number;
  conflictProbeMs: number;
  excludeInterfaces: RegExp[];
  kubeProxyModeUrl: string;
}

/** The speaker's command line: every flag, what it does and its default (the parser and `--help` read this). */
export const speakerCommand = defineCommand({
  program: "speaker",
  synopsis: "npm run speaker -- --node-name NAME [flags]",
  summary:
    "Answers ARP and NDP for the LoadBalancer IPs this node is elected to announce, on raw packet sockets " +
    "(needs CAP_NET_RAW and the host network); speakers agree on the owner by heartbeats and Leases.",
  flags: {
    ...sharedFlags,
    "node-name": { type: "string", value: "NAME", help: "this node's name", defaultText: "$NODE_NAME; one of the two is needed" },
    namespace: { type: "string", value: "NAME", help: "where the ConfigMap, the IPAddressPools and L2Advertisements, and the speaker Leases live", default: "metallb-system" },
    "metrics-port": metricsPortFlag("7473"),
    "strict-arp": { type: "string", value: "warn|refuse", help: "refuse: a node failing the strictARP check is not eligible to announce", default: "warn" },
    "ignore-exclude-lb": { type: "boolean", help: "announce from nodes labelled node.kubernetes.io/exclude-from-external-load-balancers", default: false },
    "heartbeat-port": { type: "string", value: "PORT", help: "UDP port of the heartbeats between speakers (all speakers must agree)", default: "7947" },
    "heartbeat-interval": { type: "string", value: "DURATION", help: "interval between heartbeats", default: "25ms" },
    "heartbeat-timeout": { type: "string", value: "DURATION", help: "a peer silent this long is dead, while we hear a majority (at least 4 intervals)", default: "150ms" },
    "heartbeat-stall-limit": {
      type: "string",
      value: "DURATION",
      help: "heartbeats stop while the speaker's event loop has not run for this long, so a hung speaker loses its VIPs to its peers",
      default: "2s",
    },
    "lease-duration": { type: "string", value: "DURATION", help: "this node's speaker Lease duration (membership; not a fence)", default: "4s" },
    "lease-renew": { type: "string", value: "DURATION", help: "interval between renewals of this node's Lease (at least 1s, at most half the duration)", default: "1s" },
    "reannounce-interval": { type: "string", value: "DURATION", help: "periodic gratuitous ARP/NA after the takeover burst; 0 turns it off", default: "60s" },
    "interface-rescan": { type: "string", value: "DURATION", help: "how often the interfaces are re-read", default: "10s" },
    "strict-arp-check": { type: "string", value: "DURATION", help: "interval of the strictARP check", default: "30s" },
    "conflict-probe": { type: "string", value: "DURATION", help: "interval of the probe for other hosts answering an announced IP", default: "10s" },
    "exclude-interfaces": {
      type: "string",
      value: "REGEX,...",
      help: "comma list of regular expressions of interface names never announced on; replaces the default list",
      defaultText: DEFAULT_EXCLUDE_PATTERNS.map((p) => p.source).join(", "),
    },
    "kube-proxy-mode-url": { type: "string", value: "URL", help: "where kube-proxy reports its mode (for the strictARP check)", default: "http://127.0.0.1:10249/proxyMode" },
  },
});

/**
 * Parses `npm run speaker -- [flags]` (see speakerCommand). Failover timing (see README, "How failover works"):
 * heartbeats every 25 ms (sent by a native thread), a peer silent for 150 ms is dead (while we hear a majority),
 * Leases of 4 s renewed every 1 s as the authoritative fallback.
 *
 * @example
 * parseSpeakerFlags(["--node-name", "node-1"], {});
 */
export function parseSpeakerFlags(argv: string[], env: NodeJS.ProcessEnv): SpeakerFlags {
  const v = parseFlags(argv, speakerCommand);
  const nodeName = v["node-name"] || env.NODE_NAME || "";
  if (!nodeName) throw new Error("speaker: no node name: pass --node-name NAME or set NODE_NAME (the DaemonSet sets it from spec.nodeName)");
  const strictArp = v["strict-arp"];
  if (strictArp !== "warn" && strictArp !== "refuse") throw new Error(`speaker: --strict-arp "${strictArp}" must be warn or refuse`);
  let excludeInterfaces = [...DEFAULT_EXCLUDE_PATTERNS];
  if (v["exclude-interfaces"] !== undefined) {
    const parsed = parseExcludePatterns(v["exclude-interfaces"].split(",").map((s) => s.trim()).filter(Boolean));
    if (!parsed.ok) throw new Error(`speaker: --exclude-interfaces: ${parsed.error}`);
    excludeInterfaces = parsed.patterns;
  }
  const reannounce = v["reannounce-interval"] === "0" ? 0 : parseDurationMs(v["reannounce-interval"], "reannounce-interval");
  const flags: SpeakerFlags = {
    kubeconfig: v.kubeconfig,
    nodeName,
    namespace: v.namespace,
    configMap: v["config-map"],
    lbClass: v["lb-class"] || undefined,
    metricsPort: parsePort(v["metrics-port"], "metrics-port"),
    metricsHost: v["metrics-host"],
    strictArp,
    ignoreExcludeLb: v["ignore-exclude-lb"],
    logLevel: v["log-level"],
    heartbeatPort: parsePort(v["heartbeat-port"], "heartbeat-port"),
    heartbeatIntervalMs: parseDurationMs(v["heartbeat-interval"], "heartbeat-interval"),
    heartbeatTimeoutMs: parseDurationMs(v["heartbeat-timeout"], "heartbeat-timeout"),
    heartbeatStallLimitMs: parseDurationMs(v["heartbeat-stall-limit"], "heartbeat-stall-limit"),
    leaseDurationMs: parseDurationMs(v["lease-duration"], "lease-duration"),
    leaseRenewMs: parseDurationMs(v["lease-renew"], "lease-renew"),
    reannounceIntervalMs: reannounce,
    interfaceRescanMs: parseDurationMs(v["interface-rescan"], "interface-rescan"),
    strictArpCheckMs: parseDurationMs(v["strict-arp-check"], "strict-arp-check"),
    conflictProbeMs: parseDurationMs(v["conflict-probe"], "conflict-probe"),
    excludeInterfaces,
    kubeProxyModeUrl: v["kube-proxy-mode-url"],
  };
  if (flags.heartbeatTimeoutMs < 4 * flags.heartbeatIntervalMs) {
    throw new Error(
      `speaker: --heartbeat-timeout (${flags.heartbeatTimeoutMs} ms) must be at least four times --heartbeat-interval (${flags.heartbeatIntervalMs} ms): ` +
        "a speaker cut off stops announcing two intervals before the others take over, and one lost datagram must not fail a node over",
    );
  }
  if (flags.heartbeatStallLimitMs < 2 * flags.heartbeatIntervalMs) {
    throw new Error(
      `speaker: --heartbeat-stall-limit (${flags.heartbeatStallLimitMs} ms) must be at least twice --heartbeat-interval (${flags.heartbeatIntervalMs} ms): ` +
        "the event loop checks in once an interval",
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
