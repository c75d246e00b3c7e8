import { parseDurationMs, parseFlags, parsePort } from "../shared/cli/parse-flags.ts";

/** The controller's command line, parsed and defaulted. */
export interface ControllerFlags {
  kubeconfig: string | undefined;
  namespace: string;
  configMap: string;
  lbClass: string | undefined;
  metricsPort: number;
  metricsHost: string;
  logLevel: string;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** `--identity`: the leader-election identity; when absent the binary uses $POD_NAME, else the hostname. */
  identity: string | undefined;
}

/**
 * Parses `npm run controller -- [flags]`. Beyond the documented flags, leader-election timing
 * can be tuned (`--lease-duration 15s --renew-deadline 10s --retry-period 2s`).
 *
 * @example
 * parseControllerFlags(["--kubeconfig", "/tmp/k", "--lb-class", "metallb"]);
 */
export function parseControllerFlags(argv: string[]): ControllerFlags {
  const v = parseFlags(
    argv,
    {
      kubeconfig: { type: "string" },
      namespace: { type: "string" },
      "config-map": { type: "string" },
      "lb-class": { type: "string" },
      "metrics-port": { type: "string" },
      "metrics-host": { type: "string" },
      "log-level": { type: "string" },
      "lease-name": { type: "string" },
      "lease-duration": { type: "string" },
      "renew-deadline": { type: "string" },
      "retry-period": { type: "string" },
      identity: { type: "string" },
    },
    "controller",
  );
  const flags: ControllerFlags = {
    kubeconfig: v.kubeconfig,
    namespace: v.namespace ?? "metallb-system",
    configMap: v["config-map"] ?? "config",
    lbClass: v["lb-class"] || undefined,
    metricsPort: parsePort(v["metrics-port"], "metrics-port", 7472),
    metricsHost: v["metrics-host"] ?? "0.0.0.0",
    logLevel: v["log-level"] ?? "info",
    leaseName: v["lease-name"] ?? "baremetal-lb-controller",
    leaseDurationMs: parseDurationMs(v["lease-duration"], "lease-duration", 15_000),
    renewDeadlineMs: parseDurationMs(v["renew-deadline"], "renew-deadline", 10_000),
    retryPeriodMs: parseDurationMs(v["retry-period"], "retry-period", 2_000),
    identity: v.identity,
  };
  if (!(flags.retryPeriodMs < flags.renewDeadlineMs && flags.renewDeadlineMs < flags.leaseDurationMs)) {
    throw new Error("controller: leader election needs --retry-period < --renew-deadline < --lease-duration");
  }
  return flags;
}
