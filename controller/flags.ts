import { defineCommand, parseDurationMs, parseFlags, parsePort } from "../shared/cli/parse-flags.ts";
import { metricsPortFlag, sharedFlags } from "../shared/cli/common-flags.ts";

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

/** The controller's command line: every flag, what it does and its default (the parser and `--help` read this). */
export const controllerCommand = defineCommand({
  program: "controller",
  synopsis: "npm run controller -- [flags]",
  summary:
    "Assigns IPs from the address pools to Services of type LoadBalancer and writes them to the Services' status; " +
    "with two replicas only the leader writes.",
  flags: {
    ...sharedFlags,
    namespace: { type: "string", value: "NAME", help: "where the ConfigMap, the IPAddressPools and L2Advertisements, and the leader Lease live", default: "metallb-system" },
    "metrics-port": metricsPortFlag("7472"),
    "lease-name": { type: "string", value: "NAME", help: "leader-election Lease", default: "baremetal-lb-controller" },
    "lease-duration": { type: "string", value: "DURATION", help: "leader-election Lease duration", default: "15s" },
    "renew-deadline": { type: "string", value: "DURATION", help: "the leader gives up leading when it could not renew for this long", default: "10s" },
    "retry-period": { type: "string", value: "DURATION", help: "interval between leader-election attempts", default: "2s" },
    identity: { type: "string", value: "NAME", help: "leader-election identity", defaultText: "$POD_NAME, else the hostname" },
  },
});

/**
 * Parses `npm run controller -- [flags]` (see controllerCommand). Beyond the documented flags, leader-election
 * timing can be tuned (`--lease-duration 15s --renew-deadline 10s --retry-period 2s`).
 *
 * @example
 * parseControllerFlags(["--kubeconfig", "/tmp/k", "--lb-class", "metallb"]);
 */
export function parseControllerFlags(argv: string[]): ControllerFlags {
  const v = parseFlags(argv, controllerCommand);
  const flags: ControllerFlags = {
    kubeconfig: v.kubeconfig,
    namespace: v.namespace,
    configMap: v["config-map"],
    lbClass: v["lb-class"] || undefined,
    metricsPort: parsePort(v["metrics-port"], "metrics-port"),
    metricsHost: v["metrics-host"],
    logLevel: v["log-level"],
    leaseName: v["lease-name"],
    leaseDurationMs: parseDurationMs(v["lease-duration"], "lease-duration"),
    renewDeadlineMs: parseDurationMs(v["renew-deadline"], "renew-deadline"),
    retryPeriodMs: parseDurationMs(v["retry-period"], "retry-period"),
    identity: v.identity,
  };
  if (!(flags.retryPeriodMs < flags.renewDeadlineMs && flags.renewDeadlineMs < flags.leaseDurationMs)) {
    throw new Error("controller: leader election needs --retry-period < --renew-deadline < --lease-duration");
  }
  return flags;
}
