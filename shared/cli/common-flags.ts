/**
 * The flags the controller and the speaker share, spelled once: how they reach the API, which config
 * they read, which Services are theirs, and their ops port's address and log level. Each binary adds
 * its own (the metrics port's default differs: 7472 and 7473, MetalLB's).
 */
import type { FlagSpec, FlagTable } from "./parse-flags.ts";

/** `kubeconfig`, `config-map`, `lb-class`, `metrics-host`, `log-level`. */
export const sharedFlags = {
  kubeconfig: { type: "string", value: "PATH", help: "kubeconfig for API access", defaultText: "in-cluster, else $KUBECONFIG" },
  "config-map": { type: "string", value: "NAME", help: "the address-pool ConfigMap", default: "config" },
  "lb-class": { type: "string", value: "NAME", help: "handle only Services of this loadBalancerClass", defaultText: "none (only Services without a class)" },
  "metrics-host": { type: "string", value: "ADDR", help: "address the metrics port listens on", default: "0.0.0.0" },
  "log-level": { type: "string", value: "LEVEL", help: "pino log level (trace, debug, info, warn, error, fatal)", default: "info" },
} as const satisfies FlagTable;

/**
 * `--metrics-port` with this binary's default.
 *
 * @example metricsPortFlag("7472")
 */
export function metricsPortFlag(defaultPort: string) {
  return { type: "string", value: "PORT", help: "port of /metrics, /healthz and /readyz (0 picks a free one)", default: defaultPort } as const satisfies FlagSpec;
}
