import { parseFlags } from "../../shared/cli/parse-flags.ts";

/** The lab's command line. */
export interface LabFlags {
  /** Leave everything up after the steps and print how to explore it; tear down on Ctrl-C. */
  keep: boolean;
  /** Print a machine-readable summary object as the last line. */
  json: boolean;
  /** Configure the pool with an IPAddressPool and an L2Advertisement (MetalLB >= 0.13) instead of the ConfigMap. */
  crd: boolean;
  help: boolean;
}

/** The lab's usage text. */
export const labUsage = `usage: sudo npm run lab -- [--keep] [--json] [--crd]
  --keep   leave the lab running after the steps and print commands to explore it; Ctrl-C tears it down
  --json   print a machine-readable summary (vip, answering node, failover ms, every step) as the last line
  --crd    configure with an IPAddressPool and an L2Advertisement instead of the ConfigMap, and move the
           announcer with the L2Advertisement's nodeSelectors`;

/**
 * Parses `npm run lab -- [flags]`; an unknown flag or a stray argument throws an error naming it and the valid flags.
 *
 * @example
 * parseLabFlags(["--json", "--crd"]); // { keep: false, json: true, crd: true, help: false }
 */
export function parseLabFlags(argv: string[]): LabFlags {
  const v = parseFlags(
    argv,
    { keep: { type: "boolean" }, json: { type: "boolean" }, crd: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    "lab",
  );
  return { keep: v.keep ?? false, json: v.json ?? false, crd: v.crd ?? false, help: v.help ?? false };
}

/**
 * Why this process cannot run the lab, or undefined when it can: the lab creates network namespaces, veth pairs
 * and a bridge, installs iptables DNAT rules, and the speakers open raw packet sockets; all of that needs root.
 *
 * @example
 * labRootProblem(1000); // "the lab needs root: ..."
 */
export function labRootProblem(uid: number | undefined): string | undefined {
  if (uid === 0) return undefined;
  return [
    `the lab needs root (running as uid ${uid ?? "unknown"}): it creates network namespaces, veth pairs and a bridge,`,
    "installs iptables DNAT rules as kube-proxy would, and the speakers answer ARP on raw packet sockets.",
    "Run it as: sudo npm run lab",
  ].join("\n");
}
